"""Results out: one row per event (CSV, tables, DataFrames) and a resumable JSONL log."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..core.errors import ResultsFileError
from ..events import Event, Extraction, Failure, Kind, Money, Quantity, own_fields
from ..reading.article import identity_of

#: The same columns for every type: `quantity` and `value` hold an event's first quantity
#: and amount of money, whatever its fields are called; `fields` all of its own fields.
COLUMNS = ["source", "title", "published", "type", "summary", "parties", "people", "date",
           "location", "quantity", "value", "fields", "evidence_start", "evidence_end",
           "evidence"]


def _first(ev: Event, kind: Kind) -> str | None:
    value = next(iter(ev.fields_of(kind).values()), None)
    return value.text if isinstance(value, (Quantity, Money)) else None


def _words(value: Any) -> str:
    if isinstance(value, (Quantity, Money)):
        return value.text
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict) and "text" in value:
        return str(value["text"])
    return str(value)


def own_values(ev: Event) -> str:
    """'buyer: Acme; quantity: 5 GWh': the type's own filled fields, as written."""
    values = {name: getattr(ev, name) for name in own_fields(type(ev))}
    values.update(ev.model_extra or {})  # an UnknownEvent keeps its fields here
    return "; ".join(f"{name}: {_words(v)}" for name, v in values.items()
                     if v not in (None, [], "", {}))


def event_rows(results: Iterable[Extraction | Failure]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, Failure):
            continue
        for ev in result.events:
            rows.append({
                "source": result.source,
                "title": result.title,
                "published": result.published,
                "type": ev.type,
                "summary": ev.summary,
                "parties": "; ".join(p.name for p in ev.parties),
                "people": "; ".join(p.name for p in ev.people),
                "date": ev.date,
                "location": ev.location,
                "quantity": _first(ev, Kind.QUANTITY),
                "value": _first(ev, Kind.MONEY),
                "fields": own_values(ev),
                "evidence_start": ev.evidence[0].start if ev.evidence else None,
                "evidence_end": ev.evidence[-1].end if ev.evidence else None,
                "evidence": " … ".join(s.text for s in ev.evidence),
            })
    return rows


def to_csv(results: Iterable[Extraction | Failure]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(event_rows(results))
    return buffer.getvalue()


def error_line(failure: Failure) -> str:
    """'source: message', naming the source once even when the message starts with it."""
    return f"{failure.source}: {failure.message.removeprefix(failure.source + ': ')}"


def print_table(results: Iterable[Extraction | Failure], console: Console) -> None:
    """Per article, its name and then one row per event, sized to the console's width.

    Only type, date, summary and parties: the summary already says what and how much,
    and wraps at word boundaries instead of being cut.
    """
    for result in results:
        if isinstance(result, Failure):
            console.print(Text(f"error: {error_line(result)}", style="red"), overflow="fold")
            continue
        console.print(Text(result.source, style="bold"), overflow="fold")
        if not result.events:
            console.print("  (no events)")
        else:
            table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
            table.add_column("type", no_wrap=True)
            table.add_column("date", no_wrap=True)
            table.add_column("summary", ratio=3)
            table.add_column("parties", ratio=2)
            for ev in result.events:
                table.add_row(ev.type, ev.date or "", ev.summary,
                              "; ".join(p.name for p in ev.parties))
            console.print(table)


def to_dataframe(results: Iterable[Extraction | Failure]) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError("to_dataframe needs pandas: pip install 'newsie[pandas]'") from exc
    return pd.DataFrame(event_rows(results), columns=COLUMNS)


def parse_result(line: str) -> Extraction | Failure:
    """One line of `newsie extract` JSONL: an `Extraction`, or a `Failure` (an error record).

    Raises ValueError (pydantic's, or json's) for anything else.
    """
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return Extraction.model_validate(record) if "events" in record else Failure.model_validate(
        record)


def read_results(path: str | Path) -> list[Extraction | Failure]:
    """Every result in a `newsie extract` JSONL file: the one reader of such files.

    A line that is not a result raises `ResultsFileError` naming `file:line`.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFileError(f"{path}: cannot read results ({exc})") from exc
    results: list[Extraction | Failure] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                results.append(parse_result(line))
            except ValueError as exc:
                raise ResultsFileError(
                    f"{path}:{number}: not a newsie result line ({_first_line(exc)})"
                ) from None
    return results


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class JsonlLog:
    """An append-only JSONL file that an interrupted run can resume.

    Each result is one line, written and fsynced whole. On open, a torn last line (one
    without its newline: a killed process) and earlier error records are dropped, so failed
    articles are tried again. Any other line that is not a newsie record means the file is
    not ours: `ResultsFileError`, and the file is left as it was.
    `done` holds the identities (`source#sha256`, see `reading.article.identity`) of the articles
    already written: a result with one of them is not written again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        #: source -> (size, mtime_ns, identity) of the files done, as they were when read:
        #: a re-run knows an unchanged file without reading it (kept beside, `stamps_path`).
        self.stamps: dict[str, tuple[int, int, str]] = {}
        kept: list[str] = []
        if path.exists():
            try:
                content = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ResultsFileError(
                    f"{path}: not a newsie results file ({_first_line(exc)}); "
                    "--out resumes only a file `newsie extract` wrote") from None
            lines = content.splitlines()
            # only a last line without its newline was torn (by a killed process)
            torn = bool(content) and not content.endswith("\n")
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    result = parse_result(line)
                except ValueError as exc:
                    if torn and number == len(lines):  # written again by this run
                        continue
                    # a complete line that is not ours: refuse rather than rewrite the file
                    raise ResultsFileError(
                        f"{path}:{number}: not a newsie result line ({_first_line(exc)}); "
                        "--out resumes only a file `newsie extract` wrote"
                    ) from None
                key = identity_of(result)
                if isinstance(result, Extraction) and key not in self.done:
                    self.done.add(key)
                    kept.append(line)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text("".join(k + "\n" for k in kept), encoding="utf-8")
            os.replace(tmp, path)
            self.stamps = {k: v for k, v in _read_stamps(self.stamps_path).items()
                           if v[2] in self.done}
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, result: Extraction | Failure) -> bool:
        """Append `result`, unless its article is already in the log; True when written."""
        if isinstance(result, Extraction):
            key = identity_of(result)
            if key in self.done:
                return False
            self.done.add(key)
        self._file.write(result.model_dump_json() + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        return True

    @property
    def stamps_path(self) -> Path:
        return self.path.with_name(f".{self.path.name}.stamps.json")

    def close(self) -> None:
        """Close the log, and keep the stamps of its files for the next run."""
        self._file.close()
        stamps = {k: v for k, v in self.stamps.items() if v[2] in self.done}
        tmp = self.stamps_path.with_name(self.stamps_path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(stamps), encoding="utf-8")
            os.replace(tmp, self.stamps_path)
        except OSError:  # only a shortcut: the next run reads the files instead
            pass


def _read_stamps(path: Path) -> dict[str, tuple[int, int, str]]:
    """The stamps an earlier run kept; anything unreadable is no stamps (files are read)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): (int(v[0]), int(v[1]), str(v[2])) for k, v in value.items()}
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}
