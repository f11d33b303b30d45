"""The functions a notebook calls: one article, many articles, scoring, the report."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from .core.errors import NewsieError
from .events import Extraction, Failure, LinkedEvent
from .extraction.batch import aowned_run_many, failure, owned_run_many
from .extraction.extractor import Extractor, check_options
from .linking.link import link
from .output.evaluation import Score
from .output.export import read_results
from .output.progress import track
from .reading.article import ArticleInput, load_article


def extract(
    article: ArticleInput,
    *,
    source: str | None = None,
    published: str | None = None,
    **options: Any,
) -> Extraction:
    """Events in one article: text, HTML or WordPress JSON as a `str`, a file as a `Path`,
    or an `Article`.

    `options` are `Extractor`'s: the model (`backend`, `base_url`, `model`, `api_key`,
    `client`), `types`, `stages`, `template_dir`, `keep_ungrounded`, `cache`,
    `token_budget`, the endpoint's `timeout`, `max_attempts`, `max_retry_seconds`, `reasks`,
    `max_tokens`, and the reader's `chunk_chars`, `max_bytes`, `max_chars`.
    """
    check_options("extract", options)
    with Extractor(**options) as extractor:
        return extractor.extract(article, source=source, published=published)


async def aextract(
    article: ArticleInput,
    *,
    source: str | None = None,
    published: str | None = None,
    **options: Any,
) -> Extraction:
    """`extract` for services running an event loop: the loop is never blocked."""
    check_options("aextract", options)
    extractor = Extractor(**options)
    try:
        return await extractor.aextract(article, source=source, published=published)
    finally:
        await extractor.aclose()  # its async client is closed on this loop


#: Requests in flight when the caller names none: one on the embedded engine (on 2 cores,
#: two batched requests were slower and their answers could differ from run to run,
#: `bench/results/determinism-2026-12-07.md`), four on a server, which batches its own.
EMBEDDED_CONCURRENCY = 1
SERVER_CONCURRENCY = 4


def _concurrency(extractor: Extractor, concurrency: int | None) -> int:
    if concurrency is not None:
        return concurrency
    return EMBEDDED_CONCURRENCY if extractor.backend.endpoint == "embedded" \
        else SERVER_CONCURRENCY


def extract_many(
    inputs: Iterable[ArticleInput] | ArticleInput,
    *,
    concurrency: int | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Iterator[Extraction | Failure]:
    """Results for many articles (texts, `Path`s of files and folders, `Article`s), in input
    order. A `Path` to a `.jsonl` feed gives one article per line: `text` or `html`, and
    `published`, `title`, `source` or `url` when known.

    An article that fails (a bad feed line too) becomes a `Failure` record; the others go on.
    `progress`: a tqdm bar (a widget in Jupyter); by default only where someone watches (a
    notebook, a terminal). `concurrency`: requests in flight; by default one on the embedded
    engine (reproducible and fastest there), four on a server. `options` are those of
    `extract`. The model's connections are closed once the results end, or once the caller
    stops reading them.
    """
    check_options("extract_many", options)
    total = len(inputs) if isinstance(inputs, (list, tuple)) and not any(
        isinstance(i, os.PathLike) for i in inputs) else None  # a folder's size is unknown
    extractor = Extractor(**options)
    return track(owned_run_many(extractor, inputs, _concurrency(extractor, concurrency)),
                 total=total, show=progress)


def aextract_many(
    inputs: Iterable[ArticleInput] | ArticleInput,
    *,
    concurrency: int | None = None,
    **options: Any,
) -> AsyncIterator[Extraction | Failure]:
    """The async twin of `extract_many`: ``async for result in newsie.aextract_many(...)``."""
    check_options("aextract_many", options)
    extractor = Extractor(**options)
    return aowned_run_many(extractor, inputs, _concurrency(extractor, concurrency))


def evaluate(
    gold: str | Path,
    *,
    predictions: str | Path | Iterable[Extraction | Failure] | None = None,
    articles: str | Path | None = None,
    **options: Any,
) -> Score:
    """Score against a gold JSONL file (format of `seeds/gold.jsonl`).

    With no `predictions`, each gold article (`<id>.txt` beside the gold file, in its
    `articles/` folder, or in `articles`) is extracted first, with `options` as for
    `extract_many`. Articles that failed are listed in `Score.failed`, not scored.
    """
    from .output import evaluation as _eval

    check_options("evaluate", options)
    if predictions is None:
        gold_path = Path(gold)
        folder = Path(articles) if articles else None
        items: list[ArticleInput] = []
        unread: list[Failure] = []
        unfound: dict[str, str] = {}
        for key, record in _eval.read_gold(gold_path).items():
            try:
                path = _eval.find_article(gold_path, key, folder)
            except FileNotFoundError as exc:  # scored as failed; the others go on
                unfound[key] = f"{type(exc).__name__}: {exc}"
                continue
            try:  # the gold knows the publication date; relative dates need it
                items.append(load_article(path, published=record.get("published")))
            except NewsieError as exc:
                unread.append(failure(path, exc))
        predictions = [*unread, *extract_many(items, **options)]
        return _eval.evaluate(gold, predictions, unfound)
    if isinstance(predictions, (str, Path)) and not _eval.is_gold_format(predictions):
        predictions = read_results(predictions)  # the one reader of result files
    return _eval.evaluate(gold, predictions)


def write_report(
    results: Iterable[Extraction | Failure],
    path: str | Path,
    title: str = "newsie report",
    linked: Iterable[LinkedEvent] | None = None,
    *,
    aliases: str | Path | None = None,
) -> Path:
    """A self-contained HTML page: highlighted evidence, a filterable table, and a timeline
    per organization of `linked` (by default the results linked with `link`, with `aliases`
    as `link` takes them, when the `link` extra is installed; without it the page says so
    instead)."""
    from .output.report import render

    results = list(results)
    if linked is None:
        try:
            linked = link(results, aliases=aliases)
        except ImportError:
            linked = None
    out = Path(path)
    out.write_text(render(results, title, linked), encoding="utf-8")
    return out
