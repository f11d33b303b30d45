"""What the model may choose from: the names, dates and amounts the article itself contains.

The small model is good at choosing and bad at writing, so newsie does not let it write
names. spaCy's entities (plus proper-noun runs the recognizer missed, and noun phrases
built on a nationality, "the Moroccan government") become typed candidates with their
spans; the answer schema then offers only these texts, so a party, person, date, place or
amount that is not in the article cannot come out.

Quantities come from quantulum3, which knows units ("no less than 200 GWh" is 200 GWh; "4
lithium" is no quantity), and amounts of money are kept only where price-parser reads an
amount and a currency. An organization candidate never spans a verb ("Korvane Delegation
Visited Pellmar Energy" is two names at most), and a title phrase ("the Chinese
Ambassador") is a person's office, not an organization: it is no candidate, and the
organization the text names for it ("the Chinese Embassy") is one already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nameparser.config import CONSTANTS

from ..reading.measures import amounts, measures
from ..reading.nlp import Analysis, Entity, Token, is_common_noun, is_plural_noun, is_verb_form
from .money import parse_money

#: Candidate kinds, by the spaCy labels that give them (quantities: quantulum3).
KINDS: dict[str, frozenset[str]] = {
    "org": frozenset({"ORG", "GPE", "NORP", "FAC"}),
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "date": frozenset({"DATE"}),
    "quantity": frozenset(),
    "money": frozenset({"MONEY"}),
}


@dataclass(frozen=True)
class Candidate:
    kind: str
    text: str
    start: int
    end: int


def find_candidates(text: str, analysis: Analysis) -> list[Candidate]:
    """Every candidate in `text`, in reading order (a text may occur more than once)."""
    found: list[Candidate] = []
    for entity in analysis.entities:
        for kind, labels in KINDS.items():
            if entity.label in labels:
                found.append(_candidate(kind, text, entity, analysis.tokens))
        words = entity.text.split()
        if entity.label == "PERSON" and len(words) > 1 and is_plural_noun(words[-1]):
            # the recognizer's person "Borealis Cells" is a company as well
            found.append(_candidate("org", text, entity, analysis.tokens))
    named = [(e.start, e.end) for e in analysis.entities]
    found += [Candidate("org", text[s:e], s, e)
              for s, e in _proper_runs(text, analysis.tokens, named)]
    found += [Candidate("org", text[s:e], s, e) for s, e in _nationality_phrases(analysis)]
    found += [Candidate("quantity", text[m.start:m.end], m.start, m.end)
              for m in measures(text)]
    found += [Candidate("money", text[m.start:m.end], m.start, m.end) for m in amounts(text)]
    found = [piece for c in found if c.text.strip() and _useful(c)
             for piece in (_split_at_verbs(c, text, analysis.tokens) if c.kind == "org"
                           else [c])]
    return sorted(set(found), key=lambda c: (c.start, c.end, c.kind))


def _candidate(kind: str, text: str, entity: Entity, tokens: Sequence[Token]) -> Candidate:
    start, end = entity.start, entity.end
    if kind in ("org", "place") and text[start:end].lower().startswith("the "):
        start += 4
    end = _word_end(text, end)
    if text[start:end].endswith(("'s", "\u2019s")):
        end -= 2
    while end > start and text[end - 1] in ",.;:":
        end -= 1
    return Candidate(kind, text[start:end], start, end)


def _word_end(text: str, end: int) -> int:
    """Names stop inside hyphenated words ("Kwon Young" of "Kwon Young-soo", "Gotion High"
    of "Gotion High-Tech"): move to the end of the word."""
    while end < len(text) and (text[end].isalnum() or (
            text[end] == "-" and end + 1 < len(text) and text[end + 1].isalnum())):
        end += 1
    return end


def _useful(c: Candidate) -> bool:
    """An amount of money has an amount and a currency (price-parser reads both); a name
    does not run over a line break."""
    if c.kind == "money":
        money = parse_money(c.text)
        return money is not None and money.amount is not None
    return "\n" not in c.text


def _split_at_verbs(c: Candidate, text: str, tokens: Sequence[Token]) -> list[Candidate]:
    """An organization name holds no verb: a headline run ("Korvane Delegation Visited
    Pellmar Energy") is cut there, into the names around it."""
    pieces: list[Candidate] = []
    start = c.start
    inside = [t for t in tokens if c.start <= t.start and t.end <= c.end]
    if not any(_is_verb(t) for t in inside):
        return [c]
    for token in [*inside, None]:
        if token is not None and not _is_verb(token):
            continue
        end = token.start if token is not None else c.end
        piece = text[start:end].strip(" ,;:-")
        if piece and not (" " not in piece and is_common_noun(piece)):  # "Cooperation"
            offset = text.index(piece, start)
            pieces.append(Candidate("org", piece, offset, offset + len(piece)))
        if token is not None:
            start = token.end
    return pieces


def _is_verb(token: Token) -> bool:
    """A verb, even where title case makes the tagger call it a proper noun ("Visited",
    "Discuss"): a verb form that is no noun."""
    if token.pos in ("VERB", "AUX"):
        return True
    return token.pos == "PROPN" and is_verb_form(token.lower)


def _proper_runs(text: str, tokens: Sequence[Token], named: Iterable[tuple[int, int]]
                 ) -> list[tuple[int, int]]:
    """Runs of proper nouns the recognizer did not label ("Kestrel Chemicals")."""
    spans = list(named)
    runs: list[tuple[int, int]] = []
    current: list[Token] = []
    for token in [*tokens, None]:
        if (token is not None and token.pos == "PROPN" and token.lower.isalnum()
                and not (current and "\n" in text[current[-1].end:token.start])
                and not any(s < token.end and token.start < e for s, e in spans)):
            current.append(token)
            continue
        # one capitalized word ("Trends") is too often a heading; "LEAD" is a name
        # and a run of job-title words ("Vice President") is no name either
        word = text[current[0].start:current[0].end] if current else ""
        if (current and word[:1].isupper() and (len(current) > 1 or word[1:2].isupper())
                and not all(t.lower in CONSTANTS.titles for t in current)):
            runs.append((current[0].start, _word_end(text, current[-1].end)))
        current = [token] if token is not None and token.pos == "PROPN" and (
            token.lower.isalnum()) and not any(
                s < token.end and token.start < e for s, e in spans) else []
    return runs


def _nationality_phrases(analysis: Analysis) -> list[tuple[int, int]]:
    """Noun phrases built on a nationality: "the Moroccan government", "a Korean delegation"."""
    out = []
    for start, end in analysis.chunks:
        inside = [e for e in analysis.entities if start <= e.start and e.end <= end]
        # "the Moroccan government", not "Moroccan Prime Minister Aziz Akhannouch"
        if any(e.label == "NORP" and (e.start, e.end) != (start, end) for e in inside) and (
                not any(e.label == "PERSON" for e in inside)):
            tokens = analysis.tokens_in(start, end)
            while tokens and tokens[0].pos == "DET":
                tokens = tokens[1:]
            # "the Chinese Ambassador" is an office, not an organization
            if tokens and tokens[-1].lower not in CONSTANTS.titles:
                out.append((tokens[0].start, tokens[-1].end))
    return out


def of_kind(candidates: Iterable[Candidate], kind: str, start: int = 0,
            end: int | None = None) -> list[str]:
    """Distinct texts of one kind within `[start, end)`, in reading order."""
    texts = [c.text for c in candidates if c.kind == kind and c.start >= start
             and (end is None or c.end <= end)]
    return list(dict.fromkeys(texts))
