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
                outer._send(self, reply or outer.script[index])
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

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
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
