"""A self-contained HTML page a person would rather read than JSON.

Article text and every extracted value are data to an autoescaping template, so a page
full of markup or script in the news itself renders as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Any

import jinja2

from ..events import Extraction, Failure, LinkedEvent
from ..linking.timeline import timeline_rows

#: Highlight colours, one per event type on the page, in the order the types come.
PALETTE = ("#cfe8ff", "#d7f5d0", "#ffe1b3", "#ead7ff", "#ffd6d6", "#d6f2f2", "#f3f0c4",
           "#e6e6e6")

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("newsie.output", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def segments(result: Extraction) -> list[dict[str, Any]]:
    """The text cut at every evidence boundary, each piece with the event types over it
    and `start`, its offset, which the timeline's evidence links point at."""
    cover: list[tuple[int, int, str]] = [
        (s.start, s.end, ev.type) for ev in result.events for s in ev.evidence
    ]
    cuts = sorted({0, len(result.text), *(c for s, e, _ in cover for c in (s, e))})
    out = []
    for start, end in pairwise(cuts):
        types = list(dict.fromkeys(t for s, e, t in cover if s <= start and end <= e))
        out.append({"text": result.text[start:end], "types": types, "start": start})
    return out


def render(results: Iterable[Extraction | Failure], title: str = "newsie report",
           linked: Iterable[LinkedEvent] | None = None) -> str:
    """The page; with `linked`, a timeline per organization (None: the page says why not)."""
    articles: list[dict[str, Any]] = []
    failures: list[Failure] = []
    rows: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for result in results:
        if isinstance(result, Failure):
            failures.append(result)
            continue
        index[result.source] = len(articles)
        articles.append({"source": result.source, "title": result.title,
                         "published": result.published, "n_events": len(result.events),
                         "segments": segments(result)})
        for ev in result.events:
            rows.append({"type": ev.type, "summary": ev.summary,
                         "parties": ", ".join(p.name for p in ev.parties),
                         "orgs": " | ".join(n for p in ev.parties for n in [p.name, *p.aliases]),
                         "date": ev.date, "location": ev.location,
                         "article": index[result.source],
                         "source": result.title or result.source})
    timeline: dict[str, list[dict[str, Any]]] = {}
    linked_rows = timeline_rows(linked or [])
    for row in linked_rows:
        for source in row["sources"]:  # evidence links into this page's articles
            source["article"] = index.get(source["source"])
        timeline.setdefault(row["organization"], []).append(row)
    # each type on the page gets a colour by its place: type names never enter the CSS
    kinds = list(dict.fromkeys(row["type"] for row in [*rows, *linked_rows]))
    return _env.get_template("report.html.j2").render(
        title=title, types={t: i for i, t in enumerate(kinds)}, palette=PALETTE,
        articles=articles, failures=failures, rows=rows,
        n_events=len(rows), timeline=timeline, linked=linked is not None,
    )
