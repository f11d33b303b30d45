"""Helpers for testing code that uses newsie, without a model server.

>>> from newsie.testing import FakeBackend
>>> backend = FakeBackend([{"events": []}])
>>> extractor = newsie.Extractor(backend=backend)

`FakeBackend` answers each request from a list (in order) or a function, records what it
was asked, and reports usage like a real backend, in the sync and the async flow.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from pydantic import BaseModel

from .events import Usage
from .model.backend import Messages, T

#: What an answer may be: a pydantic object, a dict or a JSON string that validates into the
#: request's response model, or an exception to raise (a `ModelError` for a failing server).
Answer: TypeAlias = BaseModel | dict[str, Any] | str | BaseException


@dataclass(frozen=True)
class FakeRequest:
    """One request a `FakeBackend` received."""

    messages: Messages
    response_model: type[BaseModel]


class FakeBackend:
    """A `Backend` that answers from a list of answers or from a function.

    With a list, the n-th request gets the n-th answer, and a request past its end is an
    `AssertionError` (a test asked more than it planned). A function gets the messages and
    the response model and returns an answer. Each answer costs `usage`.
    """

    def __init__(
        self,
        answers: Iterable[Answer] | Callable[[Messages, type[BaseModel]], Answer],
        *,
        model: str = "fake",
        endpoint: str = "fake",
        usage: Usage | None = None,
    ) -> None:
        self._answer: Callable[[Messages, type[BaseModel]], Answer] | None = None
        self._answers: list[Answer] = []
        if callable(answers):
            self._answer = answers
        else:
            self._answers = list(answers)
        self._model = model
        self._endpoint = endpoint
        self.usage = usage if usage is not None else Usage(
            prompt_tokens=50, completion_tokens=10, total_tokens=60, requests=1)
        self.requests: list[FakeRequest] = []
        self.closed = False
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self._model

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def cache_identity(self) -> dict[str, Any]:
        return {"server": f"fake:{self._endpoint}", "model": self._model}

    def complete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        with self._lock:
            index = len(self.requests)
            self.requests.append(FakeRequest(messages, response_model))
        if self._answer is not None:
            answer = self._answer(messages, response_model)
        elif index < len(self._answers):
            answer = self._answers[index]
        else:
            raise AssertionError(
                f"FakeBackend got request {index + 1} but holds {len(self._answers)} answers")
        if isinstance(answer, BaseException):
            raise answer
        return _validate(answer, response_model), self.usage

    async def acomplete(self, messages: Messages, response_model: type[T]) -> tuple[T, Usage]:
        await asyncio.sleep(0)  # a real request yields to the loop; so does this one
        return self.complete(messages, response_model)

    def close(self) -> None:
        self.closed = True


def _validate(answer: BaseModel | dict[str, Any] | str, response_model: type[T]) -> T:
    if isinstance(answer, response_model):
        return answer
    if isinstance(answer, str):
        return response_model.model_validate_json(answer)
    if isinstance(answer, BaseModel):
        answer = answer.model_dump()
    return response_model.model_validate(answer)
