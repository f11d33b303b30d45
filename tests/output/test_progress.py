"""Knowing what is happening: progress where someone watches, and Ctrl-C that stops at once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import newsie
from fakeserver import FakeModelServer, Reply, completion
from newsie.model import engine
from newsie.output.progress import STARTING, BatchProgress
from newsie.testing import FakeBackend

ROOT = Path(__file__).resolve().parents[2]
FIRST = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
SECOND = "On May 5, Zephyr Motors signed a supply agreement with Borealis Cells in Bergen."
EVENTS = ('{"events":[{"type":"order","sent":[1],"buyer":"Acme Motors",'
          '"supplier":"Borealis Cells","people":[],"quantity":"5 GWh"}]}')


def test_a_stopped_batch_does_not_wait_for_the_generation_under_way() -> None:
    release = threading.Event()

    def answer(messages: Any, model: Any) -> dict[str, Any]:
        if "Zephyr" in str(messages):
            release.wait(10)  # the model busy with the second article
        return {"events": []}

    stream = newsie.extract_many([FIRST, SECOND], backend=FakeBackend(answer), concurrency=2,
                                 cache=False, progress=False)
    try:
        assert next(stream).source.startswith("text:")
        started = time.monotonic()
        stream.close()  # what Ctrl-C in a notebook, or a `break`, does
        assert time.monotonic() - started < 2
    finally:
        release.set()


def test_extract_many_shows_a_tqdm_bar_when_asked_and_none_when_no_one_watches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = FakeBackend(lambda messages, model: {"events": []})
    assert len(list(newsie.extract_many([FIRST, SECOND], backend=backend, cache=False))) == 2
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: no bar
    list(newsie.extract_many([FIRST, SECOND], backend=backend, cache=False, progress=True))
    err = capsys.readouterr().err
    assert "2/2" in err and "article" in err


def test_the_cli_bar_has_an_eta_names_the_article_and_says_when_the_model_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    seen: list[str] = []
    server = engine.EmbeddedServer(base_url="http://127.0.0.1:9/v1", model="m",
                                   model_file=tmp_path / "m.gguf", parallel=1, threads=1)

    def start_server(*args: Any, **kwargs: Any) -> tuple[None, engine.EmbeddedServer]:
        seen.append(bar._bar.tasks[0].description)
        return None, server

    monkeypatch.setattr(engine, "_server", None)
    monkeypatch.setattr(engine, "_failure", None)
    monkeypatch.setattr(engine, "model_path", lambda: tmp_path / "m.gguf")
    monkeypatch.setattr(engine, "start_server", start_server)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with BatchProgress(console, ["/news/first-story.html", "/news/second.html"],
                       enabled=True) as bar:
        assert bar._bar.tasks[0].description == "first-story.html"
        engine.ensure_server()
        assert seen == [STARTING]
        assert bar._bar.tasks[0].description == "first-story.html"
        bar.advance(newsie.Extraction(source="/news/first-story.html", text="x", model="m"))
        assert bar._bar.tasks[0].description == "second.html"
        bar._bar.refresh()
    assert "eta" in out.getvalue() and "1/2" in out.getvalue()
    assert engine.start_listeners == []


def _articles(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:02d}.txt").write_text(
            f"Acme Motors ordered 5 GWh of cells from Borealis Cells, deal number {i}.")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child")
def test_ctrl_c_stops_at_once_keeps_what_is_done_and_says_how_to_resume(
    fake_server: FakeModelServer, tmp_path: Path,
) -> None:
    fake_server.script = [Reply(body=completion(EVENTS)), Reply(body=completion(EVENTS),
                                                                delay=20)]
    folder = tmp_path / "articles"
    _articles(folder, 3)
    out = tmp_path / "events.jsonl"
    env = {**os.environ, "NEWSIE_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsie", "extract", str(folder), "--out", str(out),
         "--base-url", fake_server.base_url, "--no-cache"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120  # a loaded machine starts Python slowly
    while time.monotonic() < deadline and not (
            len(fake_server.requests) >= 2 and out.is_file() and out.read_text().endswith("\n")):
        time.sleep(0.05)  # the first article is saved; the second is being generated
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=15)
    assert time.monotonic() - started < 5  # not the 20 s the generation takes
    assert proc.returncode == 130
    message = err.decode()
    assert out.read_text().count("\n") == 1, message
    assert "stopped: 1 of 3 articles done" in message
    assert "run the same command again to resume" in message and "Traceback" not in message
