"""The public, stable shape of what newsie returns.

Offsets in every `Span` index into `Extraction.text`, the cleaned article text, so a
reader can always go from an event back to the words that support it.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["visit", "mou", "order", "meeting"]
EVENT_TYPES: tuple[EventType, ...] = ("visit", "mou", "order", "meeting")

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


class _Event(_Model):
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


class Visit(_Event):
    type: Literal["visit"] = "visit"
    visitor: str | None = None
    host: str | None = None


class MoU(_Event):
    type: Literal["mou"] = "mou"
    agreement: str | None = None
    signatories: list[str] = Field(default_factory=list)
    #: An off-take or supply agreement often states an amount ("at least 10 GWh").
    quantity: Quantity | None = None
    value: Money | None = None


class Order(_Event):
    type: Literal["order"] = "order"
    buyer: str | None = None
    supplier: str | None = None
    product: str | None = None
    quantity: Quantity | None = None
    value: Money | None = None


class Meeting(_Event):
    type: Literal["meeting"] = "meeting"
    organizer: str | None = None
    attendees: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)


Event = Annotated[Union[Visit, MoU, Order, Meeting], Field(discriminator="type")]  # noqa: UP007


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
    events: list[Event] = Field(default_factory=list)
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
    event: Event = Field(description="The event as this article reported it, evidence included.")


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
