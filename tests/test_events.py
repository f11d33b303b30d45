from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field, ValidationError

import newsie
from newsie import events
from newsie.events import Kind

PRESENTATION = {"_report", "_export", "cli"}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[-1])
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[-1] for alias in node.names)
    return names


def test_the_data_model_depends_on_no_presentation_code() -> None:
    assert not _imported_modules(Path(events.__file__)) & PRESENTATION


def test_mou_carries_no_always_empty_scope_field() -> None:
    mou = newsie.MoU(summary="Acme signed an MoU with Beta")
    assert "scope" not in mou.model_dump()


class FundingRound(newsie.Event):
    definition = "a company raises money from investors"
    lemmas = ("raise", "funding")

    type: Literal["funding_round"] = "funding_round"
    company: Annotated[str | None, newsie.Org] = None
    investors: Annotated[list[str], newsie.Org] = Field(default_factory=list)
    amount: newsie.Money | None = None
    round: Annotated[str | None, newsie.Phrase] = None


def _funding() -> FundingRound:
    return FundingRound(
        summary="Orla Cells raised EUR 50 million", company="Orla Cells",
        investors=["Kestrel Capital"], round="Series B",
        amount=newsie.Money(amount=5e7, currency="EUR", text="EUR 50 million"),
        parties=[newsie.Party(name="Orla Cells", role="company")],
        evidence=[newsie.Span(start=0, end=4, text="Orla")])


def test_a_result_with_a_custom_event_round_trips_through_json() -> None:
    order = newsie.Order(summary="o", buyer="Acme",
                         quantity=newsie.Quantity(value=5, unit="GWh", text="5 GWh"))
    result = newsie.Extraction(source="a.txt", text="Orla", model="m",
                               events=[_funding(), order])
    stored = result.model_dump_json()
    assert json.loads(stored)["events"][0]["amount"]["currency"] == "EUR"
    back = newsie.Extraction.model_validate_json(stored)
    assert back == result
    funding = back.events[0]
    assert isinstance(funding, FundingRound) and isinstance(back.events[1], newsie.Order)
    assert funding.amount is not None and funding.amount.amount == 5e7
    assert funding.investors == ["Kestrel Capital"] and funding.round == "Series B"


def test_an_event_read_as_event_becomes_its_own_class() -> None:
    order = newsie.Event.model_validate({"type": "order", "summary": "s", "buyer": "Acme"})
    assert isinstance(order, newsie.Order) and order.buyer == "Acme"
    with pytest.raises(ValidationError):  # a known type is still read strictly
        newsie.Event.model_validate({"type": "order", "summary": "s", "bogus": 1})
    linked = newsie.LinkedSource.model_validate_json(
        newsie.LinkedSource(source="a", event=_funding()).model_dump_json())
    assert isinstance(linked.event, FundingRound) and linked.event.round == "Series B"


def test_context_chooses_the_class_for_a_type_name() -> None:
    class Other(newsie.Event):
        type: Literal["funding_round"] = "funding_round"
        note: Annotated[str | None, newsie.Phrase] = None

    record = {"type": "funding_round", "summary": "s", "note": "n"}
    assert type(newsie.Event.model_validate(record, context={"types": [Other]})) is Other


def test_an_unknown_type_is_read_and_written_back_whole() -> None:
    event = {"type": "plant_opening", "summary": "Acme opened a plant", "site": "Debrecen",
             "capacity": {"value": 40.0, "unit": "GWh", "text": "40 GWh"}}
    record = {"source": "a", "text": "t", "model": "m", "events": [event]}
    result = newsie.Extraction.model_validate_json(json.dumps(record))
    [read] = result.events
    assert isinstance(read, newsie.UnknownEvent) and read.type == "plant_opening"
    assert (read.model_extra or {})["site"] == "Debrecen"
    assert read.fields_of(Kind.QUANTITY)["capacity"].value == 40
    written = json.loads(result.model_dump_json())["events"][0]
    assert {k: written[k] for k in event} == event


def test_no_module_but_the_data_model_names_a_builtin_type() -> None:
    """Types are read from specs: a new type needs no edit anywhere else."""
    src = Path(newsie.__file__).parent
    named = []
    for path in sorted(src.rglob("*.py")):
        if path.name == "events.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in events.EVENT_TYPES:
                named.append(f"{path.relative_to(src)}:{node.lineno} {node.value!r}")
    assert named == []

