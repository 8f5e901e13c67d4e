"""Config file -> Pipeline: YAML or TOML (by extension), every error found at load time.

The keys live in the config file the agent already has; keys this library does not own are
left alone (a near miss of one of ours, like ``middelware:``, is an error). Schema::

    middleware:                    # the global chain, in order (default: tool_pairing,
      - tool_pairing               #   thinking_round_trip)
      - thinking_round_trip: {foreign: keep_text}
    providers:                     # a mapping name -> entry, or a list of entries with name:
      mimo-relay:
        base_url: https://open.markhub.top
        api_key: ${MIMO_API_KEY}   # or api_key_env: MIMO_API_KEY (hermes: key_env)
        model: mimo-v2.5-pro
        api_mode: anthropic_messages   # or chat_completions (the default)
        family: mimo               # optional: skip detection
        middleware:                # optional: merged into the global chain (see README)
          - thinking_round_trip: {on_missing_loop_thinking: raise}
    custom_providers: [...]        # hermes-style list, read like providers:
    families: [...]                # add a family, or override a built-in one by name
    store: memory                  # or {memory: {max_turns: N}} or {sqlite: {path: F}}

Errors name the file, the entry, what is wrong, and the line where the parser gives one.
Secrets (api keys) never appear in reprs, output or error messages.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml
from attrs import field, frozen

from agent.errors import AgentError, ConfigError, UnknownFamily
from agent.families import APIS, FamilyRegistry
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.store import MemoryStore, SqliteStore, ThinkingStore

#: Built-in middleware by config name. Options are the attrs fields of the class, minus the
#: ones the config itself supplies (the shared store and the family table).
MIDDLEWARE: Mapping[str, type] = {
    "tool_pairing": ToolPairing,
    "thinking_round_trip": ThinkingRoundTrip,
}
_SUPPLIED = {"store", "families"}
DEFAULT_CHAIN = ("tool_pairing", "thinking_round_trip")

_TOP_KEYS = ("middleware", "providers", "custom_providers", "families", "store")
_PROVIDER_KEYS = (
    "name",
    "base_url",
    "api_key",
    "api_key_env",
    "key_env",
    "model",
    "api_mode",
    "family",
    "middleware",
    "middleware_replace",
)
#: Keys hermes (and similar agents) keep in provider entries; theirs, never near misses of ours.
_HOST_AGENT_KEYS = frozenset(
    {
        "models",
        "headers",
        "request_timeout_seconds",
        "stale_timeout_seconds",
        "context_length",
        "provider",
        "api_version",
        "extra_body",
        "timeout",
    }
)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _options_of(cls: type) -> tuple[str, ...]:
    return tuple(a.name for a in attrs.fields(cls) if a.name not in _SUPPLIED)


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


@frozen
class ProviderConfig:
    """One configured provider.

    Attributes:
        name: the provider's name.
        base_url: where requests go (None: the wire's official endpoint).
        model: the default model id.
        api_mode: the wire, ``anthropic_messages`` or ``chat_completions``.
        family: an explicit family (wins detection), if set.
        api_key: the key, after interpolation; never printed.
        api_key_source: where the key came from, safe to print (``env MIMO_KEY``, ``inline``).
        middleware: the provider's own entries (merged into the global chain), if any.
        middleware_replace: whether the provider's list replaces the global chain instead.
        where: the entry in the config file.
    """

    name: str
    base_url: str | None = None
    model: str | None = None
    api_mode: str = "chat_completions"
    family: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_source: str = "none"
    middleware: tuple[MiddlewareEntry, ...] | None = None
    middleware_replace: bool = False
    where: str = ""


@frozen
class StoreSpec:
    """Which ThinkingStore the config asks for.

    Attributes:
        kind: ``memory`` or ``sqlite``.
        options: ``max_turns``; ``path`` for sqlite.
    """

    kind: str = "memory"
    options: Mapping[str, Any] = field(factory=dict)

    def build(self) -> ThinkingStore:
        """A new store of this kind."""
        if self.kind == "sqlite":
            return SqliteStore(**self.options)
        return MemoryStore(**self.options)


@frozen
class Config:
    """A loaded config: the chain, providers, families and store, all validated.

    Attributes:
        path: the file it came from.
        middleware: the global chain.
        providers: configured providers by name.
        families: the family table (built-ins plus the file's definitions).
        store_spec: the store the file asks for.
        store: the one store every pipeline of this config shares, so provenance survives a
            switch between providers.
    """

    path: str
    middleware: tuple[MiddlewareEntry, ...]
    providers: Mapping[str, ProviderConfig]
    families: FamilyRegistry
    store_spec: StoreSpec
    store: ThinkingStore = field(eq=False, repr=False)

    def provider(self, name: str) -> ProviderConfig:
        """The provider called ``name``; ConfigError listing the known ones otherwise."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(self.providers) or "none"
            raise ConfigError(f"{self.path}: no provider {name!r} (known: {known})") from None

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


def build_middleware(entry: MiddlewareEntry, config: Config) -> Callable[..., Any]:
    """An instance of one chain entry, sharing the config's store and family table."""
    cls = MIDDLEWARE[entry.name]
    supplied = {a.name for a in attrs.fields(cls)} & _SUPPLIED
    extra: dict[str, Any] = {}
    if "store" in supplied:
        extra["store"] = config.store
    if "families" in supplied:
        extra["families"] = config.families
    return cls(**entry.options, **extra)  # type: ignore[no-any-return]


def pipeline_from_config(config: Config, provider: str | None = None) -> Any:
    """The Pipeline of ``provider`` (or the global chain) built from a loaded config."""
    from agent.pipeline import Pipeline

    family = config.provider(provider).family if provider is not None else None
    chain = [build_middleware(m, config) for m in config.chain_for(provider)]
    return Pipeline(chain, families=config.families, family=family)


# ----------------------------------------------------------------------------- loading


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping and of each of its keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, tuple[int, dict[str, int]]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        keys = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
        self.lines[id(mapping)] = (node.start_mark.line + 1, keys)
        return mapping


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    return loader.construct_mapping(node, deep=True)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Reader:
    """Walks the parsed document, producing errors that name file, entry and line."""

    def __init__(self, path: str, lines: dict[int, tuple[int, dict[str, int]]]) -> None:
        self.path = path
        self.lines = lines

    def error(
        self, where: str, problem: str, at: object = None, key: str | None = None
    ) -> ConfigError:
        line = None
        if at is not None and id(at) in self.lines:
            start, keys = self.lines[id(at)]
            line = keys.get(key, start) if key is not None else start
        location = f"{self.path}:{line}" if line else self.path
        return ConfigError(f"{location}: {where}: {problem}")

    def mapping(
        self, value: object, where: str, parent: object, key: str | None
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, f"expected a mapping, got {_kind(value)}", parent, key)
        return value

    def string(
        self, value: object, where: str, parent: object, key: str, secret: bool = False
    ) -> str:
        if not isinstance(value, str):
            shown = "a value" if secret else _kind(value)
            raise self.error(where, f"expected a string, got {shown}", parent, key)
        return value

    def interpolate(self, value: str, where: str, parent: object, key: str) -> str:
        def sub(found: re.Match[str]) -> str:
            name = found.group(1)
            if name not in os.environ:
                raise self.error(
                    where,
                    f"environment variable {name} is not set (used as ${{{name}}})",
                    parent,
                    key,
                )
            return os.environ[name]

        return _VAR.sub(sub, value)


def _kind(value: object) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "nothing (null)",
    }
    for kind, name in names.items():
        if isinstance(value, kind):
            return name if kind is not str else f"the string {value!r}"
    return type(value).__name__


def _near(key: str, known: Sequence[str]) -> str | None:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    return match[0] if match and match[0] != key else None


def _parse(path: Path) -> tuple[Any, dict[int, tuple[int, dict[str, int]]]]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if suffix in (".yaml", ".yml"):
        loader = _LineLoader(text)
        try:
            data = loader.get_single_data()
        except yaml.MarkedYAMLError as exc:
            # the parser's own message quotes the offending line, which may hold a secret:
            # keep the position and the problem only
            mark = exc.problem_mark or exc.context_mark
            line = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            raise ConfigError(f"{path}{line}: YAML syntax: {exc.problem or exc.context}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: YAML syntax: {type(exc).__name__}") from None
        finally:
            loader.dispose()
        return data, loader.lines
    if suffix == ".toml":
        try:
            return tomllib.loads(text), {}
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: TOML syntax: {exc}") from None
    raise ConfigError(f"{path}: unknown config format {suffix!r} (use .yaml, .yml or .toml)")


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, validate and build a config file (YAML or TOML, chosen by extension)."""
    file = Path(path)
    data, lines = _parse(file)
    reader = _Reader(str(file), lines)
    if data is None:
        data = {}
    root = reader.mapping(data, "(top level)", None, None)
    for key in root:
        near = _near(str(key), _TOP_KEYS)
        if near is not None:
            raise reader.error(str(key), f"unknown key; did you mean {near!r}?", root, str(key))

    families = FamilyRegistry.builtin()
    if "families" in root:
        families = _families(reader, root["families"], root, families)

    middleware = (
        _chain(reader, root["middleware"], "middleware", root, "middleware", families)
        if "middleware" in root
        else tuple(MiddlewareEntry(n, where="(default chain)") for n in DEFAULT_CHAIN)
    )
    providers: dict[str, ProviderConfig] = {}
    for key in ("providers", "custom_providers"):
        if key in root and root[key] is not None:
            for provider in _providers(reader, root[key], key, root, families):
                if provider.name in providers:
                    raise reader.error(
                        provider.where,
                        f"provider {provider.name!r} is defined twice",
                    )
                providers[provider.name] = provider
    spec = _store(reader, root.get("store", "memory"), root)
    return Config(str(file), middleware, providers, families, spec, spec.build())


def _families(reader: _Reader, value: object, root: object, base: FamilyRegistry) -> FamilyRegistry:
    if isinstance(value, Mapping):  # families: {name: {...}} is accepted too
        items = [
            ({**v, "name": k} if isinstance(v, Mapping) else v, value, k) for k, v in value.items()
        ]
    elif isinstance(value, list):
        items = [(v, v, None) for v in value]
    else:
        raise reader.error(
            "families", f"expected a list of families, got {_kind(value)}", root, "families"
        )
    definitions = []
    for index, (entry, parent, key) in enumerate(items):
        where = f"families.{key}" if key is not None else f"families[{index}]"
        reader.mapping(entry, where, parent, key)
        definitions.append((where, entry, parent))
    try:
        return base.with_definitions((w, d) for w, d, _ in definitions)
    except AgentError as exc:
        message = str(exc)
        owner: object = next((p for w, _, p in definitions if message.startswith(w)), None)
        where, _, problem = message.partition(": ")
        raise reader.error(where, problem or message, owner) from None


def _chain(
    reader: _Reader,
    value: object,
    where: str,
    parent: object,
    key: str,
    families: FamilyRegistry,
) -> tuple[MiddlewareEntry, ...]:
    if not isinstance(value, list):
        raise reader.error(where, f"expected a list of middleware, got {_kind(value)}", parent, key)
    entries = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        named = _named(item, parent)
        if named is None:
            raise reader.error(
                at,
                "expected a middleware name or a one-key mapping {name: {option: value}}",
                parent,
                key,
            )
        name, options, owner = named
        if name not in MIDDLEWARE:
            near = difflib.get_close_matches(name, MIDDLEWARE, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise reader.error(
                at,
                f"unknown middleware {name!r} (known: {', '.join(MIDDLEWARE)}){hint}",
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
                f"{at}.{name}", f"expected options as a mapping, got {_kind(options)}", owner, name
            )
        allowed = _options_of(MIDDLEWARE[name])
        for option in options:
            if option not in allowed:
                raise reader.error(
                    f"{at}.{name}.{option}",
                    f"unknown option (options of {name}: {', '.join(allowed) or 'none'})",
                    options,
                    option,
                )
        entry = MiddlewareEntry(name, dict(options), enabled, at)
        try:  # build once now, so a bad value fails at load, not at the first call
            MIDDLEWARE[name](**entry.options)
        except (TypeError, ValueError) as exc:
            raise reader.error(f"{at}.{name}", _option_problem(exc), options) from None
        entries.append(entry)
    return tuple(entries)


def _option_problem(exc: Exception) -> str:
    args = exc.args
    if len(args) >= 4 and isinstance(args[1], attrs.Attribute):
        name, expected, got = args[1].name, args[2], args[3]
        if isinstance(exc, ValueError):  # attrs' in_(): (message, attribute, options, value)
            return f"{name}: {got!r} is not one of {', '.join(map(str, expected))}"
        kind = getattr(expected, "__name__", str(expected))  # instance_of(): (.., type, value)
        return f"{name}: expected {'true or false' if kind == 'bool' else kind}, got {got!r}"
    return str(exc)


def _providers(
    reader: _Reader, value: object, key: str, root: object, families: FamilyRegistry
) -> list[ProviderConfig]:
    if isinstance(value, Mapping):
        items = [(v, f"{key}.{k}", k, value, k) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(v, f"{key}[{i}]", None, v, None) for i, v in enumerate(value)]
    else:
        raise reader.error(
            key, f"expected a mapping or a list of providers, got {_kind(value)}", root, key
        )
    out = []
    for entry, where, name, parent, parent_key in items:
        entry = reader.mapping(entry, where, parent, parent_key)
        out.append(_provider(reader, entry, where, name, families))
    return out


def _provider(
    reader: _Reader,
    entry: Mapping[str, Any],
    where: str,
    name: object,
    families: FamilyRegistry,
) -> ProviderConfig:
    for key in entry:
        if key in _HOST_AGENT_KEYS:
            continue
        near = _near(str(key), _PROVIDER_KEYS)
        if near is not None:
            raise reader.error(
                f"{where}.{key}", f"unknown key; did you mean {near!r}?", entry, str(key)
            )
    if name is None:
        if "name" not in entry:
            raise reader.error(where, "missing field 'name'", entry)
        name = reader.string(entry["name"], f"{where}.name", entry, "name")
    name = str(name)
    if not name.strip():
        raise reader.error(f"{where}.name", "a provider name cannot be empty", entry, "name")
    where = f"{where.split('[')[0].split('.')[0]}.{name}" if "[" in where else where

    def text(key: str, secret: bool = False) -> str | None:
        if key not in entry or entry[key] is None:
            return None
        raw = reader.string(entry[key], f"{where}.{key}", entry, key, secret)
        return reader.interpolate(raw, f"{where}.{key}", entry, key)

    base_url = text("base_url")
    if base_url is not None and not re.match(r"^(https?://)?[^\s/]+", base_url):
        raise reader.error(
            f"{where}.base_url", "expected a URL like https://host/path", entry, "base_url"
        )
    api_mode = text("api_mode") or "chat_completions"
    if api_mode not in APIS:
        raise reader.error(
            f"{where}.api_mode", f"{api_mode!r} is not one of {', '.join(APIS)}", entry, "api_mode"
        )
    family = text("family")
    if family is not None:
        try:
            family = families.get(family).name
        except UnknownFamily as exc:
            raise reader.error(f"{where}.family", str(exc), entry, "family") from None
    api_key = text("api_key", secret=True)
    source = "inline" if api_key is not None else "none"
    if "api_key" in entry and _VAR.search(str(entry["api_key"])):
        source = "env " + ", ".join(_VAR.findall(str(entry["api_key"])))
    for env_key in ("api_key_env", "key_env"):
        if env_key in entry and api_key is None:
            variable = reader.string(entry[env_key], f"{where}.{env_key}", entry, env_key)
            if variable not in os.environ:
                raise reader.error(
                    f"{where}.{env_key}",
                    f"environment variable {variable} is not set",
                    entry,
                    env_key,
                )
            api_key, source = os.environ[variable], f"env {variable}"
    replace = entry.get("middleware_replace", False)
    if not isinstance(replace, bool):
        raise reader.error(
            f"{where}.middleware_replace", "expected true or false", entry, "middleware_replace"
        )
    chain = None
    if entry.get("middleware") is not None:
        chain = _chain(
            reader, entry["middleware"], f"{where}.middleware", entry, "middleware", families
        )
    return ProviderConfig(
        name=name,
        base_url=base_url,
        model=text("model"),
        api_mode=api_mode,
        family=family,
        api_key=api_key,
        api_key_source=source,
        middleware=chain,
        middleware_replace=replace,
        where=where,
    )


def _named(item: object, parent: object) -> tuple[str, Any, object] | None:
    """A ``name`` or a one-key ``{name: options}`` entry as (name, options, owner), else None;
    the owner is the mapping whose lines locate the options."""
    if isinstance(item, str):
        return item, {}, parent
    if isinstance(item, Mapping) and len(item) == 1:
        name, options = next(iter(item.items()))
        return str(name), options, item
    return None


def _store(reader: _Reader, value: object, root: object) -> StoreSpec:
    named = _named(value, root)
    if named is None:
        raise reader.error(
            "store", "expected 'memory', 'sqlite', or {kind: {options}}", root, "store"
        )
    kind, options, owner = named
    if options is None:
        options = {}
    allowed = {"memory": ("max_turns",), "sqlite": ("path", "max_turns")}
    if kind not in allowed:
        raise reader.error(
            "store", f"unknown store {kind!r} (known: memory, sqlite)", root, "store"
        )
    if not isinstance(options, Mapping):
        raise reader.error(
            f"store.{kind}", f"expected options as a mapping, got {_kind(options)}", owner, kind
        )
    for option, setting in options.items():
        if option not in allowed[kind]:
            raise reader.error(
                f"store.{kind}.{option}",
                f"unknown option (options: {', '.join(allowed[kind])})",
                options,
                option,
            )
        if option == "max_turns" and (type(setting) is not int or setting < 1):
            raise reader.error(
                f"store.{kind}.max_turns", "expected a whole number >= 1", options, option
            )
        if option == "path" and not isinstance(setting, str):
            raise reader.error(f"store.{kind}.path", "expected a file path", options, option)
    if kind == "sqlite":
        if "path" not in options:
            raise reader.error("store.sqlite", "missing field 'path'", owner, kind)
        path = Path(os.path.expanduser(options["path"]))
        if not path.is_absolute():
            path = Path(reader.path).resolve().parent / path
        options = {**options, "path": str(path)}
    return StoreSpec(kind, dict(options))
