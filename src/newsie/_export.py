"""Results out: one row per event (CSV, tables, DataFrames) and a resumable JSONL log."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

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


def to_dataframe(results: Iterable[Extraction | Failure]) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("to_dataframe needs pandas: pip install 'newsie[pandas]'") from exc
    return pd.DataFrame(event_rows(results), columns=COLUMNS)


class JsonlLog:
    """An append-only JSONL file that an interrupted run can resume.

    Each result is one line, written and fsynced whole. On open, a torn last line (a killed
    process) and earlier error records are dropped, so failed articles are tried again and
    nothing appears twice.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        kept: list[str] = []
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and "events" in record and "source" in record:
                    self.done.add(record["source"])
                    kept.append(line)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
            os.replace(tmp, path)
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, result: Extraction | Failure) -> None:
        self._file.write(result.model_dump_json() + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()
