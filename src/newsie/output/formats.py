"""Which format a results file is written in: the one asked for, else its name's suffix."""

from __future__ import annotations

from pathlib import Path

#: A file's suffix says its format (`--out events.csv` is CSV) unless `--format` says otherwise.
SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
                  ".parquet": "parquet"}
DEFAULT_FORMAT = "jsonl"


def format_for(out: Path | None, given: str | None) -> str:
    """`given` when the caller named one; else what `out`'s suffix says; else JSONL."""
    if given is not None:
        return given
    if out is None:
        return DEFAULT_FORMAT
    return SUFFIX_FORMATS.get(out.suffix.lower(), DEFAULT_FORMAT)
