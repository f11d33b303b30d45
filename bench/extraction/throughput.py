"""Library overhead and cached throughput, against a fast local fake model server.

    python bench/extraction/throughput.py [--articles 1000]

No model runs: the fake server answers at once, so what is timed is newsie itself
(loading, sentence splitting, prompts, the HTTP round trip on loopback, grounding,
normalization) and, on the second pass, the cache. Writes
`bench/results/throughput-<date>.md`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import newsie  # noqa: E402
from fakeserver import FakeModelServer, events_reply  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"


def articles(n: int) -> list[newsie.Article]:
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    texts = [newsie.load_article(p).text for p in seeds]
    return [newsie.Article(text=f"{texts[i % len(texts)]}\n\nReference {i}.", source=f"a{i}")
            for i in range(n)]


def timed(items: list[newsie.Article], server: FakeModelServer, cache: Path | bool) -> float:
    started = time.perf_counter()
    results = list(newsie.extract_many(items, concurrency=1, base_url=server.base_url,
                                       model="fake", cache=cache))
    elapsed = time.perf_counter() - started
    failures = [r for r in results if isinstance(r, newsie.Failure)]
    if failures:
        raise SystemExit(f"unexpected failures: {failures[:3]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    n = args.articles
    items = articles(n)
    server = FakeModelServer().start()
    server.script = [events_reply([{"type": "mou", "sent": [2], "parties": ["Huayou"],
                                    "people": []}])]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        uncached = timed(items, server, False)
        first = timed(items, server, cache)
        requests = len(server.requests)
        cached = timed(items, server, cache)
        assert len(server.requests) == requests, "a cached re-run made HTTP requests"
    server.stop()
    lines = [
        f"# Throughput benchmark ({date.today().isoformat()})", "",
        f"Command: `python bench/extraction/throughput.py --articles {n}` · {n} articles of 2 "
        "to 4 kB "
        "(the seeds, each made unique) · fake model server on loopback that answers at once",
        "",
        "| pass | total s | ms / article | articles / s |",
        "| --- | --- | --- | --- |",
        f"| no cache (library overhead incl. loopback HTTP) | {uncached:.2f} | "
        f"{1000 * uncached / n:.2f} | {n / uncached:.1f} |",
        f"| first pass, filling the cache | {first:.2f} | {1000 * first / n:.2f} | "
        f"{n / first:.1f} |",
        f"| cached re-run (0 HTTP requests) | {cached:.2f} | {1000 * cached / n:.2f} | "
        f"{n / cached:.1f} |",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"throughput-{date.today().isoformat()}.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
