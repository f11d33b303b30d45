"""The API key never reaches cassettes, logs, exceptions, reprs, outputs or the report."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsie
from fakeserver import FakeModelServer, Reply, events_reply
from newsie.cli import app
from newsie.core.redact import redact, redact_url
from newsie.model.endpoint import Endpoint
from newsie.model.openai_backend import OpenAIBackend
from newsie.output.report import render

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
    seen += [repr(endpoint), str(endpoint), repr(OpenAIBackend(endpoint)), repr(extractor),
             repr(extractor.backend), repr(vars(extractor.backend)),
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


def test_a_key_at_the_cut_leaves_no_prefix_behind(fake_server: FakeModelServer) -> None:
    """Redact first, then cut: a key that straddles the cut is masked, not half shown."""
    # openai's message starts "Error code: 400 - {'error': {'message': '": 41 characters,
    # so the key straddles the 300th character of the message
    fake_server.script = [Reply(status=400, body={"error": {"message": "x" * 250 + SENTINEL}})]
    with pytest.raises(newsie.ServerError) as info:
        newsie.extract(ACME, base_url=fake_server.base_url, api_key=SENTINEL, cache=False)
    assert "xxxx" in str(info.value) and SENTINEL[:6] not in str(info.value)
    assert redact("x" * 290 + SENTINEL, [SENTINEL], limit=300) == "x" * 290 + "***"


USER_PASSWORD = "hunter2-pw-5e1f"
QUERY_KEY = "qk-secret-9d2c"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://alice:hunter2@host.example/v1", "https://host.example/v1"),
        ("https://sk-abc@host.example:8443/v1", "https://host.example:8443/v1"),
        ("https://h/v1?api-key=k1&api-version=2024", "https://h/v1?api-key=***&api-version=2024"),
        ("https://h/x?key=k&token=t&sig=s&X-Amz-Signature=a&page=2",
         "https://h/x?key=***&token=***&sig=***&X-Amz-Signature=***&page=2"),
        ("https://h/cb#access_token=t", "https://h/cb#access_token=***"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
    ],
)
def test_redact_url_strips_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact(f"failed: {url} (twice)") == f"failed: {shown} (twice)"


def test_credentials_in_a_base_url_are_shown_nowhere(
    fake_server: FakeModelServer, caplog: pytest.LogCaptureFixture, tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = fake_server.base_url.split(":")[2].split("/")[0]
    secret_url = f"http://alice:{USER_PASSWORD}@127.0.0.1:{port}/v1?api-key={QUERY_KEY}"
    dead_url = f"http://alice:{USER_PASSWORD}@127.0.0.1:9/v1?api-key={QUERY_KEY}"
    options = {"max_attempts": 2, "max_retry_seconds": 2, "cache": False}
    seen: list[str] = []

    fake_server.script = [GOOD]
    result = newsie.extract(ACME, base_url=secret_url, **options)  # type: ignore[arg-type]
    assert result.endpoint == f"http://127.0.0.1:{port}/v1?api-key=***"
    seen += [result.model_dump_json(), render([result])]

    fake_server.script = [Reply(status=500, body={"error": "x"})]
    with pytest.raises(newsie.ServerError) as info:
        newsie.extract(ACME + " Again.", base_url=secret_url, **options)  # type: ignore[arg-type]
    seen += [str(info.value), repr(info.value)]
    with pytest.raises(newsie.ServerUnreachableError) as unreachable:
        newsie.extract(ACME, base_url=dead_url, **options)  # type: ignore[arg-type]
    seen += [str(unreachable.value)]
    assert "cannot reach model server at http://127.0.0.1:9/v1" in str(unreachable.value)

    batch = list(newsie.extract_many([ACME + " Third."], base_url=dead_url, **options))
    assert isinstance(batch[0], newsie.Failure)
    seen += [r.model_dump_json() for r in batch]
    newsie.write_report([result, *batch], tmp_path / "report.html")
    seen.append((tmp_path / "report.html").read_text())

    with newsie.Extractor(base_url=secret_url, **options) as extractor:  # type: ignore[arg-type]
        backend = extractor.backend
        seen += [backend.endpoint, repr(backend), str(backend.cache_identity()),
                 repr(Endpoint(base_url=secret_url))]
    seen += [caplog.text] + [str(r.__dict__) for r in caplog.records]
    assert len(fake_server.requests) >= 2
    leaks = [s[:200] for s in seen if USER_PASSWORD in s or QUERY_KEY in s]
    assert leaks == []
