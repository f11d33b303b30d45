"""A slow local engine is slow, not dead: judge a request by its progress, not the clock.

llama.cpp on a busy CPU may take minutes over one answer while it still writes a token a
second. So each chat completion to the embedded engine is asked for as a stream (with the
prompt's progress, `return_progress`), and the HTTP read timeout, which counts from the last
byte received, becomes a bound on silence: a request that keeps producing is never cut
off, one that writes nothing for `timeout` seconds has stalled. The stream is put back
together into the one JSON answer the openai client and instructor expect, so nothing above
this transport changes.

The engine's JSON grammar (llguidance) lets whitespace run on without end by default, and a
small model can loop there until `max_tokens`; each schema is sent with fixed separators
and no free whitespace (`x-guidance`).

A stalled stream is a `ReadTimeout` that says how far the answer got; the retry policy
tries it once more, and the failure record keeps the message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2

#: Fixed separators and no free whitespace in the engine's JSON grammar.
GRAMMAR_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def stream_body(request: httpx2.Request) -> dict[str, Any] | None:
    """The JSON body of a chat completion to ask for as a stream; None for any other
    request (left as it is)."""
    if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
        return None
    try:
        body = json.loads(request.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("stream"):
        return None
    body.update(stream=True, stream_options={"include_usage": True}, return_progress=True)
    schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
    if isinstance(schema, dict):
        schema.setdefault("x-guidance", dict(GRAMMAR_OPTIONS))
    return body


def _streamed(request: httpx2.Request, body: dict[str, Any]) -> httpx2.Request:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx2.Request(request.method, request.url, headers=headers,
                          content=json.dumps(body).encode(), extensions=request.extensions)


def _is_stream(response: httpx2.Response) -> bool:
    return response.status_code == 200 and \
        response.headers.get("content-type", "").startswith("text/event-stream")


@dataclass
class Answer:
    """A streamed chat completion, put back together as the events arrive."""

    content: list[str] = field(default_factory=list)
    tokens: int = 0  # content chunks received: the engine sends one per token
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _pending: bytes = b""

    def feed(self, data: bytes) -> None:
        """Read the complete `data:` lines of the server-sent events in `data`."""
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            line = line.strip()
            if not line.startswith(b"data:"):
                continue  # comments, event names, keep-alives
            payload = line[5:].strip()
            if payload and payload != b"[DONE]":
                self._event(json.loads(payload))

    def _event(self, chunk: dict[str, Any]) -> None:
        for key in ("id", "created", "model", "system_fingerprint"):
            if chunk.get(key) is not None:
                self.meta.setdefault(key, chunk[key])
        self.usage = chunk.get("usage") or self.usage
        self.timings = chunk.get("timings") or self.timings
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                self.content.append(piece)
                self.tokens += 1
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    def completion(self) -> dict[str, Any]:
        """The answer as the one JSON body of a chat completion that was not streamed."""
        usage = self.usage
        if usage is None:  # a server that does not report it: what its timings say
            timings = self.timings or {}
            prompt = int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0))
            completion = int(timings.get("predicted_n", self.tokens))
            usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                     "total_tokens": prompt + completion,
                     "prompt_tokens_details": {"cached_tokens": int(timings.get("cache_n", 0))}}
        return {
            "id": self.meta.get("id", "chatcmpl-stream"), "object": "chat.completion",
            "created": self.meta.get("created", 0), "model": self.meta.get("model", ""),
            "choices": [{"index": 0, "finish_reason": self.finish_reason or "stop",
                         "message": {"role": "assistant", "content": "".join(self.content)}}],
            "usage": usage,
        }

    def stalled(self, request: httpx2.Request, exc: Exception) -> httpx2.ReadTimeout:
        """The timeout to raise: how far the answer got before the engine went silent."""
        seconds = (request.extensions.get("timeout") or {}).get("read")
        quiet = f"{seconds:g}s" if isinstance(seconds, (int, float)) else "the read timeout"
        return httpx2.ReadTimeout(
            f"the engine stalled (timed out: nothing new for {quiet} after {self.tokens} "
            f"tokens, {len(''.join(self.content))} characters, of the answer)", request=request)


def _answered(request: httpx2.Request, answer: Answer) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "application/json"},
                           content=json.dumps(answer.completion()).encode(), request=request)


class ProgressTransport(httpx2.BaseTransport):
    """Chat completions asked for as streams and judged by their progress (see module)."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = stream_body(request)
        if body is None:
            return self.inner.handle_request(request)
        answer = Answer()
        try:  # the prompt's progress comes as events too, so silence here is a stall
            response = self.inner.handle_request(_streamed(request, body))
        except httpx2.TimeoutException as exc:
            raise answer.stalled(request, exc) from exc
        if not _is_stream(response):  # an error, or a server that ignored `stream`
            return response
        try:
            for data in _chunks(response):
                answer.feed(data)
        except httpx2.TimeoutException as exc:
            raise answer.stalled(request, exc) from exc
        finally:
            response.close()
        return _answered(request, answer)

    def close(self) -> None:
        self.inner.close()


class AsyncProgressTransport(httpx2.AsyncBaseTransport):
    """The async twin of `ProgressTransport`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = stream_body(request)
        if body is None:
            return await self.inner.handle_async_request(request)
        answer = Answer()
        try:
            response = await self.inner.handle_async_request(_streamed(request, body))
        except httpx2.TimeoutException as exc:
            raise answer.stalled(request, exc) from exc
        if not _is_stream(response):
            return response
        try:
            async for data in _achunks(response):
                answer.feed(data)
        except httpx2.TimeoutException as exc:
            raise answer.stalled(request, exc) from exc
        finally:
            await response.aclose()
        return _answered(request, answer)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _chunks(response: httpx2.Response) -> Iterator[bytes]:
    stream: Any = response.stream
    yield from stream


async def _achunks(response: httpx2.Response) -> AsyncIterator[bytes]:
    stream: Any = response.stream
    async for data in stream:
        yield data
