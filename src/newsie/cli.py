"""`newsie` at a terminal: a thin layer over the library API.

Exit codes: 0 everything worked, 1 some articles failed, 2 a usage error, 130 Ctrl-C.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

import newsie

from .cli_batch import batch_app
from .core.errors import CacheWarning, DateError, OutputFileError, ResultsFileError
from .events import Extraction, Failure, LinkedEvent
from .extraction.batch import (
    ARTICLE_SUFFIXES,
    Item,
    SkipDone,
    expand_inputs,
    load_or_fail,
    run_many,
)
from .extraction.registry import resolve_types
from .model.cache import ResponseCache
from .output.destination import check_destination, locked
from .output.export import (
    JsonlLog,
    error_line,
    print_table,
    read_results,
    table_console,
    to_csv,
)
from .output.formats import format_for
from .output.progress import BatchProgress, planned_names, stopped
from .reading.article import MAX_INPUT_BYTES, source_name
from .reading.dates import parse_published
from .reading.feed import is_feed

app = typer.Typer(
    help="Typed, grounded business events (visit, mou, order, meeting, or your own types) "
    "from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect or clear the cache of model answers.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
app.add_typer(batch_app, name="batch")
err = Console(stderr=True, highlight=False)


class Format(str, Enum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    table = "table"
    parquet = "parquet"


class Engine(str, Enum):
    local = "local"
    ray = "ray"


@app.callback()
def _root() -> None:
    """Typed, grounded business events (visit, mou, order, meeting, or your own types)
    from news articles."""
    # instructor logs each failed attempt; the CLI reports each failure once, itself.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)


def _usage_error(message: str) -> typer.Exit:
    err.print(f"error: {message}", markup=False, soft_wrap=True)  # one line, for grep
    return typer.Exit(2)


def _check_exists(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and not _is_stdin(path) and not path.exists():
            raise _usage_error(f"no such file or folder: {path}")


def _is_stdin(path: Path) -> bool:
    return str(path) == "-"


@app.command()
def extract(
    inputs: Annotated[list[Path], typer.Argument(
        help="Files, folders, .jsonl feeds (one article a line), or - for stdin.")],
    fmt: Annotated[Format | None, typer.Option(
        "--format", "-f", help="Output format (parquet: with --engine ray). Default: from "
        "--out's suffix (.jsonl .json .csv .parquet), else jsonl.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write here. With jsonl, a re-run resumes: done articles are skipped."
    )] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name on that server.")] = None,
    template_dir: Annotated[Path | None, typer.Option(help="Your own prompt templates.")] = None,
    keep_ungrounded: Annotated[
        bool, typer.Option(help="Keep events the text does not support, flagged.")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Articles in flight at once.")] = 1,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Always ask the model.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    engine: Annotated[Engine, typer.Option(
        help="local: in this process. ray: on Ray Data (RAY_ADDRESS, or a local Ray).")
    ] = Engine.local,
    actors: Annotated[int, typer.Option(
        min=1, help="With --engine ray: actors, each with --concurrency requests in flight.")
    ] = 2,
    types: Annotated[list[str] | None, typer.Option(
        "--types", "-t", help="Event types to read. Names (order,mou) read only those; "
        "module:Name adds a type of your own. Repeat it or separate by commas.")
    ] = None,
    published: Annotated[str | None, typer.Option(
        help="Publication date of the one article given (relative dates resolve against it)."
    )] = None,
) -> None:
    """Extract events from articles: one result (or error record) per input."""
    _check_exists(*inputs, template_dir)
    fmt = Format(format_for(out, fmt.value if fmt is not None else None))
    chosen = _types_option(types)
    if engine is Engine.ray:
        if published is not None:
            raise _usage_error("--published is for one article, not --engine ray")
        _extract_ray(inputs, fmt, out, actors, concurrency, quiet, base_url=base_url,
                     model=model, template_dir=template_dir, keep_ungrounded=keep_ungrounded,
                     cache=not no_cache, **chosen)
        return
    if fmt is Format.parquet:
        raise _usage_error("--format parquet needs --engine ray")
    day = _published(published, inputs)
    if out is not None:
        _check_out(out, inputs, read_suffixes=ARTICLE_SUFFIXES)
    started = time.monotonic()
    with _holding(out), _extractor(
            base_url=base_url, model=model, template_dir=template_dir,
            keep_ungrounded=keep_ungrounded, cache=not no_cache, types=chosen.get("types"),
    ) as extractor:
        results, skip = _extract_local(inputs, fmt, out, day, concurrency, quiet, extractor)
    if skip is not None and skip.skipped and not quiet:
        err.print(f"resumed {out}: {skip.skipped} articles already done", markup=False,
                  soft_wrap=True)
    if not quiet:
        _summary(results, time.monotonic() - started)
    if any(isinstance(r, Failure) for r in results):
        raise typer.Exit(1)


def _extractor(**options: Any) -> newsie.Extractor:
    """The library's `Extractor`; options it cannot honour are a usage error."""
    try:
        return newsie.Extractor(**options)
    except newsie.NewsieError as exc:
        raise _usage_error(str(exc)) from None


def _check_out(out: Path, inputs: list[Path], read_suffixes: Any = ()) -> None:
    try:
        check_destination(out, inputs, read_suffixes=read_suffixes)
    except OutputFileError as exc:
        raise _usage_error(str(exc)) from None


@contextlib.contextmanager
def _holding(out: Path | None) -> Iterator[None]:
    """The lock on `--out` for the whole run (none without `--out`)."""
    with contextlib.ExitStack() as stack:
        if out is not None:
            try:
                stack.enter_context(locked(out))
            except OutputFileError as exc:
                raise _usage_error(str(exc)) from None
        yield


def _extract_local(
    inputs: list[Path], fmt: Format, out: Path | None, day: str | None, concurrency: int,
    quiet: bool, extractor: newsie.Extractor,
) -> tuple[list[Extraction | Failure], SkipDone | None]:
    """Inputs streamed: each is read when the batch wants it, while the model answers.
    (The caller closes `extractor`.)"""
    items: Iterator[Item] = expand_inputs([_stdin(day) if _is_stdin(i) else i for i in inputs])
    if day is not None:
        first = list(itertools.islice(items, 2))
        if len(first) != 1:
            given = len(inputs) if len(inputs) > 1 else "several" if first else 0
            raise _usage_error(f"--published is for one article; {given} were given")
        items = iter([load_or_fail(first[0], published=day)])
    try:
        log = JsonlLog(out) if out and fmt is Format.jsonl else None
    except ResultsFileError as exc:
        raise _usage_error(str(exc)) from None
    skip = SkipDone(log.done, log.stamps) if log is not None else None
    stream = run_many(extractor, skip(items) if skip else items, concurrency)
    results: list[Extraction | Failure] = []
    sink = sys.stdout if out is None or log is not None else out.open("w", encoding="utf-8")
    names = planned_names(inputs, log.done if log is not None else ())
    progress = BatchProgress(err, names, enabled=err.is_terminal and not quiet)
    interrupted = False
    try:
        with progress:
            try:
                for result in stream:
                    results.append(result)
                    progress.advance(result)
                    if isinstance(result, Failure):
                        progress.console.print(f"error: {error_line(result)}", markup=False,
                                               soft_wrap=True)
                    if log is not None:
                        if log.write(result) and skip is not None and \
                                result.source in skip.fresh:
                            log.stamps[result.source] = skip.fresh[result.source]
                    elif fmt is Format.jsonl:
                        sink.write(result.model_dump_json() + "\n")
                        sink.flush()
            except KeyboardInterrupt:  # Ctrl-C: write what is done, below, and stop
                interrupted = True
        if fmt is Format.json:
            sink.write("[" + ",\n".join(r.model_dump_json() for r in results) + "]\n")
        elif fmt is Format.csv:
            sink.write(to_csv(results))
        elif fmt is Format.table:
            print_table(results, table_console(sink))
    finally:
        if log is not None:
            log.close()
        elif sink is not sys.stdout:
            sink.close()
    if interrupted:
        err.print(stopped(len(results), len(names), out, log is not None), markup=False,
                  soft_wrap=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)  # at once: Python's exit would wait for the generation under way
    return results, skip


def _types_option(values: list[str] | None) -> dict[str, list[str]]:
    """`--types order,mou --types pkg.mod:Investment` as `types=` (nothing when not given);
    a name or path that is no type is a usage error here, before any article is read."""
    if not values:
        return {}
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    try:
        resolve_types(names)
    except newsie.NewsieError as exc:
        raise _usage_error(str(exc)) from None
    return {"types": names}


def _extract_ray(
    inputs: list[Path], fmt: Format, out: Path | None, actors: int, concurrency: int,
    quiet: bool, **options: Any,
) -> None:
    """Ray Data writes a folder of JSONL or Parquet files; a re-run skips the ids done."""
    if out is None or out.is_file() or fmt not in (Format.jsonl, Format.parquet):
        raise _usage_error("--engine ray writes --out FOLDER with --format jsonl or parquet")
    if any(_is_stdin(i) or is_feed(i) for i in inputs):
        raise _usage_error("--engine ray reads files and folders, not stdin or .jsonl feeds")
    try:
        import ray

        from . import ray as on_ray
    except ImportError as exc:
        raise _usage_error(str(exc)) from None
    paths: list[str] = []  # absolute: nodes have other cwds
    unread: list[Failure] = []  # a folder with no article, one that cannot be listed
    for item in expand_inputs(inputs):
        if isinstance(item, Failure):
            unread.append(item)
        elif isinstance(item, newsie.Article):
            raise _usage_error(f"--engine ray reads one article per file, and {item.source} "
                               "is a post of a WordPress list: read it without --engine ray")
        elif not isinstance(item, (str, bytes)):  # inputs here are paths
            paths.append(source_name(Path(item)))
    started = time.monotonic()
    if not ray.is_initialized():
        ray.init(log_to_driver=not quiet)
    ray.data.DataContext.get_current().enable_progress_bars = err.is_terminal and not quiet
    done = on_ray.done_ids(out, fmt.value)
    if done and not quiet:
        err.print(f"resuming {out}: {len(done)} articles already done", markup=False,
                  soft_wrap=True)
    try:
        results = on_ray.extract_dataset(
            ray.data.from_items([{"path": p} for p in paths]), path_column="path",
            actors=actors, requests_per_actor=concurrency, skip_ids=done, **options,
        )
    except (newsie.NewsieError, ValueError) as exc:
        raise _usage_error(str(exc)) from None
    on_ray.write_results(results, out, fmt.value)
    rows = on_ray.read_results(out, fmt.value)
    status = rows.select_columns(["id", "status", "source", "message"]).take_all() if rows else []
    done = {r["id"] for r in status if r["status"] == "ok"}
    failed = {r["id"]: r for r in status if r["id"] not in done}
    for row in failed.values():
        err.print(f"error: {row['source']}: {row['message']}", markup=False, soft_wrap=True)
    for failure in unread:
        err.print(f"error: {error_line(failure)}", markup=False, soft_wrap=True)
    if not quiet:
        err.print(f"{out}: {len(done)} articles done, {len(failed) + len(unread)} failed; "
                  f"{time.monotonic() - started:.1f}s", markup=False, soft_wrap=True)
    if failed or unread:
        raise typer.Exit(1)


def _published(value: str | None, inputs: list[Path]) -> str | None:
    """`--published` as an ISO day, for one article (a feed's lines carry their own)."""
    if value is None:
        return None
    if any(is_feed(i) for i in inputs):
        raise _usage_error("--published is for one article; a feed gives `published` per line")
    try:
        return parse_published(value)
    except DateError as exc:
        raise _usage_error(str(exc)) from None


def _stdin(published: str | None) -> newsie.Article:
    try:  # a stream has no size: one byte over the limit is enough to refuse it
        raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        return newsie.load_article(raw, source="<stdin>", published=published,
                                   max_bytes=MAX_INPUT_BYTES)
    except newsie.ArticleError as exc:
        err.print(f"error: <stdin>: {str(exc).removeprefix('<stdin>: ')}", markup=False,
                  soft_wrap=True)
        raise typer.Exit(1) from None


def _summary(results: list[Extraction | Failure], seconds: float) -> None:
    s = newsie.summarize(results)
    by_type = ", ".join(f"{k} {v}" for k, v in s.events.items() if v) or "none"
    served = sorted({f"{r.model} @ {r.endpoint}" for r in results if isinstance(r, Extraction)})
    err.print(
        f"{s.done} articles done, {s.failed} failed, {s.cached} cached; events: {by_type}; "
        f"{s.usage.total_tokens:,} tokens ({s.usage.prompt_tokens:,} prompt, "
        f"{s.usage.completion_tokens:,} completion); {seconds:.1f}s"
        + (f"; model {', '.join(served)}" if served else ""),
        markup=False, soft_wrap=True,
    )


def _read_results(path: Path) -> list[Extraction | Failure]:
    try:
        return read_results(path)
    except ResultsFileError as exc:
        raise _usage_error(str(exc)) from None


def _read_linked(path: Path) -> list[LinkedEvent]:
    try:
        return [LinkedEvent.model_validate_json(line)
                for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except ValueError as exc:
        raise _usage_error(f"{path}: not a `newsie link` JSONL file ({exc})") from None


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="JSONL written by `newsie extract`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML page to write.")] = Path(
        "report.html"),
    title: Annotated[str, typer.Option(help="Page title.")] = "newsie report",
    linked: Annotated[Path | None, typer.Option(
        help="Timeline from this `newsie link` JSONL instead of linking the results.")] = None,
    aliases: Annotated[Path | None, typer.Option(
        help="Alias file for linking, as `newsie link --aliases` takes it.")] = None,
) -> None:
    """Write one self-contained HTML page: evidence, event table, timeline per organization."""
    _check_exists(results, linked, aliases)
    _check_out(out, [p for p in (results, linked, aliases) if p is not None])
    if linked is not None and aliases is not None:
        raise _usage_error("--aliases is for linking the results; --linked is linked already")
    try:
        newsie.write_report(_read_results(results), out, title,
                            _read_linked(linked) if linked else None, aliases=aliases)
    except newsie.AliasFileError as exc:
        raise _usage_error(str(exc)) from None
    err.print(f"wrote {out}", markup=False)


@app.command()
def link(
    results: Annotated[Path, typer.Argument(help="JSONL written by `newsie extract`.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the linked events here (JSONL); default stdout.")] = None,
    aliases: Annotated[Path | None, typer.Option(
        help='Alias file: JSON {"Canonical": ["alias", ...]} (or {"aliases": [...], '
             '"parent": "Parent"}) or CSV canonical,alias,...')] = None,
    date_window_days: Annotated[int, typer.Option(
        min=0, help="Dates further apart never link; an undated event happened within "
                    "this many days before its article's publication.")] = 7,
) -> None:
    """Merge the events that report the same occurrence across articles: one line each."""
    _check_exists(results, aliases)
    if out is not None:
        _check_out(out, [p for p in (results, aliases) if p is not None])
    try:
        linked = newsie.link(_read_results(results), aliases=aliases,
                             date_window_days=date_window_days)
    except (newsie.AliasFileError, ImportError) as exc:
        raise _usage_error(str(exc)) from None
    except UnicodeDecodeError as exc:  # an aliases file in another encoding
        raise _usage_error(f"{aliases}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                           "save the aliases file as UTF-8") from None
    lines = "".join(event.model_dump_json() + "\n" for event in linked)
    if out is None:
        sys.stdout.write(lines)
    else:
        out.write_text(lines, encoding="utf-8")
    merged = sum(len(e.sources) > 1 for e in linked)
    err.print(f"{len(linked)} linked events ({merged} reported more than once)"
              + (f"; wrote {out}" if out else ""), markup=False)


@app.command("eval")
def eval_(
    gold: Annotated[Path, typer.Argument(help="Gold JSONL (format of seeds/gold.jsonl).")],
    predictions: Annotated[
        Path | None, typer.Option(help="Score this saved `newsie extract` JSONL instead.")
    ] = None,
    articles: Annotated[Path | None, typer.Option(help="Folder with <id>.txt articles.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name on that server.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the score as JSON.")] = False,
) -> None:
    """Score extraction against gold events: per-type and micro P/R/F1, field agreement.

    Exits 1 when any article failed (named on stderr): those are left out of the score.
    """
    _check_exists(gold, predictions, articles)
    try:
        score = newsie.evaluate(gold, predictions=predictions, articles=articles,
                                base_url=base_url, model=model)
    except (newsie.NewsieError, FileNotFoundError, ValueError, KeyError) as exc:
        raise _usage_error(str(exc)) from None
    typer.echo(score.model_dump_json(indent=2) if as_json else score.to_text())
    if score.failed:
        err.print(f"error: {len(score.failed)} of {score.articles + len(score.failed)} "
                  "articles failed and are not in the score:", markup=False)
        for article, error in score.failed.items():
            err.print(f"  {article}: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


@cache_app.command("info")
def cache_info() -> None:
    """Where the cache is, and how much it holds."""
    cache = _open_cache()
    if cache.problem:
        typer.echo(f"{cache.directory}: unusable ({cache.problem}); `newsie cache clear` "
                   "resets a corrupt one")
    else:
        typer.echo(f"{cache.directory}: {len(cache)} answers, {cache.volume() / 1e6:.1f} MB")
    cache.close()


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached model answer (a corrupt cache is reset)."""
    cache = _open_cache()
    try:
        removed = cache.clear()
    except OSError as exc:
        err.print(f"error: cannot clear the cache at {cache.directory}: {exc}", markup=False,
                  soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        cache.close()
    typer.echo(f"removed {removed} answers from {cache.directory}")


def _open_cache() -> ResponseCache:
    with warnings.catch_warnings():  # these commands report the problem themselves
        warnings.simplefilter("ignore", CacheWarning)
        return ResponseCache()


def main() -> None:
    app()
