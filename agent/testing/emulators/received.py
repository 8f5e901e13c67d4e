"""What an emulator received and answered: one entry of ``Emulator.log``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attrs import frozen


@frozen
class Received:
    """One request the emulator received, and what it answered.

    Attributes:
        path: the request path.
        body: the JSON body as received.
        status: the HTTP status answered.
        response: the JSON answered (for a stream: the message the events carried).
        stream: whether the answer was streamed.
    """

    path: str
    body: Any
    status: int
    response: Any
    stream: bool = False

    @property
    def error(self) -> str | None:
        """The error text of a failed call (the provider's message, wherever it puts it)."""
        if self.status < 400 or not isinstance(self.response, Mapping):
            return None
        error = self.response.get("error")
        if isinstance(error, Mapping):
            param = error.get("param")
            text = error.get("message")
            return f"{text}: {param}" if isinstance(param, str) and param else str(text)
        return json.dumps(self.response)
