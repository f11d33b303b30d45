"""Tie what the model said back to the article, or throw it away.

Evidence arrives as sentence numbers and becomes exact offsets. Every field value (party,
person, date, place, quantity, value) must be found in that event's own window: the cited
sentences and the one sentence after them (a deal is often told in two). It is found
exactly, or by fuzzy alignment (rapidfuzz) that forgives spacing, case and quote style.
What is not found is dropped and recorded in `warnings`, so nothing comes out that the text
around the evidence does not say, and no string of the prompt's examples can leak. Dates,
quantities and amounts must be in the cited sentences themselves. A party may also be named
where the cited sentence refers to it ("the two sides signed"): the headline, the lede or
the nearest sentence before that names an organization.

Named entities (spaCy) then check the roles: a "party" that is a person, a job title or not
a name at all is not kept as an organization. The same window must use a word that states
the event's type (a lemma of its spec), or the event is dropped: the model's type is kept
or refused, never changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from nameparser.config import CONSTANTS
from rapidfuzz import fuzz

from ..events import Kind, Span
from ..reading.nlp import ORG_LABELS, Analysis, has_cjk
from ..reading.sentences import Sentence
from .registry import EventSpec
from .schema import WireEvent

#: Minimum rapidfuzz partial-ratio for a value to count as present in the text.
FUZZY_CUTOFF = 90.0

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u02bc": "'", "\u00a0": " "})


@dataclass
class GroundedEvent:
    """A model event whose every remaining value is backed by its window of the article."""

    spec: EventSpec
    evidence: list[Span]
    roles: dict[str, list[str]]
    people: list[Span]
    #: Each detail's grounded phrases: one, or every value of a list field (`topics`).
    details: dict[str, list[str]]
    date: str | None = None
    location: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        return bool(self.evidence)

    @property
    def parties(self) -> list[str]:
        return list(dict.fromkeys(name for names in self.roles.values() for name in names))


def find_span(text: str, value: str, cutoff: float = FUZZY_CUTOFF) -> Span | None:
    """Where `value` occurs in `text` as whole words: exact, then case/quote/space-insensitive,
    then fuzzy. "Ford" is not in "Oxford"; a fuzzy match forgives a typo in a word, never a
    changed digit, acronym or first letter ("USD 40 million" is not "USD 140 million",
    "Samsung SDI" is not "Samsung SDS")."""
    value = value.strip()
    if not value:
        return None
    start = _whole(text, value, 0, len(value))
    if start is not None:
        return Span(start=start, end=start + len(value), text=value)
    folded_text, index = _fold_with_index(text)
    folded_value, _ = _fold_with_index(value)
    if not folded_value:
        return None
    pos = _whole(folded_text, folded_value, 0, len(folded_value))
    if pos is not None:
        return _span(text, index, pos, pos + len(folded_value))
    # "20 GWh" written "20GWh": the same characters, spaced otherwise
    tight_text, tight_index = _unspaced(folded_text, index)
    tight_value = folded_value.replace(" ", "")
    pos = tight_text.find(tight_value) if tight_value else -1
    while pos >= 0:  # whole words in the text as written
        found = _span(text, tight_index, pos, pos + len(tight_value))
        if _whole(text, found.text, found.start, len(found.text)) == found.start:
            return found
        pos = tight_text.find(tight_value, pos + 1)
    if len(folded_value) < 4:
        return None  # fuzzy matching of very short strings finds them everywhere
    hit = fuzz.partial_ratio_alignment(folded_value, folded_text, score_cutoff=cutoff)
    if hit is None:
        return None
    span = _span(text, index, hit.dest_start, hit.dest_end)
    span = _snap_to_words(text, span.start, span.end)
    return span if same_words(value, span.text) else None


def _unspaced(folded: str, index: list[int]) -> tuple[str, list[int]]:
    kept = [(c, i) for c, i in zip(folded, index, strict=True) if c != " "]
    return "".join(c for c, _ in kept), [i for _, i in kept]


def _whole(text: str, value: str, start: int, length: int) -> int | None:
    """The first offset at which `value` stands in `text` as whole words."""
    pos = text.find(value, start)
    while pos >= 0:
        if not (_joins(text, pos - 1, value[0]) or _joins(text, pos + length, value[-1])):
            return pos
        pos = text.find(value, pos + 1)
    return None


def _joins(text: str, i: int, edge: str) -> bool:
    """Does the character at `i` continue the word that `edge` ends? (CJK has no spaces.)"""
    return 0 <= i < len(text) and text[i].isalnum() and edge.isalnum() and not (
        has_cjk(text[i]) or has_cjk(edge))


_WORD = re.compile(r"\w+")


def same_words(value: str, found: str) -> bool:
    """Word by word, `found` is `value` give or take a typo: as many words, and a word
    that differs keeps its first letter and has no digit, no CJK and no capitals-only
    acronym on either side."""
    a, b = _WORD.findall(value), _WORD.findall(found)
    if len(a) != len(b):  # "20 GWh" is "20GWh"; a word more or less is another name
        return "".join(a).casefold() == "".join(b).casefold()
    for x, y in zip(a, b, strict=True):
        if x.casefold() == y.casefold():
            continue
        if x[0].casefold() != y[0].casefold() or any(
                w.isupper() or has_cjk(w) or any(c.isdigit() for c in w) for w in (x, y)):
            return False
    return True


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


def window(evidence: Sequence[Span], sentences: Sequence[Sentence]) -> list[Span]:
    """The cited sentences and the one after the last of them (or before, at the end)."""
    if not evidence:
        return []
    starts = {s.start for s in evidence}
    cited = [i for i, s in enumerate(sentences) if s.start in starts]
    if not cited:
        return list(evidence)
    after = cited[-1] + 1 if cited[-1] + 1 < len(sentences) else cited[0] - 1
    picked = sorted({*cited, after} - {-1})
    return [Span(start=sentences[i].start, end=sentences[i].end, text=sentences[i].text)
            for i in picked]


def find_in(spans: Sequence[Span], value: str) -> Span | None:
    """`value` in the first of `spans` that holds it, as a span of the whole article."""
    for span in spans:
        hit = find_span(span.text, value)
        if hit is not None:
            start = span.start + hit.start
            return Span(start=start, end=start + len(hit.text), text=hit.text)
    return None


#: How a sentence names organizations told before it: "the two sides", "both parties",
#: "the company", "the group", or a pronoun. Such a sentence states the event; its parties
#: are named in the headline, the lede or the sentence before.
REFERRING = re.compile(
    r"\b(?:the\s+two|both)\s+(?:sides|parties|companies|firms|groups|partners)\b"
    r"|\bthe\s+(?:company|group|firm|corporation|partners?|manufacturer|automaker|carmaker|"
    r"miner|producer|maker|supplier|buyer|customer|delegation)\b"
    r"|\b(?:it|its|they|their|them)\b", re.I)


def antecedents(cited: Sequence[Span], sentences: Sequence[Sentence],
                analysis: Analysis) -> list[Span]:
    """Where the organizations the cited sentences refer to are named, when they refer to
    any ("the two sides signed"): the headline and the lede (the first two sentences), and
    the nearest sentence before the first cited one that names an organization."""
    if not any(REFERRING.search(s.text) for s in cited):
        return []
    first = min((s.start for s in cited), default=0)
    earlier = [s for s in sentences if s.end <= first]
    nearest = next((s for s in reversed(earlier) if any(
        e.label in ORG_LABELS for e in analysis.entities_in(s.start, s.end))), None)
    picked = {s.start: s for s in [*sentences[:2], *([nearest] if nearest else [])]
              if s.end <= first}
    return [Span(start=s.start, end=s.end, text=s.text) for s in picked.values()]


#: Kinds of value that must be in the cited sentences themselves: the sentence before or
#: after often tells another deal's date or amount.
EXACT_KINDS = frozenset({Kind.DATE, Kind.QUANTITY, Kind.MONEY})


class _Grounder:
    """Grounds one event's values in its window, noting what it drops."""

    def __init__(self, spans: list[Span], analysis: Analysis,
                 cited: list[Span] | None = None, referred: list[Span] | None = None) -> None:
        self.spans = spans
        self.cited = spans if cited is None else cited
        self.referred = referred or []
        self.analysis = analysis
        self.warnings: list[str] = []

    def find(self, label: str, value: str | None) -> Span | None:
        if not value:
            return None
        found = find_in(self.spans, value)
        if found is None:
            self.warnings.append(f"{label} {value!r} is not in the event's evidence; dropped")
        return found

    def find_cited(self, label: str, value: str | None) -> Span | None:
        """A date, quantity or amount: only from the sentences the event cites."""
        if not value:
            return None
        found = find_in(self.cited, value)
        if found is None and find_in(self.spans, value) is not None:
            self.warnings.append(f"{label} {value!r} is only in a neighbouring sentence, "
                                 "not in the sentences the event cites; dropped")
            return None
        return found if found is not None else self.find(label, value)

    def organization(self, role: str, value: str, people: list[Span]) -> str | None:
        """An organization named in the window, or one the window refers to ("the two
        sides") where the headline, the lede or the sentence before names it."""
        span = find_in(self.spans, value) or find_in(self.referred, value)
        if span is None:
            self.warnings.append(f"{role} {value!r} is not in the event's evidence; dropped")
            return None
        entities = self.analysis.entities_in(span.start, span.end)
        tokens = self.analysis.tokens_in(span.start, span.end)
        orgish = any(e.label in ORG_LABELS for e in entities)
        person = [e for e in entities if e.label == "PERSON"
                  and e.start <= span.start and span.end <= e.end]
        if person and not orgish and any(find_span(p.text, span.text) for p in people):
            self.warnings.append(f"{role} {span.text!r} is a person; kept as a person only")
            return None
        if has_cjk(span.text):
            return span.text  # the English pipeline cannot judge it
        if not orgish and not any(t.pos == "PROPN" for t in tokens):
            self.warnings.append(f"{role} {span.text!r} is not a name; dropped")
            return None
        if not orgish and self._before_title(span):
            self.warnings.append(f"{role} {span.text!r} is part of a job title; dropped")
            return None
        return span.text

    def _before_title(self, span: Span) -> bool:
        """'Managing' in 'Managing Director': a word that opens a job title, not a name."""
        following = next((t for t in self.analysis.tokens if t.start >= span.end), None)
        return following is not None and following.lower in CONSTANTS.titles

    def person(self, value: str) -> Span | None:
        span = self.find("person", value)
        if span is None:
            return None
        tokens = self.analysis.tokens_in(span.start, span.end)
        named = any(e.label == "PERSON" for e in self.analysis.entities_in(span.start, span.end))
        if not named and not has_cjk(span.text) and not any(t.pos == "PROPN" for t in tokens):
            self.warnings.append(f"person {span.text!r} is not a name; dropped")
            return None
        return span


def ground_event(
    event: WireEvent, spec: EventSpec, sentences: Sequence[Sentence], analysis: Analysis
) -> GroundedEvent:
    by_number = {s.number: s for s in sentences}
    evidence = [
        Span(start=s.start, end=s.end, text=s.text)
        for n in dict.fromkeys(event.sentences)
        if (s := by_number.get(n)) is not None
    ]
    g = _Grounder(window(evidence, sentences), analysis, evidence,
                  antecedents(evidence, sentences, analysis))
    missing = sorted(set(event.sentences) - set(by_number))
    if missing:
        g.warnings.append(f"cited sentences that do not exist: {missing}")
    people = [p for v in event.texts("people") if (p := g.person(v))]
    roles = {
        role: list(dict.fromkeys(
            name for v in event.texts(role) if (name := g.organization(role, v, people))))
        for role in spec.roles
    }
    details: dict[str, list[str]] = {}
    for d in spec.details:
        find = g.find_cited if spec.kinds.get(d) in EXACT_KINDS else g.find
        values = event.texts(d) if spec.many(d) else event.texts(d)[:1]
        found = list(dict.fromkeys(span.text for v in values if (span := find(d, v))))
        if found:
            details[d] = found
    date = g.find_cited("date", event.text("date"))
    location = g.find("location", event.text("location"))
    return GroundedEvent(
        spec=spec, evidence=evidence, roles=roles,
        people=list({p.text: p for p in people}.values()),
        details=details, date=date.text if date else None,
        location=location.text if location else None, warnings=g.warnings,
    )


def ground(
    events: Sequence[WireEvent],
    specs: dict[str, EventSpec],
    sentences: Sequence[Sentence],
    analysis: Analysis,
    *,
    keep_ungrounded: bool,
) -> tuple[list[GroundedEvent], list[str]]:
    """Grounded events, plus article-level warnings about what was dropped."""
    kept: list[GroundedEvent] = []
    dropped: list[str] = []
    for wire in events:
        spec = specs[wire.kind]
        g = ground_event(wire, spec, sentences, analysis)
        stated = any(analysis.states(spec.lemmas, s.start, s.end, s.text)
                     for s in window(g.evidence, sentences))
        reason = (
            "no evidence in the text" if not g.grounded
            else "no party found in its evidence" if not g.parties
            else f"its evidence never states a {spec.name}" if not stated
            else None
        )
        if reason:
            if not keep_ungrounded:
                dropped.append(f"dropped a {spec.name} event: {reason}")
                continue
            g.warnings.append(f"ungrounded: {reason}")
        kept.append(g)
    return kept, dropped
