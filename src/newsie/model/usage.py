"""Metering token usage over every attempt of one request, re-asks included."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..events import Usage

if TYPE_CHECKING:
    from instructor.core.hooks import Hooks


class UsageMeter:
    """Adds up the `usage` of every response instructor receives through `hooks`."""

    def __init__(self, hooks: Hooks) -> None:
        self.usage = Usage()
        hooks.on("completion:response", self.on_response)

    def on_response(self, response: Any) -> None:
        u = getattr(response, "usage", None)
        details = getattr(u, "prompt_tokens_details", None)
        self.usage = self.usage + Usage(
            prompt_tokens=getattr(u, "prompt_tokens", 0) or 0,
            cached_prompt_tokens=getattr(details, "cached_tokens", 0) or 0,
            completion_tokens=getattr(u, "completion_tokens", 0) or 0,
            total_tokens=getattr(u, "total_tokens", 0) or 0,
            requests=1,
        )
