from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsie
from newsie._link import interval
from newsie.cli import app

pytest.importorskip("splink")


def _article(source: str, text: str, *events: newsie.Event,
             published: str | None = None) -> newsie.Extraction:
    return newsie.Extraction(source=source, text=text, model="m", published=published,
                             events=list(events))


def _order(text: str, parties: list[str], date: str | None,
           quantity: newsie.Quantity | None = None) -> newsie.Order:
    return newsie.Order(summary=f"{parties[0]} ordered", date=date, quantity=quantity,
                        parties=[newsie.Party(name=p) for p in parties],
                        evidence=[newsie.Span(start=0, end=len(text), text=text)])


GWH = newsie.Quantity(value=8, unit="GWh", text="8GWh")
A = "Halvard Motors ordered 8GWh of cells from Quillon Cells Co., Ltd. (QCL) on May 3."
B = "Halvard Motors Inc. has picked QCL to supply 8 GWh of cells, it said on Saturday."


def _two_outlets(date_b: str | None = "2025-05-04") -> list[newsie.Extraction]:
    return [
        _article("outlet-a.html", A, _order(A, ["Halvard Motors", "Quillon Cells Co., Ltd."],
                                            "2025-05-03", GWH), published="2025-05-03"),
        _article("outlet-b.html", B, _order(B, ["Halvard Motors Inc.", "QCL"], date_b, GWH),
                 published="2025-05-05"),
    ]


def test_the_same_deal_from_two_outlets_links() -> None:
    [event] = newsie.link(_two_outlets())
    assert event.type == "order" and event.date == "2025-05-03"
    assert {p.name for p in event.parties} == {"Halvard Motors", "Quillon Cells"}
    assert [(s.source, s.published) for s in event.sources] == [
        ("outlet-a.html", "2025-05-03"), ("outlet-b.html", "2025-05-05")]
    assert event.sources[1].event.evidence[0].text == B
    assert event.confidence is not None and event.confidence > 0.9
    assert "same parties" in event.reason and "within 7 days" in event.reason
    assert event.quantity == GWH


def test_ids_are_stable_whatever_the_input_order() -> None:
    results = _two_outlets()
    assert newsie.link(results)[0].id == newsie.link(results[::-1])[0].id


def test_a_missing_date_does_not_block() -> None:
    [event] = newsie.link(_two_outlets(date_b=None))
    assert len(event.sources) == 2 and event.date == "2025-05-03"


def test_dates_outside_the_window_do_not_link() -> None:
    assert len(newsie.link(_two_outlets(date_b="2025-05-20"))) == 2
    assert len(newsie.link(_two_outlets(date_b="2025-05-20"), date_window_days=30)) == 1


def test_two_orders_between_the_same_parties_months_apart_do_not_link() -> None:
    text = "Halvard Motors ordered cells from Quillon Cells in March and again in September."
    first = _order(text, ["Halvard Motors", "Quillon Cells"], "2025-03")
    second = _order(text, ["Halvard Motors", "Quillon Cells"], "2025-09-14")
    later = _article("c.html", text, second)
    linked = newsie.link([_article("a.html", text, first), later])
    assert [e.date for e in linked] == ["2025-03", "2025-09-14"]
    assert all(e.confidence is None and e.reason == "one report" for e in linked)


def test_the_same_parties_but_another_type_do_not_link() -> None:
    [a, b] = _two_outlets()
    meeting = newsie.Meeting(summary="talks", date="2025-05-03",
                             parties=b.events[0].parties, evidence=b.events[0].evidence)
    linked = newsie.link([a, b.model_copy(update={"events": [meeting]})])
    assert sorted(e.type for e in linked) == ["meeting", "order"]


def test_different_quantities_on_the_same_day_do_not_link() -> None:
    a, b = _two_outlets(date_b="2025-05-03")
    other = b.events[0].model_copy(update={"quantity": newsie.Quantity(
        value=2, unit="GWh", text="2GWh")})
    assert len(newsie.link([a, b.model_copy(update={"events": [other]})])) == 2


def test_a_different_counterparty_does_not_link() -> None:
    a, b = _two_outlets()
    other = b.events[0].model_copy(update={"parties": [
        newsie.Party(name="Halvard Motors"), newsie.Party(name="Sorrel Batteries")]})
    assert len(newsie.link([a, b.model_copy(update={"events": [other]})])) == 2


def test_aliases_from_a_user_file_link_names_the_texts_never_relate(tmp_path: Path) -> None:
    a, b = _two_outlets()
    renamed = b.events[0].model_copy(update={"parties": [
        newsie.Party(name="HM"), newsie.Party(name="QCL")]})
    b = b.model_copy(update={"events": [renamed]})
    assert len(newsie.link([a, b])) == 2
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps({"Halvard Motors": ["HM"]}))
    [event] = newsie.link([a, b], aliases=aliases)
    assert event.parties[0].name == "Halvard Motors" and "HM" in event.parties[0].aliases


def test_failures_and_events_without_parties_still_come_out() -> None:
    text = "Someone ordered something."
    lone = newsie.Order(summary="an order", evidence=[newsie.Span(start=0, end=4, text="Some")])
    failure = newsie.Failure(source="x", error="EmptyArticleError", message="empty")
    linked = newsie.link([failure, _article("a", text, lone), *_two_outlets()])
    assert sorted(len(e.sources) for e in linked) == [1, 2]


@pytest.mark.parametrize(("value", "expected"), [
    ("2024", ("2024-01-01", "2024-12-31", None)),
    ("2024-02", ("2024-02-01", "2024-02-29", None)),
    ("2024-02-10", ("2024-02-10", "2024-02-10", "02-10")),
])
def test_date_intervals(value: str, expected: tuple[str, str, str | None]) -> None:
    from datetime import date

    lo, hi, md = interval(value)
    assert lo is not None and hi is not None
    assert (date.fromordinal(lo).isoformat(), date.fromordinal(hi).isoformat(), md) == expected
    assert interval("--02-10") == (None, None, "02-10")
    assert interval("not a date") == (None, None, None)


def test_a_day_without_a_year_links_to_the_same_day() -> None:
    [event] = newsie.link(_two_outlets(date_b="--05-03"))
    assert event.date == "2025-05-03" and "same day" in event.reason
    assert len(newsie.link(_two_outlets(date_b="--09-03"))) == 2


def test_cli_link_writes_linked_jsonl(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(r.model_dump_json() + "\n" for r in _two_outlets()))
    out = tmp_path / "linked.jsonl"
    outcome = CliRunner().invoke(app, ["link", str(events), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    [line] = out.read_text().splitlines()
    assert len(newsie.LinkedEvent.model_validate_json(line).sources) == 2
    bad = tmp_path / "aliases.json"
    bad.write_text("[1]")
    outcome = CliRunner().invoke(app, ["link", str(events), "--aliases", str(bad)])
    assert outcome.exit_code == 2 and "aliases.json" in outcome.output


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match="threshold"):
        newsie.link(_two_outlets(), threshold=1.5)
    with pytest.raises(ValueError, match="date_window_days"):
        newsie.link(_two_outlets(), date_window_days=-1)
