"""Turn whatever the user hands us (text, HTML, WordPress REST JSON, a file) into clean text.

Every later offset refers to `Article.text`, so all cleaning happens here, once. Two rules
live here and nowhere else:

- what is a file: a `pathlib.Path` or any `os.PathLike` (`as_path`). A `str` is always the
  article's text, never a file name, so a service that passes its users' text on cannot be
  made to read a local file;
- what an article is, for resuming and ids (`identity`): where it came from (a file's
  absolute path, `<stdin>`, the caller's `source`) and the sha256 of its cleaned text.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..core.errors import (
    ArticleTooLargeError,
    BinaryInputError,
    EmptyArticleError,
    MalformedArticleError,
    NewsieError,
)
from ..core.redact import redact
from ..events import Extraction, Failure
from .dates import parse_published, resolve_date
from .published import find_published

#: Raw input larger than this is refused before any parsing.
MAX_INPUT_BYTES = 10_000_000
#: Cleaned text larger than this is refused: it is not a news article.
MAX_TEXT_CHARS = 200_000

#: A JSON object with one of these is an article (WordPress REST and the like).
_POST_FIELDS = ("content", "title", "excerpt", "date", "date_gmt")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Article:
    """A cleaned article; `text` is what evidence offsets index into."""

    text: str
    source: str
    title: str | None = None
    published: str | None = None

    @property
    def fingerprint(self) -> str:
        """A stable id of the content: the sha256 of the cleaned text."""
        return fingerprint(self.text)

    @property
    def identity(self) -> str:
        """Where it came from and what it says: what a re-run compares to skip it."""
        return identity(self.source, self.fingerprint)


ArticleInput = str | bytes | os.PathLike[str] | Article


def fingerprint(text: str) -> str:
    """The sha256 of an article's cleaned text."""
    return hashlib.sha256(text.encode()).hexdigest()


def identity(source: str, digest: str | None) -> str:
    """`source#sha256`: the same file (or stream, or id) with the same content.

    A record whose content is unknown (a file that could not be read) is only its source;
    such records are failures, which a re-run tries again anyway.
    """
    return source if digest is None else f"{source}#{digest}"


def identity_of(result: Extraction | Failure) -> str:
    """The identity of the article a result was made from (see `identity`)."""
    if isinstance(result, Failure):
        return identity(result.source, None)
    return identity(result.source, fingerprint(result.text))


def as_path(data: object) -> Path | None:
    """The file `data` names, or None when it is the article itself.

    Only a `Path` or another `os.PathLike` names a file: a `str` is always text.
    """
    return Path(data) if isinstance(data, os.PathLike) else None


def display_name(name: str) -> str:
    """A file name as text that can be written anywhere: bytes that are not UTF-8 (kept by
    Python as surrogates) become `\\xNN`, so a record naming the file can be written."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def source_name(path: Path) -> str:
    """A file's source: its absolute path, so `a.txt` and `./a.txt` are one article.

    A regular file is resolved (symlinks too); a stream (`/dev/fd/63`, a FIFO, `/dev/stdin`)
    keeps its own name, since resolving it gives `pipe:[...]`. A name that is not UTF-8
    is shown with `\\xNN` escapes (`display_name`).
    """
    try:
        if path.is_file():
            return display_name(str(path.resolve()))
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on older Pythons
        pass
    return display_name(os.path.abspath(path))


def text_name(cleaned: str, raw: str | bytes) -> str:
    """The one name of a text given without a source: `text:` and the start of the
    fingerprint of its cleaned text, or of its raw bytes when nothing is left after
    cleaning (so two different empty or blank inputs are two names)."""
    if cleaned.strip():
        return text_source(fingerprint(cleaned))
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return text_source(hashlib.sha256(data).hexdigest())


def text_source(fingerprint: str) -> str:
    """The name of a text given without a source: `text:` and the start of a fingerprint."""
    return "text:" + fingerprint[:12]


def source_of(item: ArticleInput) -> str:
    """The source a result of `item` carries, before or without reading it.

    A text (`str`, `bytes`) is `text:<hash>` whether it succeeds or fails (`text_name`).
    """
    if isinstance(item, Article):
        return item.source
    if not isinstance(item, (str, bytes)):
        return source_name(Path(item))
    try:
        cleaned = parse_text(_decode(item, len(item) * 4 + 1), source="<text>").text
    except Exception:  # binary, or not even text: named by its bytes
        cleaned = ""
    return text_name(cleaned, item)


def failure_record(source: str, exc: Exception) -> Failure:
    """One input that gave no `Extraction`; a bug says so instead of posing as bad input."""
    message = str(exc) if isinstance(exc, NewsieError) else f"unexpected error: {exc}"
    return Failure(source=source, error=type(exc).__name__, message=redact(message))


def load_article(
    data: ArticleInput,
    *,
    source: str | None = None,
    published: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> Article:
    """Read a file (`Path`), raw text (`str`), bytes, HTML or WordPress JSON into an `Article`.

    A `str` is always the article's text, never a file name: pass files as `pathlib.Path`.
    Streams (FIFOs, `/dev/stdin`, `<(curl ...)`) are read like files, under `max_bytes`.
    `published` (the caller's publication date) wins over any date the article gives.
    """
    if isinstance(data, Article):  # already read; the caller's source and date still win
        if source:
            data = replace(data, source=source)
        return replace(data, published=parse_published(published)) if published else data
    path = as_path(data)
    if path is not None:
        source = source or source_name(path)
        raw: bytes | str = read_bytes(path, source, max_bytes)
    else:
        raw = data  # type: ignore[assignment]
    return article_from(raw, source=source, published=published, max_bytes=max_bytes,
                        max_chars=max_chars)


def article_from(
    raw: str | bytes,
    *,
    source: str | None,
    published: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
    as_html: bool | None = None,
) -> Article:
    """Clean text or bytes already in hand (`as_html=True`: HTML, whatever it looks like).

    Without a `source`, a text is named `text:` and the start of its fingerprint.
    """
    article = parse_text(_decode(raw, max_bytes), source=source or "<text>", as_html=as_html)
    if source is None:  # the same article, however it was spaced or marked up
        article = replace(article, source=text_name(article.text, raw))
    if not article.text.strip():
        raise EmptyArticleError(f"{article.source}: the article has no text after cleaning")
    if len(article.text) > max_chars:
        raise ArticleTooLargeError(
            f"{article.source}: the cleaned text is {len(article.text):,} characters; "
            f"the limit is {max_chars:,} (max_chars=)"
        )
    if published:  # the caller's date always wins
        return replace(article, published=parse_published(published))
    if article.published is None:  # no metadata: the article's dateline or label, if any
        return replace(article, published=find_published(article.text, article.title))
    return article


def parse_text(text: str, *, source: str, as_html: bool | None = None) -> Article:
    """Pick the reader by the content itself, since file names on the web say little."""
    stripped = text.lstrip()
    sniff = as_html is None
    post = _json_post(stripped, source) if sniff and stripped.startswith(("{", "[")) else None
    if post is not None:
        return _from_wordpress_json(post, source)
    if as_html or (sniff and looks_like_html(stripped[:20000])):
        body, title, published = html_to_text(stripped)
        return Article(body, source, title, published)
    return Article(_tidy(text), source)


class _ElementFinder(HTMLParser):
    """Finds an HTML element a parser would build: a known element (any of lxml's list of
    HTML elements) closed by its end tag, or a void one (`<br>`, `<img>`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.opened: set[str] = set()
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        from lxml.html.defs import empty_tags, tags  # type: ignore[import-untyped]

        if tag in empty_tags:
            self.found = True
        elif tag in tags:
            self.opened.add(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        from lxml.html.defs import tags

        self.found = self.found or tag in tags

    def handle_endtag(self, tag: str) -> None:
        self.found = self.found or tag in self.opened

    def handle_decl(self, decl: str) -> None:
        self.found = self.found or decl.lower().startswith("doctype html")


def looks_like_html(text: str) -> bool:
    """Whether an HTML parser finds markup in `text`: any HTML element (`<table>`, `<ul>`,
    `<a>`...) opened and closed, or a void one. "revenue <5%" or a stray "<b" is text."""
    if "<" not in text:
        return False
    finder = _ElementFinder()
    try:
        finder.feed(text)
        finder.close()
    except Exception:  # the stdlib parser is lenient: what it rejects is text
        return False
    return finder.found


def html_to_text(markup: str) -> tuple[str, str | None, str | None]:
    """Main text, title and publication date of an HTML page or fragment."""
    if not re.search(r"<(html|body)\b", markup, re.I):
        # trafilatura looks for a document; a bare fragment would come back empty.
        markup = f"<html><body><article>{markup}</article></body></html>"
    import trafilatura  # a third of a second to import; plain text never needs it

    doc = trafilatura.bare_extraction(
        markup, favor_recall=True, include_comments=False, with_metadata=True
    )
    fields = doc if isinstance(doc, dict) else doc.as_dict() if doc is not None else {}
    if not fields.get("text"):
        return "", None, None
    return _tidy(fields["text"]), fields.get("title") or None, _iso_day(fields.get("date"))


def _from_wordpress_json(post: dict[str, Any], source: str) -> Article:
    content = post.get("content")
    rendered = content.get("rendered") if isinstance(content, dict) else content
    if not isinstance(rendered, str):
        raise MalformedArticleError(
            f"{source}: JSON input is not a WordPress post (no content.rendered field)"
        )
    body, _, _ = html_to_text(rendered)
    title_field = post.get("title")
    title = title_field.get("rendered") if isinstance(title_field, dict) else title_field
    title = html.unescape(title).strip() if isinstance(title, str) and title.strip() else None
    date = post.get("date_gmt") or post.get("date")
    return Article(body, source, title, _iso_day(date if isinstance(date, str) else None))


def _json_post(raw: str, source: str) -> dict[str, Any] | None:
    """The post in a JSON input, or None: "[Exclusive] Acme signs..." is text, not JSON."""
    try:
        value = json.loads(raw, strict=False)
    except RecursionError as exc:
        raise MalformedArticleError(f"{source}: JSON input is nested too deeply") from exc
    except json.JSONDecodeError:
        # Feeds are often cut off mid-string; json_repair closes what is open.
        import json_repair

        try:
            value = _unescape_slashes(json_repair.loads(raw))
        except RecursionError as exc:
            raise MalformedArticleError(f"{source}: JSON input is nested too deeply") from exc
    if isinstance(value, list) and value and all(_is_post(v) for v in value):
        if len(value) > 1:  # one article each: never keep one and drop the rest
            raise MalformedArticleError(
                f"{source}: JSON input holds {len(value)} posts; give it as a `.json` file "
                "to `extract_many` or `newsie extract` for one article per post")
        value = value[0]
    if isinstance(value, dict) and _is_post(value):
        return value
    return None


def post_list(raw: bytes) -> list[dict[str, Any]] | None:
    """The posts of a WordPress REST list (`/wp-json/wp/v2/posts`), or None for any other
    input (one post, text, HTML)."""
    if not raw.lstrip().startswith(b"["):
        return None
    try:
        value = json.loads(raw, strict=False)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, list) and len(value) > 1 and all(_is_post(v) for v in value):
        return value
    return None


def article_from_post(
    post: dict[str, Any], *, source: str, max_chars: int = MAX_TEXT_CHARS
) -> Article:
    """One post of a list, cleaned and checked as any article is."""
    article = _from_wordpress_json(post, source)
    if not article.text.strip():
        raise EmptyArticleError(f"{source}: the article has no text after cleaning")
    if len(article.text) > max_chars:
        raise ArticleTooLargeError(
            f"{source}: the cleaned text is {len(article.text):,} characters; "
            f"the limit is {max_chars:,} (max_chars=)")
    if article.published is None:
        return replace(article, published=find_published(article.text, article.title))
    return article


def _is_post(value: Any) -> bool:
    return isinstance(value, dict) and any(field in value for field in _POST_FIELDS)


def _unescape_slashes(value: Any) -> Any:
    """json_repair leaves JSON's `\\/` escape undecoded in the strings it had to repair."""
    if isinstance(value, str):
        return value.replace("\\/", "/")
    if isinstance(value, dict):
        return {k: _unescape_slashes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape_slashes(v) for v in value]
    return value


def read_bytes(path: Path, name: str, max_bytes: int) -> bytes:
    """A file's bytes; a FIFO, `/dev/fd/N` or device is read as a stream, to the same limit."""
    limit = f"the limit is {max_bytes / 1e6:.1f} MB (max_bytes=)"
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise MalformedArticleError(f"{name}: is a folder, not an article file")
        if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:  # refused unread
            raise ArticleTooLargeError(f"{name}: file is {info.st_size / 1e6:.1f} MB; {limit}")
        with path.open("rb") as stream:
            raw = stream.read(max_bytes + 1)  # a stream has no size: read one byte too many
    except OSError as exc:
        raise MalformedArticleError(
            f"{name}: cannot read file ({exc.strerror or exc})") from exc
    if len(raw) > max_bytes:
        raise ArticleTooLargeError(f"{name}: input is over {max_bytes / 1e6:.1f} MB; {limit}")
    return raw


def _decode(raw: str | bytes, max_bytes: int) -> str:
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise ArticleTooLargeError(
            f"input is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB (max_bytes=)"
        )
    if isinstance(raw, bytes):
        if b"\x00" in raw[:8192]:
            raise BinaryInputError("input is binary data (NUL bytes), not text")
        text = _bytes_to_text(raw)
    else:
        text = raw
    sample = text[:8192]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > max(3, len(sample) // 50):
        raise BinaryInputError("input looks like binary data (control characters), not text")
    return text


def decode_bytes(raw: bytes) -> str:
    """The one decoder of input bytes (articles, feeds, alias files): UTF-8, else the
    legacy encoding they are in; `BinaryInputError` when they are no text."""
    if b"\x00" in raw[:8192]:
        raise BinaryInputError("input is binary data (NUL bytes), not text")
    return _bytes_to_text(raw)


def _bytes_to_text(raw: bytes) -> str:
    """UTF-8 if it is (a stray bad byte is replaced); else the encoding the bytes are in."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        lenient = raw.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = sum(ord(ch) > 127 for ch in lenient) - bad
    if good >= 2 * bad:  # mostly well-formed multi-byte characters, and a stray bad byte
        return lenient
    from charset_normalizer import from_bytes

    # GBK, Big5, Shift-JIS, Windows-1252...: news sites still serve them.
    best = from_bytes(raw).best()
    text = str(best) if best is not None else ""
    # a guess that reads as unassigned or private code points is no encoding at all
    sample = text[:8192]
    unassigned = sum(unicodedata.category(ch) in ("Cn", "Co", "Cs") for ch in sample)
    if not text or unassigned > len(sample) // 100:
        raise BinaryInputError("input is not text: neither UTF-8 nor any encoding it fits")
    return text


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _iso_day(value: str | None) -> str | None:
    return resolve_date(value, None).value if value else None
