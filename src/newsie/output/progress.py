"""Progress while a batch runs: rich at a terminal (the CLI), tqdm.auto in a notebook
(`extract_many`), nothing when no one watches (piped, logged, `--quiet`)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..events import Extraction, Failure
from ..extraction.batch import folder_articles
from ..model import engine
from ..reading.article import source_name, source_of
from ..reading.feed import is_feed

STARTING = "starting the embedded model"
R = TypeVar("R")


def in_notebook() -> bool:
    """Running in a Jupyter kernel (IPython's, not a terminal IPython)."""
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def interactive() -> bool:
    """Someone watches: a notebook, or stderr is a terminal."""
    return in_notebook() or sys.stderr.isatty()


@contextlib.contextmanager
def engine_start(say: Any) -> Iterator[None]:
    """Call `say(True)` while the embedded model loads and `say(False)` once it is up."""
    engine.start_listeners.append(say)
    try:
        yield
    finally:
        engine.start_listeners.remove(say)


def _name(source: str) -> str:
    return Path(source).name or source


class BatchProgress:
    """The CLI's bar on stderr: done/total, elapsed, ETA, and the article it waits for (or
    that the embedded model is starting). Disabled, it prints nothing but what is printed
    through `console`."""

    def __init__(self, console: Console, sources: list[str], *, enabled: bool) -> None:
        self.enabled = enabled
        self._sources = sources
        self._done = 0
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
            TimeRemainingColumn(), console=console, disable=not enabled, transient=True)
        self._task = self._bar.add_task(self._waiting_for(), total=len(sources))
        self._stack = contextlib.ExitStack()

    @property
    def console(self) -> Console:
        return self._bar.console

    def _waiting_for(self) -> str:
        if self._done < len(self._sources):
            return _name(self._sources[self._done])
        return "done"

    def _starting(self, starting: bool) -> None:
        self._bar.update(self._task, description=STARTING if starting else self._waiting_for())

    def advance(self, result: Extraction | Failure) -> None:
        self._done += 1
        self._bar.update(self._task, advance=1, description=self._waiting_for())

    def __enter__(self) -> BatchProgress:
        if self.enabled:  # rich<14 prints a blank line for a disabled Progress
            self._stack.enter_context(self._bar)
        self._stack.enter_context(engine_start(self._starting))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()


def planned_names(inputs: Iterable[Path], done: Iterable[str] = ()) -> list[str]:
    """What the bar counts and names, from folder listings and line counts alone: nothing
    is read or cleaned before the first request. Inputs whose source a resumed run has done
    (`done`: identities) are left out, so the ETA is that of the work left."""
    finished = {identity.rpartition("#")[0] for identity in done}
    names: list[str] = []
    for path in inputs:
        if path.is_dir():
            names += [e.source if isinstance(e, Failure) else source_name(e)
                      for e in folder_articles(path)]
        elif is_feed(path) and path.is_file():
            with path.open("rb") as lines:
                names += [f"{source_name(path)}:{n}" for n, line in enumerate(lines, 1)
                          if line.strip()]
        else:
            names.append(source_of(path) if path.is_file() else str(path))
    return [n for n in names if n not in finished]


def stopped(done: int, total: int, out: Path | None, resumable: bool) -> str:
    """What Ctrl-C leaves behind, and how to go on from there."""
    kept = f"{done} of {total} articles done"
    if resumable:
        return (f"stopped: {kept}, saved in {out}; run the same command again to resume "
                "(the articles done are skipped)")
    return (f"stopped: {kept}, written; with --out FILE.jsonl a run resumes where it "
            "stopped")


def track(results: Iterable[R], *, total: int | None = None,
          show: bool | None = None) -> Iterator[R]:
    """`results` as they come, under a `tqdm.auto` bar (a widget in a notebook) that names
    each finished article and says when the embedded model is starting. `show=None`: only
    when someone watches (`interactive`)."""
    if not (interactive() if show is None else show):
        yield from results
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="article", desc="extracting") as bar:

        def starting(now: bool) -> None:
            bar.set_description(STARTING if now else "extracting")

        stream = iter(results)
        try:
            with engine_start(starting):
                for result in stream:
                    source = getattr(result, "source", None)
                    bar.set_postfix_str(_name(source) if isinstance(source, str) else "")
                    bar.update(1)
                    yield result
        finally:  # the caller stopped: the batch stops too, at once (see `run_many`)
            close = getattr(stream, "close", None)
            if close is not None:
                close()
