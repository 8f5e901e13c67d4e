"""serve --agent-config: the gateway serves from the agent's own config (hermes' config.yaml)
and writes the copy the agent uses, every provider pointing at the gateway."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import anthropic
import pytest
import yaml

from agent.cli import main
from agent.testing import Emulator
from tests.builders import ENV, SECRET
from tests.test_config import HERMES_V12
from tests.test_gateway import TOOL, gateway_process


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """serve's calls, recorded instead of serving."""
    import agent.gateway

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(agent.gateway, "serve", lambda *args: calls.append(args))
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return calls


def _serve(tmp_path: Path, text: str, *options: str) -> tuple[int, Path]:
    config, copy = tmp_path / "config.yaml", tmp_path / "agent-side.yaml"
    config.write_text(text, encoding="utf-8")
    code = main(["serve", "--config", str(config), "--agent-config", str(copy), *options])
    return code, copy


class TestAgentSideCopy:
    def test_hermes_written_config(self, tmp_path: Path, served: list[tuple[Any, ...]]) -> None:
        """From the config hermes' migration writes: each provider's api points at the
        gateway (/v1 on the chat wire), everything else stays as hermes wrote it, 0600."""
        code, copy = _serve(tmp_path, HERMES_V12, "--port", "8799")

        written = yaml.safe_load(copy.read_text(encoding="utf-8"))
        original = yaml.safe_load(HERMES_V12)
        assert 0 == code
        assert 1 == len(served)
        assert "http://127.0.0.1:8799/mimo-relay" == written["providers"]["mimo-relay"]["api"]
        assert (
            "http://127.0.0.1:8799/deepseek-direct/v1"
            == (written["providers"]["deepseek-direct"]["api"])
        )
        for name, entry in original["providers"].items():
            entry.pop("api")
            written["providers"][name].pop("api")
        assert original == written
        assert 0o600 == stat.S_IMODE(copy.stat().st_mode)

    def test_other_urls_follow_and_tokens_become_the_key(
        self, tmp_path: Path, served: list[tuple[Any, ...]]
    ) -> None:
        """A URL elsewhere in the file that named a provider's follows it; with gateway tokens
        the agent's key settings become the first token as written (a ${VAR} stays one)."""
        text = (
            "model: {provider: custom, base_url: 'https://open.markhub.top'}\n"
            "gateway: {tokens: ['${GATEWAY_TOKEN}']}\n"
            "custom_providers:\n"
            "  - {name: relay, base_url: 'https://open.markhub.top', key_env: MIMO_RELAY_API_KEY,"
            " api_mode: anthropic_messages}\n"
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("GATEWAY_TOKEN", "gw-token")
            code, copy = _serve(tmp_path, text)

        written = yaml.safe_load(copy.read_text(encoding="utf-8"))
        assert 0 == code
        assert "http://127.0.0.1:8787/relay" == written["model"]["base_url"]
        assert {
            "name": "relay",
            "base_url": "http://127.0.0.1:8787/relay",
            "api_mode": "anthropic_messages",
            "api_key": "${GATEWAY_TOKEN}",
        } == written["custom_providers"][0]
        assert "gw-token" not in copy.read_text(encoding="utf-8")

    def test_help_says_what_it_writes(self, capsys: pytest.CaptureFixture[str]) -> None:
        """serve --help says what --agent-config writes."""
        with pytest.raises(SystemExit):
            main(["serve", "--help"])

        text = " ".join(capsys.readouterr().out.split())
        assert "--agent-config FILE" in text
        assert "http://HOST:PORT/NAME/v1 for chat_completions and responses" in text
        assert "comments are not kept" in text

    @pytest.mark.parametrize(
        ("text", "name", "message"),
        [
            (
                "providers: {loop: {base_url: 'http://127.0.0.1:8787/relay', api_mode: "
                "anthropic_messages}}\n",
                "config.yaml",
                "would call itself",
            ),
            (
                "providers: {loop: {base_url: 'http://localhost:8787/loop/v1', api_mode: "
                "chat_completions}}\n",
                "config.yaml",
                "would call itself",
            ),
            ("[providers.p]\nbase_url = 'https://x.example'\n", "config.toml", "YAML config"),
        ],
        ids=["loop", "loop-by-name", "toml"],
    )
    def test_refused(
        self,
        tmp_path: Path,
        served: list[tuple[Any, ...]],
        capsys: pytest.CaptureFixture[str],
        text: str,
        name: str,
        message: str,
    ) -> None:
        """A provider that is the gateway itself, or a TOML config, is refused: exit 1,
        nothing served, nothing written."""
        config = tmp_path / name
        config.write_text(text, encoding="utf-8")

        code = main(["serve", "--config", str(config), "--agent-config", str(tmp_path / "a.yaml")])

        assert (1, []) == (code, served)
        assert message in capsys.readouterr().err
        assert not (tmp_path / "a.yaml").exists()

    def test_never_over_its_own_config(
        self, tmp_path: Path, served: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--agent-config naming --config itself is refused (the gateway reads it)."""
        config = tmp_path / "config.yaml"
        config.write_text(HERMES_V12, encoding="utf-8")

        code = main(["serve", "--config", str(config), "--agent-config", str(config)])

        assert (1, []) == (code, served)
        assert "must not overwrite --config" in capsys.readouterr().err
        assert HERMES_V12 == config.read_text(encoding="utf-8")


class TestOneFileForHermes:
    def test_a_tool_loop_through_the_copy(self, tmp_path: Path) -> None:
        """The gateway serves hermes' own config (its relay the MiMo emulator); an agent that
        keeps no thinking, calling the URL the copy gives it, completes its tool loop."""
        with Emulator("mimo") as mimo:
            config = tmp_path / "config.yaml"
            config.write_text(
                HERMES_V12.replace("https://open.markhub.top", mimo.base_url)
                .replace("key_env: MIMO_RELAY_API_KEY", f"api_key: {SECRET}")
                .replace("${DEEPSEEK_API_KEY}", "unused"),
                encoding="utf-8",
            )
            copy = tmp_path / "hermes-gateway.yaml"
            with gateway_process(config, "--agent-config", str(copy)):
                url = yaml.safe_load(copy.read_text())["providers"]["mimo-relay"]["api"]
                calls = _lossy_loop(url)

        assert 4 == calls
        assert all(r.status == 200 for r in mimo.log)


def _lossy_loop(base_url: str) -> int:
    """A hermes-like agent on the anthropic SDK that keeps no thinking; its tool calls."""
    client = anthropic.Anthropic(base_url=base_url, api_key="agent-side", max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "go"}]
    calls = 0
    for _ in range(6):
        reply = client.messages.create(
            model="mimo-v2.5-pro",
            max_tokens=100,
            messages=messages,
            tools=[TOOL],
            thinking={"type": "enabled", "budget_tokens": 50},
        )
        kept = [b.model_dump() for b in reply.content if b.type != "thinking"]
        messages.append({"role": "assistant", "content": kept})
        uses = [b["id"] for b in kept if b["type"] == "tool_use"]
        if not uses:
            return calls
        calls += len(uses)
        results = [{"type": "tool_result", "tool_use_id": i, "content": "ok"} for i in uses]
        messages.append({"role": "user", "content": results})
    return calls
