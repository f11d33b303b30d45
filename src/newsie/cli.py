"""`newsie` at a terminal: a thin layer over the library API.

Exit codes: 0 everything worked, 1 some articles failed, 2 a usage error.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import newsie

from ._article import ArticleInput
from ._export import print_table, to_csv
from .events import Extraction, Failure

app = typer.Typer(
    help="Typed, grounded business events (visit, mou, order, meeting) from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Typed, grounded business events (visit, mou, order, meeting) from news articles."""


class Format(str, Enum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    table = "table"


def _read_stdin() -> str:
    return sys.stdin.buffer.read().decode("utf-8", errors="replace")


@app.command()
def extract(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, or - for stdin.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.jsonl,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name on that server.")] = None,
    template_dir: Annotated[Path | None, typer.Option(help="Your own prompt templates.")] = None,
    keep_ungrounded: Annotated[
        bool, typer.Option(help="Keep events the text does not support, flagged.")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Articles in flight at once.")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Extract events from articles: one result (or error record) per input."""
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    items: list[ArticleInput] = [
        newsie.Article(text=_read_stdin(), source="<stdin>") if i == "-" else i for i in inputs
    ]
    missing = [i for i in items if isinstance(i, str) and not Path(i).exists()]
    if missing:
        err.print(f"error: no such file or folder: {missing[0]}")
        raise typer.Exit(2)
    started = time.monotonic()
    try:
        stream = newsie.extract_many(
            items, concurrency=concurrency, base_url=base_url, model=model,
            template_dir=template_dir, keep_ungrounded=keep_ungrounded,
        )
    except newsie.NewsieError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None
    results: list[Extraction | Failure] = []
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for result in stream:
            results.append(result)
            if isinstance(result, Failure):
                err.print(f"error: {result.source}: {result.message}",
                          markup=False, highlight=False)
            if fmt is Format.jsonl:
                sink.write(result.model_dump_json() + "\n")
                sink.flush()
        if fmt is Format.json:
            sink.write("[" + ",\n".join(r.model_dump_json() for r in results) + "]\n")
        elif fmt is Format.csv:
            sink.write(to_csv(results))
        elif fmt is Format.table:
            print_table(results, Console(file=sink, width=160))
    finally:
        if out:
            sink.close()
    if not quiet:
        _summary(results, time.monotonic() - started)
    if any(isinstance(r, Failure) for r in results):
        raise typer.Exit(1)


def _summary(results: list[Extraction | Failure], seconds: float) -> None:
    done = [r for r in results if isinstance(r, Extraction)]
    failed = len(results) - len(done)
    types = Counter(ev.type for r in done for ev in r.events)
    tokens = sum(r.usage.total_tokens for r in done)
    by_type = ", ".join(f"{k} {v}" for k, v in sorted(types.items())) or "none"
    err.print(
        f"{len(done)} articles done, {failed} failed; events: {by_type}; "
        f"{tokens:,} tokens; {seconds:.1f}s",
        highlight=False,
    )


def main() -> None:
    app()
