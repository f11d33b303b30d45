"""The publication date an article states in its own text, when no metadata gives one.

Wire copy and press releases open with a dateline (`HEFEI, China, Nov. 7, 2024 /PRNewswire/
--`, `LONDON--(BUSINESS WIRE)--March 5, 2024--`); news sites print `Published: ...`,
`Release time: ...` or a bare date near the top. The regular expressions here only find
where such a date stands; `resolve_date` (dateparser) reads the words. Only a whole day with
its year counts: `BEIJING, March 3 (Reuters) -` gives no year, and a guessed year would
misdate every relative date in the article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .dates import resolve_date

#: Where the date of publication stands, if anywhere: the top of the article.
HEAD_CHARS = 1500
HEAD_LINES = 8
#: A date is short; a longer stretch is a sentence that happens to hold one.
MAX_DATE_CHARS = 40

_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: "Published: ", "Release time: ", "Posted on ", "发布时间" and a colon: a label, then the date.
_LABEL = re.compile(
    r"(?:(?:release|released|publish|published|publication|post|posted|issued|date|dated)"
    r"(?:\s+(?:time|date))?(?:\s*[:\uff1a]|\s+(?:on|at)\b)"
    r"|(?:发布|发表)(?:时间|日期)\s*[:\uff1a]?|(?:日期|时间)\s*[:\uff1a])\s*",
    re.I,
)
#: A wire service's mark in a dateline: /PRNewswire/, (Reuters), (GLOBE NEWSWIRE).
_WIRE = r"/[A-Za-z][\w .&-]{1,30}/|\([A-Z][\w .&-]{1,30}\)"
#: What ends a dateline: a dash or a wire mark.
_STOP = re.compile(rf"--|\u2014|\u2013|\s-\s|{_WIRE}")  # --, em and en dash
#: What separates a dateline's parts: "HEFEI", "China", "Nov. 7", "2024".
_PART = re.compile(rf",|--|\u2014|\u2013|\s-\s|{_WIRE}")
#: Fields of a by-line: "By Jane Doe | March 5, 2024 | 3 min read".
_FIELD = re.compile(r"[|·•]")


def find_published(text: str, title: str | None = None) -> str | None:
    """The ISO day (`2024-11-07`) the article's top says it was published, or None."""
    lines = [line.strip() for line in text[:HEAD_CHARS].splitlines()]
    lines = [line for line in lines if line and line != (title or "").strip()]
    for line in lines[:HEAD_LINES]:
        for candidate, whole in _candidates(line):
            day = _day(candidate, whole)
            if day is not None:
                return day
    return None


def _candidates(line: str) -> Iterator[tuple[str, bool]]:
    """Stretches of one line that may be the date, each with whether it must be all date."""
    for field in _FIELD.split(line):
        field = field.strip()
        label = _LABEL.match(field)
        if label:  # after a label the date comes first; what follows it may be a time
            yield field[label.end():], False
        elif len(field) <= MAX_DATE_CHARS:
            yield field, True
    yield from ((window, True) for window in _dateline(line))


def _dateline(line: str) -> Iterator[str]:
    """The date at the end of an opening dateline: place names, the date, a dash or mark."""
    head = line[:200]
    for stop in _STOP.finditer(head):
        parts = [p.strip() for p in _PART.split(head[: stop.start()]) if p.strip()]
        if not parts or len(parts) > 6 or not all(p[0].isupper() or p[0].isdigit()
                                                  for p in parts):
            continue  # a sentence, not a dateline: "Acme, founded on March 5, 2024 - ..."
        for size in (1, 2, 3):
            if size <= len(parts):
                yield ", ".join(parts[-size:])


def _day(candidate: str, whole: bool) -> str | None:
    """The full day `candidate` (all of it, or its first words) names, or None."""
    words = candidate.split()[:8]
    spans = [candidate] if whole else [" ".join(words[:n]) for n in range(1, len(words) + 1)]
    for span in spans:
        if len(span) > MAX_DATE_CHARS or not _YEAR.search(span):
            continue  # no year: never a full date, and dateparser is not asked (it is slow)
        value = resolve_date(span, None).value
        if value is not None and _DAY.fullmatch(value):
            return value
    return None
