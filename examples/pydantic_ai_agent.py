"""pydantic-ai: an Agent whose model is built from your agent's config file.

``anthropic_model`` returns pydantic-ai's own ``AnthropicModel`` for one provider of the
config, on an anthropic client with the pipeline installed (``openai_model`` does the same
for an OpenAI-wire provider). pydantic-ai does not send MiMo's unsigned thinking back, so
without the pipeline MiMo answers its second call with HTTP 400; with it, the run completes.

Runs against the bundled MiMo emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL
send it to a real provider on the Anthropic wire instead (see _upstream.py).
Needs the extra: pip install 'thinking-round-trip[pydantic-ai]'.
"""

import os
import tempfile
from pathlib import Path

from _upstream import PROMPT, run_step, upstream
from pydantic_ai import Agent

from agent.integrations.pydantic_ai import anthropic_model

AGENT_YAML = """\
providers:
  mimo-relay:
    base_url: {base_url}
    api_mode: anthropic_messages
    api_key: ${{MIMO_RELAY_API_KEY}}
    model: {model}
"""


def main() -> None:
    with upstream("mimo", "mimo-v2.5-pro") as provider, tempfile.TemporaryDirectory() as tmp:
        os.environ["MIMO_RELAY_API_KEY"] = provider.api_key
        config = Path(tmp, "agent.yaml")
        config.write_text(AGENT_YAML.format(base_url=provider.base_url, model=provider.model))

        agent = Agent(anthropic_model(config, "mimo-relay"), tools=[run_step])
        result = agent.run_sync(PROMPT)

        print(f"pydantic-ai on {provider.model}, model built from agent.yaml:")
        print(f"completed: {result.output!r}; {provider.report()}")


if __name__ == "__main__":
    main()
