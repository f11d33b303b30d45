"""When two accounts are one occurrence: the same parties on each side, and nothing that
disagrees (dates, quantities, values, kinds of deal).

One rule, used twice: `extraction.normalize` merges the restatements of one event within an
article (headline, lede, body) with it, and `link` never joins two reports that disagree,
directly or through a third report. What an account leaves out never disagrees ("a report
without a quantity does not"; "the two sides" names no one, so a role left unnamed does not).

Time is an interval of days. A date is the interval its precision allows ('2024-03' is
the month). A report without a date of its own still says when: the event happened on or
before its publication day, and news reports an event within days, so its interval is the
`window` days up to publication. Two intervals disagree when more than `window` days lie
between them: two reports published two days apart agree, two a year apart never do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from ..events import Event, Kind, Money, Quantity
from ..reading.dates import PartialDate

#: Days two accounts of one event may differ by ("signed on Friday", "announced Monday"),
#: and how long before its publication an undated report's event may have happened.
DEFAULT_WINDOW_DAYS = 7

#: Relative difference under which two amounts are the same one written differently
#: ("$4.3 billion" and "$4.26bn", "about 20 GWh" and "20GWh").
TOLERANCE = 0.05

#: Kinds of deal, from the words of an agreement's name. Two agreements whose kinds are
#: all different ("supply agreement" against "joint venture") are different deals.
DEAL_KINDS = {
    "joint venture": re.compile(r"\bjoint[\s-]+ventures?\b|\bJVs?\b", re.I),
    "supply": re.compile(r"\b(?:suppl(?:y|ies)|offtake|off-take|purchas\w*|procure\w*|"
                         r"sales?)\b", re.I),
    "licence": re.compile(r"\blicen[cs]\w*", re.I),
    "acquisition": re.compile(r"\b(?:acqui\w+|takeover|merger)\b", re.I),
    "investment": re.compile(r"\b(?:invest\w*|equity|stake)\b", re.I),
}

#: The event fields that name the deal (an MoU's `agreement`).
KIND_FIELDS = ("agreement",)


class When(NamedTuple):
    """First and last day (ordinals) an event can have happened on, and its month-day
    ('03-18') when the day is known without its year. `published`: taken from the
    publication date, not said by the report."""

    lo: int | None = None
    hi: int | None = None
    md: str | None = None
    published: bool = False


class Facts(NamedTuple):
    """What two reports of one event must not disagree on."""

    when: When = When()
    amounts: tuple[tuple[float, str], ...] = ()
    kinds: frozenset[str] = frozenset()


def sides_agree(a: Mapping[str, Iterable[str]], b: Mapping[str, Iterable[str]]) -> bool:
    """Two accounts name the same parties: in every role (buyer, supplier, or the symmetric
    `parties`) one account's organizations are among the other's, or it names none there;
    and no organization is on one side in one account and on another side in the other.
    So "ABF ordered from LEAD" and "LEAD won the order" agree; two different buyers, or an
    MoU of A with B against one of A with C, do not. Names are compared as given: pass the
    organizations' keys."""
    sides_a = {role: set(names) for role, names in a.items()}
    sides_b = {role: set(names) for role, names in b.items()}
    for role in sides_a.keys() | sides_b.keys():
        x, y = sides_a.get(role, set()), sides_b.get(role, set())
        if not (x <= y or y <= x):
            return False
    return not any(names & others for role, names in sides_a.items()
                   for other, others in sides_b.items() if other != role)


def interval(value: str | None) -> tuple[int | None, int | None, str | None]:
    """First and last day (ordinals) a date can mean, and its month-day when it has one
    (`PartialDate.ordinals`); nothing for a missing or malformed date."""
    when = PartialDate.read(value)
    return when.ordinals() if when is not None else (None, None, None)


def when(value: str | None, published: str | None = None,
         window: int = DEFAULT_WINDOW_DAYS) -> When:
    """The event's own date; without one, the `window` days up to `published`."""
    lo, hi, md = interval(value)
    if lo is not None or md is not None:
        return When(lo, hi, md)
    day, last, _ = interval(published)
    if day is None or day != last:  # only a full publication day places an event
        return When()
    return When(day - window, day, published=True)


def amount(value: Quantity | Money | None) -> tuple[float, str] | None:
    """A comparable (number, unit): "8 GWh" and "8GWh" are the same; "$1bn" is USD."""
    if isinstance(value, Quantity) and value.value is not None and value.unit:
        return value.value, value.unit.casefold().replace(" ", "")
    if isinstance(value, Money) and value.amount is not None and value.currency:
        return value.amount, value.currency
    return None


def deal_kinds(*names: str | None) -> frozenset[str]:
    """The kinds of deal the words name ("joint venture", "supply", ...); empty: unknown."""
    return frozenset(kind for kind, words in DEAL_KINDS.items()
                     for name in names if name and words.search(name))


def facts(value: str | None, published: str | None,
          amounts: Sequence[Quantity | Money | None],
          agreement: str | None, window: int = DEFAULT_WINDOW_DAYS) -> Facts:
    return Facts(when(value, published, window),
                 tuple(a for a in map(amount, amounts) if a is not None), deal_kinds(agreement))


def field(event: Event, name: str) -> Any:
    """`event.name` when its type has that field, else None (a miss costs pydantic a
    slow `__getattr__`, and linking asks it of every event)."""
    return getattr(event, name) if name in type(event).model_fields else None


def event_facts(event: Event, published: str | None = None,
                window: int = DEFAULT_WINDOW_DAYS) -> Facts:
    """The facts of a public event (its date, quantity, value and agreement)."""
    amounts = [*event.fields_of(Kind.QUANTITY).values(), *event.fields_of(Kind.MONEY).values()]
    agreement = next((v for f in KIND_FIELDS if isinstance(v := field(event, f), str)), None)
    return facts(event.date, published, amounts, agreement, window)


# ---------------------------------------------------------------------------- vetoes


def gap(a: When, b: When) -> int | None:
    """Days between two intervals (0 or less: they overlap); None when either is unknown.

    A month-day without a year is compared with a single day, or with a short interval,
    by its day of the year.
    """
    if a.lo is not None and a.hi is not None and b.lo is not None and b.hi is not None:
        return max(a.lo - b.hi, b.lo - a.hi)
    if a.lo is None and a.md and b.lo is None and b.md:
        return _md_distance(a.md, [b.md])
    yearless, dated = (a, b) if a.lo is None else (b, a)
    if yearless.md and dated.lo is not None and dated.hi is not None and \
            dated.hi - dated.lo <= 62:
        days = [date.fromordinal(d).isoformat()[5:10] for d in range(dated.lo, dated.hi + 1)]
        return _md_distance(yearless.md, days)
    return None


def _md_distance(md: str, others: list[str]) -> int | None:
    """Fewest days from a month-day to any of `others`, around the year end."""
    try:
        day = date(2000, int(md[:2]), int(md[3:5])).timetuple().tm_yday
        targets = [date(2000, int(o[:2]), int(o[3:5])).timetuple().tm_yday for o in others]
    except ValueError:
        return None
    return min(min(abs(day - t), 366 - abs(day - t)) for t in targets)


def dates_conflict(a: When, b: When, window: int = DEFAULT_WINDOW_DAYS) -> bool:
    """More than `window` days between the two: not one event."""
    days = gap(a, b)
    return days is not None and days > window


def quantities_conflict(a: tuple[tuple[float, str], ...],
                        b: tuple[tuple[float, str], ...]) -> bool:
    """An amount in one unit that the other report gives differently (beyond `TOLERANCE`)."""
    units = {unit: value for value, unit in b}
    return any(unit in units and abs(value - units[unit]) >
               TOLERANCE * max(abs(value), abs(units[unit])) for value, unit in a)


def kinds_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Both name their deal, and no kind is the same."""
    return bool(a) and bool(b) and not a & b


def conflict(a: Facts, b: Facts, window: int = DEFAULT_WINDOW_DAYS) -> str | None:
    """Why `a` and `b` cannot be one event, or None when nothing they say disagrees."""
    if dates_conflict(a.when, b.when, window):
        return f"dates more than {window} days apart"
    if quantities_conflict(a.amounts, b.amounts):
        return "different quantities"
    if kinds_conflict(a.kinds, b.kinds):
        return "different deals"
    return None
