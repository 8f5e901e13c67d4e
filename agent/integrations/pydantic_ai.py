"""pydantic-ai models wired to the pipeline, from a config file.

    agent = pydantic_ai.Agent(anthropic_model("agent.yaml", provider="mimo-relay"), tools=[...])

``anthropic_model`` builds an ``AnthropicModel`` on ``async_anthropic_client`` (the SDK
middleware), ``openai_model`` an ``OpenAIChatModel`` (or, for a ``responses`` provider, an
``OpenAIResponsesModel``) on ``async_openai_client`` (the transport): every request the agent
makes goes through the provider's pipeline, and every answer is observed, so the reasoning
pydantic-ai cannot send back as thinking (it downgrades it to a ``<thinking>`` text block) is
restored instead of sent twice. Needs the ``pydantic-ai`` extra
(``pip install 'thinking-round-trip[pydantic-ai]'``).
"""

from __future__ import annotations

from typing import Any

from agent.config import Config, load_config
from agent.distribution import missing_extra
from agent.integrations.anthropic import ConfigSource, async_anthropic_client

try:
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
    from pydantic_ai.providers.anthropic import AnthropicProvider
    from pydantic_ai.providers.openai import OpenAIProvider

    from agent.integrations.openai import async_openai_client
except ImportError as exc:
    raise missing_extra("pydantic-ai", "agent.integrations.pydantic_ai", exc) from None


def _loaded(config: ConfigSource) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _model_of(config: Config, provider: str, model: str | None) -> str:
    name = model or config.provider(provider).model
    if not name:
        from agent.errors import ConfigError

        raise ConfigError(
            config.path,
            "no model: give model= or set model: on the provider",
            entry=config.provider(provider).where,
        )
    return name


def anthropic_model(
    config: ConfigSource, provider: str, model: str | None = None, **options: Any
) -> AnthropicModel:
    """A pydantic-ai ``AnthropicModel`` for a configured ``anthropic_messages`` provider;
    ``model`` defaults to the provider's, ``options`` go to the anthropic client."""
    loaded = _loaded(config)
    client = async_anthropic_client(loaded, provider, **options)
    return AnthropicModel(
        _model_of(loaded, provider, model), provider=AnthropicProvider(anthropic_client=client)
    )


def openai_model(
    config: ConfigSource, provider: str, model: str | None = None, **options: Any
) -> OpenAIChatModel | OpenAIResponsesModel:
    """A pydantic-ai OpenAI model for a configured ``chat_completions`` (or ``responses``)
    provider; ``model`` defaults to the provider's, ``options`` go to the openai client."""
    loaded = _loaded(config)
    client = async_openai_client(loaded, provider, **options)
    name = _model_of(loaded, provider, model)
    if loaded.provider(provider).api_mode == "responses":
        return OpenAIResponsesModel(name, provider=OpenAIProvider(openai_client=client))
    return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))
