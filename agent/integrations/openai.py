"""The openai SDK with the pipeline: Chat Completions and Responses, plain and streamed.

    client = agent.integrations.openai.openai_client("agent.yaml", provider="deepseek")
    client.chat.completions.create(model=..., messages=history, tools=...)

The client is an ``openai.OpenAI`` whose HTTP client sends through ``PipelineTransport``: the
pipeline sees the JSON the SDK builds, so the SDK's own message objects in a history just
work; provider-specific top-level keys go in ``extra_body`` (``extra_body={"thinking":
{"type": "enabled"}}``), as the SDK wants. Each answer is observed (a stream as it passes), and
a classified thinking error is retried once. Needs the ``openai`` extra
(``pip install 'thinking-round-trip[openai]'``).
"""

from __future__ import annotations

import os
from typing import Any

import httpx2

from agent.config import Config, ProviderConfig, load_config
from agent.distribution import missing_extra
from agent.errors import ConfigError

try:
    import openai
except ImportError as exc:
    raise missing_extra("openai", "agent.integrations.openai", exc) from None
from agent.integrations.transport import AsyncPipelineTransport, PipelineTransport
from agent.pipeline import Pipeline

ConfigSource = Config | str | os.PathLike[str]
#: The wires an openai client speaks.
WIRES = ("chat_completions", "responses")


def _parts(config: ConfigSource, provider: str) -> tuple[ProviderConfig, Pipeline]:
    loaded = config if isinstance(config, Config) else load_config(config)
    entry = loaded.provider(provider)
    if entry.api_mode not in WIRES:
        raise ConfigError(
            loaded.path,
            f"api_mode is {entry.api_mode!r}; an openai client needs a provider with "
            "api_mode: chat_completions or responses",
            entry=entry.where,
        )
    return entry, loaded.pipeline(provider)


def openai_client(config: ConfigSource, provider: str, **options: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` for one configured provider, its requests run through the
    provider's pipeline. ``options`` go to the client (``max_retries``, ``timeout``, ...)."""
    entry, pipeline = _parts(config, provider)
    transport = PipelineTransport(pipeline, provider=provider)
    return openai.OpenAI(
        base_url=entry.base_url,
        api_key=entry.api_key or "not-set",
        http_client=httpx2.Client(transport=transport),
        **entry.client_options(options),
    )


def async_openai_client(config: ConfigSource, provider: str, **options: Any) -> openai.AsyncOpenAI:
    """The async twin of ``openai_client``."""
    entry, pipeline = _parts(config, provider)
    transport = AsyncPipelineTransport(pipeline, provider=provider)
    return openai.AsyncOpenAI(
        base_url=entry.base_url,
        api_key=entry.api_key or "not-set",
        http_client=httpx2.AsyncClient(transport=transport),
        **entry.client_options(options),
    )
