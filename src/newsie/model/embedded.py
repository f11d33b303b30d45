"""The backend for the embedded engine: started on first use, then asked over loopback."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ..events import Usage
from . import engine as _local
from .backend import Messages, T
from .endpoint import Endpoint
from .openai_backend import OpenAIBackend


class EmbeddedBackend:
    """A `Backend` over the process-wide in-process llama.cpp server (`model.engine`).

    Nothing starts until the first request; the engine's failures are `LocalModelError`s.
    `options` are those of `Endpoint` (`timeout`, `max_attempts`, `reasks`, ...), with the
    embedded engine's own bounds on time and attempts as defaults.
    """

    def __init__(self, **options: Any) -> None:
        self._options: dict[str, Any] = {
            "timeout": _local.REQUEST_TIMEOUT,
            "max_attempts": _local.REQUEST_ATTEMPTS,
            "max_retry_seconds": _local.REQUEST_RETRY_SECONDS,
            **{k: v for k, v in options.items() if v is not None},
        }
        self._settings = Endpoint(embedded=True, **self._options)  # bad options fail here
        self._model = _local.model_name()
        self._lock = threading.Lock()
        self._delegate: OpenAIBackend | None = None

    @property
    def model(self) -> str:
        return self._model

    @property
    def endpoint(self) -> str:
        return "embedded"

    def cache_identity(self) -> dict[str, Any]:
        """The GGUF's sha256 (not its file name) and the generation settings."""
        ep = self._settings
        return {"server": "embedded", "model_sha256": _local.model_sha256(),
                "max_tokens": ep.max_tokens, "temperature": ep.temperature,
                "reasks": ep.reasks}

    def complete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        return self._backend(_local.ensure_server()).complete(messages, response_model)

    async def acomplete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        # The first start takes a while: a worker thread waits for it, not the event loop.
        server = _local.current()
        if server is None:
            server = await asyncio.to_thread(_local.ensure_server)
        return await self._backend(server).acomplete(messages, response_model)

    def close(self) -> None:
        """Close the loopback clients; the engine serves the whole process and stays up."""
        with self._lock:
            delegate, self._delegate = self._delegate, None
        if delegate is not None:
            delegate.close()

    async def aclose(self) -> None:
        """`close` from a coroutine: this loop's loopback client is closed on it."""
        with self._lock:
            delegate, self._delegate = self._delegate, None
        if delegate is not None:
            await delegate.aclose()

    def __repr__(self) -> str:
        return f"EmbeddedBackend(model={self._model!r})"

    def _backend(self, server: _local.EmbeddedServer) -> OpenAIBackend:
        """The loopback client for `server`; a new one if the engine was restarted."""
        with self._lock:
            delegate = self._delegate
            if delegate is None or delegate.settings.base_url != server.base_url:
                delegate = self._delegate = OpenAIBackend(Endpoint(
                    base_url=server.base_url, model=server.model, embedded=True,
                    **self._options))
            return delegate
