"""The third driver of the article flow: answers come in batches, hours apart.

A flow is a generator and cannot outlive the process, so this driver replays it. Each pass
reads every unfinished article again and answers its flow's requests from what is known:
the answers earlier batches brought, the answer cache shared with live runs, and the result
lines just downloaded. A flow that reaches a request nobody has answered stops there, and
that request goes into the next batch (a re-ask after a bad answer, the second stage, the
next chunk of a long article). Reading is deterministic, so a replay asks the same requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..core.errors import ServerError
from ..core.redact import redact
from ..events import Extraction, Failure, Usage
from ..model.batch_api import CHAT_URL
from ..model.cache import ResponseCache
from ..model.endpoint import Endpoint
from ..model.faults import translate_error
from ..model.openai_backend import cache_identity
from ..model.wire import completion, parse, reask, request_body, usage_of
from ..reading.article import Article, failure_record
from .batch import SkipDone, expand_inputs
from .batch_state import AnswerFile, BatchState, Request
from .extractor import _step, answer_key, cached_answer, store_answer
from .flow import Answer, Ask, Plan, article_flow
from .prompts import Prompts
from .registry import resolve_types

#: Characters per prompt token, for the estimate shown before a batch is sent.
CHARS_PER_TOKEN = 4


class ResultLog(Protocol):
    """Where finished articles go (`output.export.JsonlLog`, as `newsie extract --out`)."""

    done: set[str]

    def write(self, result: Extraction | Failure) -> bool: ...


@dataclass(frozen=True)
class Line:
    """One line of a results file: the completion body, or why there is none."""

    body: dict[str, Any] | None
    error: str | None = None


def read_lines(text: str) -> dict[str, Line]:
    """A Batch API output or error file, or vLLM's `run_batch` output: custom_id -> result.

    Each line is `{"custom_id", "response": {"status_code", "body"}, "error"}`.
    """
    lines: dict[str, Line] = {}
    for raw in text.splitlines():
        try:
            record = json.loads(raw)
            custom_id = record["custom_id"]
        except (ValueError, KeyError, TypeError):
            continue
        response = record.get("response") or {}
        body = response.get("body") if isinstance(response, dict) else None
        if response.get("status_code") == 200 and isinstance(body, dict) and body.get("choices"):
            lines[str(custom_id)] = Line(body)
            continue
        error = record.get("error") or (body or {}).get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        status = response.get("status_code")
        lines.setdefault(str(custom_id), Line(None, message or f"HTTP {status}"))
    return lines


@dataclass
class Pass:
    """What one pass over the articles did, and what it still needs."""

    written: list[Extraction | Failure] = field(default_factory=list)
    #: by answer key: the request to send, and the flow's request it answers
    requests: dict[str, tuple[Request, Ask]] = field(default_factory=dict)
    #: article identity -> source, of articles whose requests a batch lost
    lost: dict[str, str] = field(default_factory=dict)
    failed: dict[str, Failure] = field(default_factory=dict)
    #: tokens the result lines read in this pass cost (bad answers included)
    used: Usage = field(default_factory=Usage)


def endpoint_of(settings: Mapping[str, Any], api_key: str | None) -> Endpoint:
    """The server a batch's settings name, with the key from the caller or the environment."""
    options = {k: settings[k] for k in ("max_attempts", "reasks", "max_tokens", "temperature")
               if settings.get(k) is not None}
    return Endpoint(base_url=settings.get("base_url"), model=settings["model"],
                    api_key=api_key, **options)


class Driver:
    """Replays each unfinished article's flow against what is known (see the module)."""

    def __init__(self, state: BatchState, endpoint: Endpoint, answers: Path) -> None:
        s = state.settings
        self.state = state
        self.endpoint = endpoint
        prompts = Prompts(s.get("template_dir"))
        self.plan = Plan(prompts=prompts, specs=resolve_types(s.get("types")),
                         model=endpoint.model, endpoint=endpoint.where,
                         stages=s.get("stages", 1), chunk_chars=s["chunk_chars"],
                         token_budget=s.get("token_budget"),
                         keep_ungrounded=s.get("keep_ungrounded", False))
        self.digest = prompts.digest()
        self.identity = cache_identity(endpoint)
        cache = s.get("cache", True)
        self.cache = None if cache is False else ResponseCache(None if cache is True else cache)
        self.answers = AnswerFile(answers)
        self.max_bytes: int = s["max_bytes"]
        self.max_chars: int = s["max_chars"]

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def run(self, log: ResultLog, incoming: Mapping[str, Line], *, missing_lost: bool) -> Pass:
        """One pass: finished articles written to `log` (once each), the rest's requests
        collected. `missing_lost`: a sent request with no line in `incoming` was lost (an
        expired batch), rather than still waiting (a results file that lacks it)."""
        sent = {r.key: r for r in self.state.pending.values()}
        done = Pass()
        items = expand_inputs([Path(i) for i in self.state.inputs], max_bytes=self.max_bytes,
                              max_chars=self.max_chars)
        todo = SkipDone(log.done, max_bytes=self.max_bytes, max_chars=self.max_chars)
        for item in todo(items):  # SkipDone read each input: an Article, or its Failure
            result: Extraction | Failure | None
            if isinstance(item, Article):
                known = self.state.failed.get(item.identity)
                result = Failure.model_validate(known) if known else self._replay(
                    item, sent, incoming, missing_lost, done)
                if isinstance(result, Failure):
                    done.failed[item.identity] = result
            elif isinstance(item, Failure):
                result = item
            else:
                continue
            if result is not None:
                log.write(result)
                done.written.append(result)
        return done

    # ------------------------------------------------------------------ one article

    def _replay(self, article: Article, sent: Mapping[str, Request],
                incoming: Mapping[str, Line], missing_lost: bool,
                done: Pass) -> Extraction | Failure | None:
        flow = article_flow(self.plan, article)
        base = hashlib.sha256(article.identity.encode()).hexdigest()[:16]
        step = 0
        answers: list[Answer] | None = None
        try:
            while True:
                asks, finished = _step(flow, answers)
                if asks is None:
                    return finished
                got = [self._answer(ask, article, f"{base}-{step + i}", sent, incoming,
                                    missing_lost, done) for i, ask in enumerate(asks)]
                step += len(asks)
                failure = next((g for g in got if isinstance(g, Failure)), None)
                if failure is not None:
                    return failure
                answers = [g for g in got if isinstance(g, Answer)]
                if len(answers) < len(asks):
                    return None  # waits for the next batch
        except Exception as exc:  # a bug in one article must not sink the batch
            return failure_record(article.source, exc)
        finally:
            flow.close()

    def _answer(self, ask: Ask, article: Article, custom_id: str, sent: Mapping[str, Request],
                incoming: Mapping[str, Line], missing_lost: bool,
                done: Pass) -> Answer | Failure | None:
        key = answer_key(ask, self.digest, self.identity)
        stored = self.answers.get(key)
        if stored is not None:
            return Answer(ask.response_model.model_validate(stored[0]), stored[1])
        hit = cached_answer(self.cache, key, ask)
        if hit is not None:
            return hit
        request = sent.get(key)
        if request is None:
            request = Request(custom_id=custom_id, article=article.identity, key=key)
        elif request.custom_id in incoming:
            return self._take(ask, key, article, request, incoming[request.custom_id], done)
        elif missing_lost:
            done.lost[article.identity] = article.source
            return None
        done.requests.setdefault(key, (request, ask))
        return None

    def _take(self, ask: Ask, key: str, article: Article, request: Request, line: Line,
              done: Pass) -> Answer | Failure | None:
        """A result line for `request`: its answer, or the re-ask or retry it calls for, or
        the article's Failure once the attempts are spent (as a live call would)."""
        ep = self.endpoint
        first = "-".join(request.custom_id.split("-")[:2])
        if line.body is None:
            if request.attempt < ep.max_attempts:
                retry = request.model_copy(update={
                    "custom_id": f"{first}-{request.attempt + 1}",
                    "attempt": request.attempt + 1})
                done.requests[key] = (retry, ask)
                return None
            message = (f"batch request {request.custom_id} failed after {request.attempt} "
                       f"attempts: {line.error}")
            return failure_record(article.source, ServerError(redact(message, ep.secrets())))
        response = completion(line.body)
        done.used += usage_of(response)
        spent = request.spent + usage_of(response)
        try:
            value = parse(response, ask.response_model)
        except Exception as error:
            if request.attempt <= ep.reasks:
                body = request_body(ep, [*ask.messages, *request.tail], ask.response_model)
                again = Request(custom_id=f"{first}-{request.attempt + 1}",
                                article=request.article, key=key,
                                attempt=request.attempt + 1,
                                tail=reask(body, response, error)[len(ask.messages):],
                                spent=spent)
                done.requests[key] = (again, ask)
                return None
            return failure_record(article.source, translate_error(error, ep, request.attempt))
        answer = Answer(value, spent)
        self.answers.put(key, value.model_dump(mode="json"), spent)
        store_answer(self.cache, key, answer)
        return answer


def request_line(endpoint: Endpoint, request: Request, ask: Ask) -> dict[str, Any]:
    """One line of a request file: the body a live call would POST, and its custom_id."""
    return {"custom_id": request.custom_id, "method": "POST", "url": CHAT_URL,
            "body": request_body(endpoint, [*ask.messages, *request.tail], ask.response_model)}


def estimate_tokens(lines: list[dict[str, Any]]) -> int:
    """Prompt tokens the request lines will cost, roughly (messages and schema)."""
    chars = sum(len(json.dumps(line["body"]["messages"], ensure_ascii=False))
                + len(json.dumps(line["body"].get("response_format", {}))) for line in lines)
    return chars // CHARS_PER_TOKEN
