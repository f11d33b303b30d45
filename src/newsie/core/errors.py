"""One tree of errors, so callers can catch `NewsieError` or exactly the case they handle."""

from __future__ import annotations


class NewsieError(Exception):
    """Base class of every error newsie raises on purpose."""


class ArticleError(NewsieError):
    """The input is not an article newsie can read."""


class EmptyArticleError(ArticleError):
    pass


class BinaryInputError(ArticleError):
    pass


class ArticleTooLargeError(ArticleError):
    pass


class MalformedArticleError(ArticleError):
    pass


class DateError(ArticleError, ValueError):
    """A date the caller gave (`published=`) is not one newsie can read or place."""


class ConfigurationError(NewsieError, ValueError):
    """Options newsie cannot honour: conflicting ones, or a client that cannot serve a call."""


class ResultsFileError(NewsieError):
    """A file read as `newsie extract` JSONL holds a line that is not a result."""


class BatchError(NewsieError):
    """A batch run cannot go on as asked: no state beside `--out`, or a batch still open."""


class OutputFileError(NewsieError):
    """`--out` cannot be written: a folder, a missing folder, an input, or a file in use."""


class GoldFileError(NewsieError):
    """A gold (or gold-format predictions) JSONL file holds a line newsie cannot score."""


class TemplateError(NewsieError):
    """A prompt template is missing, broken, or tried something the sandbox forbids."""


class ModelError(NewsieError):
    """The model server could not give a usable answer."""


class ServerUnreachableError(ModelError):
    pass


class ServerError(ModelError):
    """The server answered with an error, after the bounded retries for transient ones."""


class ModelOutputError(ModelError):
    """The model's answer never fit the schema, even after re-asking."""


class LocalModelError(ModelError):
    """The embedded engine or its model file is missing, corrupt, would not start, or hung."""


class NlpError(NewsieError):
    """spaCy or its English pipeline is missing."""


class AliasFileError(NewsieError):
    """A user alias file is missing or not in a format newsie reads."""


class TypeDefinitionError(NewsieError):
    """An event type is defined wrongly; the message names the type and the field."""


class UnknownTypeError(NewsieError):
    """`types=` names an event type that is neither built in, registered nor importable."""


class CacheWarning(UserWarning):
    """The answer cache cannot be used (unwritable, not a folder, corrupt): newsie goes on
    without it."""
