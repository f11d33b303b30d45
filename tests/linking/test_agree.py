"""One rule for "the same occurrence": the parties on each side, within and across articles."""

from __future__ import annotations

from newsie.linking.agree import sides_agree


def test_a_side_left_unnamed_agrees_with_any() -> None:
    named = {"buyer": ["halvard"], "supplier": ["quillon"]}
    assert sides_agree(named, {"buyer": [], "supplier": ["quillon"]})
    assert sides_agree({"parties": ["halvard", "quillon"]}, {"parties": ["quillon"]})


def test_other_organizations_on_one_side_disagree() -> None:
    assert not sides_agree({"buyer": ["halvard"], "supplier": ["quillon"]},
                           {"buyer": ["borealis"], "supplier": ["quillon"]})
    assert not sides_agree({"parties": ["halvard", "quillon"]},
                           {"parties": ["halvard", "borealis"]})


def test_an_organization_on_the_other_side_disagrees() -> None:
    assert not sides_agree({"buyer": ["halvard"], "supplier": []},
                           {"buyer": [], "supplier": ["halvard"]})
