"""The CLI's files: `--out` never destroys what newsie did not write, one run at a time,
inputs streamed, and mistakes in paths and files are one line, exit 2 (issue 23)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from conftest import SEEDS
from fakeserver import FakeModelServer, Reply, events_reply
from newsie.cli import app
from newsie.output.destination import lock_path
from newsie.reading import article as article_module

runner = CliRunner()
ACME = "Acme Motors ordered 5 GWh of cells from Borealis Cells in Oslo."


def _extract(server: FakeModelServer, *args: str) -> Any:
    return runner.invoke(app, ["extract", *args, "--base-url", server.base_url, "-q"])


def _one_line_usage_error(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0]


# ---------------------------------------------------------------- item 1: --out is ours only


def test_out_refuses_a_single_complete_line_that_is_not_a_result(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"note": "my own line"}\n')
    result = runner.invoke(app, ["extract", str(SEEDS[0]), "--out", str(notes),
                                 "--base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and f"{notes}:1: not a newsie result line" in result.output
    assert notes.read_text() == '{"note": "my own line"}\n'


def test_out_drops_only_a_last_line_torn_before_its_newline(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    article, out = tmp_path / "a.txt", tmp_path / "o.jsonl"
    article.write_text(ACME)
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    with out.open("a") as log:
        log.write('{"source": "b.txt", "ev')  # killed mid-write
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    assert [json.loads(line)["text"] for line in out.read_text().splitlines()] == [ACME]


def test_out_that_is_an_input_is_refused_and_left_alone(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ACME)
    result = runner.invoke(app, ["extract", str(article), "--out", str(article),
                                 "--base-url", "http://127.0.0.1:9/v1"])
    _one_line_usage_error(result, "is also an input")
    assert article.read_text() == ACME
    inside = runner.invoke(app, ["extract", str(tmp_path), "--out", str(tmp_path / "o.txt"),
                                 "--format", "csv", "--base-url", "http://127.0.0.1:9/v1"])
    _one_line_usage_error(inside, "inside the input folder")
    assert not (tmp_path / "o.txt").exists()


@pytest.mark.parametrize("command", ["report", "link"])
def test_report_and_link_never_overwrite_the_results_they_read(
    tmp_path: Path, command: str
) -> None:
    results = tmp_path / "x.jsonl"
    results.write_text('{"source": "a", "error": "E", "message": "m"}\n')
    before = results.read_text()
    result = runner.invoke(app, [command, str(results), "--out", str(results)])
    _one_line_usage_error(result, "is also an input")
    assert results.read_text() == before


# ---------------------------------------------------------------- item 2: one run per --out


def test_a_second_run_on_the_same_out_is_refused_and_loses_nothing(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    article, out = tmp_path / "a.txt", tmp_path / "o.jsonl"
    article.write_text(ACME)
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    before = out.read_text()
    with FileLock(str(lock_path(out))):  # a first run still writing
        second = _extract(fake_server, str(article), "--out", str(out))
        _one_line_usage_error(second, str(out), "another newsie run")
        assert out.read_text() == before
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0


# ---------------------------------------------------------------- item 3: streamed inputs


def test_the_next_article_is_read_while_the_model_answers(
    fake_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(ACME)
    second_read = threading.Event()
    read = article_module.read_bytes

    def reading(path: Path, name: str, max_bytes: int) -> bytes:
        if path.name == "b.txt":
            second_read.set()
        return read(path, name, max_bytes)

    monkeypatch.setattr(article_module, "read_bytes", reading)
    seen_while_answering: list[bool] = []

    def respond(request: dict[str, Any]) -> Reply:
        if not seen_while_answering:  # the first request waits for b.txt to be read
            seen_while_answering.append(second_read.wait(5))
        return events_reply([])

    fake_server.responder = respond
    result = _extract(fake_server, str(tmp_path))
    assert result.exit_code == 0, result.output
    assert seen_while_answering == [True]


def test_a_resumed_run_does_not_read_an_unchanged_file_again(
    fake_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    article, out = tmp_path / "a.txt", tmp_path / "o.jsonl"
    article.write_text(ACME)
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    asked = len(fake_server.requests)
    read = article_module.read_bytes
    reads: list[str] = []

    def reading(path: Path, name: str, max_bytes: int) -> bytes:
        reads.append(path.name)
        return read(path, name, max_bytes)

    monkeypatch.setattr(article_module, "read_bytes", reading)
    again = runner.invoke(app, ["extract", str(article), "--out", str(out),
                                "--base-url", fake_server.base_url])
    assert again.exit_code == 0 and "1 articles already done" in again.output
    assert reads == [] and len(fake_server.requests) == asked
    os.utime(article, ns=(1, 1))  # touched, same text: read, known by its fingerprint
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    assert reads == ["a.txt"] and len(fake_server.requests) == asked
    assert len(out.read_text().splitlines()) == 1


# ---------------------------------------------------------------- item 4, 13: folders


def test_every_entry_of_a_folder_ends_as_a_result_or_a_named_failure(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "UPPER.TXT").write_text(ACME)
    (folder / "Page.HTML").write_text(f"<html><body><p>{ACME}</p></body></html>")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as odd:
        odd.write(ACME.encode())
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    result = _extract(fake_server, str(folder))
    assert result.exit_code == 1  # the loop failed, and says so
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(Path(r["source"]).name for r in records) == sorted(
        ["UPPER.TXT", "Page.HTML", "caf\\xe9.txt", "loop.txt"])
    [loop] = [r for r in records if r["source"].endswith("loop.txt")]
    assert loop["error"] == "MalformedArticleError" and "symbolic links" in loop["message"]
    assert f"error: {folder / 'loop.txt'}" in result.output


def test_a_folder_with_no_article_says_what_it_skipped_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    result = runner.invoke(app, ["extract", str(tmp_path), "--base-url",
                                 "http://127.0.0.1:9/v1", "-q"])
    assert result.exit_code == 1
    assert "no article file" in result.output
    assert "photo.png" in result.output and "sub/" in result.output


# ---------------------------------------------------------------- item 13: usage errors


@pytest.mark.parametrize("where", ["folder", "binary", "missing folder"])
def test_an_out_that_cannot_be_written_is_one_line_exit_2(tmp_path: Path, where: str) -> None:
    out = {"folder": tmp_path, "binary": tmp_path / "some.bin",
           "missing folder": tmp_path / "nope" / "o.jsonl"}[where]
    if where == "binary":
        out.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(app, ["extract", str(SEEDS[0]), "--out", str(out),
                                 "--base-url", "http://127.0.0.1:9/v1"])
    _one_line_usage_error(result, str(out))
    if where == "binary":
        assert out.read_bytes() == bytes(range(256)) * 4


def test_a_non_utf8_aliases_file_is_no_traceback(tmp_path: Path) -> None:
    results = tmp_path / "x.jsonl"
    results.write_text('{"source": "a", "error": "E", "message": "m"}\n')
    aliases = tmp_path / "aliases.csv"
    aliases.write_bytes("Soci\u00e9t\u00e9 G\u00e9n\u00e9rale,SocGen\n".encode("cp1252"))
    result = runner.invoke(app, ["link", str(results), "--aliases", str(aliases)])
    assert "Traceback" not in result.output
    if result.exit_code != 0:  # refused (or decoded, where charset-normalizer reads it)
        _one_line_usage_error(result, str(aliases))


@pytest.mark.parametrize(
    ("content", "line"),
    [("source,type\na.txt,order\n", 1),
     ('{"id": "g1", "events": []}\n{"events": []}\n', 2)],
)
def test_eval_predictions_name_the_file_and_the_line(
    tmp_path: Path, content: str, line: int
) -> None:
    predictions = tmp_path / "events.csv"
    predictions.write_text(content)
    result = runner.invoke(app, ["eval", str(SEEDS[0].parent / "gold.jsonl"),
                                 "--predictions", str(predictions)])
    _one_line_usage_error(result, f"{predictions}:{line}")
