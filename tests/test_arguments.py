"""A mistake in a call names the public function and argument, and the allowed values."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import newsie
from newsie.testing import FakeBackend


@pytest.mark.parametrize("call", [
    lambda **kw: newsie.extract("Acme met Beta.", **kw),
    lambda **kw: list(newsie.extract_many(["Acme met Beta."], **kw)),
    lambda **kw: asyncio.run(newsie.aextract("Acme met Beta.", **kw)),
    lambda **kw: newsie.aextract_many(["Acme met Beta."], **kw),
])
def test_a_misspelt_argument_names_the_function_called(call: Any) -> None:
    with pytest.raises(TypeError) as caught:
        call(publised="2024-03-05", backend=FakeBackend([]))
    assert re.fullmatch(r"a?extract(_many)?\(\) got an unexpected keyword argument 'publised'",
                        str(caught.value))
    assert "Endpoint" not in str(caught.value)


def test_a_misspelt_option_of_extractor_names_extractor() -> None:
    with pytest.raises(TypeError, match=r"^Extractor\(\) got an unexpected keyword argument "
                                        r"'timout'$"):
        newsie.Extractor(backend=FakeBackend([]), timout=3)


def test_endpoint_options_still_pass() -> None:
    with newsie.Extractor(base_url="http://127.0.0.1:9/v1", model="m", timeout=3,
                          max_attempts=1, cache=False) as extractor:
        assert extractor.backend.model == "m"


@pytest.mark.parametrize("stages", [3, 0, "2", True])
def test_stages_outside_one_or_two_is_refused_naming_the_values(stages: Any) -> None:
    with pytest.raises(newsie.ConfigurationError) as caught:
        newsie.extract("Acme met Beta.", backend=FakeBackend([]), stages=stages)
    assert "stages=" in str(caught.value)
    assert "1 (one call per article)" in str(caught.value) and "2 (" in str(caught.value)


def test_the_embedded_engine_reads_one_article_at_a_time_unless_told_otherwise() -> None:
    """One request at a time is reproducible and fastest on the embedded engine
    (bench/results/determinism-2026-12-07.md); a server batches its own."""
    from newsie._api import _concurrency
    from newsie.testing import FakeBackend

    embedded = newsie.Extractor(backend=FakeBackend([], endpoint="embedded"), cache=False)
    server = newsie.Extractor(backend=FakeBackend([], endpoint="http://127.0.0.1:8000/v1"),
                              cache=False)
    assert (_concurrency(embedded, None), _concurrency(server, None)) == (1, 4)
    assert _concurrency(embedded, 3) == 3
