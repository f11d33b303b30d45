from __future__ import annotations

import gc
import hashlib
import multiprocessing
import sys
import time
import weakref
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from newsie import LocalModelError
from newsie.model import engine as _local


def _parts(tmp_path: Path) -> tuple[list[Path], str]:
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 5000, b"b" * 7000, b"c" * 11]):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        parts.append(p)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    return parts, digest


def test_parts_are_assembled_in_order(tmp_path: Path) -> None:
    parts, digest = _parts(tmp_path)
    target = tmp_path / "model.gguf"
    _local.assemble_model(target, parts, digest)
    assert target.read_bytes() == b"".join(p.read_bytes() for p in parts)


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path)
    target = tmp_path / "model.gguf"
    with pytest.raises(LocalModelError, match="sha256"):
        _local.assemble_model(target, parts, "0" * 64)
    assert not target.exists()
    assert not list(tmp_path.glob("model.gguf*.part"))


def test_model_path_override_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSIE_MODEL_PATH", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalModelError, match="NEWSIE_MODEL_PATH"):
        _local.model_path()
    real = tmp_path / "mine.gguf"
    real.write_bytes(b"GGUF")
    monkeypatch.setenv("NEWSIE_MODEL_PATH", str(real))
    assert _local.model_path() == real


def _broken_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """`start_server` fails as a model that will not load does; returns its calls."""
    calls: list[Path] = []

    def start_server(model_file: Path, *, parallel: int, threads: int) -> Any:
        calls.append(model_file)
        time.sleep(0.5)  # a real failed start takes far longer
        raise LocalModelError(f"the engine could not load {model_file.name}: boom")

    monkeypatch.setattr(_local, "start_server", start_server)
    monkeypatch.setattr(_local, "model_path", lambda: tmp_path / "broken.gguf")
    monkeypatch.setattr(_local, "_server", None)
    monkeypatch.setattr(_local, "_handle", None)
    monkeypatch.setattr(_local, "_failure", None, raising=False)
    return calls


def test_a_failed_start_fails_every_later_call_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _broken_engine(monkeypatch, tmp_path)
    with pytest.raises(LocalModelError, match=r"could not load broken\.gguf: boom"):
        _local.ensure_server()
    started = time.monotonic()
    for _ in range(3):
        with pytest.raises(LocalModelError, match=r"could not load broken\.gguf: boom"):
            _local.ensure_server()
    assert time.monotonic() - started < 0.5
    assert len(calls) == 1
    _local.shutdown()  # an explicit shutdown forgets the failure: the next call tries again
    with pytest.raises(LocalModelError):
        _local.ensure_server()
    assert len(calls) == 2


def test_a_half_started_engine_is_never_dropped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handles: list[weakref.ref[Any]] = []

    class Server:  # xllamacpp.Server: its server comes up, but never answers
        def __init__(self, params: Any) -> None:
            self.listening_address = "http://127.0.0.1:1"
            handles.append(weakref.ref(self))

    class Params:
        def __init__(self) -> None:
            self.model, self.cpuparams, self.cpuparams_batch = (
                SimpleNamespace(), SimpleNamespace(), SimpleNamespace())

    monkeypatch.setitem(sys.modules, "xllamacpp",
                        SimpleNamespace(Server=Server, CommonParams=Params))

    def no_answer(address: str, model_file: Path) -> None:
        raise LocalModelError("the embedded engine loaded it but does not answer")

    monkeypatch.setattr(_local, "_first_answer", no_answer)
    with pytest.raises(LocalModelError, match="does not answer"):
        _local.start_server(tmp_path / "m.gguf", parallel=1, threads=1)
    gc.collect()
    assert len(handles) == 1 and handles[0]() is not None  # still referenced: never freed


def _report_child_state(queue: Any, handle: object) -> None:
    free = _local._lock.acquire(timeout=2)
    queue.put((free, _local._server, _local._handle,
               any(h is handle for h in getattr(_local, "_stranded", []))))


def test_a_forked_child_gets_a_free_lock_and_starts_its_own_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handle = object()
    server = _local.EmbeddedServer(base_url="http://127.0.0.1:1/v1", model="m",
                                   model_file=tmp_path / "m.gguf", parallel=1, threads=1)
    monkeypatch.setattr(_local, "_server", server)
    monkeypatch.setattr(_local, "_handle", handle)
    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    with _local._lock:  # another thread of the parent is inside ensure_server at fork time
        child = context.Process(target=_report_child_state, args=(queue, handle))
        child.start()
    child.join(30)
    assert child.exitcode == 0
    assert queue.get() == (True, None, None, True)  # the parent's handle kept, not freed
    assert _local._server is server and _local._handle is handle  # the parent's untouched
