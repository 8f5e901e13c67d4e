"""The gateway, for an agent you cannot change: Claude Code-style settings.

Claude Code takes its endpoint from the ``env`` block of its settings file
(``~/.claude/settings.json``, or ``.claude/settings.json`` in a project). This example

1. writes the gateway's config, ``agent.yaml``: one provider, ``mimo-relay``, with the
   relay's real URL (its key comes from the environment);
2. starts ``thinking-round-trip serve --config agent.yaml`` on 127.0.0.1;
3. writes the settings file that points Claude Code at the gateway;
4. runs an agent that knows nothing but those settings, as Claude Code does, and that keeps
   only text and tool calls: the gateway puts back the thinking MiMo wants on every call.

Runs against the bundled MiMo emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL
put a real provider on the Anthropic wire behind the gateway instead (see _upstream.py).
"""

import json
import os
import tempfile
from pathlib import Path

import anthropic
from _upstream import anthropic_agent, gateway, upstream

AGENT_YAML = """\
gateway:
  tokens: ["${{GATEWAY_TOKEN}}"]  # what the agent presents (optional on 127.0.0.1)
providers:
  mimo-relay:
    base_url: {base_url}
    api_mode: anthropic_messages
    api_key: ${{RELAY_API_KEY}}
    model: {model}
"""


def claude_code_style_agent(settings: Path) -> str:
    """An agent configured by nothing but the settings' ``env``: the anthropic SDK reads
    ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN from the environment, as Claude Code does."""
    env = json.loads(settings.read_text(encoding="utf-8"))["env"]
    os.environ.pop("ANTHROPIC_API_KEY", None)  # only what the settings say
    os.environ.update(env)
    client = anthropic.Anthropic(max_retries=0)
    return anthropic_agent(client, env["ANTHROPIC_MODEL"])


def main() -> None:
    with upstream("mimo", "mimo-v2.5-pro") as provider, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "agent.yaml")
        config.write_text(AGENT_YAML.format(base_url=provider.base_url, model=provider.model))
        secrets = {"RELAY_API_KEY": provider.api_key, "GATEWAY_TOKEN": "local-gateway-token"}
        with gateway(config, env=secrets) as url:
            settings = Path(tmp, ".claude", "settings.json")
            settings.parent.mkdir()
            settings.write_text(
                json.dumps(
                    {
                        "env": {
                            "ANTHROPIC_BASE_URL": f"{url}/mimo-relay",
                            "ANTHROPIC_AUTH_TOKEN": secrets["GATEWAY_TOKEN"],
                            "ANTHROPIC_MODEL": provider.model,
                        }
                    },
                    indent=2,
                )
            )
            print(f"the gateway serves {url}/mimo-relay; .claude/settings.json:")
            print(settings.read_text(encoding="utf-8"))
            answer = claude_code_style_agent(settings)
        print(f"completed through the gateway: {answer!r}; {provider.report()}")


if __name__ == "__main__":
    main()
