"""The transport retry policy: which failures are worth another attempt, and how long to wait.

Kept apart from instructor's re-asks on purpose: instructor re-asks when the answer does not
fit the schema (bounded by `reasks`); this policy retries the transport (429, 5xx, timeouts,
dropped connections) with backoff, bounded in attempts and in total time.
"""

from __future__ import annotations

from typing import Any

from tenacity import (
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from .endpoint import Endpoint
from .faults import root_cause


def is_transient(exc: BaseException) -> bool:
    import openai

    exc = root_cause(exc)
    return isinstance(
        exc, (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
    )


def retry_after(exc: BaseException) -> float | None:
    """The seconds a server asked us to wait (`Retry-After`), if it did."""
    import openai

    exc = root_cause(exc)
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
    hinted = retry_after(exc) if exc else None
    return hinted if hinted is not None else float(_backoff(state))


def retry_policy(endpoint: Endpoint) -> dict[str, Any]:
    """Keyword arguments for tenacity's `Retrying` / `AsyncRetrying`."""
    return {
        "retry": retry_if_exception(is_transient),
        "wait": _wait,
        "stop": stop_after_attempt(endpoint.max_attempts)
        | stop_before_delay(endpoint.max_retry_seconds),
        "reraise": True,
    }
