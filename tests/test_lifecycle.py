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
print(_local._servers[0].process.pid, len(result.events), flush=True)
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
    monkeypatch.setattr(_local, "_servers", {})
    monkeypatch.setattr(_local, "_restarts", {})
    yield
    _local.shutdown()


def _wait_dead() -> None:
    _local._servers[0].process.wait(timeout=15)


def test_a_crashed_server_is_restarted_once_then_reported(stand_in: None) -> None:
    assert len(newsie.extract(ACME, cache=False).events) == 1
    _wait_dead()
    assert len(newsie.extract(ACME + " Again.", cache=False).events) == 1  # restarted
    _wait_dead()
    with pytest.raises(newsie.LocalModelError, match="crashed again"):
        newsie.extract(ACME + " Third.", cache=False)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: one slot")
@pytest.mark.parametrize("concurrency", [1, 2])
def test_concurrent_articles_use_parallel_slots(
    concurrency: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each stand-in server takes 0.5 s per answer, like a slow model
    monkeypatch.setattr(_local, "server_command", lambda model, port, threads: [
        sys.executable, str(TESTS / "fakeserver.py"), str(port), "0", "0.5"])
    monkeypatch.setattr(_local, "model_path", lambda: Path(os.devnull))
    monkeypatch.setattr(_local, "_servers", {})
    try:
        newsie.extract(ACME, cache=False)  # start slot 0 outside the timing
        started = time.monotonic()
        results = list(newsie.extract_many([f"{ACME} {i}." for i in range(6)],
                                           concurrency=concurrency, cache=False))
        elapsed = time.monotonic() - started
        assert all(isinstance(r, newsie.Extraction) and r.events for r in results)
        assert len(_local._servers) == concurrency
        if concurrency == 2:
            assert elapsed < 6 * 0.5  # served side by side, not one behind the other
    finally:
        _local.shutdown()


ASSEMBLE = f"""
import hashlib, sys, time
from pathlib import Path
sys.path[:0] = [{str(ROOT / "src")!r}]
from newsie import _local
parts = sorted(Path(sys.argv[1]).glob("part*.bin"))
_local.MODEL_PARTS = len(parts)
_local.MODEL_SHA256 = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
_local._part_file = lambda i: parts[i - 1]
real = _local.assemble_model
def slow(target, parts, sha):
    with open(sys.argv[2], "a") as log:
        log.write("assembled\\n")
    time.sleep(1)  # widen the window in which a second process could race
    real(target, parts, sha)
_local.assemble_model = slow
print(_local.model_path(), flush=True)
"""


def test_two_processes_assemble_the_model_once(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        (parts / f"part{i:02d}.bin").write_bytes(bytes([i]) * 100_000)
    script = tmp_path / "assemble.py"
    script.write_text(ASSEMBLE)
    log = tmp_path / "assembled.log"
    env = {**os.environ, "NEWSIE_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, str(script), str(parts), str(log)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outputs[0] == outputs[1]
    model = Path(outputs[0])
    assert model.read_bytes() == b"".join((parts / f"part{i:02d}.bin").read_bytes()
                                          for i in range(3))
    assert log.read_text().count("assembled") == 1
    assert not list(model.parent.glob("*.part"))


def test_two_processes_each_get_their_own_server(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "NEWSIE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("OPENAI_BASE_URL", None)
    procs = [subprocess.Popen([sys.executable, str(script), "exit"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    pids = [int(out.split()[0]) for out, _ in outs]
    assert pids[0] != pids[1]
    assert all(out.split()[1] == "1" for out, _ in outs)
