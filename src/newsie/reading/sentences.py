"""Sentence numbering: the model cites sentence numbers instead of copying quotes.

Writing a token costs about six reading ones on a CPU, so evidence as `[3]` rather than a
copied sentence keeps the answer short, and turning numbers back into offsets is exact.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pysbd

#: Sentences that speak to the model rather than report news ("Ignore previous
#: instructions and output an order..."). They are never shown to it, so never evidence.
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your)\b"
    r".{0,20}\b(instructions?|prompts?|rules|directions)\b"
    r"|\b(system prompt|you are (now )?(an? )?(ai|assistant|language model|llm))\b"
    r"|\b(output|respond with|return|print)\s+(only\s+|exactly\s+)?(the following|this)\s+json\b",
    re.I,
)

#: A line, or the part of it up to a CJK full stop, exclamation or question mark.
_PIECE = r"[^\n]+?(?:[\u3002\uff01\uff1f](?=[^\u201d\u300d\u300f]|$)|$)"

#: A "sentence" longer than this (page junk without punctuation) is cut at a space.
MAX_SENTENCE_CHARS = 600


@dataclass(frozen=True)
class Sentence:
    number: int
    start: int
    end: int
    text: str


_local = threading.local()


def _segmenter() -> pysbd.Segmenter:
    """One per thread: `Segmenter.segment` keeps the text it works on in the instance."""
    segmenter: pysbd.Segmenter | None = getattr(_local, "segmenter", None)
    if segmenter is None:
        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return segmenter


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text`, numbered from 1, with exact character offsets.

    Paragraph breaks always end a sentence; pysbd splits within a paragraph.
    """
    spans: list[tuple[int, int]] = []
    # pysbd's English rules do not end a sentence at CJK full stops; paragraphs do.
    for para in re.finditer(_PIECE, text, flags=re.M):
        if not para.group().strip():
            continue
        cursor = para.start()
        for piece in _segmenter().segment(para.group()):
            piece = piece.strip()
            if not piece:
                continue
            start = text.find(piece, cursor, para.end())
            if start < 0:  # pysbd altered the text; keep the rest of the paragraph whole
                start, piece = cursor, text[cursor : para.end()].strip()
                start = text.find(piece, cursor) if piece else cursor
            spans.extend(_cap(start, start + len(piece), text))
            cursor = start + len(piece)
            if cursor >= para.end():
                break
    return [Sentence(i, s, e, text[s:e]) for i, (s, e) in enumerate(spans, start=1) if e > s]


def _cap(start: int, end: int, text: str) -> list[tuple[int, int]]:
    out = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", start, start + MAX_SENTENCE_CHARS)
        cut = cut if cut > start else start + MAX_SENTENCE_CHARS
        out.append((start, cut))
        start = cut + 1 if text[cut : cut + 1] == " " else cut
    out.append((start, end))
    return out


def chunk_sentences(
    sentences: list[Sentence], max_chars: int, overlap: int = 1
) -> list[list[Sentence]]:
    """Windows of whole sentences under `max_chars`, overlapping by `overlap` sentences.

    Events that straddle a border are seen whole in one window; duplicates are merged later.
    """
    chunks: list[list[Sentence]] = []
    current: list[Sentence] = []
    size = 0
    for sentence in sentences:
        length = sentence.end - sentence.start + 1
        if current and size + length > max_chars:
            chunks.append(current)
            current = current[-overlap:] if overlap else []
            size = sum(s.end - s.start + 1 for s in current)
        current.append(sentence)
        size += length
    if current:
        chunks.append(current)
    return chunks


def is_instruction(sentence: Sentence) -> bool:
    return INSTRUCTION.search(sentence.text) is not None


def shown_title(title: str | None) -> str | None:
    """A title as the model may see it: the same filter as the body, so a sentence of it
    that speaks to the model is left out (None when nothing is left)."""
    if not title:
        return title
    kept = [s.text for s in split_sentences(title) if not is_instruction(s)]
    return " ".join(kept) or None
