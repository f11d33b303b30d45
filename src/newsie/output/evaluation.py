"""Score extractions against gold annotations, by the rules in the gold README alone.

The rules are implemented here and nowhere else: the extractor's own normalizer is not
used, so a looser extractor cannot make its score look better than the rules allow.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from number_parser import parse as words_to_digits
from pydantic import BaseModel

from ..core.errors import GoldFileError
from ..events import Extraction, Failure, Kind

#: The only company suffixes the rules strip, as words after punctuation is removed.
SUFFIXES = frozenset({"co", "ltd", "inc", "group", "corporation"})
#: Aliases the scoring rules name; articles teach the rest through `Party.aliases`.
KNOWN_ALIASES = {"lges": "lg energy solution", "lead": "lead intelligent equipment"}
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_QUANTITY = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(thousand|million|billion|trillion)?"
                       r"\s*([^\W\d_]+)?", re.I)


@dataclass
class Simple:
    """An event reduced to what scoring looks at."""

    type: str
    parties: list[set[str]]  # each party: its normalized names (canonical + aliases)
    date: str | None = None
    location: str | None = None
    quantity: str | None = None
    uncertain: bool = False


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> dict[str, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": p, "recall": r, "f1": f, "tp": self.tp, "fp": self.fp,
                "fn": self.fn}


class Score(BaseModel):
    """Event-level precision/recall/F1 per type and micro-averaged, plus field agreement.

    `articles` counts the gold articles scored. An article whose extraction failed (a
    dead server, an unreadable file) is in `failed`, its id with its error, and left out
    of every count: scored as "no events", a dead server would look like a bad model.
    """

    per_type: dict[str, dict[str, float]]
    micro: dict[str, float]
    fields: dict[str, dict[str, float]]
    articles: int
    failed: dict[str, str] = {}

    def to_text(self) -> str:
        lines = [f"articles: {self.articles}"]
        if self.failed:
            lines[0] += f" scored; {len(self.failed)} failed, left out of every score below:"
            lines += [f"  {article}: {error}" for article, error in self.failed.items()]
        lines.append("type      P      R      F1     tp  fp  fn")
        for kind, s in [*self.per_type.items(), ("micro", self.micro)]:
            lines.append(f"{kind:<8} {s['precision']:.3f}  {s['recall']:.3f}  {s['f1']:.3f}"
                         f"  {int(s['tp']):>3} {int(s['fp']):>3} {int(s['fn']):>3}")
        for name, agg in self.fields.items():
            lines.append(f"{name} agreement: {agg['agreement']:.3f} "
                         f"({int(agg['agree'])}/{int(agg['total'])})")
        return "\n".join(lines)


def normalize(text: str) -> str:
    """Case, punctuation and the listed company suffixes removed: "Acme Co., Ltd." -> "acme"."""
    words = re.sub(r"[\W_]+", " ", text.lower()).split()
    while words and words[-1] in SUFFIXES:
        words.pop()
    return " ".join(words)


def _names(name: str, aliases: Iterable[str] = ()) -> set[str]:
    """A party's normalized names, with the known aliases of any of them."""
    keys = {key for key in map(normalize, [name, *aliases]) if key}
    keys |= {KNOWN_ALIASES[k] for k in keys if k in KNOWN_ALIASES}
    keys |= {k for k, v in KNOWN_ALIASES.items() if v in keys}
    return keys


def _contains(a: str, b: str) -> bool:
    """Equal, or one inside the other on word boundaries ("lg" is not inside "lges")."""
    return bool(a and b) and (f" {a} " in f" {b} " or f" {b} " in f" {a} ")


def party_match(a: set[str], b: set[str]) -> bool:
    return any(_contains(x, y) for x in a for y in b)


def date_agrees(pred: str | None, gold: str) -> bool:
    """Exact at the gold's precision: gold "2024-03" takes "2024-03-18", not the reverse."""
    return pred is not None and (pred == gold or pred.startswith(gold + "-"))


def location_agrees(pred: str | None, gold: str) -> bool:
    return pred is not None and _contains(normalize(pred), normalize(gold))


def _amount(text: str) -> tuple[float, str | None] | None:
    """(value, unit word) of the first number in `text`, number words included."""
    found = _QUANTITY.search(text) or _QUANTITY.search(words_to_digits(text, language="en"))
    if found is None:
        return None
    number, scale, unit = found.groups()
    value = float(number.replace(",", "")) * _SCALES.get((scale or "").lower(), 1.0)
    return value, unit.lower() if unit else None


def quantity_agrees(pred: str | None, gold: str) -> bool:
    """Same number and unit ("at least ten GWh" = "10 GWh"); containment without a number."""
    if pred is None:
        return False
    a, b = _amount(pred), _amount(gold)
    if a is None or b is None:
        return _contains(normalize(pred), normalize(gold))
    return math.isclose(a[0], b[0]) and a[1] == b[1]


def from_extraction(result: Extraction) -> list[Simple]:
    out = []
    for ev in result.events:
        quantity = next(iter(ev.fields_of(Kind.QUANTITY).values()), None)
        out.append(Simple(
            type=ev.type, parties=[_names(p.name, p.aliases) for p in ev.parties],
            date=ev.date, location=ev.location,
            quantity=quantity.text if quantity is not None else None,
        ))
    return out


def from_gold(record: dict[str, Any]) -> list[Simple]:
    return [
        Simple(type=e["type"], parties=[_names(p) for p in e.get("parties", [])],
               date=e.get("date"), location=e.get("location"), quantity=e.get("quantity"),
               uncertain=bool(e.get("uncertain")))
        for e in record.get("events", [])
    ]


_AGREES = {"date": date_agrees, "location": location_agrees, "quantity": quantity_agrees}


def party_set_agrees(pred: Sequence[set[str]], gold: Sequence[set[str]]) -> bool:
    """Every gold party matches a predicted party and every predicted party a gold one."""
    return (all(any(party_match(p, g) for p in pred) for g in gold)
            and all(any(party_match(p, g) for g in gold) for p in pred))


def _agreement(p: Simple, g: Simple) -> dict[str, bool]:
    """Which fields of one pair agree, for each field the gold has a value for."""
    agreed = {name: agrees(getattr(p, name), getattr(g, name))
              for name, agrees in _AGREES.items() if getattr(g, name)}
    if g.parties:
        agreed["parties"] = party_set_agrees(p.parties, g.parties)
    return agreed


@dataclass
class _Tally:
    counts: dict[str, Counts] = field(default_factory=dict)
    fields: dict[str, list[int]] = field(
        default_factory=lambda: {k: [0, 0] for k in [*_AGREES, "parties"]})


def max_matching(edges: Sequence[Sequence[int]], matched: dict[int, int] | None = None,
                 ) -> dict[int, int]:
    """Maximum bipartite matching by augmenting paths (Kuhn), as {right: left}.

    `edges[i]` lists the right vertices left vertex i may take, preferred first; a free
    one is taken before a taken one is fought over. Starting from `matched`, every right
    vertex matched there stays matched.
    """
    owner = dict(matched or {})

    def augment(left: int, seen: set[int]) -> bool:
        for right in sorted(edges[left], key=lambda r: r in owner):
            if right not in seen:
                seen.add(right)
                if right not in owner or augment(owner[right], seen):
                    owner[right] = left
                    return True
        return False

    taken = set(owner.values())
    for left in range(len(edges)):
        if left not in taken:
            augment(left, set())
    return owner


def _candidates(p: Simple, gold: Sequence[Simple]) -> list[tuple[int, int]]:
    """(fields agreed, index) of the gold events `p` matches, best agreement first."""
    found = [(sum(_agreement(p, g).values()), j) for j, g in enumerate(gold)
             if g.type == p.type and any(party_match(a, b) for a in p.parties for b in g.parties)]
    return sorted(found, key=lambda c: -c[0])


def _score_article(pred: Sequence[Simple], gold: Sequence[Simple], tally: _Tally) -> None:
    # Matching is by type and party; among equally large matchings, the predictions that
    # agree best on fields choose first, so field agreement is not lost to a crossed pair.
    options = sorted(((_candidates(p, gold), p) for p in pred),
                     key=lambda option: -max([agreed for agreed, _ in option[0]], default=0))
    pred = [p for _, p in options]
    edges = [[j for _, j in found] for found, _ in options]
    # as many certain gold events as possible first (true positives); then uncertain ones
    # absorb what predictions remain (no false positive) without unmatching a certain one
    certain = max_matching([[j for j in js if not gold[j].uncertain] for js in edges])
    pairs = max_matching(edges, certain)
    for i in set(range(len(pred))) - set(pairs.values()):
        tally.counts[pred[i].type].fp += 1
    for j, g in enumerate(gold):
        if g.uncertain:
            continue
        if j not in pairs:
            tally.counts[g.type].fn += 1
            continue
        tally.counts[g.type].tp += 1
        for name, agrees in _agreement(pred[pairs[j]], g).items():
            tally.fields[name][0] += agrees
            tally.fields[name][1] += 1


def score(predictions: Mapping[str, list[Simple]], gold: Mapping[str, list[Simple]],
          failed: Mapping[str, str] | None = None) -> Score:
    """Score predictions keyed by article id against gold keyed the same way.

    The gold articles in `failed` (id: error) are left out and listed in the Score.
    """
    excluded = {k: v for k, v in (failed or {}).items() if k in gold}
    # a row for each type the gold or the predictions use, whatever its name
    used = {e.type for k, events in gold.items() if k not in excluded
            for e in [*events, *predictions.get(k, [])]}
    tally = _Tally(counts={t: Counts() for t in sorted(used)})
    for article_id, gold_events in gold.items():
        if article_id not in excluded:
            _score_article(predictions.get(article_id, []), gold_events, tally)
    total = Counts()
    for c in tally.counts.values():
        total.tp += c.tp
        total.fp += c.fp
        total.fn += c.fn
    return Score(
        per_type={t: c.scores() for t, c in tally.counts.items()},
        micro=total.scores(),
        fields={k: {"agree": a, "total": n, "agreement": a / n if n else 0.0}
                for k, (a, n) in tally.fields.items()},
        articles=len(gold) - len(excluded),
        failed=excluded,
    )


def read_gold(path: str | Path) -> dict[str, dict[str, Any]]:
    """Gold-format records by id; a line that is not one raises `GoldFileError` naming
    `file:line` and what is wrong."""
    records = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFileError(f"{path}: cannot read gold-format JSONL ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            records_id, record = _gold_line(line, f"{path}:{number}")
            records[records_id] = record
    return records


def _gold_line(line: str, where: str) -> tuple[str, dict[str, Any]]:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise GoldFileError(f"{where}: not a JSON line ({exc})") from None
    if not isinstance(record, dict):
        raise GoldFileError(f"{where}: not a JSON object")
    if not isinstance(record.get("id"), (str, int)):
        raise GoldFileError(f"{where}: a gold-format line needs an `id`")
    if not isinstance(record.get("events", []), list):
        raise GoldFileError(f"{where}: `events` must be a list")
    return str(record["id"]), record


def article_id(source: str) -> str:
    return Path(source).stem


def from_results(results: Iterable[Extraction | Failure],
                 ) -> tuple[dict[str, list[Simple]], dict[str, str]]:
    """Predictions by article id, and the failed articles' errors by id.

    An article that failed in one run and succeeded in another (a resumed log) counts
    as done.
    """
    found: dict[str, list[Simple]] = {}
    failed: dict[str, str] = {}
    for result in results:
        key = article_id(result.source)
        if isinstance(result, Extraction):
            found[key] = from_extraction(result)
        else:
            failed[key] = f"{result.error}: {result.message}"
    return found, {k: v for k, v in failed.items() if k not in found}


def is_gold_format(path: str | Path) -> bool:
    """Whether a predictions file holds gold-format lines (`id`, `events`), not results."""
    try:
        with Path(path).open(encoding="utf-8") as lines:
            number, first = next(((n, line) for n, line in enumerate(lines, start=1)
                                  if line.strip()), (1, "{}"))
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFileError(f"{path}: cannot read predictions ({exc})") from None
    try:
        record = json.loads(first)
    except ValueError as exc:
        raise GoldFileError(
            f"{path}:{number}: not JSONL (gold-format lines or `newsie extract` results): "
            f"{exc}") from None
    return isinstance(record, dict) and "id" in record


def read_predictions(path: str | Path) -> dict[str, list[Simple]]:
    """Predictions written as gold-format lines. What `newsie extract` wrote is read by
    `output.export.read_results`, the one reader of result files, and given as results."""
    return {key: from_gold(record) for key, record in read_gold(path).items()}


def evaluate(gold: str | Path,
             predictions: str | Path | Iterable[Extraction | Failure],
             unread: Mapping[str, str] | None = None) -> Score:
    """Score results, or a file of gold-format predictions, against a gold JSONL file; the
    failed articles (and `unread`, gold id: error, those never found) are listed in the
    Score, not scored."""
    truth = {k: from_gold(v) for k, v in read_gold(gold).items()}
    found, failed = ((read_predictions(predictions), {})
                     if isinstance(predictions, (str, Path)) else from_results(predictions))
    return score(found, truth, {**failed, **(unread or {})})


def find_article(gold_path: Path, article: str, articles: Path | None) -> Path:
    """`<id>.<ext>` beside the gold file, in its `articles/`, or in `articles`.

    The id is a file name compared as it is, never a pattern and never a path: an id such
    as `../secret` or `*` names no file, so nothing outside those folders is read.
    """
    folders = [articles] if articles else [gold_path.parent, gold_path.parent / "articles"]
    for folder in folders:
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.iterdir()):
            if candidate.stem == article and candidate.suffix != ".jsonl" and \
                    candidate.is_file():
                return candidate
    raise FileNotFoundError(f"no article file for gold id {article!r} in "
                            f"{', '.join(str(f) for f in folders)}")
