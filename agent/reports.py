"""What ``check`` prints: a record (its ``--json``) and its text (``families`` prints
``agent.families.listing``).

``check`` says, per provider, which host its calls go to and why (its ``base_url``, or the
family's own endpoint), which wire and how that was decided, the family and the rule that
chose it, what the family does to thinking and the chain; never a secret.
"""

from __future__ import annotations

from typing import Any

import attrs

from agent.config import Config
from agent.config.model import GatewaySpec
from agent.wire import host_of, safe_url


def check_record(config: Config) -> dict[str, Any]:
    """The record ``check --json`` prints."""
    missing = {where for _, where in config.missing_env}
    providers = []
    for name, provider in config.providers.items():
        unresolved = any(f"{provider.where}.{key}" in missing for key in ("base_url", "url", "api"))
        url_known = provider.base_url is not None and not unresolved
        match = config.families.resolve(
            provider.model or "",
            provider.base_url if url_known else None,
            provider.api_mode,
            provider.family,
            dialect=provider.dialect,
        )
        if provider.base_url is None:
            calls = f"{host_of(None, provider.api_mode)} ({match.family.name}'s own endpoint)"
        elif url_known:
            calls = host_of(provider.base_url, provider.api_mode)
        else:
            calls = "(not known: its base_url uses a variable that is not set)"
        providers.append(
            {
                "name": name,
                "api_mode": provider.api_mode,
                "api_mode_rule": provider.api_mode_rule,
                "base_url": safe_url(provider.base_url),
                "calls": calls,
                "host": match.host,
                "model": provider.model,
                "family": match.family.name,
                "rule": match.rule,
                "detection": match.describe_target(),
                "dialect": match.dialect.name,
                "does": match.family.contract(provider.api_mode).describe(),
                "chain": [m.describe() for m in config.chain_for(name)],
                "api_key": provider.api_key_source,
                "upstream_timeout": provider.timeout,
                "forward_client_key": provider.forward_client_key,
            }
        )
    gateway = config.gateway
    return {
        "config": config.path,
        "chain": [m.describe() for m in config.middleware],
        "store": config.store_spec.kind,
        # every setting serve reads, the number of tokens (never a token)
        "gateway": {**attrs.asdict(gateway), "tokens": len(gateway.tokens)},
        "families": list(config.families.names),
        "providers": providers,
        "warnings": list(config.warnings),
        "missing_env": [{"variable": v, "entry": w} for v, w in config.missing_env],
    }


def check_text(record: dict[str, Any]) -> list[str]:
    """The lines ``check`` prints for its record."""
    missing = record["missing_env"]
    unset = sorted({m["variable"] for m in missing})
    status = f"ok without its environment ({', '.join(unset)} not set)" if unset else "ok"
    served = record["gateway"]
    lines = [
        f"{record['config']}: {status}",
        f"global chain: {' -> '.join(record['chain'])}",
        f"store: {record['store']}",
        f"gateway (serve): {served['tokens']} token(s), bodies up to "
        f"{served['max_body_bytes']} bytes, {served['timeout']:g} s upstream, decisions "
        f"{'counted' if served['decisions'] else 'not counted'}",
    ]
    changed = _changed_settings(served)
    if changed:
        lines.append(f"  set apart from the defaults: {', '.join(changed)}")
    for p in record["providers"]:
        lines += ["", *_provider_lines(p, unset)]
    return lines


#: What ``check``'s first gateway line already says.
_SAID = ("tokens", "max_body_bytes", "timeout", "decisions")


def _changed_settings(served: dict[str, Any]) -> list[str]:
    """``name value`` of each gateway setting the config sets apart from its default."""
    defaults = attrs.asdict(GatewaySpec())
    return [
        f"{name} {served[name]}"
        for name, default in defaults.items()
        if name not in _SAID and served.get(name) != default
    ]


def _provider_lines(p: dict[str, Any], unset: list[str]) -> list[str]:
    where = p["base_url"] or "(no base_url)"
    key = p["api_key"]
    if key == "none":
        key_text = "not set"
    else:
        absent = [v for v in unset if key.startswith("env ") and v in key[4:].split(", ")]
        key_text = f"from {key}, which is not set here" if absent else f"set ({key})"
    lines = [
        f"{p['name']}: {p['api_mode']} at {where}, model {p['model'] or '(none)'}",
        f"  calls:   {p['calls']}",
        f"  wire:    {p['api_mode']}, {p['api_mode_rule']}",
        f"  family:  {p['family']} by {p['rule']} rule - {p['detection']}",
        f"  does:    {p['does']}",
        f"  chain:   {' -> '.join(p['chain']) or '(empty)'}",
        f"  api key: {key_text}",
    ]
    serving = [f"waits {p['upstream_timeout']:g} s"] if p["upstream_timeout"] else []
    serving += ["sends the client's own key upstream"] if p["forward_client_key"] else []
    if serving:
        lines.append(f"  gateway: {'; '.join(serving)}")
    return lines
