from __future__ import annotations

import pytest

from newsie.events import Order, Span
from newsie.extraction.grounding import GroundedEvent
from newsie.extraction.normalize import (
    normalize,
    organizations,
    parse_money,
    parse_quantity,
    party,
    split_person,
)
from newsie.extraction.registry import SPECS
from newsie.reading.nlp import analyze


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
     ("$300 million", 300e6, "USD"), ("€1.5bn", 1.5e9, "EUR"), ("5 trillion won", 5e12, "KRW"),
     ("$1,234.5 million", 1_234_500_000, "USD"), ("NT$500 million", 500e6, "TWD"),
     ("S$20 million", 20e6, "SGD"), ("R$ 3 billion", 3e9, "BRL"), ("US$ 3.2bn", 3.2e9, "USD"),
     ("HK$ 3 million", 3e6, "HKD"), ("2,5 Mrd. €", 2.5e9, "EUR")],
)
def test_money(text: str, amount: float, currency: str) -> None:
    m = parse_money(text)
    assert m is not None and (m.amount, m.currency) == (amount, currency)


def test_money_without_a_currency_keeps_the_text() -> None:
    m = parse_money("a large sum")
    assert m is not None and m.amount is None and m.text == "a large sum"


@pytest.mark.parametrize(
    ("text", "name", "title", "org"),
    [("Vice President Kwon Young-soo of LGES", "Kwon Young-soo", "Vice President", "LGES"),
     ("Jimmy Ge, CEO of ABF", "Jimmy Ge", "CEO", "ABF"),
     ("Dr. Jane Smith", "Jane Smith", "Dr.", None),
     ("Jimmy Ge", "Jimmy Ge", None, None)],
)
def test_people_split_title_name_and_employer(text: str, name: str, title: str | None,
                                              org: str | None) -> None:
    sentence = f"The deal was signed by {text} yesterday."
    start = sentence.index(text)
    person = split_person(Span(start=start, end=start + len(text), text=text), analyze(sentence))
    assert (person.name, person.title, person.organization) == (name, title, org)


def test_one_canonical_name_per_organization_in_an_article() -> None:
    text = "Lead Intelligent Equipment (LEAD) met Huayou Cobalt Co., Ltd. LEAD and Huayou agreed."
    orgs = organizations(text, ["LEAD", "Huayou Cobalt Co., Ltd"])
    lead = party(orgs, "LEAD", "buyer")
    assert lead.name == "Lead Intelligent Equipment" and lead.aliases == ["LEAD"]
    assert lead.role == "buyer"
    assert party(orgs, "Huayou Cobalt Co., Ltd").name == "Huayou Cobalt Co., Ltd"


def _event(kind: str, sent: tuple[int, int], roles: dict[str, list[str]], text: str = "",
           **fields: str) -> GroundedEvent:
    span = Span(start=sent[0], end=sent[1],
                text=text[sent[0]:sent[1]] if text else "x" * (sent[1] - sent[0]))
    details = {k: [v] for k, v in fields.items() if k not in ("date", "location")}
    return GroundedEvent(spec=SPECS[kind], evidence=[span], roles=roles, people=[],
                         details=details, date=fields.get("date"),
                         location=fields.get("location"))


def test_duplicates_merge_and_roles_come_from_the_model() -> None:
    text = "Lead Intelligent Equipment (LEAD) will supply American Battery Factory (ABF)."
    events = normalize(
        [_event("order", (0, 10), {"buyer": ["ABF"], "supplier": ["LEAD"]}, quantity="20GWh"),
         _event("order", (0, 10), {"buyer": ["American Battery Factory"],
                                   "supplier": ["Lead Intelligent Equipment"]},
                date="March 18"),
         _event("mou", (0, 10), {"parties": ["LEAD", "ABF"]})],
        text, None, analyze(text),
    )
    assert [e.type for e in events] == ["order", "mou"]
    order = events[0]
    assert isinstance(order, Order)
    assert order.buyer == "American Battery Factory"
    assert order.supplier == "Lead Intelligent Equipment"
    assert order.quantity is not None and order.quantity.value == 20
    assert order.date == "--03-18"
    assert [p.role for p in order.parties] == ["buyer", "supplier"]
    assert order.summary == (
        "American Battery Factory ordered 20GWh from Lead Intelligent Equipment")


@pytest.mark.parametrize(
    ("kind", "roles", "fields", "summary"),
    [("order", {"supplier": ["Vexa"]}, {"product": "coating machines"},
      "Vexa won an order for coating machines"),
     ("order", {"buyer": ["Harlow"], "supplier": ["Vexa"]}, {},
      "Harlow ordered goods from Vexa"),
     ("visit", {"visitor": ["Nordvik"], "host": ["Kestrel"]}, {"location": "Porto"},
      "Nordvik visited Kestrel in Porto"),
     ("mou", {"parties": ["Orla", "Tamsin", "Kiro"]}, {},
      "Orla and Tamsin and Kiro signed an agreement"),
     ("meeting", {"organizer": ["Vexa"]}, {"topics": "recycling"},
      "Vexa held a meeting on recycling")],
)
def test_summaries_read_as_english(kind: str, roles: dict[str, list[str]],
                                   fields: dict[str, str], summary: str) -> None:
    [event] = normalize([_event(kind, (0, 4), roles, **fields)], "text", None, analyze("text"))
    assert event.summary == summary
    assert "order an order" not in event.summary and "ordered an order" not in event.summary


def test_a_day_missing_from_the_publication_year_does_not_fail_the_article() -> None:
    [event] = normalize([_event("meeting", (0, 4), {"organizer": ["Acme"]},
                                date="February 29")], "Acme", "2023-03-01", analyze("Acme"))
    assert event.date is None and any("February 29" in w for w in event.warnings)


def test_non_dates_are_dropped_with_a_warning() -> None:
    [event] = normalize([_event("meeting", (0, 4), {"organizer": ["Acme"]},
                                date="Release time")], "Acme", None, analyze("Acme"))
    assert event.date is None and any("Release time" in w for w in event.warnings)


# ------------------------------------------ two events in one article stay two (defect 8)

TWO_ORDERS = ("Halvard Motors ordered 20 GWh of cells from Quillon Cells in March and "
              "another 5 GWh in June.")


def _order_in(sentence: tuple[int, int], text: str = "", **fields: str) -> GroundedEvent:
    return _event("order", sentence, {"buyer": ["Halvard Motors"],
                                      "supplier": ["Quillon Cells"]}, text, **fields)


def test_two_orders_of_one_sentence_with_other_quantities_and_dates_stay_two() -> None:
    whole = (0, len(TWO_ORDERS))
    events = normalize([_order_in(whole, quantity="20 GWh", date="March"),
                        _order_in(whole, quantity="5 GWh", date="June")],
                       TWO_ORDERS, "2025-07-01", analyze(TWO_ORDERS))
    assert [(e.quantity.value if isinstance(e, Order) and e.quantity else None, e.date)
            for e in events] == [(20, "2025-03"), (5, "2025-06")]


def test_orders_of_one_sentence_that_disagree_only_on_the_date_stay_two() -> None:
    whole = (0, len(TWO_ORDERS))
    events = normalize([_order_in(whole, date="March"), _order_in(whole, date="June")],
                       TWO_ORDERS, "2025-07-01", analyze(TWO_ORDERS))
    assert [e.date for e in events] == ["2025-03", "2025-06"]


def test_an_order_the_text_calls_another_is_not_merged() -> None:
    text = "Halvard Motors ordered cells from Quillon Cells. It placed another order with them."
    first, second = (0, 48), (49, len(text))
    events = normalize([_order_in(first, text), _order_in(second, text)], text, None,
                       analyze(text))
    assert [[(s.start, s.end) for s in e.evidence] for e in events] == [[first], [second]]


RESTATED = ("Quillon Cells wins 8 GWh order from Halvard Motors. "
            "Halvard Motors has ordered 8 GWh of battery cells from Quillon Cells. "
            "Deliveries of the cells start in May, Quillon Cells said.")


def _spans(*sentences: str) -> list[tuple[int, int]]:
    return [(RESTATED.index(s), RESTATED.index(s) + len(s)) for s in sentences]


def test_one_deal_restated_in_headline_lede_and_body_is_one_event() -> None:
    head, lede, body = _spans("Quillon Cells wins 8 GWh order from Halvard Motors.",
                              "Halvard Motors has ordered 8 GWh of battery cells from Quillon "
                              "Cells.", "Deliveries of the cells start in May, Quillon Cells said.")
    events = normalize([_order_in(head, RESTATED, quantity="8 GWh"),
                        _order_in(lede, RESTATED, quantity="8 GWh"),
                        _event("order", body, {"supplier": ["Quillon Cells"]}, RESTATED)],
                       RESTATED, None, analyze(RESTATED))
    assert len(events) == 1
    [order] = events
    assert isinstance(order, Order)
    assert (order.buyer, order.supplier) == ("Halvard Motors", "Quillon Cells")
    assert [(s.start, s.end) for s in order.evidence] == [head, lede, body]


def test_accounts_that_put_the_parties_on_other_sides_stay_two() -> None:
    head, lede = _spans("Quillon Cells wins 8 GWh order from Halvard Motors.",
                        "Halvard Motors has ordered 8 GWh of battery cells from Quillon Cells.")
    other = _event("order", lede, {"buyer": ["Quillon Cells"], "supplier": ["Halvard Motors"]},
                   RESTATED)
    events = normalize([_order_in(head, RESTATED), other], RESTATED, None, analyze(RESTATED))
    assert len(events) == 2


def test_reports_of_one_order_that_agree_merge() -> None:
    whole = (0, len(TWO_ORDERS))
    [event] = normalize([_order_in(whole, quantity="20 GWh"), _order_in(whole, date="March")],
                        TWO_ORDERS, "2025-07-01", analyze(TWO_ORDERS))
    assert isinstance(event, Order) and event.quantity is not None
    assert (event.quantity.value, event.date) == (20, "2025-03")


def test_no_organization_fills_two_roles_of_one_event() -> None:
    text = "Acme Motors bought 5 GWh of cells from Acme Motors Co., Ltd. and Borealis Energy."
    span = Span(start=0, end=len(text), text=text)
    roles = {"buyer": ["Acme Motors"], "supplier": ["Acme Motors Co., Ltd."]}
    grounded = GroundedEvent(spec=SPECS["order"], evidence=[span], people=[], roles=roles,
                             details={})
    [order] = normalize([grounded], text, None, analyze(text))
    assert order.buyer == "Acme Motors" and order.supplier is None  # type: ignore[attr-defined]
    assert [p.role for p in order.parties] == ["buyer"]
    assert any("already the buyer" in w for w in order.warnings)
