"""Metering token usage over every attempt of one request, re-asks included."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..events import Usage
from .wire import usage_of

if TYPE_CHECKING:
    from instructor.core.hooks import Hooks


class UsageMeter:
    """Adds up the `usage` of every response instructor receives through `hooks`."""

    def __init__(self, hooks: Hooks) -> None:
        self.usage = Usage()
        hooks.on("completion:response", self.on_response)

    def on_response(self, response: Any) -> None:
        self.usage = self.usage + usage_of(response)
