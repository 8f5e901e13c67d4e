"""Writes ``configs.json``, the bad-config corpus: each file's text (or how to make it) and
the behaviour it must get at load: ``pass`` or a ConfigError naming its entry ('' for the
whole file). Generated files: ``{"gen": ...}`` (deep, billion-laughs, huge, non-UTF-8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KEY = "sk-live-THIS-MUST-NEVER-SHOW-4242"

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
    gen("billion-laughs", "billion-laughs", ".yaml", "providers[0]"),
    gen("fifty-mb-scalar", "huge-scalar", ".yaml"),
    gen("utf-16", "utf-16", ".yaml"),
    gen("latin-1", "latin-1", ".yaml"),
    gen("binary", "binary", ".toml"),
]

if __name__ == "__main__":
    (HERE / "configs.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(len(CASES), "configs")
