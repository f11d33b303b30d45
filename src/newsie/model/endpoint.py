"""Endpoint settings: where and how to call an OpenAI-compatible model server."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from ..core.redact import redact_url, url_secrets

#: Where the openai client sends requests when no base URL is given.
OPENAI_API_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True, repr=False)
class Endpoint:
    """Where and how to call a model. Neither the key nor URL credentials reach `repr()`."""

    #: None: the OpenAI API.
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = 4
    max_retry_seconds: float = 60.0
    reasks: int = 2
    max_tokens: int = 1024
    temperature: float = 0.0
    #: The in-process engine: its failures are the engine's, reported as `LocalModelError`.
    embedded: bool = False

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        **options: Any,
    ) -> Endpoint | None:
        """The server the arguments or the environment name, or None when none is named.

        A server is named by a base URL (`base_url=`, `OPENAI_BASE_URL`) or a model name
        (`model=`, `NEWSIE_MODEL`: alone, the OpenAI API). A key alone (`OPENAI_API_KEY`)
        names none: it is only sent once the caller chose a server.
        """
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        model = model or os.environ.get("NEWSIE_MODEL") or None
        if not (base_url or model):
            return None
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        values = {k: v for k, v in options.items() if v is not None}
        return cls(base_url=base_url, api_key=api_key, model=model or DEFAULT_MODEL, **values)

    @property
    def where(self) -> str:
        """The server's URL, safe to print and to key a cache on: no credentials in it, and
        no trailing slash (openai adds one to a client's URL)."""
        shown = redact_url(self.base_url or OPENAI_API_URL)
        return shown.removesuffix("/")

    def secrets(self) -> set[str]:
        """Every credential these settings hold: the key, and any inside the URL."""
        return {s for s in (self.api_key, *url_secrets(self.base_url)) if s}

    @property
    def loopback(self) -> bool:
        """The server listens on this machine: requests to it never go through a proxy."""
        return self.embedded or is_loopback(self.base_url)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={self.where if f.name == 'base_url' else getattr(self, f.name)!r}"
            for f in fields(self) if f.repr
        )
        return f"Endpoint({shown})"


def is_loopback(url: str | None) -> bool:
    """True for `localhost`, `127.x.x.x`, `::1` (and names under `.localhost`)."""
    if not url:
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
