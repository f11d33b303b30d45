from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest

import newsie
from fakeserver import FakeModelServer

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))

#: Replayed cassettes never reach this address; recording points at the real server.
REPLAY_URL = "http://127.0.0.1:9/v1"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up a developer's endpoint, key or cache."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "NEWSIE_MODEL", "NEWSIE_MODEL_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSIE_CACHE_DIR", os.environ.get("NEWSIE_TEST_CACHE") or str(tmp_path))


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "match_on": ["method", "path", "body"],
        "filter_headers": ["authorization", "api-key", "x-api-key", "openai-organization",
                           "openai-project", "cookie", "set-cookie"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(ROOT / "cassettes" / request.module.__name__)


@pytest.fixture(scope="session")
def model_endpoint(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options that reach the embedded model: live when recording, replayed otherwise."""
    from newsie.model import engine

    recording = request.config.getoption("--record-mode") not in ("none", None)
    if recording:
        server = engine.ensure_server()
        base_url = server.base_url
    else:
        base_url = REPLAY_URL
    return {"base_url": base_url, "model": engine.MODEL_NAME, "timeout": engine.REQUEST_TIMEOUT,
            "api_key": "sk-test-not-a-real-key-0000"}


@pytest.fixture
def fake_server() -> Iterator[FakeModelServer]:
    server = FakeModelServer().start()
    yield server
    server.stop()


class ScriptedBackend:
    """A model backend for pipeline tests: `answer(messages, response_model)` gives each
    answer as a dict; every request is recorded."""

    model = "scripted"
    endpoint = "test"

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[tuple[list[dict[str, str]], Any]] = []

    def cache_identity(self) -> dict[str, Any]:
        return {"scripted": id(self.answer)}

    def complete(self, messages: list[dict[str, str]], response_model: Any) -> Any:
        from newsie.events import Usage

        self.requests.append((messages, response_model))
        value = response_model.model_validate(self.answer(messages, response_model))
        return value, Usage(prompt_tokens=100, completion_tokens=10, total_tokens=110,
                            requests=1)

    async def acomplete(self, messages: list[dict[str, str]], response_model: Any) -> Any:
        return self.complete(messages, response_model)

    def close(self) -> None:
        pass


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    """Entry points are read again in the test, and again after it (with sys.path back)."""
    from newsie.extraction import registry

    registry._registry = None
    yield
    registry._registry = None


def dist_info(root: Path, name: str, entry_points: str) -> Path:
    """A distribution as pip leaves it: a dist-info folder with its entry points."""
    info = root / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[newsie.event_types]\n{entry_points}\n")
    return root


class Expansion(newsie.Event):
    """A type of the tests' own: a plant expansion with a capacity, a cost and a site."""

    definition = "a company expands a plant's capacity"
    lemmas = ("expand", "expansion")

    type: Literal["plant_expansion"] = "plant_expansion"
    company: Annotated[str | None, newsie.Org] = None
    capacity: newsie.Quantity | None = None
    cost: newsie.Money | None = None
    site: Annotated[str | None, newsie.Place] = None
