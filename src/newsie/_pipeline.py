"""One article, one way through: load, number, prompt, call, ground, normalize."""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from . import _local
from ._article import MAX_INPUT_BYTES, MAX_TEXT_CHARS, Article, ArticleInput, load_article
from ._cache import ResponseCache
from ._grounding import GroundedEvent, ground
from ._llm import Endpoint, ModelClient
from ._normalize import normalize
from ._prompts import Prompts
from ._schema import WireResponse
from ._sentences import Sentence, chunk_sentences, is_instruction, split_sentences
from .events import Extraction, Usage

if TYPE_CHECKING:
    import openai

#: Characters of article per model call; longer articles are read in overlapping windows.
CHUNK_CHARS = 6000


@dataclass(frozen=True)
class Prepared:
    """An article ready for the model: its windows of sentences, one message list each."""

    article: Article
    windows: list[list[Sentence]]
    requests: list[list[dict[str, str]]]


class Extractor:
    """Holds what stays the same across articles: prompts, endpoint, options."""

    def __init__(
        self,
        *,
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
        local_slots: int = 1,
        **endpoint_options: Any,
    ) -> None:
        self.prompts = Prompts(template_dir)
        self.token_budget = token_budget
        self.cache = (
            None if cache is False else ResponseCache(None if cache is True else cache)
        )
        self.keep_ungrounded = keep_ungrounded
        self.chunk_chars = chunk_chars
        self.max_bytes = max_bytes
        self.max_chars = max_chars
        self._client: ModelClient | None = None
        if client is not None:
            endpoint = Endpoint(base_url=str(client.base_url), api_key=None, **endpoint_options)
            if model:
                endpoint = replace(endpoint, model=model)
            self._client = ModelClient(endpoint, client)
        else:
            endpoint_or_none = Endpoint.from_env(
                base_url=base_url, api_key=api_key, model=model, **endpoint_options
            )
            if endpoint_or_none is not None:
                self._client = ModelClient(endpoint_or_none)
        self._local_options = endpoint_options
        self._local_slots = max(1, local_slots)
        self._local_clients: dict[str, ModelClient] = {}
        self._turn = itertools.count()

    # ------------------------------------------------------------------ the steps

    def prepare(
        self, data: ArticleInput, *, source: str | None = None, published: str | None = None
    ) -> Prepared:
        article = load_article(
            data, source=source, published=published,
            max_bytes=self.max_bytes, max_chars=self.max_chars,
        )
        sentences = split_sentences(article.text)
        shown = [s for s in sentences if not is_instruction(s)]
        windows = chunk_sentences(shown, self.chunk_chars) if shown else []
        requests = [self.prompts.messages(article, window) for window in windows]
        return Prepared(article, windows, requests)

    def finish(
        self, prepared: Prepared, answers: list[WireResponse], usage: Usage, model: str
    ) -> Extraction:
        article = prepared.article
        grounded: list[GroundedEvent] = []
        warnings: list[str] = []
        if len(answers) < len(prepared.windows):
            warnings.append(
                f"token budget of {self.token_budget} reached: read {len(answers)} of "
                f"{len(prepared.windows)} parts of the article"
            )
        for window, answer in zip(prepared.windows[: len(answers)], answers, strict=True):
            kept, dropped = ground(
                answer.events, window, article.text, keep_ungrounded=self.keep_ungrounded
            )
            grounded += kept
            warnings += dropped
        events = normalize(grounded, article.text, article.published)
        return Extraction(
            source=article.source, title=article.title, published=article.published,
            text=article.text, events=events, model=model, usage=usage, warnings=warnings,
        )

    # ------------------------------------------------------------------ the calls

    def client(self) -> ModelClient:
        """The configured server, or the embedded one (started, or restarted, on demand)."""
        if self._client is not None:
            return self._client
        slot = next(self._turn) % self._local_slots  # round robin over the parallel slots
        server = _local.ensure_server(slot, self._local_slots)
        client = self._local_clients.get(server.base_url)
        if client is None:
            options = {"timeout": _local.REQUEST_TIMEOUT, **self._local_options}
            endpoint = Endpoint(
                base_url=server.base_url, model=server.model, json_object_schema=True, **options
            )
            client = self._local_clients[server.base_url] = ModelClient(endpoint)
        return client

    def extract(
        self, data: ArticleInput, *, source: str | None = None, published: str | None = None
    ) -> Extraction:
        prepared = self.prepare(data, source=source, published=published)
        answers: list[WireResponse] = []
        usage = Usage()
        model = self._model_name()
        for messages in prepared.requests:
            if self._over_budget(usage):
                break
            key = self._cache_key(messages, model)
            hit = self._cached(key)
            if hit is None:
                hit = self.client().complete(messages, WireResponse)
                self._store(key, hit)
            answers.append(hit[0])
            usage = usage + hit[1]
        return self.finish(prepared, answers, usage, model)

    async def aextract(
        self, data: ArticleInput, *, source: str | None = None, published: str | None = None
    ) -> Extraction:
        # The twin of `extract`, not a wrapper: `extract` must also work where an event loop
        # is already running (notebooks), so neither can be built on the other.
        prepared = self.prepare(data, source=source, published=published)
        answers: list[WireResponse] = []
        usage = Usage()
        model = await asyncio.to_thread(self._model_name)
        for messages in prepared.requests:
            if self._over_budget(usage):
                break
            key = self._cache_key(messages, model)
            hit = self._cached(key)
            if hit is None:
                client = await asyncio.to_thread(self.client)
                hit = await client.acomplete(messages, WireResponse)
                self._store(key, hit)
            answers.append(hit[0])
            usage = usage + hit[1]
        return self.finish(prepared, answers, usage, model)

    def _over_budget(self, usage: Usage) -> bool:
        return self.token_budget is not None and usage.total_tokens >= self.token_budget

    # ------------------------------------------------------------------ the cache

    def _model_name(self) -> str:
        if self._client is not None:
            return self._client.endpoint.model
        override = os.environ.get("NEWSIE_MODEL_PATH")
        return Path(override).stem if override else _local.MODEL_NAME

    def _cache_key(self, messages: list[dict[str, str]], model: str) -> str:
        ep = self._client.endpoint if self._client else Endpoint(**self._local_options)
        params = {"model": model, "max_tokens": ep.max_tokens, "temperature": ep.temperature,
                  "reasks": ep.reasks, "response_schema": WireResponse.model_json_schema(),
                  "prompts": self.prompts.digest()}
        return ResponseCache.key(messages, params)

    def _cached(self, key: str) -> tuple[WireResponse, Usage] | None:
        value = self.cache.get(key) if self.cache is not None else None
        if value is None:
            return None
        try:
            answer = WireResponse.model_validate(value.get("answer"))
        except ValidationError:  # stored by an older newsie: ask again
            return None
        return answer, Usage(requests=1, cached=1)

    def _store(self, key: str, hit: tuple[WireResponse, Usage]) -> None:
        if self.cache is not None:
            self.cache.put(key, {"answer": hit[0].model_dump(), "usage": hit[1].model_dump()})

    def close(self) -> None:
        """Release the cache's files; a long-lived service makes and drops many extractors."""
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
