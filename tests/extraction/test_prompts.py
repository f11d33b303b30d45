from __future__ import annotations

from pathlib import Path

import pytest

from newsie import Article, TemplateError
from newsie.extraction.prompts import EVENTS_QUESTION, Prompts, default_prompt_dir, messages
from newsie.extraction.registry import BUILTIN
from newsie.reading.sentences import split_sentences


def _messages(text: str, prompts: Prompts | None = None) -> list[dict[str, str]]:
    article = Article(text=text, source="t")
    prompts = prompts or Prompts()
    return messages(prompts.system(BUILTIN), prompts.article(article, split_sentences(text)),
                    prompts.render(EVENTS_QUESTION))


def test_what_every_article_shares_comes_first() -> None:
    """The server's prompt cache serves a shared prefix: instructions and examples."""
    one, two = _messages("Acme met Beta."), _messages("Gamma bought cells from Delta.")
    assert one[0] == two[0]
    assert one[0]["role"] == "system" and "Acme" not in one[0]["content"]
    assert one[1]["content"].startswith("[1] Acme met Beta.")


def test_every_type_is_defined_with_its_roles() -> None:
    system = _messages("Acme met Beta.")[0]["content"]
    for spec in BUILTIN:
        assert f"- {spec.name}: {spec.definition}" in system
        assert all(role in system for role in spec.roles)


def test_sentences_are_numbered_in_the_prompt() -> None:
    messages = _messages("Acme met Beta. They signed a deal.")
    assert messages[0]["role"] == "system" and "visit" in messages[0]["content"]
    assert "[1] Acme met Beta.\n[2] They signed a deal." in messages[1]["content"]


def test_jinja_in_the_article_stays_literal() -> None:
    text = "Profit was {{ 7*7 }} million. {% for x in range(3) %}loop{% endfor %}"
    content = _messages(text)[1]["content"]
    assert "{{ 7*7 }}" in content and "49" not in content
    assert "{% for x in range(3) %}loop{% endfor %}" in content


def test_user_templates_override_the_packaged_ones(tmp_path: Path) -> None:
    (tmp_path / "extract.j2").write_text("ARTICLE {{ sentences | length }}")
    messages = _messages("One. Two.", Prompts(tmp_path))
    assert messages[1]["content"].startswith("ARTICLE 2\n\n")
    assert "visit" in messages[0]["content"]  # system.j2 still the packaged one


def test_a_template_reaching_python_internals_is_refused(tmp_path: Path) -> None:
    (tmp_path / "extract.j2").write_text(
        "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    )
    with pytest.raises(TemplateError, match="unsafe"):
        _messages("Acme met Beta.", Prompts(tmp_path))


def test_missing_folder_and_template_are_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not found"):
        Prompts(tmp_path / "nope")
    prompts = Prompts(tmp_path)
    with pytest.raises(TemplateError, match=r"nope\.j2"):
        prompts.render("nope.j2")


def test_digest_changes_with_the_template(tmp_path: Path) -> None:
    base = Prompts().digest()
    (tmp_path / "system.j2").write_text("other")
    assert Prompts(tmp_path).digest() != base


def test_packaged_prompts_are_found() -> None:
    assert (default_prompt_dir() / "system.j2").is_file()
