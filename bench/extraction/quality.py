"""Quality and cost of extraction with the embedded model, against a naive baseline.

    python bench/extraction/quality.py DATASET_DIR [DATASET_DIR ...] [--limit N]
        [--no-baseline] [--cache DIR] [--save DIR] [--tag TAG]

Each DATASET_DIR holds `gold.jsonl` and the articles (`<id>.txt`, or `articles/<id>.txt`);
several are scored together, each article given its gold publication date as a feed user
has it. The articles are read by path at run time and never copied. Writes
`bench/results/quality-<date>-<datasets>[-<tag>].md`, with the errors counted by kind
(duplicates of a matched event, events dropped by grounding by reason, false events on
negative articles, one-sided orders, party-set errors).

`--cache DIR` keeps newsie's model answers there: a second run with another post-processing
(merging, grounding) but the same prompts replays them in seconds. `--save DIR` writes the
raw predictions there (outside the repository: they hold the articles' text).

The baseline is one schema-constrained call per article on the same server, asking for
events with a quoted evidence string, with no sentence numbering, grounding or
normalization: what a first attempt would do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

import newsie
from newsie.events import Span
from newsie.extraction.grounding import find_in, find_span, window
from newsie.model import engine
from newsie.model.endpoint import Endpoint
from newsie.model.openai_backend import OpenAIBackend
from newsie.output import evaluation
from newsie.reading.sentences import Sentence, split_sentences

RESULTS = Path(__file__).resolve().parents[1] / "results"


class NaiveEvent(BaseModel):
    type: Literal["visit", "mou", "order", "meeting"]
    parties: list[str] = Field(max_length=4)
    people: list[str] = Field(max_length=6)
    date: str | None = Field(default=None, max_length=40)
    location: str | None = Field(default=None, max_length=80)
    quantity: str | None = Field(default=None, max_length=40)
    value: str | None = Field(default=None, max_length=40)
    evidence: str = Field(max_length=300)


class NaiveResponse(BaseModel):
    events: list[NaiveEvent] = Field(max_length=8)


NAIVE_PROMPT = (
    "Extract business events from the news article. Types: visit (an organization visits "
    "another's site), mou (a signed MoU, cooperation, framework or joint-venture agreement), "
    "order (a purchase order or supply contract), meeting (a meeting, seminar, conference, "
    "forum or talks). For each event give type, parties, people, date, location, quantity, "
    "value and evidence (an exact quote). Return JSON."
)


def tokens(base_url: str, text: str) -> int:
    """Token count from the serving model's own tokenizer."""
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(
        root + "/tokenize", data=json.dumps({"content": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return len(json.loads(response.read())["tokens"])


def gold_floor(base_url: str, text: str, events: list[dict[str, Any]]) -> int:
    compact = [{k: v for k, v in e.items() if v not in (None, [], False)} for e in events]
    return tokens(base_url, text) + tokens(base_url, json.dumps(compact, ensure_ascii=False))


def run(datasets: list[Path], limit: int | None, baseline: bool, template_dir: Path | None,
        stages: list[int], cache: Path | None, save: Path | None, verify: bool = False) -> str:
    gold: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    for dataset in datasets:
        gold_path = dataset / "gold.jsonl"
        for key, record in list(evaluation.read_gold(gold_path).items())[:limit]:
            gold[key] = record
            paths[key] = evaluation.find_article(gold_path, key, None)
    load_start = os.getloadavg()
    ids = list(gold)
    truth = {k: evaluation.from_gold(gold[k]) for k in ids}
    server = engine.ensure_server()
    # without --cache every article is read by the model, as on first sight
    extractors = {
        f"s{n}_": newsie.Extractor(cache=cache or False, template_dir=template_dir, stages=n,
                                   verify=verify)
        for n in stages}
    naive = OpenAIBackend(Endpoint(base_url=server.base_url, model=engine.MODEL_NAME,
                                   max_tokens=1024, timeout=engine.REQUEST_TIMEOUT))

    rows: dict[str, dict[str, Any]] = {}
    predicted: dict[str, dict[str, list[evaluation.Simple]]] = {p: {} for p in extractors}
    predicted["naive_"] = {}
    kept: dict[str, dict[str, newsie.Extraction]] = {p: {} for p in extractors}
    for key in ids:
        path = paths[key]
        article = newsie.load_article(path, published=gold[key].get("published"))
        sentences = split_sentences(article.text)
        row: dict[str, Any] = {"floor": gold_floor(server.base_url, article.text,
                                                   gold[key]["events"])}
        for prefix, extractor in extractors.items():
            started = time.monotonic()
            try:
                result = extractor.extract(article)
                predicted[prefix][key] = evaluation.from_extraction(result)
                kept[prefix][key] = result
                row.update({
                    prefix + "seconds": time.monotonic() - started,
                    prefix + "prompt": result.usage.prompt_tokens,
                    prefix + "cached_prompt": result.usage.cached_prompt_tokens,
                    prefix + "completion": result.usage.completion_tokens,
                    prefix + "ungrounded": sum(1 for ev in result.events for s in ev.evidence
                                               if result.text[s.start:s.end] != s.text),
                    prefix + "outside": sum(newsie_outside(result, sentences))})
            except newsie.NewsieError as exc:
                predicted[prefix][key] = []
                row.update({prefix + "seconds": time.monotonic() - started,
                            prefix + "error": str(exc)})
        if baseline:
            started = time.monotonic()
            messages = [{"role": "system", "content": NAIVE_PROMPT},
                        {"role": "user", "content": article.text}]
            try:
                answer, usage = naive.complete(messages, NaiveResponse)
                predicted["naive_"][key] = [evaluation.Simple(
                    type=e.type, parties=[evaluation._names(p) for p in e.parties], date=e.date,
                    location=e.location, quantity=e.quantity) for e in answer.events]
                row.update(naive_seconds=time.monotonic() - started,
                           naive_prompt=usage.prompt_tokens,
                           naive_cached_prompt=usage.cached_prompt_tokens,
                           naive_completion=usage.completion_tokens,
                           naive_ungrounded=sum(e.evidence not in article.text
                                                for e in answer.events),
                           naive_outside=sum(sum(naive_outside(e, article.text, sentences))
                                             for e in answer.events))
            except newsie.NewsieError as exc:
                predicted["naive_"][key] = []
                row.update(naive_seconds=time.monotonic() - started, naive_error=str(exc))
        rows[key] = row
        print(key, json.dumps(row), file=sys.stderr, flush=True)
    loads = (load_start, os.getloadavg())
    checked = " + verify" if verify else ""
    systems = {f"newsie, {'one call' if n == 1 else 'two stages'}{checked}": f"s{n}_"
               for n in stages}
    if baseline:
        systems["naive baseline"] = "naive_"
    if save:
        save.mkdir(parents=True, exist_ok=True)
        for prefix, results in kept.items():
            with (save / f"{prefix}results.jsonl").open("w", encoding="utf-8") as out:
                out.writelines(r.model_dump_json() + "\n" for r in results.values())
        (save / "predicted.json").write_text(json.dumps(
            {p: {k: [vars(s) | {"parties": [sorted(x) for x in s.parties]} for s in v]
                 for k, v in by.items()} for p, by in predicted.items()}), encoding="utf-8")
    scores = {name: evaluation.score(predicted[prefix], truth) for name, prefix in systems.items()}
    kinds = {name: error_kinds(predicted[prefix], truth, kept.get(prefix, {}))
             for name, prefix in systems.items()}
    return report(datasets, rows, systems, scores, loads, kinds)


def _matching(pred: list[evaluation.Simple], gold: list[evaluation.Simple]) -> dict[int, int]:
    """The scorer's pairing of one article ({gold index: prediction index})."""
    edges = [[j for _, j in evaluation._candidates(p, gold)] for p in pred]
    certain = evaluation.max_matching([[j for j in js if not gold[j].uncertain] for js in edges])
    return evaluation.max_matching(edges, certain)


def error_kinds(predicted: dict[str, list[evaluation.Simple]],
                truth: dict[str, list[evaluation.Simple]],
                results: dict[str, newsie.Extraction]) -> dict[str, int]:
    """The errors a reader sees, counted by kind, so a change is judged on those it targets."""
    kinds: Counter[str] = Counter()
    for key, gold in truth.items():
        pred = predicted.get(key, [])
        pairs = _matching(pred, gold)
        matched_preds = set(pairs.values())
        negative = not any(not g.uncertain for g in gold)
        for i, p in enumerate(pred):
            if i in matched_preds:
                continue
            hits = [j for _, j in evaluation._candidates(p, gold)]
            if negative:
                kinds["false event on a negative article"] += 1
            elif any(j in pairs for j in hits):
                kinds["duplicate of a matched event"] += 1
            else:
                kinds[f"false {p.type} (no gold of its type and party)"] += 1
        for j, g in enumerate(gold):
            if g.uncertain:
                continue
            if j not in pairs:
                kinds[f"missed {g.type}"] += 1
            elif not evaluation.party_set_agrees(pred[pairs[j]].parties, g.parties):
                kinds["party-set error on a matched event"] += 1
        if key in results:
            for ev in results[key].events:
                roles = [p.role for p in ev.parties]
                if ev.type == "order" and len(set(roles)) < 2:
                    kinds["one-sided order"] += 1
            for warning in results[key].warnings:
                if warning.startswith("dropped a "):
                    # the reason alone: what follows it names the article's parties
                    reason = warning.split(": ", 1)[1].split(" (", 1)[0]
                    kinds["grounding dropped: " + reason] += 1
    return dict(sorted(kinds.items()))


def _outside(values: list[list[str]], spans: list[Span]) -> list[int]:
    """1 for each field none of whose names is in the event's window, else 0."""
    return [0 if any(find_in(spans, n) for n in names) else 1 for names in values if names]


def newsie_outside(result: newsie.Extraction, sentences: list[Sentence]) -> list[int]:
    """Fields of newsie's events not in their window (dates are ISO, so not counted)."""
    counts: list[int] = []
    for ev in result.events:
        spans = window(ev.evidence, sentences)
        quantity, value = getattr(ev, "quantity", None), getattr(ev, "value", None)
        counts += _outside([[p.name, *p.aliases] for p in ev.parties]
                           + [[p.name] for p in ev.people]
                           + [[ev.location] if ev.location else []]
                           + [[x.text] for x in (quantity, value) if x is not None], spans)
    return counts


def naive_outside(ev: NaiveEvent, text: str, sentences: list[Sentence]) -> list[int]:
    """Fields of a naive event not in the window of its quoted evidence (or anywhere, when
    the quote is not in the text)."""
    quote = find_span(text, ev.evidence)
    cited = [Span(start=s.start, end=s.end, text=s.text) for s in sentences
             if quote and s.start < quote.end and quote.start < s.end]
    spans = window(cited, sentences) if cited else []
    fields = [[p] for p in ev.parties] + [[p] for p in ev.people] + [
        [v] for v in (ev.date, ev.location, ev.quantity, ev.value) if v]
    return _outside(fields, spans)


def _mean(rows: dict[str, dict[str, Any]], key: str) -> float:
    return statistics.mean(r.get(key, 0) for r in rows.values())


def report(datasets: list[Path], rows: dict[str, dict[str, Any]], systems: dict[str, str],
           scores: dict[str, newsie.Score],
           loads: tuple[tuple[float, ...], tuple[float, ...]],
           kinds: dict[str, dict[str, int]]) -> str:
    floor = _mean(rows, "floor")
    lines = [
        f"# Quality benchmark: {' + '.join(d.name for d in datasets)} "
        f"({date.today().isoformat()})",
        "",
        f"Command: `python bench/extraction/quality.py {' '.join(sys.argv[1:])}` · model: "
        f"{engine.MODEL_NAME} "
        f"(embedded llama.cpp, CPU) · articles: {len(rows)}",
        "",
        "Load average (1, 5, 15 min) at start: "
        + " ".join(f"{x:.2f}" for x in loads[0]) + "; at end: "
        + " ".join(f"{x:.2f}" for x in loads[1]) + " (2 cores; a run under other load "
        "is discarded).",
        "",
        "| system | micro-F1 | P | R | visit F1 | mou F1 | order F1 | meeting F1 | date agr. "
        "| location agr. | quantity agr. | whole party set | s/article | prompt tok "
        "| of which cached | completion tok | tokens / floor "
        "| events with evidence not in text | fields not in their window |",
        "| --- " * 19 + "|",
    ]

    def line(name: str, s: newsie.Score, prefix: str) -> str:
        pt, ct = _mean(rows, prefix + "prompt"), _mean(rows, prefix + "completion")
        cached = _mean(rows, prefix + "cached_prompt")
        bad = sum(r.get(prefix + "ungrounded", 0) for r in rows.values())
        outside = sum(r.get(prefix + "outside", 0) for r in rows.values())
        f = s.fields
        return (f"| {name} | {s.micro['f1']:.3f} | {s.micro['precision']:.3f} | "
                f"{s.micro['recall']:.3f} | "
                + " | ".join(f"{s.per_type[t]['f1']:.3f}" for t in newsie.events.EVENT_TYPES)
                + " | " + " | ".join(
                    f"{f[k]['agreement']:.2f} ({int(f[k]['total'])})"
                    for k in ("date", "location", "quantity", "parties"))
                + f" | {_mean(rows, prefix + 'seconds'):.1f} | {pt:.0f} | {cached:.0f} | "
                f"{ct:.0f} | {(pt + ct) / floor:.2f} | {bad} | {outside} |")

    lines += [line(name, scores[name], prefix) for name, prefix in systems.items()]
    lines += ["", f"Floor (article tokens + gold events serialized), mean per article: "
              f"{floor:.0f} tokens.", "",
              "Per article (seconds; prompt+completion tokens), floor:", ""]
    for key, r in rows.items():
        parts = []
        for name, prefix in systems.items():
            extra = f" error: {r[prefix + 'error']}" if prefix + "error" in r else ""
            parts.append(f"{name} {r.get(prefix + 'seconds', 0):.1f}s "
                         f"{r.get(prefix + 'prompt', 0)}+{r.get(prefix + 'completion', 0)}"
                         f"{extra}")
        lines.append(f"- {key}: " + "; ".join(parts) + f"; floor {r['floor']}")
    names = sorted({k for counted in kinds.values() for k in counted})
    lines += ["", "Errors by kind:", "", "| kind | " + " | ".join(systems) + " |",
              "| --- " * (len(systems) + 1) + "|"]
    lines += [f"| {k} | " + " | ".join(str(kinds[s].get(k, 0)) for s in systems) + " |"
              for k in names]
    for name in systems:
        lines += ["", f"{name}:", "", "```", scores[name].to_text(), "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--template-dir", type=Path, help="Try other prompt templates.")
    parser.add_argument("--tag", default="", help="Suffix for the result file name.")
    parser.add_argument("--stages", type=int, nargs="+", default=[1], choices=[1, 2],
                        help="newsie variants to run: one call, two stages, or both.")
    parser.add_argument("--cache", type=Path, help="Keep (and replay) newsie's answers here.")
    parser.add_argument("--save", type=Path, help="Write the raw predictions here.")
    parser.add_argument("--verify", action="store_true",
                        help="newsie asks a yes/no check of each event (verify=True).")
    args = parser.parse_args()
    datasets = [d.resolve() for d in args.datasets]
    text = run(datasets, args.limit, not args.no_baseline, args.template_dir, args.stages,
               args.cache, args.save, args.verify)
    RESULTS.mkdir(exist_ok=True)
    name = "-".join(d.name for d in datasets) + (f"-{args.tag}" if args.tag else "")
    out = RESULTS / f"quality-{date.today().isoformat()}-{name}.md"
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
