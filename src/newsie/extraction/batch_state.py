"""What a batch run keeps between commands: a small state file and the answers it brought.

Both lie beside `--out` (`results.jsonl.batch.json`, `results.jsonl.answers.jsonl`). The state
names the inputs, the settings (never the key: it comes from the environment each time), the
open batch and the requests waiting in it. The answers file is append-only, so a `collect`
that was interrupted finds every answer it had already parsed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import BaseModel, Field

from ..core.errors import ConfigurationError
from ..events import Usage


class Request(BaseModel):
    """One request line waiting for its answer."""

    custom_id: str
    article: str = Field(description="The identity of the article whose flow asked.")
    key: str = Field(description="The answer cache key of the request the flow waits on.")
    attempt: int = 1
    tail: list[dict[str, str]] = Field(
        default_factory=list, description="Messages after the request's own (a re-ask).")
    spent: Usage = Field(default_factory=Usage, description="Earlier attempts' usage.")


class BatchState(BaseModel):
    inputs: list[str]
    settings: dict[str, Any]
    requests_file: str | None = None
    batch_id: str | None = None
    batch_status: str | None = None
    pending: dict[str, Request] = Field(default_factory=dict)
    failed: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Articles given up on in this run, as Failures.")
    lost: list[str] = Field(default_factory=list)


def state_path(out: Path) -> Path:
    return out.with_name(out.name + ".batch.json")


def answers_path(out: Path) -> Path:
    return out.with_name(out.name + ".answers.jsonl")


def load_state(out: Path) -> BatchState | None:
    path = state_path(out)
    if not path.exists():
        return None
    try:
        return BatchState.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not a newsie batch state file ({exc})") from None


def save_state(out: Path, state: BatchState) -> None:
    """Written whole or not at all: a killed process leaves the previous state."""
    path = state_path(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(state.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """One batch command at a time on one `--out`."""
    lock = FileLock(str(state_path(out)) + ".lock")
    try:
        with lock.acquire(timeout=0):
            yield
    except Timeout:
        raise ConfigurationError(
            f"another newsie batch command is working on {out}; wait for it") from None


class AnswerFile:
    """The answers a batch brought: cache key -> (answer JSON, usage of every attempt)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answers: dict[str, tuple[dict[str, Any], Usage]] = {}
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if text and not text.endswith("\n"):  # torn: the next answer starts a fresh line
                with path.open("a", encoding="utf-8") as f:
                    f.write("\n")
            for line in text.splitlines():
                try:
                    record = json.loads(line)
                    self.answers[record["key"]] = (record["answer"],
                                                   Usage.model_validate(record["usage"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a killed process: that answer is parsed again

    def get(self, key: str) -> tuple[dict[str, Any], Usage] | None:
        return self.answers.get(key)

    def put(self, key: str, answer: dict[str, Any], usage: Usage) -> None:
        if key in self.answers:
            return
        self.answers[key] = (answer, usage)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"key": key, "answer": answer, "usage": usage.model_dump()},
                               ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
