"""`newsie batch`: a corpus through a provider's Batch API, or vLLM's offline runner.

A thin layer over `newsie.batch`; `cli.py` registers it. Exit codes as `newsie extract`:
0 everything worked, 1 some articles failed (or a batch lost them), 2 a usage error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from . import batch as api
from .core.errors import ModelError, NewsieError

R = TypeVar("R")

batch_app = typer.Typer(
    help="Send articles through a provider's Batch API (half price, own rate limits), or "
    "write the request file for vLLM's offline runner and read its answers.",
    no_args_is_help=True,
)
err = Console(stderr=True, highlight=False)

Inputs = Annotated[list[Path], typer.Argument(help="Files, folders, .jsonl feeds.")]
Out = Annotated[Path, typer.Option(
    "--out", "-o", help="Results, as `newsie extract --out` writes them; the batch's state "
    "lies beside it.")]
BaseUrl = Annotated[str | None, typer.Option(help="OpenAI-compatible server with a Batch API.")]
Model = Annotated[str | None, typer.Option(help="Model name on that server.")]
TemplateDir = Annotated[Path | None, typer.Option(help="Your own prompt templates.")]
Keep = Annotated[bool, typer.Option(help="Keep events the text does not support, flagged.")]
Types = Annotated[list[str] | None, typer.Option(
    "--types", "-t", help="Event types to read (as for `newsie extract`).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Send even requests the answer "
                                                          "cache holds.")]
OUT = Path("results.jsonl")


def _say(message: str) -> None:
    err.print(message, markup=False, soft_wrap=True)


def _run(call: Callable[[], R]) -> R:
    """Usage errors as one line and exit 2; a server that failed as one line and exit 1."""
    try:
        return call()
    except ModelError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(1) from None
    except NewsieError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(2) from None


def _options(base_url: str | None, model: str | None, template_dir: Path | None,
             keep_ungrounded: bool, types: list[str] | None, no_cache: bool) -> dict[str, Any]:
    names = [n.strip() for v in types or [] for n in v.split(",") if n.strip()]
    return {"base_url": base_url, "model": model, "template_dir": template_dir,
            "keep_ungrounded": keep_ungrounded, "types": names or None, "cache": not no_cache}


def _sent(report: api.BatchReport) -> None:
    where = (f"batch {report.batch_id}" if report.batch_id
             else str(report.requests_file) if report.requests_file else "nothing to send")
    _say(f"{report.requests} requests, about {report.prompt_tokens:,} prompt tokens "
         f"(estimated): {where}")
    if report.written:
        _say(f"{report.written} articles needed no request (answer cache) and are in "
             f"{report.out}")


@batch_app.command()
def submit(inputs: Inputs, out: Out = OUT, base_url: BaseUrl = None, model: Model = None,
           template_dir: TemplateDir = None, keep_ungrounded: Keep = False,
           types: Types = None, no_cache: NoCache = False) -> None:
    """Upload one request per model request of the articles and start a batch.

    Run it again after a batch expired or failed: it sends only what is missing.
    """
    options = _options(base_url, model, template_dir, keep_ungrounded, types, no_cache)
    _sent(_run(lambda: api.submit(inputs, out=out, **options)))


@batch_app.command()
def prepare(inputs: Inputs, requests: Annotated[Path, typer.Option(
                help="The request file to write (JSONL, Batch API format).")],
            out: Out = OUT, base_url: BaseUrl = None, model: Model = None,
            template_dir: TemplateDir = None, keep_ungrounded: Keep = False,
            types: Types = None, no_cache: NoCache = False) -> None:
    """Write the request file without sending it, for vLLM's `run_batch`."""
    options = _options(base_url, model, template_dir, keep_ungrounded, types, no_cache)
    _sent(_run(lambda: api.prepare(inputs, requests=requests, out=out, **options)))


@batch_app.command()
def status(out: Out = OUT) -> None:
    """The batch's state and request counts."""
    report = _run(lambda: api.status(out))
    if report.batch_id is None:
        _say(f"{report.requests} requests wait in {report.requests_file}" if report.requests
             else f"no batch open for {out}")
        return
    counts = report.counts
    _say(f"batch {report.batch_id}: {report.status}; {counts.get('completed', 0)} of "
         f"{counts.get('total', 0)} requests done, {counts.get('failed', 0)} failed")


@batch_app.command()
def collect(out: Out = OUT, results: Annotated[Path | None, typer.Option(
                "--from", help="Read this results file (vLLM's run_batch output, or one "
                "downloaded from a provider) instead of the open batch's.")] = None) -> None:
    """Write the articles a finished batch answered; send what they still need."""
    report = _run(lambda: api.collect(out, results=results))
    if report.waiting:
        _say(f"batch {report.batch_id} is {report.status} "
             f"({report.counts.get('completed', 0)} of {report.counts.get('total', 0)} "
             "requests done): collect again later")
        return
    u = report.usage
    _say(f"{report.written} articles written to {out}, {report.failed} failed; "
         f"{u.total_tokens:,} tokens ({u.prompt_tokens:,} prompt, "
         f"{u.completion_tokens:,} completion)")
    if report.lost:
        _say(f"batch {report.batch_id} {report.status}: {len(report.lost)} articles lost "
             f"({', '.join(report.lost)}); run `newsie batch submit` with the same inputs and "
             "--out to send only those")
    elif report.requests:
        where = (f"batch {report.batch_id}" if report.requests_file is None
                 or report.batch_id else f"{report.requests_file}: run vLLM on it again, then "
                 "collect --from its output")
        _say(f"next round: {report.requests} requests, about {report.prompt_tokens:,} prompt "
             f"tokens (estimated): {where}")
    if report.failed or report.lost:
        raise typer.Exit(1)
