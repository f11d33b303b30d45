"""The answer cache holds JSON text only: a shared cache directory never runs code."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import diskcache
import pytest
from typer.testing import CliRunner

from newsie.cli import app
from newsie.model.cache import ResponseCache

MESSAGES = [{"role": "user", "content": "Acme signed an MoU."}]
PARAMS = {"max_tokens": 1024, "temperature": 0.0}
REMOTE = {"base_url": "http://models.example:8000/v1", "model": "qwen"}
ANSWER = {"answer": {"events": [{"type": "mou", "sent": [1]}]}, "usage": {"requests": 1}}


class _Payload:
    """A pickle that, once loaded, leaves a file behind: proof that it ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return Path.touch, (self.marker,)


def test_a_pickle_in_the_cache_directory_is_a_miss_and_never_loaded(tmp_path: Path) -> None:
    key = "0" * 64  # any key a reader asks for
    marker = tmp_path / "code-ran"
    with diskcache.Cache(str(tmp_path / "cache")) as foreign:  # diskcache's default: pickle
        foreign.set(key, _Payload(marker))
    cache = ResponseCache(tmp_path / "cache")
    assert cache.get(key) is None
    assert not marker.exists()
    cache.put(key, ANSWER)  # and the reader's own answer replaces it
    assert cache.get(key) == ANSWER
    cache.close()


def test_a_row_written_as_a_pickle_to_a_file_is_a_miss(tmp_path: Path) -> None:
    key = "0" * 64
    marker = tmp_path / "code-ran"
    with diskcache.Cache(str(tmp_path / "cache"), disk_min_file_size=0) as foreign:
        foreign.set(key, _Payload(marker))  # the pickle in a file beside the database
    cache = ResponseCache(tmp_path / "cache")
    assert cache.get(key) is None
    cache.close()
    assert not marker.exists()


def test_answers_are_plain_json_in_the_database(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put("k", ANSWER)
    cache.close()
    with sqlite3.connect(tmp_path / "cache.db") as db:
        rows = db.execute("SELECT mode, filename, value FROM Cache").fetchall()
    assert [(filename, json.loads(value)) for _, filename, value in rows] == [(None, ANSWER)]


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", '{"answer": "text"}', "{}"])
def test_a_value_not_json_of_the_answer_shape_is_a_miss(tmp_path: Path, stored: str) -> None:
    with diskcache.Cache(str(tmp_path)) as foreign:
        foreign.set("k", stored)
    cache = ResponseCache(tmp_path)
    assert cache.get("k") is None
    cache.close()


def test_clear_never_deletes_a_file_outside_the_cache(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    cache = ResponseCache(tmp_path / "cache")
    cache.put("k", ANSWER)
    cache.close()
    with sqlite3.connect(tmp_path / "cache" / "cache.db") as db:
        db.execute("UPDATE Cache SET filename = ?", ("../victim.txt",))
    cache = ResponseCache(tmp_path / "cache")
    assert cache.clear() == 1 and len(cache) == 0
    cache.close()
    assert victim.read_text() == "keep me"


def test_the_key_names_the_server() -> None:
    key = ResponseCache.key(MESSAGES, PARAMS, REMOTE)
    assert key == ResponseCache.key(MESSAGES, dict(PARAMS), dict(REMOTE))
    others = [{**REMOTE, "base_url": "http://other.example:8000/v1"},
              {**REMOTE, "model": "llama"}, {"gguf_sha256": "ab" * 32},
              {"gguf_sha256": "cd" * 32}]
    keys = {ResponseCache.key(MESSAGES, PARAMS, identity) for identity in others}
    assert len(keys) == len(others) and key not in keys


def test_cache_info_and_clear_still_work(tmp_path: Path) -> None:
    cache = ResponseCache()
    cache.put("k", ANSWER)
    cache.close()
    info = CliRunner().invoke(app, ["cache", "info"])
    assert info.exit_code == 0 and "1 answers" in info.output
    cleared = CliRunner().invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 1 answers" in cleared.output
