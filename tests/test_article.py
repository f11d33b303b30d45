from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEEDS
from newsie import (
    Article,
    ArticleTooLargeError,
    BinaryInputError,
    EmptyArticleError,
    MalformedArticleError,
    load_article,
)


def test_plain_text_path_and_string_give_the_same_text() -> None:
    from_path = load_article(SEEDS[2])
    from_str_path = load_article(str(SEEDS[2]))
    from_text = load_article(SEEDS[2].read_text())
    assert from_path.text == from_str_path.text == from_text.text
    assert from_path.source == str(SEEDS[2])
    assert from_text.source.startswith("text:")
    assert from_path.text.startswith("In Uncategorized")


def test_truncated_wordpress_json_is_recovered() -> None:
    raw = SEEDS[4].read_text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    article = load_article(raw)
    assert article.published == "2024-03-26"
    assert article.title is not None and "LEAD Chairman Yanqing Wang" in article.title
    assert article.text.startswith("Battery-News is a German media focus in battery.")
    assert "top European sports car maker" in article.text
    assert "<" not in article.text and "\\/" not in article.text


def test_html_page_gives_text_title_and_date() -> None:
    page = (
        "<html><head><title>Acme signs deal</title>"
        '<meta property="article:published_time" content="2023-05-04T10:00:00Z"></head>'
        "<body><nav>Home | About</nav><article><h1>Acme signs deal</h1>"
        "<p>Acme Motors signed a supply agreement with Borealis Cells on May 4.</p>"
        "<p>Borealis will deliver 5 GWh of cells.</p></article></body></html>"
    )
    article = load_article(page)
    assert "Acme Motors signed a supply agreement" in article.text
    assert "<p>" not in article.text
    assert article.title == "Acme signs deal"
    assert article.published == "2023-05-04"


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_input_is_refused(text: str) -> None:
    with pytest.raises(EmptyArticleError, match="no text"):
        load_article(text)


def test_binary_bytes_are_refused() -> None:
    with pytest.raises(BinaryInputError, match="binary"):
        load_article(bytes(range(256)) * 10)


def test_invalid_utf8_is_refused_with_the_offset() -> None:
    with pytest.raises(BinaryInputError, match="not UTF-8"):
        load_article(b"\xff\xfe\xfa" * 400)


def test_a_few_bad_bytes_in_real_text_are_replaced() -> None:
    article = load_article(b"Acme met Beta in Oslo \xff yesterday.")
    assert article.text.startswith("Acme met Beta in Oslo")


def test_oversized_input_names_the_size() -> None:
    with pytest.raises(ArticleTooLargeError, match="MB"):
        load_article("x" * 2_000, max_bytes=1_000)


def test_five_megabyte_page_of_text_is_refused_cleanly() -> None:
    page = "<html><body>" + "<p>Acme met Beta in Oslo.</p>" * 180_000 + "</body></html>"
    assert len(page) > 5_000_000
    with pytest.raises(ArticleTooLargeError, match="characters"):
        load_article(page)


def test_big_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * 3_000)
    with pytest.raises(ArticleTooLargeError, match=str(path)):
        load_article(path, max_bytes=1_000)


@pytest.mark.parametrize("raw", ['{"id": 1, "title": "no content"}', "[1, 2, 3]", "{"])
def test_json_that_is_not_a_post_is_refused(raw: str) -> None:
    with pytest.raises(MalformedArticleError):
        load_article(raw)


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(MalformedArticleError):
        load_article("[" * 100_000 + "]" * 100_000)


def test_article_objects_pass_through() -> None:
    article = Article(text="Acme met Beta.", source="mine")
    assert load_article(article) is article


def test_published_argument_wins() -> None:
    assert load_article("Acme met Beta.", published="2024-01-02").published == "2024-01-02"
