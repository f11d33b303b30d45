"""The retry policy, against a real misbehaving HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, StringConstraints

import newsie
from fakeserver import FakeModelServer, Reply, completion, events_reply, streamed
from newsie.model.endpoint import Endpoint
from newsie.model.openai_backend import OpenAIBackend

ARTICLE = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
GOOD = events_reply([{"type": "mou", "sent": [1], "parties": ["Acme Motors", "Borealis Cells"],
                      "people": [], "date": "May 4", "location": "Oslo"}])
KEY = "sk-sentinel-abcdefghijklmnop1234"


def _extract(server: FakeModelServer, **options: object) -> newsie.Extraction:
    defaults: dict[str, object] = {"base_url": server.base_url, "model": "fake", "api_key": KEY,
                                   "max_attempts": 3, "max_retry_seconds": 10, "timeout": 5}
    defaults.update(options)
    if defaults.pop("embedded", False):  # the embedded engine's way of asking, on the fake
        return newsie.extract(ARTICLE, backend=_engine_like(**defaults), cache=False)
    return newsie.extract(ARTICLE, **defaults)  # type: ignore[arg-type]


def _engine_like(**settings: object) -> OpenAIBackend:
    """A backend that asks the fake server as the embedded engine is asked (streamed)."""
    return OpenAIBackend(Endpoint(embedded=True, **settings))  # type: ignore[arg-type]


def test_success_sends_the_schema_and_counts_tokens(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD]
    result = _extract(fake_server)
    assert [e.type for e in result.events] == ["mou"]
    assert result.usage.total_tokens == 60 and result.usage.requests == 1
    sent = fake_server.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert fake_server.headers[0]["authorization"] == f"Bearer {KEY}"


def test_prompt_cache_hits_are_counted(fake_server: FakeModelServer) -> None:
    body = completion(json.dumps({"events": []}))
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": 42}
    fake_server.script = [Reply(body=body)]
    assert _extract(fake_server).usage.cached_prompt_tokens == 42


def test_embedded_engine_failures_are_local_model_errors(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(delay=3, body=completion("{}"))]
    started = time.monotonic()
    with pytest.raises(newsie.LocalModelError, match=r"embedded engine.*timed out"):
        _extract(fake_server, embedded=True, timeout=0.5, max_attempts=2)
    assert time.monotonic() - started < 8


def test_500_then_success_is_retried(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=500, body={"error": "boom"}), GOOD]
    result = _extract(fake_server)
    assert len(fake_server.requests) == 2 and result.events


def test_429_honours_retry_after(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=429, body={"error": "slow down"},
                                headers={"Retry-After": "1"}), GOOD]
    started = time.monotonic()
    result = _extract(fake_server)
    assert time.monotonic() - started >= 1.0
    assert len(fake_server.requests) == 2 and result.events


def test_persistent_503_stops_after_the_attempt_limit(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=503, body={"error": "down"})]
    with pytest.raises(newsie.ServerError, match="HTTP 503 after 3 attempts"):
        _extract(fake_server)
    assert len(fake_server.requests) == 3


def test_slow_server_times_out_within_bounds(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(delay=3, body=completion("{}"))]
    started = time.monotonic()
    with pytest.raises(newsie.ServerUnreachableError, match="timed out"):
        _extract(fake_server, timeout=0.5, max_attempts=2)
    assert time.monotonic() - started < 8
    assert len(fake_server.requests) == 2


def test_client_errors_fail_fast(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=400, body={"error": {"message": "bad request"}})]
    with pytest.raises(newsie.ServerError, match="HTTP 400"):
        _extract(fake_server)
    assert len(fake_server.requests) == 1


def test_unreachable_server_is_named_without_the_key() -> None:
    with pytest.raises(newsie.ServerUnreachableError, match="cannot reach") as info:
        newsie.extract(ARTICLE, base_url="http://127.0.0.1:9/v1", api_key=KEY,
                       max_attempts=2, max_retry_seconds=2)
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_garbage_output_is_reasked_then_reported(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(body=completion("this is not json"))]
    with pytest.raises(newsie.ModelOutputError, match="did not fit"):
        _extract(fake_server, reasks=1)
    assert len(fake_server.requests) == 2


def test_schema_violation_then_valid_answer_counts_both(fake_server: FakeModelServer) -> None:
    bad = Reply(body=completion(json.dumps({"events": [{"type": "party"}]})))
    fake_server.script = [bad, GOOD]
    result = _extract(fake_server)
    assert result.events and result.usage.requests == 2 and result.usage.total_tokens == 120


def test_endpoint_repr_hides_the_key() -> None:
    from newsie.model.endpoint import Endpoint

    assert KEY not in repr(Endpoint(base_url="http://x", api_key=KEY))


def test_environment_configures_the_endpoint(
    fake_server: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NEWSIE_MODEL", "from-env")
    fake_server.script = [GOOD]
    result = newsie.extract(ARTICLE)
    assert result.model == "from-env" and fake_server.requests[0]["model"] == "from-env"


def test_raw_control_character_in_the_answer_is_accepted_without_a_reask(
    fake_server: FakeModelServer,
) -> None:
    content = ('{"events": [{"type": "mou", "sent": [1], "parties": ["Acme Motors", '
               '"Borealis Cells"], "people": [], "subject": "supply\nagreement\t\x01"}]}')
    fake_server.script = [Reply(body=completion(content))]
    result = _extract(fake_server, cache=False)
    assert [e.type for e in result.events] == ["mou"]
    assert len(fake_server.requests) == 1


# ------------------------------------------- a slow engine is slow, a stalled one is not


def _answer_text() -> str:
    return GOOD.body["choices"][0]["message"]["content"]  # type: ignore[index,no-any-return]


def test_a_slow_engine_that_keeps_writing_is_never_cut_off(
        fake_server: FakeModelServer) -> None:
    # 8 pieces 0.3 s apart: 2.4 s in all, far over the 1 s the engine may stay silent
    fake_server.script = [streamed(_answer_text(), 8, token_delay=0.3)]
    result = _extract(fake_server, embedded=True, timeout=1.0, max_attempts=2)
    assert [e.type for e in result.events] == ["mou"]
    assert len(fake_server.requests) == 1
    assert result.usage.completion_tokens == 8 and result.usage.prompt_tokens == 50
    sent = fake_server.requests[0]
    assert sent["stream"] is True
    grammar = sent["response_format"]["json_schema"]["schema"]["x-guidance"]
    assert grammar["whitespace_flexible"] is False  # no free whitespace to loop in


def test_a_slow_engine_is_not_cut_off_from_a_coroutine_either(
        fake_server: FakeModelServer) -> None:
    fake_server.script = [streamed(_answer_text(), 6, token_delay=0.3)]
    result = asyncio.run(newsie.aextract(
        ARTICLE, backend=_engine_like(base_url=fake_server.base_url, model="fake",
                                      timeout=1.0, max_attempts=2), cache=False))
    assert [e.type for e in result.events] == ["mou"] and len(fake_server.requests) == 1


def test_a_stalled_engine_is_retried_once_and_says_how_far_it_got(
        fake_server: FakeModelServer) -> None:
    fake_server.script = [streamed(_answer_text(), 8, token_delay=0.05, stall_after=3)]
    started = time.monotonic()
    with pytest.raises(newsie.LocalModelError,
                       match=r"stalled.*after 3 tokens.*\(2 attempts\)"):
        _extract(fake_server, embedded=True, timeout=0.5, max_attempts=2)
    assert len(fake_server.requests) == 2
    assert time.monotonic() - started < 8


def test_a_remote_server_is_asked_as_before(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD]
    _extract(fake_server)
    sent = fake_server.requests[0]
    assert "stream" not in sent and "x-guidance" not in json.dumps(sent)


class _Small(BaseModel):
    kind: Literal["mou", "order"]
    sent: list[Literal[1, 2, 3]] = Field(max_length=3)
    note: Annotated[str, StringConstraints(max_length=10)] | None = None


class _Open(BaseModel):
    notes: list[str]


def test_max_tokens_is_bounded_by_what_the_schema_can_need(
        fake_server: FakeModelServer) -> None:
    from newsie.model.endpoint import Endpoint
    from newsie.model.openai_backend import OpenAIBackend

    backend = OpenAIBackend(Endpoint(base_url=fake_server.base_url, model="fake",
                                     max_tokens=1024))
    fake_server.script = [Reply(body=completion('{"kind": "mou", "sent": [1]}')),
                          Reply(body=completion('{"notes": []}'))]
    messages = [{"role": "user", "content": ARTICLE}]
    backend.complete(messages, _Small)
    backend.complete(messages, _Open)
    backend.close()
    longest = '{"kind": "order", "sent": [1, 2, 3], "note": "' + "\\u00e9" * 10 + '"}'
    bounded = fake_server.requests[0]["max_tokens"]
    assert len(longest) <= bounded < 200  # room for the longest answer, and no more
    assert fake_server.requests[1]["max_tokens"] == 1024  # unbounded: the endpoint's
