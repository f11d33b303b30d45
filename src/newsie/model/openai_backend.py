"""The backend for any OpenAI-compatible server: instructor (JSON schema mode) over openai.

Transport failures are retried by tenacity (`model.retry`), answers that do not fit the schema
are re-asked by instructor, usage is metered over every attempt (`model.usage`), and what still
fails becomes one `NewsieError` (`model.faults`).

Clients: a caller's client serves both flows (an `openai.OpenAI` serves the async calls
from a worker thread; an `openai.AsyncOpenAI` serves only the async calls). The clients
newsie builds itself are one sync client, and one async client per event loop, since an
async HTTP client belongs to the loop it was first used on and one backend may serve
several `asyncio.run(...)` in a row.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import TYPE_CHECKING, Any, Literal

from tenacity import AsyncRetrying, Retrying

from ..core.errors import ConfigurationError, NewsieError
from ..core.redact import log_redactor
from ..events import Usage
from .backend import Messages, T
from .bounds import request_max_tokens
from .endpoint import DEFAULT_MODEL, Endpoint
from .faults import translate_error
from .repair import accept_control_characters
from .retry import retry_policy
from .usage import UsageMeter
from .wire import mode, request_params

if TYPE_CHECKING:  # openai and instructor take a second to import; only a model call needs them
    import instructor
    import openai


def _client_options(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "base_url": endpoint.base_url,
        "api_key": endpoint.api_key or "unused",  # servers without auth still need a value
        "timeout": endpoint.timeout,
        "max_retries": 0,  # tenacity owns transport retries
    }


def sync_client(endpoint: Endpoint) -> openai.OpenAI:
    """An openai client for `endpoint`; to a loopback server it ignores proxy variables, and
    to the embedded engine it streams, judged by progress (`model.progress`)."""
    import httpx2
    import openai

    from .progress import ProgressTransport  # httpx2 comes with openai: loaded with it

    http = None
    if endpoint.embedded:
        http = openai.DefaultHttpxClient(
            trust_env=False, transport=ProgressTransport(httpx2.HTTPTransport(trust_env=False)))
    elif endpoint.loopback:
        http = openai.DefaultHttpxClient(trust_env=False)
    return openai.OpenAI(**_client_options(endpoint), http_client=http)


def async_client(endpoint: Endpoint) -> openai.AsyncOpenAI:
    """The async twin of `sync_client`, for the running event loop only."""
    import httpx2
    import openai

    from .progress import AsyncProgressTransport

    http = None
    if endpoint.embedded:
        http = openai.DefaultAsyncHttpxClient(
            trust_env=False,
            transport=AsyncProgressTransport(httpx2.AsyncHTTPTransport(trust_env=False)))
    elif endpoint.loopback:
        http = openai.DefaultAsyncHttpxClient(trust_env=False)
    return openai.AsyncOpenAI(**_client_options(endpoint), http_client=http)


def cache_identity(ep: Endpoint) -> dict[str, Any]:
    """What names a server and its settings in the answer cache, for live and batch calls."""
    return {"server": ep.where, "model": ep.model, "max_tokens": ep.max_tokens,
            "temperature": ep.temperature, "reasks": ep.reasks}


def _close_on(loop: asyncio.AbstractEventLoop, client: openai.AsyncOpenAI) -> None:
    """Close an async client on the loop it belongs to, from any thread.

    On the calling thread's own running loop the close is scheduled (`aclose` awaits it
    instead); a closed loop can run nothing, and its sockets go with it.
    """
    if loop.is_closed():
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(client.close())
    elif loop.is_running():
        asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout=10)
    else:
        loop.run_until_complete(client.close())


class OpenAIBackend:
    """A `Backend` for one OpenAI-compatible server, or for a caller's ready openai client."""

    def __init__(
        self,
        endpoint: Endpoint,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
    ) -> None:
        self.settings = endpoint
        self._kind: Literal["sync", "async"] | None = None
        if client is not None:
            import openai

            if isinstance(client, openai.OpenAI):
                self._kind = "sync"
                client = client.with_options(max_retries=0)  # same connections and key
            elif isinstance(client, openai.AsyncOpenAI):
                self._kind = "async"
                client = client.with_options(max_retries=0)
            else:
                raise ConfigurationError(
                    f"client= must be an openai.OpenAI or openai.AsyncOpenAI, not "
                    f"{type(client).__name__}"
                )
        elif endpoint.base_url is None and not endpoint.api_key:
            raise ConfigurationError(
                "the OpenAI API needs a key: set OPENAI_API_KEY or pass api_key=, or name "
                "another server with base_url= / OPENAI_BASE_URL"
            )
        self._given = client
        self._lock = threading.Lock()
        self._sync: instructor.Instructor | None = None
        self._own_sync: openai.OpenAI | None = None
        self._given_async: instructor.AsyncInstructor | None = None
        #: each loop's instructor and the client under it (closed by `close`)
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[instructor.AsyncInstructor, openai.AsyncOpenAI]
        ] = weakref.WeakKeyDictionary()
        log_redactor.guard(endpoint.secrets())

    @classmethod
    def for_client(
        cls, client: openai.OpenAI | openai.AsyncOpenAI, *, model: str | None = None,
        **options: Any,
    ) -> OpenAIBackend:
        """A backend over a caller's client; its URL and key are kept to name and redact."""
        endpoint = Endpoint(
            base_url=str(client.base_url), api_key=getattr(client, "api_key", None),
            model=model or DEFAULT_MODEL, **{k: v for k, v in options.items() if v is not None},
        )
        return cls(endpoint, client)

    # ------------------------------------------------------------------ the Backend protocol

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def endpoint(self) -> str:
        return self.settings.where

    def cache_identity(self) -> dict[str, Any]:
        return cache_identity(self.settings)

    def complete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        create = self._sync_instructor().create
        kwargs, meter = self._request(messages, response_model)
        retrying = Retrying(**retry_policy(self.settings))
        log_redactor.guard()  # loggers that instructor and openai made lazily
        try:
            result: T = retrying(create, **kwargs)
        except Exception as exc:
            raise self._fail(exc, retrying.statistics) from None
        return result, meter.usage

    async def acomplete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        if self._kind == "sync":  # the caller's sync client, without blocking the loop
            return await asyncio.to_thread(self.complete, messages, response_model)
        create = self._async_instructor().create
        kwargs, meter = self._request(messages, response_model)
        retrying = AsyncRetrying(**retry_policy(self.settings))
        log_redactor.guard()
        try:
            result: T = await retrying(create, **kwargs)
        except Exception as exc:
            raise self._fail(exc, retrying.statistics) from None
        return result, meter.usage

    def close(self) -> None:
        """Close the clients newsie built (the sync one and each loop's async one); a
        caller's client stays theirs to close."""
        with self._lock:
            own, self._own_sync, self._sync = self._own_sync, None, None
            loops = list(self._by_loop.items())
            self._by_loop.clear()
        if own is not None:
            own.close()
        for loop, (_, client) in loops:
            _close_on(loop, client)

    async def aclose(self) -> None:
        """`close` from a coroutine: this loop's client is awaited closed here."""
        loop = asyncio.get_running_loop()
        with self._lock:
            made = self._by_loop.pop(loop, None)
        if made is not None:
            await made[1].close()
        await asyncio.to_thread(self.close)

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.settings!r})"

    # ------------------------------------------------------------------ the clients

    def _sync_instructor(self) -> instructor.Instructor:
        import instructor
        import openai

        if self._kind == "async":
            raise ConfigurationError(
                "an openai.AsyncOpenAI client serves only the async calls (aextract, "
                "aextract_many); pass an openai.OpenAI (it serves both) for extract"
            )
        with self._lock:
            if self._sync is None:
                if isinstance(self._given, openai.OpenAI):
                    base = self._given
                else:
                    base = self._own_sync = sync_client(self.settings)
                self._sync = instructor.from_openai(base, mode=mode())
            return self._sync

    def _async_instructor(self) -> instructor.AsyncInstructor:
        import instructor
        import openai

        with self._lock:
            if isinstance(self._given, openai.AsyncOpenAI):
                if self._given_async is None:
                    self._given_async = instructor.from_openai(
                        self._given, mode=mode())
                return self._given_async
            loop = asyncio.get_running_loop()
            made = self._by_loop.get(loop)
            if made is None:
                client = async_client(self.settings)
                made = instructor.from_openai(client, mode=mode()), client
                self._by_loop[loop] = made
            return made[0]

    def _request(
        self, messages: Messages, response_model: type[T]
    ) -> tuple[dict[str, Any], UsageMeter]:
        from instructor.core.hooks import Hooks

        hooks = Hooks()
        hooks.on("completion:response", accept_control_characters)
        meter = UsageMeter(hooks)
        kwargs: dict[str, Any] = {
            **request_params(self.settings, messages),
            "response_model": response_model,
            "max_retries": self.settings.reasks,
            "max_tokens": request_max_tokens(self.settings.max_tokens, response_model),
            "hooks": hooks,
        }
        return kwargs, meter

    def _fail(self, exc: Exception, stats: dict[str, Any]) -> NewsieError:
        if isinstance(exc, NewsieError):
            return exc
        return translate_error(exc, self.settings, int(stats.get("attempt_number", 1)))
