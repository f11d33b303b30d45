"""Linking at scale: 10,000 synthetic events, time, peak memory, pair precision/recall.

    python bench/linking/link_scale.py [--events 10000] [--seed 11]

Deterministic synthetic reports: a few thousand occurrences between made-up companies,
each reported by 1-4 articles that vary the names (legal forms, an abbreviation that
some articles define as "Full Name (ABBR)"), the date (a day off, month precision or
missing) and whether the quantity is given. Writes `bench/results/link-scale-<date>.md`.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import time
from collections import defaultdict
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

import newsie

RESULTS = Path(__file__).resolve().parents[1] / "results"
SYLLABLES = ["ka", "lo", "ven", "tri", "mar", "zel", "dor", "qui", "bra", "sen", "tal", "mi",
             "rho", "vik", "nu", "pel", "gra", "sor", "fen", "ul"]
WORDS = ["Cells", "Motors", "Energy", "Materials", "Power", "Grid", "Mining", "Systems",
         "Storage", "Automotive", "Chemicals", "Electric"]
LEGAL = ["", " Co., Ltd.", " Inc.", " Limited", " Corp."]
TYPES = ["order", "mou", "visit", "meeting"]


def companies(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """(full name, abbreviation) pairs; names and abbreviations distinct (an abbreviation
    that two companies share is, rightly, never resolved by the registry)."""
    seen: set[str] = set()
    out = []
    while len(out) < n:
        first = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        words = [first, *rng.sample(WORDS, 2)]
        full = " ".join(words)
        abbr = (first[:3] + "".join(w[0] for w in words[1:])).upper()
        if full not in seen and abbr not in seen:
            seen |= {full, abbr}
            out.append((full, abbr))
    return out


def event(kind: str, parties: list[str], day: str | None, qty: float | None,
          text: str) -> newsie.Event:
    common = {"summary": f"{kind} {' / '.join(parties)}", "date": day,
              "parties": [newsie.Party(name=p) for p in parties],
              "evidence": [newsie.Span(start=0, end=len(text), text=text)]}
    if kind == "order":
        quantity = newsie.Quantity(value=qty, unit="GWh", text=f"{qty:g}GWh") if qty else None
        return newsie.Order(quantity=quantity, **common)
    return {"mou": newsie.MoU, "visit": newsie.Visit, "meeting": newsie.Meeting}[kind](
        **common)


def corpus(n_events: int, seed: int) -> tuple[list[newsie.Extraction], dict[str, int]]:
    """Articles of one event each, and each article's occurrence (the truth)."""
    rng = random.Random(seed)
    orgs = companies(rng, max(50, n_events // 6))
    weights = [1 / (i + 1) ** 0.8 for i in range(len(orgs))]  # a few big names, a long tail
    start = date(2023, 1, 1)
    results: list[newsie.Extraction] = []
    truth: dict[str, int] = {}
    occurrence = 0
    while len(results) < n_events:
        kind = rng.choice(TYPES)
        a, b = rng.choices(range(len(orgs)), weights, k=2)
        if a == b:
            continue
        day = start + timedelta(days=rng.randrange(3 * 365))
        qty = float(rng.choice([2, 5, 8, 10, 12, 20, 40])) if rng.random() < 0.7 else None
        for _ in range(min(rng.choice([1, 1, 2, 2, 3, 4]), n_events - len(results))):
            names, defined = [], []
            for i in (a, b):
                full, abbr = orgs[i]
                form = rng.random()
                if form < 0.25:
                    names.append(abbr)
                elif form < 0.6:
                    names.append(full + rng.choice(LEGAL))
                    defined.append(f"{full} ({abbr})")
                else:
                    names.append(full)
            jitter = rng.random()
            when: str | None = day.isoformat()
            if jitter < 0.2:
                when = (day + timedelta(days=rng.choice([-1, 1]))).isoformat()
            elif jitter < 0.3:
                when = day.isoformat()[:7]
            elif jitter < 0.4:
                when = None
            text = f"{' and '.join(defined) or names[0]} reported a {kind}."
            source = f"article-{len(results):05d}"
            truth[source] = occurrence
            results.append(newsie.Extraction(
                source=source, text=text, model="synthetic", published=day.isoformat(),
                events=[event(kind, names, when, qty if rng.random() < 0.8 else None, text)]))
        occurrence += 1
    return results, truth


def pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for g in groups for p in combinations(g, 2)}  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    results, truth = corpus(args.events, args.seed)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    linked = newsie.link(results)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    by_occurrence: dict[int, list[str]] = defaultdict(list)
    for source, occ in truth.items():
        by_occurrence[occ].append(source)
    true_pairs = pairs(list(by_occurrence.values()))
    found_pairs = pairs([[s.source for s in e.sources] for e in linked])
    hit = len(true_pairs & found_pairs)
    precision = hit / len(found_pairs) if found_pairs else 1.0
    recall = hit / len(true_pairs) if true_pairs else 1.0
    lines = [
        f"# Linking at scale, {date.today().isoformat()}",
        "",
        f"`python bench/linking/link_scale.py --events {args.events} --seed {args.seed}` on "
        f"{platform.machine()}, Python {platform.python_version()}, 2 shared cores.",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| events in | {len(results):,} (one article each) |",
        f"| true occurrences | {len(by_occurrence):,} |",
        f"| linked events out | {len(linked):,} |",
        f"| time for `newsie.link` (wall / CPU, all threads) | {seconds:.1f} s / {cpu:.1f} s |",
        f"| peak RSS before / after linking | {before.ru_maxrss / 1024:.0f} MB / "
        f"{after.ru_maxrss / 1024:.0f} MB |",
        f"| true pairs / found pairs / both | {len(true_pairs):,} / {len(found_pairs):,} / "
        f"{hit:,} |",
        f"| pair precision | {precision:.3f} |",
        f"| pair recall | {recall:.3f} |",
        "",
        "Peak RSS is the process's (ru_maxrss), so it counts DuckDB's native memory too.",
    ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"link-scale-{date.today().isoformat()}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
