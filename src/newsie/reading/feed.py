"""A feed: a `.jsonl` file of articles, one JSON object a line, as a crawler or feed reader
writes them.

Each line has `text` or `html`, and may have `published`, `title` and `source` or `url`; a line
without a source is named `file:line`. A bad line becomes one `Failure` that names its file
and line, and the rest of the feed goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from ..core.errors import ArticleTooLargeError, MalformedArticleError
from ..events import Failure
from .article import (
    MAX_INPUT_BYTES,
    MAX_TEXT_CHARS,
    Article,
    article_from,
    article_from_post,
    failure_record,
    post_list,
    read_bytes,
    source_name,
)
from .dates import parse_published

SUFFIX = ".jsonl"


def is_feed(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def read_feed(
    path: Path, *, max_bytes: int = MAX_INPUT_BYTES, max_chars: int = MAX_TEXT_CHARS
) -> Iterator[Article | Failure]:
    """One `Article` or `Failure` per non-blank line, read as the lines are wanted."""
    name = source_name(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        yield failure_record(name, MalformedArticleError(
            f"{name}: cannot read feed ({exc.strerror or exc})"))
        return
    with stream:
        for number, line in enumerate(_lines(stream, max_bytes), start=1):
            where = f"{name}:{number}"
            if isinstance(line, Exception):
                yield failure_record(where, type(line)(f"{where}: {line}"))
            elif line.strip():
                yield _article(line, where, max_bytes, max_chars)


def _article(line: bytes, where: str, max_bytes: int, max_chars: int) -> Article | Failure:
    """The line's article, or its failure named by its source, with `file:line` in the message."""
    try:
        record: Any = json.loads(line)
    except ValueError as exc:
        return failure_record(where, MalformedArticleError(f"{where}: not a JSON object ({exc})"))
    if not isinstance(record, dict):
        return failure_record(where, MalformedArticleError(f"{where}: not a JSON object"))
    given = record.get("source") or record.get("url")
    source = given if isinstance(given, str) and given.strip() else where
    try:
        kind = "html" if isinstance(record.get("html"), str) else "text"
        body = record.get(kind)
        if not isinstance(body, str):
            raise MalformedArticleError(f"{where}: a feed line needs a `text` or `html` string")
        published = record.get("published")
        day = parse_published(None if published is None else str(published))
        article = article_from(body, source=source, published=day, max_bytes=max_bytes,
                               max_chars=max_chars, as_html=True if kind == "html" else None)
    except Exception as exc:  # one bad line is one record; the feed goes on
        failed = failure_record(source, exc)
        if where not in failed.message:
            message = f"{where}: {failed.message.removeprefix(source + ': ')}"
            failed = failed.model_copy(update={"message": message})
        return failed
    title = record.get("title")
    if isinstance(title, str) and title.strip():
        return replace(article, title=title.strip())
    return article


def _lines(stream: IO[bytes], max_bytes: int) -> Iterator[bytes | ArticleTooLargeError]:
    """Lines of at most `max_bytes`; a longer one is an error, skipped without holding it."""
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # drop the rest of the line
                line = stream.readline(1 << 20)
            yield ArticleTooLargeError(f"line is over the limit of {max_bytes / 1e6:.1f} MB")
            continue
        yield line


def read_posts(
    path: Path, *, max_bytes: int = MAX_INPUT_BYTES, max_chars: int = MAX_TEXT_CHARS
) -> list[Article | Failure] | None:
    """A WordPress REST list of posts in a `.json` file: one article per post, named by
    its `link`, else `file#id`, else `file#N`. None when the file is anything else (one
    post, an article), and it is read as one article."""
    name = source_name(path)
    try:
        posts = post_list(read_bytes(path, name, max_bytes))
    except Exception:  # unreadable: read as one article, it fails by name
        return None
    if posts is None:
        return None
    read: list[Article | Failure] = []
    for number, post in enumerate(posts, start=1):
        link, key = post.get("link"), post.get("id")
        source = (link if isinstance(link, str) and link.strip()
                  else f"{name}#{key}" if isinstance(key, (int, str)) and str(key).strip()
                  else f"{name}#{number}")
        try:
            read.append(article_from_post(post, source=source, max_chars=max_chars))
        except Exception as exc:  # one bad post is one record; the others go on
            read.append(failure_record(source, exc))
    return read
