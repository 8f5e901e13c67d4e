"""The openai SDK: a client built from your agent's config file, the pipeline inside.

An agent on DeepSeek's Chat Completions wire keeps each answer's content and tool calls, not
the ``reasoning_content`` DeepSeek adds (as the openai SDK's own message types and most
frameworks do). DeepSeek wants it back on every tool-call turn: without the pipeline its
second call is an HTTP 400 ("The reasoning_content in the thinking mode must be passed back to
the API."). ``openai_client`` builds an ``openai.OpenAI`` for one provider of the config, with
the pipeline in its transport; the reasoning goes back and the tool loop completes.

Runs against the bundled DeepSeek emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and
EXAMPLE_MODEL send it to a real provider on the Chat Completions wire instead (see
_upstream.py).
"""

import os
import tempfile
from pathlib import Path

from _upstream import chat_agent, upstream

from agent.integrations.openai import openai_client

AGENT_YAML = """\
providers:
  deepseek:
    base_url: {base_url}
    api_mode: chat_completions
    api_key: ${{DEEPSEEK_API_KEY}}
    model: {model}
"""


def main() -> None:
    with upstream("deepseek", "deepseek-v4-pro", openai_wire=True) as provider:
        os.environ["DEEPSEEK_API_KEY"] = provider.api_key
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp, "agent.yaml")
            config.write_text(AGENT_YAML.format(base_url=provider.base_url, model=provider.model))
            client = openai_client(config, provider="deepseek")  # an openai.OpenAI
            print(f"{provider.model} through the openai SDK, built from agent.yaml:")
            answer = chat_agent(client, provider.model)
        print(f"completed: {answer!r}; {provider.report()}")


if __name__ == "__main__":
    main()
