"""agent: a message pipeline whose ThinkingRoundTrip sends each provider the reasoning it wants.

Public API (design §3): ``Request``, ``Pipeline``, ``load_config``, the family table, and the
library's exceptions. Middleware live in ``agent.middleware``; test helpers in ``agent.testing``.
"""

from typing import TYPE_CHECKING, Any

from agent.config import Config, ProviderConfig, load_config
from agent.errors import (
    AgentError,
    ConfigError,
    FamilyDefinitionError,
    InvalidRequest,
    ThinkingContractError,
    UnknownFamily,
)
from agent.families import FamilyMatch, FamilyRegistry, ModelFamily
from agent.pipeline import Middleware, Pipeline
from agent.request import Action, Change, Explanation, Request
from agent.store import MemoryStore, Origin, ThinkingStore

if TYPE_CHECKING:
    from agent.integrations.anthropic import anthropic_client, async_anthropic_client


def __getattr__(name: str) -> Any:
    # the SDK factories import anthropic; load them on first use so `import agent` stays light
    if name in ("anthropic_client", "async_anthropic_client"):
        from agent.integrations import anthropic as integration

        return getattr(integration, name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")


__all__ = [
    "Action",
    "AgentError",
    "Change",
    "Config",
    "ConfigError",
    "Explanation",
    "FamilyDefinitionError",
    "FamilyMatch",
    "FamilyRegistry",
    "InvalidRequest",
    "MemoryStore",
    "Middleware",
    "ModelFamily",
    "Origin",
    "Pipeline",
    "ProviderConfig",
    "Request",
    "ThinkingContractError",
    "ThinkingStore",
    "UnknownFamily",
    "anthropic_client",
    "async_anthropic_client",
    "load_config",
]
