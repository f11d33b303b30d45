"""The package's folders are its design: imports point one way, and nothing imports in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import newsie

SRC = Path(newsie.__file__).parent

#: Lower layers never import higher ones. `events` (the public data model) and `core` (errors,
#: redaction) are the floor; the public modules at the top (`cli`, `ray`, `testing`, the facade)
#: may use everything.
LAYERS = {"events": 0, "core": 0, "reading": 1, "model": 2, "linking": 3, "extraction": 4,
          "output": 5}
TOP = 6


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every newsie module that `path` imports, at import time or inside a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("newsie")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("newsie"):
                continue
            for alias in node.names:  # `from . import engine` names a module
                sub = f"{module}.{alias.name}"
                found.add(sub if _exists(sub) else module)
    return {m for m in found if m != name and m != "newsie"}


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in SRC.rglob("*.py")}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], TOP) if len(parts) > 1 else TOP


def test_every_private_module_lives_in_a_folder_named_for_its_concern() -> None:
    flat = sorted(p.name for p in SRC.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "_api.py", "batch.py", "cli.py", "cli_batch.py",
                    "events.py", "ray.py", "testing.py"]
    for folder in LAYERS.keys() - {"events"}:
        doc = ast.get_docstring(ast.parse((SRC / folder / "__init__.py").read_text()))
        assert doc, f"{folder}/__init__.py says what the folder is for"


def test_imports_point_down_the_layers() -> None:
    upward = [f"{src} -> {dst}" for src, targets in _graph().items() for dst in targets
              if _layer(dst) > _layer(src)]
    assert upward == []


def test_no_module_imports_in_a_circle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_relative_imports_resolve_to_the_modules_they_name() -> None:
    """The walk itself works, or the two tests above would pass on nothing."""
    assert _layer("newsie.reading.article") < _layer("newsie.extraction.flow")
    assert "newsie.events" in _imports(SRC / "model" / "backend.py")
    assert "newsie.model.engine" in _imports(SRC / "model" / "embedded.py")
