"""The compact, bounded shape the model writes, one variant per event type.

Built from the type specs, so a type's roles are asked for by name (`buyer`, `supplier`)
and nothing downstream guesses them from word order. Bounds matter: without
`maxItems`/`maxLength` the small local model loops until its token limit. Evidence is a
list of sentence numbers, not copied text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from ._types import EventSpec

Name = Annotated[str, StringConstraints(max_length=60)]
Phrase = Annotated[str, StringConstraints(max_length=50)]
Tiny = Annotated[str, StringConstraints(max_length=30)]


class WireEvent(BaseModel):
    """One event as the model writes it; `wire_event` makes each type's fields, in order.

    Field order is the order the model writes in, so it reads: what, where in the text,
    who, then the details. Read fields through `texts` and `text`.
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

    events: list[WireEvent] = Field(max_length=6)


def wire_event(spec: EventSpec) -> type[WireEvent]:
    """The variant for one type: `type` fixed, then its roles, then its details."""
    fields: dict[str, Any] = {"type": (Literal[spec.name], ...)}
    fields["sent"] = (list[Annotated[int, Field(ge=1)]], Field(max_length=3))
    for role in spec.roles:
        fields[role] = ((list[Name], Field(default_factory=list, max_length=3))
                        if spec.many(role) else (Name | None, None))
    fields["people"] = (list[Name], Field(default_factory=list, max_length=3))
    fields["date"] = (Tiny | None, None)
    fields["location"] = (Phrase | None, None)
    for detail in spec.details:
        fields[detail] = (Phrase | None, None)
    model: type[WireEvent] = create_model(
        f"{spec.name.title()}Event", __base__=WireEvent, **fields)
    return model


def wire_response(specs: Sequence[EventSpec]) -> type[WireResponse]:
    """The answer: up to six events, each one of the given types."""
    variants = tuple(wire_event(spec) for spec in specs)
    item: Any = (Annotated[Union[variants], Field(discriminator="type")]  # noqa: UP007
                 if len(variants) > 1 else variants[0])
    model: type[WireResponse] = create_model(
        "Events", __base__=WireResponse, events=(list[item], Field(max_length=6)))
    return model
