"""One article, one way through: load, number, prompt, call, ground, normalize."""

from __future__ import annotations

import asyncio
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
from ._nlp import analyze
from ._normalize import normalize
from ._prompts import Prompts
from ._schema import WireResponse, wire_response
from ._sentences import Sentence, chunk_sentences, is_instruction, split_sentences
from ._types import SPECS
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
        **endpoint_options: Any,
    ) -> None:
        self.prompts = Prompts(template_dir)
        self.specs = dict(SPECS)
        self.response_model = wire_response(list(self.specs.values()))
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
        self._local_client: ModelClient | None = None

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
        requests = [self.prompts.messages(article, window, self.specs.values())
                    for window in windows]
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
        analysis = analyze(article.text)
        for window, answer in zip(prepared.windows[: len(answers)], answers, strict=True):
            kept, dropped = ground(answer.events, self.specs, window, analysis,
                                   keep_ungrounded=self.keep_ungrounded)
            grounded += kept
            warnings += dropped
        events = normalize(grounded, article.text, article.published, analysis)
        return Extraction(
            source=article.source, title=article.title, published=article.published,
            text=article.text, events=events, model=model, usage=usage, warnings=warnings,
        )

    # ------------------------------------------------------------------ the calls

    def client(self) -> ModelClient:
        """The configured server, or the process-wide embedded one (started on first use).

        Concurrent articles are concurrent requests: the embedded server batches them in its
        parallel slots.
        """
        if self._client is not None:
            return self._client
        server = _local.ensure_server()
        client = self._local_client
        if client is None or client.endpoint.base_url != server.base_url:
            options = {"timeout": _local.REQUEST_TIMEOUT,
                       "max_attempts": _local.REQUEST_ATTEMPTS, **self._local_options}
            endpoint = Endpoint(base_url=server.base_url, model=server.model, embedded=True,
                                **options)
            client = self._local_client = ModelClient(endpoint)
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
                hit = self.client().complete(messages, self.response_model)
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
                hit = await client.acomplete(messages, self.response_model)
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
                  "reasks": ep.reasks, "response_schema": self.response_model.model_json_schema(),
                  "prompts": self.prompts.digest()}
        return ResponseCache.key(messages, params)

    def _cached(self, key: str) -> tuple[WireResponse, Usage] | None:
        value = self.cache.get(key) if self.cache is not None else None
        if value is None:
            return None
        try:
            answer = self.response_model.model_validate(value.get("answer"))
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
