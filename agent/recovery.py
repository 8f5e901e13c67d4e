"""Recognising a provider's thinking errors, so one corrected retry can follow (design §5).

``classify(status, body)`` reads an error response and says whether it is a thinking error,
which kind, where (``messages.N.content.M``) and, for "must be passed back" errors, whose
wording it is. The provider's own body is found inside any relay's wrapper: LiteLLM's
``litellm.BadRequestError: AnthropicException - {json}``, claude-code-router's
``Error from provider(...): {json}``, OpenRouter's ``metadata.raw``, Vertex's JSON-in-a-string,
MiMo's raw ``data:{json}`` text, a JSON array (Gemini). Everything else is not ours to retry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from attrs import frozen

from agent.inputs import decode_at

Kind = Literal[
    "invalid_signature",
    "bound_prefix",
    "modified",
    "expected_thinking",
    "must_pass_back",
    "unknown_field",
]

#: Message fields that carry reasoning on some host (chat wire), which a strict schema may
#: reject as unknown: a classified error naming one leaves out that field alone (LiteLLM's
#: thinking_blocks, Copilot's reasoning_opaque included).
REASONING_FIELDS = (
    "reasoning_content",
    "reasoning_details",
    "reasoning_opaque",
    "reasoning_text",
    "reasoning",
    "thinking_blocks",
)

_PATH = re.compile(r"messages\.(\d+)\.content\.(\d+)")
_INDEX = re.compile(r"message at (?:message )?index (\d+)")
_FIELDS = "|".join(REASONING_FIELDS)
_UNKNOWN_FIELD = re.compile(
    rf"property '(?:[\w.]*\.)?({_FIELDS})' is unsupported"
    rf"|Unrecognized request arguments? supplied: ({_FIELDS})"
    rf"|unknown field [`'\"]?({_FIELDS})\b"
    rf"|\b({_FIELDS})\b[^{{}}]{{0,80}}(?:Extra inputs are not permitted|extra_forbidden)"
    rf"|(?:Extra inputs are not permitted|extra_forbidden)[^{{}}]{{0,120}}\b({_FIELDS})\b"
    # a vendor's own host answering reasoning_details in OpenRouter's shape (Kimi, MiniMax)
    r"|the (reasoning_details) at position \d+ entry \d+ has an invalid type"
    r"|Mismatch type \[\]\*open_platform_oai\.(ReasoningDetail)"
)
#: relays answer a wrapped provider 400 with 5xx; the Responses API a lost item with 404
_STATUSES = frozenset({400, 404, 422, 500, 502})
_ENCRYPTED = re.compile(
    r"encrypted content (?:for item ((?:rs|cmp)_[\w-]+) )?.{0,400}?could not be verified"
    r"|encrypted_content`? was not issued to this caller",
    re.S,
)
_MAX_DEPTH = 6  # nesting a wrapper may add
_MAX_TEXTS = 200  # strings looked at in one body
_MAX_TEXT = 64_000  # characters of one string looked at


@frozen
class ThinkingError:
    """A provider's answer that the reasoning sent back broke its contract.

    Attributes:
        kind: ``invalid_signature`` (a signature or redacted data did not verify),
            ``modified`` (the latest assistant message's thinking was changed),
            ``expected_thinking`` (a tool-loop turn did not start with thinking),
            ``must_pass_back`` (reasoning the provider requires was not sent), or
            ``unknown_field`` (a strict server rejects a reasoning field it does not know).
        message: the index of the message at fault, when the error names it.
        block: the index of the content block at fault, when the error names it.
        family: for ``must_pass_back``, the family whose wording it is.
        text: the provider's message (bounded).
        field: for ``unknown_field``, the field rejected; for a Responses item whose encrypted
            content did not verify, the item's id.
    """

    kind: Kind
    message: int | None
    block: int | None
    family: str | None
    text: str
    field: str | None = None


def _texts(body: Any, depth: int = 0, seen: set[int] | None = None) -> Iterator[str]:
    """Every string a body carries, and those of the JSON embedded in them, bounded."""
    seen = set() if seen is None else seen
    if depth > _MAX_DEPTH:
        return
    if isinstance(body, str):
        text = body[:_MAX_TEXT]
        yield text
        for inner in _embedded(text):
            yield from _texts(inner, depth + 1, seen)
    elif isinstance(body, (Mapping, list)):
        if id(body) in seen:
            return  # a body that refers to itself
        seen.add(id(body))
        if isinstance(body, Mapping) and isinstance(body.get("loc"), list):
            # a validation error (pydantic 422): where and what, as one text
            yield f"{'.'.join(map(str, body['loc']))}: {body.get('msg')} ({body.get('type')})"
        for value in body.values() if isinstance(body, Mapping) else body:
            yield from _texts(value, depth + 1, seen)


def _embedded(text: str) -> Iterator[Any]:
    """JSON objects or arrays written inside a string (a relay's wrapper, raw ``data:{..}``),
    decoded with the library's one nesting bound (deeper text is no JSON)."""
    at = 0
    for _ in range(8):
        starts = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = decode_at(text, start)
        except ValueError:
            at = start + 1
            continue
        if isinstance(value, (Mapping, list)) and value:
            yield value
        at = end


def classify(status: int, body: object) -> ThinkingError | None:
    """The thinking error in a provider's error response, or None if it is something else."""
    if type(status) is not int or status not in _STATUSES:
        return None  # (also what is no status at all: not ours to fix)
    texts = []
    for text in _texts(body):
        texts.append(text)
        if len(texts) >= _MAX_TEXTS:
            break
    for text in texts:
        found = _signature_error(text)
        if found is not None:
            return found
    return _pass_back_error(texts) or _unknown_field(texts)


def _signature_error(text: str) -> ThinkingError | None:
    where = _PATH.search(text)
    message = int(where.group(1)) if where else None
    block = int(where.group(2)) if where else None
    short = text[:2000]
    if "bound to a different conversation" in text:
        return ThinkingError("bound_prefix", message, block, None, short)
    if (
        "Invalid `signature` in `thinking` block" in text
        or "Invalid `data` in `redacted_thinking` block" in text
        or "Thought signature is not valid" in text  # Vertex (Gemini)
        or "Corrupted thought signature" in text  # Gemini (AI Studio; behind OpenRouter)
    ):
        return ThinkingError("invalid_signature", message, block, None, short)
    if "blocks in the latest assistant message cannot be modified" in text or (
        "must match the parameters during the original request" in text
    ):
        return ThinkingError("modified", message, block, None, short)
    found = _ENCRYPTED.search(text)
    if found is not None or "invalid_encrypted_content" in text:  # OpenAI Responses
        item = found.group(1) if found is not None else None
        return ThinkingError("invalid_signature", None, None, None, short, item)
    if "Expected `thinking` or `redacted_thinking`" in text:
        return ThinkingError("expected_thinking", message, 0, None, short)
    return None


def _pass_back_error(texts: list[str]) -> ThinkingError | None:
    """A "must be passed back" error, attributed by its wording: Gemini's "missing a
    thought_signature" (also as OpenRouter words it), MiMo's ``Param Incorrect`` with the text
    in ``param``, Kimi's "reasoning_content is missing", DeepSeek's others."""
    joined = " ".join(texts)[:_MAX_TEXT]
    if (
        "missing a thought_signature" in joined
        or "require OpenRouter reasoning details to be preserved" in joined
    ):
        return ThinkingError("must_pass_back", None, None, "gemini", joined[:2000])
    if "without its required 'reasoning' item" in joined or (
        "Items are not persisted when `store` is set to false" in joined
    ):
        return ThinkingError("must_pass_back", None, None, "openai", joined[:2000])
    if not (
        "must be passed back to the API" in joined
        or "reasoning_content is missing" in joined
        or "Missing `reasoning_content` field" in joined
    ):
        return None
    if "Param Incorrect" in joined:
        family = "mimo"
    elif "reasoning_content is missing" in joined:
        family = "kimi"
    else:
        family = "deepseek"
    index = _INDEX.search(joined)
    message = int(index.group(1)) if index else None
    return ThinkingError("must_pass_back", message, None, family, joined[:2000])


def every_message(error: ThinkingError) -> bool:
    """Whether Kimi's "reasoning_content is missing" names a plain assistant message (its
    preserved-thinking wording) rather than a tool-call one: every message needs it."""
    text = error.text
    return "missing in assistant message" in text and "tool call" not in text


#: A block field a strict schema refuses (Anthropic's compaction beta refuses its own
#: encrypted_content back: anthropics/anthropic-sdk-python #1828).
_BLOCK_FIELD = re.compile(
    r"messages\.(\d+)\.content\.(\d+)\.(compaction)\.(\w+): Extra inputs are not permitted"
)


def _unknown_field(texts: list[str]) -> ThinkingError | None:
    for text in texts:
        block = _BLOCK_FIELD.search(text)
        if block is not None:
            message, at, kind, name = block.groups()
            field = f"{kind}.{name}"
            return ThinkingError("unknown_field", int(message), int(at), None, text[:2000], field)
        found = _UNKNOWN_FIELD.search(text)
        if found is not None:
            field = next(g for g in found.groups() if g)
            field = "reasoning_details" if field == "ReasoningDetail" else field
            return ThinkingError("unknown_field", None, None, None, text[:2000], field)
    return None
