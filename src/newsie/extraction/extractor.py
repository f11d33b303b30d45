"""`Extractor`: what stays the same across articles, and the two drivers of one flow.

The flow (`flow.article_flow`) is written once. `extract` drives it in the calling thread;
`aextract` runs its CPU steps (reading, spaCy, grounding, the cache's disk I/O) in a worker
thread and awaits the model on the event loop, so a service's loop is never blocked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from ..core.errors import ConfigurationError
from ..events import Extraction, Usage
from ..model.backend import Backend
from ..model.cache import ResponseCache
from ..model.endpoint import Endpoint
from ..model.resolve import resolve_backend
from ..reading.article import MAX_INPUT_BYTES, MAX_TEXT_CHARS, Article, ArticleInput, load_article
from .flow import CHUNK_CHARS, Answer, Ask, Flow, Plan, Stages, article_flow
from .prompts import Prompts
from .registry import TypesArg, resolve_types

if TYPE_CHECKING:
    import openai

R = TypeVar("R")

#: What `stages=` may be, and what each means.
STAGES = {1: "one call per article", 2: "detect events first, then one call per event"}

#: The endpoint's settings a caller may pass (`timeout`, `max_attempts`, ...); the server
#: itself is named by `base_url`/`model`/`api_key`, and `embedded` is newsie's own business.
ENDPOINT_OPTIONS = frozenset(f.name for f in dataclasses.fields(Endpoint)) - {
    "base_url", "model", "api_key", "embedded"}


def check_options(caller: str, options: Mapping[str, Any], *, endpoint_only: bool = False) -> None:
    """A misspelt option raises Python's own TypeError naming the function the caller
    called (`extract()`), not an internal class it would otherwise reach."""
    allowed = set(ENDPOINT_OPTIONS)
    if not endpoint_only:
        allowed |= {name for name, p in inspect.signature(Extractor).parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    for name in options:
        if name not in allowed:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")


def check_stages(stages: object) -> None:
    if isinstance(stages, bool) or stages not in STAGES:
        allowed = "; ".join(f"{k} ({v})" for k, v in STAGES.items())
        raise ConfigurationError(f"stages={stages!r} is not one of: {allowed}")


def _step(flow: Flow, answers: list[Answer] | None) -> tuple[list[Ask] | None, Extraction | None]:
    """Run the flow to its next request, or to its end. (A StopIteration must not cross a
    thread boundary, so it ends here.)"""
    try:
        asks = next(flow) if answers is None else flow.send(answers)
    except StopIteration as stop:
        return None, stop.value
    return asks, None


def drive(flow: Flow, answer: Callable[[Ask], Answer]) -> Extraction:
    """Answer the flow's requests in this thread (several at once in a small pool)."""
    asks, done = _step(flow, None)
    while asks is not None:
        if len(asks) > 1:
            with ThreadPoolExecutor(max_workers=len(asks)) as pool:
                answers = list(pool.map(answer, asks))
        else:
            answers = [answer(a) for a in asks]
        asks, done = _step(flow, answers)
    assert done is not None
    return done


async def adrive(flow: Flow, answer: Callable[[Ask], Awaitable[Answer]]) -> Extraction:
    """Await the flow's requests on the loop; its CPU steps run in a worker thread."""
    asks, done = await asyncio.to_thread(_step, flow, None)
    while asks is not None:
        answers = list(await asyncio.gather(*(answer(a) for a in asks)))
        asks, done = await asyncio.to_thread(_step, flow, answers)
    assert done is not None
    return done


def answer_key(ask: Ask, digest: str, identity: dict[str, Any]) -> str:
    """The answer cache's key for `ask`: what every driver (live, async, batch) looks up."""
    params = {"prompts": digest, "response_schema": ask.response_model.model_json_schema()}
    return ResponseCache.key(ask.messages, params, identity)


def cached_answer(cache: ResponseCache | None, key: str, ask: Ask) -> Answer | None:
    """The cached answer to `ask`, free; None when missing or no longer fitting the schema."""
    value = cache.get(key) if cache is not None else None
    if value is None:
        return None
    try:
        answer = ask.response_model.model_validate(value.get("answer"))
    except ValidationError:  # stored by an older newsie: ask again
        return None
    return Answer(answer, Usage(requests=1, cached=1))


def store_answer(cache: ResponseCache | None, key: str, hit: Answer) -> None:
    if cache is not None:
        cache.put(key, {"answer": hit.value.model_dump(mode="json"),
                        "usage": hit.usage.model_dump()})


class Extractor:
    """Holds what stays the same across articles: the backend, prompts, types, options.

    `backend` is any object with the `Backend` protocol (the embedded engine by default;
    `base_url=`/`client=` or `OPENAI_BASE_URL`/`NEWSIE_MODEL` name a server instead).
    `types` narrows or extends the event types read: names of registered types ("order"),
    `Event` subclasses, or "module:Name" paths; by default every registered type.
    `stages=2` detects events first and then asks each event's fields in its own call.
    `verify=True` then asks of each event found whether the article reports it (a yes/no
    answer after the same cached prompt prefix), and drops those it does not.
    """

    def __init__(
        self,
        *,
        backend: Backend | None = None,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
        template_dir: str | Path | None = None,
        keep_ungrounded: bool = False,
        chunk_chars: int = CHUNK_CHARS,
        max_bytes: int = MAX_INPUT_BYTES,
        max_chars: int = MAX_TEXT_CHARS,
        cache: bool | str | Path = True,
        token_budget: int | None = None,
        stages: Stages = 1,
        verify: bool = False,
        types: TypesArg = None,
        **endpoint_options: Any,
    ) -> None:
        check_options("Extractor", endpoint_options, endpoint_only=True)
        check_stages(stages)
        self._owns_backend = backend is None
        self.backend = resolve_backend(backend=backend, base_url=base_url, api_key=api_key,
                                       model=model, client=client, **endpoint_options)
        self._identity: dict[str, Any] | None = None
        self.prompts = Prompts(template_dir)
        self.specs = resolve_types(types)
        self.plan = Plan(prompts=self.prompts, specs=self.specs, model=self.backend.model,
                         endpoint=self.backend.endpoint, stages=stages,
                         chunk_chars=chunk_chars, token_budget=token_budget,
                         keep_ungrounded=keep_ungrounded, verify=verify)
        self.max_bytes = max_bytes
        self.max_chars = max_chars
        self.cache = (
            None if cache is False else ResponseCache(None if cache is True else cache)
        )
        self._digest = self.prompts.digest()

    def load(self, data: ArticleInput, *, source: str | None = None,
             published: str | None = None) -> Article:
        return load_article(data, source=source, published=published,
                            max_bytes=self.max_bytes, max_chars=self.max_chars)

    def extract(self, data: ArticleInput, *, source: str | None = None,
                published: str | None = None) -> Extraction:
        article = self.load(data, source=source, published=published)
        return drive(article_flow(self.plan, article), self._answer)

    async def aextract(self, data: ArticleInput, *, source: str | None = None,
                       published: str | None = None) -> Extraction:
        article = await asyncio.to_thread(self.load, data, source=source, published=published)
        return await adrive(article_flow(self.plan, article), self._aanswer)

    # ------------------------------------------------------------------ answers

    def _answer(self, ask: Ask) -> Answer:
        key = self._key(ask)
        hit = self._cached(key, ask)
        if hit is None:
            value, usage = self.backend.complete(ask.messages, ask.response_model)
            hit = Answer(value, usage)
            self._store(key, hit)
        return hit

    async def _aanswer(self, ask: Ask) -> Answer:
        key = await asyncio.to_thread(self._key, ask)  # may hash a model file once
        hit = await asyncio.to_thread(self._cached, key, ask)
        if hit is None:
            value, usage = await self.backend.acomplete(ask.messages, ask.response_model)
            hit = Answer(value, usage)
            await asyncio.to_thread(self._store, key, hit)
        return hit

    def _key(self, ask: Ask) -> str:
        if self._identity is None:
            self._identity = self.backend.cache_identity()
        return answer_key(ask, self._digest, self._identity)

    def _cached(self, key: str, ask: Ask) -> Answer | None:
        return cached_answer(self.cache, key, ask)

    def _store(self, key: str, hit: Answer) -> None:
        store_answer(self.cache, key, hit)

    def close(self) -> None:
        """Release the cache's files (a long-lived service makes and drops many
        extractors), and the backend if this extractor made it."""
        if self.cache is not None:
            self.cache.close()
        if self._owns_backend:
            self.backend.close()

    async def aclose(self) -> None:
        """`close` from a coroutine: the backend's async clients are closed on this loop."""
        if self.cache is not None:
            await asyncio.to_thread(self.cache.close)
        if self._owns_backend:
            aclose = getattr(self.backend, "aclose", None)
            if aclose is not None:
                await aclose()
            else:
                await asyncio.to_thread(self.backend.close)

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
