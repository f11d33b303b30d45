"""A real HTTP server on loopback that plays an OpenAI-compatible model, badly on request.

Each test scripts the answers in order; the last one repeats. It records every request
so tests can count attempts and look at what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str/bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection mid-body
    #: an answer that takes time: asked as a stream, these pieces come as server-sent
    #: events `token_delay` apart; asked whole, the body comes after all that time
    tokens: list[str] | None = None
    token_delay: float = 0.0
    #: the stream goes silent (for `stall_seconds`) after this many pieces
    stall_after: int | None = None
    stall_seconds: float = 30.0


def streamed(content: str, pieces: int, **options: Any) -> Reply:
    """`content` as an answer in `pieces` parts (see `Reply.tokens`)."""
    size = max(1, -(-len(content) // pieces))
    return Reply(tokens=[content[i:i + size] for i in range(0, len(content), size)], **options)


def completion(content: str, prompt_tokens: int = 50, completion_tokens: int = 10,
               ) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def events_reply(events: list[dict[str, Any]]) -> Reply:
    return Reply(body=completion(json.dumps({"events": events})))


class FakeModelServer:
    def __init__(self, *, keep_alive: bool = False) -> None:
        self.script: list[Reply] = [events_reply([])]
        #: when set, answers every request instead of the script
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.stopped = threading.Event()
        self._die_after: int | None = None
        #: connections accepted and not yet closed (HTTP/1.1 keeps them open: `keep_alive`)
        self.open_connections = 0
        self._count_lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with outer._count_lock:
                    outer.open_connections += 1

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with outer._count_lock:
                        outer.open_connections -= 1

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append(request)
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                index = min(len(outer.requests) - 1, len(outer.script) - 1)
                # this request, not requests[-1]: another thread may have appended since
                reply = outer.responder(request) if outer.responder else None
                outer._send(self, reply or outer.script[index], bool(request.get("stream")))
                if outer._die_after is not None and len(outer.requests) >= outer._die_after:
                    threading.Thread(target=outer.stop, daemon=True).start()

            def do_GET(self) -> None:
                outer._send(self, Reply(body={"object": "list", "data": []}))

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def start(self) -> FakeModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self.stopped.is_set():
            self.stopped.set()
            self._http.shutdown()
            self._http.server_close()

    def die_after(self, requests: int) -> None:
        """Close the listening socket once `requests` requests have been answered."""
        self._die_after = requests

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply,
              stream: bool = False) -> None:
        if reply.tokens is not None:
            if stream:
                self._stream(handler, reply)
                return
            time.sleep(reply.token_delay * len(reply.tokens))  # the whole answer, then
            reply = Reply(body=completion("".join(reply.tokens)))
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            if reply.drop:
                handler.wfile.write(data[: len(data) // 2])
                handler.wfile.flush()
                handler.close_connection = True
                return
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


    def _stream(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        """Server-sent events as llama.cpp's server writes them, one piece at a time."""
        def event(data: dict[str, Any] | str) -> None:
            text = data if isinstance(data, str) else json.dumps(data)
            handler.wfile.write(f"data: {text}\n\n".encode())
            handler.wfile.flush()

        def chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
            return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0,
                    "model": "fake", "choices": [{"index": 0, "finish_reason": finish,
                                                  "delta": {"content": content}}]}
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.end_headers()
            handler.close_connection = True
            assert reply.tokens is not None
            for i, piece in enumerate(reply.tokens):
                if reply.stall_after is not None and i == reply.stall_after:
                    self.stopped.wait(reply.stall_seconds)
                    return
                time.sleep(reply.token_delay)
                event(chunk(piece))
            event(chunk(None, "stop"))
            event({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0,
                   "model": "fake", "choices": [],
                   "usage": {"prompt_tokens": 50, "completion_tokens": len(reply.tokens),
                             "total_tokens": 50 + len(reply.tokens)}})
            event("[DONE]")
        except (BrokenPipeError, ConnectionResetError):
            pass


if __name__ == "__main__":  # a stand-in model server for subprocess tests
    import sys

    server = FakeModelServer()
    server._http.server_close()
    handler = server._http.RequestHandlerClass
    server._http = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler)
    server.script = [events_reply([{"type": "mou", "sent": [1], "parties": ["Acme Motors"],
                                    "people": []}])]
    if len(sys.argv) > 2 and int(sys.argv[2]):
        server.die_after(int(sys.argv[2]))
    if len(sys.argv) > 3:
        server.script[0].delay = float(sys.argv[3])
    server._http.serve_forever()
