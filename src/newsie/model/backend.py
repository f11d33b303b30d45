"""The model backend: the one small protocol the pipeline calls to ask a model.

A backend is an object passed in (as LangExtract does): the OpenAI-compatible server, the
embedded engine, or a fake in tests. The pipeline never builds HTTP clients itself.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from ..events import Usage

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
