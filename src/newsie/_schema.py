"""The compact, bounded shape the model writes; `events.py` is what users get.

Bounds matter: without `maxItems`/`maxLength` the small local model looped until its
token limit. Evidence is a list of sentence numbers, not copied text.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .events import EventType

Name = Annotated[str, StringConstraints(max_length=60)]
Phrase = Annotated[str, StringConstraints(max_length=50)]
Tiny = Annotated[str, StringConstraints(max_length=30)]


class WireEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: EventType
    sent: list[Annotated[int, Field(ge=1)]] = Field(max_length=3)
    parties: list[Name] = Field(max_length=3)
    people: list[Name] = Field(max_length=3)
    date: Tiny | None = None
    location: Phrase | None = None
    subject: Phrase | None = None
    quantity: Tiny | None = None
    value: Tiny | None = None


class WireResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[WireEvent] = Field(max_length=6)

