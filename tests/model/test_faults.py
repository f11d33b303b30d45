"""Every fault a model server can throw at us: a correct result or a clear error record,
within the configured bounds on attempts and time, and nothing in a batch lost."""

from __future__ import annotations

import datetime
import email.utils
import json
import time

import pytest

import newsie
from fakeserver import FakeModelServer, Reply, completion, events_reply
from newsie.model.retry import parse_retry_after

ACME = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
GOOD = events_reply([{"type": "mou", "sent": [1], "parties": ["Acme Motors"], "people": []}])
BOUNDS = {"max_attempts": 3, "max_retry_seconds": 6.0, "timeout": 1.0, "reasks": 1}


def _raw(body: bytes | str | dict, **kw: object) -> Reply:  # type: ignore[type-arg]
    return Reply(body=body, **kw)  # type: ignore[arg-type]


# fault -> (script, expected outcome: "ok" or the error class name, requests at most)
FAULTS: dict[str, tuple[list[Reply], str, int]] = {
    "500 then ok": ([Reply(status=500, body={"error": "x"}), GOOD], "ok", 2),
    "503 always": ([Reply(status=503, body={"error": "x"})], "ServerError", 3),
    "429 Retry-After then ok": (
        [Reply(status=429, body={"error": "x"}, headers={"Retry-After": "1"}), GOOD], "ok", 2),
    "429 without Retry-After then ok": ([Reply(status=429, body={"error": "x"}), GOOD], "ok", 2),
    "slower than the timeout": ([Reply(delay=2.5, body=completion("{}"))],
                                "ServerUnreachableError", 3),
    "slow once then ok": ([Reply(delay=2.5, body=completion("{}")), GOOD], "ok", 2),
    "connection dropped mid-body": ([Reply(drop=True, body=completion("{}"))],
                                    "ServerUnreachableError", 3),
    "dropped once then ok": ([Reply(drop=True, body=completion("{}")), GOOD], "ok", 2),
    "invalid JSON body": ([_raw("<html>bad gateway</html>")], "ModelOutputError", 2),
    "invalid JSON content": ([Reply(body=completion("events: none"))], "ModelOutputError", 2),
    "truncated JSON content": ([Reply(body=completion('{"events": [{"type": "mo'))],
                               "ModelOutputError", 2),
    "JSON violating the schema": (
        [Reply(body=completion(json.dumps({"events": [{"type": "party"}]})))],
        "ModelOutputError", 2),
    "schema violation then ok": (
        [Reply(body=completion(json.dumps({"events": "none"}))), GOOD], "ok", 2),
    "empty choices": ([_raw({"id": "x", "object": "chat.completion", "created": 0,
                             "model": "m", "choices": []})], "ModelOutputError", 2),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_gives_a_result_or_a_clear_error(fault: str, fake_server: FakeModelServer) -> None:
    script, expected, max_requests = FAULTS[fault]
    fake_server.script = script
    started = time.monotonic()
    try:
        result = newsie.extract(ACME, base_url=fake_server.base_url, cache=False,
                                **BOUNDS)  # type: ignore[arg-type]
        outcome = "ok"
        assert [e.type for e in result.events] == ["mou"]
    except newsie.NewsieError as exc:
        outcome = type(exc).__name__
        assert str(exc) and "Traceback" not in str(exc)
    elapsed = time.monotonic() - started
    assert outcome == expected
    assert len(fake_server.requests) <= max_requests
    # attempts x timeout plus the retry budget, with slack for a busy machine
    budget = BOUNDS["max_attempts"] * (BOUNDS["timeout"] + 0.5) + BOUNDS["max_retry_seconds"]
    assert elapsed < budget


def test_server_dying_mid_batch_loses_nothing(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD]
    fake_server.die_after(2)
    inputs = [f"{ACME} Deal {i}." for i in range(5)]
    results = list(newsie.extract_many(inputs, concurrency=1, base_url=fake_server.base_url,
                                       cache=False, max_attempts=2, max_retry_seconds=2))
    assert len(results) == 5
    assert [type(r).__name__ for r in results[:2]] == ["Extraction", "Extraction"]
    assert all(isinstance(r, newsie.Failure) and r.error == "ServerUnreachableError"
               for r in results[2:])


def test_total_wait_respects_the_retry_budget(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=429, body={"error": "x"}, headers={"Retry-After": "30"})]
    started = time.monotonic()
    with pytest.raises(newsie.ServerError, match="429"):
        newsie.extract(ACME, base_url=fake_server.base_url, cache=False, max_attempts=5,
                       max_retry_seconds=3)
    assert time.monotonic() - started < 5
    assert len(fake_server.requests) == 1  # a 30 s wait would break the 3 s budget


# ------------------------------------------------------- every form of Retry-After


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise one wins
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "0.5"}, 0.5),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
    ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),  # already past
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_retry_after_reads_every_form_the_openai_client_reads(
        headers: dict[str, str], expected: float | None) -> None:
    now = datetime.datetime(2015, 10, 21, 7, 28, 0, tzinfo=datetime.UTC).timestamp()
    assert parse_retry_after(headers, now=now) == expected


@pytest.mark.parametrize("headers", [
    {"retry-after-ms": "1300"},
    {"Retry-After": "HTTP-DATE"},
])
def test_a_429_waits_as_long_as_the_server_asks(
        fake_server: FakeModelServer, headers: dict[str, str]) -> None:
    if headers.get("Retry-After") == "HTTP-DATE":
        headers = {"Retry-After": email.utils.formatdate(time.time() + 3, usegmt=True)}
    arrived: list[float] = []

    def answer(request: dict[str, object]) -> Reply:
        arrived.append(time.monotonic())
        return Reply(status=429, body={"error": "x"}, headers=headers) \
            if len(arrived) == 1 else GOOD

    fake_server.responder = answer
    newsie.extract(ACME, base_url=fake_server.base_url, cache=False, max_attempts=2)
    assert len(arrived) == 2
    assert arrived[1] - arrived[0] >= 1.25  # not the client's own backoff (under a second)


def test_the_server_may_say_a_failure_is_final(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=503, body={"error": "x"},
                                headers={"x-should-retry": "false"})]
    with pytest.raises(newsie.ServerError, match="503"):
        newsie.extract(ACME, base_url=fake_server.base_url, cache=False, max_attempts=3)
    assert len(fake_server.requests) == 1
