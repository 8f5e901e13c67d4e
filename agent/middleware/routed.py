"""Routers whose reasoning is bound to the upstream provider that served it (OpenRouter).

Behind OpenRouter, Gemini's ``reasoning.encrypted`` made on Google Vertex does not verify on
Google AI Studio and the other way round (OpenRouterTeam/ai-sdk-provider #491): provenance is
the model *and* the provider. Each answer names its provider (``"provider": "Google"``), kept
as the origin's ``provider``; a request that pins a provider (``provider.only``, or the first
of ``provider.order``) gets no reasoning observed from another; after a classified signature
error the retry is pinned to the provider that produced the reasoning it carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.families import FamilyMatch
from agent.store import Origin

#: Display names OpenRouter answers with whose routing slug is not the name itself.
_SLUGS = {"google": "google-vertex"}


def slug(name: str) -> str:
    """A provider as OpenRouter's routing names it (``Google AI Studio`` ->
    ``google-ai-studio``; ``Google``, Vertex's display name, -> ``google-vertex``)."""
    key = "-".join(name.strip().lower().split())
    return _SLUGS.get(key, key)


def upstream(match: FamilyMatch, response: Mapping[str, Any]) -> str | None:
    """The upstream provider an answer names, where the host binds reasoning to it."""
    if match.dialect.bound_to != "provider":
        return None
    name = response.get("provider")
    return slug(name) if isinstance(name, str) and name.strip() else None


def pinned(body: Mapping[str, Any]) -> str | None:
    """The provider a request pins: its only allowed one, or the first of its order."""
    routing = body.get("provider")
    if not isinstance(routing, Mapping):
        return None
    for key in ("only", "order"):
        names = routing.get(key)
        if isinstance(names, list) and names and isinstance(names[0], str):
            if key == "only" and len(names) != 1:
                continue  # several allowed: any of them may serve it
            return slug(names[0])
    return None


def other_provider(match: FamilyMatch, body: Mapping[str, Any], origin: Origin) -> bool:
    """Whether ``origin`` was served by another provider than the one the request pins."""
    if match.dialect.bound_to != "provider" or origin.provider is None:
        return False
    pin = pinned(body)
    return pin is not None and pin != origin.provider


def pin_to(body: Mapping[str, Any], provider: str) -> Mapping[str, Any]:
    """``body`` routed to ``provider`` alone (the same object when it already is)."""
    if pinned(body) == provider:
        return body
    routing = body.get("provider")
    base = dict(routing) if isinstance(routing, Mapping) else {}
    base.pop("order", None)
    return {**body, "provider": {**base, "only": [provider], "allow_fallbacks": False}}
