"""newsie on Ray Data: a corpus spread over a cluster, against any OpenAI-compatible fleet.

>>> import ray, newsie.ray
>>> ds = ray.data.read_parquet("articles/")                      # a `text` column
>>> out = newsie.ray.extract_dataset(ds, base_url="http://vllm:8000/v1", model="qwen",
...                                  actors=8, requests_per_actor=8)
>>> newsie.ray.write_results(out, "events/")                     # Parquet, Ray's own writer

Each actor builds its own `Extractor` (and openai client) in `__init__`, so only options
travel. Every input row ends as one output row, `status` "ok" or "error" (see `SCHEMA`);
its `id` is the article's identity (`Article.identity`: its source, which is the id column,
the absolute path or `text:<hash>`, and the sha256 of its cleaned text), so `done_ids` lets a
re-run skip what an earlier run finished, while rows that failed, and articles whose text
changed, are tried again. The text column is always text, never a file name: files go in a
path column.

An id is extracted at most once in a run, whichever actor meets it first (a `Claims` actor
keeps the ids taken): a row that repeats one (a page crawled twice) becomes an error row,
`DuplicateArticle`, so an id never has two "ok" rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal

try:
    import pyarrow as pa
    import pyarrow.fs as pafs
    import ray
    import ray.data
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError("newsie.ray needs Ray Data: pip install 'newsie-events[ray]'") from exc

from .events import Extraction, Failure
from .extraction.batch import failure, run_many
from .extraction.extractor import Extractor
from .extraction.registry import portable
from .model.endpoint import Endpoint
from .reading.article import Article, identity, load_article
from .reading.dates import parse_published

__all__ = [
    "SCHEMA", "done_ids", "extract_dataset", "read_results", "to_result", "write_results",
]

Format = Literal["parquet", "jsonl"]

#: One row per input article. `events` and `extraction` are JSON text (the shape of
#: `Extraction.events` and of `Extraction`), so the table stays flat for Parquet and SQL.
SCHEMA = pa.schema([
    ("id", pa.string()),           # Article.identity: "<source>#<sha256 of the cleaned text>"
    ("source", pa.string()),       # the absolute path, the id column, or "text:<hash>"
    ("status", pa.string()),       # "ok" or "error"
    ("error", pa.string()),        # error class name, e.g. "ServerError" (errors only)
    ("message", pa.string()),      # what went wrong (errors only)
    ("title", pa.string()),
    ("published", pa.string()),
    ("model", pa.string()),
    ("event_count", pa.int64()),
    ("events", pa.string()),       # JSON array of events
    ("total_tokens", pa.int64()),
    ("extraction", pa.string()),   # the whole Extraction as JSON (ok rows only)
])


class Claims:
    """The ids taken in one run, shared by its actors (as a Ray actor): the first to claim
    an id extracts it."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, ids: list[str]) -> list[bool]:
        """For each id, whether this caller is the first to ask (a repeat in `ids` too)."""
        won = []
        for key in ids:
            won.append(key not in self._taken)
            self._taken.add(key)
        return won


def _claim(claims: Any, ids: list[str]) -> list[bool]:
    """Ask `claims`: a local `Claims`, or the handle of one running as a Ray actor."""
    if not ids:
        return []
    if isinstance(claims, Claims):
        return claims.claim(ids)
    return list(ray.get(claims.claim.remote(ids)))


def _duplicate(article: Article) -> Failure:
    return Failure(source=article.source, error="DuplicateArticle",
                   message=f"the same article as an earlier row of this run "
                           f"(id {article.identity}); extracted once")


class ExtractBatch:
    """The `map_batches` stage: one per actor, holding its own `Extractor` and client."""

    def __init__(
        self,
        *,
        text_column: str,
        path_column: str | None,
        id_column: str | None,
        published_column: str | None,
        requests_per_actor: int,
        skip_ids: frozenset[str],
        options: dict[str, Any],
        claims: Any = None,
    ) -> None:
        self.extractor = Extractor(**options)
        self.claims = claims if claims is not None else Claims()
        self.text_column = text_column
        self.path_column = path_column
        self.id_column = id_column
        self.published_column = published_column
        self.requests = requests_per_actor
        self.skip = skip_ids

    def __call__(self, batch: pa.Table) -> pa.Table:
        _check_columns(batch.column_names, self.path_column or self.text_column,
                       self.id_column, self.published_column)
        rows: list[dict[str, Any]] = []
        todo: list[tuple[str, Article]] = []
        for record in batch.to_pylist():
            given = record.get(self.id_column) if self.id_column else None
            source = None if given is None else str(given)
            # a path column names files; the text column is text, whatever it looks like
            data: Path | str | bytes = (
                Path(record[self.path_column] or "") if self.path_column
                else record[self.text_column] or ""
            )
            try:
                article = load_article(
                    data, source=source, published=_day(record.get(self.published_column or "")),
                    max_bytes=self.extractor.max_bytes, max_chars=self.extractor.max_chars,
                )
            except Exception as exc:  # one bad row becomes one error row
                failed = failure(data, exc)
                if source is not None:
                    failed = failed.model_copy(update={"source": source})
                rows.append(_row(identity(failed.source, None), failed))
                continue
            if article.identity not in self.skip:  # the same source with the same text
                todo.append((article.identity, article))
        won = _claim(self.claims, [key for key, _ in todo])
        rows += [_row(key, _duplicate(article))
                 for (key, article), first in zip(todo, won, strict=True) if not first]
        todo = [item for item, first in zip(todo, won, strict=True) if first]
        results = run_many(self.extractor, [a for _, a in todo], self.requests)
        rows += [_row(key, result) for (key, _), result in zip(todo, results, strict=True)]
        return pa.Table.from_pylist(rows, schema=SCHEMA)


def extract_dataset(
    ds: ray.data.Dataset,
    *,
    text_column: str = "text",
    path_column: str | None = None,
    id_column: str | None = None,
    published_column: str | None = None,
    actors: int = 2,
    requests_per_actor: int = 4,
    num_cpus: float = 0.5,
    batch_size: int = 32,
    skip_ids: Iterable[str] = (),
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    **extract_options: Any,
) -> ray.data.Dataset:
    """Results for a Dataset of articles (a text column, or a path column): one row each.

    `actors` * `requests_per_actor` is the most requests the server sees at once. Each
    actor reserves `num_cpus` (it mostly waits on the server) and takes `batch_size` rows at
    a time. `skip_ids` (see `done_ids`) are dropped, not asked again. Other options are
    those of `newsie.extract`; `types=` classes reach the actors by their import path, so
    each must be defined in a module the workers can import.
    """
    if actors < 1 or requests_per_actor < 1 or batch_size < 1:
        raise ValueError("actors, requests_per_actor and batch_size must be at least 1")
    endpoint = Endpoint.from_env(base_url=base_url, api_key=api_key, model=model)
    if endpoint is None or endpoint.base_url is None:
        raise ValueError(
            "newsie.ray needs an OpenAI-compatible server: pass base_url= (and model=, "
            "api_key=) or set OPENAI_BASE_URL"
        )
    if extract_options.get("types") is not None:  # classes travel as "module:Name" paths
        extract_options["types"] = portable(extract_options["types"])
    options = {**extract_options, "base_url": endpoint.base_url,
               "api_key": endpoint.api_key, "model": endpoint.model}
    Extractor(**{**options, "cache": False})  # bad options fail here, not in every actor
    columns = ds.columns(fetch_if_missing=False)  # known without running anything, or None
    if columns is not None:
        _check_columns(columns, path_column or text_column, id_column, published_column)
    claims = ray.remote(Claims).options(num_cpus=0).remote()  # one per run, shared
    return ds.map_batches(
        ExtractBatch,
        fn_constructor_kwargs={
            "text_column": text_column, "path_column": path_column, "id_column": id_column,
            "published_column": published_column, "requests_per_actor": requests_per_actor,
            "skip_ids": frozenset(skip_ids), "options": options, "claims": claims,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=num_cpus,
    )


def write_results(ds: ray.data.Dataset, path: str | Path, format: Format = "parquet") -> None:
    """Append the rows to a folder of Parquet or JSONL files (Ray's writers, one per block)."""
    if format == "parquet":
        ds.write_parquet(_uri(path))
    elif format == "jsonl":
        ds.write_json(_uri(path))
    else:
        raise ValueError(f"unknown format {format!r}: use 'parquet' or 'jsonl'")


def read_results(path: str | Path, format: Format = "parquet") -> ray.data.Dataset | None:
    """The rows written to `path` (a folder or URI) so far, or None before the first write."""
    uri = _uri(path)
    filesystem, root = pafs.FileSystem.from_uri(uri)
    suffix = ".parquet" if format == "parquet" else ".json"
    files = filesystem.get_file_info(pafs.FileSelector(root, allow_not_found=True))
    if not any(f.path.endswith(suffix) for f in files):
        return None
    if format == "parquet":
        return ray.data.read_parquet(uri)
    return ray.data.read_json(uri, lines=True)


def done_ids(path: str | Path, format: Format = "parquet") -> set[str]:
    """Ids with an "ok" row in earlier output: pass them as `skip_ids` to resume."""
    ds = read_results(path, format)
    if ds is None:
        return set()
    rows = ds.select_columns(["id", "status"]).iter_rows()
    return {row["id"] for row in rows if row["status"] == "ok"}


def to_result(row: dict[str, Any]) -> Extraction | Failure:
    """An output row back as the `Extraction` or `Failure` that `newsie.extract_many` gives."""
    if row["status"] == "ok":
        return Extraction.model_validate_json(row["extraction"])
    return Failure(source=row["source"], error=row["error"], message=row["message"])


def _uri(path: str | Path) -> str:
    """A URI as it is; a local path made absolute, since Ray's workers have other cwds."""
    return str(path) if "://" in str(path) else str(Path(path).resolve())


def _check_columns(columns: list[str], *wanted: str | None) -> None:
    missing = [c for c in wanted if c is not None and c not in columns]
    if missing:
        raise ValueError(f"the dataset has no column {missing[0]!r} (it has {columns})")


def _row(key: str, result: Extraction | Failure) -> dict[str, Any]:
    if isinstance(result, Failure):
        return {"id": key, "source": result.source, "status": "error", "error": result.error,
                "message": result.message, "event_count": 0, "events": "[]", "total_tokens": 0}
    events = result.model_dump(mode="json", include={"events"})["events"]
    return {
        "id": key, "source": result.source, "status": "ok", "title": result.title,
        "published": result.published, "model": result.model, "event_count": len(events),
        "events": json.dumps(events, ensure_ascii=False),
        "total_tokens": result.usage.total_tokens, "extraction": result.model_dump_json(),
    }


def _day(value: Any) -> str | None:
    """Arrow dates and timestamps come back as `date`/`datetime`, text as `str`: ISO text
    either way, and a value that is no date a `DateError` (that row's error)."""
    return parse_published(value if isinstance(value, (str, date)) or value is None
                           else str(value))
