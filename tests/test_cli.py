from __future__ import annotations

import json
from pathlib import Path

import pytest
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
    assert result.output.count(str(bad)) == 1  # "error: bad.txt: ...", not "bad.txt: bad.txt:"


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
