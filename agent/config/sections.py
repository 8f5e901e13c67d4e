"""The config's own sections beside the providers: ``store:`` (memory, sqlite, redis) and
``gateway:`` (what ``python -m agent serve`` reads), and the reader of one entry's fields
that the provider entries share. Everything is checked at load; nothing is opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.config.model import GatewaySpec, StoreSpec
from agent.config.parse import Reader, kind_of
from agent.errors import ConfigError, StoreError, shown
from agent.redis_store import DEFAULT_TIMEOUT_MS, DEFAULT_TTL
from agent.sqlite_store import check_path

#: The gateway's whole numbers (each >= 1) and seconds (more than 0, less than a day).
_GATEWAY_SIZES = (
    "max_body_bytes",
    "max_response_bytes",
    "max_decode_ratio",
    "max_event_bytes",
    "max_observed_bytes",
    "max_header_bytes",
    "max_headers",
    "max_resent_bytes",
    "keep_free_bytes",
)
#: Sizes where 0 turns the thing off (no history kept; the C library's own rule).
_ZERO_MEANS_OFF = ("max_resent_bytes", "keep_free_bytes")
_GATEWAY_SECONDS = (
    "timeout",
    "first_byte_timeout",
    "idle_timeout",
    "header_timeout",
    "drain_timeout",
)
_GATEWAY_SWITCHES = ("decisions", "metrics")
_GATEWAY_OPTIONS = ("tokens", *_GATEWAY_SIZES, *_GATEWAY_SECONDS, *_GATEWAY_SWITCHES)
_STORE_OPTIONS = {
    "memory": ("max_turns", "max_bytes"),
    "sqlite": ("path", "max_turns"),
    "redis": ("url", "ttl", "prefix", "timeout_ms", "cluster"),
}


class Entry:
    """One provider entry being read: its mapping, where it is, and the reader."""

    def __init__(self, reader: Reader, entry: Mapping[str, Any], where: str) -> None:
        self.reader = reader
        self.entry = entry
        self.where = where

    def error(self, key: str, problem: str) -> ConfigError:
        return self.reader.error(f"{self.where}.{key}", problem, self.entry, key)

    def text(self, key: str, secret: bool = False) -> str | None:
        """A string field, ``${VAR}`` interpolated; None when absent."""
        if key not in self.entry or self.entry[key] is None:
            return None
        where = f"{self.where}.{key}"
        raw = self.reader.string(self.entry[key], where, self.entry, key, secret)
        return self.reader.interpolate(raw, where, self.entry, key)


def store_section(reader: Reader, value: object, root: object) -> StoreSpec:
    named = named_entry(value, root)
    if named is None:
        raise reader.error(
            "store", "expected 'memory', 'sqlite', or {kind: {options}}", root, "store"
        )
    kind, options, owner = named
    options = {} if options is None else options
    if kind not in _STORE_OPTIONS:
        raise reader.error(
            "store", f"unknown store {shown(kind)} (known: memory, sqlite, redis)", root, "store"
        )
    if not isinstance(options, Mapping):
        raise reader.error(
            f"store.{kind}", f"expected options as a mapping, got {kind_of(options)}", owner, kind
        )
    for option, setting in options.items():
        where = f"store.{kind}.{option}"
        if option not in _STORE_OPTIONS[kind]:
            raise reader.error(
                where,
                f"unknown option (options: {', '.join(_STORE_OPTIONS[kind])})",
                options,
                option,
            )
        if option in ("max_turns", "max_bytes") and (type(setting) is not int or setting < 1):
            raise reader.error(where, "expected a whole number >= 1", options, option)
        if option == "path" and not isinstance(setting, str):
            raise reader.error(where, "expected a file path", options, option)
    if kind == "redis":
        return _redis(reader, options, owner)
    if kind == "sqlite":
        if "path" not in options:
            raise reader.error("store.sqlite", "missing field 'path'", owner, kind)
        given = Path(os.path.expanduser(options["path"]))
        if ".." in given.parts:
            raise reader.error(
                "store.sqlite.path", "must not climb out of a folder ('..')", options, "path"
            )
        path = given if given.is_absolute() else Path(reader.path).resolve().parent / given
        try:
            check_path(str(path))  # creates nothing: the file is made on the first write
        except StoreError as exc:
            raise reader.error("store.sqlite.path", exc.problem, options, "path") from None
        options = {**options, "path": str(path)}
    return StoreSpec(kind, dict(options))


def _redis(reader: Reader, options: Mapping[str, Any], owner: object) -> StoreSpec:
    """store: {redis: {url, ttl, prefix, timeout_ms, cluster}}: checked at load, nothing
    connected."""
    if "url" not in options:
        raise reader.error("store.redis", "missing field 'url'", owner, "redis")
    raw = reader.string(options["url"], "store.redis.url", options, "url", secret=True)
    url = reader.interpolate(raw, "store.redis.url", options, "url")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise reader.error(
            "store.redis.url", "expected a redis://, rediss:// or unix:// URL", options, "url"
        )
    ttl = options.get("ttl", DEFAULT_TTL)
    if type(ttl) is not int or ttl < 1:
        raise reader.error("store.redis.ttl", "expected whole seconds >= 1", options, "ttl")
    prefix = options.get("prefix", "agent:")
    if not isinstance(prefix, str):
        raise reader.error("store.redis.prefix", "expected a string", options, "prefix")
    timeout = options.get("timeout_ms", DEFAULT_TIMEOUT_MS)
    if type(timeout) is not int or not 1 <= timeout <= 60_000:
        raise reader.error(
            "store.redis.timeout_ms",
            "expected whole milliseconds, 1 to 60000",
            options,
            "timeout_ms",
        )
    cluster = options.get("cluster")
    if cluster is not None and not isinstance(cluster, bool):
        raise reader.error(
            "store.redis.cluster",
            "expected true or false (leave it out to have it detected)",
            options,
            "cluster",
        )
    if cluster and url.startswith("unix://"):
        problem = "a Redis Cluster is reached over TCP (redis:// or rediss://), not unix://"
        raise reader.error("store.redis.cluster", problem, options, "cluster")
    spec = {"url": url, "ttl": ttl, "prefix": prefix, "timeout_ms": timeout, "cluster": cluster}
    return StoreSpec("redis", spec)


def gateway_section(reader: Reader, value: object, root: object) -> GatewaySpec:
    if value is None:
        return GatewaySpec()
    section = reader.mapping(value, "gateway", root, "gateway")
    read = Entry(reader, section, "gateway")
    for key in section:
        if key not in _GATEWAY_OPTIONS:
            raise read.error(str(key), f"unknown option (options: {', '.join(_GATEWAY_OPTIONS)})")
    tokens = section.get("tokens") or []
    if not isinstance(tokens, list):
        raise read.error("tokens", "expected a list of tokens")
    values = []
    for index, token in enumerate(tokens):
        where = f"gateway.tokens[{index}]"
        raw = reader.string(token, where, section, "tokens", secret=True)
        values.append(reader.interpolate(raw, where, section, "tokens"))
    if any(not t.strip() for t in values):
        raise read.error("tokens", "a token must not be empty")
    settings: dict[str, Any] = {}
    for key in _GATEWAY_SIZES:
        size = section.get(key)
        least = 0 if key in _ZERO_MEANS_OFF else 1
        if size is not None and (type(size) is not int or size < least):
            raise read.error(key, f"expected a whole number >= {least}")
        if size is not None:
            settings[key] = size
    for key in _GATEWAY_SECONDS:
        if seconds(read, key) is not None:
            settings[key] = seconds(read, key)
    for key in _GATEWAY_SWITCHES:
        switch = section.get(key)
        if switch is not None and not isinstance(switch, bool):
            raise read.error(key, "expected true or false")
        if switch is not None:
            settings[key] = switch
    return GatewaySpec(tuple(values), **settings)


def seconds(read: Entry, key: str) -> float | None:
    """A time-out in seconds (more than 0, less than a day); None when absent."""
    value = read.entry.get(key)
    if value is None:
        return None
    if type(value) not in (int, float) or not 0 < value < 86_400:
        raise read.error(key, "expected seconds, more than 0 and less than a day")
    return float(value)


def named_entry(item: object, parent: object) -> tuple[str, Any, object] | None:
    """A ``name`` or a one-key ``{name: options}`` entry as (name, options, owner), else None;
    the owner is the mapping whose lines locate the options."""
    if isinstance(item, str):
        return item, {}, parent
    if isinstance(item, Mapping) and len(item) == 1:
        name, options = next(iter(item.items()))
        return str(name), options, item
    return None
