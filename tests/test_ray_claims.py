"""newsie.ray's stage without a cluster: one id is extracted once per run (Ray not started)."""

from __future__ import annotations

from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
newsie_ray = pytest.importorskip("newsie.ray")

from newsie.testing import FakeBackend  # noqa: E402

TEXT = "On May 4, Acme Motors signed a supply agreement with Borealis Cells in Oslo."
MOU = {"events": [{"type": "mou", "sent": [1], "parties": ["Acme Motors"], "people": []}]}


def _stage(backend: FakeBackend, claims: Any) -> Any:
    return newsie_ray.ExtractBatch(
        text_column="text", path_column=None, id_column="id", published_column=None,
        requests_per_actor=2, skip_ids=frozenset(), claims=claims,
        options={"backend": backend, "cache": False})


def test_a_repeated_row_is_extracted_once_in_one_run() -> None:
    backend = FakeBackend(lambda messages, model: MOU)
    claims = newsie_ray.Claims()
    first, second = _stage(backend, claims), _stage(backend, claims)  # two actors
    rows = [*first(pa.Table.from_pylist([{"id": "u1", "text": TEXT},
                                         {"id": "u1", "text": TEXT},
                                         {"id": "u2", "text": TEXT}])).to_pylist(),
            *second(pa.Table.from_pylist([{"id": "u1", "text": TEXT}])).to_pylist()]
    assert len(rows) == 4  # every input row ends as one row
    ok = [r["id"] for r in rows if r["status"] == "ok"]
    assert len(ok) == len(set(ok)) == 2
    assert sorted(r["error"] for r in rows if r["status"] == "error") == [
        "DuplicateArticle", "DuplicateArticle"]
    assert len(backend.requests) == 2
