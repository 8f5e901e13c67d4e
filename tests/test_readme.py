"""The README's config examples load, and say truthfully how chains combine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent import load_config

README = Path(__file__).resolve().parent.parent / "README.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_config_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every YAML example in the README loads; the chain example gives the chains it states."""
    monkeypatch.setenv("MIMO_RELAY_API_KEY", "sk-example")
    blocks = yaml_blocks()
    configs = []
    for n, block in enumerate(blocks):
        path = tmp_path / f"readme-{n}.yaml"
        path.write_text(block, encoding="utf-8")
        configs.append(load_config(path))

    assert 2 == len(configs)
    chains = {
        name: [m.describe() for m in configs[1].chain_for(name)] for name in configs[1].providers
    }
    assert {
        "claude": [
            "tool_pairing",
            "thinking_round_trip(foreign='keep_text', trusted_models=['claude-opus-*'])",
        ],
        "gateway": ["thinking_round_trip(foreign='keep_text')"],
        "minimal": ["thinking_round_trip"],
    } == chains
