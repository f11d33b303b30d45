"""The scorer, on hand-made cases: the gold README's rules, and nothing looser."""

from __future__ import annotations

import ast
import itertools
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import newsie
from conftest import Expansion
from newsie.cli import app
from newsie.output import evaluation as _eval
from newsie.output.evaluation import (
    Simple,
    date_agrees,
    from_gold,
    location_agrees,
    max_matching,
    normalize,
    quantity_agrees,
    score,
)

GOLD = {
    "a": [{"type": "order", "parties": ["Lead Intelligent Equipment", "Borealis Cells"],
           "date": "2024-03-18", "location": "Springfield", "quantity": "20 GWh"},
          {"type": "mou", "parties": ["Quillon Cobalt Co., Ltd."]},
          {"type": "meeting", "parties": ["Tessaly Power"], "uncertain": True}],
    "b": [],
}


def _simple(events: dict[str, list[dict[str, Any]]]) -> dict[str, list[Simple]]:
    return {k: from_gold({"events": v}) for k, v in events.items()}


def _score(pred: dict[str, list[dict[str, Any]]],
           gold: dict[str, list[dict[str, Any]]] = GOLD) -> newsie.Score:
    return score(_simple(pred), _simple(gold))


def _match(a: str, b: str) -> bool:
    return _eval.party_match(_eval._names(a), _eval._names(b))


# ------------------------------------------------------------------------ names


@pytest.mark.parametrize(("name", "key"), [
    ("Acme Co., Ltd.", "acme"),
    ("ACME Co.,Ltd.", "acme"),
    ("Acme Co. Ltd", "acme"),
    ("Acme Inc.", "acme"),
    ("Acme Group", "acme"),
    ("Acme Corporation", "acme"),
    ("Acme-Nova (Group) Co., Ltd", "acme nova"),
    # words the rules do not list stay: stripping them would make the score optimistic
    ("Acme Holdings", "acme holdings"),
    ("Acme Technology Co., Ltd.", "acme technology"),
    ("Acme Pte. Ltd.", "acme pte"),
    ("Acme GmbH", "acme gmbh"),
    ("Acme Limited", "acme limited"),
])
def test_normalize_strips_case_punctuation_and_only_the_listed_suffixes(
        name: str, key: str) -> None:
    assert normalize(name) == key


@pytest.mark.parametrize(("a", "b", "match"), [
    ("Acme Co., Ltd.", "ACME", True),            # suffix and case
    ("Acme Technology", "Acme", True),           # containment
    ("Acme Holdings Group", "Acme Holdings", True),
    ("Acme Holdings", "Acme Technology", False),  # no suffix stripping beyond the rules
    ("Acme", "Acmeco", False),                   # containment is by whole words
    ("LGES", "LG Energy Solution Ltd.", True),   # the rules' known aliases
    ("LEAD", "Lead Intelligent Equipment", True),
    ("LGES", "Acme", False),
])
def test_party_match(a: str, b: str, match: bool) -> None:
    assert _match(a, b) is match
    assert _match(b, a) is match


def test_a_party_matches_by_an_alias_learned_from_the_article() -> None:
    party = _eval._names("Northwind Storage Systems", ["NWS"])
    assert _eval.party_match(party, _eval._names("NWS"))
    assert not _eval.party_match(_eval._names("Northwind Storage Systems"), _eval._names("NWS"))


def test_scorer_does_not_use_the_extractor_normalizer() -> None:
    tree = ast.parse(Path(_eval.__file__).read_text(encoding="utf-8"))
    own = {node.module for node in ast.walk(tree)
           if isinstance(node, ast.ImportFrom) and node.level > 0}
    absolute = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    absolute |= {node.module or "" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert own == {"events", "core.errors"}  # the data model and its errors, no scoring rule
    assert not any(name.startswith("newsie") for name in absolute)


# --------------------------------------------------------------------- matching


@pytest.mark.parametrize(("edges", "pairs"), [
    ([[0, 1], [0]], 2),          # the first must give way to the second
    ([[0], [0], [0]], 1),
    ([[0, 1, 2], [0], [1]], 3),
    ([[], [1]], 1),
])
def test_max_matching_finds_the_largest_matching(edges: list[list[int]], pairs: int) -> None:
    found = max_matching(edges)
    assert len(found) == pairs
    assert all(right in edges[left] for right, left in found.items())
    assert len(set(found.values())) == pairs


def test_max_matching_keeps_what_was_matched() -> None:
    found = max_matching([[0, 1], [1]], {0: 0})
    assert found == {0: 0, 1: 1}


def test_perfect_prediction_scores_one() -> None:
    certain = {k: [e for e in v if not e.get("uncertain")] for k, v in GOLD.items()}
    result = _score(certain)
    assert result.micro["f1"] == 1.0
    assert all(f["agreement"] == 1.0 for f in result.fields.values())


def test_empty_prediction_scores_zero_recall() -> None:
    result = _score({})
    assert result.micro["recall"] == 0.0 and result.micro["fn"] == 2
    assert result.micro["fp"] == 0


def test_each_gold_event_is_matched_once() -> None:
    twice = [{"type": "mou", "parties": ["Quillon Cobalt"]}] * 2
    result = _score({"a": twice})
    assert result.per_type["mou"]["tp"] == 1 and result.per_type["mou"]["fp"] == 1


def test_matching_finds_the_most_pairs_whatever_the_order() -> None:
    gold = {"x": [{"type": "order", "parties": ["Acme"]},
                  {"type": "order", "parties": ["Borealis Cells"]}]}
    pred = {"x": [{"type": "order", "parties": ["Acme", "Borealis Cells"]},
                  {"type": "order", "parties": ["Acme"]}]}
    result = _score(pred, gold)
    assert result.micro["tp"] == 2 and result.micro["fp"] == 0 and result.micro["fn"] == 0


def test_uncertain_gold_is_neither_false_positive_nor_false_negative() -> None:
    certain = [e for e in GOLD["a"] if not e.get("uncertain")]
    hit = _score({"a": [*certain, {"type": "meeting", "parties": ["Tessaly"]}]})
    miss = _score({"a": certain})
    assert hit.micro == miss.micro and hit.micro["f1"] == 1.0


def test_a_prediction_goes_to_a_certain_gold_event_before_an_uncertain_one() -> None:
    gold = {"x": [{"type": "visit", "parties": ["Acme"], "uncertain": True},
                  {"type": "visit", "parties": ["Acme"]}]}
    result = _score({"x": [{"type": "visit", "parties": ["Acme"]}]}, gold)
    assert result.micro["tp"] == 1 and result.micro["fn"] == 0


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_events_with_the_same_parties_pair_by_their_fields(order: tuple[int, ...]) -> None:
    gold = {"x": [{"type": "order", "parties": ["Acme"], "uncertain": True},
                  {"type": "order", "parties": ["Acme"], "date": "2024-05"},
                  {"type": "order", "parties": ["Acme"], "date": "2024-06-02",
                   "quantity": "5 GWh"}]}
    pred = {"x": [gold["x"][i] for i in order]}
    result = _score(pred, gold)
    assert result.micro["tp"] == 2 and result.micro["fp"] == 0
    assert result.fields["date"]["agree"] == 2 and result.fields["quantity"]["agree"] == 1


def test_wrong_type_or_party_is_a_false_positive() -> None:
    result = _score({"a": [{"type": "visit", "parties": ["Lead Intelligent Equipment"]},
                           {"type": "mou", "parties": ["Quillon Holdings"]}]})
    assert result.micro["fp"] == 2 and result.micro["tp"] == 0


def test_article_without_gold_events_scores_every_prediction_false_positive() -> None:
    pred = [{"type": "mou", "parties": ["Acme"]}, {"type": "order", "parties": ["Acme"]}]
    result = _score({"b": pred})
    assert result.micro["fp"] == 2 and result.micro["tp"] == 0 and result.micro["fn"] == 2


# ----------------------------------------------------------------------- fields


@pytest.mark.parametrize(("gold", "pred", "agree"), [
    ("2024-03-18", "2024-03-18", True),
    ("2024-03", "2024-03-18", True),    # exact at the gold's precision
    ("2024", "2024-07-01", True),
    ("2024-03-18", "2024-03", False),   # less precise than the gold
    ("2024-03-18", "2024-03-19", False),
    ("2024-03-18", "--03-18", False),   # no year cannot agree with a dated gold
    ("2024-03-18", None, False),
])
def test_dates_compare_at_the_gold_precision(gold: str, pred: str | None, agree: bool) -> None:
    assert date_agrees(pred, gold) is agree


@pytest.mark.parametrize(("pred", "gold", "agree"), [
    ("at least ten GWh", "10 GWh", True),
    ("20GWh", "20 GWh", True),
    ("10 gwh", "10 GWh", True),
    ("5 GWh", "50 GWh", False),
    ("10 MWh", "10 GWh", False),
    ("10", "10 GWh", False),
    ("1.5 million tonnes", "1,500,000 tonnes", True),
    ("ten thousand sets", "10,000 sets", True),
    ("about twenty-five buses", "25 buses", True),
    ("a batch of cathode material", "cathode material", True),  # no number: containment
    ("cathode material", "10 GWh", False),
    (None, "10 GWh", False),
])
def test_quantity_compares_number_and_unit(pred: str | None, gold: str, agree: bool) -> None:
    assert quantity_agrees(pred, gold) is agree


@pytest.mark.parametrize(("pred", "gold", "agree"), [
    ("Springfield, Ohio", "Springfield", True),
    ("springfield", "Springfield, Ohio", True),
    ("Shelbyville", "Springfield", False),
    (None, "Springfield", False),
])
def test_location_uses_the_containment_rule(pred: str | None, gold: str, agree: bool) -> None:
    assert location_agrees(pred, gold) is agree


def test_field_agreement_counts_only_matched_events_where_gold_has_a_value() -> None:
    pred = {"a": [{"type": "order", "parties": ["LEAD"], "date": "2024-03",
                   "location": "Springfield, Ohio", "quantity": "twenty GWh"},
                  {"type": "mou", "parties": ["Quillon Cobalt"], "date": "2024-03-18"},
                  {"type": "visit", "parties": ["Acme"], "quantity": "20 GWh"}]}
    result = _score(pred)
    assert result.micro["tp"] == 2
    assert result.fields["date"] == {"agree": 0, "total": 1, "agreement": 0.0}
    assert result.fields["location"] == {"agree": 1, "total": 1, "agreement": 1.0}
    assert result.fields["quantity"] == {"agree": 1, "total": 1, "agreement": 1.0}


# -------------------------------------------------------------------------- API


def test_cli_scores_saved_predictions(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"id": k, "events": v}) for k, v in GOLD.items()))
    text = "Lead Intelligent Equipment (LEAD) will supply Borealis Cells 20 GWh."
    extraction = newsie.Extraction(
        source=str(tmp_path / "a.txt"), text=text, model="m",
        events=[newsie.Order(summary="s", parties=[newsie.Party(name="LEAD")],
                             quantity=newsie.Quantity(value=20, unit="GWh", text="20GWh"),
                             evidence=[newsie.Span(start=0, end=len(text), text=text)])],
    )
    saved = tmp_path / "pred.jsonl"
    saved.write_text(extraction.model_dump_json() + "\n")
    result = CliRunner().invoke(app, ["eval", str(gold), "--predictions", str(saved), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["per_type"]["order"]["tp"] == 1 and data["micro"]["fn"] == 1
    assert data["fields"]["quantity"]["agree"] == 1
    api = newsie.evaluate(gold, predictions=saved)
    assert api.micro == pytest.approx(data["micro"])


@pytest.mark.parametrize(("parties", "agree"), [
    (["Acme Co., Ltd.", "Borealis Cells"], 1),           # the exact set, as the rules match
    (["Borealis Cells", "Acme"], 1),                     # in any order
    (["Acme"], 0),                                       # a party missing
    (["Acme", "Borealis Cells", "Jane Doe"], 0),         # a person given as a party
    (["Acme", "Borealis Cells", "Quillon Cobalt"], 0),   # a party too many
])
def test_party_set_agrees_only_when_the_whole_set_matches(parties: list[str],
                                                           agree: int) -> None:
    gold = {"x": [{"type": "order", "parties": ["Acme", "Borealis Cells"]}]}
    result = _score({"x": [{"type": "order", "parties": parties}]}, gold)
    assert result.micro["tp"] == 1
    assert result.fields["parties"] == {"agree": agree, "total": 1, "agreement": float(agree)}


# ------------------------------------------------------------------ failed articles

GOOD_AND_FAILED = {
    "a": [{"type": "order", "parties": ["Lead Intelligent Equipment"]},
          {"type": "mou", "parties": ["Quillon Cobalt"]}],
    "b": [{"type": "visit", "parties": ["Acme"]}, {"type": "order", "parties": ["Acme"]}],
}


def test_failed_articles_are_listed_and_left_out_of_every_count() -> None:
    pred = {"a": [{"type": "order", "parties": ["LEAD"]}]}
    result = score(_simple(pred), _simple(GOOD_AND_FAILED), failed={"b": "ServerError: 500"})
    assert result.failed == {"b": "ServerError: 500"} and result.articles == 1
    # b's two gold events would be two false negatives if its failure counted as "no events"
    assert (result.micro["tp"], result.micro["fn"]) == (1, 1)
    text = result.to_text()
    assert "1 failed" in text and "b: ServerError: 500" in text


def _gold_files(tmp_path: Path) -> Path:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"id": k, "events": v, "published": "2024-03-20"})
                              for k, v in GOOD_AND_FAILED.items()))
    for key in GOOD_AND_FAILED:
        (tmp_path / f"{key}.txt").write_text("Acme signed an order with Borealis Cells.")
    return gold


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_evaluate_against_a_dead_server_scores_nothing_and_lists_every_article(
        tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    result = newsie.evaluate(_gold_files(tmp_path), base_url=url, model="m", max_attempts=1,
                             cache=False)
    assert sorted(result.failed) == ["a", "b"]
    assert all(error.startswith("ServerUnreachableError") for error in result.failed.values())
    assert result.articles == 0 and result.micro["fn"] == 0


def test_evaluate_lists_an_article_it_cannot_load(tmp_path: Path) -> None:
    gold = _gold_files(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"\x00\x01" * 50)
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    result = newsie.evaluate(gold, base_url=url, model="m", max_attempts=1, cache=False)
    assert result.failed["a"].startswith("BinaryInputError")


def test_cli_eval_exits_1_and_names_the_failed_articles(tmp_path: Path) -> None:
    gold = _gold_files(tmp_path)
    text = "Lead Intelligent Equipment ordered cells."
    ok = newsie.Extraction(source=str(tmp_path / "a.txt"), text=text, model="m", events=[
        newsie.Order(summary="s", parties=[newsie.Party(name="Lead Intelligent Equipment")],
                     evidence=[newsie.Span(start=0, end=len(text), text=text)])])
    dead = newsie.Failure(source=str(tmp_path / "b.txt"), error="ServerUnreachableError",
                          message="cannot reach model server at 127.0.0.1 (4 attempts)")
    saved = tmp_path / "pred.jsonl"
    saved.write_text(ok.model_dump_json() + "\n" + dead.model_dump_json() + "\n")
    result = CliRunner().invoke(app, ["eval", str(gold), "--predictions", str(saved), "--json"])
    assert result.exit_code == 1
    assert "b: ServerUnreachableError: cannot reach model server" in result.stderr
    data = json.loads(result.stdout)
    assert data["failed"] == {"b": f"ServerUnreachableError: {dead.message}"}
    assert data["articles"] == 1 and data["micro"]["tp"] == 1 and data["micro"]["fn"] == 1


def test_an_article_that_failed_then_succeeded_on_resume_is_scored(tmp_path: Path) -> None:
    gold = _gold_files(tmp_path)
    dead = newsie.Failure(source=str(tmp_path / "a.txt"), error="ServerError", message="500")
    done = [newsie.Extraction(source=str(tmp_path / k), text="t", model="m")
            for k in ("a.txt", "b.txt")]
    saved = tmp_path / "pred.jsonl"
    saved.write_text("".join(r.model_dump_json() + "\n" for r in [dead, *done]))
    result = newsie.evaluate(gold, predictions=saved)
    assert result.failed == {} and result.articles == 2


# ------------------------------------------------------------------ custom types



def test_a_gold_file_may_use_a_type_of_ones_own(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a", "events": [
        {"type": "plant_expansion", "parties": ["Acme"], "quantity": "40 GWh"},
        {"type": "investment", "parties": ["Kestrel"]}]}) + "\n")
    text = "Acme expands its plant to 40 GWh."
    expansion = Expansion(summary="s", company="Acme", parties=[newsie.Party(name="Acme")],
                          capacity=newsie.Quantity(value=40, unit="GWh", text="40 GWh"),
                          evidence=[newsie.Span(start=0, end=len(text), text=text)])
    saved = tmp_path / "pred.jsonl"
    saved.write_text(newsie.Extraction(source=str(tmp_path / "a.txt"), text=text, model="m",
                                       events=[expansion]).model_dump_json() + "\n")
    result = newsie.evaluate(gold, predictions=saved)
    assert list(result.per_type) == ["investment", "plant_expansion"]
    assert result.per_type["plant_expansion"]["tp"] == 1
    assert result.per_type["investment"]["fn"] == 1
    # a field of kind quantity is scored as the quantity, whatever its name
    assert result.fields["quantity"] == {"agree": 1, "total": 1, "agreement": 1.0}
    assert "plant_expansion" in result.to_text()


def test_per_type_rows_are_the_types_either_side_uses() -> None:
    result = _score({"a": [{"type": "visit", "parties": ["Acme"]}]})
    assert list(result.per_type) == ["meeting", "mou", "order", "visit"]
    assert _score({}, {"x": []}).per_type == {}


# ------------------------------------------------------------------ odd gold files


@pytest.mark.parametrize("line", ['["a", []]', '"a"', "3", '{"events": []}', "{oops"])
def test_a_gold_line_that_is_not_a_record_names_file_and_line(tmp_path: Path,
                                                             line: str) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a", "events": []}) + "\n" + line + "\n")
    with pytest.raises(newsie.NewsieError, match=r"gold\.jsonl:2"):
        newsie.evaluate(gold, predictions=[])
    result = CliRunner().invoke(app, ["eval", str(gold), "--predictions", str(gold)])
    assert result.exit_code == 2 and "gold.jsonl:2" in result.stderr
    assert "Traceback" not in result.output


def test_a_gold_id_is_never_a_pattern_nor_a_path(
        tmp_path: Path, fake_server: Any) -> None:
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (tmp_path / "secret.txt").write_text("Top secret: Acme signed an order with Borealis.")
    (gold_dir / "a.txt").write_text("Acme signed an order with Borealis Cells.")
    (gold_dir / "ab.txt").write_text("Ab Motors signed an order with Borealis Cells.")
    gold = gold_dir / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": k, "events": []}) + "\n"
                            for k in ("../secret", "a*", "a")))
    result = newsie.evaluate(gold, base_url=fake_server.base_url, model="m", cache=False)
    sent = json.dumps(fake_server.requests)
    assert "Top secret" not in sent and "Ab Motors" not in sent
    assert len(fake_server.requests) == 1  # only a.txt was read
    assert result.articles == 1
    assert set(result.failed) == {"../secret", "a*"}
    assert all("FileNotFoundError" in v for v in result.failed.values())


def test_a_missing_article_file_fails_alone(tmp_path: Path, fake_server: Any) -> None:
    gold = _gold_files(tmp_path)
    (tmp_path / "b.txt").unlink()
    result = newsie.evaluate(gold, base_url=fake_server.base_url, model="m", cache=False)
    assert result.articles == 1
    assert list(result.failed) == ["b"] and "no article file" in result.failed["b"]
