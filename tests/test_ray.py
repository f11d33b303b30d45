"""newsie.ray on a local Ray cluster started here, against the loopback fake model server.

Marked `ray` (a cluster takes a while to start): `make test-ray` runs them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from typer.testing import CliRunner

import newsie
import newsie.ray
from conftest import SEEDS
from fakeserver import FakeModelServer, Reply, events_reply
from newsie.cli import app

pytestmark = pytest.mark.ray

GOOD = events_reply([{"type": "mou", "sent": [1], "parties": ["Acme Motors"], "people": []}])
FLAKY = "Borealis Cells failed"


def article(i: int) -> str:
    """200 different articles; every tenth one the server will refuse when asked."""
    tail = f" {FLAKY} audit {i}." if i % 10 == 0 else f" Reference {i}."
    return "On May 4, Acme Motors signed a supply agreement with Borealis Cells." + tail


ARTICLES = [article(i) for i in range(200)]


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture
def server(fake_server: FakeModelServer) -> FakeModelServer:
    fake_server.script = [GOOD]
    return fake_server


def refuse_flaky(request: dict[str, Any]) -> Reply | None:
    return Reply(status=500, body={"error": "overloaded"}) if FLAKY in json.dumps(request) else None


def options(server: FakeModelServer) -> dict[str, Any]:
    # the workers outlive one test's environment, so no on-disk cache is shared with them
    return {"base_url": server.base_url, "model": "fake", "max_attempts": 1, "cache": False,
            "actors": 2, "requests_per_actor": 4}


def test_200_articles_give_200_rows(server: FakeModelServer) -> None:
    ds = ray.data.from_items([{"text": text} for text in ARTICLES])
    rows = newsie.ray.extract_dataset(ds, **options(server)).take_all()
    assert len(rows) == 200 and len(server.requests) == 200
    assert {r["status"] for r in rows} == {"ok"}
    # the id is the identity: source and fingerprint of the cleaned text
    assert {r["id"] for r in rows} == {newsie.load_article(t).identity for t in ARTICLES}
    first = newsie.ray.to_result(rows[0])
    assert isinstance(first, newsie.Extraction) and first.text in ARTICLES
    assert [ev.type for ev in first.events] == ["mou"]
    assert json.loads(rows[0]["events"])[0]["parties"][0]["name"] == "Acme Motors"
    assert rows[0]["event_count"] == 1 and rows[0]["total_tokens"] == 60


def test_rows_repeated_across_actors_give_one_ok_row_per_id(server: FakeModelServer) -> None:
    items = [{"url": f"u{i % 5}", "text": ARTICLES[i % 5 + 1]} for i in range(40)]
    rows = newsie.ray.extract_dataset(ray.data.from_items(items), id_column="url",
                                      batch_size=4, **options(server)).take_all()
    assert len(rows) == 40  # every row ends as one row
    ok = [r["id"] for r in rows if r["status"] == "ok"]
    assert len(ok) == len(set(ok)) == 5 and len(server.requests) == 5
    assert {r["error"] for r in rows if r["status"] == "error"} == {"DuplicateArticle"}


def test_server_errors_and_bad_rows_become_error_rows(server: FakeModelServer) -> None:
    server.responder = refuse_flaky
    items = [{"key": f"a{i}", "text": text, "day": datetime.date(2024, 5, 6)}
             for i, text in enumerate(ARTICLES)]
    items += [{"key": "empty", "text": "  ", "day": None}, {"key": "null", "text": None,
                                                            "day": None}]
    results = newsie.ray.extract_dataset(
        ray.data.from_items(items), id_column="key", published_column="day", **options(server)
    )
    rows = {r["source"]: r for r in results.take_all()}
    assert len(rows) == 202
    errors = {k for k, r in rows.items() if r["status"] == "error"}
    assert errors == {f"a{i}" for i in range(0, 200, 10)} | {"empty", "null"}
    assert rows["a10"]["error"] == "ServerError" and "500" in rows["a10"]["message"]
    assert rows["null"]["error"] == "EmptyArticleError"
    assert rows["a1"]["status"] == "ok" and rows["a1"]["published"] == "2024-05-06"
    failure = newsie.ray.to_result(rows["a10"])
    assert isinstance(failure, newsie.Failure) and failure.source == "a10"


def test_rerun_after_partial_output_skips_finished_ids(
    server: FakeModelServer, tmp_path: Path
) -> None:
    out = tmp_path / "events"  # Parquet here; the CLI test below resumes from JSONL
    ds = ray.data.from_items([{"text": text} for text in ARTICLES])
    server.responder = refuse_flaky
    newsie.ray.write_results(newsie.ray.extract_dataset(ds, **options(server)), out)
    done = newsie.ray.done_ids(out)
    assert len(done) == 180

    server.responder = None
    server.requests.clear()
    newsie.ray.write_results(newsie.ray.extract_dataset(ds, skip_ids=done, **options(server)), out)
    # only the 20 refused articles were asked again
    assert len(server.requests) == 20
    assert all(FLAKY in json.dumps(request) for request in server.requests)
    assert len(newsie.ray.done_ids(out)) == 200


def test_cli_engine_ray_writes_a_folder_and_resumes(server: FakeModelServer,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "events"
    server.script = [events_reply([])]  # the seeds name other companies; rows are checked here
    command = ["extract", str(SEEDS[0].parent), "--engine", "ray", "--out", str(out),
               "--base-url", server.base_url, "--model", "fake", "--actors", "1",
               "--concurrency", "2", "--no-cache"]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    assert f"{len(SEEDS)} articles done, 0 failed" in first.output
    assert len(server.requests) == len(SEEDS)
    rows = [json.loads(line) for f in out.glob("*.json") for line in f.read_text().splitlines()]
    assert sorted(Path(r["source"]).name for r in rows) == [p.name for p in SEEDS]

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    assert f"resuming {out}: {len(SEEDS)} articles already done" in again.output
    assert len(server.requests) == len(SEEDS)
