"""The embedded engine's speed: tokens/s, prompt-cache hits, articles per minute.

    python bench/model/engine.py ARTICLES_DIR [--concurrency 1 2] [--limit N]

Reads every `*.txt` in ARTICLES_DIR (or its `articles/`) by path, extracts each with the
embedded server (no answer cache: every article reaches the model) at each concurrency, and
writes `bench/results/engine-<date>.md`. Token rates come from llama.cpp's own `timings` in
each response; the cache-hit share is the part of all prompt tokens that the server's prompt
prefix cache served instead of computing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import openai

import newsie
from newsie.model import engine as _local

RESULTS = Path(__file__).resolve().parents[1] / "results"


@dataclass
class Timings:
    """llama.cpp's per-response `timings`, summed over a run."""

    prompt_n: int = 0
    prompt_ms: float = 0.0
    predicted_n: int = 0
    predicted_ms: float = 0.0
    cache_n: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, response: Any) -> None:
        """An HTTP response hook (the HTTP library is whichever openai uses)."""
        if not response.url.path.endswith("/chat/completions"):
            return
        response.read()
        t = json.loads(response.content).get("timings") or {}
        with self.lock:
            self.prompt_n += t.get("prompt_n", 0)
            self.prompt_ms += t.get("prompt_ms", 0.0)
            self.predicted_n += t.get("predicted_n", 0)
            self.predicted_ms += t.get("predicted_ms", 0.0)
            self.cache_n += t.get("cache_n", 0)


def run(articles: list[Path], concurrency: int, server: _local.EmbeddedServer) -> dict[str, float]:
    timings = Timings()
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0,
                           timeout=_local.REQUEST_TIMEOUT,
                           http_client=openai.DefaultHttpxClient(
                               event_hooks={"response": [timings.hook]}))
    started = time.monotonic()
    results = list(newsie.extract_many(articles, concurrency=concurrency, client=client,
                                       model=server.model, cache=False))
    seconds = time.monotonic() - started
    failed = [r for r in results if isinstance(r, newsie.Failure)]
    for f in failed:
        print(f"  failed: {f.source}: {f.message}", file=sys.stderr)
    seen = timings.prompt_n + timings.cache_n
    return {
        "articles": len(results), "failed": len(failed), "seconds": seconds,
        "per_minute": 60 * len(results) / seconds,
        "prompt_tps": 1000 * timings.prompt_n / max(timings.prompt_ms, 1e-9),
        # each slot's rate; slots decode side by side, so the server's rate is higher
        "gen_tps_slot": 1000 * timings.predicted_n / max(timings.predicted_ms, 1e-9),
        "gen_tps_server": timings.predicted_n / seconds,
        "cache_share": timings.cache_n / seen if seen else 0.0,
        "prompt_tokens": seen, "completion_tokens": timings.predicted_n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    folder = args.folder / "articles" if (args.folder / "articles").is_dir() else args.folder
    articles = sorted(folder.glob("*.txt"))[: args.limit]
    started = time.monotonic()
    server = _local.ensure_server()
    startup = time.monotonic() - started
    rows = {c: run(articles, c, server) for c in args.concurrency}
    lines = [
        f"# Embedded engine, {date.today()}",
        "",
        f"`python bench/model/engine.py {' '.join(sys.argv[1:])}`: {len(articles)} articles, "
        f"{_local.MODEL_NAME}, xllamacpp with {server.parallel} slots and {server.threads} "
        f"threads on {os.cpu_count()} cores; server start {startup:.1f} s; no answer cache.",
        "",
        "| concurrency | articles/min | s/article | prompt tok/s | gen tok/s per slot "
        "| gen tok/s server | prompt-cache share | prompt tokens | completion tokens | failed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, r in rows.items():
        lines.append(
            f"| {c} | {r['per_minute']:.2f} | {r['seconds'] / r['articles']:.1f} "
            f"| {r['prompt_tps']:.1f} | {r['gen_tps_slot']:.1f} | {r['gen_tps_server']:.1f} "
            f"| {r['cache_share']:.1%} | {r['prompt_tokens']} | {r['completion_tokens']} "
            f"| {r['failed']} |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"engine-{date.today()}.md"
    out.write_text(text)
    print(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
