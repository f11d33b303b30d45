"""Score extractions against gold annotations, by the rules in the gold README.

A predicted event matches a gold event of the same type when one party matches: equal
after normalizing case, punctuation and company suffixes, one containing the other, or
a known alias. Gold events marked `uncertain` count neither for nor against.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._normalize import org_key
from .events import EVENT_TYPES, Extraction

#: Aliases the scoring rules name; articles teach the rest through `Party.aliases`.
KNOWN_ALIASES = {"lges": "lg energy solution", "lead": "lead intelligent equipment"}


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
    """Event-level precision/recall/F1 per type and micro-averaged, plus field agreement."""

    per_type: dict[str, dict[str, float]]
    micro: dict[str, float]
    fields: dict[str, dict[str, float]]
    articles: int

    def to_text(self) -> str:
        lines = [f"articles: {self.articles}", "type      P      R      F1     tp  fp  fn"]
        for kind, s in [*self.per_type.items(), ("micro", self.micro)]:
            lines.append(f"{kind:<8} {s['precision']:.3f}  {s['recall']:.3f}  {s['f1']:.3f}"
                         f"  {int(s['tp']):>3} {int(s['fp']):>3} {int(s['fn']):>3}")
        for name, agg in self.fields.items():
            lines.append(f"{name} agreement: {agg['agreement']:.3f} "
                         f"({int(agg['agree'])}/{int(agg['total'])})")
        return "\n".join(lines)


def _names(name: str, aliases: Iterable[str] = ()) -> set[str]:
    keys = {org_key(n) for n in [name, *aliases] if org_key(n)}
    keys |= {KNOWN_ALIASES[k] for k in keys if k in KNOWN_ALIASES}
    keys |= {k for k, v in KNOWN_ALIASES.items() if v in keys}
    return keys


def _contains(a: str, b: str) -> bool:
    return bool(a and b) and (a in b or b in a)


def party_match(a: set[str], b: set[str]) -> bool:
    return any(_contains(x, y) for x in a for y in b)


def _text_match(pred: str | None, gold: str) -> bool:
    """Containment, blind to spacing too: '20GWh' agrees with '20 GWh'."""
    return pred is not None and _contains(org_key(pred).replace(" ", ""),
                                          org_key(gold).replace(" ", ""))


def from_extraction(result: Extraction) -> list[Simple]:
    out = []
    for ev in result.events:
        quantity = getattr(ev, "quantity", None)
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


@dataclass
class _Tally:
    counts: dict[str, Counts] = field(default_factory=lambda: {t: Counts() for t in EVENT_TYPES})
    fields: dict[str, list[int]] = field(
        default_factory=lambda: {"date": [0, 0], "location": [0, 0], "quantity": [0, 0]})


def _score_article(pred: Sequence[Simple], gold: Sequence[Simple], tally: _Tally) -> None:
    unmatched = list(gold)
    # certain gold first, so a prediction is not spent on an event that does not count
    unmatched.sort(key=lambda g: g.uncertain)
    for p in pred:
        hit = next((g for g in unmatched if g.type == p.type and any(
            party_match(a, b) for a in p.parties for b in g.parties)), None)
        if hit is None:
            tally.counts[p.type].fp += 1
            continue
        unmatched.remove(hit)
        if hit.uncertain:
            continue
        tally.counts[p.type].tp += 1
        if hit.date:
            tally.fields["date"][1] += 1
            tally.fields["date"][0] += bool(p.date and p.date[: len(hit.date)] == hit.date)
        for name in ("location", "quantity"):
            gold_value = getattr(hit, name)
            if gold_value:
                tally.fields[name][1] += 1
                tally.fields[name][0] += _text_match(getattr(p, name), gold_value)
    for g in unmatched:
        if not g.uncertain:
            tally.counts[g.type].fn += 1


def score(predictions: dict[str, list[Simple]], gold: dict[str, list[Simple]]) -> Score:
    """Score predictions keyed by article id against gold keyed the same way."""
    tally = _Tally()
    for article_id, gold_events in gold.items():
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
        articles=len(gold),
    )


def read_gold(path: str | Path) -> dict[str, dict[str, Any]]:
    records = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records[record["id"]] = record
    return records


def article_id(source: str) -> str:
    return Path(source).stem


def read_predictions(path: str | Path) -> dict[str, list[Simple]]:
    """Saved `newsie extract` JSONL (error records count as no events), or gold-format lines."""
    out: dict[str, list[Simple]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if "id" in record:
            out[record["id"]] = from_gold(record)
        elif "events" in record:
            out[article_id(record["source"])] = from_extraction(
                Extraction.model_validate(record))
        else:
            out.setdefault(article_id(record.get("source", "")), [])
    return out


def find_article(gold_path: Path, article: str, articles: Path | None) -> Path:
    """`<id>.txt` beside the gold file, in its `articles/`, or in `articles`."""
    folders = [articles] if articles else [gold_path.parent, gold_path.parent / "articles"]
    for folder in folders:
        for candidate in sorted(folder.glob(f"{article}.*")):
            if candidate.suffix != ".jsonl":
                return candidate
    raise FileNotFoundError(f"no article file for gold id {article} in {folders}")
