"""Two event types of one's own, defined as the README shows, read over a dataset.

    python bench/extraction/custom_types.py DATASET_DIR [--limit N]

No gold exists for these types, so this is a reading, not a score: it counts the events
each type finds and lists them (article id, summary, the offsets of the evidence) for a
person to judge. The articles are read by path; their text is not copied into the result.
Writes `bench/results/custom-types-<date>-<dataset>.md`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import newsie

RESULTS = Path(__file__).resolve().parents[1] / "results"


class Investment(newsie.Event):
    definition = "an investor puts money into a company or buys a stake in it"
    lemmas = ("invest", "investment", "investor", "stake", "fund", "funding", "raise",
              "acquire", "acquisition")
    examples = newsie.Example(
        sentences=["Kestrel Capital bought a 20% stake in Orla Cells for EUR 50 million."],
        events=[{"sent": [1], "investor": "Kestrel Capital", "target": "Orla Cells",
                 "amount": "EUR 50 million", "stake": "20%"}])
    type: Literal["investment"] = "investment"
    investor: Annotated[str | None, newsie.Org] = None
    target: Annotated[str | None, newsie.Org] = None
    amount: newsie.Money | None = None
    stake: Annotated[str | None, newsie.Phrase] = None


class PlantOpening(newsie.Event):
    definition = ("a company opens, starts building or expands a factory or plant, or raises "
                  "its production capacity")
    lemmas = ("plant", "factory", "facility", "gigafactory", "open", "opening", "build",
              "construction", "expand", "expansion", "capacity", "production", "line")
    examples = newsie.Example(
        sentences=["Tamsin Motors opened a 12 GWh battery plant in Porto on Monday.",
                   "The company plans a second plant later."],
        events=[{"sent": [1], "company": "Tamsin Motors", "location": "Porto",
                 "capacity": "12 GWh", "date": "Monday"}])
    type: Literal["plant_opening"] = "plant_opening"
    company: Annotated[str | None, newsie.Org] = None
    capacity: newsie.Quantity | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    folder = args.dataset.resolve()
    paths = sorted((folder / "articles").glob("*.txt"))[: args.limit]
    load = os.getloadavg()
    started = time.monotonic()
    types = ["investment", "plant_opening", Investment, PlantOpening]  # only these two
    results = list(newsie.extract_many(paths, concurrency=1, types=types, cache=False))
    seconds = time.monotonic() - started
    found = [(r, ev) for r in results if isinstance(r, newsie.Extraction) for ev in r.events]
    counts = Counter(ev.type for _, ev in found)
    lines = [
        f"# Custom event types over {folder.name} ({date.today().isoformat()})", "",
        f"Command: `python bench/extraction/custom_types.py {' '.join(sys.argv[1:])}` · "
        f"{len(paths)} articles, {seconds / max(1, len(paths)):.1f} s/article · load "
        f"{load[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end · failed: "
        f"{sum(isinstance(r, newsie.Failure) for r in results)}", "",
        "| type | events | articles |", "| --- | --- | --- |",
        *(f"| {t} | {counts[t]} | {len({r.source for r, ev in found if ev.type == t})} |"
          for t in ("investment", "plant_opening")),
        "", "Events found (article, summary, evidence offsets):", "",
    ]
    for result, ev in found:
        spans = ", ".join(f"{s.start}-{s.end}" for s in ev.evidence)
        lines.append(f"- {Path(result.source).stem} · {ev.type} · {ev.summary} · [{spans}]")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"custom-types-{date.today().isoformat()}-{folder.name}.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
