from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from conftest import SEEDS
from fakeserver import FakeModelServer, events_reply
from newsie.cli import app

runner = CliRunner()


def test_help_explains_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "extract" in result.output


def test_missing_path_is_a_usage_error() -> None:
    result = runner.invoke(app, ["extract", "/no/such/article.txt"])
    assert result.exit_code == 2 and "no such file" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "no text"), (b"\x00\x01\x02binary" * 100, "binary")],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    result = runner.invoke(
        app, ["extract", str(bad), "--base-url", "http://127.0.0.1:9/v1", "--format", "csv"]
    )
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert result.stderr.count(str(bad)) == 1  # "error: bad.txt: ...", not "bad.txt: bad.txt:"
    assert [r["status"] for r in csv.DictReader(result.stdout.splitlines())] == ["failed"]


def test_unreachable_server_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-sentinel-0123456789abcdef")
    result = runner.invoke(
        app, ["extract", str(SEEDS[2]), "--base-url", "http://127.0.0.1:9/v1", "-q"]
    )
    assert result.exit_code == 1
    assert "cannot reach model server" in result.output
    assert "Traceback" not in result.output and "sk-cli-sentinel" not in result.output


def test_folder_to_jsonl_one_line_per_article(fake_server: FakeModelServer) -> None:
    fake_server.script = [events_reply([])]
    result = runner.invoke(
        app, ["extract", str(SEEDS[0].parent), "--base-url", fake_server.base_url, "-q"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["source"]).name for r in lines] == [p.name for p in SEEDS]
    assert all({"source", "title", "published", "events", "usage", "model"} <= r.keys()
               for r in lines)


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--engine", "ray"], "--out FOLDER"),
     (["--engine", "ray", "--out", "x", "--format", "csv"], "--out FOLDER"),
     (["--format", "parquet"], "--format parquet needs --engine ray")],
)
def test_engine_and_format_must_fit(extra: list[str], message: str) -> None:
    result = runner.invoke(app, ["extract", str(SEEDS[0]), *extra])
    assert result.exit_code == 2 and message in result.output


ACME = "Acme Motors ordered 5 GWh of cells from Borealis Cells in Oslo."


def _extract(server: FakeModelServer, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, ["extract", *args, "--base-url", server.base_url, "-q"],
                         input=stdin)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_resume_does_not_skip_a_different_article_on_stdin(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    out = tmp_path / "o.jsonl"
    assert _extract(fake_server, "-", "--out", str(out), stdin=ACME).exit_code == 0
    other = "Borealis Cells met Acme Motors in Bergen."
    assert _extract(fake_server, "-", "--out", str(out), stdin=other).exit_code == 0
    assert _extract(fake_server, "-", "--out", str(out), stdin=ACME).exit_code == 0
    assert [(r["source"], r["text"]) for r in _lines(out)] == [
        ("<stdin>", ACME), ("<stdin>", other)]


def test_resume_knows_a_file_however_its_path_is_written(
    fake_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(ACME)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "o.jsonl"
    for name in ("a.txt", "./a.txt", "sub/../a.txt", str(tmp_path / "a.txt")):
        assert _extract(fake_server, name, "--out", str(out)).exit_code == 0
    assert [r["source"] for r in _lines(out)] == [str(tmp_path.resolve() / "a.txt")]


def test_resume_extracts_a_file_again_when_its_text_changed(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    article, out = tmp_path / "a.txt", tmp_path / "o.jsonl"
    article.write_text(ACME)
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    article.write_text(ACME + " The first cells ship in May.")
    assert _extract(fake_server, str(article), "--out", str(out)).exit_code == 0
    assert [r["text"] for r in _lines(out)] == [ACME, ACME + " The first cells ship in May."]


def test_out_refuses_a_file_that_is_not_a_result_log(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"id": "g1", "events": 3}\n{"id": "g2"}\n')
    before = notes.read_text()
    result = runner.invoke(app, ["extract", str(SEEDS[0]), "--out", str(notes),
                                 "--base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and f"{notes}:1: not a newsie result line" in result.output
    assert notes.read_text() == before


def test_process_substitution_is_read_as_the_stream_it_names(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fifo = tmp_path / "fd63"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as stream:  # blocks until newsie opens it
            stream.write(ACME.encode())

    threading.Thread(target=writer, daemon=True).start()
    result = _extract(fake_server, str(fifo))
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert (line["source"], line["text"]) == (str(fifo), ACME)


def test_published_dates_a_single_article(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ACME)
    result = _extract(fake_server, str(article), "--published", "March 5, 2024")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["published"] == "2024-03-05"
    piped = _extract(fake_server, "-", "--published", "2024-03-06", stdin=ACME)
    assert json.loads(piped.stdout)["published"] == "2024-03-06"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["a.txt", "--published", "sometime"], "'sometime'"),
     (["a.txt", "b.txt", "--published", "2024-03-05"], "one article; 2 were given"),
     (["feed.jsonl", "--published", "2024-03-05"], "per line")],
)
def test_published_is_for_one_article_with_a_real_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a.txt", "b.txt", "feed.jsonl"):
        (tmp_path / name).write_text(ACME)
    result = runner.invoke(app, ["extract", *args, "--base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and message in result.output


def test_a_feed_on_the_command_line_gives_one_line_per_article(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": ACME, "url": "https://news.example/1"}) + "\n"
                    + "not json\n"
                    + json.dumps({"text": ACME + " Again.", "published": "2024-05-06"}) + "\n")
    result = _extract(fake_server, str(feed))
    assert result.exit_code == 1  # one line failed, and says where
    assert f"error: {feed}:2: not a JSON object" in result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(r["source"], r.get("published")) for r in lines] == [
        ("https://news.example/1", None), (f"{feed}:2", None), (f"{feed}:3", "2024-05-06")]


def test_report_names_the_line_that_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "events.jsonl"
    bad.write_text('{"source": "a", "error": "E", "message": "m"}\n{"oops": 1}\n')
    for command in (["report", str(bad)], ["link", str(bad)],
                    ["eval", str(SEEDS[0].parent / "gold.jsonl"), "--predictions", str(bad)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2 and f"{bad}:2: not a newsie result line" in result.output


ORDER = {"type": "order", "sent": [1], "buyer": "Acme Motors", "supplier": "Borealis Cells",
         "people": [], "quantity": "5 GWh"}


@pytest.mark.parametrize("existing", [False, True])
def test_out_takes_its_format_from_the_suffix(
    fake_server: FakeModelServer, tmp_path: Path, existing: bool
) -> None:
    fake_server.responder = lambda request: events_reply([ORDER])
    out = tmp_path / "events.csv"
    if existing:  # a CSV from an earlier run is overwritten, not refused as a bad log
        out.write_text("event_id,status\n")
    article = tmp_path / "a.txt"
    article.write_text(ACME)
    result = _extract(fake_server, str(article), "--out", str(out), "--no-cache")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["buyer"], r["quantity_unit"]) for r in rows] == [("Acme Motors", "GWh")]


def test_format_given_wins_over_the_suffix(fake_server: FakeModelServer, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    result = _extract(fake_server, "-", "--out", str(out), "--format", "jsonl", stdin=ACME)
    assert result.exit_code == 0, result.output
    assert _lines(out)[0]["source"] == "<stdin>"


def test_parquet_is_offered_with_the_engine_that_writes_it() -> None:
    help_text = " ".join(runner.invoke(app, ["extract", "--help"]).output.split())
    assert "parquet: with --engine ray" in help_text.replace("│ ", "")
    result = runner.invoke(app, ["extract", str(SEEDS[0]), "--out", "x.parquet"])
    assert result.exit_code == 2 and "--format parquet needs --engine ray" in result.output
