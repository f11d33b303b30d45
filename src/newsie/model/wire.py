"""One chat request as it goes over the wire, for callers that send it themselves.

A live call hands its parameters to instructor, which adds the answer's JSON schema
(`response_format`) and later parses and re-asks. A batch file (provider Batch API, vLLM's
`run_batch`) must carry the very same request body, and its answers must be parsed and
re-asked the same way; so both paths take the parameters from `request_params` and let
instructor's own request, parse and re-ask functions do the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..events import Usage
from .backend import Messages, T
from .bounds import request_max_tokens
from .endpoint import Endpoint
from .repair import accept_control_characters

if TYPE_CHECKING:
    import instructor
    from openai.types.chat import ChatCompletion


def mode() -> instructor.Mode:
    """How newsie asks for structured answers: the server's JSON schema mode."""
    import instructor

    return instructor.Mode.JSON_SCHEMA


def request_params(endpoint: Endpoint, messages: Messages) -> dict[str, Any]:
    """The generation parameters of one request, as a live call passes them to instructor."""
    return {"model": endpoint.model, "messages": messages, "max_tokens": endpoint.max_tokens,
            "temperature": endpoint.temperature}


def request_body(endpoint: Endpoint, messages: Messages,
                 response_model: type[T]) -> dict[str, Any]:
    """The JSON body a live call POSTs to /chat/completions: messages and response_format."""
    from instructor.processing.response import handle_response_model

    params = {**request_params(endpoint, [dict(m) for m in messages]),
              "max_tokens": request_max_tokens(endpoint.max_tokens, response_model)}
    _, body = handle_response_model(response_model, mode=mode(), **params)
    return body


def completion(body: dict[str, Any]) -> ChatCompletion:
    """A /chat/completions response body as the openai client reads it."""
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(body)


def usage_of(response: Any) -> Usage:
    """What one response cost (every attempt of a live call is metered with this too)."""
    u = getattr(response, "usage", None)
    details = getattr(u, "prompt_tokens_details", None)
    return Usage(
        prompt_tokens=getattr(u, "prompt_tokens", 0) or 0,
        cached_prompt_tokens=getattr(details, "cached_tokens", 0) or 0,
        completion_tokens=getattr(u, "completion_tokens", 0) or 0,
        total_tokens=getattr(u, "total_tokens", 0) or 0,
        requests=1,
    )


def parse(response: ChatCompletion, response_model: type[T]) -> T:
    """The answer in `response`, repaired and validated as a live call does; raises what
    instructor raises (a pydantic `ValidationError`, a truncated answer) when it does not fit."""
    from instructor.processing.response import process_response

    accept_control_characters(response)
    value: T = process_response(response, response_model=response_model, stream=False,
                                mode=mode())
    return value


def reask(body: dict[str, Any], response: ChatCompletion, error: Exception) -> Messages:
    """The messages of the re-ask instructor would send after `response` failed with `error`:
    the request's messages, the bad answer, and the error to correct."""
    from instructor.processing.response import handle_reask_kwargs

    copy = {**body, "messages": [dict(m) for m in body["messages"]]}
    messages: Messages = handle_reask_kwargs(copy, mode(), response, error)["messages"]
    return messages
