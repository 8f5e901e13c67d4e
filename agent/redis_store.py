"""RedisStore: the round-trip store in Redis or a Redis Cluster, shared by several gateway
workers or hosts.

The same semantics as the SQLite store: a turn is found again by its signatures, its
reasoning text and its tool call ids (each indexed by its SHA-256, so a long key is not
stored twice), strings of any content round-trip (lone surrogates included), a write that
fails is a StoreError and a read that fails counts as "not seen". Uses the ``redis`` client
package (the ``redis`` extra); nothing is connected at construction.

Keys, each complete on its own, so no write spans two cluster slots and a reader never meets
half a turn: ``{prefix}t:<sha256 of a tool id>`` holds the whole turn (written under each of
its tool ids), ``{prefix}s:<sha256>`` / ``{prefix}x:<sha256>`` the origin of a signature / a
reasoning text, ``{prefix}r:<sha256 of a signature>`` a provider's rejection of it. A call
reads all its keys in one pipeline (one round trip; on a cluster, one per node, in parallel)
and writes its turn in one more. Every entry expires ``ttl`` seconds after it was last
written or read (a read refreshes what it finds, and the conversation's other turns): a
conversation idle for ``ttl`` seconds restores nothing.

A read or write waits at most ``timeout_ms`` (the socket time-out; the async gateway also gives
up on the thread after it); after a failure the store is not tried for a second (see
``agent.store.guard``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.distribution import missing_extra
from agent.errors import InvalidOption, StoreError
from agent.store import Found, Guard, Origin, StoredTurn, StoreTimeout, Wanted, keys_of
from agent.store.turns import (
    digest,
    origin_from_json,
    origin_to_json,
    turn_from_json,
    turn_to_json,
)

log = logging.getLogger(__name__)

#: A week: a tool loop paused longer than that restores nothing.
DEFAULT_TTL = 7 * 24 * 3600
#: How long a call waits for Redis before it goes on without it (a frozen Redis costs a call
#: at most this; a Redis in the same data centre answers a call's batch in a few ms).
DEFAULT_TIMEOUT_MS = 200
#: The least time given to open a connection (a TLS handshake to another region takes more
#: than a call's time limit; the async gateway still waits no longer than ``timeout_ms``).
CONNECT_TIMEOUT = 1.0
_SCHEMES = ("redis://", "rediss://", "unix://")
#: What a node of a cluster answers a plain client about a key in another node's slot.
_CLUSTER_ERRORS = ("MOVED", "ASK", "CROSSSLOT", "CLUSTERDOWN")


class RedisStore:
    """A ThinkingStore in Redis (``url`` as ``redis://``, ``rediss://`` or ``unix://``).

    Attributes:
        ttl: seconds an entry lives after its last write or read.
        prefix: what every key starts with.
        timeout_ms: how long a call waits for Redis.
        cluster: a Redis Cluster (True), a single Redis (False), or found out on first use
            (None: ``INFO cluster`` asked once).
    """

    def __init__(
        self,
        url: str,
        ttl: int = DEFAULT_TTL,
        prefix: str = "agent:",
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        cluster: bool | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(_SCHEMES):
            raise InvalidOption("url", "expected a redis://, rediss:// or unix:// URL")
        if type(ttl) is not int or ttl < 1:
            raise InvalidOption("ttl", "expected whole seconds >= 1")
        if type(timeout_ms) is not int or not 1 <= timeout_ms <= 60_000:
            raise InvalidOption("timeout_ms", "expected whole milliseconds, 1 to 60000")
        if cluster is not None and not isinstance(cluster, bool):
            raise InvalidOption("cluster", "expected true or false")
        if cluster and url.startswith("unix://"):
            raise InvalidOption("cluster", "a Redis Cluster is reached over TCP, not unix://")
        try:
            import redis  # the optional extra: imported when a store is built
        except ImportError as exc:
            raise missing_extra("redis", "the redis store", exc) from None

        self.url = url
        self.ttl = ttl
        self.prefix = prefix
        self.timeout_ms = timeout_ms
        self.cluster = cluster
        self.guard = Guard(timeout_ms / 1000)
        self._client: Any = None
        self._lock = threading.Lock()
        self._getex = True  # GETEX (Redis >= 6.2); else GET and EXPIRE
        self._told = False  # the "this is a cluster" error, said once
        self._timeouts: tuple[type[BaseException], ...] = (redis.TimeoutError, TimeoutError)
        self._errors = (redis.RedisError, redis.exceptions.RedisClusterException, OSError)

    def __repr__(self) -> str:  # the URL may hold a password
        return f"RedisStore(prefix={self.prefix!r}, ttl={self.ttl}, timeout_ms={self.timeout_ms})"

    def __bool__(self) -> bool:
        """A store is a store, empty or not."""
        return True

    # ------------------------------------------------------------------ the client

    def _redis(self) -> Any:
        """The client, made on first use (a cluster's when the server says it is one)."""
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        seconds = self.timeout_ms / 1000
        options: dict[str, Any] = {
            "socket_timeout": seconds,
            "socket_connect_timeout": max(seconds, CONNECT_TIMEOUT),
            "retry": Retry(NoBackoff(), 0),  # a retry would double the time a call waits
        }
        plain = redis.Redis.from_url(self.url, **options)
        cluster = self.cluster
        if cluster is None:
            cluster = not self.url.startswith("unix://") and _cluster_enabled(plain)
        if not cluster:
            return plain
        plain.close()
        return redis.RedisCluster.from_url(self.url, **options)

    def close(self) -> None:
        """Close the connections and let the store's threads go."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        self.guard.close()

    def _key(self, kind: str, text: str) -> str:
        return f"{self.prefix}{kind}:{digest(text)}"

    def _pipelined(self, queue: Callable[[Any], None]) -> list[Any]:
        """One pipeline (no transaction: keys may live on different nodes)."""
        pipe = self._redis().pipeline(transaction=False)
        queue(pipe)
        return list(pipe.execute(raise_on_error=False))

    # ------------------------------------------------------------------ reads

    def lookup(self, wanted: Wanted) -> Found:
        """Every key of ``wanted`` in one pipeline, refreshing the expiry of what it finds
        and of the conversation's other turns; never raises (state says how Redis fared)."""
        remembered = self.guard.rejections
        if self.guard.down():
            return Found.failed(wanted, "unavailable", remembered)
        if not wanted:
            return Found(wanted, remembered=remembered)
        reads = [(tool, self._key("t", tool)) for tool in wanted.fetched()]
        reads += [(sig, self._key("s", sig)) for sig in wanted.signatures]
        reads += [(sig, self._key("r", sig)) for sig in wanted.signatures]
        reads += [(text, self._key("x", text)) for text in wanted.texts]
        kept = [self._key("t", t) for t, fetch in wanted.tools.items() if not fetch]
        try:
            replies = self._read([name for _, name in reads], kept)
        except self._timeouts:
            return self._failed(wanted, "timeout")
        except self._errors as exc:
            log.debug("thinking store (redis) cannot be read: %s", type(exc).__name__)
            return self._failed(wanted, "unavailable")
        self.guard.reset()
        return self._found(wanted, reads, replies)

    def _failed(self, wanted: Wanted, state: Any) -> Found:
        self.guard.trip()
        return Found.failed(wanted, state, self.guard.rejections)

    def _read(self, names: list[str], kept: list[str]) -> list[Any]:
        """The values of ``names`` (their expiry refreshed), and ``kept``'s expiry refreshed."""

        def queue(pipe: Any) -> None:
            for name in names:
                if self._getex:
                    pipe.getex(name, ex=self.ttl)
                else:
                    pipe.get(name)
                    pipe.expire(name, self.ttl)
            for name in kept:
                pipe.expire(name, self.ttl)

        replies = self._pipelined(queue)
        if self._getex and any(_unknown_command(r) for r in replies):
            self._getex = False  # Redis before 6.2
            return self._read(names, kept)
        return replies if self._getex else replies[: 2 * len(names) : 2]

    def _found(self, wanted: Wanted, reads: list[tuple[str, str]], replies: list[Any]) -> Found:
        found = Found(wanted, remembered=self.guard.rejections)
        rejected = set(self.guard.rejections.among(wanted.signatures))
        for (key, name), value in zip(reads, replies, strict=False):
            if isinstance(value, Exception):  # a key Redis would not read (MOVED, ...)
                self._tell(value)
                found.state = "unavailable"
                continue
            if value is None:
                continue
            kind = name[len(self.prefix)]
            try:
                if kind == "t":
                    found.turns[key] = turn_from_json(value)
                elif kind == "r":
                    rejected.add(key)
                else:
                    origins = found.signatures if kind == "s" else found.texts
                    origins[key] = origin_from_json(value)
            except (ValueError, KeyError, TypeError):
                # whatever else wrote under the prefix: not seen, never raised into the call
                log.debug("thinking store (redis): %s holds no %s", name, kind)
        found.merge(Found(Wanted(), rejected=rejected))
        return found

    def _tell(self, error: Exception) -> None:
        """A plain client on a cluster: said once, loudly (every call would pad)."""
        if not self._told and str(error).startswith(_CLUSTER_ERRORS):
            self._told = True
            log.error(
                "thinking store (redis): the server is a Redis Cluster node (%s); set "
                "store.redis.cluster: true, or leave it out to have it detected",
                str(error).split(" ", 1)[0],
            )

    def origin_of_signature(self, signature: str) -> Origin | None:
        """The origin of a signature or redacted ``data``, if observed."""
        wanted = Wanted()
        wanted.signature(signature)
        return self.lookup(wanted).signatures.get(signature)

    def origin_of_text(self, text: str) -> Origin | None:
        """The origin of a reasoning text, if observed."""
        wanted = Wanted()
        wanted.text(text)
        return self.lookup(wanted).texts.get(text)

    def turn_for_tool(self, tool_id: str) -> StoredTurn | None:
        """The observed turn that made the tool call ``tool_id``, if any."""
        wanted = Wanted()
        wanted.tool(tool_id)
        return self.lookup(wanted).turns.get(tool_id)

    def rejected(self) -> frozenset[str]:
        """The rejected signatures this process has seen (a call's own are read with its
        batch: never the whole set)."""
        return self.guard.rejections.view()

    # ------------------------------------------------------------------ writes

    def record(self, turn: StoredTurn) -> None:
        """Remember one observed turn, in one pipeline (StoreError if Redis cannot take it)."""
        data = turn_to_json(turn)
        origin = origin_to_json(turn.origin)
        values = {self._key("t", tool): data for tool in turn.tool_ids}
        for sig, text in keys_of(turn):
            if sig:
                values[self._key("s", sig)] = origin
            if text:
                values[self._key("x", text)] = origin

        def queue(pipe: Any) -> None:
            for name, value in values.items():
                pipe.set(name, value, ex=self.ttl)

        if values:
            self._write(queue)

    def reject(self, key: str) -> None:
        """Remember a rejected signature (for ``ttl`` seconds, and in this process)."""
        self.reject_all([key])

    def reject_all(self, keys: list[str]) -> None:
        """Remember rejected signatures, one key each, in one pipeline."""
        names = [self._key("r", key) for key in keys]
        for key in keys:
            self.guard.rejections.add(key)

        def queue(pipe: Any) -> None:
            for name in names:
                pipe.set(name, b"1", ex=self.ttl)

        if names:
            self._write(queue)

    def _write(self, queue: Callable[[Any], None]) -> None:
        if self.guard.down():
            raise StoreError("redis", "cannot write: unavailable (it failed a moment ago)")
        try:
            replies = self._pipelined(queue)
        except self._timeouts:
            self.guard.trip()
            raise StoreTimeout("redis", "cannot write: timed out") from None
        except self._errors as exc:
            self.guard.trip()
            raise StoreError("redis", f"cannot write: {type(exc).__name__}") from None
        failed = [r for r in replies if isinstance(r, Exception)]
        if failed:
            self._tell(failed[0])
            raise StoreError("redis", f"cannot write: {type(failed[0]).__name__}")
        self.guard.reset()


def _cluster_enabled(client: Any) -> bool:
    """Whether the server is a cluster node (``INFO cluster``, asked once)."""
    return bool(client.info("cluster").get("cluster_enabled"))


def _unknown_command(reply: object) -> bool:
    return isinstance(reply, Exception) and "unknown command" in str(reply).lower()
