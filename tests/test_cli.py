"""The command line, called in-process as ``main(argv)``; one smoke test runs the real thing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from attrs import frozen

from agent.cli import main
from tests.builders import ENV, ROOT, SECRET


@frozen
class Result:
    """What one command did."""

    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``main(argv)`` in the project folder with ``env`` added and ``unset`` removed."""

    def run(*args: str, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> Result:
        monkeypatch.chdir(ROOT)
        for name in unset:
            monkeypatch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exits (--help, usage errors)
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


class TestCommands:
    def test_check(self, cli: Cli) -> None:
        """check prints each provider's family, the rule that matched, and its chain."""
        result = cli("check", "examples/multi-family.yaml", env=ENV)

        assert 0 == result.returncode, result.stderr
        assert "house: anthropic_messages" in result.stdout
        assert "family:  mimo by explicit rule" in result.stdout
        assert "family:  deepseek by model rule" in result.stdout
        assert "chain:   thinking_round_trip" in result.stdout  # strict-gateway removed one

    def test_check_shows_gateway_options(self, cli: Cli, tmp_path: Path) -> None:
        """A provider's gateway options are shown (text and JSON), and only when set."""
        path = tmp_path / "g.yaml"
        path.write_text(
            "providers:\n  a: {model: claude-opus-4-6, upstream_timeout: 30,"
            " forward_client_key: true}\n  b: {model: claude-opus-4-6}\n"
        )

        text = cli("check", str(path)).stdout
        record = json.loads(cli("check", "--json", str(path)).stdout)

        assert 1 == text.count("gateway: waits 30 s; sends the client's own key upstream")
        assert "gateway (serve): 0 token(s), bodies up to 32000000 bytes, 600 s upstream" in text
        said = {k: record["gateway"][k] for k in ("tokens", "max_body_bytes", "timeout")}
        assert {"tokens": 0, "max_body_bytes": 32_000_000, "timeout": 600.0} == said
        assert "set apart from the defaults" not in text
        assert [(30.0, True), (None, False)] == [
            (p["upstream_timeout"], p["forward_client_key"]) for p in record["providers"]
        ]

    def test_check_names_every_gateway_setting(self, cli: Cli, tmp_path: Path) -> None:
        """Every setting serve reads is in ``check --json`` (tokens counted, never shown);
        the text names those set apart from their defaults."""
        path = tmp_path / "g.yaml"
        path.write_text(
            "providers:\n  a: {model: claude-opus-4-6}\n"
            "gateway: {tokens: [tok-secret-1], max_headers: 50, idle_timeout: 30, metrics: true}\n"
        )

        text = cli("check", str(path)).stdout
        record = json.loads(cli("check", "--json", str(path)).stdout)["gateway"]

        assert (
            "set apart from the defaults: idle_timeout 30.0, max_headers 50, metrics True" in text
        )
        assert (1, 50, 30.0, True, 10.0) == (
            record["tokens"],
            record["max_headers"],
            record["idle_timeout"],
            record["metrics"],
            record["header_timeout"],
        )
        assert "tok-secret-1" not in text + json.dumps(record)

    def test_check_json(self, cli: Cli) -> None:
        """check --json is machine-readable."""
        result = cli("check", "--json", "examples/hermes-mimo-relay.yaml", env=ENV)

        record = json.loads(result.stdout)
        assert [("mimo-relay", "mimo", "model")] == [
            (p["name"], p["family"], p["rule"]) for p in record["providers"]
        ]

    def test_preview_with_config(self, cli: Cli) -> None:
        """preview --config --provider uses the provider's wire, host and chain."""
        result = cli(
            "preview",
            "--json",
            "--config",
            "examples/hermes-mimo-relay.yaml",
            "--provider",
            "mimo-relay",
            "examples/mimo-relay-tool-loop.json",
            env=ENV,
        )

        assert 0 == result.returncode, result.stderr
        out = json.loads(result.stdout)
        assert {"type": "thinking", "thinking": " ", "signature": ""} == out["body"]["messages"][3][
            "content"
        ][0]
        assert "mimo" == out["explain"]["family"]

    def test_families(self, cli: Cli) -> None:
        """families lists built-ins, the config's additions and overrides, and the fallback."""
        result = cli("families", "--json", "--config", "examples/multi-family.yaml", env=ENV)

        everything = json.loads(result.stdout)
        records = {r["name"]: r["origin"] for r in everything if r["kind"] == "family"}
        dialects = {r["name"]: r["carrier"] for r in everything if r["kind"] == "dialect"}
        assert "config" == records["acme"]
        assert ("reasoning", "pair", "agent") == (
            dialects["vllm"],
            dialects["copilot"],
            dialects["unknown"],
        )
        assert "built-in, overridden by config" == records["glm"]
        assert "fallback" == records["unknown"]

    @pytest.mark.parametrize(
        ("args", "code", "text"),
        [
            (("check", "examples/nope.yaml"), 1, "cannot read"),
            (("check", "examples/hermes-mimo-relay.yaml"), 1, "MIMO_RELAY_API_KEY is not set"),
            (
                ("preview", "--provider", "x", "examples/mimo-relay-tool-loop.json"),
                2,
                "--provider needs --config",
            ),
            (("preview", "examples/multi-family.yaml"), 1, "not valid JSON"),
            (("frobnicate",), 2, "invalid choice"),
        ],
        ids=[
            "unreadable-file",
            "missing-env-key",
            "provider-without-config",
            "body-not-json",
            "unknown-command",
        ],
    )
    def test_errors_exit_codes(self, cli: Cli, args: tuple[str, ...], code: int, text: str) -> None:
        """Errors give a one-line message and a meaningful exit code, never a traceback."""
        result = cli(*args, unset=tuple(ENV))

        assert code == result.returncode
        assert text in result.stderr
        assert "Traceback" not in result.stderr

    @pytest.mark.parametrize(
        "command", ["preview", "check", "families"], ids=["preview", "check", "families"]
    )
    def test_help(self, cli: Cli, command: str) -> None:
        """Every command has --help with its exit codes."""
        result = cli(command, "--help")

        assert 0 == result.returncode
        assert "Exit codes" in " ".join(result.stdout.split())

    def test_no_secret_in_any_output(self, cli: Cli) -> None:
        """No command prints an api key, in text or JSON."""
        outputs = []
        for args in (
            ("check", "examples/multi-family.yaml"),
            ("check", "--json", "examples/multi-family.yaml"),
            ("families", "--config", "examples/multi-family.yaml"),
            (
                "preview",
                "--config",
                "examples/multi-family.yaml",
                "--provider",
                "mimo-relay",
                "examples/mimo-relay-tool-loop.json",
            ),
            (
                "preview",
                "--json",
                "--config",
                "examples/hermes-mimo-relay.yaml",
                "--provider",
                "mimo-relay",
                "examples/mimo-relay-tool-loop.json",
            ),
        ):
            result = cli(*args, env=ENV)
            assert 0 == result.returncode, result.stderr
            outputs.append(result.stdout + result.stderr)

        assert all(SECRET not in out for out in outputs)


class TestBadBodies:
    def test_nan_is_not_json(self, cli: Cli, tmp_path: Path) -> None:
        """A body holding NaN (Python's, not JSON's) is rejected with exit 1, not echoed."""
        body = tmp_path / "body.json"
        body.write_text('{"model": "m", "messages": [], "temperature": NaN}')

        result = cli("preview", "--json", str(body))

        assert 1 == result.returncode
        assert "NaN is not a JSON value" in result.stderr
        assert "" == result.stdout


class TestInstalled:
    def test_python_dash_m(self) -> None:
        """``python -m agent`` runs as a real process (the one subprocess smoke test)."""
        result = subprocess.run(
            [sys.executable, "-m", "agent", "families", "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

        assert 0 == result.returncode, result.stderr
        assert ("dialect", "unknown") == tuple(
            json.loads(result.stdout)[-1][k] for k in ("kind", "name")
        )

    def test_console_script(self) -> None:
        """The thinking-round-trip console script (named like the distribution) is installed
        and answers --help."""
        script = shutil.which("thinking-round-trip", path=os.path.dirname(sys.executable))
        assert script is not None

        result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)

        assert 0 == result.returncode
        assert "demo" in result.stdout
        assert "check" in result.stdout


class TestUnreadableBodies:
    @pytest.mark.parametrize(
        ("data", "text"),
        [
            (b"\xff\xfe{\x00}\x00", "not UTF-8"),
            (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
            (b'{"model": "m", "messages": [], "x": "\\ud800"}', "lone surrogate"),
        ],
        ids=["utf-16", "deep", "lone-surrogate"],
    )
    def test_bad_bodies_exit_1(self, cli: Cli, tmp_path: Path, data: bytes, text: str) -> None:
        """A body that is no JSON text gets one line and exit 1, never a traceback or 70."""
        body = tmp_path / "body.json"
        body.write_bytes(data)

        result = cli("preview", str(body))

        assert 1 == result.returncode
        assert text in result.stderr


class TestCheck:
    def test_config_as_option_or_argument(self, cli: Cli) -> None:
        """check takes its config as CONFIG or as --config CONFIG, one of them."""
        given = cli("check", "--json", "examples/multi-family.yaml", env=ENV)
        option = cli("check", "--json", "--config", "examples/multi-family.yaml", env=ENV)
        neither = cli("check")
        both = cli("check", "examples/multi-family.yaml", "--config", "examples/hermes.yaml")

        assert (0, 0, 2, 2) == tuple(r.returncode for r in (given, option, neither, both))
        assert json.loads(given.stdout) == json.loads(option.stdout)
        assert "check needs one config" in neither.stderr

    def test_every_missing_variable_at_once(self, cli: Cli) -> None:
        """check names all four variables the example needs in one error line, exit 1."""
        result = cli("check", "examples/multi-family.yaml", unset=tuple(ENV))

        assert 1 == result.returncode
        assert 1 == len(result.stderr.splitlines())
        assert all(name in result.stderr for name in ENV)

    def test_no_env(self, cli: Cli) -> None:
        """check --no-env validates without the secrets' variables and names those not set."""
        result = cli("check", "--no-env", "examples/multi-family.yaml", unset=tuple(ENV))
        record = json.loads(
            cli(
                "check", "--no-env", "--json", "examples/multi-family.yaml", unset=tuple(ENV)
            ).stdout
        )

        assert 0 == result.returncode, result.stderr
        assert "ok without its environment (ANTHROPIC_API_KEY, DEEPSEEK_API_KEY" in result.stdout
        assert "api key: from env KIMI_API_KEY, which is not set here" in result.stdout
        assert set(ENV) == {m["variable"] for m in record["missing_env"]}

    def test_says_which_host_each_provider_calls(self, cli: Cli) -> None:
        """check says the host each provider calls and how its wire was decided."""
        record = json.loads(cli("check", "--json", "examples/multi-family.yaml", env=ENV).stdout)
        text = cli("check", "examples/multi-family.yaml", env=ENV).stdout

        calls = {p["name"]: p["calls"] for p in record["providers"]}
        assert "api.anthropic.com (anthropic's own endpoint)" == calls["claude"]
        assert "open.markhub.top" == calls["mimo-relay"]
        assert "  calls:   api.deepseek.com\n  wire:    chat_completions, set\n" in text

    def test_an_assumed_wire_is_a_warning(self, cli: Cli, tmp_path: Path) -> None:
        """A provider whose wire is assumed gets one warning on stderr naming api_mode, and
        check says 'assumed'."""
        path = tmp_path / "a.yaml"
        path.write_text("providers: {relay: {base_url: 'https://relay.example/v1'}}\n")

        result = cli("check", str(path))

        assert 0 == result.returncode
        assert "  wire:    chat_completions, assumed (not set)" in result.stdout
        assert 1 == result.stderr.count("warning: ")
        assert "providers.relay: api_mode is not set" in result.stderr


class TestPreviewWire:
    def test_the_body_says_its_wire(self, cli: Cli) -> None:
        """A chat body without --api is run as chat_completions: its reasoning_content is
        padded, and no Anthropic thinking block appears in a chat message."""
        result = cli("preview", "--json", "examples/deepseek-chat-tool-loop.json")

        assert 0 == result.returncode, result.stderr
        out = json.loads(result.stdout)
        assert "chat_completions" == out["explain"]["api"]
        assert " " == out["body"]["messages"][1]["reasoning_content"]
        assert all(isinstance(m.get("content"), str | None) for m in out["body"]["messages"])

    @pytest.mark.parametrize(
        "args",
        [
            ("--api", "anthropic_messages", "examples/deepseek-chat-tool-loop.json"),
            ("--api", "chat_completions", "examples/mimo-relay-tool-loop.json"),
            (
                *("--config", "examples/multi-family.yaml", "--provider", "deepseek"),
                "examples/mimo-relay-tool-loop.json",
            ),
        ],
        ids=["chat-body-as-anthropic", "anthropic-body-as-chat", "provider-wire"],
    )
    def test_a_body_for_another_wire_is_refused(self, cli: Cli, args: tuple[str, ...]) -> None:
        """A body written for one wire, sent as another, is refused naming both (exit 1)."""
        result = cli("preview", *args, env=ENV)

        assert 1 == result.returncode
        assert "the body is written for" in result.stderr
        assert "" == result.stdout
