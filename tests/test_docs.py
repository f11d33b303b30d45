"""What the README tells a new user: the distribution to install, and figures with a source."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

README = (ROOT / "README.md").read_text(encoding="utf-8")
RESULTS = ROOT / "bench" / "results"


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_distribution_is_not_the_unrelated_pypi_newsie() -> None:
    project = _project()
    assert project["name"] == "newsie-events"  # `newsie` on PyPI is a newspaper tool
    assert project["scripts"] == {"newsie": "newsie.cli:main"}  # the command stays `newsie`


def test_every_install_hint_names_this_distribution_and_a_real_extra() -> None:
    extras = set(_project()["optional-dependencies"])  # type: ignore[arg-type]
    texts = [README, *(p.read_text(encoding="utf-8")
                       for p in (ROOT / "src" / "newsie").rglob("*") if p.suffix in {".py", ".j2"})]
    hints = [m for t in texts for m in re.findall(r"pip install '?([\w.-]+)\[([\w,]+)\]", t)]
    assert hints
    for name, wanted in hints:
        assert name == "newsie-events", name
        assert set(wanted.split(",")) <= extras, wanted


def test_readme_has_an_install_section_with_every_extra() -> None:
    section = README.split("### Install into your own environment", 1)[1].split("\n#", 1)[0]
    for extra in ("local", "pandas", "link", "ray"):
        assert f"`{extra}`" in section
    assert ".venv/bin" in README


def _paragraphs() -> list[str]:
    return [p for p in re.split(r"\n\s*\n", README) if not p.lstrip().startswith("```")]


def test_quoted_scores_come_from_a_committed_results_file_with_its_date() -> None:
    quoted = [p for p in _paragraphs() if re.search(r"F1 0\.\d+|s/article", p)]
    assert quoted
    for paragraph in quoted:
        cited = [RESULTS / Path(n).name
                 for n in re.findall(r"([\w-]+\.md)", paragraph) if n != "README.md"]
        assert cited and all(c.exists() for c in cited), paragraph
        assert re.search(r"20\d\d-\d\d-\d\d", re.sub(r"[\w-]+\.md", "", paragraph)), paragraph
        source = "".join(c.read_text(encoding="utf-8") for c in cited)
        prose = re.sub(r"`[^`]*`", "", paragraph)  # code (`num_cpus=0.5`) is no figure
        for figure in re.findall(r"(?<![\w.-])\d+\.\d+(?![\w.])", prose):
            assert figure in source, f"{figure} is in no cited results file: {paragraph}"
