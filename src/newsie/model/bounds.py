"""How many tokens an answer can need: a request's `max_tokens` never asks for more.

Every answer schema is bounded (enums, `maxItems`, `maxLength`), so its longest JSON text
is known before the model writes a word. A token is at least one byte of that text, so the
text's length in bytes (escapes and multi-byte characters counted at their worst), plus one
token of whitespace beside each value, bounds the tokens an answer that fits can use. A
model that loops (repeating itself, padding with whitespace) stops there, not at the
endpoint's `max_tokens`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Bytes one character of a free string may take in JSON: an escape, `\uXXXX`.
_CHAR_BYTES = 6
#: Digits of a number the schema does not bound (more is no answer anyone wants).
_NUMBER_BYTES = 24
#: Around every value: a separator and one token of whitespace.
_AROUND = 3


def answer_tokens(schema: Mapping[str, Any]) -> int | None:
    """An upper bound on the tokens of any JSON text valid under `schema`; None when the
    schema does not bound it (a list without `maxItems`, a string without `maxLength`)."""
    return _bytes(schema, schema.get("$defs", {}), depth=0)


def request_max_tokens(limit: int, response_model: type[Any]) -> int:
    """The endpoint's `max_tokens`, or fewer when the answer's schema cannot need more."""
    needed = answer_tokens(response_model.model_json_schema())
    return limit if needed is None else max(1, min(limit, needed))


def _bytes(node: Mapping[str, Any], defs: Mapping[str, Any], depth: int) -> int | None:
    if depth > 32:  # a recursive schema: no bound
        return None
    if "$ref" in node:
        target = defs.get(str(node["$ref"]).rsplit("/", 1)[-1])
        return None if target is None else _bytes(target, defs, depth + 1)
    if "const" in node:
        return _literal(node["const"])
    if "enum" in node:
        return max((_literal(v) for v in node["enum"]), default=4)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            sizes = [_bytes(alt, defs, depth + 1) for alt in node[key]]
            return None if None in sizes else max(s for s in sizes if s is not None)
    kind = node.get("type")
    if kind == "null":
        return 4
    if kind == "boolean":
        return 5
    if kind in ("integer", "number"):
        return _NUMBER_BYTES
    if kind == "string":
        limit = node.get("maxLength")
        return None if limit is None else 2 + _CHAR_BYTES * int(limit)
    if kind == "array":
        limit, items = node.get("maxItems"), node.get("items", {})
        if limit is None:
            return None
        each = _bytes(items, defs, depth + 1) if limit else 0
        return None if each is None else 2 + int(limit) * (each + _AROUND)
    if kind == "object" or "properties" in node:
        if node.get("additionalProperties") not in (None, False):
            return None
        total = 2
        for name, value in node.get("properties", {}).items():
            size = _bytes(value, defs, depth + 1)
            if size is None:
                return None
            total += _literal(name) + 1 + size + _AROUND
        return total
    return None


def _literal(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())
