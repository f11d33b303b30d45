"""Tie what the model said back to the article, or throw it away.

Evidence arrives as sentence numbers and becomes exact offsets. Every field value (party,
person, place, quantity, value) must be found in the text: exactly, or by fuzzy
alignment (rapidfuzz) that forgives spacing, case and quote style. What is not found is
dropped and recorded in `warnings`; an event with no evidence at all is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from rapidfuzz import fuzz

from ._schema import WireEvent
from ._sentences import Sentence
from .events import EventType, Span

#: Minimum rapidfuzz partial-ratio for a value to count as present in the text.
FUZZY_CUTOFF = 90.0

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u02bc": "'", "\u00a0": " "})


#: Words without which a sentence cannot report an event of that type. A small model
#: readily labels praise or history as a "meeting" or "mou"; the text must say so.
TRIGGERS: dict[EventType, re.Pattern[str]] = {
    "visit": re.compile(r"visit|tour|delegation|welcom|host|receiv|inspect|trip|came to|met\b|"
                        r"meet|访问|参观|考察|来访|拜访|调研", re.I),
    "mou": re.compile(r"sign|agreement|memorandum|\bmou\b|partnership|joint venture|\bjv\b|"
                      r"alliance|framework|term sheet|pact|deal|team(ed)? up|partner|"
                      r"签署|签约|协议|备忘录|合资|战略合作", re.I),
    "order": re.compile(r"order|contract|suppl|provid|purchas|procure|deliver|off-?take|award|deal|"
                        r"\bbuy|bought|\bsale|\bsell|sold|订单|合同|供应|采购|供货", re.I),
    "meeting": re.compile(r"\bmeet|\bmet\b|seminar|conference|forum|talks|summit|symposium|"
                          r"workshop|roundtable|session|discuss|convene|gathering|expo|"
                          r"exhibition|congress|ceremony|会议|会谈|论坛|研讨|座谈|峰会|召开", re.I),
}


def supported(kind: EventType, evidence: list[Span]) -> bool:
    return any(TRIGGERS[kind].search(span.text) for span in evidence)


def evidence_type(kind: EventType, evidence: list[Span]) -> EventType | None:
    """The type the evidence states: the model's, or the only other one it names.

    A small model often calls a symposium an "mou" or a forum a "visit"; when the cited
    sentences name exactly one type, that type wins; when they name none, nothing does.
    """
    if supported(kind, evidence):
        return kind
    named = [t for t in TRIGGERS if t != kind and supported(t, evidence)]
    return named[0] if len(named) == 1 else None


@dataclass
class GroundedEvent:
    """A model event whose every remaining value is backed by the article."""

    type: EventType
    evidence: list[Span]
    parties: list[str]
    people: list[str]
    date: str | None = None
    location: str | None = None
    subject: str | None = None
    quantity: str | None = None
    value: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        return bool(self.evidence)


def find_span(text: str, value: str, cutoff: float = FUZZY_CUTOFF) -> Span | None:
    """Where `value` occurs in `text`: exact, then case/quote/space-insensitive, then fuzzy."""
    value = value.strip()
    if not value:
        return None
    start = text.find(value)
    if start >= 0:
        return Span(start=start, end=start + len(value), text=value)
    folded_text, index = _fold_with_index(text)
    folded_value, _ = _fold_with_index(value)
    if not folded_value:
        return None
    pos = folded_text.find(folded_value)
    if pos >= 0:
        return _span(text, index, pos, pos + len(folded_value))
    if len(folded_value) < 4:
        return None  # fuzzy matching of very short strings finds them everywhere
    hit = fuzz.partial_ratio_alignment(folded_value, folded_text, score_cutoff=cutoff)
    if hit is None:
        return None
    span = _span(text, index, hit.dest_start, hit.dest_end)
    return _snap_to_words(text, span.start, span.end)


def _snap_to_words(text: str, start: int, end: int) -> Span:
    """Fuzzy alignment can stop a letter short; widen it to whole words."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return Span(start=start, end=end, text=text[start:end])


def _span(text: str, index: list[int], start: int, end: int) -> Span:
    s, e = index[start], index[end - 1] + 1
    return Span(start=s, end=e, text=text[s:e])


def _fold_with_index(text: str) -> tuple[str, list[int]]:
    """Casefolded, quote- and space-normalized text, with a map back to raw offsets."""
    out: list[str] = []
    index: list[int] = []
    prev_space = True
    for i, ch in enumerate(text):
        ch = unicodedata.normalize("NFKC", ch.translate(_QUOTES)).casefold()
        if ch.isspace() or not ch:
            if prev_space:
                continue
            ch, prev_space = " ", True
        else:
            prev_space = False
        for c in ch:
            out.append(c)
            index.append(i)
    while out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def ground_event(event: WireEvent, sentences: Sequence[Sentence], text: str) -> GroundedEvent:
    by_number = {s.number: s for s in sentences}
    evidence = [
        Span(start=s.start, end=s.end, text=s.text)
        for n in dict.fromkeys(event.sent)
        if (s := by_number.get(n)) is not None
    ]
    warnings: list[str] = []
    if len(evidence) < len(set(event.sent)):
        missing = sorted(set(event.sent) - set(by_number))
        warnings.append(f"cited sentences that do not exist: {missing}")

    def keep(label: str, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        found = find_span(text, value)
        if found is None:
            warnings.append(f"{label} {value!r} is not in the text; dropped")
            return None
        return found.text

    parties = [p for v in event.parties if (p := keep("party", v))]
    people = [p for v in event.people if (p := keep("person", v))]
    return GroundedEvent(
        type=event.type,
        evidence=evidence,
        parties=list(dict.fromkeys(parties)),
        people=list(dict.fromkeys(people)),
        date=_keep_plain(event.date),
        location=keep("location", event.location),
        subject=keep("subject", event.subject),
        quantity=keep("quantity", event.quantity),
        value=keep("value", event.value),
        warnings=warnings,
    )


def _keep_plain(value: str | None) -> str | None:
    """Dates are checked by the date parser, which knows 'Release time' is not one."""
    return (value.strip() or None) if value else None


def _with_next(evidence: list[Span], sentences: Sequence[Sentence]) -> list[Span]:
    """The cited sentences and the one after each: the deal is often told in two."""
    starts = {s.start for s in evidence}
    following = [b for a, b in pairwise(sentences) if a.start in starts]
    return evidence + [Span(start=s.start, end=s.end, text=s.text) for s in following]


def ground(
    events: Sequence[WireEvent], sentences: Sequence[Sentence], text: str, *, keep_ungrounded: bool
) -> tuple[list[GroundedEvent], list[str]]:
    """Grounded events, plus article-level warnings about what was dropped."""
    kept: list[GroundedEvent] = []
    dropped: list[str] = []
    for wire in events:
        g = ground_event(wire, sentences, text)
        stated = evidence_type(g.type, _with_next(g.evidence, sentences)) if g.grounded else None
        if stated is not None and stated != g.type:
            g.warnings.append(f"the model said {g.type}; the evidence states a {stated}")
            g.type = stated
        reason = (
            "no evidence in the text" if not g.grounded
            else "no party found in the text" if not g.parties
            else f"its evidence never states a {g.type}" if stated is None
            else None
        )
        if reason:
            if not keep_ungrounded:
                dropped.append(f"dropped a {g.type} event: {reason}")
                continue
            g.warnings.append(f"ungrounded: {reason}")
        kept.append(g)
    return kept, dropped

