"""Start-up time: `import newsie`, `newsie --help` and a cached `newsie extract seeds/`.

    python bench/startup.py --label "after" [--runs 5]

Each command runs `--runs` times in a fresh interpreter (median wall time), then once under
`python -X importtime` to name the heaviest imports. The cached run first fills a scratch
cache from the fake model server in `tests/fakeserver.py`, so no model runs and what is
timed is start-up, imports and the cache. Appends a section to
`bench/results/startup-<date>.md`.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
SEEDS = str(ROOT / "seeds")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str], importtime: bool = False) -> tuple[float, str]:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), *args]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr[-2000:]}")
    return elapsed, proc.stderr


def _heaviest(importtime_log: str, n: int = 6) -> list[tuple[str, float]]:
    """Third-party packages by cumulative import time (ms); nested ones count in both."""
    total: dict[str, float] = {}
    for line in importtime_log.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| *(\S+)$", line)
        if m and "." not in m.group(2) and m.group(2) not in sys.stdlib_module_names:
            total[m.group(2)] = int(m.group(1)) / 1000
    total.pop("newsie", None)
    return sorted(total.items(), key=lambda kv: -kv[1])[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    port = _free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakeserver.py"), str(port)])
    cache = tempfile.mkdtemp(prefix="newsie-startup-")
    env = {**os.environ, "NEWSIE_CACHE_DIR": cache, "PYTHONPATH": str(ROOT / "src"),
           "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "OPENAI_API_KEY": "unused"}
    cli = ["-m", "newsie"]
    commands = {
        "import newsie": ["-c", "import newsie"],
        "newsie --help": [*cli, "--help"],
        "newsie extract seeds/ (cached)": [*cli, "extract", SEEDS, "-q"],
    }
    try:
        time.sleep(0.5)
        _run(commands["newsie extract seeds/ (cached)"], env)  # fill the cache
        lines = [f"\n## {args.label}\n", f"Python {sys.version.split()[0]}, median of "
                 f"{args.runs} runs in fresh interpreters.\n",
                 "| command | median wall (s) | heaviest imports (cumulative ms) |",
                 "| --- | --- | --- |"]
        for name, argv in commands.items():
            times = [_run(argv, env)[0] for _ in range(args.runs)]
            _, log = _run(argv, env, importtime=True)
            heavy = ", ".join(f"{mod} {ms:.0f}" for mod, ms in _heaviest(log))
            lines.append(f"| `{name}` | {statistics.median(times):.2f} | {heavy} |")
    finally:
        server.terminate()
        server.wait()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"startup-{date.today().isoformat()}.md"
    if not out.exists():
        out.write_text("# Start-up time\n\nWritten by `python bench/startup.py --label ...`.\n")
    with out.open("a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
