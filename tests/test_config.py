"""Config files: good ones load in both formats, every kind of bad one fails at load, clearly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from agent import ConfigError, Pipeline, Request, load_config
from agent.sqlite_store import SqliteStore
from agent.store import MemoryStore
from tests.builders import ENV, EXAMPLES, SECRET, A, T, U, anthropic_body, th_u, tu


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The example configs' key variables, set to recognisable secrets."""
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return ENV


def write(tmp_path: Path, text: str, name: str = "agent.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


class TestGoodConfigs:
    @pytest.mark.parametrize(
        "name",
        ["hermes-mimo-relay.yaml", "multi-family.yaml", "multi-family.toml"],
        ids=["hermes-yaml", "multi-family-yaml", "multi-family-toml"],
    )
    def test_examples_load(self, name: str, env: dict[str, str]) -> None:
        """Every example config loads and builds a pipeline for each provider."""
        config = load_config(EXAMPLES / name)

        for provider in config.providers:
            assert Pipeline.from_config(config, provider).middleware

    def test_yaml_and_toml_agree(self, env: dict[str, str]) -> None:
        """The same provider reads the same from YAML and from TOML."""
        yaml_config = load_config(EXAMPLES / "multi-family.yaml")
        toml_config = load_config(EXAMPLES / "multi-family.toml")

        for name in ("deepseek", "mimo-relay", "house"):
            a, b = yaml_config.provider(name), toml_config.provider(name)
            assert (a.base_url, a.model, a.api_mode, a.family, a.api_key) == (
                b.base_url,
                b.model,
                b.api_mode,
                b.family,
                b.api_key,
            )

    def test_hermes_custom_providers(self, env: dict[str, str]) -> None:
        """A hermes custom_providers entry is a provider; hermes' own keys are left alone."""
        config = load_config(EXAMPLES / "hermes-mimo-relay.yaml")

        provider = config.provider("mimo-relay")
        assert ("https://open.markhub.top", "mimo-v2.5-pro", "anthropic_messages") == (
            provider.base_url,
            provider.model,
            provider.api_mode,
        )
        assert SECRET == provider.api_key
        assert "env MIMO_RELAY_API_KEY" == provider.api_key_source

    def test_defaults(self, tmp_path: Path) -> None:
        """An empty file means the default chain, no providers, a memory store."""
        config = load_config(write(tmp_path, ""))

        assert ("tool_pairing", "thinking_round_trip") == tuple(m.name for m in config.middleware)
        assert {} == dict(config.providers)
        assert isinstance(config.store, MemoryStore)

    def test_loading_opens_no_store(self, tmp_path: Path) -> None:
        """Loading (as `check` does) and building a pipeline create no store file; the first
        observed response does, readable by its owner only."""
        config = load_config(write(tmp_path, "store: {sqlite: {path: thinking.db}}"))
        pipe = config.pipeline()
        request = Request(
            api="anthropic_messages",
            base_url="https://open.markhub.top",
            body=anthropic_body("mimo-v2.5-pro", U()),
        )
        pipe(request)

        assert not (tmp_path / "thinking.db").exists()
        pipe.observe(request, {"type": "message", "content": [th_u("plan", ""), tu("c1")]})
        assert 0o600 == (tmp_path / "thinking.db").stat().st_mode & 0o777

    def test_sqlite_store_relative_to_config(self, tmp_path: Path) -> None:
        """A sqlite store's relative path is taken from the config file's folder."""
        config = load_config(write(tmp_path, "store: {sqlite: {path: thinking.db}}"))

        assert isinstance(config.store, SqliteStore)
        assert str(tmp_path / "thinking.db") == config.store.path

    def test_interpolation(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """${VAR} is replaced in provider strings, including inside a longer value."""
        monkeypatch.setenv("RELAY_HOST", "relay.example.com")
        monkeypatch.setenv("RELAY_KEY", "k-123")
        config = load_config(
            write(
                tmp_path,
                """
            providers:
              r:
                base_url: https://${RELAY_HOST}/anthropic
                api_key: ${RELAY_KEY}
        """,
            )
        )

        assert "https://relay.example.com/anthropic" == config.provider("r").base_url
        assert "k-123" == config.provider("r").api_key


class TestChainCombination:
    CONFIG = """
        middleware:
          - tool_pairing
          - thinking_round_trip: {foreign: keep_text}
        providers:
          inherit: {model: m}
          override:
            middleware:
              - thinking_round_trip: {on_missing_loop_thinking: raise}
          remove:
            middleware:
              - tool_pairing: false
          replace:
            middleware_replace: true
            middleware: [thinking_round_trip]
    """

    @pytest.mark.parametrize(
        ("provider", "chain"),
        [
            ("inherit", ["tool_pairing", "thinking_round_trip(foreign='keep_text')"]),
            (
                "override",
                [
                    "tool_pairing",
                    "thinking_round_trip(foreign='keep_text', on_missing_loop_thinking='raise')",
                ],
            ),
            ("remove", ["thinking_round_trip(foreign='keep_text')"]),
            ("replace", ["thinking_round_trip"]),
        ],
        ids=["inherit", "override", "remove", "replace"],
    )
    def test_provider_list_combines(self, tmp_path: Path, provider: str, chain: list[str]) -> None:
        """A provider's list merges into the global one by name; replacing must be asked for."""
        config = load_config(write(tmp_path, self.CONFIG))

        assert chain == [m.describe() for m in config.chain_for(provider)]

    def test_one_store_for_all_providers(self, tmp_path: Path) -> None:
        """Every provider's pipeline shares the config's store (provenance across a switch)."""
        config = load_config(write(tmp_path, self.CONFIG))

        stores = {
            id(Pipeline.from_config(config, p).middleware[-1].store)  # type: ignore[attr-defined]
            for p in config.providers
        }

        assert {id(config.store)} == stores


class TestFamilyOverride:
    def test_provider_family_changes_what_is_sent(self, tmp_path: Path) -> None:
        """family: mimo on a provider writes an unknown model's thinking the MiMo way; without
        it the thinking goes as the agent sent it."""
        config = load_config(
            write(
                tmp_path,
                """
            providers:
              plain: {base_url: "https://llm.example.com", api_mode: anthropic_messages}
              house: {base_url: "https://llm.example.com", api_mode: anthropic_messages,
                      family: mimo}
        """,
            )
        )
        body = anthropic_body("house-model-1", U(), A(th_u("plan"), tu("c1")), T("c1"))
        request = Request(api="anthropic_messages", base_url="https://llm.example.com", body=body)

        plain = Pipeline.from_config(config, "plain")(request)
        house = Pipeline.from_config(config, "house")(request)

        assert plain is request
        assert [th_u("plan", ""), tu("c1")] == house.body["messages"][1]["content"]

    def test_config_family_definition_is_used(self, tmp_path: Path) -> None:
        """A family added in the file is detected and its contract applied."""
        config = load_config(
            write(
                tmp_path,
                """
            families:
              - name: acme
                models: ["acme-*"]
                chat: {reasoning_content: keep, pad: ".", pad_on: [tool_calls]}
        """,
            )
        )
        body = {
            "model": "acme-2",
            "messages": [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        }

        out = Pipeline.from_config(config)(Request(api="chat_completions", body=body))

        assert "." == out.body["messages"][1]["reasoning_content"]


BAD_CONFIGS: dict[str, tuple[str, str]] = {
    "unknown-middleware": ("middleware: [thinking_roundtrip]", ""),
    "unknown-option": ("middleware: [{thinking_round_trip: {foriegn: pad}}]", ""),
    "bad-option-value": ("middleware: [{thinking_round_trip: {foreign: maybe}}]", ""),
    "wrong-option-type": ("middleware: [{thinking_round_trip: {restore: 'yes'}}]", ""),
    "wrong-list-type": ("middleware: [{thinking_round_trip: {trusted_models: 5}}]", ""),
    "middleware-not-a-list": ("middleware: thinking_round_trip", ""),
    "middleware-two-keys": ("middleware: [{tool_pairing: {}, thinking_round_trip: {}}]", ""),
    "unknown-family": ("providers: {p: {family: mimi}}", ""),
    "bad-family-pattern": ("families: [{name: x, models: ['a/b']}]", ""),
    "bad-family-contract": (
        "families: [{name: x, models: [x-*], anthropic: {thinking: maybe}}]",
        "",
    ),
    "family-without-patterns": ("families: [{name: x}]", ""),
    "missing-provider-name": ("custom_providers: [{base_url: 'https://a.example'}]", ""),
    "wrong-type-base-url": ("providers: {p: {base_url: 5}}", ""),
    "unparseable-base-url": ("providers: {p: {base_url: 'http://[::1'}}", ""),
    "base-url-not-a-url": ("providers: {p: {base_url: 'not a url'}}", ""),
    "bad-api-mode": ("providers: {p: {api_mode: completions}}", ""),
    "secret-of-wrong-type": ("providers: {p: {api_key: 123456789}}", ""),
    "missing-env-var": ("providers: {p: {api_key: '${NOT_SET_ANYWHERE_42}'}}", ""),
    "missing-key-env": ("providers: {p: {api_key_env: NOT_SET_ANYWHERE_42}}", ""),
    "provider-key-typo": ("providers: {p: {api_mdoe: chat_completions}}", ""),
    "top-level-typo": ("middelware: [tool_pairing]", ""),
    "duplicate-provider": ("providers: {p: {}}\ncustom_providers: [{name: p}]", ""),
    "providers-not-a-collection": ("providers: mimo", ""),
    "store-unknown": ("store: postgres", ""),
    "store-bad-max-turns": ("store: {memory: {max_turns: 0}}", ""),
    "store-sqlite-no-path": ("store: {sqlite: {}}", ""),
    "yaml-syntax": ("providers:\n  p: {api_key: sk-live-THIS-MUST-NEVER-SHOW-4242\n", ""),
    "toml-syntax": ("[providers.p]\napi_key = sk-live-THIS-MUST-NEVER-SHOW-4242\n", ".toml"),
    "toml-wrong-type": ("[providers.p]\nbase_url = 5\n", ".toml"),
    "unknown-extension": ("{}", ".json"),
}


class TestBadConfigs:
    def test_every_message(self, tmp_path: Path, case_snapshot: SnapshotAssertion) -> None:
        """Each kind of bad config fails at load naming file, entry and problem (pinned)."""
        messages = {}
        for case, (text, suffix) in BAD_CONFIGS.items():
            path = write(tmp_path, text, f"agent{suffix or '.yaml'}")
            with pytest.raises(ConfigError) as info:
                load_config(path)
            message = str(info.value)
            assert message.startswith(str(path)), message
            assert SECRET not in message
            messages[case] = message.replace(str(path), "CONFIG")

        assert messages == case_snapshot(name="config-errors")

    def test_errors_carry_fields(self, tmp_path: Path) -> None:
        """A config error carries the file, line, entry and problem as fields."""
        path = write(tmp_path, "providers:\n  p: {api_mode: completions}\n")

        with pytest.raises(ConfigError) as info:
            load_config(path)

        error = info.value
        assert (str(path), 2, "providers.p.api_mode") == (error.file, error.line, error.entry)
        assert error.problem.startswith("'completions' is not one of")

    def test_lines_are_named(self, tmp_path: Path) -> None:
        """A YAML error names the line of the entry at fault."""
        path = write(
            tmp_path,
            """
            providers:
              good: {model: m}
              bad:
                model: m
                api_mode: completions
        """,
        )

        with pytest.raises(ConfigError, match=r"agent\.yaml:6: providers\.bad\.api_mode"):
            load_config(path)


class TestSecrets:
    def test_no_secret_in_reprs(self, env: dict[str, str]) -> None:
        """Config objects never show the key in their repr."""
        config = load_config(EXAMPLES / "multi-family.yaml")

        assert SECRET not in repr(config)
        assert SECRET not in repr(config.providers)


class TestUnreadableConfigs:
    @pytest.mark.parametrize(
        ("name", "data", "text"),
        [
            ("agent.yaml", b"providers: {p: {model: \xff}}", "not UTF-8"),
            ("agent.yaml", b"a: " + b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
            ("agent.toml", b"a = " + b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),
            ("agent.yaml", b"providers:\n  p: {model: a}\n  p: {model: b}\n", "duplicate key 'p'"),
        ],
        ids=["not-utf8", "deep-yaml", "deep-toml", "duplicate-key"],
    )
    def test_named_error_at_load(self, tmp_path: Path, name: str, data: bytes, text: str) -> None:
        """A file that is no config fails at load with a ConfigError, never a raw exception,
        and a duplicate key is an error rather than silently last-wins."""
        path = tmp_path / name
        path.write_bytes(data)

        with pytest.raises(ConfigError, match=text):
            load_config(path)

    def test_a_key_under_api_key_env_is_not_echoed(self, tmp_path: Path) -> None:
        """A key written under api_key_env by mistake fails without the key in the message."""
        path = write(tmp_path, f"providers: {{p: {{api_key_env: '{SECRET}'}}}}")

        with pytest.raises(ConfigError) as info:
            load_config(path)

        assert SECRET not in str(info.value)
        assert "name of an environment variable" in str(info.value)


def _bomb(levels: int) -> str:
    """A "billion laughs" of ``levels`` anchored levels (9**levels strings), as one value."""
    out = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    out += [f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "[" + ", ".join(out) + "]"


class TestYamlAliases:
    @pytest.mark.parametrize(
        "field",
        [
            "families: [{{name: {B}, models: [x]}}]",
            "families: [{{name: x, models: [x], anthropic: {{keep_all_from: {{opus: {B}}}}}}}]",
            "families: [{{name: x, models: [x], anthropic: {{keep_all_from: {B}}}}}]",
            "providers: {{p: {{model: {B}}}}}",
            "terminal: {B}",
        ],
        ids=["family-name", "keep-all-from-value", "keep-all-from", "provider-model", "foreign"],
    )
    def test_a_bomb_is_refused_before_any_field_reads_it(self, tmp_path: Path, field: str) -> None:
        """An alias bomb (here 9**6 values; a real one has billions) is refused whole, with its
        line, before any field's check could expand it (a family name was repr'd whole)."""
        path = write(tmp_path, field.format(B=_bomb(6)))

        with pytest.raises(ConfigError, match="aliases here expand to more than 10,000") as info:
            load_config(path)

        assert ("", 1) == (info.value.entry, info.value.line)

    def test_shared_defaults_still_load(self, tmp_path: Path) -> None:
        """Anchors used as they are meant (a defaults block merged into each provider) load."""
        providers = "\n".join(f"  p{n}: {{<<: *base, model: m{n}}}" for n in range(50))
        path = write(
            tmp_path,
            "x-defaults: &base {base_url: 'https://x.example', api_mode: anthropic_messages}\n"
            f"providers:\n{providers}\n",
        )

        config = load_config(path)

        assert 50 == len(config.providers)
        assert {"anthropic_messages"} == {p.api_mode for p in config.providers.values()}

    def test_a_value_holding_itself_is_refused(self, tmp_path: Path) -> None:
        """An anchored collection that holds an alias of itself is refused at load."""
        path = write(tmp_path, "middleware: &m [tool_pairing, *m]\n")

        with pytest.raises(ConfigError, match="refers to the collection it is in"):
            load_config(path)


class TestStorePaths:
    @pytest.mark.parametrize(
        ("path", "problem"),
        [
            (".", "not a regular file"),
            ("missing/t.db", "folder does not exist"),
            ("corrupt.db", "not a SQLite database"),
            ("../t.db", "must not climb out"),
        ],
        ids=["a-folder", "missing-folder", "corrupt-file", "dot-dot"],
    )
    def test_bad_store_paths_fail_at_load(self, tmp_path: Path, path: str, problem: str) -> None:
        """A sqlite store path that cannot hold a store fails at load, naming the entry."""
        (tmp_path / "corrupt.db").write_bytes(b"no database")
        config = write(tmp_path, f"store: {{sqlite: {{path: '{path}'}}}}")

        with pytest.raises(ConfigError, match=rf"store\.sqlite\.path: .*{problem}"):
            load_config(config)
