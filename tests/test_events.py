from __future__ import annotations

import ast
from pathlib import Path

import newsie
from newsie import events

PRESENTATION = {"_report", "_export", "cli"}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[-1])
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[-1] for alias in node.names)
    return names


def test_the_data_model_depends_on_no_presentation_code() -> None:
    assert not _imported_modules(Path(events.__file__)) & PRESENTATION


def test_mou_carries_no_always_empty_scope_field() -> None:
    mou = newsie.MoU(summary="Acme signed an MoU with Beta")
    assert "scope" not in mou.model_dump()
