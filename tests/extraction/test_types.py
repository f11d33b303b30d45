"""Your own event types: defined as classes, checked at registration, registered by argument
or by entry point, and built by the same code as the built-in four."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field
from typer.testing import CliRunner

import newsie
from conftest import dist_info
from newsie.cli import app
from newsie.events import Kind, Span
from newsie.extraction.grounding import GroundedEvent
from newsie.extraction.normalize import normalize
from newsie.extraction.registry import (
    BUILTIN,
    SPECS,
    examples_for,
    portable,
    registered,
    resolve_types,
    spec_of,
)
from newsie.extraction.schema import Choices, events_response
from newsie.reading.nlp import analyze

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SRC = ROOT / "examples" / "newsie_investment" / "src"


class Investment(newsie.Event):
    definition = "an investor puts money into a company or buys a stake in it"
    lemmas = ("invest", "stake", "buy")
    examples = newsie.Example(
        sentences=["Kestrel Capital bought a 20% stake in Orla Cells for EUR 50 million."],
        events=[{"sent": [1], "investor": "Kestrel Capital", "target": "Orla Cells",
                 "amount": "EUR 50 million", "stake": "20%"}])

    type: Literal["investment"] = "investment"
    investor: Annotated[str | None, newsie.Org] = None
    target: Annotated[str | None, newsie.Org] = None
    amount: newsie.Money | None = None
    stake: Annotated[str | None, newsie.Phrase] = None
    closing: Annotated[str | None, newsie.When] = None


class Merger(newsie.Event):
    """No Org field: its organizations are all alike, the one role `parties`."""

    definition = "two companies merge into one"
    lemmas = ("merge", "merger")
    examples = '''Article: [1] Alba and Brio merged.
Answer: {"events":[{"type":"{{ type }}","sent":[1],"{{ roles[0] }}":["Alba","Brio"]}]}'''

    type: Literal["merger"] = "merger"
    advisers: Annotated[list[str], newsie.People] = Field(default_factory=list)


# ------------------------------------------------------------------- the specs


def test_builtin_specs_are_read_from_their_classes_like_any_other() -> None:
    assert [s.name for s in BUILTIN] == ["visit", "mou", "order", "meeting"]
    order = SPECS["order"]
    assert order.model is newsie.Order and order.roles == ("buyer", "supplier")
    assert order.details == ("product", "quantity", "value")
    assert order.kinds["quantity"] is Kind.QUANTITY and order.kinds["value"] is Kind.MONEY
    assert SPECS["mou"].roles == ("parties",) and SPECS["mou"].people_field == "signatories"
    assert SPECS["meeting"].people_field == "attendees" and SPECS["meeting"].many("topics")
    assert not order.many("buyer") and SPECS["mou"].many("parties")


def test_a_user_type_becomes_a_spec_with_its_roles_details_and_kinds() -> None:
    spec = spec_of(Investment)
    assert spec.name == "investment" and spec.roles == ("investor", "target")
    assert spec.details == ("amount", "stake", "closing")
    assert spec.kinds == {"investor": Kind.ORG, "target": Kind.ORG, "amount": Kind.MONEY,
                          "stake": Kind.PHRASE, "closing": Kind.DATE}
    assert spec.lemmas == ("invest", "stake", "buy")
    merger = spec_of(Merger)
    assert merger.roles == ("parties",) and merger.people_field == "advisers"
    assert merger.describe()["kinds"] == {"parties": "organization", "advisers": "person"}


def test_a_user_type_is_asked_for_by_the_answer_schema() -> None:
    offered = Choices(sentences=(1,), texts={"org": ("Kestrel", "Orla"),
                                             "money": ("EUR 5 million",)})
    response = events_response([spec_of(Investment), SPECS["order"]], offered)
    answer = response.model_validate({"events": [
        {"type": "investment", "sent": [1], "investor": "Kestrel", "target": "Orla",
         "amount": "EUR 5 million", "stake": "20%"}]})
    event = answer.events[0]
    assert event.kind == "investment" and event.text("amount") == "EUR 5 million"
    with pytest.raises(ValueError):  # an amount the article does not name
        response.model_validate({"events": [
            {"type": "investment", "sent": [1], "investor": "Kestrel", "amount": "EUR 9"}]})


def test_grounded_values_become_the_public_event_by_field_kind() -> None:
    text = "Kestrel Capital bought a 20% stake in Orla Cells for EUR 50 million on March 3."
    span = Span(start=0, end=len(text), text=text)
    grounded = GroundedEvent(
        spec=spec_of(Investment), evidence=[span], people=[],
        roles={"investor": ["Kestrel Capital"], "target": ["Orla Cells"]},
        details={"amount": ["EUR 50 million"], "stake": ["20%"], "closing": ["March 3"]})
    [event] = normalize([grounded], text, "2024-05-01", analyze(text))
    assert isinstance(event, Investment)
    assert (event.investor, event.target, event.stake) == ("Kestrel Capital", "Orla Cells", "20%")
    assert event.amount is not None
    assert (event.amount.amount, event.amount.currency) == (50_000_000, "EUR")
    assert event.closing == "2024-03-03"
    assert [p.role for p in event.parties] == ["investor", "target"]
    assert event.summary == ("Investment: investor Kestrel Capital; target Orla Cells; "
                             "amount EUR 50 million; stake 20%; closing 2024-03-03")


# ------------------------------------------------------------------- examples


def test_examples_show_each_article_once_with_only_the_chosen_types_events() -> None:
    everything = examples_for(BUILTIN)
    assert len(everything) == 4 and everything[-1].endswith('Answer: {"events":[]}')
    orla = next(e for e in everything if "Orla Cells" in e)
    assert '"type":"mou"' in orla and '"type":"order"' in orla
    only_orders = examples_for([SPECS["order"]])
    assert only_orders[0] == (
        "Article: [1] Founded in 1998, Orla Cells makes battery cells. [2] At a ceremony in "
        "Lyon, Orla Cells signed an agreement to supply 8 GWh of cells to Tamsin Motors. [3] "
        "Chairman Paul Weir called it a milestone.\n"
        'Answer: {"events":[{"type":"order","sent":[2],"buyer":"Tamsin Motors",'
        '"supplier":"Orla Cells","people":[],"location":"Lyon","product":"cells",'
        '"quantity":"8 GWh"}]}')
    assert not any('"type":"mou"' in e or '"type":"meeting"' in e for e in only_orders)


def test_a_data_example_gets_its_type_and_a_template_example_is_rendered() -> None:
    [investment] = examples_for([spec_of(Investment)])
    assert '{"events":[{"type":"investment","sent":[1],"investor":"Kestrel Capital"' \
        in investment
    [merger] = examples_for([spec_of(Merger)])
    assert merger.endswith('{"events":[{"type":"merger","sent":[1],"parties":["Alba","Brio"]}]}')


# ------------------------------------------------------- bad definitions refused


def _define(fields: dict[str, Any], **attributes: Any) -> type[newsie.Event]:
    namespace: dict[str, Any] = {
        "__annotations__": {"type": Literal["deal"],
                            **{k: v[0] for k, v in fields.items()}},
        "type": "deal", "definition": "a deal is made", "lemmas": ("deal",),
        **{k: v[1] for k, v in fields.items() if v[1] is not ...}, **attributes,
    }
    return type("Deal", (newsie.Event,), namespace)


ORG = (Annotated[str | None, newsie.Org], None)


@pytest.mark.parametrize(
    ("fields", "attributes", "field", "says"),
    [
        ({"buyer": ORG}, {"definition": ""}, "'definition'", "missing"),
        ({"buyer": ORG}, {"lemmas": ()}, "'lemmas'", "words"),
        ({"buyer": ORG}, {"lemmas": "deal"}, "'lemmas'", "words"),
        ({"buyer": ORG}, {"lemmas": ("make a deal",)}, "'lemmas'", "one word"),
        ({"note": (str | None, None)}, {}, "field 'note'", "cannot be grounded"),
        ({"count": (Annotated[int | None, newsie.Phrase], None)}, {}, "field 'count'",
         "cannot be grounded"),
        ({"size": (Annotated[str | None, newsie.Amount], None)}, {}, "field 'size'",
         "Quantity | None"),
        ({"buyer": (Annotated[str | None, newsie.Org], ...)}, {}, "field 'buyer'", "default"),
        ({"buyer": (Annotated[str, newsie.Org], None)}, {}, "field 'buyer'",
         "an organization field is str | None or list[str], not str"),
        ({"a": (Annotated[list[str], newsie.People], []),
          "b": (Annotated[list[str], newsie.People], [])}, {}, "field 'b'", "one people"),
        ({"sent": ORG}, {}, "field 'sent'", "every type"),
        ({"buyer": ORG}, {"examples": [newsie.Example(
            sentences=["Acme made a deal."], events=[{"sent": [1], "seller": "Acme"}])]},
         "'examples' (example 1)", "'seller' is not a field of deal"),
        ({"buyer": ORG}, {"examples": [newsie.Example(
            sentences=["Acme made a deal."], events=[{"sent": [1], "buyer": "Zenith"}])]},
         "'examples' (example 1)", "'Zenith' is not in its sentences"),
        ({"buyer": ORG}, {"examples": [newsie.Example(
            sentences=["Acme made a deal."], events=[{"sent": [2], "buyer": "Acme"}])]},
         "'examples' (example 1)", "sentences 1 to 1"),
        ({"buyer": ORG}, {"examples": "Answer: {{ nothing_here }}"}, "'examples'",
         "does not render"),
        ({"buyer": ORG}, {"examples": "{% for %}"}, "'examples'", "does not render"),
        ({"buyer": ORG}, {"examples": "{{ ''.__class__.__mro__ }}"}, "'examples'",
         "does not render"),
        ({"buyer": ORG}, {"examples": Path("/nonexistent/deal.j2")}, "'examples'",
         "cannot read"),
    ],
)
def test_a_bad_definition_fails_at_registration_naming_type_and_field(
    fields: dict[str, Any], attributes: dict[str, Any], field: str, says: str,
) -> None:
    with pytest.raises(newsie.TypeDefinitionError) as caught:
        resolve_types([_define(fields, **attributes)])
    message = str(caught.value)
    assert "event type Deal ('deal')" in message and field in message and says in message


def test_a_type_without_a_fixed_name_is_refused() -> None:
    loose = type("Loose", (newsie.Event,), {"definition": "x", "lemmas": ("x",)})
    with pytest.raises(newsie.TypeDefinitionError, match="Loose, field 'type'"):
        spec_of(loose)


def test_a_name_taken_by_a_builtin_or_by_another_class_is_refused() -> None:
    order = type("MyOrder", (newsie.Event,), {
        "__annotations__": {"type": Literal["order"]}, "type": "order",
        "definition": "an order", "lemmas": ("order",)})
    with pytest.raises(newsie.TypeDefinitionError, match=r"MyOrder.*'order' is a built-in"):
        resolve_types([order])
    twin = type("Investment", (newsie.Event,), {
        "__annotations__": {"type": Literal["investment"]}, "type": "investment",
        "definition": "again", "lemmas": ("invest",)})
    with pytest.raises(newsie.TypeDefinitionError, match="duplicate name: 'investment'"):
        resolve_types([Investment, twin])


# ---------------------------------------------------------------- types= choice


def test_names_narrow_and_classes_extend() -> None:
    assert list(resolve_types(None)) == ["visit", "mou", "order", "meeting"]
    assert list(resolve_types(["order"])) == ["order"]
    assert list(resolve_types("order")) == ["order"]
    assert list(resolve_types([Investment])) == [
        "visit", "mou", "order", "meeting", "investment"]
    assert list(resolve_types(["order", Investment])) == ["order", "investment"]
    assert list(resolve_types(["investment", Investment])) == ["investment"]
    assert resolve_types([Investment])["investment"].model is Investment


def test_a_type_given_by_import_path_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    specs = resolve_types(["order", "newsie_investment:Investment"])
    assert list(specs) == ["order", "investment"]
    assert specs["investment"].model.__module__ == "newsie_investment"


@pytest.mark.parametrize(("types", "says"), [
    (["orders"], "unknown event type 'orders'"),
    (["no_such_module_xyz:Thing"], "cannot import event type"),
    (["newsie:Party"], "not a subclass of newsie.Event"),
    ([], "names no event type"),
])
def test_a_type_that_is_not_there_is_a_clear_error(types: list[str], says: str) -> None:
    with pytest.raises(newsie.UnknownTypeError, match=says):
        resolve_types(types)


def test_classes_travel_to_other_processes_by_import_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    from newsie_investment import Investment as Packaged

    assert portable(["order", Packaged]) == ["order", "newsie_investment:Investment"]
    assert portable(None) is None

    class Local(newsie.Event):
        definition = "x"
        lemmas = ("x",)
        type: Literal["local"] = "local"

    with pytest.raises(newsie.UnknownTypeError, match="define it in a module"):
        portable([Local])


# ------------------------------------------------------------------ entry points


def test_the_example_package_registers_investment_by_entry_point(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_registry: None,
) -> None:
    pyproject = (ROOT / "examples" / "newsie_investment" / "pyproject.toml").read_text()
    line = next(x for x in pyproject.splitlines() if x.startswith("investment = "))
    line = line.replace("\"", "")  # TOML quotes it; entry_points.txt does not
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(dist_info(tmp_path, "newsie-investment", line)))
    specs = registered()
    assert list(specs) == ["visit", "mou", "order", "meeting", "investment"]
    assert specs["investment"].roles == ("investor", "target")
    assert list(resolve_types(["investment"])) == ["investment"]
    stored = newsie.Extraction.model_validate_json(
        '{"source": "a", "text": "t", "model": "m", "events": [{"type": "investment", '
        '"summary": "s", "amount": {"amount": 5.0, "currency": "EUR", "text": "EUR 5"}}]}')
    assert type(stored.events[0]) is specs["investment"].model


def test_a_package_whose_types_fail_to_load_is_a_warning_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_registry: None,
) -> None:
    monkeypatch.syspath_prepend(str(dist_info(tmp_path / "a", "newsie-broken",
                                          "broken = newsie_missing_module_xyz:Thing")))
    monkeypatch.syspath_prepend(str(dist_info(tmp_path / "b", "newsie-clash",
                                          "order = newsie:Order\nvisit = newsie:Party")))
    with pytest.warns(RuntimeWarning) as caught:
        specs = registered()
    messages = " | ".join(str(w.message) for w in caught)
    assert "'newsie-broken'" in messages and "newsie_missing_module_xyz" in messages
    assert "'newsie-clash'" in messages and "not a subclass of newsie.Event" in messages
    assert list(specs) == ["visit", "mou", "order", "meeting"]


# --------------------------------------------------------------------------- CLI


def test_cli_types_are_checked_before_any_article(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Acme signed a deal.")
    result = CliRunner().invoke(app, ["extract", str(article), "--types", "order,orders"])
    assert result.exit_code == 2
    assert "unknown event type 'orders'" in result.output


def test_cli_types_reach_the_extractor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Acme signed a deal.")
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    seen: dict[str, Any] = {}

    class SpyExtractor(newsie.Extractor):
        def __init__(self, **options: Any) -> None:
            seen.update(options)
            super().__init__(**options)

        def extract(self, data: Any, **_: Any) -> newsie.Extraction:
            return newsie.Extraction(source=str(article), text="t", model="m")

    monkeypatch.setattr(newsie, "Extractor", SpyExtractor)
    result = CliRunner().invoke(app, ["extract", str(article), "-q", "--types", "order",
                                      "-t", "newsie_investment:Investment"])
    assert result.exit_code == 0, result.output
    assert seen["types"] == ["order", "newsie_investment:Investment"]



# ------------------------------------------------------------------------ report


def test_the_report_colours_every_type_and_keeps_type_names_out_of_its_css() -> None:
    from newsie.output.report import render

    text = "Kestrel Capital bought a stake in Orla Cells."
    span = Span(start=0, end=len(text), text=text)
    hostile = 'x}</style><script>alert(1)</script>'
    result = newsie.Extraction(source="a.txt", text=text, model="m", events=[
        Investment(summary="Kestrel invested", investor="Kestrel Capital", evidence=[span]),
        newsie.Event.model_validate({"type": hostile, "summary": "odd", "evidence": [span]}),
    ])
    page = render([result])
    style = page[page.index("<style>"):page.index("</style>")]
    assert "investment" not in style and "alert" not in style
    assert "<script>alert" not in page
    for index, name in enumerate(["investment", "x}&lt;/style&gt;"]):
        assert f".ev-{index} {{ background:" in style
        assert f'<span class="ev-{index}">{name}' in page


def test_the_readme_type_registers_as_written() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Your own event types"):]
    start = section.index("```python\n") + len("```python\n")
    code = section[start:section.index("\n```", start)]
    definition = code[:code.index("\nresult = ")]
    assert len(code.splitlines()) < 20
    namespace: dict[str, Any] = {}
    exec(compile(definition, "README.md", "exec", dont_inherit=True), namespace)
    spec = spec_of(namespace["Investment"])
    assert spec.roles == ("investor", "target") and spec.kinds["amount"] is Kind.MONEY
    assert "stake" in spec.details and '"stake":"20%"' in examples_for([spec])[0]
