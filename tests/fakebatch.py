"""A loopback fake of an OpenAI-compatible server's Files and Batches endpoints (and its
/chat/completions, so live and batch runs can be compared on the same answers).

`answer(body)` gives the assistant's content for one request body, or None for a request
the server refuses. Each batch moves validating -> in_progress -> its outcome, one step per
retrieve (reported, then moved on); the outcomes are taken from `outcomes` in order
("completed" once they run out).
An expired batch answers only its first `expire_after` lines; a failed one none.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakeserver import completion

Answer = Callable[[dict[str, Any]], str | None]


class FakeBatchServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.outcomes: list[str] = []
        self.expire_after = 1
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.uploads: list[list[dict[str, Any]]] = []
        self.chat: list[dict[str, Any]] = []
        self.authorization: set[str] = set()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.authorization.add(self.headers.get("authorization", ""))
                with outer._lock:
                    status, body = outer.post(self.path, self.headers.get("content-type", ""),
                                              data)
                self._reply(status, body)

            def do_GET(self) -> None:
                outer.authorization.add(self.headers.get("authorization", ""))
                with outer._lock:
                    status, body = outer.get(self.path)
                self._reply(status, body)

            def _reply(self, status: int, body: Any) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/v1"

    def start(self) -> FakeBatchServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    # ------------------------------------------------------------------ the endpoints

    def post(self, path: str, ctype: str, data: bytes) -> tuple[int, Any]:
        if path.endswith("/chat/completions"):
            request = json.loads(data)
            self.chat.append(request)
            content = self.answer(request)
            if content is None:
                return 400, {"error": {"message": "refused"}}
            return 200, completion(content)
        if path.endswith("/files"):
            message = BytesParser(policy=default).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + data)
            content = next(p.get_payload(decode=True) for p in message.iter_parts()
                           if p.get_param("name", header="content-disposition") == "file")
            file_id = f"file-{len(self.files)}"
            self.files[file_id] = content
            self.uploads.append([json.loads(line) for line in content.splitlines()])
            return 200, self._file(file_id, "batch")
        if path.endswith("/batches"):
            request = json.loads(data)
            batch_id = f"batch_{len(self.batches)}"
            outcome = self.outcomes.pop(0) if self.outcomes else "completed"
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": request["endpoint"],
                "input_file_id": request["input_file_id"],
                "completion_window": request["completion_window"], "status": "validating",
                "created_at": 0, "_outcome": outcome,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
            }
            return 200, self._public(batch_id)
        return 404, {"error": {"message": f"no route {path}"}}

    def get(self, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[-2] == "batches":
            batch = self.batches.get(parts[-1])
            if batch is None:
                return 404, {"error": {"message": "no such batch"}}
            seen = self._public(batch["id"])  # as it stands; the next look finds it further
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
            elif batch["status"] == "in_progress":
                self._finish(batch)
            return 200, seen
        if parts[-1] == "content" and parts[-2] in self.files:
            return 200, self.files[parts[-2]]
        return 404, {"error": {"message": f"no route {path}"}}

    def _finish(self, batch: dict[str, Any]) -> None:
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].splitlines()]
        total = len(lines)
        outcome = batch["_outcome"]
        if outcome == "failed":
            lines = []
        elif outcome == "expired":
            lines = lines[: self.expire_after]
        out: list[str] = []
        errors: list[str] = []
        for n, line in enumerate(lines):
            content = self.answer(line["body"])
            record: dict[str, Any] = {"id": f"batch_req_{n}", "custom_id": line["custom_id"],
                                      "error": None}
            if content is None:
                record["response"] = {"status_code": 400, "request_id": f"r{n}",
                                      "body": {"error": {"message": "refused"}}}
                errors.append(json.dumps(record))
            else:
                record["response"] = {"status_code": 200, "request_id": f"r{n}",
                                      "body": completion(content)}
                out.append(json.dumps(record))
        for kind, rows in (("output_file_id", out), ("error_file_id", errors)):
            if rows:
                file_id = f"file-{len(self.files)}"
                self.files[file_id] = ("\n".join(rows) + "\n").encode()
                batch[kind] = file_id
        batch["status"] = outcome
        batch["request_counts"] = {"total": total, "completed": len(out),
                                   "failed": len(errors)}

    def _public(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}

    def _file(self, file_id: str, purpose: str) -> dict[str, Any]:
        return {"id": file_id, "object": "file", "bytes": len(self.files[file_id]),
                "created_at": 0, "filename": "requests.jsonl", "purpose": purpose,
                "status": "processed"}
