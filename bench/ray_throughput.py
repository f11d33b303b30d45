"""newsie on Ray Data next to `newsie.extract_many`, against a fast local fake model server.

    python bench/ray_throughput.py [--articles 1000] [--server-rps 20] [--server-latency 8]

No model runs: the fake server answers at once, so what is timed is newsie's own work and
what Ray adds to it (actors, batches, Arrow rows). A local Ray with 2 CPUs runs 1, 2 and 4
actors; the serial runs (1 actor with 1 request in flight, `extract_many` with
concurrency 1) give the per-article overhead of the Ray path. The results file ends with a
4-node cluster in front of a vLLM server worked out on paper from those figures and the
stated server throughput. Writes `bench/results/ray-throughput-<date>.md`.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date

import ray
from throughput import RESULTS, ROOT, articles

import newsie
import newsie.ray

SMALL = 50  # a second, small run of each serial path separates start-up from per-article cost
OPTIONS = {"model": "fake", "cache": False}


def timed(run: Callable[[], list[str]], n: int) -> float:
    started = time.perf_counter()
    statuses = run()
    elapsed = time.perf_counter() - started
    if len(statuses) != n or set(statuses) != {"ok"}:
        raise SystemExit(f"expected {n} ok results, got {len(statuses)}: {set(statuses)}")
    return elapsed


def fake_server() -> tuple[subprocess.Popen[bytes], str]:
    """The fake model server in a process of its own, so neither path shares its GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakeserver.py"), str(port)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the fake model server did not start")


def in_process(texts: list[str], base_url: str, concurrency: int) -> float:
    def run() -> list[str]:
        results = newsie.extract_many(texts, concurrency=concurrency,
                                      base_url=base_url, **OPTIONS)
        return ["ok" if isinstance(r, newsie.Extraction) else "error" for r in results]
    return timed(run, len(texts))


def on_ray(texts: list[str], base_url: str, actors: int, in_flight: int) -> float:
    def run() -> list[str]:
        ds = ray.data.from_items([{"text": t} for t in texts])
        out = newsie.ray.extract_dataset(ds, actors=actors, requests_per_actor=in_flight,
                                         base_url=base_url, **OPTIONS).materialize()
        return [row["status"] for row in out.select_columns(["status"]).iter_rows()]
    return timed(run, len(texts))


def marginal(small: float, large: float, n: int) -> tuple[float, float]:
    """(start-up seconds, ms per article) from a run of SMALL and a run of n articles."""
    per_article = (large - small) / (n - SMALL)
    return small - SMALL * per_article, 1000 * per_article


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--server-rps", type=float, default=20.0,
                        help="assumed vLLM throughput, requests/s, for the on-paper cluster")
    parser.add_argument("--server-latency", type=float, default=8.0,
                        help="assumed seconds per request at that load")
    parser.add_argument("--node-cores", type=int, default=8)
    args = parser.parse_args()
    n = args.articles
    texts = [a.text for a in articles(n)]
    server, base_url = fake_server()
    load_before = os.getloadavg()[0]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False

    configs = [("`extract_many`", 1, 1), ("`extract_many`", 1, 4), ("Ray Data", 1, 1),
               ("Ray Data", 1, 4), ("Ray Data", 2, 4), ("Ray Data", 4, 4)]
    rows: list[tuple[str, int, int, float, float, float]] = []
    for engine, actors, flight in configs:
        small, full = (on_ray(items, base_url, actors, flight) if engine == "Ray Data"
                       else in_process(items, base_url, flight)
                       for items in (texts[:SMALL], texts))
        rows.append((engine, actors, flight, full, *marginal(small, full, n)))
    ray.shutdown()
    server.terminate()
    load_after = os.getloadavg()[0]

    local_ms, ray_start, ray_ms = rows[0][5], rows[2][4], rows[2][5]
    rps, latency, cores = args.server_rps, args.server_latency, args.node_cores
    newsie_rps = 4 * cores * 1000 / ray_ms  # every core of 4 nodes on newsie's own work
    cluster_rps = min(rps, newsie_rps)
    bottleneck = "the server" if rps <= newsie_rps else "newsie's own work on the cluster"
    nodes = math.ceil(rps * ray_ms / 1000 / cores)
    in_flight = math.ceil(rps * latency)  # Little's law: requests the server must hold
    per_actor = math.ceil(in_flight / (4 * 2))
    lines = [
        f"# Ray Data throughput ({date.today().isoformat()})", "",
        f"Command: `python bench/ray_throughput.py --articles {n}` · {n} articles of 2 to 4 kB "
        "(the seeds, each made unique), given as a text column · fake model server "
        "(`tests/fakeserver.py`, its own process) on loopback that answers at once (no "
        "model) · no cache · local Ray, `num_cpus=2`, "
        f"each actor reserving 0.5 CPU · {os.cpu_count()} cores, {platform.machine()}, "
        f"Ray {ray.__version__} · load average {load_before:.1f} before, "
        f"{load_after:.1f} after (the machine is shared with other work: indicative "
        "figures)", "",
        f"Each configuration ran twice, on {SMALL} and on {n} articles; the difference "
        "separates the start-up cost (for Ray: starting the actors, each of which imports "
        "newsie and builds its own client, once per run) from the steady cost per article.",
        "",
        "| engine | actors | requests in flight per actor | total s | articles / s | "
        "start-up s | steady articles / s | steady ms / article |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {engine} | {actors} | {flight} | {secs:.2f} | {n / secs:.1f} | "
              f"{start:.2f} | {1000 / ms:.1f} | {ms:.2f} |"
              for engine, actors, flight, secs, start, ms in rows]
    lines += [
        "", "## Per-article overhead of the Ray path", "",
        f"Serially (one request in flight), the Ray path costs {ray_ms:.2f} ms per article "
        f"against {local_ms:.2f} ms in process: {ray_ms - local_ms:+.2f} ms "
        f"({ray_ms / local_ms:.2f}x), plus {ray_start:.1f} s of start-up per run. "
        + ("No per-article cost of Ray shows above the noise of this shared machine: the "
           "actor works in a process of its own, while the in-process path shares its "
           "process with the caller. " if ray_ms <= local_ms else "")
        + "Against a real model, which takes seconds per article, both are small: what "
        "decides throughput is how many requests keep the server busy.",
        "", "## On paper: 4 nodes in front of a vLLM server", "",
        f"Assumption (not measured here): one vLLM server sustains **{rps:g} requests/s** at "
        f"about {latency:g} s per request under that load, for newsie's requests (about "
        "1,000 prompt and 200 completion tokens per article of 2 to 4 kB, the figures of "
        "`bench/results/quality-*-seeds.md`); a plausible figure for a 7-8B model on one "
        "H100-class GPU with continuous batching. Put your server's measured figure in "
        "`--server-rps` and `--server-latency`: the arithmetic is what matters.", "",
        f"- newsie's own work on the Ray path: {ray_ms:.1f} ms per article (an upper bound "
        "for one core: the serial figure includes the fake server's share of the same "
        f"cores and the machine's other load). 4 nodes of {cores} cores could feed about "
        f"**{newsie_rps:,.0f} articles/s**, so the bottleneck is {bottleneck}.",
        f"- Throughput: **min({rps:g}, {newsie_rps:,.0f}) = {cluster_rps:,.1f} articles/s**, "
        f"about {cluster_rps * 3600:,.0f} an hour: 300,000 articles (a year of industry "
        f"news) in about {300_000 / cluster_rps / 3600:.1f} h. An article over 6,000 "
        "characters takes one request per window.",
        f"- To keep the server full, about {rps:g} x {latency:g} = **{in_flight} requests** "
        "must be in flight (Little's law): for example 2 actors on each of the 4 nodes "
        f"with {per_actor} requests each (`actors=8, requests_per_actor={per_actor}`). "
        f"newsie's work for {rps:g} articles/s needs {rps * ray_ms / 1000:.1f} cores, "
        f"{nodes} node(s) of {cores}: more nodes add nothing until the server does.",
    ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ray-throughput-{date.today().isoformat()}.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
