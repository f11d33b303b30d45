"""Never pay twice for the same model answer.

The cache sits at the model call: its key covers the rendered messages (article text
and template), what the caller adds (the templates' digest, the response schema, the model,
the generation parameters) and the schema version, so changing any of them misses.
Grounding and normalization always run again, so their fixes reach cached articles too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import diskcache

from ._local import cache_dir
from .events import SCHEMA_VERSION


def default_location() -> Path:
    return cache_dir() / "responses"


class ResponseCache:
    """A process- and thread-safe on-disk map from request to model answer (diskcache)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_location()
        self._store = diskcache.Cache(str(self.directory), size_limit=2**32)

    @staticmethod
    def key(messages: list[dict[str, str]], params: dict[str, Any]) -> str:
        payload = json.dumps({"messages": messages, "params": params, "schema": SCHEMA_VERSION},
                             sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._store.get(key)
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self._store.set(key, value)

    def clear(self) -> int:
        return int(self._store.clear())

    def __len__(self) -> int:
        return len(self._store)

    def volume(self) -> int:
        return int(self._store.volume())

    def close(self) -> None:
        self._store.close()
