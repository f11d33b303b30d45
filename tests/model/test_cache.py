"""The answer cache holds JSON text only: a shared cache directory never runs code."""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import diskcache
import pytest
from typer.testing import CliRunner

import newsie
from newsie.cli import app
from newsie.core.errors import CacheWarning
from newsie.model.cache import ResponseCache
from newsie.testing import FakeBackend

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


# ---------------------------------------------------------------- a cache that cannot be used

def _corrupt(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cache.db").write_bytes(b"this is no sqlite database " * 100)


def _unusable_dirs(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    corrupt = tmp_path / "corrupt"
    _corrupt(corrupt)
    return {"file": a_file, "corrupt": corrupt}


@pytest.mark.parametrize("kind", ["file", "corrupt"])
def test_an_unusable_cache_warns_and_misses(tmp_path: Path, kind: str) -> None:
    directory = _unusable_dirs(tmp_path)[kind]
    with pytest.warns(CacheWarning, match="cannot be used"):
        cache = ResponseCache(directory)
    cache.put("k", ANSWER)  # dropped, no second warning, no error
    assert cache.get("k") is None and len(cache) == 0
    cache.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_warns_and_misses(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.warns(CacheWarning):
            cache = ResponseCache(directory)
            cache.put("k", ANSWER)
        assert cache.get("k") is None
        cache.close()
    finally:
        directory.chmod(0o700)


@pytest.mark.parametrize("kind", ["file", "corrupt"])
def test_extraction_goes_on_without_an_unusable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    home = tmp_path / "home"
    if kind == "file":
        home.write_text("not a folder")
    else:
        _corrupt(home / "responses")
    monkeypatch.setenv("NEWSIE_CACHE_DIR", str(home))
    backend = FakeBackend(lambda messages, model: {"events": []})
    with pytest.warns(CacheWarning):
        result = newsie.extract("Acme Motors signed an MoU with Zenith Power on Monday.",
                                backend=backend)
    assert isinstance(result, newsie.Extraction)


def test_cache_info_and_clear_recover_a_corrupt_cache(tmp_path: Path) -> None:
    _corrupt(tmp_path / "responses")  # NEWSIE_CACHE_DIR is tmp_path (conftest)
    info = CliRunner().invoke(app, ["cache", "info"])
    assert info.exit_code == 0 and "unusable" in info.output, info.output
    cleared = CliRunner().invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 0 answers" in cleared.output, cleared.output
    cache = ResponseCache()
    cache.put("k", ANSWER)
    assert cache.get("k") == ANSWER and cache.problem is None
    cache.close()


def test_close_releases_the_connections_of_every_thread(tmp_path: Path) -> None:
    """Worker threads that read the cache leave no sqlite handle open after close()."""
    def db_handles() -> int:
        fd_dir = Path("/proc/self/fd")
        return sum(1 for fd in fd_dir.iterdir()
                   if os.path.realpath(fd).startswith(str(tmp_path / "c")))

    cache = ResponseCache(tmp_path / "c")
    cache.put("k", ANSWER)
    pool = ThreadPoolExecutor(max_workers=4)  # threads that live on, as a loop's executor
    list(pool.map(lambda _: cache.get("k"), range(16)))
    assert db_handles() > 0
    cache.close()
    assert db_handles() == 0
    pool.shutdown()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_cache_folder_that_cannot_be_made_warns_and_misses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSIE_CACHE_DIR", "/proc/self/newsie-cache")  # no one may write here
    with pytest.warns(CacheWarning):
        cache = ResponseCache()
    cache.put("k", ANSWER)
    assert cache.get("k") is None
    cache.close()
    info = CliRunner().invoke(app, ["cache", "info"])
    assert info.exit_code == 0 and "unusable" in info.output


def test_cache_clear_on_a_file_is_one_clear_line(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a folder")
    monkeypatch.setenv("NEWSIE_CACHE_DIR", str(home))
    cleared = CliRunner().invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 1 and "cannot clear the cache" in cleared.stderr
    assert cleared.exception is None or isinstance(cleared.exception, SystemExit)
    assert "Traceback" not in cleared.output
