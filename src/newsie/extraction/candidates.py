"""What the model may choose from: the names, dates and amounts the article itself contains.

The small model is good at choosing and bad at writing, so newsie does not let it write
names. spaCy's entities (plus proper-noun runs the recognizer missed, and noun phrases
built on a nationality, "the Moroccan government") become typed candidates with their
spans; the answer schema then offers only these texts, so a party, person, date, place or
amount that is not in the article cannot come out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nameparser.config import CONSTANTS

from ..reading.nlp import Analysis, Entity, Token, is_plural_noun

#: Candidate kinds, by the spaCy labels that give them.
KINDS: dict[str, frozenset[str]] = {
    "org": frozenset({"ORG", "GPE", "NORP", "FAC"}),
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "date": frozenset({"DATE"}),
    "quantity": frozenset({"QUANTITY", "CARDINAL"}),
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
    found = [c for c in found if c.text.strip() and _useful(c)]
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
    if kind == "quantity":  # "20" "GWh": a number and the unit after it
        after = next((t for t in tokens if t.start >= end), None)
        if (after is not None and after.pos in ("NOUN", "PROPN") and not after.is_stop
                and after.start - end <= 1):
            end = after.end
    return Candidate(kind, text[start:end], start, end)


def _word_end(text: str, end: int) -> int:
    """Names stop inside hyphenated words ("Kwon Young" of "Kwon Young-soo", "Gotion High"
    of "Gotion High-Tech"): move to the end of the word."""
    while end < len(text) and (text[end].isalnum() or (
            text[end] == "-" and end + 1 < len(text) and text[end + 1].isalnum())):
        end += 1
    return end


def _useful(c: Candidate) -> bool:
    """A quantity is a number with a unit: "20GWh", "5,000 tonnes"; a bare "two" is not.
    A name does not run over a line break."""
    if c.kind == "quantity":
        return any(ch.isdigit() for ch in c.text) and any(ch.isalpha() for ch in c.text)
    return "\n" not in c.text


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
            if tokens:
                out.append((tokens[0].start, tokens[-1].end))
    return out


def of_kind(candidates: Iterable[Candidate], kind: str, start: int = 0,
            end: int | None = None) -> list[str]:
    """Distinct texts of one kind within `[start, end)`, in reading order."""
    texts = [c.text for c in candidates if c.kind == kind and c.start >= start
             and (end is None or c.end <= end)]
    return list(dict.fromkeys(texts))
