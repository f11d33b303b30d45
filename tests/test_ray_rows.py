"""newsie.ray's map stage on its own, without a cluster: each input row's output row."""

from __future__ import annotations

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
