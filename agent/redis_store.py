"""RedisStore: the round-trip store in Redis, shared by several gateway workers or hosts.

The same semantics as the SQLite store: a turn is found again by its signatures, its
reasoning text and its tool call ids (each indexed by its SHA-256, so a long key is not
stored twice), strings of any content round-trip (lone surrogates included), a write that
fails is a StoreError and a read that fails counts as "not seen". Every entry expires after
``ttl`` seconds (a conversation idle that long restores nothing), which bounds the store
the way ``max_turns`` bounds the others. Uses the ``redis`` client package (the ``redis``
extra); nothing is written at construction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from typing import Any

from agent.distribution import missing_extra
from agent.errors import InvalidOption, StoreError
from agent.store import Origin, StoredTurn, keys_of

log = logging.getLogger("agent")

#: A week: a tool loop paused longer than that restores nothing.
DEFAULT_TTL = 7 * 24 * 3600


def turn_to_json(turn: StoredTurn) -> str:
    """A turn as JSON text (ASCII: lone surrogates escaped, so any string round-trips)."""
    return json.dumps(
        {
            "origin": [
                turn.origin.family,
                turn.origin.host,
                turn.origin.model,
                turn.origin.provider,
            ],
            "blocks": [[dict(b), at] for b, at in turn.blocks],
            "reasoning": turn.reasoning,
            "tool_ids": list(turn.tool_ids),
            "size": turn.size,
            "details": [dict(d) for d in turn.details],
            "signatures": list(turn.signatures),
        }
    )


def turn_from_json(text: str | bytes) -> StoredTurn:
    """The turn ``turn_to_json`` wrote."""
    data: Any = json.loads(text)
    return StoredTurn(
        Origin(*data["origin"]),
        tuple((b, at) for b, at in data["blocks"]),
        data["reasoning"],
        tuple(data["tool_ids"]),
        data["size"],
        tuple(data["details"]),
        tuple(data["signatures"]),
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RedisStore:
    """A ThinkingStore in Redis (``url`` as ``redis://``, ``rediss://`` or ``unix://``)."""

    def __init__(self, url: str, ttl: int = DEFAULT_TTL, prefix: str = "agent:") -> None:
        if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
            raise InvalidOption("url", "expected a redis://, rediss:// or unix:// URL")
        if type(ttl) is not int or ttl < 1:
            raise InvalidOption("ttl", "expected whole seconds >= 1")
        try:
            import redis  # the optional extra: imported when a store is built
        except ImportError as exc:
            raise missing_extra("redis", "the redis store", exc) from None

        self.url = url
        self.ttl = ttl
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._read_errors = (*self._errors, ValueError, KeyError, TypeError)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r}, ttl={self.ttl})"  # the URL may hold a password

    def __bool__(self) -> bool:
        """A store is a store, empty or not."""
        return True

    def record(self, turn: StoredTurn) -> None:
        """Remember one observed turn (StoreError if Redis cannot take it)."""
        name = f"{self.prefix}turn:{uuid.uuid4().hex}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(name, turn_to_json(turn), ex=self.ttl)
        for sig, text in keys_of(turn):
            if sig:
                pipe.set(f"{self.prefix}sig:{_digest(sig)}", name, ex=self.ttl)
            if text:
                pipe.set(f"{self.prefix}text:{_digest(text)}", name, ex=self.ttl)
        for tool_id in turn.tool_ids:
            pipe.set(f"{self.prefix}tool:{_digest(tool_id)}", name, ex=self.ttl)
        try:
            pipe.execute()
        except self._errors as exc:
            raise StoreError("redis", f"cannot write: {type(exc).__name__}") from None

    def _turn(self, index: str, key: str) -> StoredTurn | None:
        try:
            name = self._redis.get(f"{self.prefix}{index}:{_digest(key)}")
            data = self._redis.get(name) if name is not None else None
            return None if data is None else turn_from_json(data)
        except self._read_errors as exc:
            # a store that cannot be read (or holds what is no turn) must not fail the call
            log.warning("thinking store (redis) cannot be read (%s); not seen", type(exc).__name__)
            return None

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted ``data``, if observed."""
        turn = self._turn("sig", signature)
        return None if turn is None else turn.origin

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""
        turn = self._turn("text", text)
        return None if turn is None else turn.origin

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""
        return self._turn("tool", tool_id)

    def reject(self, key: str) -> None:
        """Remember a rejected signature (for ``ttl`` seconds)."""
        name = f"{self.prefix}rejected"
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.sadd(name, json.dumps(key))
            pipe.expire(name, self.ttl)
            pipe.execute()
        except self._errors as exc:
            raise StoreError("redis", f"cannot write: {type(exc).__name__}") from None

    def rejected(self) -> frozenset[str]:
        """The rejected signatures (one read per call)."""
        try:
            members = self._redis.smembers(f"{self.prefix}rejected")
        except self._errors as exc:
            log.warning("thinking store (redis) cannot be read (%s)", type(exc).__name__)
            return frozenset()
        return frozenset(json.loads(m) for m in members)

    def close(self) -> None:
        """Close the connections."""
        self._redis.close()
