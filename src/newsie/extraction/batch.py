"""Many articles: bounded concurrency, input order kept, one bad article loses nothing."""

from __future__ import annotations

import asyncio
import os
import queue
import stat
import threading
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..core.errors import EmptyArticleError, MalformedArticleError
from ..events import Extraction, Failure, Summary, Usage
from ..reading.article import (
    MAX_INPUT_BYTES,
    MAX_TEXT_CHARS,
    Article,
    ArticleInput,
    as_path,
    display_name,
    failure_record,
    load_article,
    source_name,
    source_of,
)
from ..reading.feed import is_feed, read_feed, read_posts
from .extractor import Extractor

#: What a folder's articles are named (in any case: `.TXT` too); a `.jsonl` feed is read
#: only when named itself.
ARTICLE_SUFFIXES = {".txt", ".html", ".htm", ".json", ".md"}

#: An input, or an input already known to have failed (a bad feed line).
Item = ArticleInput | Failure
T = TypeVar("T")


def expand_inputs(
    inputs: Iterable[Item] | ArticleInput,
    *,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> Iterator[Item]:
    """Folders become their article files, sorted; a `.jsonl` feed its articles, one a line
    (a bad line a `Failure`); everything else passes through.

    Only a `Path` (or another `os.PathLike`) names a file or folder: a `str` is text.
    WordPress REST JSON holding a list of posts (a `.json` file) gives each post.
    """
    items: Iterable[Item] = (
        [inputs] if isinstance(inputs, (str, bytes, Article, os.PathLike)) else inputs
    )
    for item in items:
        path = as_path(item)
        if path is not None and path.is_dir():
            for entry in folder_articles(path):
                yield from ([entry] if isinstance(entry, Failure)
                            else _one_file(entry, max_bytes, max_chars))
        elif path is not None and is_feed(path):
            yield from read_feed(path, max_bytes=max_bytes, max_chars=max_chars)
        elif path is not None:
            yield from _one_file(item, max_bytes, max_chars)  # type: ignore[arg-type]
        else:
            yield item


def _one_file(item: os.PathLike[str], max_bytes: int, max_chars: int) -> Iterator[Item]:
    """A file: itself, or each post of a WordPress REST list in a `.json` file."""
    path = Path(item)
    posts = (read_posts(path, max_bytes=max_bytes, max_chars=max_chars)
             if path.suffix.lower() == ".json" else None)
    yield from posts if posts else [item]


def folder_articles(folder: Path) -> Iterator[Path | Failure]:
    """A folder's article files, sorted; one named by an article suffix that cannot be read
    (a symlink that loops or points nowhere) still goes on, and fails by name when read.

    A folder with no article file at all is one `Failure` that says what it skipped.
    """
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        yield failure_record(source_name(folder), MalformedArticleError(
            f"{source_name(folder)}: cannot list folder ({exc.strerror or exc})"))
        return
    found = 0
    skipped: list[str] = []
    for entry in entries:
        if entry.suffix.lower() in ARTICLE_SUFFIXES and not entry.is_dir():
            found += 1
            yield entry
        else:
            skipped.append(display_name(entry.name) + ("/" if entry.is_dir() else ""))
    if not found:
        what = f"skipped {', '.join(skipped[:5])}" + (
            f" and {len(skipped) - 5} more" if len(skipped) > 5 else "") if skipped else "empty"
        yield failure_record(source_name(folder), EmptyArticleError(
            f"{source_name(folder)}: no article file in the folder (names ending "
            f"{', '.join(sorted(ARTICLE_SUFFIXES))}); {what}"))


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


#: A file as it was when read: its size and modification time (ns), and the identity
#: of the article read from it.
Stamp = tuple[int, int, str]


def file_stamp(path: Path) -> tuple[int, int] | None:
    """Size and mtime of a regular file; None for a stream, a folder, or what cannot be read."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


class SkipDone:
    """Drops, as the inputs stream by, those an earlier run finished (`done` identities).

    A file whose size and mtime are those in `stamps` (what the earlier run saw) is known
    without reading it again; any other input is read once, and skipped when its identity
    (source and fingerprint of the cleaned text) is done or came earlier in this run. The
    articles come back read, so the batch does not read them again (a stream could not be
    read twice). Failures stay: they are what a re-run is for. `fresh` holds the stamps of
    the files read now, by source.
    """

    def __init__(self, done: set[str], stamps: dict[str, Stamp] | None = None, *,
                 max_bytes: int = MAX_INPUT_BYTES, max_chars: int = MAX_TEXT_CHARS) -> None:
        self.seen = set(done)
        self.stamps = stamps or {}
        self.fresh: dict[str, Stamp] = {}
        self.skipped = 0
        self.max_bytes = max_bytes
        self.max_chars = max_chars

    def __call__(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            path = None if isinstance(item, Failure) else as_path(item)
            name = source_name(path) if path is not None else None
            now = file_stamp(path) if path is not None else None
            known = self.stamps.get(name) if name is not None else None
            if now is not None and known is not None and known[:2] == now \
                    and known[2] in self.seen:
                self.skipped += 1  # unchanged since it was done: not read again
                continue
            loaded = load_or_fail(item, max_bytes=self.max_bytes, max_chars=self.max_chars)
            if isinstance(loaded, Article):
                if loaded.identity in self.seen:
                    self.skipped += 1
                    continue
                self.seen.add(loaded.identity)
                if now is not None and name == loaded.source:
                    self.fresh[loaded.source] = (*now, loaded.identity)
            yield loaded


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


def read_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """`items`, produced in a thread up to `depth` ahead: the next articles are read while
    the model answers. Stopping early (break, an error) stops the thread too."""
    buffer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((False, None))
        except BaseException as exc:  # raised where the items are wanted
            buffer.put((False, exc))

    thread = threading.Thread(target=produce, name="newsie-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, value = buffer.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()


def run_many(
    extractor: Extractor, inputs: Iterable[Item] | ArticleInput, concurrency: int
) -> Generator[Extraction | Failure, None, None]:
    """Results in input order, with at most `concurrency` articles in flight; the next
    articles are read (a thread ahead) while the model answers, never all of them first.

    Ctrl-C, or a caller that stops iterating, returns at once: what has not started is
    cancelled, and a generation under way is left to finish in its thread, unwaited.
    """
    size, chars = extractor.max_bytes, extractor.max_chars
    items = read_ahead(
        (load_or_fail(item, max_bytes=size, max_chars=chars)
         for item in expand_inputs(inputs, max_bytes=size, max_chars=chars)),
        depth=max(1, concurrency))
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    pending: deque[Future[Extraction | Failure]] = deque()
    try:
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
    except BaseException:  # KeyboardInterrupt, GeneratorExit: no wait for the model
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


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
