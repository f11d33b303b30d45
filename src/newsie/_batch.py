"""Many articles: bounded concurrency, input order kept, one bad article loses nothing."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ._article import Article, ArticleInput
from ._exceptions import NewsieError
from ._extractor import Extractor
from ._redact import redact
from .events import Extraction, Failure, Summary, Usage

ARTICLE_SUFFIXES = {".txt", ".html", ".htm", ".json", ".md"}


def expand_inputs(inputs: Iterable[ArticleInput] | ArticleInput) -> Iterator[ArticleInput]:
    """Folders become their article files, sorted; everything else passes through."""
    items: Iterable[ArticleInput] = (
        [inputs]  # type: ignore[list-item]
        if isinstance(inputs, (str, bytes, Article)) or hasattr(inputs, "__fspath__")
        else inputs
    )
    for item in items:
        if isinstance(item, (str, Path)) and not isinstance(item, bytes):
            path = Path(item)
            name = str(item)
            if name.strip() and "\n" not in name and len(name) < 4096 and path.is_dir():
                yield from sorted(
                    p for p in path.iterdir() if p.is_file() and p.suffix in ARTICLE_SUFFIXES
                )
                continue
        yield item


def source_of(item: ArticleInput) -> str:
    if isinstance(item, Article):
        return item.source
    if isinstance(item, Path):
        return str(item)
    if isinstance(item, str) and "\n" not in item and len(item) < 300 and Path(item).exists():
        return item
    return "<text>"


def failure(item: ArticleInput, exc: Exception) -> Failure:
    message = str(exc) if isinstance(exc, NewsieError) else f"unexpected error: {exc}"
    return Failure(source=source_of(item), error=type(exc).__name__, message=redact(message))


def extract_one(extractor: Extractor, item: ArticleInput) -> Extraction | Failure:
    try:
        return extractor.extract(item)
    except Exception as exc:  # a bug must not sink the rest of the batch either
        return failure(item, exc)


async def aextract_one(extractor: Extractor, item: ArticleInput) -> Extraction | Failure:
    try:
        return await extractor.aextract(item)
    except Exception as exc:
        return failure(item, exc)


def run_many(
    extractor: Extractor, inputs: Iterable[ArticleInput] | ArticleInput, concurrency: int
) -> Iterator[Extraction | Failure]:
    """Results in input order, with at most `concurrency` articles in flight."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        pending: deque[Future[Extraction | Failure]] = deque()
        for item in expand_inputs(inputs):
            pending.append(pool.submit(extract_one, extractor, item))
            if len(pending) >= concurrency:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


async def arun_many(
    extractor: Extractor, inputs: Iterable[ArticleInput] | ArticleInput, concurrency: int
) -> AsyncIterator[Extraction | Failure]:
    pending: deque[asyncio.Task[Extraction | Failure]] = deque()
    try:
        for item in expand_inputs(inputs):
            pending.append(asyncio.ensure_future(aextract_one(extractor, item)))
            if len(pending) >= concurrency:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:  # the caller stopped iterating (break, cancel): nothing runs on unasked
        for task in pending:
            task.cancel()


def summarize(results: Iterable[Extraction | Failure]) -> Summary:
    """Totals over a batch: articles done, failed and cached, events by type (each type
    found, in the order first found), tokens."""
    done = failed = cached = 0
    usage = Usage()
    events: dict[str, int] = {}
    for result in results:
        if isinstance(result, Failure):
            failed += 1
            continue
        done += 1
        usage = usage + result.usage
        cached += result.usage.requests > 0 and result.usage.cached == result.usage.requests
        for ev in result.events:
            events[ev.type] = events.get(ev.type, 0) + 1
    return Summary(done=done, failed=failed, cached=cached, events=events, usage=usage)
