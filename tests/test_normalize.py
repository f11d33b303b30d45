from __future__ import annotations

import pytest

from newsie._grounding import GroundedEvent
from newsie._normalize import (
    Organizations,
    learn_aliases,
    normalize,
    org_key,
    parse_money,
    parse_quantity,
    split_person,
)
from newsie.events import Span


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [("20GWh", 20, "GWh"), ("a total capacity of 20 GWh", 20, "GWh"),
     ("1.2 million tonnes", 1_200_000, "tonnes"), ("3,000 employees", 3000, "employees")],
)
def test_quantities(text: str, value: float, unit: str) -> None:
    q = parse_quantity(text)
    assert q is not None and (q.value, q.unit, q.text) == (value, unit, text)


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [("130 million yuan", 130_000_000, "CNY"), ("USD 14 billion", 14e9, "USD"),
     ("$300 million", 300e6, "USD"), ("€1.5bn", 1.5e9, "EUR"), ("5 trillion won", 5e12, "KRW")],
)
def test_money(text: str, amount: float, currency: str) -> None:
    m = parse_money(text)
    assert m is not None and (m.amount, m.currency) == (amount, currency)


def test_money_without_a_currency_keeps_the_text() -> None:
    m = parse_money("a large sum")
    assert m is not None and m.amount is None and m.text == "a large sum"


@pytest.mark.parametrize(
    ("text", "name", "title", "org"),
    [("Vice President Kwon Young-soo", "Kwon Young-soo", "Vice President", None),
     ("Chairman Chen Xuehua", "Chen Xuehua", "Chairman", None),
     ("Wang Yanqing, Chairman of LEAD", "Wang Yanqing", "Chairman", "LEAD"),
     ("Managing Director Chen Meifa", "Chen Meifa", "Managing Director", None),
     ("Jimmy Ge", "Jimmy Ge", None, None)],
)
def test_people(text: str, name: str, title: str | None, org: str | None) -> None:
    person = split_person(text)
    assert (person.name, person.title, person.organization) == (name, title, org)


def test_aliases_are_learned_from_the_article() -> None:
    text = ("Lead Intelligent Equipment (LEAD) signed with American Battery Factory (ABF). "
            "On March 18, LG Energy Solution (LGES) said so.")
    assert learn_aliases(text) == {"LEAD": "Lead Intelligent Equipment",
                                   "ABF": "American Battery Factory",
                                   "LGES": "LG Energy Solution"}


def test_one_canonical_name_per_organization() -> None:
    text = "Lead Intelligent Equipment (LEAD) met Huayou Cobalt Co., Ltd. LEAD and Huayou agreed."
    orgs = Organizations(text, ["LEAD", "Lead Intelligent Equipment", "Huayou",
                                "Huayou Cobalt Co., Ltd"])
    lead = orgs.party("LEAD")
    assert lead.name == "Lead Intelligent Equipment" and "LEAD" in lead.aliases
    assert orgs.party("Huayou").name == "Huayou Cobalt Co., Ltd"


def test_company_suffixes_do_not_matter() -> None:
    assert org_key("Huayou Cobalt Co., Ltd.") == org_key("huayou cobalt")
    assert org_key("International SOS Pte Ltd") == org_key("International SOS")


def _event(kind: str, sent: tuple[int, int], parties: list[str], **fields: str) -> GroundedEvent:
    span = Span(start=sent[0], end=sent[1], text="x" * (sent[1] - sent[0]))
    return GroundedEvent(type=kind, evidence=[span], parties=parties, people=[],  # type: ignore[arg-type]
                         **fields)


def test_duplicates_merge_and_roles_follow_order() -> None:
    text = "Lead Intelligent Equipment (LEAD) will supply American Battery Factory (ABF)."
    events = normalize(
        [_event("order", (0, 10), ["ABF", "LEAD"], quantity="20GWh"),
         _event("order", (0, 10), ["American Battery Factory", "Lead Intelligent Equipment"],
                date="March 18"),
         _event("mou", (0, 10), ["LEAD", "ABF"])],
        text, None,
    )
    assert [e.type for e in events] == ["order", "mou"]
    order = events[0]
    assert order.buyer == "American Battery Factory"  # type: ignore[union-attr]
    assert order.supplier == "Lead Intelligent Equipment"  # type: ignore[union-attr]
    assert order.quantity is not None and order.quantity.value == 20  # type: ignore[union-attr]
    assert order.date == "--03-18"
    assert "American Battery Factory" in order.summary


def test_a_day_missing_from_the_publication_year_does_not_fail_the_article() -> None:
    [event] = normalize([_event("meeting", (0, 4), ["Acme"], date="February 29")], "Acme",
                        "2023-03-01")
    assert event.date is None and any("February 29" in w for w in event.warnings)


def test_non_dates_are_dropped_with_a_warning() -> None:
    [event] = normalize([_event("meeting", (0, 4), ["Acme"], date="Release time")], "Acme", None)
    assert event.date is None and any("Release time" in w for w in event.warnings)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("Lead Intelligent Equipment (LEAD)", "Lead Intelligent Equipment"),
     ("Vice President Kwon Young-soo of LGES", "LGES"), ("Huayou", "Huayou"),
     ("Korea Battery Industry Association Chairman Jeon Young-hyun,",
      "Korea Battery Industry Association"),
     ("Samsung SDI Co., Ltd.", "Samsung SDI Co., Ltd.")],
)
def test_party_strings_are_cleaned(raw: str, clean: str) -> None:
    from newsie._normalize import clean_party

    assert clean_party(raw) == clean


@pytest.mark.parametrize(
    ("parties", "evidence", "expected"),
    [(["LEAD", "ABF"], "LEAD will provide ABF with a production line", ["ABF", "LEAD"]),
     (["LEAD", "ABF"], "ABF ordered 20 GWh of lines from LEAD", ["ABF", "LEAD"]),
     (["Acme", "Beta"], "Beta won a contract from Acme", ["Acme", "Beta"]),
     (["ABF", "LEAD"], "LEAD received orders from ABF", ["ABF", "LEAD"]),
     (["Acme", "Beta"], "Acme and Beta are partners", ["Acme", "Beta"])],
)
def test_order_roles_follow_the_verb(parties: list[str], evidence: str,
                                     expected: list[str]) -> None:
    from newsie._normalize import order_roles

    assert order_roles(parties, evidence) == expected


@pytest.mark.parametrize("name", ["Party Committee and managing director", "subsidiaries",
                                  "marketing and R&D teams"])
def test_roles_and_groups_are_not_organizations(name: str) -> None:
    from newsie._normalize import is_organization

    assert not is_organization(name)
    assert is_organization("Lishen Battery")


def test_talks_during_a_visit_are_part_of_the_visit() -> None:
    text = "LGES visited Huayou. LGES and Huayou held talks. Huayou met Tesla."
    events = normalize(
        [_event("visit", (0, 20), ["LGES", "Huayou"]),
         _event("meeting", (21, 48), ["Huayou", "LGES"]),
         _event("meeting", (49, 66), ["Huayou", "Tesla"])],
        text, None,
    )
    assert [e.type for e in events] == ["visit", "meeting"]
    assert len(events[0].evidence) == 2


def test_events_whose_parties_are_all_people_are_dropped() -> None:
    text = "Minister Lee Chang-yang met Chairman Jeon."
    events = normalize([_event("meeting", (0, 42), ["Minister Lee Chang-yang"])], text, None)
    assert events == []


@pytest.mark.parametrize(
    ("kind", "fields", "summary"),
    [
        ("order", {"quantity": "20 GWh", "subject": "batteries"},
         "Acme Motors ordered 20 GWh of batteries from Borealis Cells"),
        ("order", {}, "Acme Motors placed an order with Borealis Cells"),
        ("order", {"subject": "an order"}, "Acme Motors placed an order with Borealis Cells"),
        ("order", {"subject": "purchase contract"},
         "Acme Motors placed a purchase contract with Borealis Cells"),
        ("mou", {"subject": "strategic cooperation agreement"},
         "Acme Motors signed a strategic cooperation agreement with Borealis Cells"),
        ("mou", {"subject": "an MoU"}, "Acme Motors signed an MoU with Borealis Cells"),
        ("meeting", {"subject": "talks"}, "Acme Motors held talks"),
        ("meeting", {"subject": "annual investor forum"},
         "Acme Motors held an annual investor forum"),
    ],
)
def test_summaries_read_as_english(kind: str, fields: dict[str, str], summary: str) -> None:
    [event] = normalize([_event(kind, (0, 4), ["Acme Motors", "Borealis Cells"], **fields)],
                        "Acme Motors and Borealis Cells", None)
    assert event.summary == summary
