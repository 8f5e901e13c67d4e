"""The README and the docs: their config examples load and say truthfully how chains combine,
the names they show exist, the README's code runs as written, and nothing they say points
outside the repository."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from agent import load_config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: The documentation site's pages (MkDocs, docs/); what moved out of the README lives there.
PAGES = sorted((ROOT / "docs").rglob("*.md"))


def blocks(kind: str, *pages: Path) -> list[str]:
    """The fenced ``kind`` blocks of the pages, in order."""
    return [
        block
        for page in pages
        for block in re.findall(rf"```{kind}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    ]


def _loaded(tmp_path: Path, texts: list[str]) -> list[Any]:
    configs = []
    for n, block in enumerate(texts):
        path = tmp_path / f"example-{n}.yaml"
        path.write_text(block, encoding="utf-8")
        configs.append(load_config(path))
    return configs


def test_config_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every YAML example in the README and the docs loads; the chain example gives the chains
    it states, and the gateway example the limits and keys it states."""
    monkeypatch.setenv("MIMO_RELAY_API_KEY", "sk-example")
    monkeypatch.setenv("GATEWAY_TOKEN", "gw-example")
    texts = blocks("yaml", README, *PAGES)
    configs = _loaded(tmp_path, texts)
    chain = [c for c, t in zip(configs, texts, strict=True) if "middleware_replace" in t]
    served = [c for c, t in zip(configs, texts, strict=True) if t.startswith("gateway:")]

    assert 4 <= len(configs)
    assert (1, 1) == (len(chain), len(served))
    assert ("gw-example",) == served[0].gateway.tokens
    assert (32_000_000, 600.0) == (served[0].gateway.max_body_bytes, served[0].gateway.timeout)
    assert served[0].gateway.decisions
    gateway_providers = served[0].providers
    assert (120.0, False) == (
        gateway_providers["mimo-relay"].timeout,
        gateway_providers["mimo-relay"].forward_client_key,
    )
    assert (None, True) == (
        gateway_providers["team-anthropic"].timeout,
        gateway_providers["team-anthropic"].forward_client_key,
    )
    chains = {name: [m.describe() for m in chain[0].chain_for(name)] for name in chain[0].providers}
    assert {
        "claude": [
            "tool_pairing",
            "thinking_round_trip(foreign='keep_text', trusted_models=['claude-opus-*'])",
        ],
        "gateway": ["thinking_round_trip(foreign='keep_text')"],
        "minimal": ["thinking_round_trip"],
    } == chains


def test_names_import() -> None:
    """Every `from X import Y` and every dotted `agent.` name the README and the docs show
    exists."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in [README, *PAGES])
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
    *sorted((ROOT / "docs").rglob("*.*")),
    *sorted((ROOT / "examples").rglob("*.*")),
    README,
    ROOT / "CHANGELOG.md",
    ROOT / "mkdocs.yml",
    ROOT / "pyproject.toml",
]


def test_the_product_names_no_file_outside_the_repository() -> None:
    """No file under agent/, docs/ or examples/, the README, the changelog or the project's
    config names the evidence files beside the repository (shared/...); the family table's
    sources are URLs instead."""
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


def _links(page: Path) -> list[str]:
    """The page's Markdown links that are no URL and no anchor of the page itself."""
    found = re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
    return [link for link in found if not re.match(r"[a-z]+:|#", link)]


def test_the_readme_links_and_paths_are_in_the_repository() -> None:
    """Every relative link of the README and every examples/ script it names is a file of the
    repository (the docs' links are checked by mkdocs build --strict)."""
    text = README.read_text(encoding="utf-8")
    named = [*_links(README), *re.findall(r"examples/\w+\.py", text)]
    missing = [n for n in named if not (ROOT / n.split("#")[0]).resolve().is_relative_to(ROOT)]
    missing += [n for n in named if not (ROOT / n.split("#")[0]).exists()]

    assert named
    assert [] == missing


class TestReadmeCode:
    def test_every_python_block_runs_as_written(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each Python block of the README runs as it stands, with the environment it names
        set for the MiMo emulator, and the client it builds completes a tool loop for an
        agent that keeps no thinking (MiMo refuses that history without the pipeline)."""
        from agent.testing import Emulator, run_tool_loop

        python = blocks("python", README)
        with Emulator("mimo", rounds=3) as mimo:
            monkeypatch.setenv("ANTHROPIC_BASE_URL", mimo.base_url)
            monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-example")
            clients = []
            for block in python:
                namespace: dict[str, Any] = {}
                exec(compile(block, "README.md", "exec"), namespace)
                clients.append(namespace["client"])
            steps = run_tool_loop(
                clients[0],
                [{"role": "user", "content": "go"}],
                model="mimo-v2.5-pro",
                max_tokens=1024,
                tools=[{"name": "run", "input_schema": {"type": "object"}}],
                thinking={"type": "enabled", "budget_tokens": 512},
                store=lambda content: [b for b in content if b["type"] != "thinking"],
            )

        assert 1 == len(python)
        assert [200] * 4 == [s.status for s in steps]
        assert "end_turn" == steps[-1].stop_reason

    def test_the_settings_point_at_the_configs_provider(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The Claude Code settings the README shows reach the one provider of the README's
        config at the gateway's default address, on the Anthropic wire."""
        monkeypatch.setenv("MIMO_RELAY_API_KEY", "sk-example")
        (config,) = _loaded(tmp_path, blocks("yaml", README))
        (settings,) = blocks("json", README)
        env = json.loads(settings)["env"]
        ((name, provider),) = config.providers.items()

        assert f"http://127.0.0.1:8787/{name}" == env["ANTHROPIC_BASE_URL"]
        assert "anthropic_messages" == provider.api_mode
