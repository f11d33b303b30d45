"""The embedded server's life, with real processes (a stand-in server plays llama.cpp)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import newsie
from newsie import _local

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
ACME = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."

SCRIPT = f"""
import os, sys, time
from pathlib import Path
sys.path[:0] = [{str(TESTS)!r}, {str(ROOT / "src")!r}]
import newsie
from newsie import _local
_local.server_command = lambda model, port, threads: [
    sys.executable, {str(TESTS / "fakeserver.py")!r}, str(port)]
_local.model_path = lambda: Path(os.devnull)
result = newsie.extract({ACME!r}, cache=False)
print(_local._server.process.pid, len(result.events), flush=True)
mode = sys.argv[1]
if mode == "raise":
    raise RuntimeError("boom")
if mode == "sleep":
    time.sleep(120)
"""


def _gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as stat:  # a zombie is as good as gone
            if stat.read().split()[2] == "Z":
                return True
        time.sleep(0.1)
    return False


def _start(mode: str, tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "NEWSIE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("OPENAI_BASE_URL", None)
    proc = subprocess.Popen([sys.executable, str(script), mode], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    pid, events = (int(x) for x in line.split())
    assert events == 1
    return proc, pid


@pytest.mark.parametrize("mode", ["exit", "raise"])
def test_server_stops_when_the_process_ends(mode: str, tmp_path: Path) -> None:
    proc, pid = _start(mode, tmp_path)
    proc.wait(timeout=30)
    assert proc.returncode == (0 if mode == "exit" else 1)
    assert _gone(pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_server_stops_when_the_process_is_killed(sig: signal.Signals, tmp_path: Path) -> None:
    proc, pid = _start("sleep", tmp_path)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.returncode == -sig
    assert _gone(pid)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In this process: the stand-in server answers once, then exits (a crash)."""
    monkeypatch.setattr(_local, "server_command", lambda model, port, threads: [
        sys.executable, str(TESTS / "fakeserver.py"), str(port), "1"])
    monkeypatch.setattr(_local, "model_path", lambda: Path(os.devnull))
    monkeypatch.setattr(_local, "_server", None)
    monkeypatch.setattr(_local, "_restarts", 0)
    yield
    _local.shutdown()


def _wait_dead() -> None:
    server = _local._server
    assert server is not None
    server.process.wait(timeout=15)


def test_a_crashed_server_is_restarted_once_then_reported(stand_in: None) -> None:
    assert len(newsie.extract(ACME, cache=False).events) == 1
    _wait_dead()
    assert len(newsie.extract(ACME + " Again.", cache=False).events) == 1  # restarted
    _wait_dead()
    with pytest.raises(newsie.LocalModelError, match="crashed again"):
        newsie.extract(ACME + " Third.", cache=False)


def test_threads_share_one_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_local, "server_command", lambda model, port, threads: [
        sys.executable, str(TESTS / "fakeserver.py"), str(port)])
    monkeypatch.setattr(_local, "model_path", lambda: Path(os.devnull))
    monkeypatch.setattr(_local, "_server", None)
    try:
        results = list(newsie.extract_many([f"{ACME} {i}." for i in range(6)], concurrency=3,
                                           cache=False))
        assert all(isinstance(r, newsie.Extraction) and r.events for r in results)
        logs = list((Path(os.environ["NEWSIE_CACHE_DIR"]) / "logs").glob("*.log"))
        assert len(logs) == 1  # one server started, for all threads
    finally:
        _local.shutdown()
