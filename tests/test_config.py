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


#: A provider entry, the least a config needs.
PROVIDER = "providers: {p: {base_url: 'https://llm.example.com', api_mode: chat_completions}}\n"


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
        """A file with one provider and nothing else means the default chain and a memory
        store."""
        config = load_config(write(tmp_path, PROVIDER))

        assert ("tool_pairing", "thinking_round_trip") == tuple(m.name for m in config.middleware)
        assert ["p"] == list(config.providers)
        assert isinstance(config.store, MemoryStore)

    def test_loading_opens_no_store(self, tmp_path: Path) -> None:
        """Loading (as `check` does) and building a pipeline create no store file; the first
        observed response does, readable by its owner only."""
        config = load_config(write(tmp_path, PROVIDER + "store: {sqlite: {path: thinking.db}}"))
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
        config = load_config(write(tmp_path, PROVIDER + "store: {sqlite: {path: thinking.db}}"))

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
          inherit: {base_url: "https://llm.example.com", model: m}
          override:
            base_url: https://llm.example.com
            middleware:
              - thinking_round_trip: {on_missing_loop_thinking: raise}
          remove:
            base_url: https://llm.example.com
            middleware:
              - tool_pairing: false
          replace:
            base_url: https://llm.example.com
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
            providers: {acme: {base_url: "https://acme.example", api_mode: chat_completions}}
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


URL = "base_url: 'https://x.example'"
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
    "base-url-without-scheme": ("providers: {p: {base_url: open.markhub.top}}", ""),
    "base-url-missing": ("providers: {p: {model: mimo-v2.5-pro}}", ""),
    "base-url-missing-no-model": ("providers: {p: {api_mode: anthropic_messages}}", ""),
    "base-url-two-names": (f"providers: {{p: {{{URL}, api: 'https://y.example'}}}}", ""),
    "no-providers": ("store: memory", ""),
    "providers-empty": ("providers:\n", ""),
    "hermes-key-cmd": (f"providers: {{p: {{{URL}, key_cmd: 'pass show relay'}}}}", ""),
    "hermes-extra-headers": (f"providers: {{p: {{{URL}, extra_headers: {{X-A: b}}}}}}", ""),
    "hermes-unknown-transport": (f"providers: {{p: {{{URL}, transport: codex_app_server}}}}", ""),
    "bad-api-mode": ("providers: {p: {api_mode: completions}}", ""),
    "secret-of-wrong-type": ("providers: {p: {api_key: 123456789}}", ""),
    "missing-env-var": (f"providers: {{p: {{api_key: '${{NOT_SET_ANYWHERE_42}}', {URL}}}}}", ""),
    "missing-key-env": (f"providers: {{p: {{api_key_env: NOT_SET_ANYWHERE_42, {URL}}}}}", ""),
    "missing-env-vars": (
        f"providers: {{p: {{api_key_env: NOT_SET_ANYWHERE_42, {URL}}},"
        f" q: {{api_key: '${{NOT_SET_ANYWHERE_43}}', {URL}}}}}\n"
        "gateway: {tokens: ['${NOT_SET_ANYWHERE_44}']}",
        "",
    ),
    "provider-key-typo": ("providers: {p: {api_mdoe: chat_completions}}", ""),
    "top-level-typo": ("middelware: [tool_pairing]", ""),
    "duplicate-provider": (
        f"providers: {{p: {{{URL}}}}}\ncustom_providers: [{{name: p, {URL}}}]",
        "",
    ),
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
              good: {model: m, base_url: "https://llm.example.com"}
              bad:
                model: m
                api_mode: completions
        """,
        )

        with pytest.raises(ConfigError, match=r"agent\.yaml:6: providers\.bad\.api_mode"):
            load_config(path)


#: ~/.hermes/config.yaml as hermes' own migration to config version 12 writes it (hermes-agent
#: hermes_cli/config_migrations.py ``_migrate_to_12`` with hermes_cli/config.py
#: ``_custom_provider_entry_to_provider_config``, dumped by its ``atomic_yaml_write``:
#: ``yaml.dump(..., default_flow_style=False, sort_keys=False)``) from the legacy list
#: ``custom_providers: [{name: MiMo Relay, base_url: ..., key_env: ..., model: ..., api_mode:
#: anthropic_messages, models: [mimo-v2.5-pro]}, {name: DeepSeek (direct), base_url: ...,
#: api_key: ${DEEPSEEK_API_KEY}, model: deepseek-v4-pro}]``: the URL becomes ``api``, the model
#: ``default_model``, the wire ``transport``, keyed by the kebab-cased name.
HERMES_V12 = """\
model:
  default: mimo-v2.5-pro
  provider: custom:mimo-relay
_config_version: 12
providers:
  mimo-relay:
    api: https://open.markhub.top
    name: MiMo Relay
    key_env: MIMO_RELAY_API_KEY
    models:
      mimo-v2.5-pro: {}
    default_model: mimo-v2.5-pro
    transport: anthropic_messages
  deepseek-direct:
    api: https://api.deepseek.com/v1
    name: DeepSeek (direct)
    api_key: ${DEEPSEEK_API_KEY}
    default_model: deepseek-v4-pro
"""


class TestHermesConfig:
    def test_the_migrated_mapping_is_read_right(
        self, tmp_path: Path, env: dict[str, str], caplog: pytest.LogCaptureFixture
    ) -> None:
        """hermes' providers: mapping, as its migration writes it, keeps its URL (api), wire
        (transport), model (default_model) and key (key_env); the entry without a transport
        is assumed chat_completions, with a warning naming api_mode."""
        config = load_config(write(tmp_path, HERMES_V12))

        relay, deepseek = config.provider("mimo-relay"), config.provider("deepseek-direct")
        assert (
            "https://open.markhub.top",
            "anthropic_messages",
            "mimo-v2.5-pro",
            ENV["MIMO_RELAY_API_KEY"],
            "set (as transport)",
        ) == (relay.base_url, relay.api_mode, relay.model, relay.api_key, relay.api_mode_rule)
        assert ("https://api.deepseek.com/v1", "chat_completions", "deepseek-v4-pro") == (
            deepseek.base_url,
            deepseek.api_mode,
            deepseek.model,
        )
        assert ENV["DEEPSEEK_API_KEY"] == deepseek.api_key
        assert 1 == len(config.warnings)
        assert "providers.deepseek-direct: api_mode is not set" in config.warnings[0]
        assert config.warnings[0] in caplog.text

    def test_the_relay_gets_the_mimo_contract(self, tmp_path: Path, env: dict[str, str]) -> None:
        """The relay read from hermes' mapping is served as MiMo at its own host (not as the
        openai family at api.openai.com)."""
        config = load_config(write(tmp_path, HERMES_V12))
        body = anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1"))
        provider = config.provider("mimo-relay")
        request = Request(api=provider.api_mode, base_url=provider.base_url, body=body)

        explanation = config.pipeline("mimo-relay").explain(request)

        assert ("mimo", "open.markhub.top") == (
            explanation.target.family.name,
            explanation.target.host,
        )

    def test_codex_responses_and_disabled_entries(self, tmp_path: Path) -> None:
        """hermes' codex_responses is the responses wire; an entry with enabled: false is left
        out, as hermes leaves it out."""
        config = load_config(
            write(
                tmp_path,
                """
            custom_providers:
              - {name: codex, base_url: "https://api.openai.com/v1", api_mode: codex_responses,
                 model: gpt-5}
              - {name: off, base_url: "https://x.example", enabled: false}
        """,
            )
        )

        assert ["codex"] == list(config.providers)
        assert "responses" == config.provider("codex").api_mode


class TestWhereCallsGo:
    @pytest.mark.parametrize(
        ("entry", "api_mode", "rule"),
        [
            ("{model: claude-opus-4-6}", "anthropic_messages", "from the family"),
            ("{base_url: 'https://relay.example/anthropic'}", "anthropic_messages", "/anthropic"),
            ("{base_url: 'https://api.anthropic.com'}", "anthropic_messages", "Anthropic's"),
            ("{model: gemini-3-pro}", "gemini", "from the family"),
            ("{base_url: 'https://relay.example/v1'}", "chat_completions", "assumed"),
            ("{model: gpt-5}", "chat_completions", "assumed"),
        ],
        ids=["claude-vendor", "path-anthropic", "anthropic-host", "gemini", "v1", "openai"],
    )
    def test_api_mode_read_where_unambiguous(
        self, tmp_path: Path, entry: str, api_mode: str, rule: str
    ) -> None:
        """api_mode left out is read from the base URL or the family's own endpoint where that
        says one wire; otherwise chat_completions is assumed, with a warning."""
        config = load_config(write(tmp_path, f"providers: {{p: {entry}}}"))

        provider = config.provider("p")
        assert (api_mode, True) == (provider.api_mode, rule in provider.api_mode_rule)
        assert (rule == "assumed") == bool(config.warnings)

    def test_no_base_url_only_for_the_vendor(self, tmp_path: Path) -> None:
        """Without base_url a claude model calls Anthropic's own host; a MiMo model is an error
        naming the host it would have called, never a silent call to another vendor."""
        claude_config = load_config(write(tmp_path, "providers: {p: {model: claude-opus-4-6}}"))
        path = write(tmp_path, "providers: {p: {model: mimo-v2.5-pro}}", "mimo.yaml")

        with pytest.raises(ConfigError) as info:
            load_config(path)

        assert None is claude_config.provider("p").base_url
        assert "providers.p" == info.value.entry
        assert "no base_url: requests would go to api.openai.com" in info.value.problem

    @pytest.mark.parametrize(
        "url", ["open.markhub.top", "open.markhub.top/anthropic", "ftp://open.markhub.top"]
    )
    def test_a_base_url_needs_its_scheme(self, tmp_path: Path, url: str) -> None:
        """A base URL without http(s):// fails at load, naming the entry."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, f"providers: {{p: {{base_url: '{url}'}}}}"))

        assert "providers.p.base_url" == info.value.entry
        assert "with its scheme" in info.value.problem

    @pytest.mark.parametrize(
        "text",
        ["", "providers:\n", "providers: {}\n", "providers:\nrelay:\n  api: https://x.example\n"],
        ids=["empty-file", "empty-section", "empty-mapping", "mis-indented"],
    )
    def test_no_providers_is_an_error(self, tmp_path: Path, text: str) -> None:
        """A config that configures no provider fails at load instead of checking ok."""
        with pytest.raises(ConfigError, match=r"no providers|no enabled provider"):
            load_config(write(tmp_path, text))


class TestEnvironment:
    def test_every_missing_variable_at_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """One error names every variable the config needs and the environment lacks."""
        for name in ENV:
            monkeypatch.delenv(name, raising=False)

        with pytest.raises(ConfigError) as info:
            load_config(EXAMPLES / "multi-family.yaml")

        assert info.value.problem.startswith("4 environment variables are not set: ")
        assert all(name in info.value.problem for name in ENV)

    def test_checking_without_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """require_env=False loads without the variables, lists them, and holds no key."""
        for name in ENV:
            monkeypatch.delenv(name, raising=False)

        config = load_config(EXAMPLES / "multi-family.yaml", require_env=False)

        assert set(ENV) == {name for name, _ in config.missing_env}
        assert all(p.api_key is None for p in config.providers.values())


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
