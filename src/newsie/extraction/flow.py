"""One article's way through, written once for sync and async callers.

Data flows one way: read the article, find candidates, detect events, choose their
arguments, check them against the text, normalize, return. `article_flow` strings these
steps together as a generator that yields the model requests it needs and receives their
answers, so the same code runs under `Extractor.extract` (requests answered in the calling
thread) and `Extractor.aextract` (the CPU steps in a worker thread, requests awaited on the
event loop). Every step is a plain function that can be tested alone.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import BaseModel

from ..events import Event, Extraction, Usage
from ..reading.article import Article
from ..reading.nlp import Analysis, analyze, has_cjk
from ..reading.sentences import Sentence, chunk_sentences, is_instruction, split_sentences
from .candidates import Candidate, find_candidates, of_kind
from .grounding import GroundedEvent, ground
from .normalize import normalize
from .prompts import (
    ARGUMENTS_QUESTION,
    DETECT_QUESTION,
    EVENTS_QUESTION,
    VERIFY_QUESTION,
    Prompts,
    messages,
)
from .registry import EventSpec
from .schema import (
    Choices,
    Verdict,
    WireEvent,
    arguments_response,
    detection_response,
    event_variant,
    events_response,
)

#: Characters of article per model call; longer articles are read in overlapping windows.
CHUNK_CHARS = 6000
#: One call lists events with their fields; two calls detect first, then ask each event's
#: fields from its own sentences.
Stages = Literal[1, 2]


@dataclass(frozen=True)
class Ask:
    """One model request: chat messages and the schema the answer must fit."""

    messages: list[dict[str, str]]
    response_model: type[BaseModel]


@dataclass(frozen=True)
class Answer:
    value: BaseModel
    usage: Usage


Flow = Generator[list[Ask], list[Answer], Extraction]


@dataclass(frozen=True)
class Plan:
    """How to read articles: what stays the same from one article to the next."""

    prompts: Prompts
    specs: Mapping[str, EventSpec]
    model: str
    endpoint: str
    stages: Stages = 1
    chunk_chars: int = CHUNK_CHARS
    token_budget: int | None = None
    keep_ungrounded: bool = False
    verify: bool = False


@dataclass(frozen=True)
class Reading:
    """An article after the CPU steps: what the model is shown, and what it may choose."""

    article: Article
    windows: list[list[Sentence]]
    analysis: Analysis
    candidates: list[Candidate]


def read(article: Article, chunk_chars: int = CHUNK_CHARS) -> Reading:
    """Sentences (minus any that address the model), entities and candidates."""
    shown = [s for s in split_sentences(article.text) if not is_instruction(s)]
    analysis = analyze(article.text)
    return Reading(
        article=article,
        windows=chunk_sentences(shown, chunk_chars) if shown else [],
        analysis=analysis,
        candidates=find_candidates(article.text, analysis),
    )


def choices(reading: Reading, sentences: Sequence[Sentence]) -> Choices:
    """The candidates named inside `sentences`, by kind, and their sentence numbers.

    A name is of the kind the recognizer gave it anywhere in the article, so one
    mislabelled mention does not hide an organization. Text the English pipeline cannot
    read (Chinese, Japanese) has no candidates: there the fields are bounded free text,
    and grounding checks every value against the sentences.
    """
    texts: dict[str, tuple[str, ...]] = {}
    for kind in ("org", "person", "place", "date", "quantity", "money"):
        names = of_kind(reading.candidates, kind)
        texts[kind] = tuple(n for n in names if any(n in s.text for s in sentences))
    free = _mostly_cjk("".join(s.text for s in sentences))
    return Choices(sentences=tuple(s.number for s in sentences), texts=texts, free=free)


def _mostly_cjk(text: str) -> bool:
    """Text the English pipeline cannot read: most of its letters are CJK (a Chinese name
    in an English article is not enough)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(map(has_cjk, letters)) > len(letters) // 3


def event_sentences(numbers: Sequence[int], sentences: Sequence[Sentence]) -> list[Sentence]:
    """The cited sentences and the one after the last of them: an event's own window."""
    index = {s.number: i for i, s in enumerate(sentences)}
    cited = sorted(index[n] for n in set(numbers) if n in index)
    if not cited:
        return []
    picked = {*cited, min(cited[-1] + 1, len(sentences) - 1)}
    return [sentences[i] for i in sorted(picked)]


def article_flow(plan: Plan, article: Article) -> Flow:
    """Everything newsie does to one article; yields the model requests it needs."""
    reading = read(article, plan.chunk_chars)
    specs = list(plan.specs.values())
    system = plan.prompts.system(specs)
    usage = Usage()
    grounded: list[GroundedEvent] = []
    warnings: list[str] = []
    shown: list[tuple[list[Sentence], str]] = []  # each window read, and its prompt text
    for number, window in enumerate(reading.windows):
        if plan.token_budget is not None and usage.total_tokens >= plan.token_budget:
            warnings.append(f"token budget of {plan.token_budget} reached: read {number} of "
                            f"{len(reading.windows)} parts of the article")
            break
        text = plan.prompts.article(article, window)
        shown.append((window, text))
        allowed = choices(reading, window)
        if plan.stages == 1:
            question = plan.prompts.render(EVENTS_QUESTION)
            [answer] = yield [Ask(messages(system, text, question),
                                  events_response(specs, allowed))]
            usage += answer.usage
            events = list(cast(Any, answer.value).events)
        else:
            events, spent = yield from _two_stage(plan, reading, window, system, text, allowed)
            usage += spent
        kept, dropped = ground(events, dict(plan.specs), window, reading.analysis,
                               keep_ungrounded=plan.keep_ungrounded)
        grounded += kept
        warnings += dropped
    final = normalize(grounded, article.text, article.published, reading.analysis)
    if plan.verify and final:
        final, spent, refused = yield from _verify(plan, system, shown, final)
        usage += spent
        warnings += refused
    return Extraction(
        source=article.source, title=article.title, published=article.published,
        text=article.text, events=final, model=plan.model,
        endpoint=plan.endpoint, usage=usage, warnings=warnings,
    )


def _verify(
    plan: Plan, system: str, shown: Sequence[tuple[list[Sentence], str]], events: list[Event],
) -> Generator[list[Ask], list[Answer], tuple[list[Event], Usage, list[str]]]:
    """Ask of each event, after the article it was read in (the server's cached prefix),
    whether the article reports it: a one-word answer that drops plans, interviews and
    parties in the wrong roles, which a small model lists more readily than it rejects."""
    asks: list[Ask] = []
    for event in events:
        starts = {span.start for span in event.evidence}
        window, text = next(((w, x) for w, x in shown if any(s.start in starts for s in w)),
                            shown[0])
        question = plan.prompts.render(
            VERIFY_QUESTION, type=event.type, statement=event.summary,
            sentences=[s.number for s in window if s.start in starts])
        asks.append(Ask(messages(system, text, question), Verdict))
    answers = yield asks
    usage = Usage()
    kept: list[Event] = []
    refused: list[str] = []
    for event, answer in zip(events, answers, strict=True):
        usage += answer.usage
        if cast(Verdict, answer.value).answer == "yes":
            kept.append(event)
        else:
            refused.append(f"dropped a {event.type} event: the check says the article does "
                           f"not report it ({event.summary})")
    return kept, usage, refused


def _two_stage(
    plan: Plan, reading: Reading, window: list[Sentence], system: str, text: str,
    allowed: Choices,
) -> Generator[list[Ask], list[Answer], tuple[list[WireEvent], Usage]]:
    """Detect (type, sentences), then ask each event's fields from its own window. The
    article comes first in every request, so the server's prompt cache serves it."""
    specs = list(plan.specs.values())
    [detected] = yield [Ask(messages(system, text, plan.prompts.render(DETECT_QUESTION)),
                            detection_response(specs, allowed))]
    usage = detected.usage
    found = list(cast(Any, detected.value).events)
    asks: list[Ask] = []
    for event in found:
        spec = plan.specs[event.kind]
        own = choices(reading, event_sentences(event.sentences, window))
        question = plan.prompts.render(
            ARGUMENTS_QUESTION, type=spec.describe(), sentences=event.sentences,
            organizations=own.of("org"), people=own.of("person"))
        asks.append(Ask(messages(system, text, question), arguments_response(spec, own)))
    answers = (yield asks) if asks else []
    events: list[WireEvent] = []
    for event, answer in zip(found, answers, strict=True):
        usage += answer.usage
        variant = event_variant(plan.specs[event.kind], allowed)
        events.append(variant.model_validate(
            {"type": event.kind, "sent": event.sentences, **answer.value.model_dump()}))
    return events, usage
