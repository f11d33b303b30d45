from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from newsie import LocalModelError, _local


def _parts(tmp_path: Path) -> tuple[list[Path], str]:
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 5000, b"b" * 7000, b"c" * 11]):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        parts.append(p)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    return parts, digest


def test_parts_are_assembled_in_order(tmp_path: Path) -> None:
    parts, digest = _parts(tmp_path)
    target = tmp_path / "model.gguf"
    _local.assemble_model(target, parts, digest)
    assert target.read_bytes() == b"".join(p.read_bytes() for p in parts)


def test_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path)
    target = tmp_path / "model.gguf"
    with pytest.raises(LocalModelError, match="sha256"):
        _local.assemble_model(target, parts, "0" * 64)
    assert not target.exists()
    assert not list(tmp_path.glob("model.gguf*.part"))


def test_model_path_override_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSIE_MODEL_PATH", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalModelError, match="NEWSIE_MODEL_PATH"):
        _local.model_path()
    real = tmp_path / "mine.gguf"
    real.write_bytes(b"GGUF")
    monkeypatch.setenv("NEWSIE_MODEL_PATH", str(real))
    assert _local.model_path() == real
