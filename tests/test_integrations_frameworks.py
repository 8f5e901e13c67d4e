"""pydantic-ai and LangChain agents with a tool, wired to the pipeline from a config file,
against the emulators: plain and streamed runs complete, and no request is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.tools import tool
from pydantic import SecretStr
from pydantic_ai import Agent

from agent import load_config
from agent.integrations.langchain import chat_anthropic, chat_openai
from agent.integrations.pydantic_ai import anthropic_model, openai_model
from agent.testing.emulators import Emulator
from tests.closing import close_chat_model, run_closing


def _config(tmp_path: Path, base_url: str, model: str, api_mode: str) -> Any:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"providers:\n  p:\n    base_url: {base_url}\n    model: {model}\n"
        f"    api_mode: {api_mode}\n    api_key: test-key\n"
    )
    return load_config(path)


def _pydantic_agent(model: Any) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(model)

    @agent.tool_plain
    def run(step: int = 0, call: int = 0) -> str:
        """Run one step."""
        return f"step {step} done"

    return agent


@tool
def run(step: int = 0, call: int = 0) -> str:
    """Run one step."""
    return f"step {step} done"


def _refused(emulator: Emulator) -> list[int]:
    return [r.status for r in emulator.log if r.status != 200]


class TestPydanticAI:
    def test_without_the_pipeline_mimo_refuses_turn_two(self) -> None:
        """The baseline: pydantic-ai drops the unsigned thinking it got from MiMo, and MiMo
        answers the second call with its 400."""
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        with Emulator("mimo", rounds=3) as mimo:
            provider = AnthropicProvider(api_key="k", base_url=mimo.base_url)
            model = AnthropicModel("mimo-v2.5-pro", provider=provider)
            with pytest.raises(Exception, match="Param Incorrect"):
                asyncio.run(run_closing(_pydantic_agent(model), model))

            assert [200, 400] == [r.status for r in mimo.log]

    def test_anthropic_model_tool_loop(self, tmp_path: Path) -> None:
        """An Agent with a tool on MiMo behind a relay: the whole loop, no request refused."""
        with Emulator("mimo", rounds=3) as mimo:
            config = _config(tmp_path, mimo.base_url, "mimo-v2.5-pro", "anthropic_messages")
            model = anthropic_model(config, "p", max_retries=0)

            result = asyncio.run(run_closing(_pydantic_agent(model), model))

            assert "Done after 3 tool calls." in result.output
            assert [] == _refused(mimo)
            assert 4 == len(mimo.log)

    def test_anthropic_model_streamed(self, tmp_path: Path) -> None:
        """The same loop, streamed."""

        async def go(config: Any) -> str:
            model = anthropic_model(config, "p", max_retries=0)
            try:
                async with _pydantic_agent(model).run_stream("go") as result:
                    return await result.get_output()
            finally:
                await model.client.close()

        with Emulator("mimo", rounds=3) as mimo:
            config = _config(tmp_path, mimo.base_url, "mimo-v2.5-pro", "anthropic_messages")
            output = asyncio.run(go(config))

            assert "Done after 3 tool calls." in output
            assert [] == _refused(mimo)

    def test_openai_model_tool_loop(self, tmp_path: Path) -> None:
        """OpenAIChatModel on DeepSeek's chat wire: no request refused."""
        with Emulator("deepseek", rounds=3) as deepseek:
            config = _config(
                tmp_path, deepseek.openai_base_url, "deepseek-v4-pro", "chat_completions"
            )
            model = openai_model(config, "p", max_retries=0)

            result = asyncio.run(run_closing(_pydantic_agent(model), model))

            assert "Done after 3 tool calls." in result.output
            assert [] == _refused(deepseek)


class TestLangChain:
    def test_without_the_pipeline_deepseek_refuses_turn_two(self) -> None:
        """The baseline: ChatOpenAI does not send reasoning_content back, and DeepSeek
        answers the second call with its 400."""
        from langchain_openai import ChatOpenAI

        with Emulator("deepseek", rounds=3) as deepseek:
            llm = ChatOpenAI(
                model="deepseek-v4-pro",
                api_key=SecretStr("k"),
                base_url=deepseek.openai_base_url,
                max_retries=0,
            )
            agent = create_agent(llm, tools=[run])
            with pytest.raises(Exception, match="must be passed back"):
                agent.invoke({"messages": [{"role": "user", "content": "go"}]})
            close_chat_model(llm)

            assert [200, 400] == [r.status for r in deepseek.log]

    def test_chat_anthropic_agent(self, tmp_path: Path) -> None:
        """create_agent with ChatAnthropic on MiMo: the loop completes, nothing refused."""
        with Emulator("mimo", rounds=3) as mimo:
            config = _config(tmp_path, mimo.base_url, "mimo-v2.5-pro", "anthropic_messages")
            llm = chat_anthropic(config, "p", max_retries=0)
            agent = create_agent(llm, tools=[run])

            state = agent.invoke({"messages": [{"role": "user", "content": "go"}]})
            close_chat_model(llm)

            assert "Done after 3 tool calls." in str(state["messages"][-1].content)
            assert [] == _refused(mimo)

    def test_chat_anthropic_streamed(self, tmp_path: Path) -> None:
        """The same agent, streamed."""
        with Emulator("mimo", rounds=3) as mimo:
            config = _config(tmp_path, mimo.base_url, "mimo-v2.5-pro", "anthropic_messages")
            llm = chat_anthropic(config, "p", max_retries=0, streaming=True)
            agent = create_agent(llm, tools=[run])

            chunks = list(
                agent.stream(
                    {"messages": [{"role": "user", "content": "go"}]}, stream_mode="values"
                )
            )
            close_chat_model(llm)

            assert "Done after 3 tool calls." in str(chunks[-1]["messages"][-1].content)
            assert [] == _refused(mimo)

    def test_chat_openai_agent(self, tmp_path: Path) -> None:
        """create_agent with ChatOpenAI on DeepSeek's chat wire, plain and streamed."""
        with Emulator("deepseek", rounds=3) as deepseek:
            config = _config(
                tmp_path, deepseek.openai_base_url, "deepseek-v4-pro", "chat_completions"
            )
            for streaming in (False, True):
                llm = chat_openai(config, "p", max_retries=0, streaming=streaming)
                agent = create_agent(llm, tools=[run])

                state = agent.invoke({"messages": [{"role": "user", "content": "go"}]})
                close_chat_model(llm)

                assert "Done after 3 tool calls." in str(state["messages"][-1].content)
            assert [] == _refused(deepseek)
