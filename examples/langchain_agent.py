"""LangChain: ``create_agent`` with a chat model built from your agent's config file.

``chat_openai`` returns LangChain's own ``ChatOpenAI`` for one provider of the config, with
the pipeline in its documented ``http_client`` (``chat_anthropic`` does the same for an
Anthropic-wire provider). ChatOpenAI does not send DeepSeek's ``reasoning_content`` back, so
without the pipeline DeepSeek answers the second call with HTTP 400; with it, the agent
completes.

Runs against the bundled DeepSeek emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and
EXAMPLE_MODEL send it to a real provider on the Chat Completions wire instead (see
_upstream.py). Needs the extra: pip install 'thinking-round-trip[langchain]'.
"""

import os
import tempfile
from pathlib import Path

from _upstream import PROMPT, run_step, upstream
from langchain.agents import create_agent
from langchain_core.tools import tool

from agent.integrations.langchain import chat_openai

AGENT_YAML = """\
providers:
  deepseek:
    base_url: {base_url}
    api_mode: chat_completions
    api_key: ${{DEEPSEEK_API_KEY}}
    model: {model}
"""


@tool("run_step")
def step_tool(step: int = 0) -> str:
    """Run one step of the task and return its output."""
    return run_step(step)


def main() -> None:
    with upstream("deepseek", "deepseek-v4-pro", openai_wire=True) as provider:
        os.environ["DEEPSEEK_API_KEY"] = provider.api_key
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp, "agent.yaml")
            config.write_text(AGENT_YAML.format(base_url=provider.base_url, model=provider.model))

            agent = create_agent(chat_openai(config, "deepseek"), tools=[step_tool])
            state = agent.invoke({"messages": [{"role": "user", "content": PROMPT}]})

        print(f"LangChain on {provider.model}, model built from agent.yaml:")
        print(f"completed: {state['messages'][-1].content!r}; {provider.report()}")


if __name__ == "__main__":
    main()
