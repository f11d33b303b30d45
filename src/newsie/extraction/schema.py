"""The answer schemas, made for each request: the model chooses, it does not write.

Every name, date, place and amount field is an enum of the candidates the article contains
(`extraction.candidates`), and sentence numbers are those of the article, so the engine's grammar
(llama.cpp turns the JSON schema into one) makes an invented value impossible to write.
Only short descriptive phrases (a product, what an agreement is) stay free text, bounded,
and grounding checks them. Bounds matter: without `maxItems`/`maxLength` a small model
loops until its token limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from ..events import Kind
from .registry import EventSpec

Phrase = Annotated[str, StringConstraints(max_length=50)]
Name = Annotated[str, StringConstraints(max_length=60)]
#: Types made at run time from the article's candidates (mypy sees them as values).
_List: Any = list
_Literal: Any = Literal
#: Most events one answer may list; most values one list field may hold.
MAX_EVENTS = 6
MAX_ITEMS = 3


class WireEvent(BaseModel):
    """One event as the model answered it: `type`, `sent`, then the type's own fields.

    Read fields through `texts` and `text`.
    """

    model_config = ConfigDict(extra="ignore")

    def texts(self, name: str) -> list[str]:
        """A field's values as a list of non-empty strings (a single value, or a list)."""
        value = getattr(self, name, None)
        values = value if isinstance(value, list) else [value]
        return [str(v).strip() for v in values if v is not None and str(v).strip()]

    def text(self, name: str) -> str | None:
        values = self.texts(name)
        return values[0] if values else None

    @property
    def kind(self) -> str:
        return str(getattr(self, "type"))  # noqa: B009 (every variant has it)

    @property
    def sentences(self) -> list[int]:
        return list(getattr(self, "sent", []))


class WireResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[WireEvent] = Field(max_length=MAX_EVENTS)


@dataclass(frozen=True)
class Choices:
    """What one question may answer with: candidate texts by kind, and sentence numbers."""

    sentences: tuple[int, ...]
    texts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: No candidates could be found (text the entity recognizer cannot read): values
    #: are bounded free text, which grounding then checks.
    free: bool = False

    def of(self, kind: str) -> tuple[str, ...]:
        return self.texts.get(kind, ())


def _one_of(values: Sequence[Any]) -> Any:
    """A type that accepts exactly `values` (None when there are none to choose from)."""
    return _Literal[tuple(values)] if values else None


def _optional(values: Sequence[Any] | None) -> tuple[Any, Any]:
    choice = Name if values is None else _one_of(values)
    return (choice | None, None) if choice is not None else (None, None)


def _listed(values: Sequence[Any] | None) -> tuple[Any, Any]:
    choice = Name if values is None else _one_of(values)
    if choice is None:
        return (_List[None], Field(default_factory=list, max_length=0))
    return (_List[choice], Field(default_factory=list, max_length=MAX_ITEMS))


#: The candidate kind (`extraction.candidates.KINDS`) that fills a field of each kind.
_CANDIDATE_KIND = {Kind.ORG: "org", Kind.PERSON: "person", Kind.PLACE: "place",
                   Kind.DATE: "date", Kind.QUANTITY: "quantity", Kind.MONEY: "money"}


def argument_fields(spec: EventSpec, choices: Choices) -> dict[str, Any]:
    """The type's own fields, in the order the model writes them: roles, people, when,
    where, details."""
    def of(kind: str) -> tuple[str, ...] | None:
        return None if choices.free else choices.of(kind)

    orgs = of("org")
    fields: dict[str, Any] = {
        role: _listed(orgs) if spec.many(role) else _optional(orgs) for role in spec.roles}
    fields["people"] = _listed(of("person"))
    fields["date"] = _optional(of("date"))
    fields["location"] = _optional(of("place"))
    for detail in spec.details:
        kind = spec.kinds.get(detail, Kind.PHRASE)
        if kind is Kind.PHRASE:
            fields[detail] = ((_List[Phrase], Field(default_factory=list, max_length=MAX_ITEMS))
                              if spec.many(detail) else (Phrase | None, None))
        else:
            values = of(_CANDIDATE_KIND[kind])
            fields[detail] = _listed(values) if spec.many(detail) else _optional(values)
    return fields


def _sent(choices: Choices) -> tuple[Any, Any]:
    number = _one_of(choices.sentences) or Annotated[int, Field(ge=1)]
    return (_List[number], Field(min_length=1, max_length=MAX_ITEMS))


def event_variant(spec: EventSpec, choices: Choices) -> type[WireEvent]:
    """One type's event: `type` fixed, the sentences that state it, then its fields."""
    model: type[WireEvent] = create_model(
        f"{spec.name.title()}Event", __base__=WireEvent,
        type=(_Literal[spec.name], ...), sent=_sent(choices), **argument_fields(spec, choices))
    return model


def _events_of(variants: Sequence[type[BaseModel]]) -> Any:
    if len(variants) == 1:
        return variants[0]
    return Annotated[Union[tuple(variants)], Field(discriminator="type")]  # noqa: UP007


def events_response(specs: Sequence[EventSpec], choices: Choices) -> type[WireResponse]:
    """One call for everything: events of the given types with their fields."""
    item = _events_of([event_variant(spec, choices) for spec in specs])
    model: type[WireResponse] = create_model(
        "Events", __base__=WireResponse,
        events=(_List[item], Field(max_length=MAX_EVENTS)))
    return model


def detection_response(specs: Sequence[EventSpec], choices: Choices) -> type[WireResponse]:
    """The first of two calls: which events, of which type, in which sentences."""
    found = create_model(
        "Found", __base__=WireEvent,
        type=(_one_of([s.name for s in specs]), ...), sent=_sent(choices))
    model: type[WireResponse] = create_model(
        "Detected", __base__=WireResponse, events=(_List[found], Field(max_length=MAX_EVENTS)))
    return model


def arguments_response(spec: EventSpec, choices: Choices) -> type[BaseModel]:
    """The second call, once per event: its fields, chosen from its own window."""
    model: type[BaseModel] = create_model(
        f"{spec.name.title()}Arguments", __config__=ConfigDict(extra="ignore"),
        **argument_fields(spec, choices))
    return model


class Verdict(BaseModel):
    """A yes/no answer: one short enum, so a small model answers in a few tokens."""

    answer: Literal["yes", "no"]
