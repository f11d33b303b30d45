"""Candidates: what the model may choose from is what the article itself names."""

from __future__ import annotations

from newsie.extraction.candidates import find_candidates, of_kind
from newsie.reading.nlp import analyze

TEXT = (
    "On May 4, 2025, Norrland Battery Systems signed an agreement to supply 12 GWh of "
    "cells to Vireo Motors in Gothenburg. Vice President Anna Lindqvist of Norrland "
    "Battery Systems attended. The Swedish government welcomed the deal, worth "
    "$300 million."
)


def _kinds() -> dict[str, list[str]]:
    found = find_candidates(TEXT, analyze(TEXT))
    return {kind: of_kind(found, kind) for kind in
            ("org", "person", "place", "date", "quantity", "money")}


def test_every_candidate_is_an_exact_span_of_the_article() -> None:
    found = find_candidates(TEXT, analyze(TEXT))
    assert found
    for c in found:
        assert TEXT[c.start:c.end] == c.text


def test_companies_people_and_amounts_are_typed() -> None:
    kinds = _kinds()
    assert "Norrland Battery Systems" in kinds["org"]
    assert "Vireo Motors" in kinds["org"]
    assert "Anna Lindqvist" in kinds["person"]
    assert "Anna Lindqvist" not in kinds["org"]
    assert any("12 GWh" in q for q in kinds["quantity"])
    assert any("300 million" in m for m in kinds["money"])
    assert any("May 4, 2025" in d for d in kinds["date"])


def test_a_job_title_is_not_an_organization() -> None:
    assert not any("President" in o for o in _kinds()["org"])


def test_a_government_named_by_its_nationality_is_an_organization() -> None:
    assert "Swedish government" in _kinds()["org"]


def test_of_kind_keeps_to_the_span_asked_for() -> None:
    found = find_candidates(TEXT, analyze(TEXT))
    first = TEXT.index(".") + 1
    assert "Anna Lindqvist" not in of_kind(found, "person", 0, first)
    assert "Vireo Motors" in of_kind(found, "org", 0, first)


# ------------------------------------------------------------ issue 22, item 5

def _of(text: str, kind: str) -> list[str]:
    return of_kind(find_candidates(text, analyze(text)), kind)


def test_quantities_with_units_are_candidates_however_written() -> None:
    text = ("Dunmore Cells will supply no less than 200 GWh to Orvane Motors, and 10,000 "
            "tonnes of lithium by 2026. It sold 20GWh in 2023.")
    quantities = _of(text, "quantity")
    assert {"200 GWh", "10,000 tonnes", "20GWh"} <= set(quantities)


def test_a_number_before_a_word_that_is_no_unit_is_not_a_quantity() -> None:
    text = "Dunmore Cells operates 4 lithium mines and 12 refineries in Chile."
    assert _of(text, "quantity") == []


def test_money_is_a_candidate_with_its_amount_and_currency() -> None:
    text = "Orvane Motors paid $1,234.5 million for the plant, Dunmore Cells said."
    assert "$1,234.5 million" in _of(text, "money")


def test_no_organization_spans_a_verb_of_a_headline() -> None:
    text = ("Korvane Group Visited Pellmar Energy To Discuss Cooperation\n\n"
            "Korvane Group met Pellmar Energy in Lyon on May 3.")
    orgs = _of(text, "org")
    assert "Pellmar Energy" in orgs
    assert not any(word in o for o in orgs for word in ("Visited", "Discuss"))


def test_a_title_phrase_is_not_an_organization_but_the_organization_named_for_it_is() -> None:
    text = ("The Chinese Ambassador met Korvane Motors executives in Lyon. The Chinese "
            "Embassy said the talks went well.")
    orgs = _of(text, "org")
    assert not any("Ambassador" in o for o in orgs)
    assert "Chinese Embassy" in orgs
