"""From grounded strings to typed values: dates, amounts, people, one name per company."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ._dates import resolve_date
from ._grounding import GroundedEvent
from .events import Event, Meeting, Money, MoU, Order, Party, Person, Quantity, Visit

# ---------------------------------------------------------------------- quantities

_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9,
          "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
_CURRENCY = {"$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD",
             "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
             "¥": "CNY", "yuan": "CNY", "rmb": "CNY", "cny": "CNY", "renminbi": "CNY",
             "won": "KRW", "krw": "KRW", "₩": "KRW", "yen": "JPY", "jpy": "JPY",
             "a$": "AUD", "aud": "AUD", "c$": "CAD", "cad": "CAD", "hk$": "HKD", "hkd": "HKD",
             "inr": "INR", "rupees": "INR", "₹": "INR", "chf": "CHF", "sek": "SEK"}
_NUMBER = r"(\d{1,3}(?:[,\s]\d{3})+|\d+(?:\.\d+)?)"
_SCALE_RE = r"(thousand|million|billion|trillion|mn|bn|tn|[kmb])\b"
_AMOUNT = re.compile(
    rf"(?P<pre>us\$|a\$|c\$|hk\$|[$€£¥₩₹]|[a-z]{{3}})?\s*{_NUMBER}\s*(?:{_SCALE_RE})?\s*"
    r"(?P<post>[A-Za-z$€£¥₩₹]+)?",
    re.I,
)


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


def parse_money(text: str | None) -> Money | None:
    """`130 million yuan` gives 130000000 CNY; `USD 14 billion` gives 14000000000 USD."""
    if not text:
        return None
    for m in _AMOUNT.finditer(text):
        pre = (m.group("pre") or "").lower()
        post = (m.group("post") or "").lower()
        currency = _CURRENCY.get(pre) or _CURRENCY.get(post)
        if currency is None:
            continue
        amount = _number(m.group(2))
        scale = m.group(3)
        if scale:
            amount *= _SCALE[scale.lower()]
        return Money(amount=amount, currency=currency, text=text)
    return Money(text=text)


# ------------------------------------------------------------------------- people

_TITLE_WORDS = (
    r"(?:Executive |Senior |Deputy |Vice |Assistant |General |Managing |Chief |Honorary |"
    r"Founding |Executive Vice |Senior Vice |Party |Prime |Foreign |Acting |Former |Co-)*"
    r"(?:President|Chairman|Chairwoman|Chair|CEO|CFO|CTO|COO|Director|Manager|Secretary|"
    r"Minister|Mayor|Governor|Senator|Ambassador|Consul|Speaker|Officer|Head|Founder|Partner|"
    r"Premier|Leader|Representative|Engineer|Professor|Dr\.?|Mr\.?|Ms\.?|Mrs\.?|Sir)"
)
_TITLE_PREFIX = re.compile(
    rf"^(?P<title>{_TITLE_WORDS}(?:\s+(?:of|to)\s+(?:the\s+)?[\w&.\- ]+?)?)\s+"
    r"(?P<name>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+){0,3})$"
)
_TITLE_SUFFIX = re.compile(r"^(?P<name>[^,(]+?)\s*[,(]\s*(?P<title>.+?)\)?$")


def split_person(text: str) -> Person:
    """'Vice President Kwon Young-soo' gives name 'Kwon Young-soo', title 'Vice President'."""
    text = " ".join(text.split())
    title: str | None = None
    name = text
    m = _TITLE_PREFIX.match(text)
    if m:
        title, name = m.group("title"), m.group("name")
    else:
        m = _TITLE_SUFFIX.match(text)
        if m:
            name, title = m.group("name"), m.group("title")
    organization = None
    if title:
        om = re.search(r"\s+(?:of|at)\s+(?:the\s+)?(.+)$", title)
        if om and om.group(1)[:1].isupper():
            organization, title = om.group(1), title[: om.start()]
    return Person(name=name.strip(), title=(title or "").strip() or None,
                  organization=organization)


# -------------------------------------------------------------------- organizations

_SUFFIX = re.compile(
    r"[\s,]+(co\.?|company|corp\.?|corporation|inc\.?|incorporated|ltd\.?|limited|llc|plc|"
    r"gmbh|ag|s\.?a\.?|pte|group|holdings?|technology|technologies)\b\.?",
    re.I,
)


def org_key(name: str) -> str:
    """Case, punctuation and company suffixes do not make two companies different."""
    key = name.casefold().replace("\u2019", "'")
    key = re.sub(r"^the\s+", "", key)
    previous = None
    while previous != key:
        previous = key
        key = _SUFFIX.sub("", key)
    return re.sub(r"[^\w]+", " ", key).strip()


def learn_aliases(text: str) -> dict[str, str]:
    """Abbreviation -> full name, from 'Lead Intelligent Equipment (LEAD)' in the article."""
    found: dict[str, str] = {}
    for m in re.finditer(
        r"((?:[A-Z][\w&'.\-]*|of|and|&)(?:\s+(?:[A-Z][\w&'.\-]*|of|and|&)){0,6})\s*"
        r"\(\s*(?:\"|“)?([A-Z][A-Za-z0-9&.\-]{1,11})(?:\"|”)?\s*\)",
        text,
    ):
        full, short = m.group(1).strip(), m.group(2)
        words = full.split()
        # keep the shortest tail of the name whose initials can spell the abbreviation
        for i in range(len(words)):
            tail = " ".join(words[i:])
            if tail[:1].upper() == short[:1].upper() and tail[:1].isupper():
                full = tail
                break
        if org_key(full) != org_key(short):
            found[short] = full
    return found


class Organizations:
    """One canonical name per organization in an article, with every alias it goes by."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        self._abbrev = learn_aliases(text)
        self._groups: list[list[str]] = []
        for name in sorted(set(names), key=len, reverse=True):
            self._add(self._abbrev.get(name, name), name)

    def _add(self, full: str, raw: str) -> None:
        key = org_key(full)
        for group in self._groups:
            if any(_same(key, org_key(member)) for member in group):
                group.extend(n for n in (full, raw) if n not in group)
                return
        self._groups.append(list(dict.fromkeys([full, raw])))

    def party(self, name: str, role: str | None = None) -> Party:
        for group in self._groups:
            if name in group:
                canonical = max(group, key=len)
                aliases = sorted({n for n in group if n != canonical} | {
                    short for short, full in self._abbrev.items() if full in group
                    and short != canonical})
                return Party(name=canonical, role=role, aliases=aliases)
        return Party(name=name, role=role)


def _same(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and re.search(rf"\b{re.escape(short)}\b", long_) is not None


# ----------------------------------------------------------------------- assembly

_ROLES = {"visit": ("visitor", "host"), "order": ("buyer", "supplier"),
          "mou": ("party", "party"), "meeting": ("organizer", "organizer")}


def _merge(events: Sequence[GroundedEvent], orgs: Organizations) -> list[GroundedEvent]:
    """One event per occurrence.

    Same type with shared evidence or the same parties is one event; and talks held during
    a visit, between the visit's own parties, are part of the visit, not a meeting.
    """
    merged: list[GroundedEvent] = []
    visits = [ev for ev in events if ev.type == "visit"]
    for ev in sorted(events, key=lambda e: e.type != "visit"):
        keys = {orgs.party(p).name for p in ev.parties}
        spans = {(s.start, s.end) for s in ev.evidence}
        for other in merged:
            other_keys = {orgs.party(p).name for p in other.parties}
            if other.type == ev.type:
                same = (bool(keys) and keys == other_keys) or bool(
                    spans & {(s.start, s.end) for s in other.evidence})
            else:
                same = (ev.type == "meeting" and other in visits and bool(keys)
                        and keys <= other_keys)
            if same:
                _absorb(other, ev)
                break
        else:
            merged.append(ev)
    merged.sort(key=lambda e: e.evidence[0].start if e.evidence else 0)
    return merged


def _absorb(into: GroundedEvent, ev: GroundedEvent) -> None:
    seen = {(s.start, s.end) for s in into.evidence}
    into.evidence += [s for s in ev.evidence if (s.start, s.end) not in seen]
    into.evidence.sort(key=lambda s: s.start)
    into.parties += [p for p in ev.parties if p not in into.parties]
    into.people += [p for p in ev.people if p not in into.people]
    for attr in ("date", "location", "subject", "quantity", "value"):
        if getattr(into, attr) is None:
            setattr(into, attr, getattr(ev, attr))
    into.warnings += ev.warnings


def normalize(events: Sequence[GroundedEvent], text: str, published: str | None) -> list[Event]:
    people = {split_person(p).name for ev in events for p in ev.people}
    for ev in events:
        cleaned = (clean_party(p) for p in ev.parties)
        ev.parties = list(dict.fromkeys(
            p for p in cleaned if p not in people and is_organization(p)))
        if ev.type == "order":
            ev.parties = order_roles(ev.parties, " ".join(s.text for s in ev.evidence))
    # an event needs an organization: one whose "parties" were all people is dropped
    events = [ev for ev in events if ev.parties or not ev.grounded]
    orgs = Organizations(text, [p for ev in events for p in ev.parties])
    return [_build(ev, orgs, published) for ev in _merge(events, orgs)]


_TITLE_INSIDE = re.compile(rf"^(?P<org>[A-Z][\w&.,'\- ]+?)\s+{_TITLE_WORDS}\s+[A-Z]")


def clean_party(raw: str) -> str:
    """The organization in what the model called a party.

    'Lead Intelligent Equipment (LEAD)' gives the name; 'Vice President Kim of LGES' and
    'Korea Battery Industry Association Chairman Jeon' give the organization.
    """
    name = re.sub(r"\s*\([^)]*\)\s*$", "", raw).strip(" ,;") or raw
    person, _, org = name.rpartition(" of ")
    if person and org[:1].isupper() and _TITLE_PREFIX.match(person):
        return org.removeprefix("the ").strip()
    inside = _TITLE_INSIDE.match(name)
    if inside and not re.fullmatch(_TITLE_WORDS, inside.group("org")):
        return inside.group("org").strip(" ,")
    return name


_NOT_AN_ORG = re.compile(
    r"\b(director|president|secretary|chairman|chairwoman|manager|officer|ceo|cfo|"
    r"commissioner|leaders?|including|employees|staff|teams?|offices|subsidiaries|"
    r"delegation)\b", re.I)


def is_organization(name: str) -> bool:
    """Grounded is not enough: 'managing director' or 'subsidiaries' is in the text too."""
    return (bool(name) and not name[0].islower() and not _NOT_AN_ORG.search(name)
            and not _TITLE_PREFIX.match(name))


_WINS = re.compile(r"\b(won|wins?|receiv\w*|secur\w*|clinch\w*|bag\w*|land\w*)\b", re.I)
_BUYS = re.compile(r"\b(order|purchas|bought|buy|procur|sourc)\w*\b.*\bfrom\b", re.I)
_SUPPLIES = re.compile(r"\b(provid|suppl|deliver|sell|sold|ship)\w*", re.I)


def order_roles(parties: list[str], evidence: str) -> list[str]:
    """Buyer first: the model's order is a guess, the sentence's verb is not.

    'LEAD will provide ABF with ...' makes LEAD the supplier; 'ABF ordered ... from LEAD'
    makes ABF the buyer.
    """
    if len(parties) < 2:
        return parties
    a, b = parties[0], parties[1]
    ia, ib = evidence.find(a), evidence.find(b)
    if ia < 0 or ib < 0:
        return parties
    first, second = (a, b) if ia < ib else (b, a)
    between = evidence[min(ia, ib): max(ia + len(a), ib + len(b))]
    if _WINS.search(between) or (not _BUYS.search(between) and _SUPPLIES.search(between)):
        buyer, supplier = second, first
    elif _BUYS.search(between):
        buyer, supplier = first, second
    else:
        return parties
    return [buyer, supplier, *parties[2:]]


def _build(ev: GroundedEvent, orgs: Organizations, published: str | None) -> Event:
    first_role, other_role = _ROLES[ev.type]
    parties: list[Party] = []
    for i, raw in enumerate(ev.parties):
        party = orgs.party(raw, first_role if i == 0 else other_role)
        if all(p.name != party.name for p in parties):
            parties.append(party)
    people = [split_person(p) for p in ev.people]
    when = resolve_date(ev.date, published) if ev.date else None
    warnings = list(ev.warnings)
    if when is not None and when.warning:
        warnings.append(when.warning)
    names = [p.name for p in parties]
    first = names[0] if names else None
    second = names[1] if len(names) > 1 else None
    common: dict[str, Any] = {
        "parties": parties, "people": people, "date": when.value if when else None,
        "location": ev.location, "evidence": ev.evidence, "warnings": warnings,
        "grounded": ev.grounded,
    }
    if ev.type == "visit":
        return Visit(summary=_summary(ev, names), visitor=first, host=second,
                     site=ev.location, **common)
    if ev.type == "mou":
        return MoU(summary=_summary(ev, names), agreement=ev.subject,
                   signatories=[p.name for p in people], **common)
    if ev.type == "order":
        return Order(summary=_summary(ev, names), buyer=first, supplier=second,
                     product=ev.subject, quantity=parse_quantity(ev.quantity),
                     value=parse_money(ev.value), **common)
    return Meeting(summary=_summary(ev, names), organizer=first,
                   attendees=[p.name for p in people],
                   topics=[ev.subject] if ev.subject else [], **common)


_DETERMINER = re.compile(r"^(a|an|the|its|their|his|her|one|two|three|several|\d)\b", re.I)
_ORDER_WORDS = re.compile(r"(purchase |supply )?(order|contract|deal|agreement)s?", re.I)


def _noun(phrase: str) -> str:
    """'forum' -> 'a forum', 'annual forum' -> 'an annual forum'; 'talks', 'the MoU' as is."""
    if _DETERMINER.match(phrase) or phrase.endswith("s"):
        return phrase
    return ("an " if phrase[0].lower() in "aeiou" else "a ") + phrase


def _summary(ev: GroundedEvent, names: list[str]) -> str:
    """A one-line headline built from grounded fields, so it cannot say more than they do."""
    a = names[0] if names else "An organization"
    b = names[1] if len(names) > 1 else None
    at = f" at {ev.location}" if ev.location else ""
    if ev.type == "visit":
        return f"{a} visited {b or 'a partner'}{at}"
    if ev.type == "mou":
        return f"{a} signed {_noun(ev.subject or 'agreement')}" + (f" with {b}" if b else "")
    if ev.type == "order":
        subject = re.sub(r"^(an?|the)\s+", "", ev.subject or "order", flags=re.I)
        if ev.quantity is None and _ORDER_WORDS.fullmatch(subject):
            return f"{a} placed {_noun(subject)}" + (f" with {b}" if b else "")
        what = ev.quantity or subject if not ev.subject else subject
        if ev.quantity and ev.subject and ev.quantity not in subject:
            what = f"{ev.quantity} of {subject}"
        return f"{a} ordered {what}" + (f" from {b}" if b else "")
    return f"{a} held {_noun(ev.subject or 'meeting')}{at}"
