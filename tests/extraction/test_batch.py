from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pydantic
import pytest

import newsie
from conftest import SEEDS
from fakeserver import FakeModelServer, Reply, events_reply
from newsie.extraction import flow, schema

GOOD = events_reply([{"type": "mou", "sent": [1], "parties": ["Acme Motors"], "people": []}])
ACME = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."


def _options(server: FakeModelServer) -> dict[str, object]:
    return {"base_url": server.base_url, "model": "fake", "max_attempts": 1}


def test_seeds_and_broken_inputs_each_give_one_record(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.script = [events_reply([])]
    binary = tmp_path / "junk.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    inputs = [*SEEDS, "", binary, "   ", '{"id": 3, "title": "no content"}']
    results = list(newsie.extract_many(inputs, concurrency=3, **_options(fake_server)))
    assert len(results) == len(inputs)
    assert all(isinstance(r, newsie.Extraction) for r in results[: len(SEEDS)])
    assert [r.source for r in results[: len(SEEDS)]] == [str(p) for p in SEEDS]
    failures = results[len(SEEDS):]
    assert [type(r).__name__ for r in failures] == ["Failure"] * 4
    assert [f.error for f in failures] == [  # type: ignore[union-attr]
        "EmptyArticleError", "BinaryInputError", "EmptyArticleError", "MalformedArticleError"]
    assert failures[1].source == str(binary)


def test_a_folder_expands_to_its_articles(fake_server: FakeModelServer) -> None:
    results = list(newsie.extract_many(SEEDS[0].parent, **_options(fake_server)))
    assert [r.source for r in results] == [str(p) for p in SEEDS]


def test_one_server_failure_does_not_lose_the_others(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD, Reply(status=400, body={"error": "no"}), GOOD]
    results = list(newsie.extract_many([ACME, ACME + " Again.", ACME + " Third."],
                                       concurrency=1, **_options(fake_server)))
    assert [type(r).__name__ for r in results] == ["Extraction", "Failure", "Extraction"]


def test_async_batch_keeps_order(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD]

    async def collect() -> list[newsie.Extraction | newsie.Failure]:
        return [r async for r in newsie.aextract_many(
            [ACME, "", ACME + " More."], concurrency=2, **_options(fake_server))]

    results = asyncio.run(collect())
    assert [type(r).__name__ for r in results] == ["Extraction", "Failure", "Extraction"]


def test_cached_rerun_makes_no_request(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD]
    first = newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]
    assert len(fake_server.requests) == 1 and first.usage.cached == 0
    again = newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]
    assert len(fake_server.requests) == 1
    assert again.usage.cached == 1 and again.events == first.events


def test_cache_misses_when_model_or_template_changes(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.script = [GOOD]
    newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]
    newsie.extract(ACME, **{**_options(fake_server), "model": "other"})  # type: ignore[arg-type]
    template = "Article: {{ sentences | map(attribute='text') | join(' ') }}"
    (tmp_path / "extract.j2").write_text(template)
    newsie.extract(ACME, template_dir=tmp_path, **_options(fake_server))  # type: ignore[arg-type]
    newsie.extract(ACME, cache=False, **_options(fake_server))  # type: ignore[arg-type]
    assert len(fake_server.requests) == 4


def test_summary_totals(fake_server: FakeModelServer) -> None:
    fake_server.script = [GOOD]
    results = list(newsie.extract_many([ACME, ACME, ""], concurrency=1,
                                       **_options(fake_server)))
    summary = newsie.summarize(results)
    assert (summary.done, summary.failed, summary.cached) == (2, 1, 1)
    assert summary.events["mou"] == 2 and summary.usage.total_tokens == 60


def test_cache_misses_when_the_response_schema_changes(
    fake_server: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_server.script = [GOOD]
    newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]

    original = flow.events_response

    def with_a_new_field(specs: Any, choices: Any) -> type[schema.WireResponse]:
        return pydantic.create_model("Newer", __base__=original(specs, choices),
                                     note=(str | None, None))

    monkeypatch.setattr(flow, "events_response", with_a_new_field)
    again = newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]
    assert len(fake_server.requests) == 2 and again.usage.cached == 0


def test_a_cached_answer_that_no_longer_validates_is_a_miss(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.script = [GOOD]
    newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]
    with diskcache.Cache(str(tmp_path / "responses")) as store:  # as an older newsie left it
        for key in list(store):
            store[key] = {"answer": {"events": [{"kind": "old"}]}, "usage": {}}
    again = newsie.extract(ACME, **_options(fake_server))  # type: ignore[arg-type]
    assert [e.type for e in again.events] == ["mou"]
    assert len(fake_server.requests) == 2 and again.usage.cached == 0


def test_cache_misses_when_a_template_changes_but_renders_the_same(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.script = [GOOD]
    template = "Article: {{ sentences | map(attribute='text') | join(' ') }}"
    (tmp_path / "extract.j2").write_text(template)
    newsie.extract(ACME, template_dir=tmp_path, **_options(fake_server))  # type: ignore[arg-type]
    (tmp_path / "extract.j2").write_text("{# prompt v2 #}" + template)  # same rendered text
    newsie.extract(ACME, template_dir=tmp_path, **_options(fake_server))  # type: ignore[arg-type]
    assert fake_server.requests[0]["messages"] == fake_server.requests[1]["messages"]


def test_a_str_is_never_read_as_a_file(fake_server: FakeModelServer, tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = not-for-the-model\n")
    results = list(newsie.extract_many([str(secret), str(tmp_path)], **_options(fake_server)))
    assert [r.text for r in results] == [str(secret), str(tmp_path)]  # type: ignore[union-attr]
    assert "not-for-the-model" not in json.dumps(fake_server.requests)


def test_a_day_without_a_year_takes_the_year_of_the_dateline(
    fake_server: FakeModelServer,
) -> None:
    fake_server.script = [events_reply([{
        "type": "mou", "sent": [1], "parties": ["Acme Motors"],
        "people": [], "date": "November 4"}])]
    text = ("OSLO, Norway, Nov. 7, 2024 /PRNewswire/ -- Borealis Cells signed a supply "
            "agreement with Acme Motors on November 4.")
    result = newsie.extract(text, **_options(fake_server))  # type: ignore[arg-type]
    assert result.published == "2024-11-07"
    assert [ev.date for ev in result.events] == ["2024-11-04"]


def _feed(tmp_path: Path) -> Path:
    feed = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"text": ACME, "url": "https://news.example/acme", "published": "2024-05-06"}),
        json.dumps({"html": "<p>Borealis Cells met <b>Acme Motors</b> in Oslo.</p>"}),
        "",
        '{"text": "cut off',
        json.dumps({"title": "no body"}),
        json.dumps({"text": ACME + " Again.", "source": "wire-7", "published": "someday"}),
        json.dumps({"text": ACME + " Third.", "published": "March 3, 2024"}),
    ]
    feed.write_text("\n".join(lines) + "\n")
    return feed


def test_a_feed_gives_one_article_per_line_and_one_failure_per_bad_line(
    fake_server: FakeModelServer, tmp_path: Path
) -> None:
    fake_server.script = [GOOD]
    feed = _feed(tmp_path)
    results = list(newsie.extract_many([feed], concurrency=2, **_options(fake_server)))
    assert [type(r).__name__ for r in results] == [
        "Extraction", "Extraction", "Failure", "Failure", "Failure", "Extraction"]
    first, html, cut, empty, dated, third = results
    assert isinstance(first, newsie.Extraction) and isinstance(html, newsie.Extraction)
    assert (first.source, first.published) == ("https://news.example/acme", "2024-05-06")
    assert html.source == f"{feed}:2" and html.text == "Borealis Cells met Acme Motors in Oslo."
    assert (cut.source, empty.source, dated.source) == (f"{feed}:4", f"{feed}:5", "wire-7")
    assert f"{feed}:4: not a JSON object" in cut.message  # type: ignore[union-attr]
    assert "`text` or `html`" in empty.message  # type: ignore[union-attr]
    assert f"{feed}:6" in dated.message and "'someday'" in dated.message  # type: ignore[union-attr]
    assert isinstance(third, newsie.Extraction) and third.published == "2024-03-03"
    assert len(fake_server.requests) == 3

    async def collect() -> list[newsie.Extraction | newsie.Failure]:
        return [r async for r in newsie.aextract_many(feed, **_options(fake_server))]

    assert [r.source for r in asyncio.run(collect())] == [r.source for r in results]


# ------------------------------------------------------- nothing stays open after a batch

def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def keep_alive_server() -> Iterator[FakeModelServer]:
    """A server that keeps HTTP/1.1 connections open until the client closes them."""
    server = FakeModelServer(keep_alive=True).start()
    server.script = [GOOD]
    yield server
    server.stop()


def _settled(server: FakeModelServer, expected: int) -> int:
    for _ in range(100):  # the server's handler threads see the close a moment later
        if server.open_connections <= expected:
            break
        time.sleep(0.02)
    return server.open_connections


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_extract_many_and_evaluate_close_what_they_open(
    keep_alive_server: FakeModelServer, tmp_path: Path
) -> None:
    options = _options(keep_alive_server)
    list(newsie.extract_many([ACME], **options))  # warm up: imports, lazy loggers
    before = _fds()
    for i in range(4):
        results = list(newsie.extract_many([f"{ACME} ({i})", f"{ACME} [{i}]"], **options))
        assert all(isinstance(r, newsie.Extraction) for r in results)
    gold = tmp_path / "gold.jsonl"
    (tmp_path / "a1.txt").write_text(ACME)
    gold.write_text(json.dumps({"id": "a1", "events": []}) + "\n")
    for _ in range(2):
        newsie.evaluate(gold, **options)
    assert _settled(keep_alive_server, 0) == 0
    assert _fds() <= before


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_aextract_many_closes_its_async_clients(keep_alive_server: FakeModelServer) -> None:
    options = _options(keep_alive_server)

    async def run(i: int) -> list[newsie.Extraction | newsie.Failure]:
        return [r async for r in newsie.aextract_many([f"{ACME} ({i})", f"{ACME} [{i}]"],
                                                      **options)]

    asyncio.run(run(0))
    before = _fds()
    for i in range(1, 5):
        assert all(isinstance(r, newsie.Extraction) for r in asyncio.run(run(i)))
        assert asyncio.run(newsie.aextract(f"{ACME} {{{i}}}", **options)).events is not None
    assert _settled(keep_alive_server, 0) == 0
    assert _fds() <= before


def test_openai_backend_close_closes_each_loops_async_client(
    keep_alive_server: FakeModelServer,
) -> None:
    from newsie.model.endpoint import Endpoint
    from newsie.model.openai_backend import OpenAIBackend

    class Events(pydantic.BaseModel):
        events: list[dict[str, Any]]

    backend = OpenAIBackend(Endpoint(base_url=keep_alive_server.base_url, model="fake",
                                     max_attempts=1))
    loops = [asyncio.new_event_loop() for _ in range(2)]
    messages = [{"role": "user", "content": ACME}]
    for loop in loops:
        loop.run_until_complete(backend.acomplete(messages, Events))
    assert _settled(keep_alive_server, 2) == 2
    backend.close()
    assert _settled(keep_alive_server, 0) == 0
    for loop in loops:
        loop.close()


def test_failed_texts_are_named_text_hash_like_the_others(fake_server: FakeModelServer) -> None:
    fake_server.script = [Reply(status=400, body={"error": {"message": "bad request"}})]
    texts = [ACME, ACME + " Deliveries start in June.", ""]
    results = list(newsie.extract_many(texts, concurrency=2, **_options(fake_server)))
    assert all(isinstance(r, newsie.Failure) for r in results)
    names = [r.source for r in results]
    assert all(n.startswith("text:") for n in names) and len(set(names)) == 3
    assert names[0] == newsie.load_article(ACME).source


def test_an_article_given_to_extract_keeps_the_callers_source_and_date(
    fake_server: FakeModelServer,
) -> None:
    article = newsie.Article(text=ACME, source="feed-id", published="2023-01-01")
    result = newsie.extract(article, source="https://news.example/1", published="2024-03-05",
                            **_options(fake_server))
    assert (result.source, result.published) == ("https://news.example/1", "2024-03-05")
