"""`newsie.batch`: the provider Batch API and vLLM's offline runner, through a loopback fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import newsie.batch
from fakebatch import FakeBatchServer
from fakeserver import completion
from newsie.cli import app
from newsie.output.export import JsonlLog, read_results

KEY = "sk-batch-SENTINEL-never-written-0000"
ACME = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
NORD = "On June 2, Nordwind Energy signed a memorandum with Helio Grid in Bergen."
GOOD = json.dumps({"events": [{"type": "mou", "sent": [1], "parties": ["Acme Motors"],
                               "people": []}]})
NONE = json.dumps({"events": []})
BAD = json.dumps({"events": [{"type": "mou", "sent": "first", "parties": 7}]})
runner = CliRunner()


def answer(body: dict[str, Any]) -> str:
    """The model: an MoU for the Acme article, nothing for the other."""
    return GOOD if "Acme Motors" in body["messages"][-1]["content"] + _article(body) else NONE


def _article(body: dict[str, Any]) -> str:
    return " ".join(m["content"] for m in body["messages"] if m["role"] == "user")


@pytest.fixture
def server() -> Iterator[FakeBatchServer]:
    fake = FakeBatchServer(answer).start()
    yield fake
    fake.stop()


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "acme.txt").write_text(ACME, encoding="utf-8")
    (folder / "nord.txt").write_text(NORD, encoding="utf-8")
    return folder


def _submit(server: FakeBatchServer, inputs: list[Path], out: Path,
            **options: Any) -> newsie.batch.BatchReport:
    return newsie.batch.submit(inputs, out=out, base_url=server.base_url, model="fake",
                               api_key=KEY, **options)


def _collect_until_done(out: Path, rounds: int = 6) -> list[newsie.batch.BatchReport]:
    """Collect as a cron job would: again and again until nothing is left."""
    reports = []
    for _ in range(rounds):
        report = newsie.batch.collect(out, api_key=KEY)
        reports.append(report)
        if report.finished or report.lost:
            break
    return reports


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


def test_round_trip_writes_one_result_per_article(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    sent = _submit(server, [articles], out)
    assert sent.requests == 2 and sent.batch_id == "batch_0" and sent.prompt_tokens > 0
    assert newsie.batch.status(out, api_key=KEY).status == "validating"
    reports = _collect_until_done(out)
    assert [(r.status, r.waiting) for r in reports] == [("in_progress", True),
                                                         ("completed", False)]
    assert reports[-1].written == 2 and reports[-1].usage.total_tokens == 120
    results = read_results(out)
    assert sorted(r.source.rsplit("/", 1)[-1] for r in results) == ["acme.txt", "nord.txt"]
    acme = next(r for r in results if r.source.endswith("acme.txt"))
    assert [e.type for e in acme.events] == ["mou"]  # type: ignore[union-attr]
    assert server.chat == []  # nothing went through the live endpoint
    # idempotent: collecting again writes nothing twice and sends nothing
    again = newsie.batch.collect(out, api_key=KEY)
    assert again.written == 0 and again.requests == 0
    assert len(read_results(out)) == 2 and len(server.uploads) == 1


def test_a_bad_answer_is_re_asked_in_a_second_batch(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    def first_bad(body: dict[str, Any]) -> str:
        if "Correct your JSON" in body["messages"][-1]["content"]:
            return GOOD
        return BAD if "Acme Motors" in _article(body) else NONE

    server.answer = first_bad
    out = tmp_path / "results.jsonl"
    _submit(server, [articles / "acme.txt", articles / "nord.txt"], out)
    reports = _collect_until_done(out)
    assert len(server.uploads) == 2
    [reask] = server.uploads[1]
    assert reask["custom_id"].endswith("-2")
    assert reask["body"]["messages"][-2] == {"role": "assistant", "content": BAD}
    assert reports[-1].finished
    acme = next(r for r in read_results(out) if r.source.endswith("acme.txt"))
    assert [e.type for e in acme.events] == ["mou"]  # type: ignore[union-attr]
    assert acme.usage.requests == 2  # type: ignore[union-attr]  # the bad answer was paid too


def test_results_are_those_of_newsie_extract_on_the_same_answers(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    live = tmp_path / "live.jsonl"
    done = runner.invoke(app, ["extract", str(articles), "--out", str(live), "--base-url",
                               server.base_url, "--model", "fake", "--no-cache", "-q"])
    assert done.exit_code == 0, done.output
    out = tmp_path / "batch.jsonl"
    _submit(server, [articles], out, cache=False)
    _collect_until_done(out)
    assert sorted(live.read_text().splitlines()) == sorted(out.read_text().splitlines())
    # and each request line is the body the live call sent
    sent = sorted(json.dumps(line["body"], sort_keys=True) for line in server.uploads[0])
    assert sent == sorted(json.dumps(body, sort_keys=True) for body in server.chat)


def test_expired_batch_names_the_lost_and_submit_sends_only_those(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    server.outcomes = ["expired"]
    out = tmp_path / "results.jsonl"
    _submit(server, [articles], out)
    [*_, expired] = _collect_until_done(out)
    assert expired.status == "expired" and expired.written == 1
    assert len(expired.lost) == 1
    answered = server.uploads[0][0]["custom_id"]
    resent = _submit(server, [articles], out)
    assert resent.requests == 1
    [line] = server.uploads[1]
    assert line["custom_id"] != answered
    assert line["custom_id"] == server.uploads[0][1]["custom_id"]
    assert _collect_until_done(out)[-1].finished
    assert len(read_results(out)) == 2


def test_a_failed_batch_loses_every_article(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    server.outcomes = ["failed"]
    out = tmp_path / "results.jsonl"
    _submit(server, [articles], out)
    report = _collect_until_done(out)[-1]
    assert report.status == "failed" and len(report.lost) == 2 and report.written == 0
    with pytest.raises(newsie.BatchError, match="no batch state"):
        newsie.batch.collect(tmp_path / "other.jsonl")


def test_an_interrupted_collect_picks_up_where_it_stopped(
    server: FakeBatchServer, articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results.jsonl"
    _submit(server, [articles], out)
    assert newsie.batch.collect(out, api_key=KEY).waiting  # validating
    assert newsie.batch.collect(out, api_key=KEY).waiting  # in progress
    real = JsonlLog.write
    calls = {"n": 0}

    def killed(self: JsonlLog, result: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, result)

    monkeypatch.setattr(JsonlLog, "write", killed)
    with pytest.raises(KeyboardInterrupt):
        newsie.batch.collect(out, api_key=KEY)
    assert len(read_results(out)) == 1
    monkeypatch.setattr(JsonlLog, "write", real)
    report = newsie.batch.collect(out, api_key=KEY)
    assert report.finished and report.written == 1
    assert len(read_results(out)) == 2 and len(server.uploads) == 1


def test_the_answer_cache_is_shared_with_live_runs(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    _submit(server, [articles / "acme.txt"], out)
    _collect_until_done(out)
    live = runner.invoke(app, ["extract", str(articles), "--base-url", server.base_url,
                               "--model", "fake", "-q"])
    assert live.exit_code == 0
    assert len(server.chat) == 1  # only nord.txt was asked: acme's answer came from the batch
    again = tmp_path / "again.jsonl"
    report = _submit(server, [articles], again)
    assert report.requests == 0 and report.written == 2 and len(server.uploads) == 1


def test_vllm_run_batch_results_are_read_by_collect_from(
    articles: Path, tmp_path: Path
) -> None:
    out, requests = tmp_path / "results.jsonl", tmp_path / "requests.jsonl"
    prepared = runner.invoke(app, ["batch", "prepare", str(articles), "--requests",
                                   str(requests), "--out", str(out), "--model", "qwen"])
    assert prepared.exit_code == 0, prepared.output
    assert "2 requests" in prepared.output and "prompt tokens" in prepared.output
    lines = _lines(requests)
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    assert all(line["body"]["response_format"]["type"] == "json_schema" for line in lines)
    # what `python -m vllm.entrypoints.openai.run_batch -i requests.jsonl -o answers.jsonl`
    # writes: one line per request, in vLLM's own shape
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({
        "id": f"vllm-{n}", "custom_id": line["custom_id"],
        "response": {"status_code": 200, "request_id": f"vllm-batch-{n}",
                     "body": completion(answer(line["body"]))},
        "error": None}) + "\n" for n, line in enumerate(lines)), encoding="utf-8")
    collected = runner.invoke(app, ["batch", "collect", "--from", str(answers), "--out",
                                    str(out)])
    assert collected.exit_code == 0, collected.output
    assert "tokens" in collected.output
    assert len(read_results(out)) == 2
    assert _lines(requests) == []  # no second round needed


def test_the_key_is_in_no_file(server: FakeBatchServer, articles: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    out = tmp_path / "results.jsonl"
    cli = ["--out", str(out)]
    submitted = runner.invoke(app, ["batch", "submit", str(articles), *cli, "--base-url",
                                    server.base_url, "--model", "fake"])
    assert submitted.exit_code == 0, submitted.output
    assert "2 requests" in submitted.output and "batch_0" in submitted.output
    status = runner.invoke(app, ["batch", "status", *cli])
    assert "validating" in status.output
    waiting = runner.invoke(app, ["batch", "collect", *cli])
    assert "in_progress" in waiting.output and "collect again later" in waiting.output
    collected = runner.invoke(app, ["batch", "collect", *cli])
    assert collected.exit_code == 0, collected.output
    assert "2 articles written" in collected.output and "120 tokens" in collected.output
    assert f"Bearer {KEY}" in server.authorization  # it was used...
    written = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {p.name for p in written} >= {"results.jsonl", "results.jsonl.batch.json",
                                         "results.jsonl.requests.jsonl",
                                         "results.jsonl.answers.jsonl"}
    for path in written:  # ...and kept nowhere
        assert KEY not in path.read_text(encoding="utf-8"), path.name
    assert KEY not in submitted.output + status.output + collected.output


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["batch", "collect", "--out", str(tmp_path / "r.jsonl")])
    assert missing.exit_code == 2 and "no batch state" in missing.output
    stdin = runner.invoke(app, ["batch", "prepare", "-", "--requests", str(tmp_path / "q")])
    assert stdin.exit_code == 2 and "Traceback" not in stdin.output


def test_the_second_stage_goes_into_the_next_batch(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    def two_stage(body: dict[str, Any]) -> str:
        if body["response_format"]["json_schema"]["name"] == "Detected":
            return json.dumps({"events": [{"type": "mou", "sent": [1]}]})
        return json.dumps({"parties": ["Acme Motors"], "people": []})

    server.answer = two_stage
    out = tmp_path / "results.jsonl"
    acme = articles / "acme.txt"
    assert _submit(server, [acme], out, stages=2).requests == 1
    reports = _collect_until_done(out)
    assert [len(u) for u in server.uploads] == [1, 1]  # detect, then the event's fields
    assert reports[-1].finished
    [result] = read_results(out)
    live = newsie.extract(acme, base_url=server.base_url, model="fake", api_key=KEY,
                          cache=False, stages=2)
    assert result.model_dump() == live.model_dump()
    assert [e.type for e in live.events] == ["mou"]


def test_a_refused_request_is_retried_then_recorded_as_a_failure(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    server.answer = lambda body: None if "Nordwind" in _article(body) else answer(body)
    out = tmp_path / "results.jsonl"
    _submit(server, [articles], out, max_attempts=2)
    report = _collect_until_done(out)[-1]
    assert [len(u) for u in server.uploads] == [2, 1]  # nord.txt sent again, once
    assert report.finished and report.failed == 1
    results = read_results(out)
    [failure] = [r for r in results if isinstance(r, newsie.Failure)]
    assert failure.source.endswith("nord.txt") and "refused" in failure.message
    assert failure.error == "ServerError"
    # collecting again keeps one record per article
    newsie.batch.collect(out, api_key=KEY)
    assert len(read_results(out)) == 2


def test_a_submitted_batch_can_be_collected_from_a_downloaded_file(
    server: FakeBatchServer, articles: Path, tmp_path: Path
) -> None:
    server.answer = lambda body: (
        GOOD if "Correct your JSON" in body["messages"][-1]["content"] else BAD)
    out = tmp_path / "results.jsonl"
    _submit(server, [articles / "acme.txt"], out)
    assert newsie.batch.collect(out, api_key=KEY).waiting
    assert newsie.batch.collect(out, api_key=KEY).waiting  # the fake finishes it here
    downloaded = tmp_path / "console.jsonl"
    downloaded.write_bytes(server.files[server.batches["batch_0"]["output_file_id"]])
    report = newsie.batch.collect(out, results=downloaded)
    assert report.requests == 1 and report.requests_file == tmp_path / (out.name +
                                                                         ".requests.jsonl")
    [reask] = _lines(report.requests_file)
    assert reask["body"]["messages"][-1]["content"].startswith("Correct your JSON")
    assert len(server.uploads) == 1  # offline from here: nothing more was uploaded
