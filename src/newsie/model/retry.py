"""The transport retry policy: which failures are worth another attempt, and how long to wait.

Kept apart from instructor's re-asks on purpose: instructor re-asks when the answer does not
fit the schema (bounded by `reasks`); this policy retries the transport (429, 5xx, timeouts,
dropped connections) with backoff, bounded in attempts and in total time.

The openai client's own retries are off because they know no total-time bound (tenacity's
one job here). What they decide is kept: the same statuses are retried (408, 409, 429,
5xx, and `x-should-retry` obeyed), and a server's delay is read in every form the client
reads (`retry-after-ms`, `Retry-After` in seconds or as an HTTP-date).
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
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

#: Statuses the openai client retries besides 429 and 5xx: request and lock timeouts.
_RETRIED_STATUSES = frozenset({408, 409})


def is_transient(exc: BaseException) -> bool:
    import openai

    exc = root_cause(exc)
    if isinstance(exc, openai.APIStatusError):
        said = exc.response.headers.get("x-should-retry")
        if said in ("true", "false"):  # the server decides, as the client lets it
            return said == "true"
        return exc.status_code in _RETRIED_STATUSES or isinstance(
            exc, (openai.RateLimitError, openai.InternalServerError))
    return isinstance(exc, openai.APIConnectionError)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The seconds a server asked us to wait, read as the openai client reads them:
    `retry-after-ms` (milliseconds), else `Retry-After` in seconds (a float is allowed) or
    as an HTTP-date. None when absent, unreadable, or not a finite delay."""
    seconds: float | None = None
    try:
        seconds = float(headers.get("retry-after-ms", "")) / 1000
    except ValueError:
        value = headers.get("retry-after")
        if value:
            try:
                seconds = float(value)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(value)
                except (TypeError, ValueError, IndexError):
                    return None
                seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def retry_after(exc: BaseException) -> float | None:
    """The seconds a server asked us to wait, if it did (`parse_retry_after`)."""
    import openai

    exc = root_cause(exc)
    if isinstance(exc, openai.APIStatusError):
        return parse_retry_after(exc.response.headers)
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
