"""A corpus at half price: the provider Batch API, or vLLM's offline `run_batch`.

>>> import newsie.batch
>>> newsie.batch.submit(["articles/"], out="results.jsonl", model="gpt-4o-mini")
>>> newsie.batch.status("results.jsonl")          # hours later
>>> newsie.batch.collect("results.jsonl")         # writes what `newsie extract --out` writes

Offline: `prepare(..., requests="requests.jsonl")` writes the request file, vLLM (or a
provider's console) answers it, and `collect(..., results="answers.jsonl")` reads the answers.

Each article runs the same flow as `newsie.extract` (extraction/flow.py); this driver answers
its requests in rounds. `collect` takes one round's answers, writes the articles they finish
to `out` exactly as `newsie extract --out` does, and sends what the others still need (a
re-ask, the second stage, the next chunk) as the next round. Answers in the shared answer
cache are never sent, and answers a batch brings serve later live runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .core.errors import BatchError, ConfigurationError
from .core.redact import log_redactor, url_secrets
from .events import Failure, Usage
from .extraction.batch_driver import (
    Driver,
    Line,
    Pass,
    endpoint_of,
    estimate_tokens,
    read_lines,
    request_line,
)
from .extraction.batch_state import (
    BatchState,
    answers_path,
    load_state,
    locked,
    save_state,
)
from .extraction.flow import CHUNK_CHARS, Stages
from .extraction.registry import resolve_types
from .model.batch_api import FINAL, BatchApi, BatchInfo
from .model.endpoint import DEFAULT_MODEL, Endpoint
from .output.export import JsonlLog
from .reading.article import MAX_INPUT_BYTES, MAX_TEXT_CHARS, source_name

__all__ = ["BatchReport", "collect", "prepare", "status", "submit"]


@dataclass(frozen=True)
class BatchReport:
    """Where a batch run stands after one command."""

    out: Path
    batch_id: str | None = None
    status: str | None = None
    #: request lines sent (or written) in this command, and their prompt tokens, estimated
    requests: int = 0
    prompt_tokens: int = 0
    requests_file: Path | None = None
    #: articles written to `out` by this command, and how many of them are Failures
    written: int = 0
    failed: int = 0
    #: sources of the articles an expired or failed batch lost: `submit` sends them again
    lost: list[str] = field(default_factory=list)
    #: tokens the answers read by this `collect` cost
    usage: Usage = field(default_factory=Usage)
    #: the provider's request counts (`status`, and `collect` of an unfinished batch)
    counts: dict[str, int] = field(default_factory=dict)
    #: `collect` found the batch unfinished: nothing was read, try again later
    waiting: bool = False

    @property
    def finished(self) -> bool:
        """Nothing left to send or to wait for: every article is in `out`."""
        return self.requests == 0 and not self.lost and not self.waiting


def prepare(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    requests: str | os.PathLike[str],
    out: str | os.PathLike[str] = "results.jsonl",
    **options: Any,
) -> BatchReport:
    """Write the request file for `inputs` without sending it (for vLLM's `run_batch`).

    `options` are `submit`'s. Then `collect(out, results=...)` reads the answers.
    """
    target = Path(out)
    with locked(target):
        state = _fresh_state(target, inputs, options)
        state.requests_file = str(Path(requests).absolute())
        endpoint = endpoint_of(state.settings, None)
        return _round(target, state, endpoint, None, _first_pass(target, state, endpoint))


def submit(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] = "results.jsonl",
    api_key: str | None = None,
    **options: Any,
) -> BatchReport:
    """Send one request line per model request of `inputs` (files, folders, `.jsonl` feeds)
    to the server's Batch API; the state lies beside `out`.

    After an expired or failed batch, `submit` sends only what is still missing. `options`:
    `base_url`, `model`, `types`, `stages`, `template_dir`, `keep_ungrounded`, `cache`,
    `chunk_chars`, `token_budget`, `max_tokens`, `temperature`, `reasks`, `max_attempts`,
    `max_bytes`, `max_chars`. The key (`api_key=` or `OPENAI_API_KEY`) is never stored.
    """
    target = Path(out)
    with locked(target):
        state = _fresh_state(target, inputs, options)
        endpoint = _online(state, api_key)
        api = BatchApi(endpoint)
        try:
            return _round(target, state, endpoint, api, _first_pass(target, state, endpoint))
        finally:
            api.close()


def status(out: str | os.PathLike[str] = "results.jsonl", *,
           api_key: str | None = None) -> BatchReport:
    """The open batch's state and request counts, as the provider reports them."""
    target = Path(out)
    state = _state(target)
    if state.batch_id is None:
        waiting = len(state.pending)
        return BatchReport(target, status="prepared" if waiting else None, requests=waiting,
                           requests_file=Path(state.requests_file) if state.requests_file
                           else None, lost=state.lost)
    api = BatchApi(_online(state, api_key))
    try:
        info = api.retrieve(state.batch_id)
    finally:
        api.close()
    return BatchReport(target, batch_id=info.id, status=info.status, counts=_counts(info),
                       lost=state.lost)


def collect(
    out: str | os.PathLike[str] = "results.jsonl",
    *,
    results: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
) -> BatchReport:
    """Take a finished round's answers and write the articles they finish to `out`.

    Without `results`, the open batch's output and error files are downloaded (an unfinished
    batch is only reported); the next round, if any, is submitted as a new batch. With
    `results` (vLLM's `run_batch` output, or a file from a provider's console), the next
    round is written over the request file instead. Running it twice writes nothing twice.
    """
    target = Path(out)
    with locked(target):
        state = _state(target)
        if results is not None:
            return _take(target, state, endpoint_of(state.settings, None), None,
                         _read_results(results), lost_when_missing=False)
        if state.batch_id is None:
            raise BatchError(
                f"no batch was submitted for {target}: run `newsie batch submit`, or pass "
                "the results of a prepared request file with --from")
        api = BatchApi(_online(state, api_key))
        try:
            info = api.retrieve(state.batch_id)
            state.batch_status = info.status
            if not info.final:
                save_state(target, state)
                return BatchReport(target, batch_id=info.id, status=info.status,
                                   counts=_counts(info), waiting=True)
            return _take(target, state, api.endpoint, api, _download(api, info),
                         lost_when_missing=True)
        finally:
            api.close()


# ---------------------------------------------------------------------- the steps


def _settings(options: dict[str, Any]) -> dict[str, Any]:
    """What a later `collect` needs to read the articles and ask the same requests again."""
    known = {"base_url", "model", "types", "stages", "template_dir", "keep_ungrounded", "cache",
             "chunk_chars", "token_budget", "max_tokens", "temperature", "reasks",
             "max_attempts", "max_bytes", "max_chars"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigurationError(f"newsie.batch does not take {', '.join(unknown)}")
    base_url = options.get("base_url") or os.environ.get("OPENAI_BASE_URL") or None
    if url_secrets(base_url):
        raise ConfigurationError(
            "the batch state file keeps the server's URL: put credentials in OPENAI_API_KEY "
            "(or api_key=), not in the URL")
    types = options.get("types")
    if types is not None:
        types = [types] if isinstance(types, str) else list(types)
        if not all(isinstance(t, str) for t in types):
            raise ConfigurationError("newsie.batch takes types= as names or 'module:Name'")
        resolve_types(types)  # a wrong name fails now, not in every later command
    stages: Stages = options.get("stages") or 1
    cache = options.get("cache", True)
    template_dir = options.get("template_dir")
    return {
        "base_url": base_url,
        "model": options.get("model") or os.environ.get("NEWSIE_MODEL") or DEFAULT_MODEL,
        "types": types, "stages": stages,
        "template_dir": str(Path(template_dir).absolute()) if template_dir else None,
        "keep_ungrounded": bool(options.get("keep_ungrounded", False)),
        "cache": cache if isinstance(cache, bool) else str(Path(cache).absolute()),
        "chunk_chars": options.get("chunk_chars") or CHUNK_CHARS,
        "token_budget": options.get("token_budget"),
        "max_tokens": options.get("max_tokens"), "temperature": options.get("temperature"),
        "reasks": options.get("reasks"), "max_attempts": options.get("max_attempts"),
        "max_bytes": options.get("max_bytes") or MAX_INPUT_BYTES,
        "max_chars": options.get("max_chars") or MAX_TEXT_CHARS,
    }


def _fresh_state(out: Path, inputs: Iterable[str | os.PathLike[str]],
                 options: dict[str, Any]) -> BatchState:
    """A new round over `inputs`; refused while an earlier batch is still open."""
    old = load_state(out)
    if old is not None and old.batch_id and old.batch_status not in FINAL:
        raise BatchError(
            f"batch {old.batch_id} for {out} is still open ({old.batch_status}): run "
            "`newsie batch collect` first")
    paths = [Path(i) for i in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    for path in paths:
        if str(path) == "-" or not path.exists():
            raise BatchError(f"a batch reads files and folders: no such file or folder: {path}")
    return BatchState(inputs=[source_name(p) for p in paths], settings=_settings(options))


def _state(out: Path) -> BatchState:
    state = load_state(out)
    if state is None:
        raise BatchError(f"no batch state beside {out}: run `newsie batch submit` or "
                         "`newsie batch prepare` with this --out first")
    return state


def _online(state: BatchState, api_key: str | None) -> Endpoint:
    endpoint = endpoint_of(state.settings, api_key or os.environ.get("OPENAI_API_KEY") or None)
    if endpoint.base_url is None and not endpoint.api_key:
        raise ConfigurationError(
            "the OpenAI Batch API needs a key: set OPENAI_API_KEY or pass api_key=, or name "
            "another server with base_url= / OPENAI_BASE_URL")
    log_redactor.guard(endpoint.secrets())
    return endpoint


def _first_pass(out: Path, state: BatchState, endpoint: Endpoint) -> Pass:
    return _pass(out, state, endpoint, {}, missing_lost=False)


def _pass(out: Path, state: BatchState, endpoint: Endpoint, incoming: dict[str, Line],
          *, missing_lost: bool) -> Pass:
    """One pass of the driver, writing to `out` as `newsie extract --out` does."""
    driver = Driver(state, endpoint, answers_path(out))
    log = JsonlLog(out)
    try:
        found = driver.run(log, incoming, missing_lost=missing_lost)
    finally:
        log.close()
        driver.close()
    state.failed.update({k: v.model_dump() for k, v in found.failed.items()})
    return found


def _round(out: Path, state: BatchState, endpoint: Endpoint, api: BatchApi | None,
           found: Pass) -> BatchReport:
    """Send (or write) the requests `found` still needs, and record them in the state."""
    driver_lines = [request_line(endpoint, request, ask)
                    for request, ask in found.requests.values()]
    state.pending = {request.custom_id: request for request, _ in found.requests.values()}
    state.lost = []
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in driver_lines)
    requests_file: Path | None = None
    if state.requests_file is not None:
        requests_file = Path(state.requests_file)
        requests_file.write_text(data, encoding="utf-8")
    elif driver_lines and api is not None:
        requests_file = _sent_file(out)
        requests_file.write_text(data, encoding="utf-8")
        info = api.create(data.encode(), name=requests_file.name)
        state.batch_id, state.batch_status = info.id, info.status
    save_state(out, state)
    return BatchReport(out, batch_id=state.batch_id, status=state.batch_status,
                       requests=len(driver_lines), prompt_tokens=estimate_tokens(driver_lines),
                       requests_file=requests_file, written=len(found.written),
                       failed=_failures(found))


def _take(out: Path, state: BatchState, endpoint: Endpoint, api: BatchApi | None,
          incoming: dict[str, Line], *, lost_when_missing: bool) -> BatchReport:
    """Feed a finished round's answers to the flows; send (or write) the next round, unless
    the batch lost requests: those wait for `submit`."""
    if api is None and state.requests_file is None:  # a submitted batch's answers, offline:
        state.requests_file = str(_sent_file(out).absolute())  # the next round goes here
    found = _pass(out, state, endpoint, incoming, missing_lost=lost_when_missing)
    if found.lost:
        state.pending = {}
        state.lost = sorted(set(found.lost.values()))
        save_state(out, state)
        return BatchReport(out, batch_id=state.batch_id, status=state.batch_status,
                           written=len(found.written), failed=_failures(found),
                           lost=state.lost, usage=found.used)
    sent = _round(out, state, endpoint, api, found)
    return replace(sent, usage=found.used)


def _read_results(path: str | os.PathLike[str]) -> dict[str, Line]:
    try:
        return read_lines(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read results file {path}: {exc}") from None


def _sent_file(out: Path) -> Path:
    """Where the request file of a submitted batch is kept, to look at or to run offline."""
    return out.with_name(out.name + ".requests.jsonl")


def _download(api: BatchApi, info: BatchInfo) -> dict[str, Line]:
    text = "".join(api.download(file_id) + "\n" for file_id in
                   (info.output_file_id, info.error_file_id) if file_id)
    return read_lines(text)


def _failures(found: Pass) -> int:
    return sum(isinstance(r, Failure) for r in found.written)


def _counts(info: BatchInfo) -> dict[str, int]:
    return {"total": info.total, "completed": info.completed, "failed": info.failed}

