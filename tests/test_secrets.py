"""The API key never reaches cassettes, logs, exceptions, reprs, outputs or the report."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsie
from fakeserver import FakeModelServer, Reply, events_reply
from newsie._llm import Endpoint, ModelClient
from newsie._report import render
from newsie.cli import app

SENTINEL = "sk-sentinel-7f3a9c2e5b1d4f6a8c0e"
ROOT = Path(__file__).resolve().parents[1]
ACME = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
GOOD = events_reply([{"type": "mou", "sent": [1], "parties": ["Acme Motors"], "people": []}])
ECHO = Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {SENTINEL}"}})


def test_the_key_appears_nowhere(
    fake_server: FakeModelServer, caplog: pytest.LogCaptureFixture, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    options = {"base_url": fake_server.base_url, "api_key": SENTINEL, "max_attempts": 2,
               "max_retry_seconds": 2, "cache": False}

    fake_server.script = [Reply(status=500, body={"error": "x"}), GOOD]
    result = newsie.extract(ACME, **options)  # type: ignore[arg-type]
    seen += [result.model_dump_json(), repr(result), render([result])]

    fake_server.script = [ECHO]
    with pytest.raises(newsie.ServerError) as info:
        newsie.extract(ACME + " Again.", **options)  # type: ignore[arg-type]
    seen += [str(info.value), repr(info.value)]

    batch = list(newsie.extract_many([ACME + " Third.", ""], **options))
    seen += [r.model_dump_json() for r in batch]
    newsie.write_report(batch, tmp_path / "report.html")
    seen.append((tmp_path / "report.html").read_text())

    endpoint = Endpoint(base_url=fake_server.base_url, api_key=SENTINEL)
    extractor = newsie.Extractor(**options)  # type: ignore[arg-type]
    seen += [repr(endpoint), str(endpoint), repr(ModelClient(endpoint)), repr(extractor),
             repr(vars(extractor))]

    out = tmp_path / "events.jsonl"
    cli = CliRunner().invoke(app, ["extract", "-", "--out", str(out), "--base-url",
                                   fake_server.base_url], input=ACME + " Fourth.",
                             env={"OPENAI_API_KEY": SENTINEL})
    seen += [cli.output, out.read_text()]

    captured = capsys.readouterr()
    seen += [captured.out, captured.err, caplog.text]
    seen += [str(r.__dict__) for r in caplog.records]
    assert len(fake_server.requests) >= 5  # the key really was sent, and used
    assert all(h["authorization"] == f"Bearer {SENTINEL}" for h in fake_server.headers)
    leaks = [s[:200] for s in seen if SENTINEL in s]
    assert leaks == []


def test_no_cassette_holds_a_credential() -> None:
    pattern = re.compile(r"authorization:|api[_-]?key|sk-[A-Za-z0-9_-]{16,}|bearer ", re.I)
    files = list((ROOT / "cassettes").rglob("*.yaml"))
    assert files, "the cassettes are missing"
    offenders = [str(f) for f in files if pattern.search(f.read_text())]
    assert offenders == []
