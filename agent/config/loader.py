"""Reading a config file: YAML or TOML (by extension), every error found at load time.

The keys live in the config file the agent already has; keys this library does not own are
left alone (a near miss of one of ours, like ``middelware:``, is an error). Schema::

    middleware:                    # the global chain, in order (default: tool_pairing,
      - tool_pairing               #   thinking_round_trip)
      - thinking_round_trip: {foreign: keep_text}
    providers:                     # a mapping name -> entry, or a list of entries with name:
      mimo-relay:                  #   at least one; hermes' enabled: false leaves one out
        base_url: https://open.markhub.top   # hermes: url, api; left out only for the family's
                                   #   own vendor host (see ``providers``)
        api_key: ${MIMO_API_KEY}   # or api_key_env: MIMO_API_KEY (hermes: key_env)
        model: mimo-v2.5-pro       # hermes: default_model
        api_mode: anthropic_messages   # hermes: transport; chat_completions, responses,
                                   #   bedrock_converse, gemini; left out: read from the base
                                   #   URL, else chat_completions with a warning
        family: mimo               # optional: skip detection
        dialect: vllm              # optional: how the host carries reasoning (a host with no
                                   #   fixed name: vllm, lmstudio, llamacpp; see `families`)
        reasoning_field: auto      # chat wire: reasoning_content, reasoning, reasoning_text, none
        preserve_reasoning: false  # set the host's switch to keep earlier reasoning
        middleware:                # optional: merged into the global chain (see README)
          - thinking_round_trip: {on_missing_loop_thinking: raise}
        upstream_timeout: 120      # seconds to wait: the gateway and the clients built here
        forward_client_key: false  # gateway only: send the client's own key upstream
    custom_providers: [...]        # hermes-style list, read like providers:
    families: [...]                # add a family, or override a built-in one by name
    store: memory                  # or {memory: {max_turns: N, max_bytes: B}}, {sqlite: {path: F}},
                                   #   {redis: {url: U, ttl: S, prefix: P}}
    gateway: {tokens: [...], max_body_bytes: B, timeout: S, ...}  # thinking-round-trip serve:
                                   #   every limit and timeout in docs/gateway.md

Errors name the file, the line where the parser gives one, the entry and what is wrong; every
environment variable that is not set is named in one error (``env``).
Secrets (api keys) never appear in reprs, output or error messages.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.config.env import EnvReader
from agent.config.model import (
    DEFAULT_CHAIN,
    MIDDLEWARE,
    Config,
    MiddlewareEntry,
    ProviderConfig,
    options_of,
)
from agent.config.parse import VAR, Reader, kind_of, near, parse
from agent.config.providers import ALIASES, REFUSED, read_target
from agent.config.sections import Entry, gateway_section, named_entry, store_section
from agent.errors import ConfigError, FamilyDefinitionError, InvalidOption, UnknownFamily, shown
from agent.families import FamilyRegistry
from agent.families.dialects import FIELD_CHOICES

_log = logging.getLogger(__name__)

_TOP_KEYS = ("middleware", "providers", "custom_providers", "families", "store", "gateway")
_PROVIDER_KEYS = (
    "name",
    *(name for names in ALIASES.values() for name in names),
    "api_key",
    "api_key_env",
    "key_env",
    "family",
    "middleware",
    "middleware_replace",
    "upstream_timeout",
    "forward_client_key",
    "dialect",
    "reasoning_field",
    "preserve_reasoning",
    "enabled",
    *REFUSED,
)
#: Keys hermes (and similar agents) keep in provider entries for themselves, which change
#: nothing about where or how a call goes; never near misses of ours.
_HOST_AGENT_KEYS = frozenset(
    {
        "models",
        "models_discovered",
        "discover_models",
        "headers",
        "request_timeout_seconds",
        "stale_timeout_seconds",
        "context_length",
        "rate_limit_delay",
        "provider",
        "api_version",
        "extra_body",
        "timeout",
    }
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load_config(path: str | os.PathLike[str], *, require_env: bool = True) -> Config:
    """Read, validate and build a config file (YAML or TOML, chosen by extension).

    Every environment variable the file refers to that is not set is named in one error;
    ``require_env=False`` validates without them (``check --no-env``): their values stay as
    written and ``Config.missing_env`` lists them, so such a config is for checking only.
    What the file leaves to an assumption (a provider's ``api_mode``) is logged as a warning
    and listed in ``Config.warnings``.
    """
    file = Path(path)
    data, lines = parse(file)
    reader = EnvReader(str(file), lines)
    root = reader.mapping({} if data is None else data, "(top level)", None, None)
    for key in root:
        hint = near(str(key), _TOP_KEYS)
        if hint is not None:
            raise reader.error(str(key), f"unknown key; did you mean {hint!r}?", root, str(key))
    families = FamilyRegistry.builtin()
    if "families" in root:
        families = _families(reader, root["families"], root, families)
    middleware = (
        _chain(reader, root["middleware"], "middleware", root, "middleware")
        if "middleware" in root
        else tuple(MiddlewareEntry(n, where="(default chain)") for n in DEFAULT_CHAIN)
    )
    warnings: list[str] = []
    providers = _all_providers(reader, root, families, warnings)
    spec = store_section(reader, root.get("store", "memory"), root)
    gateway = gateway_section(reader, root.get("gateway"), root)
    if require_env:
        reader.check_env()
    if not providers:
        raise _no_providers(reader, root)
    for warning in warnings:
        _log.warning("%s: %s", file, warning)
    return Config(
        str(file),
        middleware,
        providers,
        families,
        spec,
        gateway,
        warnings=tuple(warnings),
        missing_env=tuple(reader.missing),
    )


def _all_providers(
    reader: EnvReader, root: Mapping[str, Any], families: FamilyRegistry, warnings: list[str]
) -> dict[str, ProviderConfig]:
    """Every enabled provider of ``providers:`` and ``custom_providers:``."""
    providers: dict[str, ProviderConfig] = {}
    for key in ("providers", "custom_providers"):
        if key in root and root[key] is not None:
            for provider in _providers(reader, root[key], key, root, families, warnings):
                if provider.name in providers:
                    raise reader.error(
                        provider.where, f"provider {provider.name!r} is defined twice"
                    )
                providers[provider.name] = provider
    return providers


def _families(reader: Reader, value: object, root: object, base: FamilyRegistry) -> FamilyRegistry:
    if isinstance(value, Mapping):  # families: {name: {...}} is accepted too
        items = [
            ({**v, "name": k} if isinstance(v, Mapping) else v, value, k) for k, v in value.items()
        ]
    elif isinstance(value, list):
        items = [(v, v, None) for v in value]
    else:
        raise reader.error(
            "families", f"expected a list of families, got {kind_of(value)}", root, "families"
        )
    definitions = []
    for index, (entry, parent, key) in enumerate(items):
        where = f"families.{key}" if key is not None else f"families[{index}]"
        reader.mapping(entry, where, parent, key)
        definitions.append((where, entry, parent))
    try:
        return base.with_definitions((w, d) for w, d, _ in definitions)
    except FamilyDefinitionError as exc:
        owner = next((p for w, _, p in definitions if exc.where.startswith(w)), None)
        raise reader.error(exc.where, exc.problem, owner) from None


def _chain(
    reader: Reader, value: object, where: str, parent: object, key: str
) -> tuple[MiddlewareEntry, ...]:
    if not isinstance(value, list):
        raise reader.error(
            where, f"expected a list of middleware, got {kind_of(value)}", parent, key
        )
    return tuple(_entry(reader, item, f"{where}[{i}]", parent, key) for i, item in enumerate(value))


def _entry(reader: Reader, item: object, at: str, parent: object, key: str) -> MiddlewareEntry:
    named = named_entry(item, parent)
    if named is None:
        raise reader.error(
            at,
            "expected a middleware name or a one-key mapping {name: {option: value}}",
            parent,
            key,
        )
    name, options, owner = named
    if name not in MIDDLEWARE:
        close = difflib.get_close_matches(name, MIDDLEWARE, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise reader.error(
            at,
            f"unknown middleware {shown(name)} (known: {', '.join(MIDDLEWARE)}){hint}",
            owner,
            name,
        )
    enabled = True
    if options is False:
        options, enabled = {}, False
    elif options is None or options is True:
        options = {}
    elif not isinstance(options, Mapping):
        raise reader.error(
            f"{at}.{name}", f"expected options as a mapping, got {kind_of(options)}", owner, name
        )
    allowed = options_of(name)
    for option in options:
        if option not in allowed:
            raise reader.error(
                f"{at}.{name}.{option}",
                f"unknown option (options of {name}: {', '.join(allowed) or 'none'})",
                options,
                option,
            )
    try:  # build once now, so a bad value fails at load, not at the first call
        MIDDLEWARE[name](**options)
    except InvalidOption as exc:
        if exc.where in options:  # the option at fault, on its own line
            raise reader.error(
                f"{at}.{name}.{exc.where}", exc.problem, options, exc.where
            ) from None
        raise reader.error(f"{at}.{name}", str(exc), options) from None
    return MiddlewareEntry(name, dict(options), enabled, at)


def _no_providers(reader: EnvReader, root: Mapping[str, Any]) -> ConfigError:
    """A config that configures no provider (a section mis-indented to nothing, say)."""
    for key in ("providers", "custom_providers"):
        if key in root:
            return reader.error(
                key,
                "no enabled provider (an empty section, or entries not indented under it?)",
                root,
                key,
            )
    return reader.error(
        "", "no providers: add a providers: section (name: {base_url, api_mode, model, ...})"
    )


def _providers(
    reader: EnvReader,
    value: object,
    key: str,
    root: object,
    families: FamilyRegistry,
    warnings: list[str],
) -> list[ProviderConfig]:
    if isinstance(value, Mapping):
        items = [(v, f"{key}.{k}", k, value, k) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(v, f"{key}[{i}]", None, v, None) for i, v in enumerate(value)]
    else:
        raise reader.error(
            key, f"expected a mapping or a list of providers, got {kind_of(value)}", root, key
        )
    out = []
    for entry, where, name, parent, parent_key in items:
        entry = reader.mapping(entry, where, parent, parent_key)
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise reader.error(f"{where}.enabled", "expected true or false", entry, "enabled")
        if enabled:  # hermes' enabled: false leaves an entry out
            out.append(_provider(reader, entry, where, name, families, warnings))
    return out


def _provider(
    reader: EnvReader,
    entry: Mapping[str, Any],
    where: str,
    name: object,
    families: FamilyRegistry,
    warnings: list[str],
) -> ProviderConfig:
    for key in entry:
        hint = None if key in _HOST_AGENT_KEYS else near(str(key), _PROVIDER_KEYS)
        if hint is not None:
            raise reader.error(
                f"{where}.{key}", f"unknown key; did you mean {hint!r}?", entry, str(key)
            )
    if name is None:
        if "name" not in entry:
            raise reader.error(where, "missing field 'name'", entry)
        name = reader.string(entry["name"], f"{where}.name", entry, "name")
    name = str(name)
    if not name.strip():
        raise reader.error(f"{where}.name", "a provider name cannot be empty", entry, "name")
    where = f"{where.split('[')[0].split('.')[0]}.{name}" if "[" in where else where
    read = Entry(reader, entry, where)
    api_key, source = _api_key(read, reader)
    replace = entry.get("middleware_replace", False)
    if not isinstance(replace, bool):
        raise read.error("middleware_replace", "expected true or false")
    forward = entry.get("forward_client_key", False)
    if not isinstance(forward, bool):
        raise read.error("forward_client_key", "expected true or false")
    preserve = entry.get("preserve_reasoning")
    if preserve is not None and not isinstance(preserve, bool):
        raise read.error("preserve_reasoning", "expected true or false")
    chain = None
    if entry.get("middleware") is not None:
        chain = _chain(reader, entry["middleware"], f"{where}.middleware", entry, "middleware")
    return ProviderConfig(
        name=name,
        api_key=api_key,
        api_key_source=source,
        middleware=chain,
        middleware_replace=replace,
        forward_client_key=forward,
        dialect=_dialect(read, families),
        reasoning_field=_reasoning_field(read),
        preserve_reasoning=preserve,
        **read_target(read, families, warnings),
    )


def _dialect(read: Entry, families: FamilyRegistry) -> str | None:
    dialect = read.text("dialect")
    if dialect is None:
        return None
    try:
        return families.dialect(dialect).name
    except UnknownFamily as exc:
        raise read.error("dialect", exc.problem) from None


def _reasoning_field(read: Entry) -> str | None:
    field = read.text("reasoning_field")
    if field is not None and field not in FIELD_CHOICES:
        raise read.error(
            "reasoning_field", f"{shown(field)} is not one of {', '.join(FIELD_CHOICES)}"
        )
    return field


def _api_key(read: Entry, reader: EnvReader) -> tuple[str | None, str]:
    """The key and where it came from (safe to print): inline, ``${VAR}``, or a named env."""
    entry = read.entry
    api_key = read.text("api_key", secret=True)
    source = "inline" if api_key is not None else "none"
    if "api_key" in entry and VAR.search(str(entry["api_key"])):
        source = "env " + ", ".join(VAR.findall(str(entry["api_key"])))
        if reader.unresolved(f"{read.where}.api_key"):
            api_key = None  # validated without its variables: no key, never the text
    for env_key in ("api_key_env", "key_env"):
        if env_key in entry and api_key is None and source == "none":
            variable = reader.string(entry[env_key], f"{read.where}.{env_key}", entry, env_key)
            if not _ENV_NAME.fullmatch(variable):  # a key written here by mistake: never echo it
                raise read.error(env_key, "expected the name of an environment variable")
            source = f"env {variable}"
            if variable in os.environ:
                api_key = os.environ[variable]
            else:
                reader.not_set(variable, f"{read.where}.{env_key}", entry, env_key, "")
    return api_key, source
