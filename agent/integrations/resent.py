"""The histories read before: an agent sends its whole history again on every call, so a body
is read as the one it grew from plus what is new (the gateway, per client; a transport).

A body that starts with the very bytes of a body read before, up to that body's last message,
has the same first messages: only what follows (the new messages and the fields around the
history) is decoded, and the messages already read are the same objects (the chain never
changes what it is given). Each body kept also knows where each of its messages lies in its
bytes (``Spans``), so a changed body goes out with the unchanged ones as the client's bytes.

Bounded by construction: at most ``max_bytes`` of bodies are kept (with their decoded
messages, about as much again), the least recently used dropped first; only bodies of at
least ``MIN_BODY`` bytes (a smaller one is read whole in well under a millisecond); and
entries are kept per client credential and provider, so how fast a call is never tells one
client what another sent. Anything this reading cannot split exactly (another shape, what
only the standard library reads, a history nested too deeply) is read whole, as before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Container, Iterable
from typing import Any

from attrs import Factory, frozen

from agent.inputs import MAX_DEPTH, read_bytes, too_deep
from agent.integrations.spliced import Spans

#: Bodies smaller than this are read whole (fast, and not worth their room).
MIN_BODY = 65_536
#: Where each wire keeps its history.
HISTORY_KEY = {
    "anthropic_messages": "messages",
    "chat_completions": "messages",
    "bedrock_converse": "messages",
    "responses": "input",
    "gemini": "contents",
}
_WHITESPACE = frozenset(b" \t\n\r")
#: The headers that carry a call's credentials upstream (what a transport keeps bodies by).
CREDENTIALS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key"})


def _decoders() -> tuple[Any, dict[str, Any], type[Exception]]:
    try:
        import msgspec  # (the gateway extra's; without it every body is read whole)
    except ImportError:
        return None, {}, ValueError
    items = {
        key: msgspec.json.Decoder(msgspec.defstruct("History", [(key, list[msgspec.Raw], [])]))
        for key in set(HISTORY_KEY.values())
    }
    return msgspec.json.Decoder().decode, items, msgspec.DecodeError


_DECODE, _ITEMS, _DECODE_ERROR = _decoders()
#: Whether this process can read a history this way (msgspec is installed).
FAST = _DECODE is not None
_HEAD = 256
#: How much of a body read before may follow its history (the fields after it) and still be
#: looked into when a new body starts with all the rest of it.
_SLACK = 1_000_000


@frozen(eq=False)
class _Entry:
    scope: bytes
    raw: bytes
    key: str
    at: int  # where the history's array opens
    messages: list[Any]  # the history's messages, decoded
    bounds: list[tuple[int, int]] | None  # where each lies (None: not looked for yet)
    facts: list[Any] = Factory(lambda: [None])  # what the chain found of its conversation

    @property
    def end(self) -> int:
        """Where the last message ends."""
        assert self.bounds
        return self.bounds[-1][1]


#: What a split gives: the body's other fields (its history emptied), its messages, where
#: each lies, and where the history's array closes.
_Split = tuple[dict[str, Any], list[Any], list[tuple[int, int]], int]
#: A body as read: its JSON value and whether only the standard library could read it.
Read = tuple[Any, bool]


class Resent:
    """The bodies read last (``max_bytes`` of them at most); safe to share between threads."""

    def __init__(self, max_bytes: int, min_body: int = MIN_BODY) -> None:
        self.max_bytes = max_bytes
        self.min_body = min_body
        self._lock = threading.Lock()
        self._held = 0
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._by_head: dict[bytes, list[_Entry]] = {}

    def read(self, raw: bytes, api: str, scope: str) -> tuple[Read, Spans | None]:
        """``raw`` read as ``agent.inputs.read_bytes`` reads it (ValueError for no JSON), and
        where its messages lie when it was read as a body read before plus what is new."""
        key = HISTORY_KEY.get(api)
        if not FAST or key is None or not self.min_body <= len(raw) <= self.max_bytes:
            return read_bytes(raw), None
        tag = hashlib.blake2b(scope.encode(), digest_size=16).digest()
        with self._lock:
            entry = self._match(raw, key, tag)
        found = _after(entry, raw) if entry is not None else None
        if entry is None or found is None:
            value, exotic = read_bytes(raw)
            at = _history_at(raw, key)
            history = value.get(key) if isinstance(value, dict) else None
            if not exotic and at is not None and isinstance(history, list) and history:
                with self._lock:
                    self._keep(_Entry(tag, raw, key, at, history, None), entry)
            return (value, exotic), None
        top, messages, bounds, _ = found
        new = _Entry(tag, raw, key, entry.at, messages, bounds)
        with self._lock:
            self._keep(new, entry)
        value = {k: messages if k == key else v for k, v in top.items()}
        return (value, False), Spans(raw, key, messages, bounds, entry.facts[0], new.facts)

    def _match(self, raw: bytes, key: str, tag: bytes) -> _Entry | None:
        """The body read before that ``raw`` grew from (found where each of its messages lies
        the first time it is asked for: one scan of its bytes)."""
        for entry in list(self._by_head.get(raw[:_HEAD], ())):
            if entry.scope != tag or entry.key != key:
                continue
            if not raw.startswith(memoryview(entry.raw)[: entry.at + 1]):
                continue
            if entry.bounds is None and not raw.startswith(
                memoryview(entry.raw)[: len(entry.raw) - _SLACK]
            ):
                continue  # (edited before its last MB: not worth a scan to find out where)
            if entry.bounds is None:
                spanned = _spanned(entry)
                self._keep(spanned, entry) if spanned is not None else self._drop(entry)
                if spanned is None:
                    continue
                entry = spanned
            if raw.startswith(memoryview(entry.raw)[: entry.end]):
                return entry
        return None

    def _keep(self, new: _Entry, old: _Entry | None) -> None:
        if old is not None:
            self._drop(old)
        self._entries[id(new)] = new
        self._by_head.setdefault(new.raw[:_HEAD], []).append(new)
        self._held += len(new.raw)
        while self._held > self.max_bytes:
            self._drop(next(iter(self._entries.values())))

    def _drop(self, entry: _Entry) -> None:
        if self._entries.pop(id(entry), None) is None:
            return
        head = entry.raw[:_HEAD]
        same = self._by_head[head]
        same.remove(entry)
        if not same:
            del self._by_head[head]
        self._held -= len(entry.raw)


def scope_of(headers: Iterable[tuple[str, str]], names: Container[str] = CREDENTIALS) -> str:
    """Whose bodies these are: the credentials among ``headers`` (by lower-cased name), as
    sent (only their digest is kept)."""
    return "\0".join(sorted(f"{k.lower()}={v}" for k, v in headers if k.lower() in names))


def _spanned(entry: _Entry) -> _Entry | None:
    """``entry`` with where each of its messages lies, or None where they are not found
    exactly (its history then not the array at ``entry.at``)."""
    found = _split(entry.raw, entry.at, entry.key, decode=False)
    if found is None or len(found[2]) != len(entry.messages):
        return None
    return _Entry(
        entry.scope, entry.raw, entry.key, entry.at, entry.messages, found[2], entry.facts
    )


def _after(entry: _Entry, raw: bytes) -> _Split | None:
    """``raw`` read as ``entry``'s body plus what follows its last message."""
    assert entry.bounds is not None
    p = _skip(raw, entry.end)
    if p >= len(raw) or raw[p] not in b",]":
        return None
    if raw[p] == ord(","):
        p += 1
    rest = raw[: entry.at + 1] + raw[p:]
    found = _split(rest, entry.at, entry.key)
    if found is None:
        return None
    top, messages, bounds, close = found
    shift = p - (entry.at + 1)
    bounds = [*entry.bounds, *((s + shift, e + shift) for s, e in bounds)]
    return top, [*entry.messages, *messages], bounds, close + shift


def _history_at(raw: bytes, key: str) -> int | None:
    """Where the first ``"key":`` of ``raw`` opens an array (``_split`` checks it is the
    body's own)."""
    at = raw.find(b'"' + key.encode() + b'"')
    if at < 0:
        return None
    at = _skip(raw, at + len(key) + 2)
    if at >= len(raw) or raw[at] != ord(":"):
        return None
    at = _skip(raw, at + 1)
    return at if at < len(raw) and raw[at] == ord("[") else None


def _split(buf: bytes, at: int, key: str, decode: bool = True) -> _Split | None:
    """``buf`` read as its other fields and the messages of the array opening at ``at``
    (only where they lie when not ``decode``), or None when that array is not the body's
    history exactly (then the body is read whole)."""
    try:
        items = getattr(_ITEMS[key].decode(buf), key)
    except (_DECODE_ERROR, RecursionError):
        return None
    bounds, p = [], at + 1
    for item in items:
        p = _skip(buf, p)
        if not buf.startswith(item, p):
            return None
        bounds.append((p, p + len(item)))
        p = _skip(buf, p + len(item))
        if p < len(buf) and buf[p] == ord(",") and len(bounds) < len(items):
            p += 1
    p = _skip(buf, p)
    if p >= len(buf) or buf[p] != ord("]"):
        return None
    try:
        top = _DECODE(buf[: at + 1] + buf[p:])
        messages = [_DECODE(item) for item in items] if decode else []
    except (_DECODE_ERROR, RecursionError):
        return None
    if not isinstance(top, dict) or top.get(key) != [] or too_deep(top):
        return None  # ("[]" at the top: the array removed was the body's history)
    if any(too_deep(m, MAX_DEPTH - 2) for m in messages):
        return None
    return top, messages, bounds, p


def _skip(buf: bytes, p: int) -> int:
    while p < len(buf) and buf[p] in _WHITESPACE:
        p += 1
    return p
