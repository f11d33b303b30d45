"""Quantities with a unit ("no less than 200 GWh", "20GWh", "10,000 tonnes"), read by
quantulum3, which knows units and their spellings; spaCy's small model misses many and
takes any noun after a number for a unit ("4 lithium").

A number without a unit (quantulum3's "dimensionless", counts of things) and an amount of
money (a currency) is not a quantity here: money has its own reader.
"""

from __future__ import annotations

import functools
import threading
import warnings
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()


@dataclass(frozen=True)
class Measure:
    """A quantity in the text: its offsets, value and unit (quantulum3's unit name)."""

    start: int
    end: int
    value: float
    unit: str
    entity: str


@functools.cache
def _parser() -> Any:
    with warnings.catch_warnings():
        # without its optional classifier extra, quantulum3 warns once on import; its
        # rule-based unit reading is what newsie uses
        warnings.simplefilter("ignore")
        from quantulum3 import parser
    return parser


def measures(text: str) -> list[Measure]:
    """Every quantity with a physical unit in `text`, in reading order; currency amounts
    are `amounts`."""
    return [m for m in _read(text) if m.entity not in ("dimensionless", "currency")]


def amounts(text: str) -> list[Measure]:
    """Every amount of money quantulum3 reads in `text` ("$1,234.5 million")."""
    return [m for m in _read(text) if m.entity == "currency"]


def _read(text: str) -> list[Measure]:
    parser = _parser()
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = parser.parse(text)
    return sorted((Measure(q.span[0], q.span[1], float(q.value), q.unit.name,
                           q.unit.entity.name) for q in found if q.span),
                  key=lambda m: (m.start, m.end))
