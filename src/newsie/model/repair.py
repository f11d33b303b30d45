"""Repairing a model answer before it is parsed, where that is cheaper than a re-ask."""

from __future__ import annotations

import contextlib
import json
from typing import Any


def accept_control_characters(response: Any) -> None:
    """Re-encode an answer with raw control characters inside its JSON strings.

    Small models write them; pydantic's JSON reader refuses them, and a re-ask costs a whole
    model call. This instructor hook runs before the answer is parsed. Anything else that
    does not parse is left for instructor's re-ask.
    """
    for choice in getattr(response, "choices", None) or []:
        message: Any = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            continue
        try:
            json.loads(content)
        except ValueError:
            with contextlib.suppress(ValueError):
                value = json.loads(content, strict=False)
                message.content = json.dumps(value, ensure_ascii=False)
