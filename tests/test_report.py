from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsie
from newsie._report import render, segments
from newsie.cli import app

TEXT = "Acme met Beta in Oslo on May 4. Acme signed <b>a deal</b> with Beta."


def _result() -> newsie.Extraction:
    meet = newsie.Span(start=0, end=31, text=TEXT[0:31])
    deal = newsie.Span(start=32, end=len(TEXT), text=TEXT[32:])
    return newsie.Extraction(
        source="a.txt", title="Acme & Beta", published="2024-05-05", text=TEXT, model="m",
        events=[
            newsie.Meeting(summary="Acme held a meeting", date="2024-05-04",
                           parties=[newsie.Party(name="Acme")], evidence=[meet]),
            newsie.MoU(summary="Acme signed a deal with Beta", date="2024-05-05",
                       parties=[newsie.Party(name="Acme"), newsie.Party(name="Beta")],
                       evidence=[deal, meet]),
        ],
    )


def test_segments_cover_the_text_and_carry_types() -> None:
    parts = segments(_result())
    assert "".join(p["text"] for p in parts) == TEXT
    assert parts[0]["types"] == ["meeting", "mou"]


def test_article_text_is_escaped_not_rendered() -> None:
    page = render([_result()])
    assert "&lt;b&gt;a deal&lt;/b&gt;" in page and "<b>a deal</b>" not in page
    assert "Acme &amp; Beta" in page


def test_cli_writes_the_report(tmp_path: Path) -> None:
    results = tmp_path / "events.jsonl"
    failure = newsie.Failure(source="bad.txt", error="EmptyArticleError", message="no text")
    results.write_text(_result().model_dump_json() + "\n" + failure.model_dump_json() + "\n")
    out = tmp_path / "report.html"
    outcome = CliRunner().invoke(app, ["report", str(results), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    page = out.read_text()
    assert "bad.txt" in page and "Timeline by organization" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    out = newsie.write_report([_result()], tmp_path / "report.html")
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert dom.count('<mark class="ev-') >= 2
    assert 'class="ev-meeting multi"' in dom
    assert dom.count("<tr data-type=") == 2
    assert 'class="dot ev-mou"' in dom
