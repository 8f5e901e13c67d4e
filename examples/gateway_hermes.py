"""The gateway from hermes' own config: ``serve --agent-config``.

hermes-agent keeps its providers in ``~/.hermes/config.yaml`` (the ``providers:`` mapping its
config migration writes: ``api``, ``transport``, ``default_model``, ``key_env``) and their keys
in ``~/.hermes/.env``. One file serves both sides:

    thinking-round-trip serve --config ~/.hermes/config.yaml --agent-config hermes-home/config.yaml

serves hermes' providers with their real URLs and keys, and writes a copy of the config in
which every provider calls the gateway; hermes runs on the copy (``HERMES_HOME=hermes-home``).
This example writes such a config, serves it, reads the copy as hermes would and runs a tool
loop through it with an agent that keeps only text and tool calls.

Runs against the bundled MiMo emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL
put a real provider on the Anthropic wire behind the gateway instead (see _upstream.py).
"""

import os
import tempfile
from pathlib import Path

import anthropic
import yaml
from _upstream import anthropic_agent, gateway, upstream

HERMES_CONFIG = """\
model:
  default: {model}
  provider: mimo-relay
providers:
  mimo-relay:
    name: MiMo relay
    api: {base_url}
    transport: anthropic_messages
    key_env: MIMO_RELAY_API_KEY
    default_model: {model}
"""


def hermes_style_agent(config: Path) -> str:
    """What hermes does with its config: the default provider's URL, key and model."""
    hermes = yaml.safe_load(config.read_text(encoding="utf-8"))
    entry = hermes["providers"][hermes["model"]["provider"]]
    client = anthropic.Anthropic(
        base_url=entry["api"], api_key=os.environ[entry["key_env"]], max_retries=0
    )
    return anthropic_agent(client, entry["default_model"])


def main() -> None:
    with upstream("mimo", "mimo-v2.5-pro") as provider, tempfile.TemporaryDirectory() as tmp:
        original = Path(tmp, ".hermes", "config.yaml")
        original.parent.mkdir()
        original.write_text(HERMES_CONFIG.format(base_url=provider.base_url, model=provider.model))
        os.environ["MIMO_RELAY_API_KEY"] = provider.api_key  # hermes' .env
        copy = Path(tmp, "hermes-home", "config.yaml")
        copy.parent.mkdir()
        with gateway(original, "--agent-config", str(copy)):
            written = yaml.safe_load(copy.read_text(encoding="utf-8"))
            served = written["providers"]["mimo-relay"]["api"]
            print(f"hermes-home/config.yaml, written by the gateway: mimo-relay's api is {served}")
            answer = hermes_style_agent(copy)
        print(f"completed through the gateway: {answer!r}; {provider.report()}")


if __name__ == "__main__":
    main()
