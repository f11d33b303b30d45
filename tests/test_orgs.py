from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import newsie
from newsie._orgs import OrgRegistry, abbreviations, org_key, read_alias_file


def test_legal_forms_case_and_punctuation_do_not_matter() -> None:
    assert org_key("Quillon Robotics Co., Ltd.") == org_key("quillon robotics")
    assert org_key("The Marrow Group Inc.") == org_key("Marrow Group")
    assert org_key("Tavel Cells Co., Limited") == org_key("Tavel Cells Co.,Ltd") == "tavel cells"


def test_abbreviation_definitions_are_found() -> None:
    text = ("Orsk Lithium Materials (OLM) will supply Pellan Grid Storage Co., Ltd. (PGS).\n"
            "Vantor Energy Systems (VES) was not involved.")
    assert abbreviations(text) == {"OLM": "Orsk Lithium Materials",
                                   "PGS": "Pellan Grid Storage",
                                   "VES": "Vantor Energy Systems"}


def test_importing_does_not_configure_the_hosts_logging() -> None:
    # the abbreviations package calls logging.basicConfig on import; a fresh process
    # shows whether that reached the root logger
    code = "import logging, newsie._orgs; print(logging.getLogger().handlers)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_registry_learns_abbreviations_across_articles() -> None:
    registry = OrgRegistry()
    registry.learn("Orsk Lithium Materials (OLM) opened a plant.")
    registry.add("OLM")  # another article only says OLM
    registry.add("Orsk Lithium Materials Co., Ltd.")
    assert registry.canonical("OLM") == "Orsk Lithium Materials"
    assert set(registry.aliases("OLM")) == {"OLM", "Orsk Lithium Materials Co., Ltd."}


def test_an_abbreviation_defined_two_ways_stays_ambiguous() -> None:
    registry = OrgRegistry()
    registry.learn("Pellan Grid Storage (PGS) grew.")
    registry.learn("Polar Gas Services (PGS) shrank.")
    registry.add("PGS")
    assert registry.canonical("PGS") == "PGS"


def test_a_short_name_joins_the_one_longer_name_containing_it() -> None:
    registry = OrgRegistry()
    for name in ("Tavel Cells", "Tavel Cells Europe", "Korvin", "Korvin Motors", "Korvin Bank"):
        registry.add(name)
    assert registry.canonical("Tavel Cells") == "Tavel Cells Europe"
    assert registry.canonical("Korvin") == "Korvin"  # two candidates: left alone


def test_user_alias_file_json_and_csv(tmp_path: Path) -> None:
    js = tmp_path / "aliases.json"
    js.write_text(json.dumps({"Quillon Robotics": ["QR", "Quillon"]}))
    csv = tmp_path / "aliases.csv"
    csv.write_text("Quillon Robotics,QR,Quillon\n")
    assert read_alias_file(js) == read_alias_file(csv) == {"Quillon Robotics": ["QR", "Quillon"]}
    registry = OrgRegistry.from_file(js)
    registry.add("QR")
    registry.add("Quillon Robotics Co., Ltd.")
    assert registry.canonical("qr") == "Quillon Robotics"
    assert registry.canonical("Quillon Robotics Co., Ltd.") == "Quillon Robotics"


@pytest.mark.parametrize("content", ['["not", "a", "mapping"]', "{oops", '{"A": "B"}'])
def test_a_bad_alias_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "aliases.json"
    path.write_text(content)
    with pytest.raises(newsie.AliasFileError, match=r"aliases\.json"):
        read_alias_file(path)
    with pytest.raises(newsie.AliasFileError, match="cannot read"):
        read_alias_file(tmp_path / "missing.json")
