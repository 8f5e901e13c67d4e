"""agent: a message pipeline whose ThinkingRoundTrip sends each provider the reasoning it wants.

Installed as the ``thinking-round-trip`` distribution (``pip install thinking-round-trip``);
the import package is ``agent``.

Public API: ``Request``, ``Pipeline``, ``load_config``, the family table, the
explain records, and the library's exceptions. Middleware live in ``agent.middleware``; test
helpers (emulators, a recorder, the tool loop) in ``agent.testing``.
"""

from typing import TYPE_CHECKING

from agent.config import Config, ProviderConfig, load_config
from agent.distribution import installed_version
from agent.errors import (
    AgentError,
    ConfigError,
    FamilyDefinitionError,
    InvalidOption,
    InvalidRequest,
    InvalidResponse,
    MissingExtra,
    ThinkingContractError,
    UnknownFamily,
)
from agent.explain import Action, Change, Explanation
from agent.families import FamilyMatch, FamilyRegistry, ModelFamily
from agent.pipeline import Middleware, Pipeline
from agent.request import Request
from agent.sqlite_store import SqliteStore
from agent.store import MemoryStore, Origin, ThinkingStore

#: The installed distribution's version (``thinking-round-trip``), from its metadata.
__version__ = installed_version()

if TYPE_CHECKING:
    from agent.integrations.anthropic import anthropic_client, async_anthropic_client


def __getattr__(name: str) -> object:
    # the SDK factories import the anthropic client; load them on first use so
    # `import agent` stays light
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
    "InvalidOption",
    "InvalidRequest",
    "InvalidResponse",
    "MemoryStore",
    "Middleware",
    "MissingExtra",
    "ModelFamily",
    "Origin",
    "Pipeline",
    "ProviderConfig",
    "Request",
    "SqliteStore",
    "ThinkingContractError",
    "ThinkingStore",
    "UnknownFamily",
    "anthropic_client",
    "async_anthropic_client",
    "load_config",
]
