"""The public, stable shape of what newsie returns.

Offsets in every `Span` index into `Extraction.text`, the cleaned article text, so a
reader can always go from an event back to the words that support it.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import (
    Annotated,
    Any,
    ClassVar,
    Literal,
    Union,
    get_args,
    get_origin,
)

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SerializeAsAny,
    ValidationInfo,
    model_validator,
)
from pydantic.fields import FieldInfo

#: A type's name, as in `Event.type`: built-in or registered (see `newsie.Event`).
EventType = str

#: Bumped whenever the JSON shape below changes, so caches and stored output can tell.
SCHEMA_VERSION = "3"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    """A half-open `[start, end)` range of characters in `Extraction.text`."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Party(_Model):
    """An organization taking part in an event, under its canonical name."""

    name: str
    role: str | None = None
    aliases: list[str] = Field(default_factory=list)


class Person(_Model):
    name: str
    title: str | None = None
    organization: str | None = None


class Quantity(_Model):
    """`20GWh` becomes `value=20, unit="GWh"`; `text` keeps the words as written."""

    value: float | None = None
    unit: str | None = None
    text: str


class Money(_Model):
    """`130 million yuan` becomes `amount=130000000, currency="CNY"`."""

    amount: float | None = None
    currency: str | None = None
    text: str


# --------------------------------------------------------------------- field kinds


class Kind(str, Enum):
    """What an event's own field holds, so grounding and normalization know what to do."""

    ORG = "organization"
    PERSON = "person"
    PLACE = "place"
    DATE = "date"
    QUANTITY = "quantity"
    MONEY = "money"
    PHRASE = "phrase"


@dataclass(frozen=True)
class FieldKind:
    """The marker in `Annotated[str | None, newsie.Org]` that says what a field holds."""

    kind: Kind

    def __repr__(self) -> str:
        return f"FieldKind({self.kind.name})"


#: An organization role, filled by name (`investor`): `str | None`, or `list[str]` for many.
Org = FieldKind(Kind.ORG)
#: The names of the event's people (`list[str]`); at most one such field per type.
People = FieldKind(Kind.PERSON)
#: A place, as written (`str | None`).
Place = FieldKind(Kind.PLACE)
#: A date, read as ISO 8601 at the precision the article gives (`str | None`).
When = FieldKind(Kind.DATE)
#: A short phrase copied from the text (`str | None`, or `list[str]`).
Phrase = FieldKind(Kind.PHRASE)
#: A number with a unit; a `Quantity` field needs no marker, this one only says so.
Amount = FieldKind(Kind.QUANTITY)

#: A field typed `Quantity` or `Money` says its kind without a marker.
_KIND_OF_TYPE: dict[type, Kind] = {Quantity: Kind.QUANTITY, Money: Kind.MONEY}


def _unwrap(annotation: Any) -> tuple[str, Any]:
    """('one', X) for `X | None`, ('many', X) for `list[X]`, ('other', annotation) else."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return "one", args[0]
    if origin is list and len(get_args(annotation)) == 1:
        return "many", get_args(annotation)[0]
    return "other", annotation


def field_kind(info: FieldInfo) -> Kind | None:
    """The kind a field declares: its marker, or its type (`Quantity`, `Money`); None if neither."""
    markers = [m for m in info.metadata if isinstance(m, FieldKind)]
    if markers:
        return markers[-1].kind
    _, inner = _unwrap(info.annotation)
    return _KIND_OF_TYPE.get(inner) if isinstance(inner, type) else None


# -------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Example:
    """A worked example for the prompt: a few sentences, and the events they report written
    as the model answers them (`sent`: sentence numbers; roles and details by name). An
    event without `type` is of the type that lists the example."""

    sentences: Sequence[str]
    events: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if isinstance(self.sentences, str):
            raise TypeError("Example(sentences=...) takes a list of sentences, not one string")
        object.__setattr__(self, "sentences", tuple(self.sentences))
        object.__setattr__(self, "events", tuple(dict(e) for e in self.events))

    def render(self) -> str:
        """'Article: [1] ... [2] ...' then 'Answer: {"events":[...]}', as the prompt shows it."""
        article = " ".join(f"[{i}] {s}" for i, s in enumerate(self.sentences, start=1))
        answer = json.dumps({"events": list(self.events)}, ensure_ascii=False,
                            separators=(",", ":"))
        return f"Article: {article}\nAnswer: {answer}"


class Event(_Model):
    """The base of every event type, built-in or your own.

    A type is a subclass with `type: Literal["name"] = "name"`, a `definition` the prompt
    shows, the `lemmas` (words) without which a sentence does not state it, optional
    `examples` (an `Example` or a list of them, or a Jinja template string or file), its own
    fields, each saying what it holds: `Annotated[str | None, newsie.Org]` (an organization
    role), `newsie.People`, `newsie.Place`, `newsie.When`, `newsie.Phrase`, or a `Quantity`
    or `Money` field. A type without an `Org` field has one symmetric role, `parties`.
    Override `headline` to word its summary.

    Read as `Event` (in `Extraction.events`, or `Event.model_validate`), a record becomes
    the class of its `type`: one passed as `context={"types": [Investment]}`, a registered
    one, or one defined in this process; any other type becomes an `UnknownEvent`.
    """

    definition: ClassVar[str] = ""
    lemmas: ClassVar[Sequence[str]] = ()
    examples: ClassVar[Example | Sequence[Example] | str | Path] = ()

    type: str
    summary: str
    parties: list[Party] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    date: str | None = Field(
        default=None,
        description=(
            "ISO 8601 at the precision the article gives: '2024', '2024-03' or '2024-03-18'. "
            "A day whose year the article does not give is '--MM-DD' (ISO 8601 without year)."
        ),
    )
    location: str | None = None
    evidence: list[Span] = Field(default_factory=list)
    grounded: bool = Field(
        default=True, description="False only when the caller asked to keep ungrounded events."
    )
    warnings: list[str] = Field(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _as_its_type(cls, data: Any, handler: ModelWrapValidatorHandler[Event],
                     info: ValidationInfo) -> Event:
        """A record read as a base class becomes the class its `type` names: one in
        `context={"types": [...]}` if given, else one the registry knows."""
        if isinstance(data, Mapping) and type_name(cls) is None and cls is not UnknownEvent:
            given = (info.context or {}).get("types", ()) if isinstance(
                info.context, Mapping) else ()
            target = next((c for c in given if isinstance(c, type) and issubclass(c, Event)
                           and type_name(c) == data.get("type")), None)
            target = target or _class_lookup(data.get("type"))
            if target is not cls and issubclass(target, cls):
                return target.model_validate(data, context=info.context)
        return handler(data)

    @classmethod
    def headline(cls, values: Mapping[str, Any]) -> str:
        """The one-line summary from an event's grounded values (its own fields, typed, and
        `parties`): 'Investment: investor Kestrel; target Orla; amount EUR 5 million'.
        Override it for your own wording."""
        kinds = {name: field_kind(info) for name, info in own_fields(cls).items()}
        names = list(kinds) if Kind.ORG in kinds.values() else ["parties", *kinds]
        parts = [f"{name.replace('_', ' ')} {text}" for name in names
                 if (text := _text(values.get(name)))]
        label = (type_name(cls) or cls.__name__).replace("_", " ").capitalize()
        return f"{label}: {'; '.join(parts)}" if parts else label

    def fields_of(self, kind: Kind) -> dict[str, Any]:
        """This event's filled own fields of `kind`, by name (`{"quantity": Quantity(...)}`)."""
        found: dict[str, Any] = {}
        for name, info in own_fields(type(self)).items():
            value = getattr(self, name)
            if field_kind(info) is kind and value not in (None, [], ""):
                found[name] = value
        return found


def _text(value: Any) -> str:
    """A value as words: a Quantity or Money as written, a list joined with 'and'."""
    if isinstance(value, (Quantity, Money)):
        return value.text
    if isinstance(value, list):
        return " and ".join(_text(v) for v in value if _text(v))
    if isinstance(value, (Party, Person)):
        return value.name
    return str(value) if value else ""


def own_fields(cls: type[Event]) -> dict[str, FieldInfo]:
    """A type's own fields, in order: what it adds to every event's fields."""
    return {name: info for name, info in cls.model_fields.items()
            if name not in Event.model_fields}


def type_name(cls: type[Event]) -> str | None:
    """The name a class fixes with `type: Literal["name"] = "name"`; None if it fixes none."""
    info = cls.model_fields.get("type")
    if info is None or get_origin(info.annotation) is not Literal:
        return None
    args = get_args(info.annotation)
    return args[0] if len(args) == 1 and info.default == args[0] else None


class UnknownEvent(Event):
    """An event of a type this process has no class for (its package is not installed):
    read, kept and written back with every field."""

    model_config = ConfigDict(extra="allow")

    def fields_of(self, kind: Kind) -> dict[str, Any]:
        """Its unknown fields that have the shape of a `Quantity` or `Money`."""
        found: dict[str, Any] = {}
        for name, value in (self.model_extra or {}).items():
            if isinstance(value, dict) and "text" in value:
                shape = (Kind.MONEY if "currency" in value else
                         Kind.QUANTITY if "unit" in value else None)
                if shape is kind:
                    found[name] = (Money if kind is Kind.MONEY else Quantity).model_validate(value)
        return found


def _unknown(name: object) -> type[Event]:
    return UnknownEvent


#: How a stored record's `type` finds its class. The type registry (which imports this
#: module, so it cannot be imported from here) installs its lookup with `set_class_lookup`.
_class_lookup: Callable[[object], type[Event]] = _unknown


def set_class_lookup(lookup: Callable[[object], type[Event]]) -> None:
    """Read stored events through `lookup` (type name -> class); the registry calls this."""
    global _class_lookup
    _class_lookup = lookup


# ----------------------------------------------------------------- built-in types
# Registered like any other type (see `extraction.registry`): nothing else in newsie names them.

_NORDVIK = Example(
    sentences=[
        "A delegation from Nordvik Mining led by CEO Lena Berg toured the Kestrel Chemicals "
        "plant in Porto on Tuesday.",
        "During the visit the two sides held talks on nickel supply.",
        "Nordvik plans to visit more suppliers next year.",
    ],
    events=[{"type": "visit", "sent": [1, 2], "visitor": "Nordvik Mining",
             "host": "Kestrel Chemicals", "people": ["Lena Berg"], "date": "Tuesday",
             "location": "Porto"}],
)
_ORLA = Example(
    sentences=[
        "Founded in 1998, Orla Cells makes battery cells.",
        "At a ceremony in Lyon, Orla Cells signed an agreement to supply 8 GWh of cells to "
        "Tamsin Motors.",
        "Chairman Paul Weir called it a milestone.",
    ],
    events=[{"type": "mou", "sent": [2], "parties": ["Orla Cells", "Tamsin Motors"],
             "people": [], "location": "Lyon", "agreement": "agreement to supply",
             "quantity": "8 GWh"},
            {"type": "order", "sent": [2], "buyer": "Tamsin Motors", "supplier": "Orla Cells",
             "people": [], "location": "Lyon", "product": "cells", "quantity": "8 GWh"}],
)
_VEXA = Example(
    sentences=[
        "Vexa Equipment won an order worth USD 40 million for coating machines from Harlow "
        "Batteries.",
        "Vexa also hosted a forum on recycling.",
        "The two companies expect to sign a second contract next year.",
    ],
    events=[{"type": "order", "sent": [1], "buyer": "Harlow Batteries",
             "supplier": "Vexa Equipment", "people": [], "product": "coating machines",
             "value": "USD 40 million"},
            {"type": "meeting", "sent": [2], "organizer": "Vexa Equipment", "people": [],
             "topics": ["recycling"]}],
)
#: Plans and praise are not events.
_KIRO = Example(sentences=["Kiro Energy's shares rose after analysts praised its strategy.",
                           "Kiro will visit partners in Chile next month."])


def _noun(phrase: str) -> str:
    """'forum' -> 'a forum', 'annual forum' -> 'an annual forum'; 'talks', 'the MoU' as is."""
    if re.match(r"^(a|an|the|its|their|his|her|one|two|three|several|\d)\b", phrase, re.I) \
            or phrase.endswith("s"):
        return phrase
    return ("an " if phrase[0].lower() in "aeiou" else "a ") + phrase


class Visit(Event):
    definition = "people of one organization travel to another organization's site"
    lemmas = (
        "visit", "tour", "delegation", "inspect", "inspection", "trip", "welcome", "receive",
        "host", "访问", "参观", "考察", "来访", "拜访", "调研")
    examples = (_NORDVIK, _KIRO)

    type: Literal["visit"] = "visit"
    visitor: Annotated[str | None, Org] = None
    host: Annotated[str | None, Org] = None

    @classmethod
    def headline(cls, values: Mapping[str, Any]) -> str:
        where = f" in {values['location']}" if values.get("location") else ""
        return (f"{values.get('visitor') or 'A delegation'} visited "
                f"{values.get('host') or 'a host'}{where}")


class MoU(Event):
    definition = (
        "an MoU, cooperation, partnership, framework, supply or joint-venture agreement is "
        "signed")
    lemmas = (
        "sign", "agreement", "memorandum", "mou", "partnership", "cooperation", "alliance",
        "framework", "venture", "pact", "deal", "partner", "ink", "签署", "签约", "协议",
        "备忘录", "合资", "合作")
    examples = (_ORLA, _KIRO)

    type: Literal["mou"] = "mou"
    agreement: Annotated[str | None, Phrase] = None
    signatories: Annotated[list[str], People] = Field(default_factory=list)
    #: An off-take or supply agreement often states an amount ("at least 10 GWh").
    quantity: Quantity | None = None
    value: Money | None = None

    @classmethod
    def headline(cls, values: Mapping[str, Any]) -> str:
        parties = values.get("parties") or []
        what = _noun(values.get("agreement") or "agreement")
        if len(parties) > 1:
            return f"{_text(parties[:-1])} and {parties[-1]} signed {what}"
        return f"{_text(parties) or 'An organization'} signed {what}"


class Order(Event):
    definition = "a purchase order or supply contract: a buyer buys goods from a supplier"
    lemmas = (
        "order", "contract", "supply", "supplier", "purchase", "procure", "buy", "sell",
        "deliver", "offtake", "off-take", "award", "provide", "订单", "合同", "供应", "采购",
        "供货")
    examples = (_ORLA, _VEXA, _KIRO)

    type: Literal["order"] = "order"
    buyer: Annotated[str | None, Org] = None
    supplier: Annotated[str | None, Org] = None
    product: Annotated[str | None, Phrase] = None
    quantity: Quantity | None = None
    value: Money | None = None

    @classmethod
    def headline(cls, values: Mapping[str, Any]) -> str:
        goods = " of ".join(x for x in (_text(values.get("quantity")), values.get("product"))
                            if x) or "goods"
        buyer, supplier = values.get("buyer"), values.get("supplier")
        if buyer and supplier:
            return f"{buyer} ordered {goods} from {supplier}"
        if supplier:
            return f"{supplier} won an order for {goods}"
        return f"{buyer or 'A buyer'} placed an order for {goods}"


class Meeting(Event):
    definition = "a meeting, seminar, conference, forum, summit or talks take place"
    lemmas = (
        "meet", "meeting", "seminar", "conference", "forum", "talk", "summit", "symposium",
        "workshop", "roundtable", "discuss", "discussion", "convene", "congress", "exhibition",
        "expo", "会议", "会谈", "论坛", "研讨", "座谈", "峰会")
    examples = (_VEXA, _KIRO)

    type: Literal["meeting"] = "meeting"
    organizer: Annotated[str | None, Org] = None
    attendees: Annotated[list[str], People] = Field(default_factory=list)
    topics: Annotated[list[str], Phrase] = Field(default_factory=list)

    @classmethod
    def headline(cls, values: Mapping[str, Any]) -> str:
        topic = values.get("topics") or []
        what = f" on {topic[0]}" if topic else ""
        where = f" in {values['location']}" if values.get("location") else ""
        return f"{values.get('organizer') or 'An organization'} held a meeting{what}{where}"


#: The types newsie ships, registered like any other (see `newsie.extraction.registry.registered`).
BUILTIN_EVENTS: tuple[type[Event], ...] = (Visit, MoU, Order, Meeting)
EVENT_TYPES: tuple[str, ...] = tuple(type_name(c) or "" for c in BUILTIN_EVENTS)

#: An event in a result: read by its `type`, written with all of its own fields.
AnyEvent = SerializeAsAny[Event]


class Usage(_Model):
    """Tokens spent on one article, failed and re-asked attempts included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = 0
    cached: int = Field(default=0, description="Model calls answered from the cache (free).")
    cached_prompt_tokens: int = Field(
        default=0, description="Prompt tokens the server took from its prompt prefix cache.")

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in Usage.model_fields})


class Extraction(_Model):
    """Everything newsie found in one article."""

    source: str
    title: str | None = None
    published: str | None = None
    text: str
    events: list[AnyEvent] = Field(default_factory=list)
    model: str
    endpoint: str | None = Field(
        default=None,
        description='Where the model ran: "embedded", or its server URL without credentials.')
    usage: Usage = Field(default_factory=Usage)
    warnings: list[str] = Field(default_factory=list)
    schema_version: str = SCHEMA_VERSION


class Failure(_Model):
    """One input that gave no `Extraction`: a batch records it and goes on."""

    source: str
    error: str
    message: str


class LinkedSource(_Model):
    """One article's report of a linked event: where it came from and its evidence."""

    source: str
    title: str | None = None
    published: str | None = None
    event: AnyEvent = Field(
        description="The event as this article reported it, evidence included.")


class LinkedEvent(_Model):
    """One real-world occurrence, merged from every article that reported it."""

    id: str = Field(description="Stable: a hash of its sources' event keys, sorted.")
    type: str
    parties: list[Party] = Field(description="Canonical names across the corpus, with aliases.")
    date: str | None = Field(default=None, description="The most precise date a source gives.")
    quantity: Quantity | None = None
    summary: str
    sources: list[LinkedSource]
    confidence: float | None = Field(
        default=None, description="Match probability of its weakest link; None for one source.")
    reason: str = Field(description="Why the sources were linked, in words.")


class Summary(_Model):
    """Totals over a batch of results."""

    done: int
    failed: int
    cached: int = Field(description="Articles answered wholly from the cache.")
    events: dict[str, int]
    usage: Usage
