from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import pytest
from typer.testing import CliRunner

import newsie
from newsie.cli import app
from newsie.linking.link import interval

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


# ------------------------------------------------- the four cases of real coverage


def _report(source: str, published: str, text: str, parties: list[str],
            quantity: newsie.Quantity | None = None) -> newsie.Extraction:
    """One outlet's article with one undated order: as most reports are, no event date."""
    return _article(source, text, _order(text, parties, None, quantity), published=published)


def test_the_same_deal_named_at_parent_and_unit_level_two_days_apart_links() -> None:
    parent = "Pellan Grid Storage signed a cell supply deal with Halvard Motors."
    unit = ("Orsk Cathode Works, a subsidiary of Pellan Grid Storage, will deliver cells "
            "to Halvard Motors under a contract announced on Tuesday.")
    [event] = newsie.link([
        _report("a.html", "2025-03-10", parent, ["Pellan Grid Storage", "Halvard Motors"]),
        _report("b.html", "2025-03-12", unit, ["Orsk Cathode Works", "Halvard Motors"])])
    assert [s.source for s in event.sources] == ["a.html", "b.html"]
    pellan = next(p for p in event.parties if "Orsk Cathode Works" in [p.name, *p.aliases])
    assert "Pellan Grid Storage" in [pellan.name, *pellan.aliases]
    assert "published within 7 days" in event.reason


def test_a_name_that_extends_a_known_name_is_its_unit() -> None:
    # two units extend "Marrow Group": neither is its short form, both belong to it
    first = "Marrow Group will buy battery cells from Quillon Cells."
    second = "Marrow Group Components placed the cell order with Quillon Cells on Monday."
    other = "Marrow Group Batteries met Sorrel Batteries."
    linked = newsie.link([
        _report("a.html", "2025-03-10", first, ["Marrow Group", "Quillon Cells"]),
        _report("b.html", "2025-03-11", second, ["Marrow Group Components", "Quillon Cells"]),
        _report("c.html", "2024-01-01", other, ["Marrow Group Batteries", "Sorrel Batteries"])])
    assert sorted(len(e.sources) for e in linked) == [1, 2]


def test_the_same_two_companies_with_a_second_order_a_year_later_do_not_link() -> None:
    first = "Halvard Motors ordered battery cells from Quillon Cells."
    again = "Halvard Motors has placed a new order for cells with Quillon Cells."
    linked = newsie.link([
        _report("a.html", "2024-05-03", first, ["Halvard Motors", "Quillon Cells"]),
        _report("b.html", "2025-05-06", again, ["Halvard Motors", "Quillon Cells"])])
    assert [len(e.sources) for e in linked] == [1, 1]


def test_an_extra_party_in_one_report_still_links() -> None:
    a = "Halvard Motors ordered battery cells from Quillon Cells."
    b = ("Quillon Cells and its partner Sorrel Batteries will supply Halvard Motors with "
         "cells for its new plant.")
    [event] = newsie.link([
        _report("a.html", "2025-05-03", a, ["Halvard Motors", "Quillon Cells"]),
        _report("b.html", "2025-05-05", b, ["Quillon Cells", "Sorrel Batteries",
                                            "Halvard Motors"])])
    assert len(event.sources) == 2 and "one report names more parties" in event.reason
    assert {p.name for p in event.parties} == {"Halvard Motors", "Quillon Cells",
                                               "Sorrel Batteries"}


def test_a_shared_single_party_with_a_different_counterparty_does_not_link() -> None:
    # the same day, the same quantity and the same words: still another deal
    a = "Halvard Motors ordered 8 GWh of battery cells from Quillon Cells."
    b = "Halvard Motors ordered 8 GWh of battery cells from Sorrel Batteries."
    linked = newsie.link([
        _report("a.html", "2025-05-03", a, ["Halvard Motors", "Quillon Cells"], GWH),
        _report("b.html", "2025-05-03", b, ["Halvard Motors", "Sorrel Batteries"], GWH)])
    assert [len(e.sources) for e in linked] == [1, 1]


def test_an_undated_report_that_fits_two_deals_joins_neither() -> None:
    # two orders a year apart, and a report with neither date nor publication date
    text = "Halvard Motors ordered battery cells from Quillon Cells."
    parties = ["Halvard Motors", "Quillon Cells"]
    linked = newsie.link([_report("a.html", "2024-05-03", text, parties),
                          _report("b.html", "2025-05-06", text, parties),
                          _article("c.html", text, _order(text, parties, None))])
    assert [len(e.sources) for e in linked] == [1, 1, 1]


def test_the_report_and_the_timeline_show_a_linked_event_once_with_every_source() -> None:
    from newsie.linking.timeline import timeline_rows
    from newsie.output.report import render

    results = _two_outlets()
    linked = newsie.link(results)
    rows = timeline_rows(linked, org="QCL")
    assert len(rows) == 1 and [s["source"] for s in rows[0]["sources"]] == [
        "outlet-a.html", "outlet-b.html"]
    page = render(results, linked=linked)
    for org in ("Halvard Motors", "Quillon Cells"):
        section = page[page.index(f"<h3>{org}</h3>"):]
        section = section[:section.index("</section>")]
        assert section.count(f'data-id="{linked[0].id}"') == 1
        assert 'href="#a0-0"' in section and 'href="#a1-0"' in section


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


class Stake(newsie.Event):
    """A type of one's own whose amount field is not called `value`."""

    definition = "an investor buys a stake in a company"
    lemmas = ("stake",)
    type: Literal["stake"] = "stake"
    investor: Annotated[str | None, newsie.Org] = None
    target: Annotated[str | None, newsie.Org] = None
    paid: newsie.Money | None = None


def _stake(source: str, paid: float, published: str) -> newsie.Extraction:
    text = f"Kestrel Capital bought a stake in Orla Cells for EUR {paid:g} million."
    event = Stake(summary="s", investor="Kestrel Capital", target="Orla Cells",
                  paid=newsie.Money(amount=paid * 1e6, currency="EUR", text=f"EUR {paid:g}m"),
                  parties=[newsie.Party(name="Kestrel Capital", role="investor"),
                           newsie.Party(name="Orla Cells", role="target")],
                  evidence=[newsie.Span(start=0, end=len(text), text=text)])
    return _article(source, text, event, published=published)


def test_a_custom_types_amounts_veto_a_link_whatever_the_field_is_called() -> None:
    same = newsie.link([_stake("a", 50, "2025-05-03"), _stake("b", 50, "2025-05-04")])
    assert [len(e.sources) for e in same] == [2]
    other = newsie.link([_stake("a", 50, "2025-05-03"), _stake("b", 90, "2025-05-04")])
    assert [len(e.sources) for e in other] == [1, 1]


LEAD_A = ("Lead Intelligent Equipment (LEAD) will supply battery production lines to "
          "Halvard Motors.")
LEAD_B = "Sorrel Batteries signed an order with Lead Intelligent Equipment for winding machines."
HUAYOU_A = "Huayou Cobalt will supply precursor to Sorrel Batteries."
HUAYOU_B = "Halvard Motors ordered cathode material from Huayou."


def _corpus() -> list[newsie.Extraction]:
    return [
        _article("a.html", LEAD_A, _order(LEAD_A, ["Lead Intelligent Equipment",
                                                   "Halvard Motors"], "2025-01-10")),
        _article("b.html", LEAD_B, _order(LEAD_B, ["Sorrel Batteries",
                                                   "Lead Intelligent Equipment"], "2025-06-10")),
        _article("c.html", HUAYOU_A, _order(HUAYOU_A, ["Huayou Cobalt", "Sorrel Batteries"],
                                            "2025-02-01")),
        _article("d.html", HUAYOU_B, _order(HUAYOU_B, ["Halvard Motors", "Huayou"],
                                            "2025-09-01")),
    ]


def test_the_timeline_finds_an_organization_by_an_abbreviation_an_article_defined() -> None:
    from newsie.linking.timeline import timeline_rows

    linked = newsie.link(_corpus())
    for org in ("LEAD", "Lead Intelligent Equipment", "lead intelligent equipment co., ltd."):
        rows = timeline_rows(linked, org=org)
        assert [r["date"] for r in rows] == ["2025-01-10", "2025-06-10"], org


def test_a_one_word_name_that_starts_one_organizations_name_is_that_organization() -> None:
    from newsie.linking.timeline import timeline_rows

    linked = newsie.link(_corpus())
    names = {p.name for e in linked for p in e.parties}
    assert "Huayou" not in names and "Huayou Cobalt" in names
    for org in ("Huayou", "Huayou Cobalt"):
        rows = timeline_rows(linked, org=org)
        assert [r["date"] for r in rows] == ["2025-02-01", "2025-09-01"], org
    assert timeline_rows(linked, org="Nobody") == []


def test_report_takes_aliases_as_link_does(tmp_path: Path) -> None:
    results = tmp_path / "events.jsonl"
    results.write_text("".join(r.model_dump_json() + "\n" for r in _corpus()))
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps({"Sorrel Energy Group": ["Sorrel Batteries"]}))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(results), "--out", str(out),
                                      "--aliases", str(aliases)])
    assert result.exit_code == 0, result.output
    assert "<h3>Sorrel Energy Group</h3>" in out.read_text()  # the file's canonical name
    bad = CliRunner().invoke(app, ["report", str(results), "--aliases", str(results)])
    assert bad.exit_code == 2 and "alias file" in bad.output and "Traceback" not in bad.output


def test_two_orders_of_one_sentence_get_two_ids() -> None:
    text = ("Halvard Motors ordered 20 GWh of cells from Quillon Cells in March and "
            "another 5 GWh in June.")
    march = _order(text, ["Halvard Motors", "Quillon Cells"], "2025-03",
                   newsie.Quantity(value=20, unit="GWh", text="20 GWh"))
    june = _order(text, ["Halvard Motors", "Quillon Cells"], "2025-06",
                  newsie.Quantity(value=5, unit="GWh", text="5 GWh"))
    linked = newsie.link([_article("a.html", text, march, june, published="2025-07-01")])
    assert len(linked) == 2
    assert len({e.id for e in linked}) == 2


def test_a_country_does_not_make_two_buyers_one_party() -> None:
    """"China" as a party must not pull both China-named buyers into one family."""
    one = "China Energy Engineering ordered 8GWh of cells from Quillon Cells on May 3."
    two = "China Three Gorges ordered 8GWh of cells from Quillon Cells on May 3."
    gov = "China signed an agreement with Quillon Cells on May 2."
    results = [
        _article("a.html", one, _order(one, ["China Energy Engineering", "Quillon Cells"],
                                       "2025-05-03", GWH), published="2025-05-03"),
        _article("b.html", two, _order(two, ["China Three Gorges", "Quillon Cells"],
                                       "2025-05-03", GWH), published="2025-05-03"),
        _article("c.html", gov, newsie.MoU(
            summary="China and Quillon Cells signed", date="2025-05-02",
            parties=[newsie.Party(name="China"), newsie.Party(name="Quillon Cells")],
            evidence=[newsie.Span(start=0, end=len(gov), text=gov)]),
            published="2025-05-02"),
    ]
    orders = [e for e in newsie.link(results) if e.type == "order"]
    assert len(orders) == 2
    for event in orders:
        assert "China" not in {p.name for p in event.parties}
        assert not any(a == "China" for p in event.parties for a in p.aliases)


# ------------------------------------------------- reports without a date (issue 22, item 2)

UNDATED_A = "Halvard Motors and Quillon Cells agreed to build a recycling plant in Porto."
UNDATED_B = "Quillon Cells will deliver sodium cells to Halvard Motors for its new scooters."
UNDATED_C = ("Quillon Cells and Halvard Motors agreed to build a battery recycling plant in "
             "Porto, the companies said.")


def _undated(source: str, text: str, quantity: newsie.Quantity | None = None
             ) -> newsie.Extraction:
    return _article(source, text, _order(text, ["Halvard Motors", "Quillon Cells"], None,
                                         quantity))


def test_two_undated_reports_of_the_same_companies_do_not_link_on_parties_alone() -> None:
    linked = newsie.link([_undated("a.html", UNDATED_A), _undated("b.html", UNDATED_B)])
    assert len(linked) == 2


def test_an_undated_report_does_not_link_to_a_dated_one_on_parties_alone() -> None:
    dated = _article("a.html", UNDATED_A, _order(UNDATED_A, ["Halvard Motors", "Quillon Cells"],
                                                 None), published="2025-05-03")
    assert len(newsie.link([dated, _undated("b.html", UNDATED_B)])) == 2


def test_undated_reports_link_on_an_agreeing_quantity() -> None:
    linked = newsie.link([_undated("a.html", UNDATED_A, GWH), _undated("b.html", UNDATED_B, GWH)])
    [event] = linked
    assert len(event.sources) == 2 and "same quantity" in event.reason


def test_undated_reports_link_on_close_wording() -> None:
    [event] = newsie.link([_undated("a.html", UNDATED_A), _undated("c.html", UNDATED_C)])
    assert len(event.sources) == 2 and "similar wording" in event.reason
