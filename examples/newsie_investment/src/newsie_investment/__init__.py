"""An `investment` event type for newsie: who put money into which company, and for what.

Installed, it registers itself through the `newsie.event_types` entry point (see
pyproject.toml); uninstalled, pass it yourself: `newsie.extract(text, types=[Investment])`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import newsie

__all__ = ["Investment"]


class Investment(newsie.Event):
    """An investor puts money into a company, or buys a stake in it."""

    definition = "an investor puts money into a company or buys a stake in it"
    lemmas = ("invest", "investment", "investor", "stake", "fund", "funding", "financing",
              "raise", "acquire", "投资", "入股")
    examples = newsie.Example(
        sentences=["Kestrel Capital bought a 20% stake in Orla Cells for EUR 50 million.",
                   "Orla will spend the money on a second line in Lyon."],
        events=[{"sent": [1], "investor": "Kestrel Capital", "target": "Orla Cells",
                 "amount": "EUR 50 million", "stake": "20%"}],
    )

    type: Literal["investment"] = "investment"
    investor: Annotated[str | None, newsie.Org] = None
    target: Annotated[str | None, newsie.Org] = None
    amount: newsie.Money | None = None
    stake: Annotated[str | None, newsie.Phrase] = None
