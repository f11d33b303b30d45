"""One flow, two drivers: what `extract` and `aextract` do with one article."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

import newsie
from conftest import ScriptedBackend
from newsie.extraction import flow as _flow

ARTICLE = (
    "Norrland Battery Systems signed an agreement to supply 12 GWh of cells to Vireo "
    "Motors in Gothenburg on May 4, 2025.\n\n"
    "Vice President Anna Lindqvist of Norrland Battery Systems attended the ceremony.\n\n"
    "Separately, Kestrel Chemicals hosted a forum on recycling."
)


def _enum(schema: dict[str, Any], name: str) -> list[str]:
    """The values a field may take, wherever the schema defines it."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == name and isinstance(value, dict):
                    for option in [value, *value.get("anyOf", []), value.get("items", {})]:
                        found.extend(option.get("enum", []))
                        if "const" in option:
                            found.append(option["const"])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return found


def one_call(messages: list[dict[str, str]], response_model: Any) -> dict[str, Any]:
    return {"events": [
        {"type": "order", "sent": [1], "buyer": "Vireo Motors",
         "supplier": "Norrland Battery Systems", "people": [], "quantity": "12 GWh",
         "location": "Gothenburg", "date": "May 4, 2025", "product": "cells"},
        {"type": "meeting", "sent": [3], "organizer": "Kestrel Chemicals",
         "topics": ["recycling"]},
    ]}


def test_the_answer_schema_offers_only_what_the_article_names() -> None:
    backend = ScriptedBackend(one_call)
    newsie.extract(ARTICLE, backend=backend, cache=False)
    [(_, response_model)] = backend.requests
    schema = response_model.model_json_schema()
    buyers = _enum(schema, "buyer")
    assert "Vireo Motors" in buyers and "Norrland Battery Systems" in buyers
    assert all(name in ARTICLE for name in buyers)
    assert "Anna Lindqvist" not in buyers  # a person is never offered as a party
    assert set(_enum(schema, "sent")) == {1, 2, 3}
    with pytest.raises(ValueError):
        response_model.model_validate({"events": [
            {"type": "order", "sent": [1], "buyer": "Invented Corp"}]})


def test_a_chosen_event_comes_out_typed_and_grounded() -> None:
    result = newsie.extract(ARTICLE, backend=ScriptedBackend(one_call), cache=False)
    order, meeting = result.events
    assert order.type == "order" and meeting.type == "meeting"
    assert (order.buyer, order.supplier) == ("Vireo Motors", "Norrland Battery Systems")
    assert order.quantity is not None and (order.quantity.value, order.quantity.unit) == (
        12, "GWh")
    assert order.date == "2025-05-04" and order.location == "Gothenburg"
    assert [p.name for p in meeting.parties] == ["Kestrel Chemicals"]
    assert result.model == "scripted" and result.endpoint == "test"


def test_extract_and_aextract_give_the_same_result() -> None:
    sync = newsie.extract(ARTICLE, backend=ScriptedBackend(one_call), cache=False)
    async_ = asyncio.run(newsie.aextract(ARTICLE, backend=ScriptedBackend(one_call),
                                         cache=False))
    assert sync.model_dump() == async_.model_dump()


def _two_stage(messages: list[dict[str, str]], response_model: Any) -> dict[str, Any]:
    if response_model.__name__ == "Detected":
        return {"events": [{"type": "order", "sent": [1]}]}
    return {"buyer": "Vireo Motors", "supplier": "Norrland Battery Systems",
            "quantity": "12 GWh"}


def test_two_stages_ask_each_event_after_the_same_article() -> None:
    backend = ScriptedBackend(_two_stage)
    result = newsie.extract(ARTICLE, backend=backend, cache=False, stages=2)
    [order] = result.events
    assert (order.buyer, order.supplier) == ("Vireo Motors", "Norrland Battery Systems")
    detect, arguments = backend.requests
    assert detect[0][0] == arguments[0][0]  # the same instructions
    article = detect[0][1]["content"].rsplit("\n\n", 1)[0]
    assert arguments[0][1]["content"].startswith(article)  # the cached prefix
    # the second call offers only what the event's own sentences name
    schema = arguments[1].model_json_schema()
    assert "Kestrel Chemicals" not in _enum(schema, "buyer")
    assert result.usage.requests == 2


def test_aextract_keeps_the_event_loop_free_during_cpu_steps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_read = _flow.read

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # stands for spaCy on a long article
        return real_read(*args, **kwargs)

    monkeypatch.setattr(_flow, "read", slow_read)

    async def main() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        await newsie.aextract(ARTICLE, backend=ScriptedBackend(one_call), cache=False)
        task.cancel()
        return ticks

    assert asyncio.run(main()) >= 10


def test_aextract_many_cancels_what_is_pending_when_the_caller_stops() -> None:
    started: list[str] = []

    class Slow(ScriptedBackend):
        async def acomplete(self, messages: list[dict[str, str]], response_model: Any) -> Any:
            started.append(messages[1]["content"])
            await asyncio.sleep(30)
            return self.complete(messages, response_model)

    async def main() -> None:
        stream = newsie.aextract_many([ARTICLE, ARTICLE + " More.", ARTICLE + " Again."],
                                      concurrency=3, backend=Slow(one_call), cache=False)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(stream.__anext__(), timeout=1.0)
        await stream.aclose()
        await asyncio.sleep(0.1)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not pending, pending

    asyncio.run(main())
    assert len(started) == 3


def test_a_cached_answer_is_not_asked_again(tmp_path: Any) -> None:
    backend = ScriptedBackend(one_call)
    first = newsie.extract(ARTICLE, backend=backend, cache=tmp_path)
    second = newsie.extract(ARTICLE, backend=backend, cache=tmp_path)
    assert len(backend.requests) == 1
    assert second.usage.cached == 1
    assert json.loads(first.model_dump_json())["events"] == json.loads(
        second.model_dump_json())["events"]


def test_verify_asks_of_each_event_after_the_same_article_and_drops_a_no() -> None:
    def answer(messages: list[dict[str, str]], response_model: Any) -> dict[str, Any]:
        question = messages[-1]["content"]
        if "Check one event" not in question:
            return one_call(messages, response_model)
        return {"answer": "no" if "meeting" in question.split("\n\n")[-1] else "yes"}

    backend = ScriptedBackend(answer)
    result = newsie.extract(ARTICLE, backend=backend, cache=False, verify=True)
    assert [e.type for e in result.events] == ["order"]
    assert any("the check says the article does not report it" in w for w in result.warnings)
    first, *checks = [m for m, _ in backend.requests]
    assert len(checks) == 2  # one yes/no question per event
    for messages in checks:  # the article first: the server's cached prefix serves it
        assert messages[0] == first[0]
        assert messages[1]["content"].startswith(first[1]["content"].rsplit("\n\n", 1)[0])
    assert "sentence 1" in checks[0][1]["content"] and "Vireo Motors" in checks[0][1]["content"]


def test_without_verify_no_question_is_asked() -> None:
    backend = ScriptedBackend(one_call)
    result = newsie.extract(ARTICLE, backend=backend, cache=False)
    assert len(backend.requests) == 1 and len(result.events) == 2
