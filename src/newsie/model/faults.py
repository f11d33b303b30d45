"""Translating what the HTTP and LLM libraries raise into one clear `NewsieError` each."""

from __future__ import annotations

from ..core.errors import (
    LocalModelError,
    ModelError,
    ModelOutputError,
    ServerError,
    ServerUnreachableError,
)
from ..core.redact import redact
from .endpoint import Endpoint

#: Characters of a server's or parser's own message kept in ours.
DETAIL_CHARS = 300


def root_cause(exc: BaseException) -> BaseException:
    """instructor wraps transport errors in InstructorRetryException; look beneath."""
    from instructor.core.exceptions import InstructorRetryException

    if isinstance(exc, InstructorRetryException) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def translate_error(exc: BaseException, endpoint: Endpoint, attempts: int) -> ModelError:
    """One clear `NewsieError` per failure, with every secret and URL credential masked."""
    import openai
    from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException

    secrets = endpoint.secrets()
    where = endpoint.where if endpoint.base_url else "the OpenAI API"
    cause = root_cause(exc)

    def detail(text: object) -> str:  # redacted first, then cut: no key prefix survives
        return redact(str(text), secrets, limit=DETAIL_CHARS)

    if isinstance(cause, openai.APITimeoutError):
        # a streamed answer (the embedded engine's) says how far it got before it stalled
        stalled = str(cause.__cause__) if "stalled" in str(cause.__cause__ or "") else None
        msg = (f"model server at {where} timed out after {endpoint.timeout:g}s"
               if stalled is None else f"model server at {where}: {stalled}")
        err: ModelError = ServerUnreachableError(f"{msg} ({attempts} attempts)")
    elif isinstance(cause, openai.APIConnectionError):
        err = ServerUnreachableError(f"cannot reach model server at {where} ({attempts} attempts)")
    elif isinstance(cause, openai.APIStatusError):
        err = ServerError(
            f"model server at {where} answered HTTP {cause.status_code} "
            f"after {attempts} attempts: {detail(cause.message)}"
        )
    elif isinstance(exc, InstructorRetryException) or isinstance(
        cause, IncompleteOutputException
    ):
        err = ModelOutputError(
            f"model output did not fit the event schema ({type(cause).__name__}: {detail(cause)})"
        )
    else:
        err = ModelOutputError(f"unusable model answer ({type(cause).__name__}: {detail(cause)})")
    if endpoint.embedded and isinstance(err, (ServerUnreachableError, ServerError)):
        err = LocalModelError(f"the embedded engine failed: {err}")
    return type(err)(redact(str(err), secrets))
