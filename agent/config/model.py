"""What a loaded config is: the chain, the providers, the families, the store; and how a
provider's chain combines with the global one. Building a pipeline is the only side effect,
and it happens when a pipeline is asked for, never at load (``check`` creates no store file).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from attrs import field, frozen

from agent.errors import ConfigError, shown
from agent.families import FamilyRegistry
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.pipeline import Middleware, Pipeline
from agent.sqlite_store import SqliteStore
from agent.store import MemoryStore, ThinkingStore
from agent.wire import safe_url

#: Built-in middleware by config name. Options are the attrs fields of the class, minus the
#: ones the config itself supplies (the shared store).
MIDDLEWARE: Mapping[str, Callable[..., Middleware]] = {
    "tool_pairing": ToolPairing,
    "thinking_round_trip": ThinkingRoundTrip,
}
SUPPLIED = frozenset({"store"})
DEFAULT_CHAIN = ("tool_pairing", "thinking_round_trip")


def options_of(name: str) -> tuple[str, ...]:
    """The options a config entry of middleware ``name`` may set."""
    cls = MIDDLEWARE[name]
    assert isinstance(cls, type)
    return tuple(a.name for a in attrs.fields(cls) if a.name not in SUPPLIED)


@frozen
class MiddlewareEntry:
    """One entry of a chain, validated at load.

    Attributes:
        name: the middleware's config name (``thinking_round_trip``).
        options: its options, checked against the class.
        enabled: False for a provider entry that removes a global one (``{name: false}``).
        where: the entry in the config file, for messages.
    """

    name: str
    options: Mapping[str, Any] = field(factory=dict)
    enabled: bool = True
    where: str = ""

    def describe(self) -> str:
        """``name`` or ``name(option=value, ...)``."""
        if not self.options:
            return self.name
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"{self.name}({inner})"

    def build(self, store: ThinkingStore) -> Middleware:
        """An instance of this entry, given the config's shared store where it takes one."""
        cls = MIDDLEWARE[self.name]
        assert isinstance(cls, type)
        supplied = {"store": store} if "store" in {a.name for a in attrs.fields(cls)} else {}
        return cls(**self.options, **supplied)  # type: ignore[no-any-return]


@frozen
class ProviderConfig:
    """One configured provider.

    Attributes:
        name: the provider's name.
        base_url: where requests go (None: the wire's official endpoint).
        model: the default model id.
        api_mode: the wire: ``anthropic_messages``, ``chat_completions``, ``responses``,
            ``bedrock_converse`` or ``gemini``.
        api_mode_rule: how the wire was decided, said by ``check``: ``set``, read from the
            base URL or the family's own endpoint, or ``assumed (not set)`` (with a warning).
        family: an explicit family (wins detection), if set.
        api_key: the key, after interpolation; never printed.
        api_key_source: where the key came from, safe to print (``env MIMO_KEY``, ``inline``).
        middleware: the provider's own entries (merged into the global chain), if any.
        middleware_replace: whether the provider's list replaces the global chain instead.
        timeout: seconds to wait for this provider (``upstream_timeout``): the gateway's
            upstream calls (None: the gateway's ``timeout``) and the SDK clients built from
            the config (None: the SDK's default).
        forward_client_key: the gateway sends the client's own ``x-api-key`` /
            ``Authorization`` upstream (the provider's ``api_key`` only when the client sent
            none); clients then present a gateway token as ``x-gateway-token``.
        dialect: an explicit host dialect (how the host carries reasoning), if set.
        reasoning_field: the chat field reasoning travels in, if set (ThinkingRoundTrip's
            ``reasoning_field`` for this provider).
        preserve_reasoning: set the host's switch to keep earlier reasoning, if set
            (ThinkingRoundTrip's ``preserve_reasoning`` for this provider).
        where: the entry in the config file.
    """

    name: str
    base_url: str | None = field(default=None, repr=lambda url: repr(safe_url(url)))
    model: str | None = None
    api_mode: str = "chat_completions"
    api_mode_rule: str = "set"
    family: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_source: str = "none"
    middleware: tuple[MiddlewareEntry, ...] | None = None
    middleware_replace: bool = False
    timeout: float | None = None
    forward_client_key: bool = False
    dialect: str | None = None
    reasoning_field: str | None = None
    preserve_reasoning: bool | None = None
    where: str = ""

    def round_trip_options(self) -> dict[str, Any]:
        """The ThinkingRoundTrip options this provider sets by its own keys."""
        options: dict[str, Any] = {}
        if self.reasoning_field is not None:
            options["reasoning_field"] = self.reasoning_field
        if self.preserve_reasoning is not None:
            options["preserve_reasoning"] = self.preserve_reasoning
        return options

    def client_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options for an SDK client of this provider: ``options``, with this provider's
        ``upstream_timeout`` as the ``timeout`` unless ``options`` sets one."""
        if self.timeout is None or "timeout" in options:
            return dict(options)
        return {**options, "timeout": self.timeout}


def _redacted(options: Mapping[str, Any]) -> dict[str, Any]:
    """Store options as they may be printed: a URL (it may hold a password) as ``***``."""
    return {k: "***" if k == "url" else v for k, v in options.items()}


@frozen
class StoreSpec:
    """Which ThinkingStore the config asks for.

    Attributes:
        kind: ``memory``, ``sqlite`` or ``redis``.
        options: ``max_turns``; ``max_bytes`` for memory; ``path`` for sqlite; ``url``,
            ``ttl``, ``prefix``, ``timeout_ms``, ``cluster`` for redis.
    """

    kind: str = "memory"
    options: Mapping[str, Any] = field(factory=dict, repr=lambda o: repr(_redacted(o)))

    def build(self) -> ThinkingStore:
        """A new store of this kind."""
        if self.kind == "sqlite":
            return SqliteStore(**self.options)
        if self.kind == "redis":
            from agent.redis_store import RedisStore  # needs the redis extra

            return RedisStore(**self.options)
        return MemoryStore(**self.options)


#: Anthropic's own request size limit, the gateway's default.
MAX_BODY_BYTES = 32_000_000


@frozen
class GatewaySpec:
    """What ``python -m agent serve`` reads from the config's ``gateway:`` section (each
    default is in the README's "Running the gateway in production").

    Attributes:
        tokens: the tokens a client must present (``Authorization: Bearer`` or ``x-api-key``);
            required when the gateway binds anything but 127.0.0.1. Never printed.
        max_body_bytes: the largest request body taken (413 above it, upstream never called).
        timeout: seconds an upstream call may take, connect to last byte of a plain answer.
        decisions: count the chain's decisions by action in each access log line (the
            chain then costs up to about a quarter more than a plain one).
        max_response_bytes: the largest plain answer held, as sent and decoded (502 above).
        max_decode_ratio: how many times its compressed size an answer may decode to.
        max_event_bytes: the largest stream event (or line) held to observe it.
        max_observed_bytes: how much of a stream is observed (the rest only passes).
        first_byte_timeout: seconds to a stream's first byte (None: ``timeout``).
        idle_timeout: seconds a stream may stay silent between chunks.
        header_timeout: seconds a client has to send its request headers (408).
        max_header_bytes: the largest request head a client may send (431).
        max_headers: the most request headers a client may send (431).
        drain_timeout: seconds SIGTERM waits for open requests and streams.
        metrics: serve Prometheus metrics at ``/metrics``.
        max_resent_bytes: how much of the bodies it read last each worker keeps, so that the
            next call of the same history has only its new messages decoded (0: none).
        keep_free_bytes: how much freed memory each worker keeps for reuse instead of handing
            it back to the system (glibc on Linux; 0: the C library's own rule).
    """

    tokens: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = MAX_BODY_BYTES
    timeout: float = 600.0
    decisions: bool = True
    max_response_bytes: int = 32_000_000
    max_decode_ratio: int = 100
    max_event_bytes: int = 8_000_000
    max_observed_bytes: int = 32_000_000
    first_byte_timeout: float | None = None
    idle_timeout: float = 300.0
    header_timeout: float = 10.0
    max_header_bytes: int = 65_536
    max_headers: int = 100
    drain_timeout: float = 30.0
    metrics: bool = False
    max_resent_bytes: int = 32_000_000
    keep_free_bytes: int = 64_000_000


@frozen
class Config:
    """A loaded config: the chain, providers, families and store, all validated.

    Attributes:
        path: the file it came from.
        middleware: the global chain.
        providers: configured providers by name.
        families: the family table (built-ins plus the file's definitions).
        store_spec: the store the file asks for.
        gateway: the gateway's settings (``gateway:``).
        warnings: what the file leaves to an assumption, one sentence each (also logged).
        missing_env: (variable, entry) of each environment variable referred to but not set;
            only a config loaded with ``require_env=False`` has any (for checking only).
    """

    path: str
    middleware: tuple[MiddlewareEntry, ...]
    providers: Mapping[str, ProviderConfig]
    families: FamilyRegistry
    store_spec: StoreSpec
    gateway: GatewaySpec = field(factory=GatewaySpec)
    warnings: tuple[str, ...] = ()
    missing_env: tuple[tuple[str, str], ...] = ()
    _store: list[ThinkingStore] = field(factory=list, init=False, eq=False, repr=False)
    _lock: threading.Lock = field(factory=threading.Lock, init=False, eq=False, repr=False)

    @property
    def store(self) -> ThinkingStore:
        """The one store every pipeline of this config shares (so provenance survives a switch
        between providers), built on first use."""
        with self._lock:
            if not self._store:
                self._store.append(self.store_spec.build())
            return self._store[0]

    def provider(self, name: str) -> ProviderConfig:
        """The provider called ``name``; ConfigError listing the known ones otherwise."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(self.providers) or "none"
            raise ConfigError(self.path, f"no provider {shown(name)} (known: {known})") from None

    def chain_for(self, provider: str | None = None) -> tuple[MiddlewareEntry, ...]:
        """The chain one provider runs: the global chain combined with the provider's list.

        A provider's entry with the name of a global one overrides that entry's options in its
        place; ``{name: false}`` removes it; a new name joins before ``thinking_round_trip``
        (which stays the last message-shaping step). ``middleware_replace: true`` makes the
        provider's list the whole chain.
        """
        if provider is None:
            return self.middleware
        entry = self.provider(provider)
        return _with_options(self._chain_of(entry), entry.round_trip_options())

    def _chain_of(self, entry: ProviderConfig) -> tuple[MiddlewareEntry, ...]:
        if entry.middleware is None:
            return self.middleware
        if entry.middleware_replace:
            return tuple(m for m in entry.middleware if m.enabled)
        chain = list(self.middleware)
        for own in entry.middleware:
            at = next((i for i, m in enumerate(chain) if m.name == own.name), None)
            if at is not None:
                if not own.enabled:
                    del chain[at]
                else:
                    chain[at] = attrs.evolve(own, options={**chain[at].options, **own.options})
            elif own.enabled:
                last = next(
                    (i for i, m in enumerate(chain) if m.name == "thinking_round_trip"),
                    len(chain),
                )
                chain.insert(last, own)
        return tuple(chain)

    def pipeline(self, provider: str | None = None) -> Pipeline:
        """The Pipeline of ``provider`` (or the global chain), sharing the config's store."""
        entry = self.provider(provider) if provider is not None else None
        chain = [m.build(self.store) for m in self.chain_for(provider)]
        return Pipeline(
            chain,
            families=self.families,
            family=entry.family if entry else None,
            dialect=entry.dialect if entry else None,
        )


def _with_options(
    chain: tuple[MiddlewareEntry, ...], options: Mapping[str, Any]
) -> tuple[MiddlewareEntry, ...]:
    """``chain`` with a provider's own round-trip keys set on its ThinkingRoundTrip entry."""
    if not options:
        return chain
    return tuple(
        attrs.evolve(m, options={**m.options, **options}) if m.name == "thinking_round_trip" else m
        for m in chain
    )
