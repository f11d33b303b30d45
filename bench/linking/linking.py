"""Linking on real multi-outlet coverage, scored by the coverage set's own scorer.

    python bench/linking/linking.py [SET_DIR] --mode alone [--label before] [--drop-dates half]
    python bench/linking/linking.py [SET_DIR] --mode end-to-end [--concurrency 2]

SET_DIR (default ../shared/devset-linking beside the repository) holds `gold.json`,
`sources.json`, `articles/<id>.txt` and `score.py`; all are read by path at run time and
nothing of them is copied here.

- **alone**: every gold event becomes an extraction record (its type, the cluster's
  parties, its evidence located in the article, the article's publication date), then
  `newsie.link` and the set's scorer. Two settings: without an event date (as most reports
  give none), and with the gold event date. `--drop-dates half` removes the publication
  date of every other dated article (by sorted id, so the choice is the same every run), as
  undated coverage comes in: linking must then not join reports on their parties alone.
- **end to end**: each article is extracted with its publication date
  (`newsie.extract_many`, the configured model), then `newsie.link`, then the scorer.

Writes `bench/results/linking-<date>-<mode>[-<label>].md`. `newsie.link` is the only API the
alone mode uses, so an older checkout runs it too (`PYTHONPATH=<old>/src`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import time
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import newsie

RESULTS = Path(__file__).resolve().parents[1] / "results"
DEFAULT_SET = Path(__file__).resolve().parents[2] / "shared" / "devset-linking"
KINDS: dict[str, Any] = {"order": newsie.Order, "mou": newsie.MoU, "visit": newsie.Visit,
                         "meeting": newsie.Meeting}


def scorer(folder: Path) -> ModuleType:
    """The set's own `score.py`, imported from its folder."""
    spec = importlib.util.spec_from_file_location("linking_set_score", folder / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no score.py in {folder}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(folder: Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))["clusters"]
    sources = {s["id"]: s for s in json.loads((folder / "sources.json").read_text("utf-8"))}
    return gold, sources


def text_of(folder: Path, article: str) -> str:
    return (folder / "articles" / f"{article}.txt").read_text(encoding="utf-8")


def undated(sources: dict[str, dict[str, Any]], drop: str) -> set[str]:
    """The articles whose publication date is removed: none, or every other dated one."""
    if drop == "none":
        return set()
    dated = sorted(a for a, s in sources.items() if s.get("published"))
    return set(dated[1::2])


def gold_records(folder: Path, with_dates: bool, drop: str = "none") -> list[newsie.Extraction]:
    """One extraction record per gold event mention, as an ideal extractor would give it."""
    gold, sources = load(folder)
    removed = undated(sources, drop)
    records = []
    for cluster in gold:
        for member in cluster["members"]:
            article = member["id"]
            text = text_of(folder, article)
            start = text.index(member["evidence"])
            span = newsie.Span(start=start, end=start + len(member["evidence"]),
                               text=member["evidence"])
            event = KINDS[cluster["type"]](
                summary=cluster["type"],
                parties=[newsie.Party(name=name) for name in cluster["parties"]],
                date=cluster["date"] if with_dates else None, evidence=[span])
            records.append(newsie.Extraction(
                source=article, title=sources[article].get("title"), text=text, model="gold",
                published=None if article in removed else sources[article].get("published"),
                events=[event]))
    return records


def predictions(linked: list[newsie.LinkedEvent],
                texts: dict[str, str]) -> list[dict[str, Any]]:
    """The scorer's format: one predicted event per report, its linked event as cluster."""
    out = []
    for event in linked:
        for source in event.sources:
            article = Path(source.source).stem
            spans = source.event.evidence
            text = texts.get(source.source, "")
            evidence = (text[spans[0].start:spans[-1].end] if spans and text
                        else " ".join(s.text for s in spans))
            out.append({"id": article, "type": source.event.type, "evidence": evidence,
                        "cluster": event.id})
    return out


def row(name: str, score: dict[str, Any], seconds: float) -> str:
    return (f"| {name} | {score['coverage']:.2f} | {score['pred_pairs']} | "
            f"{score['true_pairs']} / {score['gold_pairs']} | {score['pairwise_p']:.2f} | "
            f"{score['pairwise_r']:.2f} | {score['pairwise_f1']:.2f} | "
            f"{score['bcubed_f1']:.2f} | {seconds:.2f} s |")


HEADER = ["| setting | coverage | linked pairs | true / gold pairs | pairwise P | pairwise R | "
          "pairwise F1 | B-cubed F1 | time |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]


def alone(folder: Path, drop: str = "none") -> list[str]:
    score = scorer(folder).score
    _, sources = load(folder)
    removed = undated(sources, drop)
    dated = sum(1 for s in sources.values() if s.get("published")) - len(removed)
    lines = [f"Publication dates: {dated} of {len(sources)} articles"
             + (f" ({len(removed)} removed: {', '.join(sorted(removed))})" if removed else "")
             + ".", "", *HEADER]
    for with_dates, name in ((False, "gold events, no event date, publication dates"),
                             (True, "gold events with the gold event date")):
        records = gold_records(folder, with_dates, drop)
        started = time.perf_counter()
        linked = newsie.link(records)
        seconds = time.perf_counter() - started
        texts = {r.source: r.text for r in records}
        lines.append(row(name, score(predictions(linked, texts)), seconds))
        if not with_dates:
            wrong = mistakes(folder, linked)
    return [*lines, "", *wrong]


def mistakes(folder: Path, linked: list[newsie.LinkedEvent]) -> list[str]:
    """Which gold events were joined wrongly, or left apart (article ids only)."""
    gold, _ = load(folder)
    truth = {m["id"]: c["cluster"] for c in gold for m in c["members"]}
    found = {Path(s.source).stem: e.id for e in linked for s in e.sources}
    lines = ["Without event dates, linked against gold / gold links missed (article ids):", ""]
    ids = sorted(truth)
    for a_i, a in enumerate(ids):
        for b in ids[a_i + 1:]:
            same_gold, same_found = truth[a] == truth[b], found[a] == found[b]
            if same_found and not same_gold:
                lines.append(f"- wrong link: {a} ({truth[a]}) with {b} ({truth[b]})")
            elif same_gold and not same_found:
                lines.append(f"- missed: {a} with {b} ({truth[a]})")
    return lines if len(lines) > 2 else [*lines, "- none"]


def end_to_end(folder: Path, concurrency: int) -> list[str]:
    """Extraction of every article with its publication date, then linking, then scoring."""
    _, sources = load(folder)
    articles = [newsie.load_article(folder / "articles" / f"{a}.txt", source=a,
                                    published=s.get("published"))
                for a, s in sorted(sources.items())]
    started = time.perf_counter()
    results = list(newsie.extract_many(articles, concurrency=concurrency))
    extract_seconds = time.perf_counter() - started
    done = [r for r in results if isinstance(r, newsie.Extraction)]
    started = time.perf_counter()
    linked = newsie.link(results)
    link_seconds = time.perf_counter() - started
    texts = {r.source: r.text for r in done}
    score = scorer(folder).score(predictions(linked, texts))
    tokens = sum(r.usage.total_tokens for r in done)
    lines = [*HEADER, row("extracted, then linked", score, link_seconds), "",
             "| cost | value |", "| --- | --- |",
             f"| articles extracted / failed | {len(done)} / {len(results) - len(done)} |",
             f"| events extracted | {sum(len(r.events) for r in done)} |",
             f"| extraction time (concurrency {concurrency}) | {extract_seconds:.0f} s |",
             f"| tokens | {tokens:,} |",
             f"| linking time | {link_seconds:.2f} s |",
             f"| model | {done[0].model if done else '-'} |"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--mode", choices=["alone", "end-to-end"], default="alone")
    parser.add_argument("--label", default="", help="added to the file name (before, after)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--drop-dates", choices=["none", "half"], default="none",
                        help="alone: remove the publication date of every other dated article")
    args = parser.parse_args()
    folder = args.folder.resolve()
    body = (alone(folder, args.drop_dates) if args.mode == "alone"
            else end_to_end(folder, args.concurrency))
    label = (f"-{args.label}" if args.label else "") + (
        f"-dates-{args.drop_dates}-removed" if args.drop_dates != "none" else "")
    command = (f"python bench/linking/linking.py {args.folder} --mode {args.mode}"
               + (f" --label {args.label}" if args.label else "")
               + (f" --drop-dates {args.drop_dates}" if args.drop_dates != "none" else ""))
    lines = [f"# Linking on multi-outlet coverage ({args.mode}), {date.today().isoformat()}",
             "", f"`{command}` with newsie from `{Path(newsie.__file__).parent}`, on "
             f"{platform.machine()}, Python {platform.python_version()}.", "",
             "Scored by the set's own `score.py`: pairwise P/R/F1 over linked pairs of "
             "matched gold events, B-cubed F1 over all gold events.", "", *body]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"linking-{date.today().isoformat()}-{args.mode}{label}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
