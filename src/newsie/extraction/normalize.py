"""From grounded strings to typed values: dates, amounts, people, one name per company."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from nameparser import HumanName

from ..events import Event, Kind, Money, Party, Person, Quantity, Span
from ..linking.agree import KIND_FIELDS, Facts, conflict, facts, sides_agree
from ..linking.orgs import OrgRegistry, org_key
from ..reading.dates import resolve_date
from ..reading.nlp import ORG_LABELS, PLACE_LABELS, Analysis
from .grounding import GroundedEvent
from .money import parse_money
from .registry import EventSpec

# ---------------------------------------------------------------------- quantities

_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9,
          "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
_NUMBER = r"(\d{1,3}(?:[,\s]\d{3})+|\d+(?:\.\d+)?)"
_SCALE_RE = r"(thousand|million|billion|trillion|mn|bn|tn|[kmb])\b"


def _number(raw: str) -> float:
    return float(re.sub(r"[,\s]", "", raw))


def parse_quantity(text: str | None) -> Quantity | None:
    """`20GWh` gives value 20, unit GWh; `1.2 million tonnes` gives 1200000 tonnes."""
    if not text:
        return None
    m = re.search(rf"{_NUMBER}\s*(?:{_SCALE_RE})?\s*([A-Za-z%][\w/%-]*(?:\s+of\s+\w+)?)?",
                  text, re.I)
    if not m:
        return Quantity(text=text)
    value = _number(m.group(1))
    scale, unit = m.group(2), m.group(3)
    if scale and scale.lower() in _SCALE and not (len(scale) == 1 and unit is None and
                                                  scale.lower() == "m"):
        value *= _SCALE[scale.lower()]
    elif scale:  # a single letter such as "m" read as a unit (metres)
        unit = scale + (unit or "")
    return Quantity(value=value, unit=unit, text=text)


# ------------------------------------------------------------------------- people


def split_person(span: Span, analysis: Analysis) -> Person:
    """'Vice President Kwon Young-soo of LGES': the name is the PERSON entity in the span,
    the words around it are the title, and an organization entity after it is the employer.
    Without a PERSON entity, nameparser takes the title off the front.
    """
    names = [e for e in analysis.entities_in(span.start, span.end) if e.label == "PERSON"
             and span.start <= e.start and e.end <= span.end]
    if not names:
        parsed = HumanName(span.text)
        title = parsed.title or None
        name = span.text[len(title):].strip(" ,") if title else span.text
        return Person(name=name or span.text, title=title)
    person = max(names, key=lambda e: e.end - e.start)
    start = person.start - span.start
    end = _word_end(span.text, person.end - span.start)  # "Kwon Young" + "-soo"
    employer = next((e for e in analysis.entities_in(span.start + end, span.end)
                     if e.label in ORG_LABELS and e.end <= span.end), None)
    after = span.text[end: (employer.start if employer else span.end) - span.start]
    title = " ".join(filter(None, (_title_part(span.text[:start]), _title_part(after))))
    return Person(name=span.text[start:end], title=title or None,
                  organization=employer.text if employer else None)


def _word_end(text: str, end: int) -> int:
    """Entity ends can stop inside a hyphenated word; move to the end of the word."""
    while end < len(text) and (text[end].isalnum() or (
            text[end] == "-" and end + 1 < len(text) and text[end + 1].isalnum())):
        end += 1
    return end


#: Connecting words at the edges of a title ("Chairman of", "at the").
_CONNECTORS = {"of", "at", "for", "the", "and"}


def _title_part(text: str) -> str:
    words = text.strip(" ,;:()").split()
    while words and words[0].lower() in _CONNECTORS:
        words.pop(0)
    while words and words[-1].lower() in _CONNECTORS:
        words.pop()
    return " ".join(words).strip(" ,;:()")


# -------------------------------------------------------------------- organizations

def organizations(text: str, names: Iterable[str], places: Iterable[str] = ()) -> OrgRegistry:
    """The article's organizations: its own "Full Name (ABBR)" definitions, then `names`.
    `places` (the article's GPE/LOC entities) are never parents by prefix."""
    orgs = OrgRegistry(places=places)
    orgs.learn(text)
    for name in names:
        orgs.add(name)
    return orgs


def party(orgs: OrgRegistry, name: str, role: str | None = None) -> Party:
    """`name` under its canonical name, with the other names it goes by."""
    canonical = orgs.canonical(name)
    return Party(name=canonical, role=role,
                 aliases=sorted(a for a in orgs.aliases(name) if a != canonical))


# ----------------------------------------------------------------------- assembly


def merge(events: Sequence[GroundedEvent], published: str | None,
          key: Callable[[str], str] = org_key) -> list[GroundedEvent]:
    """One event per occurrence: an article restates a deal in its headline, its lede and
    its body, and each restatement is the same event when it is of the same type, names the
    same parties on each side (or leaves a side unnamed) and nothing disagrees: dates,
    quantities, values, deals ("20 GWh in March ... another 5 GWh in June" are two orders;
    so are two buyers of one sentence). The rule is linking's (`linking.agree`); `key`
    gives an organization's identity (the article's canonical name). Within one article
    the text can also say that an account is a new occurrence: a sentence of its own that
    calls it "another", "an additional" or "a second" one is not a restatement."""
    merged: list[GroundedEvent] = []
    for ev in events:
        for other in merged:
            if other.spec.name == ev.spec.name and \
                    sides_agree(_sides(other, key), _sides(ev, key)) and \
                    not _told_as_another(ev, other) and \
                    conflict(_facts(other, published), _facts(ev, published)) is None:
                _absorb(other, ev)
                break
        else:
            merged.append(ev)
    merged.sort(key=lambda e: e.evidence[0].start if e.evidence else 0)
    return merged


#: Words by which a text says an account is one more occurrence, not a restatement.
_ANOTHER = re.compile(r"\b(?:another|additional|repeat|follow-on|follow-up)\b"
                      r"|\ba\s+(?:second|third|fourth)\b", re.I)


def _told_as_another(ev: GroundedEvent, other: GroundedEvent) -> bool:
    """`ev` cites sentences of its own, and one of them calls it another occurrence."""
    shared = {(s.start, s.end) for s in other.evidence}
    return any(_ANOTHER.search(s.text) for s in ev.evidence if (s.start, s.end) not in shared)


def _sides(ev: GroundedEvent, key: Callable[[str], str]) -> dict[str, set[str]]:
    return {role: {key(name) for name in names} for role, names in ev.roles.items()}


def _facts(ev: GroundedEvent, published: str | None) -> Facts:
    """What the event says about its date, amounts and deal, as linking compares them."""
    when = resolve_date(ev.date, published) if ev.date else None
    amounts = [value for name, phrases in ev.details.items() for phrase in phrases
               if isinstance(value := typed(ev.spec, name, phrase, published, []),
                             (Quantity, Money))]
    agreement = next((ev.details[f][0] for f in KIND_FIELDS if f in ev.details), None)
    # both events are in one article: its publication date says nothing between them
    return facts(when.value if when else None, None, amounts, agreement)


def _absorb(into: GroundedEvent, ev: GroundedEvent) -> None:
    seen = {(s.start, s.end) for s in into.evidence}
    into.evidence += [s for s in ev.evidence if (s.start, s.end) not in seen]
    into.evidence.sort(key=lambda s: s.start)
    for role, names in ev.roles.items():
        into.roles[role] = list(dict.fromkeys([*into.roles.get(role, []), *names]))
    into.people += [p for p in ev.people if p.text not in {q.text for q in into.people}]
    for name, phrases in ev.details.items():
        kept = into.details.setdefault(name, list(phrases))
        if into.spec.many(name):
            kept += [p for p in phrases if p not in kept]
    into.date = into.date or ev.date
    into.location = into.location or ev.location
    into.warnings += ev.warnings


def normalize(
    events: Sequence[GroundedEvent], text: str, published: str | None, analysis: Analysis
) -> list[Event]:
    places = [e.text for e in analysis.entities if e.label in PLACE_LABELS]
    places += [ev.location for ev in events if ev.location]
    orgs = organizations(text, [p for ev in events for p in ev.parties], places)
    return [_build(ev, orgs, published, analysis)
            for ev in merge(events, published, lambda name: org_key(orgs.canonical(name)))]


def typed(spec: EventSpec, name: str, phrase: str, published: str | None,
          warnings: list[str]) -> Any:
    """A grounded phrase as its field's kind wants it: a Quantity, Money, an ISO date
    (None, with a warning, when it reads as no date), or text; a list for a field that
    takes many."""
    kind = spec.kinds[name]
    if kind is Kind.QUANTITY:
        return parse_quantity(phrase)
    if kind is Kind.MONEY:
        return parse_money(phrase)
    if kind is Kind.DATE:
        when = resolve_date(phrase, published)
        if when.warning:
            warnings.append(f"{name}: {when.warning}")
        return when.value
    return [phrase] if spec.many(name) else phrase


def _build(ev: GroundedEvent, orgs: OrgRegistry, published: str | None,
           analysis: Analysis) -> Event:
    spec = ev.spec
    parties: list[Party] = []
    values: dict[str, Any] = {"location": ev.location}
    warnings = list(ev.warnings)
    for role, names in ev.roles.items():
        canonical: list[str] = []
        for raw in names:
            named = party(orgs, raw, role)
            taken = next((p.role for p in parties if p.name == named.name), None)
            if taken is not None and taken != role:  # no organization fills two roles
                warnings.append(f"{role} {named.name!r} is already the {taken}; dropped")
                continue
            if taken is None:
                parties.append(named)
            canonical += [named.name] if named.name not in canonical else []
        values[role] = canonical if spec.many(role) else next(iter(canonical), None)
    people = list({p.name: p for p in (split_person(s, analysis) for s in ev.people)}.values())
    for name, phrases in ev.details.items():
        values[name] = (phrases if spec.many(name) and spec.kinds[name] is Kind.PHRASE
                        else typed(spec, name, phrases[0], published, warnings))
    if spec.people_field:
        values[spec.people_field] = [p.name for p in people]
    when = resolve_date(ev.date, published) if ev.date else None
    if when is not None and when.warning:
        warnings.append(when.warning)
    return spec.build(
        values, parties=parties, people=people, date=when.value if when else None,
        location=ev.location, evidence=ev.evidence, warnings=warnings, grounded=ev.grounded,
    )
