"""The only module that talks to a model server: instructor over the openai client.

Two kinds of retry, kept apart on purpose: instructor re-asks when the answer does not
fit the schema (bounded by `reasks`); tenacity retries the transport (429, 5xx, timeouts,
dropped connections) with backoff, bounded in attempts and in total time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from ._exceptions import (
    LocalModelError,
    ModelError,
    ModelOutputError,
    ServerError,
    ServerUnreachableError,
)
from .events import Usage

if TYPE_CHECKING:  # openai and instructor take a second to import; only a model call needs them
    import instructor
    import openai

T = TypeVar("T", bound=BaseModel)

# instructor logs every failed attempt at ERROR; we report failures ourselves, once.
logging.getLogger("instructor").addHandler(logging.NullHandler())


class _RedactSecrets(logging.Filter):
    """Scrubs API keys from records of the HTTP and LLM libraries (servers echo keys)."""

    prefixes = ("instructor", "openai", "httpx", "httpcore", "newsie")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True

    def guard(self, secret: str | None) -> None:
        """Remember `secret`, and sit on every logger of those libraries made so far."""
        if secret:
            self.secrets.add(secret)
        for name in list(logging.root.manager.loggerDict):
            if name.startswith(self.prefixes):
                logger = logging.getLogger(name)
                if self not in logger.filters:
                    logger.addFilter(self)


_redactor = _RedactSecrets()

DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Endpoint:
    """Where and how to call a model. `api_key` never appears in `repr()`."""

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = 4
    max_retry_seconds: float = 60.0
    reasks: int = 2
    max_tokens: int = 1024
    temperature: float = 0.0
    #: The in-process engine: its failures are the engine's, reported as `LocalModelError`.
    embedded: bool = False

    @classmethod
    def from_env(cls, **overrides: Any) -> Endpoint | None:
        """The endpoint the environment names, or None when none is configured."""
        values = {k: v for k, v in overrides.items() if v is not None}
        base_url = values.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL")
        api_key = values.pop("api_key", None) or os.environ.get("OPENAI_API_KEY")
        model = values.pop("model", None) or os.environ.get("NEWSIE_MODEL")
        if not (base_url or api_key):
            return None
        ep = cls(base_url=base_url, api_key=api_key, **values)
        return replace(ep, model=model) if model else ep


def redact(message: str, secret: str | None) -> str:
    if secret:
        message = message.replace(secret, "***")
    return message


def _cause(exc: BaseException) -> BaseException:
    """instructor wraps transport errors in InstructorRetryException; look beneath."""
    from instructor.core.exceptions import InstructorRetryException

    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def is_transient(exc: BaseException) -> bool:
    import openai

    exc = _cause(exc)
    return isinstance(
        exc, (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
    )


def _retry_after(exc: BaseException) -> float | None:
    import openai

    exc = _cause(exc)
    if isinstance(exc, openai.APIStatusError):
        value = exc.response.headers.get("retry-after")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


_backoff = wait_random_exponential(multiplier=0.5, max=10)


def _wait(state: RetryCallState) -> float:
    """Honour the server's Retry-After; otherwise exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    hinted = _retry_after(exc) if exc else None
    return hinted if hinted is not None else float(_backoff(state))


def _retry_policy(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "retry": retry_if_exception(is_transient),
        "wait": _wait,
        "stop": stop_after_attempt(endpoint.max_attempts)
        | stop_before_delay(endpoint.max_retry_seconds),
        "reraise": True,
    }


def translate_error(exc: BaseException, endpoint: Endpoint, attempts: int) -> ModelError:
    """One clear `NewsieError` per failure, with the key scrubbed from the message."""
    import openai
    from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

    where = endpoint.base_url or "the OpenAI API"
    cause = _cause(exc)
    if isinstance(cause, openai.APITimeoutError):
        msg = f"model server at {where} timed out after {endpoint.timeout:g}s ({attempts} attempts)"
        err: ModelError = ServerUnreachableError(msg)
    elif isinstance(cause, openai.APIConnectionError):
        err = ServerUnreachableError(f"cannot reach model server at {where} ({attempts} attempts)")
    elif isinstance(cause, openai.APIStatusError):
        detail = str(cause.message)[:300]
        err = ServerError(
            f"model server at {where} answered HTTP {cause.status_code} "
            f"after {attempts} attempts: {detail}"
        )
    elif isinstance(exc, InstructorRetryException) or isinstance(
        cause, IncompleteOutputException
    ):
        err = ModelOutputError(
            f"model output did not fit the event schema "
            f"({type(cause).__name__}: {str(cause)[:300]})"
        )
    else:
        err = ModelOutputError(
            f"unusable model answer ({type(cause).__name__}: {str(cause)[:300]})"
        )
    if endpoint.embedded and isinstance(err, (ServerUnreachableError, ServerError)):
        return LocalModelError(f"the embedded engine failed: {err}")
    return type(err)(redact(str(err), endpoint.api_key))


def _accept_control_characters(response: Any) -> None:
    """Re-encode an answer with raw control characters inside its JSON strings.

    Small models write them; pydantic's JSON reader refuses them, and a re-ask costs a whole
    model call. This hook runs before instructor parses the answer. Anything else that does
    not parse is left for instructor's re-ask.
    """
    for choice in getattr(response, "choices", None) or []:
        message: Any = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            continue
        try:
            json.loads(content)
        except ValueError:
            with contextlib.suppress(ValueError):
                value = json.loads(content, strict=False)
                message.content = json.dumps(value, ensure_ascii=False)


class _UsageMeter:
    """Adds up token usage over every attempt, re-asks included."""

    def __init__(self) -> None:
        from instructor.core.hooks import Hooks

        self.usage = Usage()
        self.hooks = Hooks()
        self.hooks.on("completion:response", _accept_control_characters)
        self.hooks.on("completion:response", self._on_response)

    def _on_response(self, response: Any) -> None:
        u = getattr(response, "usage", None)
        details = getattr(u, "prompt_tokens_details", None)
        self.usage = self.usage + Usage(
            prompt_tokens=getattr(u, "prompt_tokens", 0) or 0,
            cached_prompt_tokens=getattr(details, "cached_tokens", 0) or 0,
            completion_tokens=getattr(u, "completion_tokens", 0) or 0,
            total_tokens=getattr(u, "total_tokens", 0) or 0,
            requests=1,
        )


class ModelClient:
    """A sync and an async instructor client for one endpoint, made on first use."""

    def __init__(
        self,
        endpoint: Endpoint,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._given = client
        self._sync: instructor.Instructor | None = None
        self._async: instructor.AsyncInstructor | None = None

    def _openai_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.endpoint.base_url,
            "api_key": self.endpoint.api_key or "unused",
            "timeout": self.endpoint.timeout,
            "max_retries": 0,  # tenacity owns transport retries
        }

    def _sync_client(self) -> instructor.Instructor:
        import instructor
        import openai

        if self._sync is None:
            base = self._given if isinstance(self._given, openai.OpenAI) else None
            base = base or openai.OpenAI(**self._openai_kwargs())
            self._sync = instructor.from_openai(base, mode=instructor.Mode.JSON_SCHEMA)
            _redactor.guard(self.endpoint.api_key)
        return self._sync

    def _async_client(self) -> instructor.AsyncInstructor:
        import instructor
        import openai

        if self._async is None:
            base = self._given if isinstance(self._given, openai.AsyncOpenAI) else None
            base = base or openai.AsyncOpenAI(**self._openai_kwargs())
            self._async = instructor.from_openai(base, mode=instructor.Mode.JSON_SCHEMA)
            _redactor.guard(self.endpoint.api_key)
        return self._async

    def request(
        self, messages: list[dict[str, str]], response_model: type[T], meter: _UsageMeter
    ) -> dict[str, Any]:
        ep = self.endpoint
        kwargs: dict[str, Any] = {
            "model": ep.model,
            "messages": messages,
            "response_model": response_model,
            "max_retries": ep.reasks,
            "max_tokens": ep.max_tokens,
            "temperature": ep.temperature,
            "hooks": meter.hooks,
        }
        return kwargs

    def complete(
        self, messages: list[dict[str, str]], response_model: type[T]
    ) -> tuple[T, Usage]:
        meter = _UsageMeter()
        kwargs = self.request(messages, response_model, meter)
        retrying = Retrying(**_retry_policy(self.endpoint))
        create = self._sync_client().create
        _redactor.guard(self.endpoint.api_key)  # loggers that instructor made lazily
        try:
            result: T = retrying(create, **kwargs)
        except Exception as exc:
            raise self._fail(exc, retrying.statistics) from None
        return result, meter.usage

    async def acomplete(
        self, messages: list[dict[str, str]], response_model: type[T]
    ) -> tuple[T, Usage]:
        meter = _UsageMeter()
        kwargs = self.request(messages, response_model, meter)
        retrying = AsyncRetrying(**_retry_policy(self.endpoint))
        create = self._async_client().create
        _redactor.guard(self.endpoint.api_key)
        try:
            result: T = await retrying(create, **kwargs)
        except Exception as exc:
            raise self._fail(exc, retrying.statistics) from None
        return result, meter.usage

    def _fail(self, exc: Exception, stats: dict[str, Any]) -> ModelError:
        if isinstance(exc, ModelError):
            return exc
        return translate_error(exc, self.endpoint, int(stats.get("attempt_number", 1)))

