from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

import newsie
from conftest import Expansion
from fakeserver import FakeModelServer, Reply, completion
from newsie.output.export import print_table, to_csv

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ('{"events":[{"type":"order","sent":[1],"buyer":"Acme Motors",'
          '"supplier":"Borealis Cells","people":[],"quantity":"5 GWh"}]}')


def _articles(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:02d}.txt").write_text(
            f"Acme Motors ordered 5 GWh of cells from Borealis Cells, deal number {i}.")


def _cli(args: list[str], cache: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEWSIE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-m", "newsie", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_killed_run_resumes_to_the_same_file(fake_server: FakeModelServer, tmp_path: Path) -> None:
    fake_server.script = [Reply(body=completion(EVENTS), delay=0.4)]
    folder = tmp_path / "articles"
    _articles(folder, 8)
    base = ["extract", str(folder), "--base-url", fake_server.base_url, "-q", "--no-cache"]

    whole = tmp_path / "whole.jsonl"
    assert _cli([*base, "--out", str(whole)], tmp_path / "c1").wait(timeout=60) == 0

    partial = tmp_path / "partial.jsonl"
    proc = _cli([*base, "--out", str(partial)], tmp_path / "c2")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if partial.exists() and partial.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = partial.read_text().count("\n")
    assert 3 <= done_before < 8
    requests_before = len(fake_server.requests)

    assert _cli([*base, "--out", str(partial)], tmp_path / "c2").wait(timeout=60) == 0
    assert partial.read_text() == whole.read_text()
    assert len(fake_server.requests) - requests_before == 8 - done_before


def test_torn_last_line_and_old_errors_are_redone(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.script = [Reply(body=completion(EVENTS))]
    folder = tmp_path / "articles"
    _articles(folder, 2)
    out = tmp_path / "out.jsonl"
    first = newsie.extract(folder / "a00.txt", base_url=fake_server.base_url, cache=False)
    out.write_text(first.model_dump_json() + "\n"
                   + '{"source": "x", "error": "E", "message": "m"}\n{"source": "tor')
    from typer.testing import CliRunner

    from newsie.cli import app

    result = CliRunner().invoke(app, ["extract", str(folder), "--out", str(out), "-q",
                                      "--base-url", fake_server.base_url])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and len(fake_server.requests) == 2


def test_csv_has_one_row_per_event_with_offsets(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(body=completion(EVENTS))]
    text = "Acme Motors ordered 5 GWh of cells from Borealis Cells."
    result = newsie.extract(text, base_url=fake_server.base_url)
    rows = list(csv.DictReader(io.StringIO(to_csv([result]))))
    assert len(rows) == 1
    row = rows[0]
    assert row["type"] == "order" and row["parties"] == "Acme Motors; Borealis Cells"
    assert (row["buyer"], row["supplier"]) == ("Acme Motors", "Borealis Cells")
    assert (float(row["quantity_value"]), row["quantity_unit"]) == (5, "GWh")
    assert row["status"] == "event" and row["article"] == result.source and row["event_id"]
    assert text[int(row["evidence_start"]):int(row["evidence_end"])] == row["evidence"]


def test_dataframe_from_a_result_and_a_batch(fake_server: FakeModelServer) -> None:
    pytest.importorskip("pandas")
    fake_server.script = [Reply(body=completion(EVENTS))]
    text = "Acme Motors ordered 5 GWh of cells from Borealis Cells."
    result = newsie.extract(text, base_url=fake_server.base_url)
    frame = newsie.to_dataframe([result])
    assert list(frame["type"]) == ["order"]
    assert list(frame["buyer"]) == ["Acme Motors"] and list(frame["quantity_value"]) == [5.0]
    assert list(frame["quantity_unit"]) == ["GWh"]
    assert len(newsie.to_dataframe([result, result])) == 2


def _table_results() -> list[newsie.Extraction | newsie.Failure]:
    order = newsie.Order(
        summary="Lead Intelligent Equipment Company Limited ordered 20 GWh of battery "
                "production lines from American Battery Factory Incorporated",
        parties=[newsie.Party(name="Lead Intelligent Equipment Company Limited"),
                 newsie.Party(name="American Battery Factory Incorporated")],
        date="2024-03-18")
    meeting = newsie.Meeting(summary="Korea Battery Industry Association held a forum",
                             parties=[newsie.Party(name="Korea Battery Industry Association")])
    return [
        newsie.Extraction(source="/data/news/2024/03/very-long-folder-name/"
                          "931b9868e2739512-lead-and-abf-sign.txt", text="x", model="m",
                          events=[order, meeting]),
        newsie.Extraction(source="b.txt", text="x", model="m"),
        newsie.Failure(source="c.txt", error="EmptyArticleError",
                       message="c.txt: the article has no text after cleaning"),
    ]


@pytest.mark.parametrize("width", [80, 120])
def test_table_fits_the_terminal_and_keeps_summaries_whole(width: int) -> None:
    out = io.StringIO()
    print_table(_table_results(), Console(file=out, width=width))
    text = out.getvalue()
    assert all(cell_len(line) <= width for line in text.splitlines())
    assert "…" not in text
    words = text.split()
    for result in _table_results():
        for ev in getattr(result, "events", []):
            assert all(w in words for w in ev.summary.split())
    assert "no text after cleaning" in text and "(no events)" in text



def _custom_result() -> newsie.Extraction:
    expansion = Expansion(
        summary="Acme expands", company="Acme", site="Debrecen",
        capacity=newsie.Quantity(value=40, unit="GWh", text="40 GWh"),
        cost=newsie.Money(amount=2e9, currency="EUR", text="EUR 2 billion"))
    unknown = newsie.Event.model_validate(
        {"type": "price_change", "summary": "Acme cut prices", "product": "cells",
         "change": {"value": -5.0, "unit": "%", "text": "5%"}})
    order = newsie.Order(summary="o", quantity=newsie.Quantity(value=5, unit="GWh",
                                                               text="5 GWh"))
    return newsie.Extraction(source="a.txt", text="t", model="m",
                             events=[expansion, unknown, order])


def test_csv_has_a_column_per_field_of_the_types_present() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv([_custom_result()]))))
    expansion, unknown, order = rows
    assert expansion["type"] == "plant_expansion"
    assert (expansion["company"], expansion["site"]) == ("Acme", "Debrecen")
    assert (float(expansion["capacity_value"]), expansion["capacity_unit"]) == (40, "GWh")
    assert (float(expansion["cost_amount"]), expansion["cost_currency"]) == (2e9, "EUR")
    assert unknown["type"] == "price_change" and unknown["product"] == "cells"
    assert (float(unknown["change_value"]), unknown["change_unit"]) == (-5, "%")
    assert float(order["quantity_value"]) == 5 and order["value_amount"] == ""
    assert order["company"] == "" and expansion["buyer"] == ""  # each type's own, blank else
    header = next(csv.reader(io.StringIO(to_csv([_custom_result()]))))
    assert header[:3] == ["event_id", "status", "article"] and "fields" not in header
    assert len({r["event_id"] for r in rows}) == 3


def test_read_and_found_nothing_differs_from_never_read() -> None:
    results = _table_results()
    rows = list(csv.DictReader(io.StringIO(to_csv(results))))
    assert [(r["article"], r["status"]) for r in rows] == [
        (results[0].source, "event"), (results[0].source, "event"),
        ("b.txt", "no events"), ("c.txt", "failed")]
    assert "no text after cleaning" in rows[-1]["error"] and rows[-1]["type"] == ""


def test_event_ids_are_stable_across_runs() -> None:
    first = to_csv([_custom_result()])
    assert to_csv([_custom_result()]) == first


def test_table_shows_roles_and_quantity() -> None:
    out = io.StringIO()
    order = newsie.Order(summary="o", parties=[newsie.Party(name="Acme")], buyer="Acme",
                         supplier="Borealis",
                         quantity=newsie.Quantity(value=5, unit="GWh", text="5 GWh"))
    print_table([newsie.Extraction(source="a.txt", text="x", model="m", events=[order])],
                Console(file=out, width=120))
    text = out.getvalue()
    assert "buyer: Acme" in text and "supplier: Borealis" in text and "5 GWh" in text


def test_a_piped_table_does_not_wrap() -> None:
    from newsie.output.export import table_console

    out = io.StringIO()  # not a terminal, as when piped
    print_table(_table_results(), table_console(out))
    lines = out.getvalue().splitlines()
    assert any(cell_len(line) > 80 for line in lines)
    order = _table_results()[0].events[0]  # type: ignore[union-attr]
    assert any(order.summary in line for line in lines)  # on one line, whole


def test_summary_counts_events_of_every_type() -> None:
    summary = newsie.summarize([_custom_result()])
    assert summary.events == {"plant_expansion": 1, "price_change": 1, "order": 1}


def test_every_reader_of_result_files_names_the_bad_line(tmp_path: Path) -> None:
    from newsie.core.errors import ResultsFileError
    from newsie.output.export import read_results

    good = newsie.Failure(source="a.txt", error="EmptyArticleError", message="a.txt: empty")
    bad = tmp_path / "events.jsonl"
    bad.write_text(good.model_dump_json() + "\n\n" + '{"source": "b.txt", "events": "none"}\n')
    with pytest.raises(ResultsFileError, match=f"{bad}:3: not a newsie result line"):
        read_results(bad)
    with pytest.raises(ResultsFileError, match=f"{bad}:3"):
        newsie.evaluate(ROOT / "seeds" / "gold.jsonl", predictions=bad)
    bad.write_text(good.model_dump_json() + "\n")
    assert read_results(bad) == [good]


def test_the_log_holds_each_article_once(tmp_path: Path) -> None:
    from newsie.output.export import JsonlLog

    first = newsie.Extraction(source="/news/a.txt", text="Acme met Beta.", model="m")
    log = JsonlLog(tmp_path / "o.jsonl")
    assert log.write(first) and not log.write(first)
    log.close()
    again = JsonlLog(tmp_path / "o.jsonl")
    assert not again.write(first)
    assert again.write(first.model_copy(update={"text": "Acme met Beta twice."}))
    again.close()
    assert (tmp_path / "o.jsonl").read_text().count("\n") == 2
