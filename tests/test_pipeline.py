"""End to end on the five seeds, replayed from cassettes recorded on the embedded model."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import newsie
from conftest import ROOT, SEEDS, dist_info
from fakeserver import FakeModelServer, events_reply
from newsie.cli import app
from newsie.linking.orgs import org_key
from newsie.output import evaluation


def _by_type(result: newsie.Extraction, kind: str) -> list[Any]:
    return [ev for ev in result.events if ev.type == kind]


def _names(ev: Any) -> set[str]:
    return {org_key(n) for p in ev.parties for n in [p.name, *p.aliases]}


@pytest.mark.vcr
@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem[:3] for p in SEEDS])
def test_every_event_is_grounded_in_the_article(seed: Path, model_endpoint: dict[str, Any]) -> None:
    result = newsie.extract(seed, **model_endpoint)
    assert result.source == str(seed)
    assert result.usage.prompt_tokens > 0 and result.usage.requests >= 1
    for ev in result.events:
        assert ev.evidence, ev
        for span in ev.evidence:
            assert result.text[span.start : span.end] == span.text
        for party in ev.parties:
            assert party.name in result.text or any(a in result.text for a in party.aliases)


def _is(name: str | None, *keys: str) -> bool:
    return name is not None and org_key(name) in keys


GOLD = {record["id"]: record for record in map(
    json.loads, (ROOT / "seeds" / "gold.jsonl").read_text(encoding="utf-8").splitlines())}


_MISSED = {  # what the embedded model still gets wrong, recorded: fix the pipeline, not this
    "004": "the model reports the outlet's own interview as an order (Battery-News buying)",
}


@pytest.mark.vcr
@pytest.mark.parametrize("seed", [
    pytest.param(p, marks=pytest.mark.xfail(reason=_MISSED[p.stem[:3]], strict=True))
    if p.stem[:3] in _MISSED else p for p in SEEDS], ids=[p.stem[:3] for p in SEEDS])
def test_seed_gives_every_gold_event_with_its_whole_party_set_and_no_other(
        seed: Path, model_endpoint: dict[str, Any]) -> None:
    """What a reader checks: each certain gold event, of its type, naming exactly its
    organizations (no person, no extra name), and no event the gold does not have."""
    result = newsie.extract(seed, **model_endpoint)
    gold = GOLD[seed.stem]
    score = evaluation.score({seed.stem: evaluation.from_extraction(result)},
                        {seed.stem: evaluation.from_gold(gold)})
    certain = sum(not e.get("uncertain") for e in gold["events"])
    assert score.micro["tp"] == certain, result.events
    assert score.micro["fp"] == 0, result.events
    parties = score.fields["parties"]
    assert parties["agree"] == parties["total"] == certain, result.events


@pytest.mark.vcr
@pytest.mark.xfail(strict=True, reason="the model gives the 20 GWh to the agreement (the mou), "
                   "not to the order")
def test_seed_002_order_abf_buys_20_gwh_from_lead(model_endpoint: dict[str, Any]) -> None:
    result = newsie.extract(SEEDS[2], **model_endpoint)
    [order] = _by_type(result, "order")
    assert order.quantity is not None
    assert (order.quantity.value, order.quantity.unit) == (20, "GWh")
    assert _is(order.buyer, "american battery factory", "abf"), order
    assert _is(order.supplier, "lead intelligent equipment", "lead"), order


@pytest.mark.vcr
def test_seed_000_lges_visits_huayou_at_its_industrial_park(
        model_endpoint: dict[str, Any]) -> None:
    result = newsie.extract(SEEDS[0], **model_endpoint)
    [visit] = _by_type(result, "visit")
    assert _is(visit.visitor, "lges", "lg energy solution"), visit
    assert visit.host is not None and "huayou" in org_key(visit.host), visit
    assert "industrial park" not in org_key(visit.host), visit  # that is the place
    assert not _by_type(result, "mou"), result.events


@pytest.mark.vcr
def test_seed_001_no_party_is_a_person_or_a_title(model_endpoint: dict[str, Any]) -> None:
    result = newsie.extract(SEEDS[1], **model_endpoint)
    people = {"chen hongliang", "chen meifa", "zhang jianhong"}
    titles = {"managing", "managing director", "president", "assistant", "chairman"}
    assert result.events
    for ev in result.events:
        assert not _names(ev) & (people | titles), ev
    [mou] = _by_type(result, "mou")
    assert any("huayou" in n for n in _names(mou)) and any("sos" in n for n in _names(mou))


@pytest.mark.vcr
def test_wordpress_json_seed_keeps_title_and_date(model_endpoint: dict[str, Any]) -> None:
    result = newsie.extract(SEEDS[4], **model_endpoint)
    assert result.published == "2024-03-26"
    assert result.title and result.title.startswith("Exclusive interviewed by Battery-News")
    assert "<\\/p>" not in result.text and "</p>" not in result.text


@pytest.mark.vcr
def test_async_extract_finds_the_agreement(model_endpoint: dict[str, Any]) -> None:
    result = asyncio.run(newsie.aextract(SEEDS[2], cache=False, **model_endpoint))
    [mou] = _by_type(result, "mou")
    assert {org_key(p.name) for p in mou.parties} == {
        "lead intelligent equipment", "american battery factory"}, mou
    # the MoU cites only the signing sentence; "20GWh" is in the next one, so it is dropped
    # with a warning (the order that cites it keeps it: test_seed_002_order_...)
    assert mou.quantity is None  # type: ignore[attr-defined]
    assert any("'20GWh' is only in a neighbouring sentence" in w for w in mou.warnings)
    assert result.usage.requests >= 1 and result.usage.cached == 0


def test_json_shape_round_trips() -> None:
    result = newsie.Extraction(
        source="x", text="Acme met Beta.", model="m",
        events=[newsie.Meeting(summary="Acme held a meeting",
                               parties=[newsie.Party(name="Acme")],
                               evidence=[newsie.Span(start=0, end=14, text="Acme met Beta.")])],
    )
    again = newsie.Extraction.model_validate_json(result.model_dump_json())
    assert again == result
    assert isinstance(again.events[0], newsie.Meeting)


def _open_files_under(folder: Path) -> list[str]:
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_an_extractor_closes_its_cache_files(fake_server: FakeModelServer, tmp_path: Path) -> None:
    fake_server.script = [events_reply([])]
    with newsie.Extractor(base_url=fake_server.base_url, model="fake") as extractor:
        extractor.extract("Acme Motors met Borealis Cells in Oslo.")
        assert _open_files_under(tmp_path)  # the cache is open while the extractor works
    assert _open_files_under(tmp_path) == []


# ------------------------------------------------ a type of one's own, and linking

#: Written for these tests (not from any real outlet): one deal, two reports.
INVESTMENT = (
    "LYON, France, June 3, 2025 -- Kestrel Capital has bought a 25% stake in Orla Cells, "
    "a maker of sodium-ion battery cells, for EUR 120 million, the two companies said on "
    "Tuesday.\n\nOrla Cells will spend the money on a second production line in Lyon. "
    "Kestrel Capital partner Ines Moreau joins Orla's board."
)
REPORT_A = (
    "OSLO, Norway, May 12, 2025 -- Nordvik Mining Group signed an agreement on Monday to "
    "supply 40,000 tonnes of nickel sulphate a year to Tamsin Motors, the electric-car "
    "maker said.\n\nDeliveries start in 2026 from Nordvik's refinery in Harjavalta."
)
REPORT_B = (
    "STOCKHOLM, May 13, 2025 -- Carmaker Tamsin Motors Corp. has signed a supply deal with "
    "Nordvik Mining for 40,000 tonnes of nickel sulphate a year, it said on Tuesday.\n\n"
    "Tamsin will use the nickel in cells for its next compact model."
)


@pytest.mark.vcr
def test_an_investment_type_from_an_installed_package_is_extracted(
        model_endpoint: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        fresh_registry: None) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "newsie_investment" / "src"))
    monkeypatch.syspath_prepend(str(dist_info(
        tmp_path, "newsie-investment", "investment = newsie_investment:Investment")))
    result = newsie.extract(INVESTMENT, types=["investment"], **model_endpoint)
    [investment] = result.events
    assert investment.type == "investment"
    assert _is(investment.investor, "kestrel capital"), investment  # type: ignore[attr-defined]
    assert _is(investment.target, "orla cells"), investment  # type: ignore[attr-defined]
    amount = investment.amount  # type: ignore[attr-defined]
    assert amount is not None and (amount.amount, amount.currency) == (120_000_000, "EUR")
    assert "Ines Moreau" not in _names(investment)


@pytest.mark.vcr
def test_two_reports_of_one_deal_link_into_one_event_with_both_sources(
        model_endpoint: dict[str, Any], tmp_path: Path) -> None:
    results = list(newsie.extract_many([REPORT_A, REPORT_B], concurrency=1,
                                       types=["mou", "order"], **model_endpoint))
    assert all(isinstance(r, newsie.Extraction) and r.events for r in results), results
    saved = tmp_path / "events.jsonl"
    saved.write_text("".join(r.model_dump_json() + "\n" for r in results))
    out = tmp_path / "linked.jsonl"
    run = CliRunner().invoke(app, ["link", str(saved), "--out", str(out)])
    assert run.exit_code == 0, run.output
    linked = [newsie.LinkedEvent.model_validate_json(line)
              for line in out.read_text().splitlines()]
    both = [e for e in linked if len({s.source for s in e.sources}) == 2]
    assert both, linked
    for event in both:
        keys = {org_key(n) for p in event.parties for n in [p.name, *p.aliases]}
        assert any(k.startswith("tamsin motors") for k in keys), event
        assert any(k.startswith("nordvik mining") for k in keys), event
    # every reported event ends in exactly one linked event
    assert sum(len(e.sources) for e in linked) == sum(len(r.events) for r in results)
