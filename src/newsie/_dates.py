"""A date as an article words it, turned into ISO 8601 at the precision the words give.

dateparser reads the words, in any of several languages. It fills in what the words leave
out from a reference day, so every expression is parsed against two unrelated reference
days: parts that agree come from the words, parts that differ were invented and are taken
from the publication date or left out. Nothing here raises on a bad date; it comes back as
`None` with a warning that says why.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

#: By script, groups tried in this order; dateparser keeps the first language the words fit.
#: Each language costs a one-off load, so English goes first, alone.
LANGUAGES = {"latin": (("en",), ("de", "fr", "es", "it", "pt", "nl")),
             "cjk": (("zh", "ja", "ko"),), "cyrillic": (("ru", "uk"),)}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

_BASES = (datetime(2001, 1, 10), datetime(2013, 7, 20))
_SETTINGS = {"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False,
             "PARSERS": ["relative-time", "absolute-time", "custom-formats"]}
# Prepositions and vague qualifiers that dateparser does not skip: "am 18. März",
# "early October" (a month, not a day), "mid-2024" (a year).
_LEAD = re.compile(
    r"^(?:(?:on|in|at|since|from|dated|by|am|im|le|el|en|early|mid|late|"
    r"(?:the\s+)?(?:end|beginning|start|middle)\s+of)\b[\s-]*)+",
    re.I,
)
# A quarter or half year names no month; at most its year is kept.
_PART_OF_YEAR = re.compile(
    r"\b(?:Q[1-4]|H[12]|quarter|half|quartal|trimestre|semestre)\b|季度|半年", re.I
)
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")


@dataclass(frozen=True)
class DateResult:
    """An ISO date (`2024`, `2024-03`, `2024-03-18` or `--03-18`), or why there is none."""

    value: str | None
    warning: str | None = None


@lru_cache(maxsize=64)
def _parser(base: datetime, languages: tuple[str, ...]) -> DateDataParser:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=list(languages),
                          settings={**_SETTINGS, "RELATIVE_BASE": base})


def _parse(text: str, base: datetime) -> tuple[datetime, str] | None:
    script = "cjk" if _CJK.search(text) else "cyrillic" if _CYRILLIC.search(text) else "latin"
    for languages in LANGUAGES[script]:
        data = _parser(base, languages).get_date_data(text)
        if data.date_obj is not None:
            return data.date_obj, data.period or "day"
    return None


def _published(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _at(moment: date, period: str) -> str:
    return {"year": f"{moment.year:04d}", "month": f"{moment.year:04d}-{moment.month:02d}"}.get(
        period, moment.isoformat())


def resolve_date(expression: str, published: str | None) -> DateResult:
    """The ISO date `expression` names, resolved against the `published` day if needed."""
    def dropped(why: str) -> DateResult:
        return DateResult(None, f"date {expression!r} {why}; dropped")

    text = _LEAD.sub("", " ".join(expression.split()))
    iso = _ISO.match(text)
    if iso:  # metadata dates, fast: dateparser costs a second to warm up
        with contextlib.suppress(ValueError):
            return DateResult(_at(date.fromisoformat(iso.group(1)), "day"))
    if not text:
        return dropped("is not a date")
    if _PART_OF_YEAR.search(text):
        years = _YEAR.findall(text)
        if len(years) != 1:
            return dropped("names part of a year but no single year")
        return DateResult(years[0], f"date {expression!r} names part of a year; kept the year")
    a, b = (_parse(text, base) for base in _BASES)
    if a is None or b is None:
        return dropped("is not a date that can be placed")
    (da, period), (db, _) = a, b
    if period not in ("day", "month", "year"):
        return dropped(f"spans a {period}, not a day, month or year")
    pub = _published(published)
    relative = {"day": (da.month, da.day) != (db.month, db.day),
                "month": da.month != db.month, "year": da.year != db.year}[period]
    if relative:  # "last Monday", "last month": only meaningful against the publication day
        if pub is None:
            return dropped("is relative and the publication date is unknown")
        resolved = _parse(text, datetime(pub.year, pub.month, pub.day))
        return DateResult(_at(resolved[0].date(), period)) if resolved else dropped(
            "is not a date that can be placed")
    if da.year == db.year:
        year = da.year
    elif pub is not None:  # "December 30" in a January article is last December
        year = pub.year - ((da.month, da.day if period == "day" else 0) >
                           (pub.month, pub.day if period == "day" else 0))
    elif period == "day":
        return DateResult(f"--{da.month:02d}-{da.day:02d}")
    else:
        return dropped("gives no year and the publication date is unknown")
    try:
        return DateResult(_at(date(year, da.month, da.day if period == "day" else 1), period))
    except ValueError:  # February 29 in a year that has none
        return dropped(f"does not exist in {year}")
