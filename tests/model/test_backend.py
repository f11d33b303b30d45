"""Model backends: which one serves, the caller's client in both flows, loopback without
proxies, what names a server in the cache, and the fake for tests."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

import newsie
from fakeserver import FakeModelServer, events_reply
from newsie.cli import app
from newsie.core.errors import ConfigurationError
from newsie.model import engine as _local
from newsie.model.backend import Backend
from newsie.model.embedded import EmbeddedBackend
from newsie.model.endpoint import Endpoint
from newsie.model.openai_backend import OpenAIBackend, async_client, sync_client
from newsie.model.resolve import resolve_backend
from newsie.testing import FakeBackend

ARTICLE = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
MOU = {"type": "mou", "sent": [1], "parties": ["Acme Motors", "Borealis Cells"], "people": []}
KEY = "sk-caller-key-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "Any events?"}]


class Answer(BaseModel):
    events: list[dict[str, Any]]


def _keep_alive(server: FakeModelServer) -> FakeModelServer:
    """HTTP/1.1: the client keeps its connection, as against a real server."""
    server._http.RequestHandlerClass.protocol_version = "HTTP/1.1"  # type: ignore[attr-defined]
    return server


# ---------------------------------------------------------------- defect 6: who serves


def test_a_key_in_the_environment_alone_keeps_the_embedded_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    backend = resolve_backend()
    assert isinstance(backend, EmbeddedBackend) and backend.endpoint == "embedded"

    def no_engine() -> None:
        raise newsie.LocalModelError("no engine in tests")

    monkeypatch.setattr(_local, "ensure_server", no_engine)
    with pytest.raises(newsie.LocalModelError, match="no engine in tests"):
        newsie.extract(ARTICLE, cache=False)


def test_a_server_is_named_by_url_model_client_or_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.1.2.3:8000/v1")
    assert resolve_backend().endpoint == "http://10.1.2.3:8000/v1"
    monkeypatch.delenv("OPENAI_BASE_URL")

    monkeypatch.setenv("NEWSIE_MODEL", "gpt-4.1-mini")
    with pytest.raises(ConfigurationError, match="needs a key"):
        resolve_backend()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    remote = resolve_backend()
    assert (remote.model, remote.endpoint) == ("gpt-4.1-mini", "https://api.openai.com/v1")

    given = openai.OpenAI(api_key=KEY, base_url="http://10.9.9.9:1234/v1")
    by_client = resolve_backend(client=given)
    assert (by_client.model, by_client.endpoint) == ("gpt-4.1-mini", "http://10.9.9.9:1234/v1")

    fake = FakeBackend([])
    assert resolve_backend(backend=fake) is fake


def test_conflicting_or_idle_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        resolve_backend(backend=FakeBackend([]), base_url="http://x/v1")
    with pytest.raises(ConfigurationError, match="names no server"):
        resolve_backend(api_key=KEY)
    with pytest.raises(ConfigurationError, match="client="):
        resolve_backend(client=openai.OpenAI(api_key=KEY), base_url="http://x/v1")


# ---------------------------------------------------------------- defect 5: the caller's client


def test_a_sync_client_serves_the_async_flow_with_its_own_key(
    fake_server: FakeModelServer,
) -> None:
    fake_server.script = [events_reply([MOU])]
    given = openai.OpenAI(api_key=KEY, base_url=fake_server.base_url)
    with newsie.Extractor(client=given, cache=False) as extractor:
        result = asyncio.run(extractor.aextract(ARTICLE))
        again = extractor.extract(ARTICLE + " Again.")
    assert [e.type for e in result.events] == ["mou"] and again.events
    assert [h["authorization"] for h in fake_server.headers] == [f"Bearer {KEY}"] * 2


def test_an_async_client_serves_the_async_flow_and_refuses_the_sync_one(
    fake_server: FakeModelServer,
) -> None:
    fake_server.script = [events_reply([MOU])]

    async def main() -> Answer:
        given = openai.AsyncOpenAI(api_key=KEY, base_url=fake_server.base_url)
        backend = OpenAIBackend.for_client(given)
        answer, _ = await backend.acomplete(MESSAGES, Answer)
        with pytest.raises(ConfigurationError, match="AsyncOpenAI"):
            backend.complete(MESSAGES, Answer)
        return answer

    assert asyncio.run(main()).events == [MOU]
    assert fake_server.headers[0]["authorization"] == f"Bearer {KEY}"


def test_one_backend_serves_several_event_loops_in_a_row(fake_server: FakeModelServer) -> None:
    _keep_alive(fake_server).script = [events_reply([MOU])]
    backend = OpenAIBackend(Endpoint(base_url=fake_server.base_url, max_attempts=1))
    for _ in range(3):
        answer, usage = asyncio.run(backend.acomplete(MESSAGES, Answer))
        assert answer.events == [MOU] and usage.requests == 1
    assert len(fake_server.requests) == 3
    backend.close()


# ---------------------------------------------------------------- defect 7: proxies


@pytest.fixture
def dead_proxy(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every proxy variable points at a loopback port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proxy = f"http://127.0.0.1:{port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
        monkeypatch.setenv(name.lower(), proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return proxy


def test_loopback_requests_never_go_through_a_proxy(
    dead_proxy: str, fake_server: FakeModelServer
) -> None:
    fake_server.script = [events_reply([MOU])]
    with pytest.raises(httpx.TransportError):  # the proxy really is in a default client's way
        httpx.get(fake_server.base_url + "/models")

    embedded = Endpoint(base_url=fake_server.base_url, embedded=True, max_attempts=1)
    assert sync_client(embedded).models.list().data == []
    backend = OpenAIBackend(embedded)
    assert backend.complete(MESSAGES, Answer)[0].events == [MOU]
    assert asyncio.run(backend.acomplete(MESSAGES, Answer))[0].events == [MOU]

    async def listed() -> list[Any]:
        return (await async_client(embedded).models.list()).data

    assert asyncio.run(listed()) == []


def test_the_engine_start_check_ignores_proxies(
    dead_proxy: str, fake_server: FakeModelServer
) -> None:
    address = fake_server.base_url.removesuffix("/v1")
    _local._first_answer(address, Path("model.gguf"))  # raises LocalModelError via the proxy
    assert fake_server.requests == [{"prompt": "OK", "n_predict": 1}]


# ---------------------------------------------------------------- what names a server


def test_results_and_the_cli_name_the_model_and_endpoint(fake_server: FakeModelServer) -> None:
    fake_server.script = [events_reply([MOU])]
    result = newsie.extract(ARTICLE, base_url=fake_server.base_url, model="m1", cache=False)
    assert (result.model, result.endpoint) == ("m1", fake_server.base_url)
    cli = CliRunner().invoke(app, ["extract", "-", "--base-url", fake_server.base_url,
                                   "--model", "m2", "--no-cache"], input=ARTICLE)
    assert cli.exit_code == 0, cli.output
    assert f"model m2 @ {fake_server.base_url}" in cli.output


def test_the_embedded_model_is_named_in_the_cache_by_content(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def never() -> Path:
        raise AssertionError("the embedded model's sha256 is known without assembling it")

    with monkeypatch.context() as patched:
        patched.setattr(_local, "model_path", never)
        shipped = EmbeddedBackend().cache_identity()
    assert shipped["model_sha256"] == _local.MODEL_SHA256

    one, same, other = (tmp_path / n for n in ("one.gguf", "same.gguf", "other.gguf"))
    one.write_bytes(b"GGUF weights")
    same.write_bytes(b"GGUF weights")
    other.write_bytes(b"GGUF other weights")
    identities = {}
    _local._file_sha256.cache_clear()
    for path in (one, same, other, one):
        monkeypatch.setenv("NEWSIE_MODEL_PATH", str(path))
        backend = EmbeddedBackend()
        assert backend.model == path.stem and backend.endpoint == "embedded"
        identities[path.name] = backend.cache_identity()
    assert identities["one.gguf"] == identities["same.gguf"] != identities["other.gguf"]
    assert "one" not in json.dumps(identities["one.gguf"])
    assert _local._file_sha256.cache_info().misses == 3  # `one` was hashed once


def test_remote_cache_identity_names_server_model_and_settings() -> None:
    a = OpenAIBackend(Endpoint(base_url="http://h:1/v1", model="m", api_key=KEY))
    b = OpenAIBackend(Endpoint(base_url="http://h:2/v1", model="m", api_key=KEY))
    c = OpenAIBackend(Endpoint(base_url="http://h:1/v1", model="m", temperature=0.5))
    assert len({json.dumps(x.cache_identity(), sort_keys=True) for x in (a, b, c)}) == 3
    assert KEY not in json.dumps(a.cache_identity())


# ---------------------------------------------------------------- the fake backend


def test_fake_backend_answers_records_and_meters_in_both_flows() -> None:
    fake = FakeBackend([{"events": [MOU]}, Answer(events=[]), '{"events": []}'])
    assert isinstance(fake, Backend)
    with newsie.Extractor(backend=fake, cache=False) as extractor:
        result = extractor.extract(ARTICLE)
        later = asyncio.run(extractor.aextract(ARTICLE + " Later."))
    assert [e.type for e in result.events] == ["mou"] and later.events == []
    assert (result.model, result.endpoint) == ("fake", "fake")
    assert result.usage.requests == 1 and result.usage.total_tokens == 60
    assert len(fake.requests) == 2 and "Acme Motors" in json.dumps(fake.requests[0].messages)
    assert not fake.closed  # the caller's backend stays open
    assert fake.complete(MESSAGES, Answer)[0].events == []
    with pytest.raises(AssertionError, match="request 4"):
        fake.complete(MESSAGES, Answer)


def test_fake_backend_from_a_function_and_raising_errors() -> None:
    def answer(messages: list[dict[str, str]], model: type[BaseModel]) -> Any:
        if "fail" in messages[-1]["content"]:
            return newsie.ServerError("down")
        return {"events": [{"n": len(messages)}]}

    fake = FakeBackend(answer, model="m", endpoint="e")
    assert fake.complete(MESSAGES, Answer)[0].events == [{"n": 1}]
    with pytest.raises(newsie.ServerError, match="down"):
        asyncio.run(fake.acomplete([{"role": "user", "content": "fail"}], Answer))
    assert [r.response_model for r in fake.requests] == [Answer, Answer]
