"""Never pay twice for the same model answer.

The cache sits at the model call: its key covers the rendered messages (article text
and template), what the caller adds (the templates' digest, the response schema, the
generation parameters), the server that answers (`identity`) and the schema version, so
changing any of them misses. Grounding and normalization always run again, so their fixes
reach cached articles too.

Answers are stored as JSON text, never as pickles: a cache directory others can write to
(a shared `NEWSIE_CACHE_DIR`) must not run their code in every process that reads it.
diskcache's `JSONDisk` is not enough: each row records its own serialization, and a row
that says "pickle" is unpickled whatever Disk reads it. So the Disk here reads only JSON
text kept in the database row itself, and anything else is a miss.

A cache that cannot be used (a read-only or missing directory, a path that is a file, a
database overwritten with garbage) is a `CacheWarning`, and the run goes on without it:
a cache only saves time, it must never cost an extraction. `clear` resets a corrupt one.

One worker thread owns the sqlite connection: diskcache opens one per thread and closes
only the caller's, so connections opened by the threads of a pool would stay open until
garbage collection. With one owner, `close` releases every handle the cache opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import diskcache
from diskcache.core import MODE_RAW

from ..core.errors import CacheWarning
from ..events import SCHEMA_VERSION
from .engine import cache_dir

R = TypeVar("R")

#: What a cache that cannot be used raises: the file system's errors and sqlite's.
_UNUSABLE = (OSError, sqlite3.Error)
#: The files diskcache keeps its database in; `clear` removes them when they are corrupt.
_DB_FILES = ("cache.db", "cache.db-wal", "cache.db-shm")

#: Answers are a few kilobytes: kept in the database row, never in a file beside it.
_INLINE_BYTES = 2**30


def default_location() -> Path:
    return cache_dir() / "responses"


class _JsonTextDisk(diskcache.Disk):  # type: ignore[misc]  # diskcache has no type hints
    """diskcache's Disk with every pickle and file path shut.

    Keys and values are `str` (JSON text) kept in the row. A row that holds anything else,
    whoever wrote it, reads as `None` (a miss): pickles are never loaded, and file names
    from the database are never opened, nor deleted outside the cache directory.
    """

    def put(self, key: Any) -> tuple[Any, bool]:
        if not isinstance(key, str):
            raise TypeError("cache keys are text")
        return super().put(key)  # type: ignore[no-any-return]

    def get(self, key: Any, raw: bool) -> Any:
        return key if raw and isinstance(key, str) else None

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> Any:
        if read or not isinstance(value, str):
            raise TypeError("cache values are JSON text")
        return super().store(value, read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        return value if mode == MODE_RAW and filename is None and isinstance(value, str) else None

    def remove(self, file_path: str) -> None:
        base = os.path.realpath(self._directory)
        target = os.path.realpath(os.path.join(base, file_path))
        if target != base and os.path.commonpath([base, target]) == base:
            super().remove(file_path)


class ResponseCache:
    """A process- and thread-safe on-disk map from request to model answer (diskcache).

    When the directory cannot be used, every read is a miss and every write is dropped,
    after one `CacheWarning`; `problem` says why.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_location()
        self.problem: str | None = None
        self._store: diskcache.Cache | None = None
        self._pid = os.getpid()
        self._owner: ThreadPoolExecutor | None = None
        self._guarded(self._db, None)  # open now, so an unusable cache warns at once

    def _run(self, fn: Callable[[], R]) -> R:
        """Run `fn` on the thread that owns the connection (a new one after a fork or a
        `close`: a forked child has neither the parent's thread nor its connection)."""
        if os.getpid() != self._pid:
            self._pid, self._owner, self._store = os.getpid(), None, None
        if self._owner is None:
            self._owner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsie-cache")
        return self._owner.submit(fn).result()

    def _db(self) -> diskcache.Cache:
        """The open database, opened on first use (on the owner thread)."""
        if self._store is None:
            # settings given here win over those the directory's database holds
            self._store = diskcache.Cache(str(self.directory), disk=_JsonTextDisk,
                                          size_limit=2**32, disk_min_file_size=_INLINE_BYTES,
                                          eviction_policy="least-recently-stored")
        return self._store

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def _guarded(self, fn: Callable[[], R], default: R) -> R:
        """`fn`'s result; once the cache fails, one warning and `default` from then on."""
        if self.problem is not None:
            return default
        try:
            return self._run(fn)
        except _UNUSABLE as exc:
            self.problem = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"the answer cache at {self.directory} cannot be used ({self.problem}); "
                "going on without it (`newsie cache clear` resets a corrupt one)",
                CacheWarning, stacklevel=3)
            self._run(self._close_store)
            return default

    @staticmethod
    def key(messages: list[dict[str, str]], params: Mapping[str, Any],
            identity: Mapping[str, Any]) -> str:
        """The sha256 of one request.

        `params` are the generation settings (templates' digest, response schema,
        max_tokens, temperature...). `identity` names the server that answers,
        `Backend.cache_identity()`: a remote model's base URL and model name; the
        embedded model's GGUF sha256, not its file name, so a different file under the
        same name misses. Both must be JSON-serializable.
        """
        payload = json.dumps({"messages": messages, "params": params, "server": identity,
                              "schema": SCHEMA_VERSION}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or None: missing, or anything but JSON of the stored shape."""
        text = self._guarded(lambda: self._db().get(key), None)
        if not isinstance(text, str):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if not (isinstance(value, dict) and isinstance(value.get("answer"), dict)
                and isinstance(value.get("usage", {}), dict)):
            return None
        return value

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        text = json.dumps(value, ensure_ascii=False)
        self._guarded(lambda: self._db().set(key, text), None)

    def clear(self) -> int:
        """Delete every answer; a corrupt database is removed and made anew (returns 0).

        Raises `OSError` only when the directory itself cannot hold a cache (not a folder,
        not writable).
        """
        if self.problem is None:
            try:
                return int(self._run(lambda: self._db().clear()))
            except _UNUSABLE as exc:
                self.problem = f"{type(exc).__name__}: {exc}"
                self._run(self._close_store)
        if self.directory.is_dir():
            for name in _DB_FILES:
                (self.directory / name).unlink(missing_ok=True)
        try:
            self._run(self._db)
        except _UNUSABLE as exc:
            raise OSError(f"{self.directory} cannot hold a cache ({exc})") from exc
        self.problem = None
        return 0

    def __len__(self) -> int:
        return int(self._guarded(lambda: len(self._db()), 0))

    def volume(self) -> int:
        return int(self._guarded(lambda: self._db().volume(), 0))

    def close(self) -> None:
        """Close the database connection and stop the thread that owns it."""
        owner, self._owner = self._owner, None
        if owner is not None and os.getpid() == self._pid:
            owner.submit(self._close_store).result()
            owner.shutdown(wait=True)
