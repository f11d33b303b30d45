"""Many articles: bounded concurrency, input order kept, one bad article loses nothing."""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from ..events import Extraction, Failure, Summary, Usage
from ..reading.article import (
    MAX_INPUT_BYTES,
    MAX_TEXT_CHARS,
    Article,
    ArticleInput,
    as_path,
    failure_record,
    load_article,
    source_of,
)
from ..reading.feed import is_feed, read_feed
from .extractor import Extractor

#: What a folder's articles are named; a `.jsonl` feed is read only when named itself.
ARTICLE_SUFFIXES = {".txt", ".html", ".htm", ".json", ".md"}

#: An input, or an input already known to have failed (a bad feed line).
Item = ArticleInput | Failure


def expand_inputs(
    inputs: Iterable[Item] | ArticleInput,
    *,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> Iterator[Item]:
    """Folders become their article files, sorted; a `.jsonl` feed its articles, one a line
    (a bad line a `Failure`); everything else passes through.

    Only a `Path` (or another `os.PathLike`) names a file or folder: a `str` is text.
    """
    items: Iterable[Item] = (
        [inputs] if isinstance(inputs, (str, bytes, Article, os.PathLike)) else inputs
    )
    for item in items:
        path = as_path(item)
        if path is not None and path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix in ARTICLE_SUFFIXES
            )
        elif path is not None and is_feed(path):
            yield from read_feed(path, max_bytes=max_bytes, max_chars=max_chars)
        else:
            yield item


def failure(item: ArticleInput, exc: Exception) -> Failure:
    return failure_record(source_of(item), exc)


def load_or_fail(
    item: Item,
    *,
    published: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> Article | Failure:
    """`item` read once, into the `Article` or the `Failure` the batch records for it."""
    if isinstance(item, Failure):
        return item
    try:
        return load_article(item, published=published, max_bytes=max_bytes,
                            max_chars=max_chars)
    except Exception as exc:  # a bug in reading must not sink the batch either
        return failure(item, exc)


def skip_done(
    items: Iterable[Item],
    done: set[str],
    *,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> tuple[list[Item], int]:
    """Each input read once; those whose identity is `done`, or came earlier, dropped.

    The articles come back read, so the batch does not read them again (a stream could not
    be read twice). Failures stay: they are what a re-run is for.
    """
    todo: list[Item] = []
    seen = set(done)
    skipped = 0
    for item in items:
        loaded = load_or_fail(item, max_bytes=max_bytes, max_chars=max_chars)
        if isinstance(loaded, Article):
            if loaded.identity in seen:
                skipped += 1
                continue
            seen.add(loaded.identity)
        todo.append(loaded)
    return todo, skipped


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
    extractor: Extractor, inputs: Iterable[Item] | ArticleInput, concurrency: int
) -> Generator[Extraction | Failure, None, None]:
    """Results in input order, with at most `concurrency` articles in flight."""
    items = expand_inputs(inputs, max_bytes=extractor.max_bytes, max_chars=extractor.max_chars)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        pending: deque[Future[Extraction | Failure]] = deque()
        for item in items:
            if isinstance(item, Failure):  # failed while reading: recorded in its place
                pending.append(Future())
                pending[-1].set_result(item)
            else:
                pending.append(pool.submit(extract_one, extractor, item))
            while pending and (len(pending) >= concurrency or pending[0].done()):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


async def arun_many(
    extractor: Extractor, inputs: Iterable[Item] | ArticleInput, concurrency: int
) -> AsyncGenerator[Extraction | Failure, None]:
    items = expand_inputs(inputs, max_bytes=extractor.max_bytes, max_chars=extractor.max_chars)
    pending: deque[asyncio.Future[Extraction | Failure]] = deque()
    try:
        while True:
            # a folder listing or a feed's next line is file work: off the event loop
            item = await asyncio.to_thread(next, items, None)
            if item is None:
                break
            if isinstance(item, Failure):
                pending.append(asyncio.get_running_loop().create_future())
                pending[-1].set_result(item)
            else:
                pending.append(asyncio.ensure_future(aextract_one(extractor, item)))
            while pending and (len(pending) >= concurrency or pending[0].done()):
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:  # the caller stopped iterating (break, cancel): nothing runs on unasked
        for task in pending:
            task.cancel()


def owned_run_many(
    extractor: Extractor, inputs: Iterable[Item] | ArticleInput, concurrency: int
) -> Iterator[Extraction | Failure]:
    """`run_many` over an extractor made for this batch: closed (its connections and cache
    handles released) once the results end or the caller stops reading them."""
    results = run_many(extractor, inputs, concurrency)
    try:
        yield from results
    finally:
        results.close()
        extractor.close()


async def aowned_run_many(
    extractor: Extractor, inputs: Iterable[Item] | ArticleInput, concurrency: int
) -> AsyncIterator[Extraction | Failure]:
    """The async twin of `owned_run_many`: the extractor's async clients are closed on the
    loop that used them."""
    results = arun_many(extractor, inputs, concurrency)
    try:
        async for result in results:
            yield result
    finally:
        await results.aclose()
        await extractor.aclose()


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
