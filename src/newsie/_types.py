"""What each event type is, decided in one place: its model, its roles, the words that state it.

The pipeline never names a type: it reads these specs. The prompt lists their definitions,
the wire schema asks for their roles, grounding checks their trigger words, and the public
model gets their fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .events import Meeting, MoU, Order, Visit, _Event


@dataclass(frozen=True)
class EventSpec:
    """One event type.

    `roles` are the organization slots the model fills (`visitor`, `host`...); a role that
    ends in `s` takes a list. `details` are short phrases copied from the text (`product`,
    `quantity`...). `lemmas` are the words (as spaCy lemmas) without which a sentence does
    not state an event of this type. `summary` writes the one-line headline from the
    grounded values.
    """

    name: str
    model: type[_Event]
    definition: str
    roles: tuple[str, ...]
    details: tuple[str, ...]
    lemmas: tuple[str, ...]
    summary: Callable[[Mapping[str, Any]], str]
    #: The model field that lists the names of the event's people, if any.
    people_field: str | None = None

    @staticmethod
    def many(role: str) -> bool:
        return role.endswith("s")


def detail_kind(spec: EventSpec, name: str) -> str:
    """What a detail field holds, by its public type: "quantity", "money" or "phrase"."""
    annotation = str(spec.model.model_fields[name].annotation)
    return "quantity" if "Quantity" in annotation else "money" if "Money" in annotation else (
        "phrase")


_DETERMINER = re.compile(r"^(a|an|the|its|their|his|her|one|two|three|several|\d)\b", re.I)


def _noun(phrase: str) -> str:
    """'forum' -> 'a forum', 'annual forum' -> 'an annual forum'; 'talks', 'the MoU' as is."""
    if _DETERMINER.match(phrase) or phrase.endswith("s"):
        return phrase
    return ("an " if phrase[0].lower() in "aeiou" else "a ") + phrase


def _join(values: Any) -> str:
    if isinstance(values, list):
        return " and ".join(str(v) for v in values) if values else ""
    return str(values) if values else ""


def _visit(v: Mapping[str, Any]) -> str:
    where = f" in {v['location']}" if v.get("location") else ""
    return f"{v.get('visitor') or 'A delegation'} visited {v.get('host') or 'a host'}{where}"


def _mou(v: Mapping[str, Any]) -> str:
    parties = v.get("parties") or []
    what = _noun(v.get("agreement") or "agreement")
    if len(parties) > 1:
        return f"{_join(parties[:-1])} and {parties[-1]} signed {what}"
    return f"{_join(parties) or 'An organization'} signed {what}"


def _order(v: Mapping[str, Any]) -> str:
    quantity = v.get("quantity")
    amount = quantity.text if quantity is not None else None
    goods = " of ".join(x for x in (amount, v.get("product")) if x) or "goods"
    buyer, supplier = v.get("buyer"), v.get("supplier")
    if buyer and supplier:
        return f"{buyer} ordered {goods} from {supplier}"
    if supplier:
        return f"{supplier} won an order for {goods}"
    return f"{buyer or 'A buyer'} placed an order for {goods}"


def _meeting(v: Mapping[str, Any]) -> str:
    topic = v.get("topics") or []
    what = f" on {topic[0]}" if topic else ""
    where = f" in {v['location']}" if v.get("location") else ""
    return f"{v.get('organizer') or 'An organization'} held a meeting{what}{where}"


BUILTIN: tuple[EventSpec, ...] = (
    EventSpec(
        name="visit", model=Visit,
        definition="people of one organization travel to another organization's site",
        roles=("visitor", "host"), details=(),
        lemmas=("visit", "tour", "delegation", "inspect", "inspection", "trip", "welcome",
                "receive", "host", "访问", "参观", "考察", "来访", "拜访", "调研"),
        summary=_visit,
    ),
    EventSpec(
        name="mou", model=MoU,
        definition="an MoU, cooperation, partnership, framework, supply or joint-venture "
                   "agreement is signed",
        roles=("parties",), details=("agreement", "quantity", "value"),
        lemmas=("sign", "agreement", "memorandum", "mou", "partnership", "cooperation",
                "alliance", "framework", "venture", "pact", "deal", "partner", "ink",
                "签署", "签约", "协议", "备忘录", "合资", "合作"),
        summary=_mou, people_field="signatories",
    ),
    EventSpec(
        name="order", model=Order,
        definition="a purchase order or supply contract: a buyer buys goods from a supplier",
        roles=("buyer", "supplier"), details=("product", "quantity", "value"),
        lemmas=("order", "contract", "supply", "supplier", "purchase", "procure", "buy",
                "sell", "deliver", "offtake", "off-take", "award", "provide",
                "订单", "合同", "供应", "采购", "供货"),
        summary=_order,
    ),
    EventSpec(
        name="meeting", model=Meeting,
        definition="a meeting, seminar, conference, forum, summit or talks take place",
        roles=("organizer",), details=("topics",),
        lemmas=("meet", "meeting", "seminar", "conference", "forum", "talk", "summit",
                "symposium", "workshop", "roundtable", "discuss", "discussion", "convene",
                "congress", "exhibition", "expo", "会议", "会谈", "论坛", "研讨", "座谈",
                "峰会"),
        summary=_meeting, people_field="attendees",
    ),
)

SPECS: dict[str, EventSpec] = {spec.name: spec for spec in BUILTIN}
