"""Family detection: explicit > model id > host, with vendor prefixes, odd case and look-alikes."""

from __future__ import annotations

import attrs
import pytest
from attrs import field, frozen

from agent import FamilyDefinitionError, FamilyRegistry, UnknownFamily
from agent.families import BUILTIN_FAMILY_DATA, host_of, normalize_model
from agent.families.contracts import AnthropicContract, BlockMode, keeps_every
from agent.families.fields import one_of, overridden, parsed, parser
from tests.contracts import EXPECTED

REGISTRY = FamilyRegistry.builtin()
A = "anthropic_messages"
C = "chat_completions"

BY_MODEL = {
    "anthropic": [
        "claude-opus-4-6",
        "claude-sonnet-4-5-20250929",
        "claude-3-7-sonnet-20250219",
        "claude-haiku-4-5",
        "claude-opus-9",
        "anthropic/claude-sonnet-4.6",
        "us.anthropic.claude-opus-4-1-20250805-v1:0",
    ],
    "deepseek": [
        "deepseek-v4-pro",
        "deepseek-v4-flash",
        "deepseek-reasoner",
        "deepseek-r1",
        "deepseek-pro",
        "deepseek-flash",
        "deepseek/deepseek-v4-pro",
    ],
    "kimi": [
        "kimi-k2.6",
        "kimi-k2-thinking",
        "kimi_k2_thinking",
        "k2-thinking",
        "k2.5",
        "k3",
        "moonshotai/kimi-k2.5",
    ],
    "mimo": [
        "mimo-v2.5-pro",
        "mimo-v2-flash",
        "mimo_v2_omni",
        "xiaomi/mimo-v2.5-pro",
        "XiaoMi/MiMo-V2.5-Pro",
    ],
    "minimax": ["MiniMax-M3", "minimax-m2.7-highspeed", "minimax/minimax-m2"],
    "glm": ["glm-4.7", "GLM-5.1", "z-ai/glm-4.6"],
    "qwen": ["qwen3.6-plus", "qwq-32b", "qwen/qwen3-max-preview"],
    "gemini": ["gemini-3-pro-preview", "gemini-2.5-flash", "google/gemini-3-pro"],
    "openai": ["gpt-5", "gpt-5.1-codex", "o3", "o4-mini", "openai/gpt-5"],
}

SPELLINGS = ["{m}", "  {m}  ", "{M}", "vendor/{m}", "a/b/{m}", "\t{m}\n"]

LOOK_ALIKES = {
    "minimax-m3": "minimax",  # minimax-* is not MiMo
    "mimowave-7b": "unknown",  # not mimo-*
    "mistral-large": "unknown",
    "mistral-medium-3": "unknown",
    "mimo": "unknown",  # the bare word is no model id of the family
    "deepseek-chat": "unknown",
    "deepseek-v3": "unknown",
    "deepseek-v3.2-exp": "unknown",
    "claude": "unknown",
    "gpt-4o": "unknown",  # no reasoning model
    "o30": "unknown",
    "geminiish": "unknown",
    "llama-4-maverick": "unknown",
    "my-mimo-v2": "unknown",
    "glm": "unknown",
    "moonshot-v1-128k": "unknown",  # non-thinking (shared/wild.md §3)
    "k30": "unknown",
    "k3000-chat": "unknown",
    "keras-3": "unknown",
}

HOSTS = {
    "https://api.anthropic.com": "anthropic",
    "https://api.deepseek.com/anthropic": "deepseek",
    "https://api.deepseek.com": "deepseek",
    "https://api.moonshot.ai/v1": "kimi",
    "https://api.moonshot.cn/anthropic": "kimi",
    "https://api.kimi.com/coding": "kimi",
    "https://api.xiaomimimo.com/v1": "mimo",
    "https://token-plan-cn.xiaomimimo.com/anthropic": "mimo",
    "HTTPS://API.XIAOMIMIMO.COM:443/anthropic": "mimo",
    "api.xiaomimimo.com/anthropic": "mimo",
    "https://api.minimax.io/anthropic": "minimax",
    "https://api.minimaxi.com/v1": "minimax",
    "https://api.z.ai/api/anthropic": "glm",
    "https://open.bigmodel.cn/api/paas/v4": "glm",
    "https://dashscope-intl.aliyuncs.com/compatible-mode/v1": "qwen",
    "https://ws1.cn-beijing.maas.aliyuncs.com/apps/anthropic": "qwen",
    "https://generativelanguage.googleapis.com/v1beta/openai/": "gemini",
    "https://us-central1-aiplatform.googleapis.com/v1/projects/p": "gemini",
    "https://api.openai.com/v1": "openai",
    # look-alike hosts
    "https://notxiaomimimo.com/v1": "unknown",
    "https://xiaomimimo.com.evil.example/v1": "unknown",
    "https://open.markhub.top": "unknown",
    "https://api.deepseek.co": "unknown",
    "https://fakeanthropic.com": "unknown",
}


def _params() -> list[tuple[str, str]]:
    return [(m, family) for family, models in BY_MODEL.items() for m in models]


class TestByModel:
    @pytest.mark.parametrize(("model", "family"), _params(), ids=[m for m, _ in _params()])
    @pytest.mark.parametrize(
        "spelling",
        SPELLINGS,
        ids=["plain", "padded", "upper", "vendor-prefix", "path-prefix", "tab-newline"],
    )
    def test_model_id_decides(self, model: str, family: str, spelling: str) -> None:
        """Each family's ids match however they are spelled, prefixed or spaced."""
        raw = spelling.format(m=model, M=model.upper())

        match = REGISTRY.resolve(raw, "https://relay.example.com", A)

        assert (family, "model") == (match.family.name, match.rule)

    @pytest.mark.parametrize(
        ("model", "family"), sorted(LOOK_ALIKES.items()), ids=sorted(LOOK_ALIKES)
    )
    def test_look_alikes(self, model: str, family: str) -> None:
        """Look-alike ids do not match the family they resemble."""
        assert family == REGISTRY.resolve(model, "https://relay.example.com", A).family.name

    def test_model_wins_over_host(self) -> None:
        """A model id of one family sent to another family's host is the model's family."""
        match = REGISTRY.resolve("kimi-k2.6", "https://dashscope.aliyuncs.com/apps/anthropic", A)

        assert ("kimi", "model") == (match.family.name, match.rule)

    def test_non_thinking_look_alike_blocks_its_host(self) -> None:
        """deepseek-chat on DeepSeek's own host is not treated as a thinking model."""
        match = REGISTRY.resolve("deepseek-chat", "https://api.deepseek.com", C)

        assert "unknown" == match.family.name
        assert match.note is not None
        assert "not_models" in match.note


class TestByHost:
    @pytest.mark.parametrize(("base_url", "family"), sorted(HOSTS.items()), ids=sorted(HOSTS))
    def test_host_or_subdomain(self, base_url: str, family: str) -> None:
        """An unknown model id is placed by its host or any subdomain of it, and only so."""
        match = REGISTRY.resolve("house-model-1", base_url, A)

        assert family == match.family.name
        assert match.rule == ("none" if family == "unknown" else "host")

    def test_official_endpoint_when_no_base_url(self) -> None:
        """No base URL means the wire's official host."""
        assert "anthropic" == REGISTRY.resolve("house", None, A).family.name
        assert "openai" == REGISTRY.resolve("house", None, C).family.name


class TestExplicit:
    def test_explicit_wins(self) -> None:
        """An explicit family beats both the model id and the host."""
        match = REGISTRY.resolve("claude-opus-4-6", "https://api.anthropic.com", A, "MiMo")

        assert ("mimo", "explicit") == (match.family.name, match.rule)

    def test_unknown_explicit_family(self) -> None:
        """Naming a family that does not exist is an error that lists the known ones."""
        with pytest.raises(UnknownFamily, match=r"'mimi'.*mimo"):
            REGISTRY.resolve("x", None, A, "mimi")


class TestClaudeTurns:
    @pytest.mark.parametrize(
        ("model", "keep_all"),
        [
            ("claude-opus-4-5-20251101", True),
            ("claude-opus-4-6", True),
            ("claude-opus-4.7", True),
            ("claude-sonnet-4-6", True),
            ("claude-sonnet-5", True),
            ("claude-opus-9", True),
            ("claude-fable-5-1", True),
            ("claude-sonnet-4-5-20250929", False),
            ("claude-sonnet-4-20250514", False),
            ("claude-opus-4-1-20250805", False),
            ("claude-opus-4-20250514", False),
            ("claude-haiku-4-5", False),
            ("claude-3-7-sonnet-20250219", False),
            ("claude-3-haiku-20240307", False),
        ],
        ids=[
            "claude-opus-4-5-20251101",
            "claude-opus-4-6",
            "claude-opus-4.7",
            "claude-sonnet-4-6",
            "claude-sonnet-5",
            "claude-opus-9",
            "claude-fable-5-1",
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-20250514",
            "claude-opus-4-1-20250805",
            "claude-opus-4-20250514",
            "claude-haiku-4-5",
            "claude-3-7-sonnet-20250219",
            "claude-3-haiku-20240307",
        ],
    )
    def test_keep_all_by_model(self, model: str, keep_all: bool) -> None:
        """Opus >= 4.5, Sonnet >= 4.6 and unknown Claude ids keep every turn's thinking."""
        assert keep_all == REGISTRY.get("anthropic").anthropic.keeps_all_turns(model)


class TestTable:
    def test_builtin_table_is_data(self) -> None:
        """Every built-in family comes from the same schema config files use."""
        assert [d["name"] for d in BUILTIN_FAMILY_DATA] == list(REGISTRY.names)

    def test_override_and_add(self) -> None:
        """A definition with a built-in name overrides it; a new one is added and wins first."""
        registry = REGISTRY.with_definitions(
            [
                ("families[0]", {"name": "mimo", "hosts": ["mimo.example.com"]}),
                (
                    "families[1]",
                    {
                        "name": "house",
                        "models": ["mimo-house-*"],
                        "anthropic": {"thinking": "carry"},
                    },
                ),
            ]
        )

        assert "mimo" == registry.resolve("x", "https://a.mimo.example.com", A).family.name
        assert "house" == registry.resolve("mimo-house-1", None, A).family.name
        assert registry.get("mimo").models == REGISTRY.get("mimo").models

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"name": "x"}, "at least one of models, hosts"),
            ({"name": "X y", "models": ["a"]}, "lowercase name"),
            ({"name": "x", "models": "a/b"}, "bad pattern"),
            ({"name": "x", "models": ["a"], "anthropic": {"thinking": "maybe"}}, "maybe"),
            ({"name": "x", "models": ["a"], "colour": "red"}, "unknown field 'colour'"),
            ({"name": "x", "hosts": ["http://a.com"]}, "bad pattern|not a host"),
            ({"name": "x", "models": ["a"], "chat": {"pad": 3}}, "pad must be a string"),
        ],
        ids=[
            "no-patterns",
            "bad-name",
            "slash-in-pattern",
            "bad-contract-value",
            "unknown-field",
            "url-as-host",
            "pad-not-string",
        ],
    )
    def test_bad_definitions(self, data: dict[str, object], message: str) -> None:
        """A malformed family definition fails with a message naming the field."""
        with pytest.raises(FamilyDefinitionError, match=message):
            REGISTRY.with_definitions([("families[0]", data)])


class TestContractFields:
    def test_a_field_without_a_parser_fails_when_defined(self) -> None:
        """A contract field that does not say how config reads it is a FamilyDefinitionError
        naming it when its class is defined, not a KeyError at the first load that names it."""
        with pytest.raises(FamilyDefinitionError, match=r"Contract\.colour"):

            @parsed
            @frozen
            class Contract:
                thinking: str = field(default="drop", metadata=parser(one_of(["drop"])))
                colour: str = "red"

    def test_each_field_is_read_by_its_own_parser(self) -> None:
        """Each field of a contract reads its config value with the parser it carries."""
        contract = overridden(
            AnthropicContract(), {"thinking": "carry", "pad_on": ["tool_calls"]}, "f.anthropic"
        )

        assert (BlockMode.CARRY, frozenset({"tool_calls"})) == (contract.thinking, contract.pad_on)
        with pytest.raises(FamilyDefinitionError, match=r"f\.anthropic\.pad_on"):
            overridden(AnthropicContract(), {"pad_on": "tool_calls"}, "f.anthropic")


def test_normalize_and_host() -> None:
    """Model ids are trimmed, lowercased and cut after the last slash; hosts lowercased."""
    assert "mimo-v2.5-pro" == normalize_model("  Xiaomi/MiMo-V2.5-Pro ")
    assert "api.deepseek.com" == host_of("https://API.DeepSeek.com:443/anthropic", A)
    assert "api.anthropic.com" == host_of(None, A)


def _rows() -> list[tuple[str, str, str]]:
    """(family, wire, field) for every field of every row of the evidence table."""
    return [
        (name, wire, a.name)
        for name, wants in EXPECTED.items()
        for wire in ("anthropic", "chat")
        for a in attrs.fields(type(getattr(wants, wire)))
    ]


class TestTheEvidence:
    def test_every_family_has_a_row(self) -> None:
        """The evidence table (tests/contracts.py) has a row for each built-in family and for
        unknown, and no other."""
        assert {*REGISTRY.names, "unknown"} == set(EXPECTED)

    @pytest.mark.parametrize(("name", "wire", "field"), _rows(), ids=["-".join(r) for r in _rows()])
    def test_the_builtin_table_agrees(self, name: str, wire: str, field: str) -> None:
        """Each field of each built-in row is what the evidence says."""
        builtin = getattr(REGISTRY.get(name), wire)

        assert getattr(getattr(EXPECTED[name], wire), field) == getattr(builtin, field)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_preserved_thinking_models(self, name: str) -> None:
        """The models that want reasoning on every assistant message are the evidence's,
        on both wires; no other family's model does."""
        family = REGISTRY.get(name)
        for model in EXPECTED[name].every_message:
            assert keeps_every(family.anthropic.pad_every, False, model, {})
            assert keeps_every(family.chat.pad_every, False, model, {})
        if not EXPECTED[name].every_message:
            assert ((), ()) == (family.anthropic.pad_every, family.chat.pad_every)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_models_that_check_thought_signatures(self, name: str) -> None:
        """The models that refuse a tool call without its thought signature are the
        evidence's; no other family has any."""
        contract = REGISTRY.get(name).chat
        for model in EXPECTED[name].signatures_checked:
            assert contract.requires_signatures(model)
        if not EXPECTED[name].signatures_checked:
            assert () == contract.signatures_required


class TestDetectionInWords:
    @pytest.mark.parametrize(
        ("model", "base_url", "expected"),
        [
            (
                "mimo-v2.5-pro",
                "https://open.markhub.top",
                "family mimo: model id 'mimo-v2.5-pro' matched 'mimo-*'",
            ),
            (
                "claude-opus-4-6",
                None,
                "family anthropic: model id 'claude-opus-4-6' matched 'claude-*' "
                "(host 'api.anthropic.com' agrees)",
            ),
            (
                "claude-opus-4-6",
                "https://aiplatform.googleapis.com",
                "family anthropic: model id 'claude-opus-4-6' matched 'claude-*' (the model id "
                "wins over host 'aiplatform.googleapis.com', which would say gemini)",
            ),
        ],
        ids=["host-matches-nothing", "host-agrees", "host-overruled"],
    )
    def test_it_says_what_decided(self, model: str, base_url: str | None, expected: str) -> None:
        """When the model id decides, the description says whether the host agreed, was
        overruled (and what it would have said), or nothing of a host that matches no
        family."""
        assert expected == REGISTRY.resolve(model, base_url, A).describe()
