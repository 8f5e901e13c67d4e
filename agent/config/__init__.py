"""Config files: YAML or TOML -> a validated ``Config`` -> pipelines.

``model`` holds what a loaded config is (and how chains combine); ``loader`` reads and
validates a file, finding every error at load with the file, line and entry.
"""

from agent.config.loader import load_config
from agent.config.model import (
    DEFAULT_CHAIN,
    MIDDLEWARE,
    Config,
    MiddlewareEntry,
    ProviderConfig,
    StoreSpec,
)

__all__ = [
    "DEFAULT_CHAIN",
    "MIDDLEWARE",
    "Config",
    "MiddlewareEntry",
    "ProviderConfig",
    "StoreSpec",
    "load_config",
]
