"""Does a run's result depend only on its input? And which concurrency is fastest?

    python bench/model/determinism.py [ARTICLES_DIR] [--runs ...]

Extracts the articles (default: `seeds/`) with the embedded engine in fresh processes, no
answer cache, under several settings: the engine's slots (`NEWSIE_PARALLEL`), the batch's
concurrency, and the order the articles come in (forward, then reversed: what the engine
ran before differs). Each article's events (type, parties, date, quantity, evidence) are
compared across runs, and each run's wall time is kept. Writes
`bench/results/determinism-<date>.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"

CHILD = r"""
import json, sys
from pathlib import Path
import newsie
paths = [Path(p) for p in sys.argv[1:-1]]
out = {}
for r in newsie.extract_many(paths, concurrency=int(sys.argv[-1]), cache=False, progress=False):
    out[Path(r.source).name] = None if isinstance(r, newsie.Failure) else [
        [e.type, sorted(p.name for p in e.parties), e.date,
         getattr(getattr(e, "quantity", None), "text", None),
         [s.text for s in e.evidence]] for e in r.events]
print(json.dumps(out))
"""


def run(paths: list[Path], parallel: int, concurrency: int) -> tuple[dict[str, object], float]:
    env = {**os.environ, "NEWSIE_PARALLEL": str(parallel)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, paths), str(concurrency)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1]), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("seeds"))
    parser.add_argument("--settings", nargs="+", default=["1x1", "2x1", "2x2"],
                        help="SLOTSxCONCURRENCY pairs to run")
    parser.add_argument("--label", default="", help="Suffix for the result file name.")
    args = parser.parse_args()
    paths = sorted(p for p in args.folder.iterdir() if p.suffix == ".txt")
    settings = [tuple(int(n) for n in s.split("x")) for s in args.settings]
    rows = []
    outputs: dict[str, dict[str, object]] = {}
    for parallel, concurrency in settings:
        for order in ("forward", "reversed"):
            given = paths if order == "forward" else paths[::-1]
            events, seconds = run(given, parallel, concurrency)
            name = f"slots {parallel}, concurrency {concurrency}, {order}"
            outputs[name] = events
            rows.append((name, seconds))
            print(name, f"{seconds:.1f}s", file=sys.stderr, flush=True)
    reference = next(iter(outputs.values()))
    lines = [f"# Determinism and concurrency of the embedded engine ({date.today()})", "",
             f"Command: `python bench/model/determinism.py {' '.join(sys.argv[1:])}` · "
             f"{len(paths)} "
             f"articles, no answer cache, each run a fresh process (engine start included) · "
             f"load at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", "",
             "| run | wall s | s/article | articles whose events differ from the first run |",
             "| --- | --- | --- | --- |"]
    for name, seconds in rows:
        differ = sorted(k for k in reference if outputs[name].get(k) != reference[k])
        lines.append(f"| {name} | {seconds:.1f} | {seconds / len(paths):.1f} | "
                     f"{len(differ)} {', '.join(differ)} |")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"determinism-{date.today()}{'-' + args.label if args.label else ''}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
