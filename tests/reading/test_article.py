from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
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
from newsie.reading.published import find_published


def test_a_file_path_and_its_text_give_the_same_text() -> None:
    from_path = load_article(SEEDS[2])
    from_text = load_article(SEEDS[2].read_text())
    assert from_path.text == from_text.text
    assert from_path.source == str(SEEDS[2])
    assert from_text.source.startswith("text:")
    assert from_path.text.startswith("In Uncategorized")


def test_a_str_that_names_a_file_is_text_not_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = not-for-the-model\n")
    article = load_article(str(secret))
    assert article.text == str(secret)
    assert "not-for-the-model" not in article.text and article.source.startswith("text:")


def test_a_file_is_named_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Acme Motors met Borealis Cells in Oslo.")
    monkeypatch.chdir(tmp_path)
    plain = load_article(Path("a.txt"))
    roundabout = load_article(Path("sub/../a.txt"))
    assert plain.source == roundabout.source == str(tmp_path.resolve() / "a.txt")
    assert plain.identity == roundabout.identity
    assert plain.identity != load_article(Path("a.txt"), source="elsewhere").identity


def _fifo_with(tmp_path: Path, write: Callable[[int], None]) -> tuple[Path, threading.Thread]:
    fifo = tmp_path / "article.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        fd = os.open(fifo, os.O_WRONLY)  # blocks until a reader opens it
        try:
            write(fd)
        except BrokenPipeError:  # the reader stopped reading: what a limit does
            pass
        finally:
            os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    return fifo, thread


def test_a_fifo_is_read_as_a_stream(tmp_path: Path) -> None:
    text = "Acme Motors ordered 5 GWh of cells from Borealis Cells."
    fifo, thread = _fifo_with(tmp_path, lambda fd: os.write(fd, text.encode()) and None)
    article = load_article(fifo)
    thread.join(timeout=5)
    assert article.text == text and article.source == str(fifo)


def test_a_stream_over_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    release = threading.Event()

    def endless(fd: int) -> None:  # never closes until told: reading to the end would hang
        os.write(fd, b"a" * 4096)
        release.wait(timeout=30)

    fifo, _ = _fifo_with(tmp_path, endless)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            load_article(fifo, max_bytes=1_000)
        except BaseException as exc:  # the test looks at it below
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    release.set()
    assert not reader.is_alive(), "the stream was read to its end"
    assert len(outcome) == 1 and isinstance(outcome[0], ArticleTooLargeError)
    assert str(fifo) in str(outcome[0])


def test_a_folder_given_as_an_article_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MalformedArticleError, match="folder"):
        load_article(tmp_path)


def test_text_input_is_named_by_its_fingerprint() -> None:
    article = load_article("Acme met Beta in Oslo.\r\n\r\n\r\nThey signed a deal.  ")
    same = load_article("Acme met Beta in Oslo.\n\nThey signed a deal.")
    assert article.source == same.source == "text:" + article.fingerprint[:12]


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


def test_bytes_that_fit_no_encoding_are_refused() -> None:
    with pytest.raises(BinaryInputError, match="neither UTF-8 nor any encoding"):
        load_article(b"\xff\xfe\xfa" * 400)


@pytest.mark.parametrize(
    ("sentences", "encoding"),
    [
        ("宁德时代与一家德国汽车制造商签署了电池供应协议。双方将在欧洲建设新的工厂。", "gbk"),
        ("寧德時代與一家德國汽車製造商簽署了電池供應協議。雙方將在歐洲建設新的工廠。", "big5"),
        ("パナソニックは米国の自動車メーカーと電池の供給契約を結んだ。両社は新しい工場を建設する。",
         "shift_jis"),
        ("Renault\u2019s chief executive said the \u201cAmp\u00e8re\u201d deal with "
         "Société Générale was signed in Paris on Tuesday.", "cp1252"),
    ],
)
def test_news_in_legacy_encodings_is_decoded(
    sentences: str, encoding: str, tmp_path: Path
) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(sentences.encode(encoding))
    assert load_article(path).text == sentences
    assert load_article(sentences.encode(encoding)).text == sentences


def test_utf8_text_with_one_stray_byte_stays_utf8() -> None:
    raw = "Müller of Zürich met Beta in Malmö. ".encode() * 3 + b"\xff"
    assert load_article(raw).text.startswith("Müller of Zürich met Beta in Malmö.")


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


@pytest.mark.parametrize("raw", ['{"id": 1, "title": "no content"}', '[{"title": "x"}]'])
def test_json_post_without_content_is_refused(raw: str) -> None:
    with pytest.raises(MalformedArticleError, match="not a WordPress post"):
        load_article(raw)


@pytest.mark.parametrize(
    "text",
    [
        "[Exclusive] CATL signs a battery supply deal with Acme Motors.",
        "{{ site.header }}\nAcme Motors signed a supply agreement with Borealis Cells.",
        "{Update} Acme Motors ordered 5 GWh of cells from Borealis Cells.",
        "[1, 2, 3]",
    ],
)
def test_text_opening_with_a_bracket_is_text_not_json(text: str) -> None:
    assert load_article(text).text == text


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(MalformedArticleError):
        load_article("[" * 100_000 + "]" * 100_000)


def test_article_objects_pass_through() -> None:
    article = Article(text="Acme met Beta.", source="mine")
    assert load_article(article) is article


def test_published_argument_wins() -> None:
    assert load_article("Acme met Beta.", published="2024-01-02").published == "2024-01-02"
    dated = "OSLO, Norway, May 2, 2023 /Acme Wire/ -- Acme Motors met Beta."
    assert load_article(dated, published="2024-01-02").published == "2024-01-02"


# Invented articles: where each kind of page or wire copy states its date of publication.
@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("OSLO, Norway, Nov. 7, 2024 /PRNewswire/ -- Borealis Cells signed a supply "
         "agreement with Acme Motors on November 4.", "2024-11-07"),
        ("TRONDHEIM, Norway, Jan. 15, 2025 (GLOBE NEWSWIRE) -- Acme Motors met Borealis.",
         "2025-01-15"),
        ("STAVANGER--(BUSINESS WIRE)--March 5, 2024--Acme Motors ordered cells.",
         "2024-03-05"),
        ("BERGEN, 5. März 2024 \u2013 Acme Motors unterzeichnete einen Vertrag.", "2024-03-05"),
        ("Acme and Borealis sign supply deal\n\nRelease time: 2024-03-05 10:30\n\n"
         "Acme Motors signed a deal.", "2024-03-05"),
        ("Published: 5 March 2024\n\nAcme Motors signed a deal with Borealis Cells.",
         "2024-03-05"),
        ("Posted on April 9, 2024 by the newsroom\n\nAcme Motors met Borealis Cells.",
         "2024-04-09"),
        ("By Kari Nordmann | June 12, 2024 | 3 min read\n\nAcme Motors met Borealis.",
         "2024-06-12"),
        ("Date: 2024/07/01\nAcme Motors met Borealis Cells.", "2024-07-01"),
        ("发布时间\uff1a2024-03-05\n宁德时代与一家德国汽车制造商签署了协议。", "2024-03-05"),
        # none: no year, no date at the top, an event's date in a sentence, an empty label
        ("TROMSO, March 3 (Reuters) - Acme Motors met Borealis Cells.", None),
        ("Acme Motors met Borealis Cells.\n\nRelease time:\n\nOn August 23rd, they met.",
         None),
        ("On March 5, 2024, Acme Motors signed a deal - the largest yet.", None),
        ("Acme, founded in Oslo on March 5, 2024 - a start-up - ordered cells.", None),
        ("Q3 2024 results - Acme Motors grew.", None),
        ("Acme Motors met Borealis.\n" + "More words.\n" * 20 + "Published: 2024-03-05", None),
    ],
)
def test_the_publication_date_is_read_where_the_article_gives_it(
    text: str, day: str | None
) -> None:
    assert find_published(text) == day
    assert load_article(text).published == day


def test_a_title_that_holds_a_date_is_not_the_publication_date() -> None:
    assert find_published("March 5, 2024\n\nAcme Motors met Borealis.", "March 5, 2024") is None


# ---------------------------------------------------------------- issue 23, items 5-8

ORDER = "Acme Motors ordered 5 GWh of cells from Borealis Cells in Oslo."


@pytest.mark.parametrize(
    "fragment",
    [f"<ul><li>{ORDER}</li><li>Deliveries start in May.</li></ul>",
     f"<table><tr><td>{ORDER}</td></tr></table>",
     f"<section>{ORDER}</section>",
     f'<a href="https://news.example/1">{ORDER}</a>'],
)
def test_html_fragments_are_read_as_html(fragment: str) -> None:
    article = load_article(fragment)
    assert ORDER in article.text and "<" not in article.text


@pytest.mark.parametrize("text", ["Margins were <5% and >2% in May.", "Use a<b in the formula."])
def test_angle_brackets_in_text_are_not_html(text: str) -> None:
    assert load_article(text).text == text


def test_a_list_of_wordpress_posts_is_one_article_per_post(tmp_path: Path) -> None:
    from newsie.extraction.batch import expand_inputs

    posts = [
        {"id": 11, "link": "https://news.example/a", "title": {"rendered": "A"},
         "content": {"rendered": f"<p>{ORDER}</p>"}, "date_gmt": "2024-03-01T08:00:00"},
        {"id": 12, "title": {"rendered": "B"},
         "content": {"rendered": "<p>Borealis Cells met Acme Motors in Bergen.</p>"}},
        {"id": 13, "content": {"rendered": ""}},
    ]
    feed = tmp_path / "posts.JSON"
    feed.write_text(json.dumps(posts))
    items = list(expand_inputs([feed]))
    assert [getattr(i, "source", None) for i in items] == [
        "https://news.example/a", f"{feed}#12", f"{feed}#13"]
    first, second, empty = items
    assert isinstance(first, Article) and first.text == ORDER
    assert first.published == "2024-03-01" and first.title == "A"
    assert isinstance(second, Article) and "Bergen" in second.text
    assert not isinstance(empty, Article) and empty.error == "EmptyArticleError"
    with pytest.raises(MalformedArticleError, match="3 posts"):  # one call, one article
        load_article(json.dumps(posts))


def test_an_article_object_honours_the_callers_source_and_date() -> None:
    article = Article(text=ORDER, source="mine", published="2023-01-01")
    given = load_article(article, source="https://news.example/1", published="March 5, 2024")
    assert (given.source, given.published, given.text) == (
        "https://news.example/1", "2024-03-05", ORDER)


@pytest.mark.parametrize("bad", ["", "   ", b"\x00\x01\x02" * 10])
def test_a_text_that_fails_is_named_like_one_that_succeeds(bad: str | bytes) -> None:
    from newsie.reading.article import source_of

    assert source_of(ORDER) == load_article(ORDER).source
    assert source_of(bad).startswith("text:") and source_of(bad) != source_of("other")
