"""A timeline per organization: its linked events in date order, with their evidence.

The report's timeline view and `newsie.timeline` read the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..events import LinkedEvent
from ..reading.dates import date_order
from .orgs import org_key

COLUMNS = ["organization", "date", "type", "counterparties", "quantity", "summary",
           "confidence", "sources", "evidence", "id"]


def timeline_rows(linked: Iterable[LinkedEvent], org: str | None = None) -> list[dict[str, Any]]:
    """One row per organization and linked event, by organization then date.

    With `org`, only that organization's rows: its canonical name or any alias (an
    abbreviation an article defined, a name from the alias file) matches, and a name that
    starts exactly one organization's name ("Huayou" for "Huayou Cobalt") is that one.
    """
    linked = list(linked)
    wanted = org_key(_wanted(linked, org)) if org is not None else None
    rows: list[dict[str, Any]] = []
    for event in linked:
        for party in event.parties:
            if wanted is not None and wanted not in {
                    org_key(n) for n in [party.name, *party.aliases]}:
                continue
            rows.append({
                "organization": party.name, "date": event.date, "type": event.type,
                "counterparties": [p.name for p in event.parties if p is not party],
                "quantity": event.quantity.text if event.quantity else None,
                "summary": event.summary, "confidence": event.confidence,
                "reason": event.reason, "id": event.id,
                "sources": [{"source": s.source, "title": s.title, "published": s.published,
                             "evidence": s.event.evidence} for s in event.sources],
            })
    rows.sort(key=lambda r: (r["organization"].casefold(), date_order(r["date"]), r["id"]))
    return rows


def _wanted(linked: list[LinkedEvent], org: str) -> str:
    """The name `org` stands for among the linked events' parties (`org` if none)."""
    key = org_key(org)
    names: dict[str, str] = {}  # key of every name and alias -> canonical name
    for event in linked:
        for party in event.parties:
            for name in (party.name, *party.aliases):
                names.setdefault(org_key(name), party.name)
    if key in names:
        return names[key]
    starting = {c for k, c in names.items() if key and k.startswith(key + " ")}
    return starting.pop() if len(starting) == 1 else org


def timeline(linked: Iterable[LinkedEvent], org: str | None = None) -> Any:
    """`org`'s linked events in date order as a pandas DataFrame (every organization's
    without `org`); `sources` and `evidence` ("source [start:end] text") are lists."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("timeline needs pandas: pip install 'newsie-events[pandas]'") from exc
    rows = timeline_rows(linked, org)
    for row in rows:
        sources = row.pop("sources")
        row.pop("reason")
        row["sources"] = [s["source"] for s in sources]
        row["evidence"] = [f"{s['source']} [{span.start}:{span.end}] {span.text}"
                           for s in sources for span in s["evidence"]]
    return pd.DataFrame(rows, columns=COLUMNS)
