"""The provider Batch API (OpenAI's, and the servers that copy it): upload a JSONL file of
requests, create a batch, poll it, download its output and error files.

Calls go through the same openai client, transport retry policy and error translation as a
live call, so a batch failure reads like any other server failure and never shows the key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tenacity import Retrying

from ..core.errors import ModelError
from .endpoint import Endpoint
from .faults import translate_error
from .openai_backend import sync_client
from .retry import retry_policy

if TYPE_CHECKING:
    import openai

R = TypeVar("R")

#: The batch states after which nothing more will come.
FINAL = frozenset({"completed", "expired", "failed", "cancelled"})
#: Where each request line goes on the server.
CHAT_URL = "/v1/chat/completions"


@dataclass(frozen=True)
class BatchInfo:
    """A batch as the provider reports it."""

    id: str
    status: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


class BatchApi:
    """The Files and Batches endpoints of one server."""

    def __init__(self, endpoint: Endpoint, client: openai.OpenAI | None = None) -> None:
        self.endpoint = endpoint
        self._client = client

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            self._client = sync_client(self.endpoint)
        return self._client

    def _call(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        retrying = Retrying(**retry_policy(self.endpoint))
        try:
            return retrying(fn, *args, **kwargs)
        except ModelError:
            raise
        except Exception as exc:
            attempts = int(retrying.statistics.get("attempt_number", 1))
            raise translate_error(exc, self.endpoint, attempts) from None

    def create(self, lines: bytes, *, name: str = "newsie-requests.jsonl") -> BatchInfo:
        """Upload `lines` (the request file) and start a batch over it (24 hour window)."""
        uploaded = self._call(self.client.files.create, file=(name, lines), purpose="batch")
        batch = self._call(self.client.batches.create, input_file_id=uploaded.id,
                           endpoint=CHAT_URL, completion_window="24h",
                           metadata={"made_by": "newsie"})
        return _info(batch)

    def retrieve(self, batch_id: str) -> BatchInfo:
        return _info(self._call(self.client.batches.retrieve, batch_id))

    def download(self, file_id: str) -> str:
        """A file's text (an output or error file: one JSON result a line)."""
        content = self._call(self.client.files.content, file_id)
        return str(content.text)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _info(batch: Any) -> BatchInfo:
    counts = getattr(batch, "request_counts", None)
    return BatchInfo(
        id=batch.id, status=batch.status,
        total=getattr(counts, "total", 0) or 0,
        completed=getattr(counts, "completed", 0) or 0,
        failed=getattr(counts, "failed", 0) or 0,
        output_file_id=getattr(batch, "output_file_id", None),
        error_file_id=getattr(batch, "error_file_id", None),
    )
