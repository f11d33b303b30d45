from __future__ import annotations

import json
import re

import pytest
from pydantic import ConfigDict

from newsie.events import Meeting
from newsie.extraction.grounding import GroundedEvent, find_span, ground, ground_event, window
from newsie.extraction.normalize import normalize
from newsie.extraction.prompts import Prompts
from newsie.extraction.registry import SPECS
from newsie.extraction.schema import WireEvent
from newsie.reading.nlp import analyze
from newsie.reading.sentences import split_sentences

TEXT = (
    "Release time:\n\n"
    "On August 23rd, a delegation led by Vice President Kwon Young-soo of LGES made an "
    "official visit to Huayou Quzhou Industrial Park. 陈雪华 (Chen Xuehua) welcomed them "
    "at the “Two New Areas” hall · Quzhou."
)


class FreeEvent(WireEvent):
    """An answer with any values: grounding must check what no schema constrained."""

    model_config = ConfigDict(extra="allow")


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
    base: dict[str, object] = {"type": "visit", "sent": [2], "visitor": "LGES", "people": []}
    base.update(fields)
    return FreeEvent(**base)


def _ground(event: WireEvent, text: str = TEXT) -> tuple[list[GroundedEvent], list[str]]:
    return ground([event], SPECS, split_sentences(text), analyze(text), keep_ungrounded=False)


def test_sentence_numbers_become_exact_evidence() -> None:
    sentences = split_sentences(TEXT)
    event = ground_event(_wire(), SPECS["visit"], sentences, analyze(TEXT))
    [span] = event.evidence
    assert TEXT[span.start : span.end] == span.text
    assert span.text.startswith("On August 23rd")


def test_the_window_is_the_cited_sentences_and_the_next() -> None:
    text = "Acme grew. Acme signed a deal with Bolt. It was in Oslo. Later, Acme hired staff."
    sentences = split_sentences(text)
    event = ground_event(_wire(type="mou", sent=[2], parties=["Acme"]), SPECS["mou"],
                         sentences, analyze(text))
    assert [s.text for s in window(event.evidence, sentences)] == [
        "Acme signed a deal with Bolt.", "It was in Oslo."]


def test_values_outside_the_window_are_dropped_with_a_warning() -> None:
    text = ("On May 4, 2021, Acme Motors opened a plant in Lisbon. Acme has 900 staff. "
            "Acme Motors signed an agreement with Bolt Cells. Analysts were pleased.")
    event = _wire(type="mou", sent=[3], parties=["Acme Motors", "Bolt Cells", "Tesla"],
                  date="May 4", location="Lisbon")
    [kept], _ = _ground(event, text)
    assert kept.parties == ["Acme Motors", "Bolt Cells"]
    assert kept.date is None and kept.location is None
    assert {w.split("'")[1] for w in kept.warnings} == {"Tesla", "May 4", "Lisbon"}


def test_nothing_from_the_prompt_examples_comes_out_of_another_article() -> None:
    system = Prompts().system(SPECS.values())
    answers = [json.loads(a) for a in re.findall(r"^Answer: (.*)$", system, flags=re.M)]
    assert answers, "the prompt has examples"
    text = ("Kaito Power signed a supply agreement with Rennet Grid in Nagoya on June 9. "
            "Kaito will deliver 3 GWh of storage systems.")
    events: list[WireEvent] = [FreeEvent(**e) for a in answers for e in a["events"]]
    kept, _ = ground(events, SPECS, split_sentences(text), analyze(text), keep_ungrounded=False)
    example_values = {v for a in answers for e in a["events"] for k, v in e.items()
                      if isinstance(v, str) and k != "type"}
    example_values |= {v for a in answers for e in a["events"] for v in e.get("parties", [])}
    for g in kept:
        values = [*g.parties, *(p.text for p in g.people),
                  *(v for vs in g.details.values() for v in vs), g.date or "", g.location or ""]
        assert not example_values & set(values)


def test_a_person_named_as_a_party_is_kept_as_a_person_only() -> None:
    text = "Zhang Wei of Orla Cells signed the agreement with Tamsin Motors in Lyon."
    event = _wire(type="mou", sent=[1], parties=["Zhang Wei", "Tamsin Motors"],
                  people=["Zhang Wei"])
    [kept], _ = _ground(event, text)
    assert kept.parties == ["Tamsin Motors"]
    assert [p.text for p in kept.people] == ["Zhang Wei"]


def test_job_titles_and_common_nouns_are_not_parties() -> None:
    text = ("Managing Director Chen Meifa said the subsidiaries of Orla Cells signed a "
            "partnership agreement with Tamsin Motors.")
    event = _wire(type="mou", sent=[1], parties=["Managing", "subsidiaries", "Tamsin Motors"])
    [kept], _ = _ground(event, text)
    assert kept.parties == ["Tamsin Motors"]


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [("mou", "Acme Motors reported a significant rise in sales."),
     ("mou", "The impact on Acme Motors was large."),
     ("order", "Acme Motors staff crossed the border."),
     ("meeting", "Acme Motors raised its exports.")],
)
def test_type_words_match_whole_words_not_substrings(kind: str, sentence: str) -> None:
    roles = {"mou": {"parties": ["Acme Motors"]}, "order": {"buyer": "Acme Motors"},
             "meeting": {"organizer": "Acme Motors"}}[kind]
    kept, dropped = _ground(_wire(type=kind, sent=[1], **roles), sentence)
    assert kept == [] and f"never states a {kind}" in dropped[0]


def test_type_words_match_inflected_forms() -> None:
    text = "Acme Motors inked a partnership with Bolt Cells on Monday."
    [kept], _ = _ground(_wire(type="mou", sent=[1], parties=["Acme Motors", "Bolt Cells"]),
                        text)
    assert kept.parties == ["Acme Motors", "Bolt Cells"]


def test_events_without_evidence_are_dropped_unless_asked() -> None:
    sentences = split_sentences(TEXT)
    events = [_wire(sent=[99]), _wire(visitor="Nobody Inc")]
    kept, dropped = ground(events, SPECS, sentences, analyze(TEXT), keep_ungrounded=False)
    assert kept == [] and len(dropped) == 2
    kept, _ = ground(events, SPECS, sentences, analyze(TEXT), keep_ungrounded=True)
    assert len(kept) == 2 and all(any("ungrounded" in w for w in e.warnings) for e in kept)


# ------------------------------------------------------------ exact fields (issue 22, item 7)

@pytest.mark.parametrize(
    ("text", "value"),
    [("Researchers at Oxford welcomed the plan.", "Ford"),
     ("Samsung SDS won the contract.", "Samsung SDI"),
     ("The deal is worth USD 140 million.", "USD 40 million"),
     ("The deal is worth USD 140 million.", "40 million"),
     ("Pellmar Group2 signed.", "Pellmar Group"),
     ("Dunmore Cells ordered 120 GWh.", "20 GWh")],
)
def test_values_match_whole_words_and_fuzzy_never_changes_a_digit_or_acronym(
    text: str, value: str
) -> None:
    assert find_span(text, value) is None


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [("Ford Motor said so.", "Ford", "Ford"),
     ("The Acme-Bolt deal closed.", "Acme", "Acme"),
     ("Dunmore Cells ordered 20GWh.", "20 GWh", "20GWh"),
     ("克拉伦电池签约", "克拉伦", "克拉伦")],
)
def test_whole_words_still_match_beside_punctuation_spacing_and_cjk(
    text: str, value: str, found: str
) -> None:
    span = find_span(text, value)
    assert span is not None and span.text == found


def test_dates_and_amounts_come_only_from_the_cited_sentences() -> None:
    text = ("Dunmore Cells ordered 120 GWh from Pellmar Energy on March 15, 2024. "
            "Earlier, on March 1, Dunmore bought 20 GWh.")
    event = _wire(type="order", sent=[2], buyer="Dunmore", supplier=None,
                  quantity="120 GWh", date="March 15, 2024")
    # the model cites sentence 2 but takes both values from sentence 1
    [kept], _ = _ground(event, text)
    assert kept.date is None and "quantity" not in kept.details
    neighbour = [w for w in kept.warnings if "neighbouring sentence" in w]
    assert len(neighbour) == 2 and any("120 GWh" in w for w in neighbour)


def test_values_in_the_cited_sentence_are_kept() -> None:
    text = "Dunmore Cells ordered 120 GWh from Pellmar Energy on March 15, 2024. Shares rose."
    event = _wire(type="order", sent=[1], buyer="Dunmore Cells", supplier="Pellmar Energy",
                  quantity="120 GWh", date="March 15, 2024")
    [kept], _ = _ground(event, text)
    assert kept.details["quantity"] == ["120 GWh"] and kept.date == "March 15, 2024"


def test_a_list_field_keeps_every_value() -> None:
    text = ("Orvane Motors and Teskel Grid held talks in Oslo on battery recycling, "
            "grid storage and hydrogen.")
    event = _wire(type="meeting", sent=[1], organizer="Orvane Motors",
                  topics=["battery recycling", "grid storage", "hydrogen"])
    [kept], _ = _ground(event, text)
    assert kept.details["topics"] == ["battery recycling", "grid storage", "hydrogen"]
    [meeting] = normalize([kept], text, None, analyze(text))
    assert isinstance(meeting, Meeting)
    assert meeting.topics == ["battery recycling", "grid storage", "hydrogen"]


# ------------------------------------- parties named before "the two sides" (issue 22, 3)

TOLD_BEFORE = (
    "Quillon Cells and Halvard Motors sign battery supply pact\n\n"
    "Quillon Cells will supply battery cells to Halvard Motors from 2026. "
    "The two sides signed the agreement in Oslo on Monday. "
    "Deliveries start in May. "
    "Analysts at Brightwater Research expect more such deals."
)


def test_parties_the_cited_sentence_calls_the_two_sides_are_found_in_the_lede() -> None:
    [kept], dropped = _ground(_wire(type="mou", sent=[3], parties=["Quillon Cells",
                                                                  "Halvard Motors"]),
                              TOLD_BEFORE)
    assert dropped == []
    assert kept.roles["parties"] == ["Quillon Cells", "Halvard Motors"]
    assert [s.text for s in kept.evidence] == ["The two sides signed the agreement in Oslo "
                                               "on Monday."]


def test_a_sentence_that_refers_to_no_one_takes_no_party_from_elsewhere() -> None:
    text = ("Quillon Cells and Halvard Motors sign battery supply pact\n\n"
            "Brightwater Research signed a framework agreement with Tamsin Labs in Oslo. "
            "Tamsin Labs makes battery sensors.")
    kept, _ = _ground(_wire(type="mou", sent=[2], parties=["Quillon Cells",
                                                               "Tamsin Labs"]), text)
    [event] = kept
    assert event.roles["parties"] == ["Tamsin Labs"]  # Quillon is named, but not referred to
    assert any("'Quillon Cells' is not in the event's evidence" in w for w in event.warnings)


def test_an_organization_named_only_after_the_cited_sentence_is_not_an_antecedent() -> None:
    [kept], _ = _ground(_wire(type="mou", sent=[3], parties=["Brightwater Research",
                                                            "Quillon Cells"]), TOLD_BEFORE)
    assert kept.roles["parties"] == ["Quillon Cells"]
