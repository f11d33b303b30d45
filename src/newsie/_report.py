"""A self-contained HTML page a person would rather read than JSON.

Article text and every extracted value are data to an autoescaping template, so a page
full of markup or script in the news itself renders as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import pairwise
from typing import Any

import jinja2

from .events import EVENT_TYPES, Extraction, Failure

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("newsie", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def segments(result: Extraction) -> list[dict[str, Any]]:
    """The text cut at every evidence boundary, each piece with the event types over it."""
    cover: list[tuple[int, int, str]] = [
        (s.start, s.end, ev.type) for ev in result.events for s in ev.evidence
    ]
    cuts = sorted({0, len(result.text), *(c for s, e, _ in cover for c in (s, e))})
    out = []
    for start, end in pairwise(cuts):
        types = list(dict.fromkeys(t for s, e, t in cover if s <= start and end <= e))
        out.append({"text": result.text[start:end], "types": types})
    return out


def _day(value: str | None) -> date | None:
    if not value or value.startswith("--"):
        return None
    parts = [int(p) for p in value.split("-")]
    while len(parts) < 3:
        parts.append(1)
    try:
        return date(*parts[:3])
    except ValueError:
        return None


def render(results: Iterable[Extraction | Failure], title: str = "newsie report") -> str:
    articles: list[dict[str, Any]] = []
    failures: list[Failure] = []
    rows: list[dict[str, Any]] = []
    dated: list[tuple[str, date, Any]] = []
    for result in results:
        if isinstance(result, Failure):
            failures.append(result)
            continue
        index = len(articles)
        articles.append({"source": result.source, "title": result.title,
                         "published": result.published, "n_events": len(result.events),
                         "segments": segments(result)})
        for ev in result.events:
            names = [p.name for p in ev.parties]
            rows.append({"type": ev.type, "summary": ev.summary, "parties": ", ".join(names),
                         "orgs": " | ".join(n for p in ev.parties for n in [p.name, *p.aliases]),
                         "date": ev.date, "location": ev.location, "article": index,
                         "source": result.title or result.source})
            day = _day(ev.date)
            if day:
                dated += [(name, day, ev) for name in names]
    timeline: list[tuple[str, list[dict[str, Any]]]] = []
    first = last = None
    if dated:
        first, last = min(d for _, d, _ in dated), max(d for _, d, _ in dated)
        span = max((last - first).days, 1)
        by_org: dict[str, list[dict[str, Any]]] = {}
        for name, day, ev in sorted(dated, key=lambda x: x[1]):
            by_org.setdefault(name, []).append({
                "x": round(100 * (day - first).days / span, 2) if last != first else 50,
                "type": ev.type, "date": ev.date, "summary": ev.summary})
        timeline = sorted(by_org.items())
    return _env.get_template("report.html.j2").render(
        title=title, types=EVENT_TYPES, articles=articles, failures=failures, rows=rows,
        n_events=len(rows), timeline=timeline, first_date=first, last_date=last,
    )
