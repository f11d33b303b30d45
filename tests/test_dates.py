from __future__ import annotations

import pytest

from newsie._dates import resolve_date


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
