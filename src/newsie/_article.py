"""Turn whatever the user hands us (text, HTML, WordPress REST JSON, a path) into clean text.

Every later offset refers to `Article.text`, so all cleaning happens here, once.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._dates import parse_published, resolve_date
from ._exceptions import (
    ArticleTooLargeError,
    BinaryInputError,
    EmptyArticleError,
    MalformedArticleError,
)

#: Raw input larger than this is refused before any parsing.
MAX_INPUT_BYTES = 10_000_000
#: Cleaned text larger than this is refused: it is not a news article.
MAX_TEXT_CHARS = 200_000

_HTML_HINT = re.compile(r"<(!doctype|html|head|body|article|div|p|br|span|h[1-6])\b", re.I)
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
        """A stable id: the sha256 of the cleaned text."""
        return hashlib.sha256(self.text.encode()).hexdigest()


ArticleInput = str | bytes | os.PathLike[str] | Article


def load_article(
    data: ArticleInput,
    *,
    source: str | None = None,
    published: str | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
) -> Article:
    """Read a path, raw text, HTML or WordPress JSON into an `Article`.

    A `str` that names an existing file is read as that file; any other `str` is the text.
    """
    if isinstance(data, Article):
        return data
    path = _as_path(data)
    if path is not None:
        raw: bytes | str = _read_file(path, max_bytes)
        source = source or str(path)
    else:
        raw = data  # type: ignore[assignment]
    article = parse_text(_decode(raw, max_bytes), source=source or "<text>")
    if source is None:  # the same article, however it was spaced or marked up
        article = replace(article, source="text:" + article.fingerprint[:12])
    if published:
        article = replace(article, published=parse_published(published))
    if not article.text.strip():
        raise EmptyArticleError(f"{article.source}: the article has no text after cleaning")
    if len(article.text) > max_chars:
        raise ArticleTooLargeError(
            f"{article.source}: the cleaned text is {len(article.text):,} characters; "
            f"the limit is {max_chars:,} (max_chars=)"
        )
    return article


def parse_text(text: str, *, source: str) -> Article:
    """Pick the reader by the content itself, since file names on the web say little."""
    stripped = text.lstrip()
    post = _json_post(stripped, source) if stripped.startswith(("{", "[")) else None
    if post is not None:
        return _from_wordpress_json(post, source)
    if _HTML_HINT.search(stripped[:5000]):
        body, title, published = html_to_text(stripped)
        return Article(body, source, title, published)
    return Article(_tidy(text), source)


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
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]
    if isinstance(value, dict) and any(field in value for field in _POST_FIELDS):
        return value
    return None


def _unescape_slashes(value: Any) -> Any:
    """json_repair leaves JSON's `\\/` escape undecoded in the strings it had to repair."""
    if isinstance(value, str):
        return value.replace("\\/", "/")
    if isinstance(value, dict):
        return {k: _unescape_slashes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape_slashes(v) for v in value]
    return value


def _as_path(data: ArticleInput) -> Path | None:
    if isinstance(data, os.PathLike):
        return Path(data)
    if isinstance(data, str) and "\n" not in data and len(data) < 4096:
        try:
            candidate = Path(data).expanduser()
            if candidate.is_file():
                return candidate
        except OSError:
            return None
    return None


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MalformedArticleError(f"{path}: cannot read file ({exc.strerror})") from exc
    if size > max_bytes:
        raise ArticleTooLargeError(
            f"{path}: file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB"
        )
    return path.read_bytes()


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
