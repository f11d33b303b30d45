from __future__ import annotations

import re
from datetime import date, datetime

import pytest

import newsie
from fakeserver import FakeModelServer, events_reply
from newsie import load_article
from newsie.events import LinkedEvent, Party
from newsie.linking.timeline import timeline_rows
from newsie.reading.dates import PartialDate, date_order, parse_published, resolve_date


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("March 18, 2024", None, "2024-03-18"),
        ("On March 18", "2024-05-02", "2024-03-18"),
        ("On March 18", None, "--03-18"),
        ("August 23rd", None, "--08-23"),
        ("December 30", "2024-01-05", "2023-12-30"),
        ("March 2023", None, "2023-03"),
        ("2019", None, "2019"),
        ("last Monday", "2024-03-20", "2024-03-18"),
        ("yesterday", "2023-07-14", "2023-07-13"),
        ("last month", "2024-03-20", "2024-02"),
        ("last year", "2024-03-20", "2023"),
        ("February 29", "2024-03-20", "2024-02-29"),
    ],
)
def test_dates_at_the_precision_the_text_gives(
    text: str, published: str | None, expected: str
) -> None:
    assert resolve_date(text, published).value == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("18. März 2024", None, "2024-03-18"),
        ("am 18. März", "2024-05-02", "2024-03-18"),
        ("le 18 mars 2024", None, "2024-03-18"),
        ("18 de marzo de 2024", None, "2024-03-18"),
        ("2024年3月18日", None, "2024-03-18"),
        ("3月18日", "2024-05-02", "2024-03-18"),
    ],
)
def test_dates_in_other_languages(text: str, published: str | None, expected: str) -> None:
    assert resolve_date(text, published).value == expected


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("February 29", "2023-03-01"),  # no such day in 2023: never a ValueError
        ("this week", "2024-03-20"),
        ("next week", None),
        ("last Monday", None),
        ("Release time", None),
        ("recently", "2024-03-20"),
    ],
)
def test_a_date_that_cannot_be_placed_is_null_with_a_warning(
    text: str, published: str | None
) -> None:
    result = resolve_date(text, published)
    assert result.value is None
    assert result.warning is not None and repr(text) in result.warning


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [("Q3 2024", "2024-11-02", "2024"), ("third quarter of 2024", None, "2024"),
     ("H1 2024", None, "2024"), ("Q3", "2024-11-02", None)],
)
def test_part_of_a_year_never_gets_an_invented_month_or_day(
    text: str, published: str | None, expected: str | None
) -> None:
    result = resolve_date(text, published)
    assert result.value == expected and result.warning is not None


def test_vague_part_of_a_month_keeps_the_month() -> None:
    assert resolve_date("early October", "2024-11-02").value == "2024-10"
    assert resolve_date("mid-2024", None).value == "2024"


@pytest.mark.parametrize(
    "text", ["2024-03-26", "2024-03-26T09:00:00", "2024-03-26T23:30:00-05:00", "2024-03-26 09:00"])
def test_metadata_timestamps_give_their_day(text: str) -> None:
    assert resolve_date(text, None).value == "2024-03-26"


# ------------------------------------------------------------ dates the caller gives

ORDER = "Acme Motors signed a supply agreement with Borealis Cells last Monday."


def test_published_in_words_resolves_relative_dates(fake_server: FakeModelServer) -> None:
    fake_server.script = [events_reply([{"type": "mou", "sent": [1], "parties": [
        "Acme Motors"], "people": [], "date": "last Monday"}])]
    result = newsie.extract(ORDER, published="March 3, 2024", base_url=fake_server.base_url,
                            model="fake", max_attempts=1)  # type: ignore[arg-type]
    assert result.published == "2024-03-03"  # a Sunday: the Monday before is February 26
    assert [ev.date for ev in result.events] == ["2024-02-26"]
    assert not any("last Monday" in w for ev in result.events for w in ev.warnings)


@pytest.mark.parametrize(("given", "stored"), [
    ("March 3, 2024", "2024-03-03"), ("3 mars 2024", "2024-03-03"),
    ("2024-03-03T23:10:00+01:00", "2024-03-03"), ("2024-03", "2024-03"), ("2024", "2024"),
    (date(2024, 3, 3), "2024-03-03"), (datetime(2024, 3, 3, 9, 30), "2024-03-03"),
    (None, None), ("  ", None),
])
def test_published_is_stored_as_iso(given: str | date | None, stored: str | None) -> None:
    assert parse_published(given) == stored
    if isinstance(given, str):
        assert load_article(ORDER, published=given).published == stored


@pytest.mark.parametrize("given", ["soon", "March 3", "yesterday", "2024-13-45", "Q3"])
def test_an_unreadable_published_is_an_error_naming_it(given: str) -> None:
    with pytest.raises(newsie.DateError, match=re.escape(repr(given))):
        load_article(ORDER, published=given)
    with pytest.raises(ValueError, match=re.escape(repr(given))):  # a DateError is both
        parse_published(given)


def test_an_unreadable_published_fails_that_article_only(fake_server: FakeModelServer) -> None:
    with pytest.raises(newsie.ArticleError, match="'soon'"):
        newsie.extract(ORDER, published="soon", base_url=fake_server.base_url,
                       model="fake")  # type: ignore[arg-type]
    assert fake_server.requests == []


def test_relative_dates_against_a_published_only_known_to_the_month_say_so() -> None:
    result = resolve_date("last Monday", "2024-03")
    assert result.value is None and result.warning is not None and "'2024-03'" in result.warning


def test_an_article_built_by_hand_with_published_in_words_still_anchors() -> None:
    assert resolve_date("yesterday", "March 3, 2024").value == "2024-03-02"


# ------------------------------------------------------------------ the date type


@pytest.mark.parametrize(("iso", "first", "last", "month_day", "precision"), [
    ("2024", date(2024, 1, 1), date(2024, 12, 31), None, "year"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), None, "month"),
    ("2023-02", date(2023, 2, 1), date(2023, 2, 28), None, "month"),
    ("2024-12", date(2024, 12, 1), date(2024, 12, 31), None, "month"),
    ("2024-03-18", date(2024, 3, 18), date(2024, 3, 18), "03-18", "day"),
    ("--02-29", None, None, "02-29", "day"),
])
def test_a_partial_date_spans_what_it_can_mean(
    iso: str, first: date | None, last: date | None, month_day: str | None, precision: str
) -> None:
    when = PartialDate.from_iso(iso)
    assert (when.first_day(), when.last_day(), when.month_day) == (first, last, month_day)
    assert when.precision == precision and when.iso == iso == str(when)


@pytest.mark.parametrize("bad", ["", "24", "2024-3", "2024-02-30", "2024-13", "--13-01",
                                 "March 2024", "2024-03-18T09:00"])
def test_a_partial_date_refuses_what_is_not_one(bad: str) -> None:
    with pytest.raises(ValueError):
        PartialDate.from_iso(bad)
    assert PartialDate.read(bad) is None


def test_partial_dates_order_by_first_day_then_coarser_first_then_yearless() -> None:
    values = ["--01-05", "2024-03-18", "2023", "2024-03", "--03-18", "2024", "2023-12-31"]
    ordered = sorted(PartialDate.from_iso(v) for v in values)
    assert [d.iso for d in ordered] == [
        "2023", "2023-12-31", "2024", "2024-03", "2024-03-18", "--01-05", "--03-18"]
    assert sorted([None, "junk", *values], key=date_order)[-2:] == [None, "junk"]


def test_timeline_orders_by_the_date_type() -> None:
    def linked(day: str | None, ident: str) -> LinkedEvent:
        return LinkedEvent(id=ident, type="mou", parties=[Party(name="Acme")], date=day,
                           summary="s", sources=[], reason="one report")

    events = [linked(None, "a"), linked("2024-03-18", "b"), linked("2024", "c"),
              linked("--01-02", "d"), linked("2023-11", "e")]
    assert [r["date"] for r in timeline_rows(events)] == [
        "2023-11", "2024", "2024-03-18", "--01-02", None]


# ------------------------------------------------------------ weekdays, ranges, days ahead

@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Tuesday", "2024-03-05", "2024-03-05"),  # published on a Tuesday: that day
        ("on Tuesday", "2024-03-05", "2024-03-05"),
        ("Monday", "2024-03-05", "2024-03-04"),  # else the most recent one before
        ("Wednesday", "2024-03-05", "2024-02-28"),
        ("mardi", "2024-03-05", "2024-03-05"),
        ("last Tuesday", "2024-03-05", "2024-02-27"),  # "last" still means the week before
        ("yesterday", "2024-03-05", "2024-03-04"),
    ],
)
def test_a_weekday_is_the_publication_day_when_it_is_that_day(
    text: str, published: str, expected: str
) -> None:
    assert resolve_date(text, published).value == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("July 21 to 23", "2024-08-01", "2024-07-21"),
        ("from July 21 to 23", None, "--07-21"),
        ("July 21-23, 2024", None, "2024-07-21"),
        ("21 to 23 July 2024", None, "2024-07-21"),
        ("between July 21 and 23, 2024", None, "2024-07-21"),
        ("July 30 to August 2, 2024", None, "2024-07-30"),
    ],
)
def test_a_range_gives_its_first_day(text: str, published: str | None, expected: str) -> None:
    assert resolve_date(text, published).value == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("March 2", "2024-03-01", "2024-03-02"),  # the next day, not last year
        ("March 20", "2024-03-01", "2024-03-20"),
        ("January 3", "2024-12-28", "2025-01-03"),  # a few days ahead, across the new year
        ("December 30", "2024-01-05", "2023-12-30"),
        ("November 2", "2024-03-01", "2023-11-02"),  # months ahead: last year
    ],
)
def test_a_day_a_few_weeks_after_publication_stays_ahead(
    text: str, published: str, expected: str
) -> None:
    assert resolve_date(text, published).value == expected
