"""The scorer itself, on hand-made cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsie
from newsie._eval import from_gold, score
from newsie.cli import app

GOLD = {
    "a": [{"type": "order", "parties": ["Lead Intelligent Equipment", "American Battery Factory"],
           "date": "2024-03-18", "location": "Wuxi", "quantity": "20 GWh"},
          {"type": "mou", "parties": ["Huayou Cobalt Co., Ltd."]},
          {"type": "meeting", "parties": ["Lishen Battery"], "uncertain": True}],
    "b": [],
}


def _truth() -> dict[str, list]:  # type: ignore[type-arg]
    return {k: from_gold({"events": v}) for k, v in GOLD.items()}


def _pred(events: dict[str, list[dict]]) -> dict[str, list]:  # type: ignore[type-arg]
    return {k: from_gold({"events": v}) for k, v in events.items()}


def test_perfect_prediction_scores_one() -> None:
    certain = {k: [e for e in v if not e.get("uncertain")] for k, v in GOLD.items()}
    result = score(_pred(certain), _truth())
    assert result.micro["f1"] == 1.0
    assert result.fields["date"]["agreement"] == 1.0
    assert result.fields["quantity"]["agreement"] == 1.0


def test_empty_prediction_scores_zero_recall() -> None:
    result = score({}, _truth())
    assert result.micro["recall"] == 0.0 and result.micro["fn"] == 2
    assert result.micro["fp"] == 0


def test_aliases_and_suffixes_match() -> None:
    pred = _pred({"a": [{"type": "order", "parties": ["LEAD"], "date": "2024-03",
                         "quantity": "20GWh"},
                        {"type": "mou", "parties": ["Huayou Cobalt"]}]})
    result = score(pred, _truth())
    assert result.micro["tp"] == 2 and result.micro["fp"] == 0
    assert result.fields["date"]["agree"] == 0  # 2024-03 is not 2024-03-18
    assert result.fields["quantity"]["agree"] == 1


def test_uncertain_gold_is_neutral() -> None:
    certain = [e for e in GOLD["a"] if not e.get("uncertain")]
    hit = score(_pred({"a": [*certain, {"type": "meeting", "parties": ["Lishen"]}]}), _truth())
    miss = score(_pred({"a": certain}), _truth())
    assert hit.micro == miss.micro and hit.micro["f1"] == 1.0


def test_wrong_type_or_party_is_a_false_positive() -> None:
    pred = _pred({"a": [{"type": "visit", "parties": ["Lead Intelligent Equipment"]}],
                  "b": [{"type": "mou", "parties": ["Acme"]}]})
    result = score(pred, _truth())
    assert result.micro["fp"] == 2 and result.micro["tp"] == 0


def test_cli_scores_saved_predictions(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"id": k, "events": v}) for k, v in GOLD.items()))
    text = "Lead Intelligent Equipment (LEAD) will supply American Battery Factory 20 GWh."
    extraction = newsie.Extraction(
        source=str(tmp_path / "a.txt"), text=text, model="m",
        events=[newsie.Order(summary="s", parties=[newsie.Party(name="LEAD")],
                             quantity=newsie.Quantity(value=20, unit="GWh", text="20 GWh"),
                             evidence=[newsie.Span(start=0, end=len(text), text=text)])],
    )
    saved = tmp_path / "pred.jsonl"
    saved.write_text(extraction.model_dump_json() + "\n")
    result = CliRunner().invoke(app, ["eval", str(gold), "--predictions", str(saved), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["per_type"]["order"]["tp"] == 1 and data["micro"]["fn"] == 1
    api = newsie.evaluate(gold, predictions=saved)
    assert api.micro == pytest.approx(data["micro"])
