"""Secrets never shown: the one place that scrubs keys and URL credentials from text.

Everything newsie shows (error messages, `Failure` records, log records of the HTTP
libraries, the endpoint a result names, the report) goes through `redact`, and every URL
through `redact_url`. Text is redacted first and only then cut to length, so a cut can
never leave the start of a key behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

#: Query or fragment parameters whose value is a credential (`api-key`, `sig`, `token`, ...).
_CREDENTIAL_NAME = re.compile(r"key|token|secret|sig|pass|pwd|auth|credential|session", re.I)
#: A URL inside free text: a scheme, `://`, and everything up to a space or a quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")


def _mask_params(params: str) -> str:
    pieces = []
    for piece in params.split("&"):
        name, eq, _ = piece.partition("=")
        pieces.append(f"{name}={MASK}" if eq and _CREDENTIAL_NAME.search(name) else piece)
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """`url` without user or password, and with credential parameters masked.

    `https://user:pass@host/v1?api-key=k&v=2` becomes `https://host/v1?api-key=***&v=2`.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can take apart: show nothing of it
        return "<url>"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, _mask_params(parts.query),
                       _mask_params(parts.fragment)))


def url_secrets(url: str | None) -> set[str]:
    """The credentials a URL carries: its password (or a bare user, `https://KEY@host`)
    and the values of its credential parameters."""
    if not url:
        return set()
    try:
        parts = urlsplit(url)
        password, username = parts.password, parts.username
    except ValueError:
        return set()
    found = {password or username or ""}
    for params in (parts.query, parts.fragment):
        for piece in params.split("&"):
            name, eq, value = piece.partition("=")
            if eq and value and _CREDENTIAL_NAME.search(name):
                found.add(value)
    return {s for s in found if s}


def redact(text: str, secrets: Iterable[str | None] = (), *, limit: int | None = None) -> str:
    """`text` with every secret and every URL credential masked, then cut to `limit`."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group()), text)
    return text if limit is None else text[:limit]


_formatter = logging.Formatter()


class LogRedactor(logging.Filter):
    """Scrubs records of the HTTP and LLM libraries, which log URLs and echo keys.

    A logger's filter sees only the records made by that logger, so `guard` sits on each of
    those libraries' loggers that exists so far; clients call it again once they are built.
    """

    prefixes = ("instructor", "openai", "httpx", "httpcore", "newsie")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            # an exception's text names its URL: keep the traceback as redacted text only
            trace = _formatter.formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(trace, self.secrets), None
        return True

    def guard(self, secrets: Iterable[str | None] = ()) -> None:
        """Remember `secrets`, and sit on every logger of those libraries made so far."""
        self.secrets.update(s for s in secrets if s)
        for name in list(logging.root.manager.loggerDict):
            if name.startswith(self.prefixes):
                logger = logging.getLogger(name)
                if self not in logger.filters:
                    logger.addFilter(self)


#: The one filter shared by every backend of the process.
log_redactor = LogRedactor()
