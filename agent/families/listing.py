"""The two tables as records: what ``python -m agent families`` prints (and ``--json``)."""

from __future__ import annotations

from typing import Any

from agent.families.dialects import UNKNOWN_DIALECT, HostDialect
from agent.families.family import UNKNOWN, ModelFamily
from agent.families.registry import FamilyRegistry


def family_record(family: ModelFamily, builtin: FamilyRegistry) -> dict[str, Any]:
    names = builtin.names
    origin = "built-in" if family.name in names else "config"
    if family.name in names and builtin.get(family.name) != family:
        origin = "built-in, overridden by config"
    return {
        "kind": "family",
        "name": family.name,
        "origin": origin,
        "models": list(family.models),
        "not_models": list(family.not_models),
        "when_thinking": list(family.when_thinking),
        "hosts": list(family.hosts),
        "authoritative": family.authoritative,
        "anthropic_messages": family.anthropic.describe(),
        "chat_completions": family.chat.describe(),
        "responses": family.chat.describe_responses(),
        "why": family.why,
        "source": family.source,
        "sources": dict(family.sources),
    }


def dialect_record(dialect: HostDialect, origin: str = "built-in") -> dict[str, Any]:
    return {
        "kind": "dialect",
        "name": dialect.name,
        "origin": origin,
        "hosts": list(dialect.hosts),
        "carries": dialect.describe(),
        "carrier": dialect.carrier,
        "rejects": list(dialect.rejects),
        "strict": dialect.strict,
        "vendor": dialect.vendor,
        "bound_to": dialect.bound_to,
        "preserve": dict(dialect.preserve),
        "why": dialect.why,
        "source": dialect.source,
        "sources": dict(dialect.sources),
    }


def table_records(registry: FamilyRegistry) -> list[dict[str, Any]]:
    """Both tables as plain records: every family (the fallback last), then every dialect
    (the fallback last); each with its ``kind``, origin, rules and sources."""
    builtin = FamilyRegistry.builtin()
    records = [family_record(f, builtin) for f in registry.families]
    records.append(family_record(UNKNOWN, builtin) | {"origin": "fallback"})
    records += [dialect_record(d) for d in registry.dialects]
    records.append(dialect_record(UNKNOWN_DIALECT, "fallback"))
    return records


def print_table(records: list[dict[str, Any]]) -> None:
    """The records as ``families`` prints them."""
    _print_families([r for r in records if r["kind"] == "family"])
    print()
    print("host dialects (chat wire: how a host carries reasoning)")
    for r in records:
        if r["kind"] != "dialect":
            continue
        named = "" if r["origin"] == "fallback" else f" (a provider's dialect: {r['name']})"
        print(f"{r['name']} ({r['origin']})")
        print(f"  hosts:   {', '.join(r['hosts']) or '-'}{named if not r['hosts'] else ''}")
        print(f"  carries: {r['carries']}")
        for rule, source in [("dialect", r["source"]), *r["sources"].items()]:
            if source:
                print(f"  source ({rule}): {source}")


def _print_families(records: list[dict[str, Any]]) -> None:
    for r in records:
        print(f"{r['name']} ({r['origin']})")
        print(f"  models:  {', '.join(r['models']) or '-'}")
        if r["not_models"]:
            print(f"  not:     {', '.join(r['not_models'])}")
        if r["when_thinking"]:
            print(f"  when thinking is on: {', '.join(r['when_thinking'])}")
        hosts = ", ".join(r["hosts"]) or "-"
        print(f"  hosts:   {hosts}{' (authoritative)' if r['authoritative'] else ''}")
        print(f"  anthropic_messages: {r['anthropic_messages']}")
        print(f"  chat_completions:   {r['chat_completions']}")
        print(f"  responses:          {r['responses']}")
        for rule, source in [("contract", r["source"]), *r["sources"].items()]:
            if source:
                print(f"  source ({rule}): {source}")
