from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import newsie
from newsie.cli import app
from newsie.output.report import render, segments

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
    assert '<tr data-id="' in page  # the results were linked for the timeline


def _linked_pair() -> tuple[list[newsie.Extraction], list[newsie.LinkedEvent]]:
    second_text = "Beta Cells (BC) and Acme Inc. sealed their deal on May 6."
    second = newsie.Extraction(
        source="b.txt", title="Beta seals deal", published="2024-05-06", text=second_text,
        model="m", events=[newsie.MoU(
            summary="Acme signed a deal with Beta Cells", date="2024-05-06",
            parties=[newsie.Party(name="Acme Inc."), newsie.Party(name="BC")],
            evidence=[newsie.Span(start=0, end=len(second_text), text=second_text)])])
    aliases = {"Beta": ["Beta Cells", "BC"]}
    results = [_result(), second]
    return results, newsie.link(results, aliases=aliases)


def test_timeline_lists_each_organizations_linked_events_in_date_order() -> None:
    pytest.importorskip("splink")
    results, linked = _linked_pair()
    page = render(results, linked=linked)
    acme = page[page.index("<h3>Acme</h3>"):page.index("</section>", page.index("<h3>Acme</h3>"))]
    assert acme.index("2024-05-04") < acme.index("2024-05-05")  # date order
    assert "2 reports linked" in acme and "Beta" in acme  # the counterparty, by one name
    # evidence links point at the highlighted evidence of each source in this page
    for target in ('href="#a0-32"', 'href="#a1-0"'):
        assert target in acme
    assert 'id="a0-32"' in page and 'id="a1-0"' in page


def test_timeline_dataframe() -> None:
    pytest.importorskip("splink")
    pytest.importorskip("pandas")
    _, linked = _linked_pair()
    frame = newsie.timeline(linked, org="ACME INC")
    assert list(frame["date"]) == ["2024-05-04", "2024-05-05"]
    assert list(frame["type"]) == ["meeting", "mou"]
    assert frame.iloc[1]["counterparties"] == ["Beta"]
    assert frame.iloc[1]["sources"] == ["a.txt", "b.txt"]
    assert frame.iloc[1]["evidence"][0].startswith("a.txt [32:")
    assert newsie.timeline(linked, org="Nobody").empty


def test_cli_report_reads_a_linked_file(tmp_path: Path) -> None:
    pytest.importorskip("splink")
    results, linked = _linked_pair()
    events, saved = tmp_path / "events.jsonl", tmp_path / "linked.jsonl"
    events.write_text("".join(r.model_dump_json() + "\n" for r in results))
    saved.write_text("".join(e.model_dump_json() + "\n" for e in linked[:1]))
    out = tmp_path / "report.html"
    outcome = CliRunner().invoke(app, ["report", str(events), "--linked", str(saved),
                                       "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert out.read_text().count('<tr data-id="') == len(linked[0].parties)


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
    assert 'class="ev-0 multi"' in dom  # meeting, the page's first type
    assert dom.count("<tr data-type=") == 2
    assert 'class="org-timeline"' in dom


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed")
def test_timeline_screenshot_is_a_real_picture(tmp_path: Path) -> None:
    pytest.importorskip("splink")
    results, linked = _linked_pair()
    page = newsie.write_report(results, tmp_path / "report.html", linked=linked)
    shot = tmp_path / "timeline.png"
    _chromium(f"--screenshot={shot}", "--window-size=1100,900", page.as_uri(),
              profile=tmp_path / "profile")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1100, 900)
    pixels = _decode_png(png)
    assert len(set(pixels)) > 20  # text, highlights and the timeline, not a blank page
    if os.environ.get("NEWSIE_SCREENSHOT"):  # keep a copy for the docs
        Path(os.environ["NEWSIE_SCREENSHOT"]).write_bytes(png)


def _decode_png(png: bytes) -> list[bytes]:
    """The distinct pixels of an 8-bit RGB/RGBA PNG (what Chromium writes), row filters
    ignored: enough to tell a blank page from a drawn one."""
    data = b"".join(png[i + 8: i + 8 + struct.unpack(">I", png[i:i + 4])[0]]
                    for i in _chunks(png, b"IDAT"))
    raw = zlib.decompress(data)
    return [raw[i:i + 3] for i in range(0, len(raw) - 3, 97)]


def _chunks(png: bytes, kind: bytes) -> list[int]:
    found, i = [], 8
    while i < len(png):
        length = struct.unpack(">I", png[i:i + 4])[0]
        if png[i + 4:i + 8] == kind:
            found.append(i)
        i += 12 + length
    return found
