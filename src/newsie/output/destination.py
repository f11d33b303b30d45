"""Where results go: the checks and the lock that keep `--out` from destroying anything.

Three rules, here and nowhere else:

- `--out` names a file in a folder that exists, and never one of the inputs (nor a file a
  folder input would read): writing it would destroy what is being read;
- only one newsie run writes a given `--out` at a time: a second one is refused at once,
  with a message naming the file, so no run appends to a copy that another replaced;
- a JSONL log is resumed only if every complete line is a newsie record (see `JsonlLog`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from ..core.errors import OutputFileError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def check_destination(
    out: Path, inputs: Iterable[Path] = (), *, read_suffixes: Iterable[str] = ()
) -> None:
    """Refuse an `out` that cannot be a results file, or that an input names.

    `read_suffixes`: the suffixes a folder input reads, so `--out DIR/x.txt` is refused
    when `DIR` is an input (the run would read what it writes).
    """
    if out.is_dir():
        raise OutputFileError(f"--out {out}: is a folder; name a file")
    if not out.parent.is_dir():
        raise OutputFileError(f"--out {out}: the folder {out.parent} does not exist")
    suffixes = {s.lower() for s in read_suffixes}
    for given in inputs:
        if str(given) == "-":
            continue
        if _same_file(out, given) or out.resolve() == given.resolve():
            raise OutputFileError(f"--out {out}: is also an input; name another file")
        if (given.is_dir() and out.suffix.lower() in suffixes
                and _same_file(out.parent, given)):
            raise OutputFileError(
                f"--out {out}: is inside the input folder {given}, which would read it")


def lock_path(out: Path) -> Path:
    """The lock beside `out`: hidden, and named after it."""
    return out.with_name(f".{out.name}.lock")


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold `out` for this run; another run that holds it makes this one refuse at once."""
    lock = FileLock(str(lock_path(out)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputFileError(
            f"--out {out}: another newsie run is writing it; wait for it to end "
            "(or use another --out)") from None
    except OSError as exc:
        raise OutputFileError(f"--out {out}: cannot lock it ({exc.strerror or exc})") from None
    try:
        yield
    finally:  # the lock file stays: removing it would let two runs lock two files
        lock.release()
