"""Which backend a call uses: the one passed in, a named server, or the embedded engine."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigurationError
from .backend import Backend
from .embedded import EmbeddedBackend
from .endpoint import Endpoint
from .openai_backend import OpenAIBackend

if TYPE_CHECKING:
    import openai


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
