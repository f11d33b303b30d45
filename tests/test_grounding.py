from __future__ import annotations

from newsie._grounding import find_span, ground, ground_event
from newsie._schema import WireEvent
from newsie._sentences import split_sentences

TEXT = (
    "Release time:\n\n"
    "On August 23rd, a delegation led by Vice President Kwon Young-soo of LGES made an "
    "official visit to Huayou Quzhou Industrial Park. 陈雪华 (Chen Xuehua) welcomed them "
    "at the “Two New Areas” hall · Quzhou."
)


def test_exact_match_gives_offsets() -> None:
    span = find_span(TEXT, "Huayou Quzhou Industrial Park")
    assert span is not None and TEXT[span.start : span.end] == span.text


def test_offsets_are_right_after_non_ascii_text() -> None:
    span = find_span(TEXT, "Chen Xuehua")
    assert span is not None and TEXT[span.start : span.end] == "Chen Xuehua"
    cjk = find_span(TEXT, "陈雪华")
    assert cjk is not None and TEXT[cjk.start : cjk.end] == "陈雪华"


def test_curly_quotes_case_and_spacing_are_forgiven() -> None:
    span = find_span(TEXT, 'the "two new  areas" hall')
    assert span is not None
    assert TEXT[span.start : span.end] == "the “Two New Areas” hall"


def test_small_typos_are_aligned_fuzzily() -> None:
    span = find_span(TEXT, "Huayou Quzhou Industrial Prk")
    assert span is not None and "Huayou Quzhou Industrial" in span.text


def test_values_not_in_the_text_are_not_found() -> None:
    assert find_span(TEXT, "Contemporary Amperex Technology") is None
    assert find_span(TEXT, "") is None


def _wire(**fields: object) -> WireEvent:
    base: dict[str, object] = {"type": "visit", "sent": [2], "parties": ["LGES"], "people": []}
    base.update(fields)
    return WireEvent.model_validate(base)


def test_sentence_numbers_become_exact_evidence() -> None:
    sentences = split_sentences(TEXT)
    event = ground_event(_wire(), sentences, TEXT)
    assert len(event.evidence) == 1
    span = event.evidence[0]
    assert TEXT[span.start : span.end] == span.text
    assert span.text.startswith("On August 23rd")


def test_invented_values_are_dropped_with_a_warning() -> None:
    sentences = split_sentences(TEXT)
    event = ground_event(
        _wire(parties=["LGES", "Tesla"], quantity="1,000,000 GWh", location="Quzhou"),
        sentences, TEXT,
    )
    assert event.parties == ["LGES"]
    assert event.quantity is None and event.location == "Quzhou"
    assert any("Tesla" in w for w in event.warnings)
    assert any("1,000,000 GWh" in w for w in event.warnings)


def test_events_without_evidence_are_dropped_unless_asked() -> None:
    sentences = split_sentences(TEXT)
    events = [_wire(sent=[99]), _wire(parties=["Nobody Inc"])]
    kept, dropped = ground(events, sentences, TEXT, keep_ungrounded=False)
    assert kept == [] and len(dropped) == 2
    kept, _ = ground(events, sentences, TEXT, keep_ungrounded=True)
    assert len(kept) == 2 and all(any("ungrounded" in w for w in e.warnings) for e in kept)


def test_events_whose_evidence_never_states_the_type_are_dropped() -> None:
    text = "Huayou has grown for two decades. LGES admired its strategy."
    sentences = split_sentences(text)
    wire = WireEvent.model_validate({"type": "mou", "sent": [1, 2], "parties": ["LGES"],
                                     "people": []})
    kept, dropped = ground([wire], sentences, text, keep_ungrounded=False)
    assert kept == [] and "never states a mou" in dropped[0]


def test_the_type_the_evidence_states_wins() -> None:
    text = "The China-Japan Clean Energy Symposium was held online by JST."
    sentences = split_sentences(text)
    wire = WireEvent.model_validate({"type": "mou", "sent": [1], "parties": ["JST"],
                                     "people": []})
    [kept], _ = ground([wire], sentences, text, keep_ungrounded=False)
    assert kept.type == "meeting"
    assert any("evidence states a meeting" in w for w in kept.warnings)
