"""The embedded engine's life, with the real in-process llama.cpp server and model.

These tests need `newsie-events[local]` (the Makefile's test target installs it). They check the
server, not the model's judgement (the cassette tests do that): answers are cut short to keep
them quick, so a result may be an answer that did not fit the schema, but never an engine
failure.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import newsie
from newsie.model import engine as _local

pytest.importorskip("xllamacpp",
                    reason="needs the embedded engine: pip install 'newsie-events[local]'")

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent.parent
SHORT = [f"Acme Motors signed a supply agreement with Borealis Cells in Oslo ({i})."
         for i in range(8)]
#: Short answers and no re-asks: the server's life is under test, not the model's output.
QUICK = {"cache": False, "max_tokens": 24, "reasks": 0}


@pytest.fixture(scope="module")
def model_file() -> Path:
    try:
        return _local.model_path()
    except newsie.LocalModelError as exc:
        pytest.skip(f"the embedded model is not installed: {exc}")


@pytest.fixture
def engine(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh process-wide server for one test, stopped after it."""
    monkeypatch.setenv("NEWSIE_MODEL_PATH", str(model_file))
    _local.shutdown()
    yield
    _local.shutdown()


def _listening(base_url: str) -> bool:
    host, port = base_url.removeprefix("http://").split("/")[0].rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, int(port))) == 0


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _all_answered(results: list[newsie.Extraction | newsie.Failure]) -> None:
    """Every request reached the engine and got an answer back (fitting the schema or not)."""
    assert all(isinstance(r, newsie.Extraction) or r.error == "ModelOutputError"
               for r in results), results


def _answer(call: Callable[[], newsie.Extraction]) -> newsie.Extraction | newsie.Failure:
    try:
        return call()
    except newsie.ModelOutputError as exc:
        return newsie.Failure(source="<text>", error=type(exc).__name__, message=str(exc))


def test_batches_and_async_batches_share_one_server(engine: None) -> None:
    batches = [list(newsie.extract_many(SHORT[2 * i: 2 * i + 2], concurrency=2, **QUICK))
               for i in range(3)]
    # the first batch started the server inside a worker thread of its pool, now gone
    first = _local.ensure_server()
    handle = _local._handle

    async def gather() -> list[newsie.Extraction | newsie.Failure]:
        return [r async for r in newsie.aextract_many(SHORT[6:8], concurrency=2, **QUICK)]

    batches.append(asyncio.run(gather()))
    for batch in batches:
        _all_answered(batch)
    assert _local.ensure_server() is first and _local._handle is handle  # never restarted


def test_threads_and_an_event_loop_use_the_server_at_once(engine: None) -> None:
    results: list[newsie.Extraction | newsie.Failure] = []

    def worker(text: str) -> None:
        results.append(_answer(lambda: newsie.extract(text, **QUICK)))

    async def one(text: str) -> newsie.Extraction | newsie.Failure:
        try:
            return await newsie.aextract(text, **QUICK)
        except newsie.ModelOutputError as exc:
            return newsie.Failure(source=text, error=type(exc).__name__, message=str(exc))

    async def in_loop() -> list[newsie.Extraction | newsie.Failure]:
        return list(await asyncio.gather(*(one(t) for t in SHORT[2:4])))

    threads = [threading.Thread(target=worker, args=(t,)) for t in SHORT[:2]]
    for t in threads:
        t.start()
    results += asyncio.run(in_loop())
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 4
    _all_answered(results)


def test_shutdown_leaves_no_thread_or_port(engine: None) -> None:
    before = _threads()
    server = _local.ensure_server()
    assert _listening(server.base_url) and _threads() > before
    _local.shutdown()
    assert not _listening(server.base_url)
    assert _threads() <= before


def test_a_hung_generation_ends_as_a_local_model_error(engine: None) -> None:
    started = time.monotonic()
    with pytest.raises(newsie.LocalModelError, match=r"embedded engine.*timed out"):
        # a whole seed article cannot be read and answered in 0.5 s on any CPU
        newsie.extract(ROOT / "seeds" / "002_931b9868e2739512.txt", cache=False, timeout=0.5)
    assert time.monotonic() - started < 30
    # the abandoned request does not take the server down
    _all_answered([_answer(lambda: newsie.extract(SHORT[0], **QUICK))])


def test_a_model_file_that_will_not_load_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(newsie.LocalModelError, match=r"not-a-model\.gguf"):
        _local.start_server(bad, parallel=1, threads=1)


def test_newsie_model_path_serves_another_file(model_file: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "my-own-model.gguf"
    other.symlink_to(model_file)
    monkeypatch.setenv("NEWSIE_MODEL_PATH", str(other))
    _local.shutdown()
    try:
        result = newsie.extract(SHORT[0], cache=False, max_tokens=256)
        assert result.model == "my-own-model"
        assert _local.ensure_server().model_file == other
    finally:
        _local.shutdown()


def test_parallel_slots_follow_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSIE_PARALLEL", "3")
    assert _local.default_parallel() == 3
    monkeypatch.setenv("NEWSIE_PARALLEL", "many")
    with pytest.raises(newsie.LocalModelError, match="NEWSIE_PARALLEL"):
        _local.default_parallel()
    monkeypatch.delenv("NEWSIE_PARALLEL")
    assert 1 <= _local.default_parallel() <= 4


APP = f"""
import sys, time
sys.path[:0] = [{str(ROOT / "src")!r}]
from newsie.model import engine as _local
server = _local.ensure_server()
print(server.base_url, flush=True)
mode = sys.argv[1]
if mode == "raise":
    raise RuntimeError("boom")
if mode == "sleep":
    time.sleep(300)
"""


@pytest.mark.parametrize(("mode", "code"), [("exit", 0), ("raise", 1),
                                             ("sleep", -signal.SIGTERM)])
def test_the_port_is_freed_when_the_process_ends(
    mode: str, code: int, model_file: Path, tmp_path: Path
) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {**os.environ, "NEWSIE_MODEL_PATH": str(model_file)}
    proc = subprocess.Popen([sys.executable, str(script), mode], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    assert base_url.startswith("http://127.0.0.1:"), proc.communicate(timeout=240)
    if mode == "sleep":
        assert _listening(base_url)
        proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=240)  # generous: loading and stopping wait for a busy CPU
    assert proc.returncode == code
    assert not _listening(base_url)


ASSEMBLE = f"""
import hashlib, sys, time
from pathlib import Path
sys.path[:0] = [{str(ROOT / "src")!r}]
from newsie.model import engine as _local
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
    env.pop("NEWSIE_MODEL_PATH", None)
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
