"""A provider's ``upstream_timeout`` is how long every client built from the config waits for
it: the SDK clients, LangChain's, and the gateway (tested in test_gateway)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from agent import anthropic_client, load_config
from agent.integrations.langchain import chat_anthropic, chat_openai
from agent.integrations.openai import openai_client
from agent.testing.emulators import Emulator

MESSAGES: Any = [{"role": "user", "content": "x"}]


def _config(tmp_path: Path, base_url: str, api_mode: str, timeout: str) -> Any:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"providers:\n  p:\n    base_url: {base_url}\n    api_mode: {api_mode}\n"
        f"    model: mimo-v2.5-pro\n    api_key: test-key\n{timeout}"
    )
    return load_config(path)


class TestSdkClients:
    def test_anthropic_client_gives_up_after_the_provider_timeout(self, tmp_path: Path) -> None:
        """upstream_timeout: 0.2 against a model that takes 2 s: the SDK's timeout error."""
        with Emulator("mimo", latency=2.0) as mimo:
            config = _config(
                tmp_path, mimo.base_url, "anthropic_messages", "    upstream_timeout: 0.2\n"
            )
            client = anthropic_client(config, "p", max_retries=0)
            with pytest.raises(anthropic.APITimeoutError):
                client.messages.create(model="mimo-v2.5-pro", max_tokens=10, messages=MESSAGES)

    def test_openai_client_gives_up_after_the_provider_timeout(self, tmp_path: Path) -> None:
        with Emulator("mimo", latency=2.0) as mimo:
            config = _config(
                tmp_path, mimo.openai_base_url, "chat_completions", "    upstream_timeout: 0.2\n"
            )
            client = openai_client(config, "p", max_retries=0)
            with pytest.raises(openai.APITimeoutError):
                client.chat.completions.create(model="mimo-v2.5-pro", messages=MESSAGES)

    def test_an_explicit_timeout_wins(self, tmp_path: Path) -> None:
        """timeout= given to the client wins over the config's."""
        config = _config(
            tmp_path, "https://x.example", "anthropic_messages", "    upstream_timeout: 5\n"
        )

        assert 5.0 == anthropic_client(config, "p").timeout
        assert 9.0 == anthropic_client(config, "p", timeout=9.0).timeout

    def test_no_timeout_keeps_the_sdk_default(self, tmp_path: Path) -> None:
        config = _config(tmp_path, "https://x.example", "anthropic_messages", "")

        assert anthropic.Anthropic(api_key="k").timeout == anthropic_client(config, "p").timeout


class TestLangChain:
    def test_the_provider_timeout_is_the_default(self, tmp_path: Path) -> None:
        config = _config(
            tmp_path, "https://x.example", "anthropic_messages", "    upstream_timeout: 7\n"
        )
        chat = _config(
            tmp_path, "https://x.example", "chat_completions", "    upstream_timeout: 9\n"
        )

        assert 7.0 == chat_anthropic(config, "p").default_request_timeout
        assert 3.0 == chat_anthropic(config, "p", timeout=3).default_request_timeout
        assert 9.0 == chat_openai(chat, "p").request_timeout
