"""newsie.ray's map stage on its own, without a cluster: each input row's output row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("ray")

from newsie.ray import ExtractBatch  # noqa: E402
from newsie.reading.article import source_of  # noqa: E402
from newsie.testing import FakeBackend  # noqa: E402


def test_failed_text_rows_are_named_by_their_text_not_all_one_id() -> None:
    stage = ExtractBatch(text_column="text", path_column=None, id_column=None,
                         published_column=None, requests_per_actor=1, skip_ids=frozenset(),
                         options={"backend": FakeBackend([]), "cache": False})
    texts = ["", "   ", "\x00\x01\x02\x03 binary"]
    rows = stage(pa.table({"text": texts})).to_pylist()
    assert [r["status"] for r in rows] == ["error"] * 3
    assert len({r["id"] for r in rows}) == 3
    assert [r["source"] for r in rows] == [source_of(t) for t in texts]
    assert all(r["source"].startswith("text:") for r in rows)


def test_the_ray_cli_refuses_a_post_list_rather_than_keep_one_post(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsie.cli import app

    posts = tmp_path / "posts.json"
    posts.write_text(json.dumps([{"id": n, "content": {"rendered": f"<p>Post {n}.</p>"}}
                                 for n in (1, 2)]))
    result = CliRunner().invoke(app, ["extract", str(posts), "--engine", "ray",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and f"{posts}#1 is a post of a WordPress list" in result.output
