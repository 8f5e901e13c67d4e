"""Writes ``configs.json``, the bad-config corpus: each file's text (or how to make it) and
the behaviour it must get at load: ``pass`` or a ConfigError naming its entry ('' for the
whole file). Generated files: ``{"gen": ...}`` (deep, billion-laughs, huge, non-UTF-8); in a
text, ``@HUGE@`` stands for 100,000 characters, ``@LIST-BOMB@`` and ``@MAPPING-BOMB@`` for a
billion-laughs value written in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from agent.config.loader import _PROVIDER_KEYS
from agent.config.model import options_of
from agent.config.providers import ALIASES
from agent.config.sections import _GATEWAY_OPTIONS, _STORE_OPTIONS
from agent.families import ModelFamily
from agent.families.contracts import AnthropicContract, ChatContract

HERE = Path(__file__).parent
KEY = "sk-live-THIS-MUST-NEVER-SHOW-4242"
#: written in a text where the test puts 100,000 characters (kept out of the committed file)
HUGE = "@HUGE@"

P = "providers:\n  p:\n    base_url: https://x.example\n    model: m\n"


def ok(name: str, text: str, suffix: str = ".yaml") -> dict[str, Any]:
    return {"name": name, "suffix": suffix, "text": text, "expect": {"pass": True}}


def bad(name: str, text: str, entry: str, suffix: str = ".yaml") -> dict[str, Any]:
    return {"name": name, "suffix": suffix, "text": text, "expect": {"entry": entry}}


def gen(name: str, how: str, suffix: str, entry: str = "") -> dict[str, Any]:
    return {"name": name, "suffix": suffix, "gen": how, "expect": {"entry": entry}}


CASES = [
    bad("empty-file", "", ""),  # no providers: nothing to serve or check
    bad("only-a-comment", "# nothing\n", ""),
    ok("foreign-keys-left-alone", "terminal: {backend: local}\nmodel: {default: x}\n" + P),
    bad("providers-empty", "providers:\n", "providers"),
    bad("providers-mis-indented", "providers:\np:\n  base_url: https://x.example\n", "providers"),
    ok("minimal-provider", P),
    ok("toml-provider", '[providers.p]\nbase_url = "https://x.example"\nmodel = "m"\n', ".toml"),
    ok("memory-store-bounds", P + "store: {memory: {max_turns: 5, max_bytes: 1000000}}\n"),
    bad("top-level-list", "- a\n- b\n", "(top level)"),
    bad("top-level-scalar", "just text\n", "(top level)"),
    bad("near-miss-key", "middelware: []\n", "middelware"),
    bad("middleware-not-a-list", "middleware: 5\n", "middleware"),
    bad("middleware-unknown", "middleware: [nope]\n", "middleware[0]"),
    bad("middleware-entry-number", "middleware: [5]\n", "middleware[0]"),
    bad(
        "middleware-bad-option",
        "middleware: [{thinking_round_trip: {foreign: maybe}}]\n",
        "middleware[0].thinking_round_trip.foreign",
    ),
    bad(
        "middleware-unknown-option",
        "middleware: [{thinking_round_trip: {forein: pad}}]\n",
        "middleware[0].thinking_round_trip.forein",
    ),
    bad(
        "middleware-option-huge",
        "middleware: [{thinking_round_trip: {foreign: '" + "x" * 100_000 + "'}}]\n",
        "middleware[0].thinking_round_trip.foreign",
    ),
    bad("providers-a-string", "providers: x\n", "providers"),
    bad("provider-a-number", "providers: {p: 5}\n", "providers.p"),
    ok(
        "provider-no-model-taken-from-the-request",
        "providers:\n  p: {base_url: https://x.example}\n",
    ),
    bad("model-a-number", "providers:\n  p: {model: 5}\n", "providers.p.model"),
    bad(
        "base-url-not-a-url",
        "providers:\n  p: {model: m, base_url: not a url}\n",
        "providers.p.base_url",
    ),
    bad(
        "base-url-bad-ipv6",
        "providers:\n  p: {model: m, base_url: 'http://[::1'}\n",
        "providers.p.base_url",
    ),
    bad("base-url-no-scheme", P.replace("https://", ""), "providers.p.base_url"),
    bad("base-url-ftp", P.replace("https", "ftp"), "providers.p.base_url"),
    bad("base-url-missing", "providers:\n  p: {model: m}\n", "providers.p"),
    bad("base-url-and-api-differ", P + "    api: https://y.example\n", "providers.p.api"),
    bad("hermes-key-cmd", P + "    key_cmd: pass show relay\n", "providers.p.key_cmd"),
    bad(
        "hermes-transport-unknown", P + "    transport: codex_app_server\n", "providers.p.transport"
    ),
    bad("base-url-a-list", "providers:\n  p: {model: m, base_url: [a]}\n", "providers.p.base_url"),
    bad("api-mode-unknown", P + "    api_mode: grpc\n", "providers.p.api_mode"),
    bad("family-unknown", P + "    family: nope\n", "providers.p.family"),
    bad("provider-middleware-bad", P + "    middleware: 5\n", "providers.p.middleware"),
    bad("key-env-holds-a-key", P + f"    api_key_env: {KEY}\n", "providers.p.api_key_env"),
    bad("hermes-key-env-holds-a-key", P + f"    key_env: {KEY}\n", "providers.p.key_env"),
    bad("api-key-a-number", P + "    api_key: 12345\n", "providers.p.api_key"),
    bad(
        "api-key-unset-variable", P + "    api_key: ${AGENT_CORPUS_UNSET}\n", "providers.p.api_key"
    ),
    bad(
        "api-key-env-unset", P + "    api_key_env: AGENT_CORPUS_UNSET\n", "providers.p.api_key_env"
    ),
    bad("custom-providers-no-name", "custom_providers:\n  - {model: m}\n", "custom_providers[0]"),
    bad(
        "duplicate-provider-names",
        "custom_providers:\n  - {name: a, base_url: 'https://a.example'}\n"
        "  - {name: a, base_url: 'https://a.example'}\n",
        "custom_providers.a",
    ),
    bad("duplicate-keys", "store: memory\nstore: memory\n", ""),
    bad("store-unknown", "store: redis-ish\n", "store"),
    bad("store-a-number", "store: 5\n", "store"),
    bad("store-bad-max-turns", "store: {memory: {max_turns: 0}}\n", "store.memory.max_turns"),
    bad("store-bad-max-bytes", "store: {memory: {max_bytes: 1.5}}\n", "store.memory.max_bytes"),
    bad("store-unknown-option", "store: {memory: {size: 5}}\n", "store.memory.size"),
    bad("sqlite-no-path", "store: {sqlite: {}}\n", "store.sqlite"),
    bad("sqlite-climbs-out", "store: {sqlite: {path: ../../t.db}}\n", "store.sqlite.path"),
    bad(
        "sqlite-missing-folder",
        "store: {sqlite: {path: nowhere/deeper/t.db}}\n",
        "store.sqlite.path",
    ),
    bad("sqlite-a-folder", "store: {sqlite: {path: .}}\n", "store.sqlite.path"),
    bad("sqlite-dev-null", "store: {sqlite: {path: /dev/null}}\n", "store.sqlite.path"),
    bad("sqlite-empty-path", "store: {sqlite: {path: ''}}\n", "store.sqlite.path"),
    bad("families-not-a-list", "families: 5\n", "families"),
    bad("family-no-name", "families:\n  - {models: ['x*']}\n", "families[0].name"),
    bad(
        "family-bad-mode",
        "families:\n  - {name: house, models: ['house*'], anthropic: {thinking: sometimes}}\n",
        "families[0].anthropic.thinking",
    ),
    bad("yaml-syntax", "providers: {p: [\n", ""),
    bad("yaml-tab-indent", "providers:\n\tp: {}\n", ""),
    bad("yaml-alias-unknown", "providers: *nothing\n", ""),
    bad("yaml-python-tag", "providers: !!python/object:os.system {}\n", ""),
    bad("yaml-secret-in-bad-token", f"providers: {{p: {KEY}: [\n", ""),
    bad("toml-syntax", "[providers\n", "", ".toml"),
    bad("toml-duplicate-table", "[store]\n[store]\n", "", ".toml"),
    bad("toml-secret-in-bad-line", f'[providers.p]\napi_key = "{KEY}" junk\n', "", ".toml"),
    bad("unknown-suffix", "providers: {}\n", "", ".ini"),
    ok("redis-store", P + "store: {redis: {url: 'redis://127.0.0.1:1/0', ttl: 60}}\n"),
    bad("redis-no-url", "store: {redis: {ttl: 60}}\n", "store.redis"),
    bad("redis-bad-scheme", "store: {redis: {url: 'http://x'}}\n", "store.redis.url"),
    bad("redis-url-a-number", "store: {redis: {url: 5}}\n", "store.redis.url"),
    bad("redis-bad-ttl", "store: {redis: {url: 'redis://h', ttl: 0}}\n", "store.redis.ttl"),
    bad("redis-unknown-option", "store: {redis: {url: 'redis://h', db: 1}}\n", "store.redis.db"),
    ok("gateway-tokens", P + "gateway: {tokens: [a-token], max_body_bytes: 1000, timeout: 5}\n"),
    bad("gateway-a-list", "gateway: [tokens]\n", "gateway"),
    bad("gateway-tokens-a-string", "gateway: {tokens: a-token}\n", "gateway.tokens"),
    bad("gateway-token-a-number", "gateway: {tokens: [12345]}\n", "gateway.tokens[0]"),
    bad("gateway-token-empty", "gateway: {tokens: ['']}\n", "gateway.tokens"),
    bad(
        "gateway-token-unset", "gateway: {tokens: ['${AGENT_CORPUS_UNSET}']}\n", "gateway.tokens[0]"
    ),
    bad("gateway-bad-size", "gateway: {max_body_bytes: 0}\n", "gateway.max_body_bytes"),
    bad("gateway-bad-timeout", "gateway: {timeout: -1}\n", "gateway.timeout"),
    bad("gateway-unknown-option", "gateway: {port: 1}\n", "gateway.port"),
    ok("gateway-decisions-off", P + "gateway: {decisions: false}\n"),
    bad("gateway-decisions-not-bool", "gateway: {decisions: 'no'}\n", "gateway.decisions"),
    ok(
        "provider-gateway-options",
        "providers: {p: {base_url: 'https://x.example', upstream_timeout: 30,"
        " forward_client_key: true}}\n",
    ),
    bad(
        "provider-bad-timeout",
        "providers: {p: {model: m, upstream_timeout: 0}}\n",
        "providers.p.upstream_timeout",
    ),
    bad(
        "provider-timeout-a-string",
        "providers: {p: {model: m, upstream_timeout: '30'}}\n",
        "providers.p.upstream_timeout",
    ),
    bad(
        "provider-forward-not-a-bool",
        "providers: {p: {model: m, forward_client_key: 'yes'}}\n",
        "providers.p.forward_client_key",
    ),
    bad(
        "provider-near-miss-forward",
        "providers: {p: {model: m, forward_client_keys: true}}\n",
        "providers.p.forward_client_keys",
    ),
    gen("deep-yaml", "deep-yaml", ".yaml"),
    gen("deep-toml", "deep-toml", ".toml"),
    gen("billion-laughs", "billion-laughs", ".yaml"),
    gen("fifty-mb-scalar", "huge-scalar", ".yaml"),
    gen("utf-16", "utf-16", ".yaml"),
    gen("latin-1", "latin-1", ".yaml"),
    gen("binary", "binary", ".toml"),
]

#: A key written as a YAML token, where PyYAML's own message would quote it, and under every
#: core tag whose constructor would raise raw on it: each fails at load without the key.
TOKENS = {
    "alias": f"*{KEY}",
    "tag": f"!{KEY} x",
    "tag-handle": f"!{KEY}!x y",
    "verbatim-tag": f"!<{KEY}> x",
    "python-tag": f"!!python/name:{KEY} x",
    "anchor-then-bad-character": f"&{KEY}% x",
    "duplicate-anchor": f"[&{KEY} a, &{KEY} b]",
    **{
        f"core-tag-{tag}": f"!!{tag} {KEY}"
        for tag in ("int", "float", "bool", "timestamp", "binary", "map", "set", "omap")
    },
    "core-tag-seq-on-a-mapping": f"!!seq {{k: {KEY}}}",
    "core-tag-str-on-a-list": f"!!str [{KEY}]",
}
for _name, _token in TOKENS.items():
    CASES.append(bad(f"yaml-token/{_name}", P + f"    api_key: {_token}\n", ""))
CASES.append(bad("yaml-token/alias-as-a-key", P + f"    *{KEY} : x\n", ""))
CASES.append(bad("yaml-token/top-level-core-tag", f"!!set {KEY}\n", ""))

#: Every field of the schema (``{B}`` marks where the value goes), each given each bomb below;
#: the keys are the code's own, so a field added to the schema is tried once this is rerun (a
#: test checks the committed file against the code). Every file also has a good provider.
FIELDS: dict[str, str] = {
    "middleware": "middleware: {B}",
    "middleware[0]": "middleware: [{B}]",
    "middleware[0].tool_pairing": "middleware: [{{tool_pairing: {B}}}]",
    "middleware[0].thinking_round_trip": "middleware: [{{thinking_round_trip: {B}}}]",
    "providers": "providers: {B}",
    "providers.p": "providers: {{p: {B}}}",
    "custom_providers": "custom_providers: {B}",
    "custom_providers[0]": "custom_providers: [{B}]",
    "families": "families: {B}",
    "families[0]": "families: [{B}]",
    "families.x": "families: {{x: {B}}}",
    "store": "store: {B}",
    "gateway": "gateway: {B}",
    "gateway.tokens[0]": "gateway: {{tokens: [{B}]}}",
    "a-foreign-key": "terminal: {B}",
}
#: a provider entry's other fields, without the one tried (nor its other names)
_ENTRY = {"base_url": "base_url: 'https://x.example'", "model": "model: m"}
for _key in (*_PROVIDER_KEYS, "headers"):  # (headers: a host agent's own key, passed over)
    _other = ", ".join(v for k, v in _ENTRY.items() if _key not in ALIASES.get(k, (k,)))
    FIELDS[f"providers.p.{_key}"] = f"providers: {{{{p: {{{{{_other}, {_key}: {{B}}}}}}}}}}"
FIELDS["custom_providers[0].name"] = (
    "custom_providers: [{{name: {B}, base_url: 'https://x.example', model: m}}]"
)
for _key in options_of("thinking_round_trip"):
    FIELDS[f"middleware[0].thinking_round_trip.{_key}"] = (
        f"middleware: [{{{{thinking_round_trip: {{{{{_key}: {{B}}}}}}}}}}]"
    )
_REQUIRED = {"sqlite": "path: t.db, ", "redis": "url: 'redis://h', "}  # (the option is reached)
for _kind, _keys in _STORE_OPTIONS.items():
    FIELDS[f"store.{_kind}"] = f"store: {{{{{_kind}: {{B}}}}}}"
    for _key in _keys:
        _given = "" if _key in ("path", "url") else _REQUIRED.get(_kind, "")
        FIELDS[f"store.{_kind}.{_key}"] = f"store: {{{{{_kind}: {{{{{_given}{_key}: {{B}}}}}}}}}}"
for _key in _GATEWAY_OPTIONS:
    FIELDS[f"gateway.{_key}"] = f"gateway: {{{{{_key}: {{B}}}}}}"
for _attr in attrs.fields(ModelFamily):
    _key = _attr.name
    _other = {"name": "models: [x], ", "models": "name: x, "}.get(_key, "name: x, models: [x], ")
    FIELDS[f"families[0].{_key}"] = f"families: [{{{{{_other}{_key}: {{B}}}}}}]"
for _wire, _contract in (("anthropic", AnthropicContract), ("chat", ChatContract)):
    for _attr in attrs.fields(_contract):
        FIELDS[f"families[0].{_wire}.{_attr.name}"] = (
            f"families: [{{{{name: x, models: [x], {_wire}: {{{{{_attr.name}: {{B}}}}}}}}}}]"
        )
for _key in ("keep_all_from", "adaptive_from", "reads"):  # the values of mapping fields
    FIELDS[f"families[0].anthropic.{_key}.opus"] = (
        f"families: [{{{{name: x, models: [x], anthropic: {{{{{_key}: {{{{opus: {{B}}}}}}}}}}}}}}]"
    )
FIELDS["families[0].sources.models"] = (
    "families: [{{name: x, models: [x], sources: {{models: {B}}}}}]"
)
_PROVIDED = "\nproviders: {{good: {{base_url: 'https://x.example', model: m}}}}"
FIELDS = {
    f: t if t.startswith(("providers", "custom_providers")) else t + _PROVIDED
    for f, t in FIELDS.items()
}


#: the bombs, written where the value goes with their anchors inline (the test expands the
#: markers: nine anchored levels, each nine aliases of the one before, as a list or a mapping)
BOMBS = {
    "list-bomb": "@LIST-BOMB@",
    "mapping-bomb": "@MAPPING-BOMB@",
    "self-holding": "&s [*s]",
}
for _field, _template in FIELDS.items():
    for _bomb, _text in BOMBS.items():
        CASES.append(bad(f"alias/{_field}/{_bomb}", _template.format(B=_text) + "\n", ""))

#: A key two levels inside a value of the wrong type (never shown: a value that holds others
#: is named by its kind), and a 100 KB string (shown, if at all, bounded), in every field.
WRONG = {
    "key-two-deep-in-a-mapping": f"{{k: {{v: {KEY}}}}}",
    "key-two-deep-in-a-list": f"[[{KEY}]]",
    "huge-string": f"'{HUGE}'",
}
#: where a field's error is not at the field itself: deeper (a mapping's keys are read first),
#: or None where the value is taken (a foreign key, a name, a string field, a host agent's key)
WHERE: dict[tuple[str, str], str | None] = {
    **{
        (f, "key-two-deep-in-a-mapping"): f + ".k"
        for f in (
            "middleware[0].tool_pairing",
            "middleware[0].thinking_round_trip",
            "families",
            "gateway",
            "store.memory",
            "store.sqlite",
            "store.redis",
            "families[0].anthropic.keep_all_from",
            "families[0].anthropic.adaptive_from",
            "families[0].anthropic.reads",
        )
    },
    **{
        (f, "key-two-deep-in-a-list"): f + "[0]"
        for f in (
            "middleware",
            "providers",
            "custom_providers",
            "families",
            "providers.p.middleware",
            "gateway.tokens",
        )
    },
    ("families[0].sources.models", "key-two-deep-in-a-mapping"): "families[0].sources",
    ("families[0].sources.models", "key-two-deep-in-a-list"): "families[0].sources",
    **{
        (f, v): None
        for f in ("a-foreign-key", "providers.p.name", "providers.p.headers")
        for v in WRONG
    },
    # a mapping of entries: an entry with no base_url is refused by name
    ("providers", "key-two-deep-in-a-mapping"): "providers.k",
    ("providers.p", "key-two-deep-in-a-mapping"): "providers.p",
    ("custom_providers", "key-two-deep-in-a-mapping"): "custom_providers.k",
    ("middleware[0].thinking_round_trip.trusted_models", "key-two-deep-in-a-mapping"): None,
    **{
        (f, "huge-string"): None
        for f in (
            "gateway.tokens[0]",
            "providers.p.api_key",
            "providers.p.model",
            "providers.p.default_model",
            "custom_providers[0].name",
            "middleware[0].thinking_round_trip.trusted_models",
            "store.sqlite.path",
            "store.redis.prefix",
            "families[0].name",
            "families[0].models",
            "families[0].not_models",
            "families[0].when_thinking",
            "families[0].hosts",
            "families[0].why",
            "families[0].source",
            "families[0].anthropic.pad",
            "families[0].chat.signature_dummy",
            "families[0].chat.pad",
            "families[0].sources.models",
        )
    },
}
for _field, _template in FIELDS.items():
    for _value, _text in WRONG.items():
        _name, _config = f"wrong/{_field}/{_value}", _template.format(B=_text) + "\n"
        _entry = WHERE.get((_field, _value), _field)
        CASES.append(ok(_name, _config) if _entry is None else bad(_name, _config, _entry))

if __name__ == "__main__":
    (HERE / "configs.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(len(CASES), "configs")
