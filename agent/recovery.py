"""Recognising a provider's thinking errors, so one corrected retry can follow (design §5).

``classify(status, body)`` reads an error response and says whether it is a thinking error,
which kind, where (``messages.N.content.M``) and, for "must be passed back" errors, which
family's wording it is. Everything else is not ours to retry.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from attrs import frozen

Kind = Literal["invalid_signature", "modified", "expected_thinking", "must_pass_back"]

_PATH = re.compile(r"messages\.(\d+)\.content\.(\d+)")
_INDEX = re.compile(r"message at (?:message )?index (\d+)")


@frozen
class ThinkingError:
    """A provider's answer that the thinking sent back broke its contract.

    Attributes:
        kind: ``invalid_signature`` (a signature or redacted data did not verify),
            ``modified`` (the latest assistant message's thinking was changed),
            ``expected_thinking`` (a tool-loop turn did not start with thinking), or
            ``must_pass_back`` (reasoning the provider requires was not sent).
        message: the index of the message at fault, when the error names it.
        block: the index of the content block at fault, when the error names it.
        family: for ``must_pass_back``, the family whose wording it is.
        text: the provider's message.
    """

    kind: Kind
    message: int | None
    block: int | None
    family: str | None
    text: str


def _texts(body: Any) -> list[str]:
    """Every error text a body carries (Anthropic, OpenAI-style, MiMo's ``param``, Vertex)."""
    if isinstance(body, list):
        return [t for item in body for t in _texts(item)]
    if not isinstance(body, Mapping):
        return [body] if isinstance(body, str) else []
    error = body.get("error")
    texts: list[str] = []
    if isinstance(error, Mapping):
        for key in ("message", "param"):
            value = error.get(key)
            if isinstance(value, str):
                texts.append(value)
                if value.startswith("{"):  # Vertex wraps Anthropic's JSON in a string
                    with contextlib.suppress(ValueError):
                        texts.extend(_texts(json.loads(value)))
    elif isinstance(error, str):
        texts.append(error)
    return texts


def classify(status: int, body: Any) -> ThinkingError | None:
    """The thinking error in a provider's error response, or None if it is something else."""
    if status != 400:
        return None
    texts = _texts(body)
    joined = " ".join(texts)
    error = body.get("error") if isinstance(body, Mapping) else None
    for text in texts:
        where = _PATH.search(text)
        message = int(where.group(1)) if where else None
        block = int(where.group(2)) if where else None
        if "Invalid `signature` in `thinking` block" in text or (
            "Invalid `data` in `redacted_thinking` block" in text
        ):
            return ThinkingError("invalid_signature", message, block, None, text)
        if "blocks in the latest assistant message cannot be modified" in text or (
            "must match the parameters during the original request" in text
        ):
            return ThinkingError("modified", message, block, None, text)
        if "Expected `thinking` or `redacted_thinking`" in text:
            return ThinkingError("expected_thinking", message, 0, None, text)
    if "must be passed back to the API" in joined or "reasoning_content is missing" in joined:
        if isinstance(error, Mapping) and error.get("message") == "Param Incorrect":
            family = "mimo"  # MiMo's body: the text is in `param`, `message` is fixed
        elif "reasoning_content is missing" in joined:
            family = "kimi"
        else:
            family = "deepseek"
        index = _INDEX.search(joined)
        return ThinkingError(
            "must_pass_back", int(index.group(1)) if index else None, None, family, joined
        )
    if "Missing `reasoning_content` field" in joined:
        index = _INDEX.search(joined)
        return ThinkingError(
            "must_pass_back", int(index.group(1)) if index else None, None, "deepseek", joined
        )
    return None
