"""Dates: one partial-date type, and dates as articles and callers word them.

A date is known to the year, the month or the day, and a day may lack its year
(`PartialDate`); normalization, linking, the timeline and Ray read and order dates only
through it. Its text form is ISO 8601 at that precision: `2024`, `2024-03`, `2024-03-18`,
`--03-18`.

dateparser reads the words, in any of several languages. It fills in what the words leave
out from a reference day, so every expression is parsed against two unrelated reference
days: parts that agree come from the words, parts that differ were invented and are taken
from the publication date or left out. A date in an article that cannot be placed comes
back as `None` with a warning that says why; a publication date the caller gives that
cannot be read is an error (`DateError`).
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from ..core.errors import DateError

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

Precision = Literal["year", "month", "day"]
_RANK: dict[Precision, int] = {"year": 1, "month": 2, "day": 3}
_PARTIAL = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?|--(\d{2})-(\d{2})")


@functools.total_ordering
@dataclass(frozen=True, eq=True)
class PartialDate:
    """A year, a year-month or a day; a day without its year ("August 23") has `year` None.

    Ordered by the first day each can mean, the coarser first on the same first day;
    days without a year come after every dated one, by month and day.
    """

    year: int | None
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if (self.year is None and self.day is None) or (self.month is None
                                                        and self.day is not None):
            raise ValueError(f"not a year, year-month, day or month-day: {self!r}")
        # a year without a day still checks month; 2000 has a February 29 for "--02-29"
        date(2000 if self.year is None else self.year, self.month or 1, self.day or 1)

    @property
    def precision(self) -> Precision:
        return "day" if self.day is not None else "month" if self.month is not None else "year"

    @classmethod
    def from_iso(cls, value: str) -> PartialDate:
        """`2024`, `2024-03`, `2024-03-18` or `--03-18`; anything else is a ValueError."""
        found = _PARTIAL.fullmatch(value.strip())
        if found is None:
            raise ValueError(f"not an ISO year, month, day or --MM-DD: {value!r}")
        year, month, day, md_month, md_day = (int(g) if g else None for g in found.groups())
        if md_month is not None:
            return cls(None, md_month, md_day)
        return cls(year, month, day)

    @classmethod
    def read(cls, value: str | None) -> PartialDate | None:
        """`from_iso`, with None for a missing or malformed value (a date some record holds)."""
        if not value:
            return None
        try:
            return cls.from_iso(value)
        except ValueError:
            return None

    @classmethod
    def at(cls, moment: date, precision: Precision) -> PartialDate:
        """`moment` known only to `precision`."""
        return cls(moment.year, moment.month if precision != "year" else None,
                   moment.day if precision == "day" else None)

    @property
    def iso(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return "-".join([f"{self.year:04d}", *(f"{p:02d}" for p in (self.month, self.day)
                                                 if p is not None)])

    def __str__(self) -> str:
        return self.iso

    def first_day(self) -> date | None:
        """The first day this date can mean; None without a year."""
        if self.year is None:
            return None
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date | None:
        """The last day this date can mean; None without a year."""
        if self.year is None:
            return None
        if self.day is not None:
            return date(self.year, self.month or 1, self.day)
        if self.month is None:
            return date(self.year, 12, 31)
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)

    @property
    def month_day(self) -> str | None:
        """`MM-DD` when the date names a day, with or without its year."""
        return f"{self.month:02d}-{self.day:02d}" if self.day is not None else None

    def ordinals(self) -> tuple[int | None, int | None, str | None]:
        """First and last day as ordinals (None without a year), and the month-day."""
        first, last = self.first_day(), self.last_day()
        return (first.toordinal() if first else None, last.toordinal() if last else None,
                self.month_day)

    def _key(self) -> tuple[int, int, int]:
        first = self.first_day()
        if first is None:
            return 1, (self.month or 0) * 100 + (self.day or 0), 0
        return 0, first.toordinal(), _RANK[self.precision]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() < other._key()


def date_order(value: str | None) -> tuple[int, int, int]:
    """A sort key for a date as results hold it (ISO text): `PartialDate`'s order, and
    a missing or malformed date last."""
    when = PartialDate.read(value)
    return when._key() if when is not None else (2, 0, 0)


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
    r"^(?:(?:on|in|at|since|from|between|dated|by|am|im|le|el|en|early|mid|late|"
    r"(?:the\s+)?(?:end|beginning|start|middle)\s+of)\b[\s-]*)+",
    re.I,
)
# A quarter or half year names no month; at most its year is kept.
_PART_OF_YEAR = re.compile(
    r"\b(?:Q[1-4]|H[12]|quarter|half|quartal|trimestre|semestre)\b|季度|半年", re.I
)
# A range of days ("July 21 to 23", "21-23 July"): the first day stands for it.
_DAY_RANGE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s*(?:-|\u2013|\u2014|to|through|till|until|and)\s*"
    r"\d{1,2}(?:st|nd|rd|th)?\b(?!\s*(?:[:.]\d|am\b|pm\b))", re.I)
# A range across months ("July 30 to August 2, 2024"): its first part, with the year the
# second part gives when the first has none.
_RANGE_SPLIT = re.compile(r"\s+(?:to|through|till|until|and|\u2013|\u2014|-)\s+", re.I)
#: How far after the publication day a day without a year may fall and stay in that year
#: ("March 2" in an article of March 1 is next day, not last year): announcements of the
#: coming weeks are common, of the coming year without naming it rare.
AHEAD_DAYS = 42
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


def _anchor(published: str | None) -> date | None:
    """The publication day relative dates count from; None unless `published` names a day.

    `published` is ISO once an article is loaded; words (an `Article` built by hand) are
    read as `parse_published` reads them, never silently ignored.
    """
    if not published:
        return None
    when = PartialDate.read(published)
    if when is None:
        with contextlib.suppress(DateError):
            when = PartialDate.read(parse_published(published))
    return when.first_day() if when is not None and when.precision == "day" else None


def _first_of_range(text: str) -> str:
    """The first day of a range, with the month and year the range names once."""
    text = _DAY_RANGE.sub(r"\1", text)
    parts = _RANGE_SPLIT.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        first, rest = parts
        years = _YEAR.findall(rest)
        if years and not _YEAR.search(first):
            first = f"{first}, {years[-1]}"
        return first
    return text


def _is_weekday(text: str, base: datetime) -> bool:
    """True for a bare weekday name in any language ("Tuesday", "mardi"): one word that
    names the same weekday whatever the day it is read on ("yesterday" does not)."""
    if len(text.split()) != 1:
        return False
    days = [_parse(text, base + timedelta(days=shift)) for shift in (0, 1)]
    return all(d is not None for d in days) and len({d[0].weekday() for d in days
                                                     if d is not None}) == 1


def _year_near(pub: date, month: int, day: int) -> int:
    """The year of a month-day without one: the latest that falls no more than
    `AHEAD_DAYS` after the publication day ("December 30" in January is last December)."""
    limit = date.fromordinal(pub.toordinal() + AHEAD_DAYS)
    limit_key = (limit.year, limit.month, limit.day)
    return next(year for year in (pub.year + 1, pub.year, pub.year - 1)
                if (year, month, day) <= limit_key)


def resolve_date(expression: str, published: str | None) -> DateResult:
    """The ISO date `expression` names, resolved against the `published` day if needed."""
    def dropped(why: str) -> DateResult:
        return DateResult(None, f"date {expression!r} {why}; dropped")

    def at(moment: date, period: Precision) -> DateResult:
        return DateResult(PartialDate.at(moment, period).iso)

    text = _LEAD.sub("", " ".join(expression.split()))
    iso = _ISO.match(text)
    if iso:  # metadata dates, fast: dateparser costs a second to warm up
        with contextlib.suppress(ValueError):
            return at(date.fromisoformat(iso.group(1)), "day")
    if not text:
        return dropped("is not a date")
    text = _first_of_range(text)
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
    precision: Precision = "day" if period == "day" else "month" if period == "month" else "year"
    pub = _anchor(published)
    relative = {"day": (da.month, da.day) != (db.month, db.day),
                "month": da.month != db.month, "year": da.year != db.year}[precision]
    if relative:  # "last Monday", "last month": only meaningful against the publication day
        if pub is None:
            return dropped("is relative and the publication day is unknown" if not published
                           else f"is relative and the publication date {published!r} "
                                "names no day")
        base = datetime(pub.year, pub.month, pub.day)
        if _is_weekday(text, base):  # "Tuesday" on a Tuesday is that day, not a week ago
            base += timedelta(days=1)
        resolved = _parse(text, base)
        return at(resolved[0].date(), precision) if resolved else dropped(
            "is not a date that can be placed")
    if da.year == db.year:
        year = da.year
    elif pub is not None:
        year = _year_near(pub, da.month, da.day if precision == "day" else 1)
    elif precision == "day":
        return DateResult(PartialDate(None, da.month, da.day).iso)
    else:
        return dropped("gives no year and the publication date is unknown")
    try:
        return at(date(year, da.month, da.day if precision == "day" else 1), precision)
    except ValueError:  # February 29 in a year that has none
        return dropped(f"does not exist in {year}")


def parse_published(value: str | date | None) -> str | None:
    """A publication date the caller gives, as ISO text at its precision; None for none.

    ISO text, a `date`/`datetime` (Arrow and pandas columns) or words ("March 3, 2024",
    "3 mars 2024") read by the same rules as dates in articles. A value with no year, a
    relative one ("yesterday": relative to what?) or no date at all is a `DateError`
    naming it: a publication date silently dropped would turn relative dates off.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not value.strip():
        return None
    when = PartialDate.read(value)
    if when is None:
        when = PartialDate.read(resolve_date(value, None).value)
    if when is None or when.year is None:
        raise DateError(f"published={value!r} is not a date newsie can read: give a day, "
                        "month or year with its year, such as 2024-03-03 or 'March 3, 2024'")
    return when.iso
