"""LangChain chat models wired to the pipeline, from a config file.

    llm = chat_anthropic("agent.yaml", provider="mimo-relay")
    agent = langchain.agents.create_agent(llm, tools=[...])

``chat_openai`` hands ``ChatOpenAI`` its documented ``http_client`` / ``http_async_client``
built on ``PipelineTransport``. ``ChatAnthropic`` has no public way in (no client, middleware
or http client option), so ``chat_anthropic`` returns a ``ChatAnthropic`` subclass whose two
clients are built with LangChain's own parameters plus the pipeline middleware; everything
else is LangChain's. Needs the ``langchain`` extra
(``pip install 'thinking-round-trip[langchain]'``).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import anthropic
import httpx2
from pydantic import PrivateAttr

from agent.config import Config, load_config
from agent.distribution import missing_extra
from agent.errors import ConfigError
from agent.integrations.anthropic import ConfigSource, PipelineMiddleware
from agent.integrations.transport import AsyncPipelineTransport, PipelineTransport

try:
    from langchain_anthropic import ChatAnthropic
    from langchain_openai import ChatOpenAI
except ImportError as exc:
    raise missing_extra("langchain", "agent.integrations.langchain", exc) from None


def _loaded(config: ConfigSource) -> Config:
    return config if isinstance(config, Config) else load_config(config)


class PipelinedChatAnthropic(ChatAnthropic):
    """``ChatAnthropic`` whose anthropic clients carry the pipeline middleware."""

    _middleware: PipelineMiddleware | None = PrivateAttr(default=None)

    @cached_property
    def _client(self) -> anthropic.Client:
        return anthropic.Client(**self._client_params, middleware=self._middlewares())

    @cached_property
    def _async_client(self) -> anthropic.AsyncClient:
        return anthropic.AsyncClient(**self._client_params, middleware=self._middlewares())

    def _middlewares(self) -> list[PipelineMiddleware]:
        return [self._middleware] if self._middleware is not None else []


def chat_anthropic(config: ConfigSource, provider: str, **kwargs: Any) -> ChatAnthropic:
    """A LangChain ``ChatAnthropic`` for a configured ``anthropic_messages`` provider (its
    model, base URL and key unless ``kwargs`` say otherwise)."""
    loaded = _loaded(config)
    entry = loaded.provider(provider)
    if entry.api_mode != "anthropic_messages":
        raise ConfigError(
            loaded.path,
            f"api_mode is {entry.api_mode!r}; chat_anthropic needs api_mode: anthropic_messages",
            entry=entry.where,
        )
    options: dict[str, Any] = {"model": entry.model, "api_key": entry.api_key or "not-set"}
    if entry.base_url:
        options["base_url"] = entry.base_url
    if entry.timeout is not None:
        options["timeout"] = entry.timeout  # (ChatAnthropic's alias of default_request_timeout)
    llm = PipelinedChatAnthropic(**{**options, **kwargs})
    llm._middleware = PipelineMiddleware(
        loaded.pipeline(provider), base_url=entry.base_url, provider=provider
    )
    return llm


def chat_openai(config: ConfigSource, provider: str, **kwargs: Any) -> ChatOpenAI:
    """A LangChain ``ChatOpenAI`` for a configured ``chat_completions`` (or ``responses``)
    provider, its HTTP clients sending through the pipeline."""
    loaded = _loaded(config)
    entry = loaded.provider(provider)
    if entry.api_mode not in ("chat_completions", "responses"):
        raise ConfigError(
            loaded.path,
            f"api_mode is {entry.api_mode!r}; chat_openai needs chat_completions or responses",
            entry=entry.where,
        )
    pipeline = loaded.pipeline(provider)
    options: dict[str, Any] = {
        "model": entry.model,
        "api_key": entry.api_key or "not-set",
        "http_client": httpx2.Client(transport=PipelineTransport(pipeline, provider=provider)),
        "http_async_client": httpx2.AsyncClient(
            transport=AsyncPipelineTransport(pipeline, provider=provider)
        ),
        "use_responses_api": entry.api_mode == "responses",
    }
    if entry.base_url:
        options["base_url"] = entry.base_url
    if entry.timeout is not None:
        options["timeout"] = entry.timeout  # (ChatOpenAI's alias of request_timeout)
    return ChatOpenAI(**{**options, **kwargs})
