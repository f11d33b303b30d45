"""The model backend: the one small protocol the pipeline calls to ask a model.

A backend is an object passed in (as LangExtract does): the OpenAI-compatible server, the
embedded engine, or a fake in tests. The pipeline never builds HTTP clients itself.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from .events import Usage

if TYPE_CHECKING:
    import openai

T = TypeVar("T", bound=BaseModel)

Messages = list[dict[str, str]]


@runtime_checkable
class Backend(Protocol):
    """Answers one chat request with an instance of `response_model`, and what it cost."""

    @property
    def model(self) -> str:
        """The model's name, as results report it."""
        ...

    @property
    def endpoint(self) -> str:
        """Where it is served, safe to print: "embedded", or a host without credentials."""
        ...

    def cache_identity(self) -> dict[str, Any]:
        """What names this server and its generation settings in the answer cache key."""
        ...

    def complete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]: ...

    async def acomplete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]: ...

    def close(self) -> None: ...


def resolve_backend(
    *,
    backend: Backend | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    client: openai.OpenAI | openai.AsyncOpenAI | None = None,
    **endpoint_options: Any,
) -> Backend:
    """The backend the caller chose; the embedded engine unless a server is named.

    A server is named only explicitly: `backend=`, `client=`, `base_url=` or
    `OPENAI_BASE_URL`, or a model name (`model=`, `NEWSIE_MODEL`: alone, the OpenAI API).
    An `OPENAI_API_KEY` in the environment names none, so it never sends articles anywhere
    by itself. `endpoint_options` are `Endpoint`'s (`timeout`, `max_attempts`, ...).
    """
    from ._embedded import EmbeddedBackend
    from ._endpoint import Endpoint
    from ._exceptions import ConfigurationError
    from ._openai_backend import OpenAIBackend

    options = {k: v for k, v in endpoint_options.items() if v is not None}
    if backend is not None:
        extra = [name for name, value in (("base_url", base_url), ("api_key", api_key),
                                          ("model", model), ("client", client)) if value]
        extra += sorted(options)
        if extra:
            raise ConfigurationError(
                f"backend= is already configured; do not pass {', '.join(extra)} with it")
        return backend
    if client is not None:
        if base_url or api_key:
            raise ConfigurationError(
                "client= brings its own server and key: pass base_url= and api_key= to "
                "the client, not beside it")
        return OpenAIBackend.for_client(
            client, model=model or os.environ.get("NEWSIE_MODEL") or None, **options)
    endpoint = Endpoint.from_env(base_url=base_url, api_key=api_key, model=model, **options)
    if endpoint is not None:
        return OpenAIBackend(endpoint)
    if api_key:
        raise ConfigurationError(
            "api_key= names no server: pass base_url= (or model= for the OpenAI API) "
            "with it, or drop it to use the embedded model")
    return EmbeddedBackend(**options)
