"""The README's config examples load, and say truthfully how chains combine."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from agent import load_config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_config_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every YAML example in the README loads; the chain example gives the chains it states."""
    monkeypatch.setenv("MIMO_RELAY_API_KEY", "sk-example")
    monkeypatch.setenv("GATEWAY_TOKEN", "gw-example")
    blocks = yaml_blocks()
    configs = []
    for n, block in enumerate(blocks):
        path = tmp_path / f"readme-{n}.yaml"
        path.write_text(block, encoding="utf-8")
        configs.append(load_config(path))

    assert 3 == len(configs)
    assert ("gw-example",) == configs[2].gateway.tokens
    assert (32_000_000, 600.0) == (configs[2].gateway.max_body_bytes, configs[2].gateway.timeout)
    assert configs[2].gateway.decisions
    gateway_providers = configs[2].providers
    assert (120.0, False) == (
        gateway_providers["mimo-relay"].timeout,
        gateway_providers["mimo-relay"].forward_client_key,
    )
    assert (None, True) == (
        gateway_providers["team-anthropic"].timeout,
        gateway_providers["team-anthropic"].forward_client_key,
    )
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


def test_readme_names_import() -> None:
    """Every `from X import Y` and every dotted `agent.` name the README shows exists."""
    text = README.read_text(encoding="utf-8")
    imports = re.findall(r"^\s*from (agent[\w.]*) import ([\w, ]+)$", text, re.M)
    files = {"agent.yaml", "agent.toml"}  # the config file the examples name
    dotted = set(re.findall(r"`(agent(?:\.\w+)+)", text)) - files
    assert imports
    assert dotted

    for module, names in imports:
        loaded = importlib.import_module(module)
        for name in names.split(","):
            assert hasattr(loaded, name.strip()), f"{module}.{name.strip()}"
    for name in dotted:
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
            try:
                found: object = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attribute in parts[cut:]:
                found = getattr(found, attribute)
            break
        else:
            raise AssertionError(name)


PRODUCT = [
    *sorted((ROOT / "agent").rglob("*.py")),
    *sorted((ROOT / "agent").rglob("*.typed")),
    README,
    ROOT / "pyproject.toml",
]


def test_the_product_names_no_file_outside_the_repository() -> None:
    """No file under agent/, the README or pyproject names the evidence files beside the
    repository (shared/...); the family table's sources are URLs instead."""
    named = [str(p.relative_to(ROOT)) for p in PRODUCT if "shared/" in p.read_text("utf-8")]

    assert [] == named


def test_families_output_names_no_outside_file(capsys: pytest.CaptureFixture[str]) -> None:
    """The families command's sources name no file outside the repository."""
    from agent.cli import main

    main(["families", "--json"])
    records = json.loads(capsys.readouterr().out)

    sources = [r["source"] for r in records] + [s for r in records for s in r["sources"].values()]
    local = [re.sub(r"https?://\S+", "", s) for s in sources]  # a URL may end in .md
    assert [] == [s for s in local if "shared/" in s or ".md" in s]


def test_thinking_round_trip_docstring_says_what_it_does() -> None:
    """ThinkingRoundTrip's module docstring names every wire pass there is, and says unknown
    families pass (do no harm) and strict servers drop, as the family table does."""
    from agent.families import UNKNOWN, FamilyRegistry
    from agent.middleware import thinking_round_trip

    doc = " ".join((thinking_round_trip.__doc__ or "").split())
    wires = sorted(p.stem for p in (ROOT / "agent" / "middleware").glob("*_wire.py"))
    strict = FamilyRegistry.builtin().get("strict")

    assert 5 <= len(wires)
    assert [] == [w for w in wires if f"``{w}``" not in doc]
    assert f"Unknown families (``{UNKNOWN.anthropic.thinking}``, do no harm)" in doc
    assert "are removed" not in doc
    assert f"Strict servers (``{strict.anthropic.thinking}``)" in doc
