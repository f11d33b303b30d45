"""Organization names: one key per company, abbreviations, and one name across a corpus.

`org_key` folds what does not make two companies different (case, punctuation, legal
forms via cleanco); `abbreviations` finds "Full Name (ABBR)" definitions with the
Schwartz-Hearst algorithm (the `abbreviations` package); `OrgRegistry` gives every
organization in a corpus one canonical name, from those definitions, the aliases events
already carry, and a user alias file.
"""

from __future__ import annotations

import csv
import importlib
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from cleanco import basename
from rapidfuzz import fuzz

from ._exceptions import AliasFileError


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


def read_alias_file(path: str | Path) -> dict[str, list[str]]:
    """Canonical name -> aliases, from JSON ``{"canonical": ["alias", ...]}`` or CSV rows
    ``canonical,alias,alias...`` (one organization a row, no header)."""
    file = Path(path)
    try:
        raw = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AliasFileError(f"cannot read alias file {file}: {exc.strerror}") from None
    if file.suffix.lower() == ".csv":
        rows = [[c.strip() for c in row if c.strip()] for row in csv.reader(raw.splitlines())]
        return {row[0]: row[1:] for row in rows if row}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise AliasFileError(f"alias file {file} is not JSON ({exc}); use .csv for CSV") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(a, str) for a in v)
        for k, v in data.items()
    ):
        raise AliasFileError(
            f'alias file {file} must map each canonical name to a list of aliases: '
            '{"Canonical Name": ["Alias", ...]}')
    return data


class OrgRegistry:
    """One canonical name per organization across a corpus.

    Names are the same organization when their `org_key`s are equal, when one article
    defines one as the other's abbreviation (an abbreviation defined two different ways in
    the corpus is left alone), when an event or the alias file lists them as aliases, or
    when a unique well-founded fuzzy match links them (`_fuzzy_pairs`). The canonical
    name is the alias file's, else the fullest (a definition, not its abbreviation).

    >>> reg = OrgRegistry({"Lead Intelligent Equipment": ["LEAD", "Lead Intelligent"]})
    >>> reg.canonical("lead intelligent equipment co., ltd.")
    'Lead Intelligent Equipment'
    """

    def __init__(self, aliases: Mapping[str, Iterable[str]] | None = None) -> None:
        self._parent: dict[str, str] = {}
        self._seen: dict[str, Counter[str]] = defaultdict(Counter)
        self._chosen: dict[str, str] = {}  # key -> the user's canonical name
        self._defined: dict[str, set[str]] = defaultdict(set)  # abbreviation key -> full keys
        self._resolved = False
        for canonical, names in (aliases or {}).items():
            self.add(canonical, names)
            self._chosen[org_key(canonical)] = canonical

    @classmethod
    def from_file(cls, path: str | Path) -> OrgRegistry:
        return cls(read_alias_file(path))

    def add(self, name: str, aliases: Iterable[str] = ()) -> None:
        """Record a name seen in the corpus, with the aliases it is known to go by."""
        key = self._node(name)
        for alias in aliases:
            if org_key(alias):
                self._union(key, self._node(alias))
        self._resolved = False

    def learn(self, text: str) -> dict[str, str]:
        """Record the abbreviation definitions in one article; returns them."""
        pairs = abbreviations(text)
        for short, full in pairs.items():
            self._defined[org_key(short)].add(org_key(full))
            self._seen[org_key(full)][full] += 1
        self._resolved = False
        return pairs

    def canonical(self, name: str) -> str:
        """The corpus-wide name of `name`'s organization (`name` itself if unknown)."""
        self._resolve()
        key = org_key(name)
        if key not in self._parent:
            return name
        root = self._find(key)
        return self._names[root][0]

    def aliases(self, name: str) -> list[str]:
        """Every other name `name`'s organization was seen under."""
        self._resolve()
        key = org_key(name)
        if key not in self._parent:
            return []
        canonical = self.canonical(name)
        return [n for n in self._names[self._find(key)] if n != canonical]

    def groups(self) -> dict[str, list[str]]:
        """Canonical name -> aliases, for every organization recorded."""
        self._resolve()
        return {names[0]: names[1:] for names in self._names.values()}

    # ------------------------------------------------------------------ internals

    def _node(self, name: str) -> str:
        key = org_key(name)
        self._parent.setdefault(key, key)
        self._seen[key][name.strip()] += 1  # as written: a canonical name is a name in the text
        return key

    def _find(self, key: str) -> str:
        while self._parent[key] != key:
            self._parent[key] = self._parent[self._parent[key]]
            key = self._parent[key]
        return key

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def _resolve(self) -> None:
        """Apply unambiguous abbreviations and fuzzy matches, then name each group."""
        if self._resolved:
            return
        for short, fulls in self._defined.items():
            if len(fulls) == 1 and short in self._parent:
                full = next(iter(fulls))
                self._parent.setdefault(full, full)
                self._union(short, full)
        for a, b in _fuzzy_pairs(list(self._parent)):
            self._union(a, b)
        members: dict[str, list[str]] = defaultdict(list)
        for key in self._parent:
            members[self._find(key)].append(key)
        self._names: dict[str, list[str]] = {}
        for root, keys in members.items():
            counts: Counter[str] = Counter()
            for key in keys:
                counts.update(self._seen[key])
            chosen = [self._chosen[k] for k in keys if k in self._chosen]
            # the fullest name (a definition, not its abbreviation), the most seen, and
            # without a legal form
            ranked = sorted(counts, key=lambda n: (-len(org_key(n)), -counts[n], len(n), n))
            self._names[root] = list(dict.fromkeys(chosen[:1] + ranked))
        self._resolved = True


#: Keys shorter than this ("lg", "sk") name too many companies to match by containment.
_MIN_CONTAINED = 4


def _fuzzy_pairs(keys: list[str]) -> list[tuple[str, str]]:
    """Same-organization pairs among keys that share their first word (never all pairs).

    Two rules, both well-founded: near-identical spelling (a typo, "Technologies" for
    "Technology": `fuzz.ratio` >= 92 on keys of 8+ characters), and a short key whose
    words are all in exactly one longer key ("Zenith Power" in "Zenith Power Systems"); a
    short key contained in two different longer ones ("Samsung") stays apart.
    """
    blocks: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        if key:
            blocks[key.split()[0]].append(key)
    pairs: list[tuple[str, str]] = []
    for block in blocks.values():
        if len(block) < 2:
            continue
        for i, a in enumerate(block):
            words = set(a.split())
            containers = [b for b in block if len(b) > len(a) and words <= set(b.split())]
            if len(a) >= _MIN_CONTAINED and len(containers) == 1:
                pairs.append((a, containers[0]))
            pairs += [(a, b) for b in block[i + 1:]
                      if min(len(a), len(b)) >= 8 and fuzz.ratio(a, b) >= 92]
    return pairs
