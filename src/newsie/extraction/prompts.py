"""Prompt templates, rendered in Jinja's sandbox.

Article text only ever enters a template as a variable, so `{{ 7*7 }}` in a news story
stays literal text, and a user's own template cannot reach Python internals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..core.errors import TemplateError
from ..reading.article import Article
from ..reading.sentences import Sentence, shown_title
from .registry import EventSpec, examples_for

SYSTEM_TEMPLATE = "system.j2"
ARTICLE_TEMPLATE = "extract.j2"
#: The questions asked after the article: one call for everything, or detection first
#: and then the arguments of each event.
EVENTS_QUESTION = "events.j2"
DETECT_QUESTION = "detect.j2"
ARGUMENTS_QUESTION = "arguments.j2"
#: The yes/no question that checks one event found by the others (`verify=True`).
VERIFY_QUESTION = "verify.j2"
TEMPLATES = (SYSTEM_TEMPLATE, ARTICLE_TEMPLATE, EVENTS_QUESTION, DETECT_QUESTION,
             ARGUMENTS_QUESTION, VERIFY_QUESTION)

def default_prompt_dir() -> Path:
    """The packaged `prompts/`: inside the wheel, or at the repository root in a checkout."""
    packaged = Path(str(files("newsie"))) / "prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "prompts"


class Prompts:
    """Renders the chat messages for one stretch of an article."""

    def __init__(self, template_dir: str | Path | None = None) -> None:
        dirs = [Path(template_dir)] if template_dir is not None else []
        dirs.append(default_prompt_dir())
        for d in dirs:
            if not d.is_dir():
                raise TemplateError(f"template folder not found: {d}")
        self._env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )

    def render(self, name: str, **variables: Any) -> str:
        try:
            return self._env.get_template(name).render(**variables).strip()
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}") from exc
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateError(f"template {name} tried an unsafe operation: {exc}") from exc
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template {name} failed: {exc}") from exc

    def system(self, specs: Iterable[EventSpec]) -> str:
        """The instructions: the same for every article, so the server's prompt cache
        serves them. Each type brings its definition and its worked examples."""
        specs = list(specs)
        return self.render(SYSTEM_TEMPLATE, types=[s.describe() for s in specs],
                           examples=examples_for(specs))

    def article(self, article: Article, sentences: Sequence[Sentence]) -> str:
        return self.render(
            ARTICLE_TEMPLATE, title=shown_title(article.title), published=article.published,
            sentences=[{"number": s.number, "text": s.text} for s in sentences])

    def digest(self) -> str:
        """Changes whenever a template that shapes the prompt changes (for cache keys)."""
        h = hashlib.sha256()
        for name in TEMPLATES:
            try:
                source, _, _ = self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]
            except jinja2.TemplateNotFound as exc:
                raise TemplateError(f"template not found: {name}") from exc
            h.update(source.encode())
        return h.hexdigest()


def messages(system: str, article: str, question: str) -> list[dict[str, str]]:
    """The article comes before the question, so every question about one article shares
    the server's cached prompt prefix: instructions, then the article."""
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"{article}\n\n{question}"}]
