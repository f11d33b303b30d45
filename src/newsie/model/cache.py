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
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import diskcache
from diskcache.core import MODE_RAW

from ..events import SCHEMA_VERSION
from .engine import cache_dir

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
    """A process- and thread-safe on-disk map from request to model answer (diskcache)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_location()
        # settings given here win over those the directory's database holds
        self._store = diskcache.Cache(str(self.directory), disk=_JsonTextDisk,
                                      size_limit=2**32, disk_min_file_size=_INLINE_BYTES,
                                      eviction_policy="least-recently-stored")

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
        text = self._store.get(key)
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
        self._store.set(key, json.dumps(value, ensure_ascii=False))

    def clear(self) -> int:
        return int(self._store.clear())

    def __len__(self) -> int:
        return len(self._store)

    def volume(self) -> int:
        return int(self._store.volume())

    def close(self) -> None:
        self._store.close()

