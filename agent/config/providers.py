"""Reading one provider entry, under every name another agent's config gives its fields.

Ours (``base_url``, ``api_mode``, ``model``, ``api_key`` / ``api_key_env``), hermes'
``custom_providers`` list (the same names, ``key_env`` for the key's variable) and hermes'
``providers:`` mapping as its own config migration writes it (``api`` for the URL,
``transport`` for the wire, ``default_model``, ``key_env``) are read alike; a key of hermes'
that changes how a call is made, which this library does not do, is refused by name.

Nothing goes silently wrong: a ``base_url`` needs its scheme; a provider without one goes to
the wire's official host only when its family's vendor owns that host (``claude-*`` on
``anthropic_messages``), else it is an error; ``api_mode`` left out is read from the base URL
where that says it unambiguously (``API_MODE_HINTS``), else ``chat_completions`` is assumed
with a warning naming ``api_mode``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from agent.config.env import EnvReader
from agent.config.sections import Entry, seconds
from agent.errors import InvalidRequest, UnknownFamily, shown
from agent.families import APIS, FamilyRegistry, ModelFamily
from agent.wire import OFFICIAL_HOSTS, host_of

#: Each field of ours and the names other agents' configs give it, in the order read
#: (hermes: ``url`` / ``api`` for the URL, ``transport`` for the wire, ``default_model``).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "base_url": ("base_url", "url", "api"),
    "api_mode": ("api_mode", "transport"),
    "model": ("model", "default_model"),
}
#: Other agents' names of our wires (hermes calls the OpenAI Responses API codex_responses).
WIRE_NAMES: Mapping[str, str] = {"codex_responses": "responses"}
#: Keys of hermes' entries that change how a call is made, which this library does not do:
#: refused by name (with what to do instead) unless set to what changes nothing.
REFUSED: Mapping[str, str] = {
    "key_cmd": "a command that prints the key is not run here; put the key in an environment "
    "variable and name it with key_env",
    "extra_headers": "extra headers are not sent here (the gateway and the clients built from "
    "this config would call without them); remove them or call this provider another way",
    "ssl_ca_cert": "a custom CA certificate is not used here (the call would fail or trust "
    "the wrong CA); remove it or call this provider another way",
    "ssl_verify": "turning TLS verification off is not done here; remove it or call this "
    "provider another way",
}
#: What each refused key may be set to without changing anything.
_HARMLESS: Mapping[str, tuple[object, ...]] = {"extra_headers": ({}, None), "ssl_verify": (True,)}

#: Base URLs that say which wire they speak, read when ``api_mode`` is not set:
#: (the test's description, the wire). Anything else is ambiguous (a relay's ``/v1`` may speak
#: Chat Completions or Responses; Google's and Amazon's hosts also serve OpenAI-compatible
#: paths).
API_MODE_HINTS: tuple[tuple[str, str], ...] = (
    ("the path ends in /anthropic (an Anthropic-compatible endpoint)", "anthropic_messages"),
    ("the host is Anthropic's (it speaks only Messages)", "anthropic_messages"),
)
_ANTHROPIC_HOST = "anthropic.com"
_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:]+")  # a host name or an IPv6 address


def read_target(read: Entry, families: FamilyRegistry, warnings: list[str]) -> dict[str, Any]:
    """Where one provider's calls go and on which wire, checked (``ProviderConfig`` fields);
    a warning for what the entry leaves to an assumption."""
    for key, problem in REFUSED.items():
        if key in read.entry and read.entry[key] not in _HARMLESS.get(key, (None,)):
            raise read.error(key, problem)
    timeout = seconds(read, "upstream_timeout")
    base_url, url_key = _one_of(read, "base_url")
    reader = read.reader
    unresolved = isinstance(reader, EnvReader) and reader.unresolved(f"{read.where}.{url_key}")
    if base_url is not None and url_key is not None and not unresolved:
        _check_url(read, url_key, base_url)
    mode, mode_key = _one_of(read, "api_mode")
    model, _ = _one_of(read, "model")
    family = _family(read, families)
    vendor = _vendor(families, family, model)
    api_mode, rule = _wire(read, mode_key, mode, None if unresolved else base_url, vendor)
    if rule.startswith("assumed"):
        warnings.append(
            f"{read.where}: api_mode is not set and the base URL does not say which wire it "
            "speaks, so chat_completions is assumed; set api_mode (anthropic_messages for an "
            "Anthropic-compatible relay)"
        )
    if base_url is None:
        _vendor_host(read, api_mode, vendor)
    return {
        "base_url": base_url,
        "model": model,
        "api_mode": api_mode,
        "api_mode_rule": rule,
        "family": family,
        "timeout": timeout,
        "where": read.where,
    }


def _one_of(read: Entry, field: str) -> tuple[str | None, str | None]:
    """The value of ``field`` under whichever of its names is set, and that name; an error when
    two of its names are set to different values."""
    found = [(key, read.text(key)) for key in ALIASES[field] if read.entry.get(key) is not None]
    if not found:
        return None, None
    (key, value), *others = found
    for other, second in others:
        if second != value:
            raise read.error(
                other, f"{key} and {other} name the same thing with different values; keep one"
            )
    return value, key


def _check_url(read: Entry, key: str, url: str) -> None:
    """A base URL with its scheme and a host (the URL itself is never echoed: it may hold a
    key in its user info or query)."""
    try:
        parts = urlsplit(url.strip())
        host = host_of(url, "chat_completions")
    except (InvalidRequest, ValueError):
        parts, host = None, ""
    if parts is not None and parts.scheme.lower() not in ("http", "https"):
        raise read.error(
            key,
            "expected a URL with its scheme, like https://open.markhub.top "
            f"({'this one has none' if not parts.scheme else 'only http and https'})",
        )
    if not _HOST.fullmatch(host) or any(c.isspace() for c in url.strip()):
        raise read.error(key, "expected a URL like https://host/path")


def _family(read: Entry, families: FamilyRegistry) -> str | None:
    family = read.text("family")
    if family is None:
        return None
    try:
        return families.get(family).name
    except UnknownFamily as exc:
        raise read.error("family", exc.problem) from None


def _vendor(families: FamilyRegistry, family: str | None, model: str | None) -> ModelFamily | None:
    """The family the entry names by ``family:`` or by its model id (never by a host: with no
    base URL the host is only the wire's default, which says nothing)."""
    if family is not None:
        return families.get(family)
    if not model:
        return None
    match = families.resolve(model, None, "anthropic_messages")
    return match.family if match.rule == "model" else None


def _wire(
    read: Entry,
    key: str | None,
    mode: str | None,
    base_url: str | None,
    vendor: ModelFamily | None,
) -> tuple[str, str]:
    """The wire and how it was decided: set, read from the base URL or the vendor's own host,
    or assumed."""
    if mode is not None and key is not None:
        api = WIRE_NAMES.get(mode, mode)
        if api not in APIS:
            raise read.error(key, f"{shown(mode)} is not one of {', '.join(APIS)}")
        return api, "set" if key == "api_mode" else f"set (as {key})"
    if base_url is not None:
        path = urlsplit(base_url.strip()).path.rstrip("/").lower()
        if path.endswith("/anthropic"):
            return API_MODE_HINTS[0][1], f"from the base URL: {API_MODE_HINTS[0][0]}"
        host = host_of(base_url, "chat_completions")
        if host == _ANTHROPIC_HOST or host.endswith("." + _ANTHROPIC_HOST):
            return API_MODE_HINTS[1][1], f"from the base URL: {API_MODE_HINTS[1][0]}"
    elif vendor is not None:
        own = [api for api, host in OFFICIAL_HOSTS.items() if vendor.host_pattern(host)]
        if len(own) == 1:
            return own[0], f"from the family: {vendor.name}'s own endpoint speaks only it"
    return "chat_completions", "assumed (not set)"


def _vendor_host(read: Entry, api: str, vendor: ModelFamily | None) -> None:
    """No base URL: the wire's official host, only when the family's vendor owns it."""
    official = OFFICIAL_HOSTS[api]
    if vendor is not None and vendor.host_pattern(official):
        return
    why = (
        f"which is not {vendor.name}'s"
        if vendor is not None
        else "and no model or family says that vendor is meant"
    )
    raise read.reader.error(
        read.where,
        f"no base_url: requests would go to {official} ({api}'s default host), {why}; "
        "set base_url to the endpoint this provider calls",
        read.entry,
    )
