"""What the store keeps: one observed turn's reasoning with its origin, and the protocol every
store answers (looked up by signature, by reasoning text and by tool call id).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from attrs import frozen

from agent.body import block_key
from agent.inputs import loads


@frozen(cache_hash=True)
class Origin:
    """Where a thinking block was minted.

    Attributes:
        family: the family name of the target that answered.
        host: the host that answered.
        model: the normalized model id that was asked.
        provider: behind a router whose reasoning is bound to the upstream provider
            (OpenRouter), the provider that served it (its slug, ``google-vertex``); else None.
    """

    family: str
    host: str
    model: str
    provider: str | None = None

    def __str__(self) -> str:
        via = f" via {self.provider}" if self.provider else ""
        return f"{self.model} ({self.family}) at {self.host}{via}"


@frozen
class StoredTurn:
    """The reasoning of one observed response.

    Attributes:
        origin: where it came from.
        blocks: Anthropic wire: the response's thinking and redacted_thinking blocks, each with
            its position in the response's content, in order.
        reasoning: Chat wire: the ``reasoning_content`` text.
        tool_ids: the ids of the turn's tool calls, in order.
        size: Anthropic wire: how many content blocks the response had.
        details: Chat wire: OpenRouter's ``reasoning_details`` items, in order.
        signatures: Chat wire: each tool call's thought signature (Gemini), aligned with
            ``tool_ids`` (None where a call had none).
    """

    origin: Origin
    blocks: tuple[tuple[Mapping[str, Any], int], ...] = ()
    reasoning: str | None = None
    tool_ids: tuple[str, ...] = ()
    size: int = 0
    details: tuple[Mapping[str, Any], ...] = ()
    signatures: tuple[str | None, ...] = ()


@runtime_checkable
class ThinkingStore(Protocol):
    """Holds observed turns and answers lookups; implementations must be thread-safe.

    A store may also answer a whole call's keys at once (``lookup(wanted) -> Found``, see
    ``agent.store.batch``); the built-in stores do, and the pipeline then reads each call's
    keys in one batch instead of one lookup at a time.
    """

    def record(self, turn: StoredTurn) -> None:
        """Remember one observed turn."""

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a thinking signature or redacted ``data``, if observed."""

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""

    def reject(self, key: str) -> None:
        """Remember that a provider rejected this signature or redacted ``data``."""

    def rejected(self) -> frozenset[str]:
        """The signatures and redacted ``data`` providers have rejected (a shared store:
        those this process knows of; each call's own are looked up with its batch)."""


def keys_of(turn: StoredTurn) -> list[tuple[str | None, str | None]]:
    """(signature, text) pairs a turn is found by; whitespace-only texts are pads, not keys."""
    keys: list[tuple[str | None, str | None]] = []
    for block, _ in turn.blocks:
        text = block.get("thinking")
        key = block_key(block)
        if key is None and block.get("type") in ("reasoning", "compaction"):  # Responses
            encrypted = block.get("encrypted_content")
            key = encrypted if isinstance(encrypted, str) and encrypted else None
        keys.append((key, text if isinstance(text, str) and text.strip() else None))
    if turn.reasoning and turn.reasoning.strip():
        keys.append((None, turn.reasoning))
    for item in turn.details:  # OpenRouter: reasoning.text has a signature, .encrypted data
        key = item.get("signature") or item.get("data")
        text = item.get("text")
        keys.append(
            (
                key if isinstance(key, str) and key else None,
                text if isinstance(text, str) and text.strip() else None,
            )
        )
    for signature in turn.signatures:  # (a loop: a generator is one more call, every call)
        if signature:
            keys.append((signature, None))
    return keys


def block_keys(turn: StoredTurn) -> list[str]:
    """The signatures (and redacted data, encrypted content) of a turn's blocks: what a
    provider may have rejected when the turn is put back."""
    return [key for key, _ in keys_of(turn) if key]


def digest(text: str) -> str:
    """The SHA-256 a key is indexed by (UTF-8, lone surrogates kept)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def turn_to_json(turn: StoredTurn) -> str:
    """A turn as JSON text (ASCII: lone surrogates escaped, so any string round-trips)."""
    return json.dumps(
        {
            "origin": json.loads(origin_to_json(turn.origin)),
            "blocks": [[dict(b), at] for b, at in turn.blocks],
            "reasoning": turn.reasoning,
            "tool_ids": list(turn.tool_ids),
            "size": turn.size,
            "details": [dict(d) for d in turn.details],
            "signatures": list(turn.signatures),
        }
    )


def turn_from_json(text: str | bytes) -> StoredTurn:
    """The turn ``turn_to_json`` wrote (ValueError, KeyError or TypeError for anything else,
    also for text nested deeper than the library's one bound)."""
    data: Any = loads(text)
    return StoredTurn(
        origin_from_json(data["origin"]),
        tuple((b, at) for b, at in data["blocks"]),
        data["reasoning"],
        tuple(data["tool_ids"]),
        data["size"],
        tuple(data["details"]),
        tuple(data["signatures"]),
    )


def origin_to_json(origin: Origin) -> str:
    """An origin as JSON text (its upstream provider, behind a router, fourth)."""
    fields = [origin.family, origin.host, origin.model]
    return json.dumps(fields if origin.provider is None else [*fields, origin.provider])


def origin_from_json(data: object) -> Origin:
    """The origin ``origin_to_json`` wrote (parsed or as text)."""
    if isinstance(data, str | bytes):
        data = loads(data)
    if (
        not isinstance(data, list)
        or len(data) not in (3, 4)
        or not all(isinstance(x, str) for x in data)
    ):
        raise ValueError("not an origin")
    return Origin(*data)
