from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import newsie
from newsie.linking.orgs import OrgRegistry, abbreviations, org_key, read_alias_file


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
    code = "import logging, newsie.linking.orgs; print(logging.getLogger().handlers)"
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
    assert read_alias_file(js) == read_alias_file(csv) == {
        "Quillon Robotics": {"aliases": ["QR", "Quillon"]}}
    registry = OrgRegistry.from_file(js)
    registry.add("QR")
    registry.add("Quillon Robotics Co., Ltd.")
    assert registry.canonical("qr") == "Quillon Robotics"
    assert registry.canonical("Quillon Robotics Co., Ltd.") == "Quillon Robotics"


@pytest.mark.parametrize("content", ['["not", "a", "mapping"]', "{oops", '{"A": "B"}',
                                     '{"A": {"parent": 3}}', '{"A": {"alias": ["B"]}}'])
def test_a_bad_alias_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "aliases.json"
    path.write_text(content)
    with pytest.raises(newsie.AliasFileError, match=r"aliases\.json"):
        read_alias_file(path)
    with pytest.raises(newsie.AliasFileError, match="cannot read"):
        read_alias_file(tmp_path / "missing.json")


# ------------------------------------------------------------ units and their parents


def test_an_alias_file_names_parents_and_keeps_the_list_form(tmp_path: Path) -> None:
    path = tmp_path / "aliases.json"
    path.write_text(json.dumps({
        "Pellan Grid Storage": ["PGS"],
        "Orsk Cathode Works": {"aliases": ["OCW"], "parent": "Pellan Grid Storage"},
        "Orsk Anode Plant": {"parent": "Orsk Cathode Works"}}))
    assert read_alias_file(path)["Orsk Anode Plant"] == {
        "aliases": [], "parent": "Orsk Cathode Works"}
    registry = OrgRegistry.from_file(path)
    assert registry.canonical("OCW") == "Orsk Cathode Works"
    assert registry.parent("OCW") == "Pellan Grid Storage"
    assert registry.family("Orsk Anode Plant") == "Pellan Grid Storage"
    assert registry.family("PGS") == "Pellan Grid Storage"


@pytest.mark.parametrize("text", [
    "Orsk Cathode Works, a subsidiary of Pellan Grid Storage, opened a line.",
    "Orsk Cathode Works (OCW), the battery unit of China's Pellan Grid Storage, said so.",
    "Pellan Grid Storage's battery unit Orsk Cathode Works said so.",
    "Orsk Cathode Works, a Pellan Grid Storage subsidiary, said so.",
    "Orsk Cathode Works, wholly owned by Pellan Grid Storage Co., Ltd., said so.",
])
def test_an_article_says_which_organization_a_unit_belongs_to(text: str) -> None:
    registry = OrgRegistry()
    registry.learn(text)
    registry.add("Orsk Cathode Works")
    registry.add("Pellan Grid Storage")
    assert registry.parent("Orsk Cathode Works") == "Pellan Grid Storage"
    assert registry.family("Orsk Cathode Works") == "Pellan Grid Storage"
    assert registry.parent("Pellan Grid Storage") is None


def test_ties_to_names_the_corpus_never_uses_are_not_kept() -> None:
    registry = OrgRegistry()
    registry.learn("Orsk Cathode Works, a subsidiary of a local bank, opened a line.")
    registry.add("Orsk Cathode Works")
    assert registry.family("Orsk Cathode Works") == "Orsk Cathode Works"


def test_a_name_that_extends_known_names_belongs_to_the_longest() -> None:
    registry = OrgRegistry(short_forms=False)
    for name in ("Marrow", "Marrow Group", "Marrow Group Components", "Korvin Motors",
                 "Korvin Bank", "Korvin"):
        registry.add(name)
    assert registry.parent("Marrow Group Components") == "Marrow Group"
    assert registry.family("Marrow Group Components") == "Marrow"
    assert registry.canonical("Marrow") == "Marrow"  # a unit's name is not its parent's
    assert registry.family("Korvin Motors") == registry.family("Korvin Bank") == "Korvin"


def test_circular_ties_are_broken() -> None:
    registry = OrgRegistry({"Orsk": {"parent": "Pellan"}, "Pellan": {"parent": "Orsk"}})
    assert {registry.family("Orsk"), registry.family("Pellan")} <= {"Orsk", "Pellan"}
    assert registry.parent("Orsk") is None or registry.parent("Pellan") is None


def test_a_place_is_never_a_parent_by_prefix() -> None:
    corpus = OrgRegistry(short_forms=False)
    for name in ("China", "China Energy Engineering", "China Three Gorges"):
        corpus.add(name)
    assert corpus.family("China Energy Engineering") == "China Energy Engineering"
    assert corpus.family("China Three Gorges") == "China Three Gorges"
    assert corpus.parent("China Energy Engineering") is None


def test_within_an_article_a_place_is_no_short_form_of_a_company() -> None:
    article = OrgRegistry()
    for name in ("China", "China Energy Engineering"):
        article.add(name)
    assert article.canonical("China") == "China"
    # a place the article names (its GPE/LOC entities), whatever the name looks like
    named = OrgRegistry(places=["Vestmark"])
    for name in ("Vestmark", "Vestmark Cells"):
        named.add(name)
    assert named.canonical("Vestmark") == "Vestmark"


def test_an_alias_file_in_windows_1252_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "aliases.csv"
    path.write_bytes("Société Générale,SocGen,Société Générale SA\nNestlé,Nestlé SA\n"
                     .encode("cp1252"))
    assert read_alias_file(path) == {
        "Société Générale": {"aliases": ["SocGen", "Société Générale SA"]},
        "Nestlé": {"aliases": ["Nestlé SA"]}}
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    with pytest.raises(newsie.AliasFileError, match=r"bin\.csv"):
        read_alias_file(binary)
