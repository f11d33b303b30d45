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
