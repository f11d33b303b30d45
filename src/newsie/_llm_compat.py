"""Temporary bridge: the Backend protocol over the old ModelClient (replaced on merge)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from . import _local
from ._backend import Backend, Messages
from ._llm import Endpoint, ModelClient
from .events import Usage

T = TypeVar("T", bound=BaseModel)


class ClientBackend:
    def __init__(self, endpoint: Endpoint, client: Any = None) -> None:
        self._client = ModelClient(endpoint, client)

    @property
    def model(self) -> str:
        return self._client.endpoint.model

    @property
    def endpoint(self) -> str:
        return self._client.endpoint.base_url or "https://api.openai.com/v1"

    def cache_identity(self) -> dict[str, Any]:
        ep = self._client.endpoint
        return {"base_url": self.endpoint, "model": ep.model, "max_tokens": ep.max_tokens,
                "temperature": ep.temperature, "reasks": ep.reasks}

    def complete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        return self._client.complete(messages, response_model)

    async def acomplete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        return await self._client.acomplete(messages, response_model)

    def close(self) -> None:
        pass


class EmbeddedBackend:
    def __init__(self, **options: Any) -> None:
        self._options = options
        self._inner: ClientBackend | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        override = os.environ.get("NEWSIE_MODEL_PATH")
        return Path(override).stem if override else _local.MODEL_NAME

    @property
    def endpoint(self) -> str:
        return "embedded"

    def cache_identity(self) -> dict[str, Any]:
        ep = Endpoint(**self._options)
        return {"model": self.model, "max_tokens": ep.max_tokens,
                "temperature": ep.temperature, "reasks": ep.reasks}

    def _backend(self) -> ClientBackend:
        with self._lock:
            if self._inner is None:
                server = _local.ensure_server()
                options = {"timeout": _local.REQUEST_TIMEOUT,
                           "max_attempts": _local.REQUEST_ATTEMPTS, **self._options}
                self._inner = ClientBackend(Endpoint(base_url=server.base_url,
                                                     model=server.model, embedded=True,
                                                     **options))
            return self._inner

    def complete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        return self._backend().complete(messages, response_model)

    async def acomplete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        import asyncio

        inner = await asyncio.to_thread(self._backend)
        return await inner.acomplete(messages, response_model)

    def close(self) -> None:
        pass


def resolve_backend(*, base_url: str | None = None, api_key: str | None = None,
                    model: str | None = None, client: Any = None, **options: Any) -> Backend:
    if client is not None:
        endpoint = Endpoint(base_url=str(client.base_url), api_key=None, **options)
        if model:
            endpoint = Endpoint(**{**endpoint.__dict__, "model": model})
        return ClientBackend(endpoint, client)
    endpoint = Endpoint.from_env(base_url=base_url, api_key=api_key, model=model, **options)
    if endpoint is not None:
        return ClientBackend(endpoint)
    return EmbeddedBackend(**options)


def naive_backend(base_url: str) -> Backend:
    return ClientBackend(Endpoint(base_url=base_url, model=_local.MODEL_NAME, max_tokens=1024,
                                  timeout=_local.REQUEST_TIMEOUT))
