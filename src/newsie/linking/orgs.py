"""Organization names: one key per company, abbreviations, one name across a corpus, and
which organization a unit belongs to.

`org_key` folds what does not make two companies different (case, punctuation, legal
forms via cleanco); `abbreviations` finds "Full Name (ABBR)" definitions with the
Schwartz-Hearst algorithm (the `abbreviations` package); `OrgRegistry` gives every
organization in a corpus one canonical name, from those definitions, the aliases events
already carry, and a user alias file, and ties units to their parents.
"""

from __future__ import annotations

import csv
import importlib
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TypedDict

from cleanco import basename
from rapidfuzz import fuzz

from ..core.errors import AliasFileError, ArticleError
from ..reading.article import decode_bytes
from ..reading.nlp import is_place_name
from .unionfind import UnionFind


def _import_schwartz_hearst() -> ModuleType:
    """The package calls `logging.basicConfig(level=INFO)` on import; a library must not
    configure its host's logging, so whatever it adds to the root logger is taken back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    module = importlib.import_module("abbreviations.schwartz_hearst")
    root.handlers[:], root.level = handlers, level
    return module


_sh = _import_schwartz_hearst()


# ------------------------------------------------------------------------------- keys


@lru_cache(maxsize=1 << 16)  # cleanco takes about a millisecond a name; names repeat
def org_key(name: str) -> str:
    """Case, punctuation, a leading "The" and legal forms ("Co., Ltd.") do not count."""
    key = " ".join(re.sub(r",(?=\S)", ", ", name.replace("\u2019", "'")).split())
    key = re.sub(r"^the\s+", "", key, flags=re.I)
    previous = None
    while previous != key:  # "Co., Limited" comes off one legal form at a time
        previous, key = key, basename(key)
    return re.sub(r"[^\w]+", " ", key.casefold()).strip()


# ---------------------------------------------------------------------- abbreviations

_LEGAL_FORM = re.compile(  # "Acme Co., Ltd. (ACME)": a legal form hides the definition
    r"(?:,?\s+(?:co|corp|inc|ltd|limited|llc|plc|gmbh|ag|sa|pte|company)\b\.?)+(?=\s*\()",
    re.I,
)


def abbreviations(text: str) -> dict[str, str]:
    """Abbreviation -> definition, from "Lead Intelligent Equipment (LEAD)" in `text`.

    Legal forms just before the parenthesis are dropped first, so that "Contemporary
    Amperex Technology Co., Limited (CATL)" is found too.
    """
    lines = "\n".join(_LEGAL_FORM.sub("", line) for line in text.splitlines())
    pairs: dict[str, str] = _sh.extract_abbreviation_definition_pairs(
        doc_text=lines, first_definition=True)
    return {str(short): str(full) for short, full in pairs.items()
            if org_key(short) and org_key(short) != org_key(full)}


# --------------------------------------------------------------------------- registry


class OrgEntry(TypedDict, total=False):
    """One organization of an alias file: the other names it goes by, and its parent."""

    aliases: list[str]
    parent: str


#: What `OrgRegistry` and `link(aliases=...)` take: canonical name -> its aliases, or an
#: `OrgEntry` with aliases and a parent.
Aliases = Mapping[str, "Iterable[str] | OrgEntry"]


def read_alias_file(path: str | Path) -> dict[str, OrgEntry]:
    """Canonical name -> its aliases and parent, from an alias file.

    JSON: ``{"Canonical": ["alias", ...]}``, or, to name the organization it belongs to,
    ``{"Canonical": {"aliases": ["alias", ...], "parent": "Parent"}}`` (the two forms mix).
    CSV: rows ``canonical,alias,alias...`` (one organization a row, no header, no parents).
    """
    file = Path(path)
    try:  # decoded as every input is: UTF-8, else the legacy encoding it is in
        raw = decode_bytes(file.read_bytes())
    except OSError as exc:
        raise AliasFileError(f"cannot read alias file {file}: {exc.strerror}") from None
    except ArticleError as exc:
        raise AliasFileError(f"alias file {file} is not text ({exc})") from None
    if file.suffix.lower() == ".csv":
        rows = [[c.strip() for c in row if c.strip()] for row in csv.reader(raw.splitlines())]
        return {row[0]: {"aliases": row[1:]} for row in rows if row}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AliasFileError(f"alias file {file} is not JSON ({exc}); use .csv for CSV") from None
    entries = {k: _entry(v) for k, v in data.items()} if isinstance(data, dict) else None
    if entries is None or not all(isinstance(k, str) for k in entries) or \
            not all(entries.values()):
        raise AliasFileError(
            f'alias file {file} must map each canonical name to a list of aliases, or to '
            '{"aliases": [...], "parent": "Parent"}: '
            '{"Canonical Name": ["Alias", ...], "Unit Name": {"parent": "Canonical Name"}}')
    return {k: v for k, v in entries.items() if v is not None}


def _entry(value: object) -> OrgEntry | None:
    """An alias file's value as an `OrgEntry`; None when it is neither form."""
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return {"aliases": list(value)}
    if not isinstance(value, dict) or not value or set(value) - {"aliases", "parent"}:
        return None
    aliases, parent = value.get("aliases", []), value.get("parent")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases) or \
            not (parent is None or (isinstance(parent, str) and parent.strip())):
        return None
    entry: OrgEntry = {"aliases": list(aliases)}
    if parent is not None:
        entry["parent"] = parent
    return entry


class OrgRegistry:
    """One canonical name per organization across a corpus, and the organization each
    belongs to.

    Names are the same organization when their `org_key`s are equal, when one article
    defines one as the other's abbreviation (an abbreviation defined two different ways in
    the corpus is left alone), when an event or the alias file lists them as aliases, or
    when a unique well-founded fuzzy match links them (`_fuzzy_pairs`). The canonical
    name is the alias file's, else the fullest (a definition, not its abbreviation).

    An organization may belong to another (a unit, a plant, a subsidiary): the alias file
    says so (`OrgEntry.parent`), an article says so ("X, a subsidiary of Y", "Y's battery
    unit X"), or its name extends a known name ("Volkswagen Group Components" under
    "Volkswagen"). `family` gives the top of that chain, which linking compares. With
    `short_forms` (an article's own registry), a name that only one longer name extends is
    that organization's short form instead ("Zenith Power" for "Zenith Power Systems"), as
    an article's second mention usually is.

    A place is never a parent or a short form by its name: "China Energy Engineering" is
    not China's unit. A place is a name in `places` (an article's GPE/LOC entities, events'
    locations), or a bare name spaCy reads as a place.

    >>> reg = OrgRegistry({"Lead Intelligent Equipment": ["LEAD", "Lead Intelligent"]})
    >>> reg.canonical("lead intelligent equipment co., ltd.")
    'Lead Intelligent Equipment'
    """

    def __init__(self, aliases: Aliases | None = None, *, short_forms: bool = True,
                 places: Iterable[str] = ()) -> None:
        self._places = {org_key(p) for p in places} - {""}
        self._sets: UnionFind[str] = UnionFind()
        self._seen: dict[str, Counter[str]] = defaultdict(Counter)
        self._chosen: dict[str, str] = {}  # key -> the user's canonical name
        self._defined: dict[str, set[str]] = defaultdict(set)  # abbreviation key -> full keys
        self._written: dict[str, str] = {}  # abbreviation key -> as an article wrote it
        self._declared: list[tuple[str, str]] = []  # (child key, parent key), the user's
        self._relations: list[tuple[list[str], list[str]]] = []  # (child, parent) candidates
        self._short_forms = short_forms
        self._resolved = False
        for canonical, given in (aliases or {}).items():
            entry = _entry(given) if isinstance(given, Mapping) else {"aliases": list(given)}
            if entry is None:
                raise AliasFileError(f"{canonical!r}: give a list of aliases, or "
                                     '{"aliases": [...], "parent": "Parent"}')
            self.add(canonical, entry.get("aliases", []))
            self._chosen[org_key(canonical)] = canonical
            if "parent" in entry:
                self._declared.append((org_key(canonical), self._node(entry["parent"])))

    @classmethod
    def from_file(cls, path: str | Path, *, short_forms: bool = True,
                  places: Iterable[str] = ()) -> OrgRegistry:
        return cls(read_alias_file(path), short_forms=short_forms, places=places)

    def add_places(self, names: Iterable[str]) -> None:
        """Record names known to be places: they never become a parent by prefix."""
        self._places |= {org_key(n) for n in names} - {""}
        self._resolved = False

    def add(self, name: str, aliases: Iterable[str] = ()) -> None:
        """Record a name seen in the corpus, with the aliases it is known to go by."""
        key = self._node(name)
        for alias in aliases:
            if org_key(alias):
                self._sets.union(key, self._node(alias))
        self._resolved = False

    def learn(self, text: str) -> dict[str, str]:
        """Record one article's abbreviation definitions (returned) and the ties it states
        between organizations ("X, a subsidiary of Y"), for the names the corpus uses."""
        pairs = abbreviations(text)
        for short, full in pairs.items():
            self._defined[org_key(short)].add(org_key(full))
            self._seen[org_key(full)][full] += 1
            self._written[org_key(short)] = short
        self._relations += _relations(text)
        self._resolved = False
        return pairs

    def canonical(self, name: str) -> str:
        """The corpus-wide name of `name`'s organization (`name` itself if unknown)."""
        self._resolve()
        key = org_key(name)
        if key not in self._sets:
            return name
        return self._names[self._sets.find(key)][0]

    def aliases(self, name: str) -> list[str]:
        """Every other name `name`'s organization was seen under."""
        self._resolve()
        key = org_key(name)
        if key not in self._sets:
            return []
        canonical = self.canonical(name)
        return [n for n in self._names[self._sets.find(key)] if n != canonical]

    def parent(self, name: str) -> str | None:
        """The canonical name of the organization `name`'s belongs to, if one is known."""
        self._resolve()
        key = org_key(name)
        if key not in self._sets:
            return None
        up = self._up.get(self._sets.find(key))
        return self._names[up][0] if up is not None else None

    def family(self, name: str) -> str:
        """The canonical name at the top of `name`'s chain of parents (its own if none)."""
        self._resolve()
        key = org_key(name)
        if key not in self._sets:
            return name
        root = self._sets.find(key)
        while root in self._up:
            root = self._up[root]
        return self._names[root][0]

    def groups(self) -> dict[str, list[str]]:
        """Canonical name -> aliases, for every organization recorded."""
        self._resolve()
        return {names[0]: names[1:] for names in self._names.values()}

    # ------------------------------------------------------------------ internals

    def _node(self, name: str) -> str:
        key = org_key(name)
        self._sets.add(key)
        self._seen[key][name.strip()] += 1  # as written: a canonical name is a name in the text
        return key

    def _resolve(self) -> None:
        """Apply unambiguous abbreviations, fuzzy matches and ties, then name each group."""
        if self._resolved:
            return
        sets = self._sets
        for short, fulls in self._defined.items():
            if len(fulls) == 1 and short in sets:
                full = next(iter(fulls))
                sets.add(full)
                sets.union(short, full)
        same, extends = _fuzzy_pairs(list(sets), self._short_forms, self._is_place)
        for a, b in same:
            sets.union(a, b)
        self._names: dict[str, list[str]] = {}
        for root, keys in sets.groups().items():
            counts: Counter[str] = Counter()
            for key in keys:
                counts.update(self._seen[key])
            chosen = [self._chosen[k] for k in keys if k in self._chosen]
            # the fullest name (a definition, not its abbreviation), the most seen, and
            # without a legal form
            ranked = sorted(counts, key=lambda n: (-len(org_key(n)), -counts[n], len(n), n))
            self._names[root] = list(dict.fromkeys(chosen[:1] + ranked))
        # an abbreviation one article defines names its organization everywhere, also
        # where no event used it: it is one of the organization's aliases
        for short, fulls in self._defined.items():
            full = next(iter(fulls))
            if len(fulls) == 1 and short not in sets and full in sets:
                self._names[sets.find(full)].append(self._written[short])
        # the user's parents first: the first parent found for an organization stands
        self._up: dict[str, str] = {}
        for child, parent in [*self._declared, *self._stated(), *extends]:
            self._tie(sets.find(child), sets.find(parent))
        self._resolved = True

    def _is_place(self, key: str) -> bool:
        return key in self._places or any(is_place_name(n) for n in self._seen[key])

    def _stated(self) -> Iterator[tuple[str, str]]:
        """(child, parent) keys of the ties the articles state between recorded names."""
        if not self._relations:
            return
        firsts = {key.split()[0] for key in self._sets if key}

        def recorded(candidates: list[str]) -> str | None:
            # cleanco is slow: only a candidate whose first word starts a name gets a key
            for name in candidates:
                words = _FOLD.sub(" ", name.casefold()).split()
                if words[:1] == ["the"]:
                    words = words[1:]
                if words and words[0] in firsts and (key := org_key(name)) in self._sets:
                    return key
            return None

        for children, parents in self._relations:
            child, parent = recorded(children), recorded(parents)
            if child and parent:
                yield child, parent

    def _tie(self, child: str, parent: str) -> None:
        """`child` belongs to `parent`, unless it already belongs elsewhere or that would
        make a circle."""
        if child in self._up:
            return
        up: str | None = parent
        while up is not None:
            if up == child:
                return
            up = self._up.get(up)
        self._up[child] = parent


# -------------------------------------------------------------------- stated ties

#: What a unit, plant or subsidiary is called.
_UNIT = (r"(?:subsidiar(?:y|ies)|unit|division|arm|affiliate|branch|business|plant|factory|"
         r"site|operations?)")
_WORDS = r"(?:[\w&.'\u2019-]+\s+)"
#: "X, a subsidiary of Y", "X, the battery arm of Y", "X, part of Y", "X, owned by Y"
_OF = re.compile(rf",\s+(?:(?:a|an|the)\s+)?{_WORDS}{{0,3}}?(?:{_UNIT}\s+of|part\s+of|"
                 r"(?:wholly[\s-])?owned\s+by)\s+", re.I)
#: "X, a Pellan Grid subsidiary", "X, a Y battery unit"
_APPOSITION = re.compile(rf",\s+(?:a|an|the)\s+(?P<parent>{_WORDS}{{1,6}}?){_UNIT}\b", re.I)
#: "Y's battery unit X", "Y's subsidiary, X"
_POSSESSIVE = re.compile(rf"['\u2019]s?\s+{_WORDS}{{0,3}}?{_UNIT}\s*,?\s+", re.I)
#: "Y's X unit"
_POSSESSIVE_NAMED = re.compile(rf"['\u2019]s?\s+(?P<child>{_WORDS}{{1,5}}?){_UNIT}\b", re.I)
_FOLD = re.compile(r"[^\w]+")
_CHEAP = re.compile(rf"{_UNIT}|part\s+of|owned\s+by", re.I)


def _relations(text: str) -> list[tuple[list[str], list[str]]]:
    """(child candidates, parent candidates), most likely first, for every phrase of
    `text` that ties one organization to another. Which candidates are names is known
    only once the corpus is read: the registry keeps the first that it has recorded."""
    if not _CHEAP.search(text):
        return []
    found = []
    for m in _OF.finditer(text):
        found.append((_before(text, m.start()), _after(text, m.end())))
    for m in _APPOSITION.finditer(text):
        found.append((_before(text, m.start()), _after(m.group("parent"), 0)))
    for m in _POSSESSIVE.finditer(text):
        found.append((_after(text, m.end()), _before(text, m.start())))
    for m in _POSSESSIVE_NAMED.finditer(text):
        found.append((_after(m.group("child"), 0), _before(text, m.start())))
    return [(c, p) for c, p in found if c and p]


def _before(text: str, end: int, size: int = 8) -> list[str]:
    """The word sequences that end at `end` (a parenthesis just before it skipped),
    longest first: a name just before a phrase is one of them."""
    head = re.sub(r"\s*\([^()]{0,60}\)\s*$", "", text[max(0, end - 160):end])
    words = head.split()[-size:]
    return [" ".join(words[i:]) for i in range(len(words))]


def _after(text: str, start: int, size: int = 8) -> list[str]:
    """The word sequences that start in the first three words from `start`, up to a
    parenthesis or a clause's end, longest first ("Korea's Orsk Cathode Works" holds
    "Orsk Cathode Works")."""
    tail = re.split(r"[()\[\];:,]|\.\s|\s[-\u2013\u2014]\s", text[start:start + 160])[0]
    words = tail.split()[:size]
    spans = [(i, j) for i in range(min(3, len(words))) for j in range(i + 1, len(words) + 1)]
    return [" ".join(words[i:j]) for i, j in sorted(spans, key=lambda s: (s[0] - s[1], s[0]))]


#: Keys shorter than this ("lg", "sk") name too many companies to match by containment.
_MIN_CONTAINED = 4


def _fuzzy_pairs(keys: list[str], short_forms: bool = True,
                 is_place: Callable[[str], bool] = lambda key: False,
                 ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Same-organization pairs, and (unit, parent) pairs, among keys that share their first
    word (never all pairs).

    Same organization: near-identical spelling (a typo, "Technologies" for "Technology":
    `fuzz.ratio` >= 92 on keys of 8+ characters); with `short_forms`, also a short key
    whose words are all in exactly one longer key ("Zenith Power" in "Zenith Power
    Systems"). A key that extends a shorter one by words at its end is otherwise that
    organization's unit ("Volkswagen Group Components" under "Volkswagen"), unless the
    shorter one is a place (`is_place`, asked only of such keys).
    """
    blocks: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        if key:
            blocks[key.split()[0]].append(key)
    same: list[tuple[str, str]] = []
    extends: list[tuple[str, str]] = []
    for block in blocks.values():
        if len(block) < 2:
            continue
        for i, a in enumerate(block):
            words = set(a.split())
            containers = [b for b in block if len(b) > len(a) and words <= set(b.split())]
            if len(a) >= _MIN_CONTAINED and containers and not is_place(a):
                # always: one word that starts exactly one longer name ("Huayou Cobalt")
                if len(containers) == 1 and (short_forms or " " not in a):
                    same.append((a, containers[0]))
                else:  # the nearest name it extends is its parent
                    extends += [(b, a) for b in containers if b.startswith(a + " ")]
            same += [(a, b) for b in block[i + 1:]
                     if min(len(a), len(b)) >= 8 and fuzz.ratio(a, b) >= 92]
    # the longest name a unit extends is its parent: "Volkswagen Group Components" belongs
    # to "Volkswagen Group", which belongs to "Volkswagen"
    extends.sort(key=lambda pair: -len(pair[1]))
    return same, extends
