"""Flat views of results: one row per event, for CSV, tables and DataFrames."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table

from .events import Extraction, Failure

COLUMNS = ["source", "title", "published", "type", "summary", "parties", "people", "date",
           "location", "quantity", "value", "evidence_start", "evidence_end", "evidence"]


def event_rows(results: Iterable[Extraction | Failure]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, Failure):
            continue
        for ev in result.events:
            quantity = getattr(ev, "quantity", None)
            value = getattr(ev, "value", None)
            rows.append({
                "source": result.source,
                "title": result.title,
                "published": result.published,
                "type": ev.type,
                "summary": ev.summary,
                "parties": "; ".join(p.name for p in ev.parties),
                "people": "; ".join(p.name for p in ev.people),
                "date": ev.date,
                "location": ev.location,
                "quantity": quantity.text if quantity else None,
                "value": value.text if value else None,
                "evidence_start": ev.evidence[0].start if ev.evidence else None,
                "evidence_end": ev.evidence[-1].end if ev.evidence else None,
                "evidence": " … ".join(s.text for s in ev.evidence),
            })
    return rows


def to_csv(results: Iterable[Extraction | Failure]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(event_rows(results))
    return buffer.getvalue()


def print_table(results: Iterable[Extraction | Failure], console: Console) -> None:
    table = Table(title="newsie events", show_lines=True)
    for column in ("article", "type", "summary", "parties", "date", "quantity"):
        table.add_column(column, overflow="fold")
    for result in results:
        if isinstance(result, Failure):
            table.add_row(result.source, "[red]error[/red]", result.message, "", "", "")
            continue
        if not result.events:
            table.add_row(result.source, "-", "(no events)", "", "", "")
        for ev in result.events:
            quantity = getattr(ev, "quantity", None)
            table.add_row(result.source, ev.type, ev.summary,
                          ", ".join(p.name for p in ev.parties), ev.date or "",
                          quantity.text if quantity else "")
    console.print(table)
