"""The regression cases of shared/cases.md (plus a few of our own), as data with their checks.

Each case has one or more variants (a target and a history); each variant runs through a
pipeline of ToolPairing + ThinkingRoundTrip with the case's options and observed responses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent import Action, Explanation, Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing
from tests.builders import (
    CA,
    CT,
    CU,
    RELAY,
    A,
    T,
    U,
    anthropic_body,
    call,
    chat_body,
    rth,
    text,
    th_s,
    th_u,
    tu,
)

ANTHROPIC = "anthropic_messages"
CHAT = "chat_completions"


@dataclass(frozen=True)
class Observed:
    """A response observed before the case runs (gives blocks an origin)."""

    api: str
    base_url: str | None
    model: str
    response: Mapping[str, Any]


@dataclass(frozen=True)
class Variant:
    """One target and history of a case."""

    request: Request
    options: Mapping[str, Any] = field(default_factory=dict)
    observed: tuple[Observed, ...] = ()


@dataclass
class Result:
    """What a variant produced."""

    before: Request
    after: Request
    explanation: Explanation

    @property
    def messages(self) -> list[Any]:
        return list(self.after.body["messages"])

    def actions(self, action: Action) -> list[str]:
        return [c.path for c in self.explanation.changes if c.action == action]


Check = Callable[[dict[str, Result]], None]


#: The one-sentence rule each case exists for, shown when its check fails.
RULES: Mapping[str, str] = {
    "mimo-relay-tool-loop": "MiMo behind an unknown relay gets its unsigned thinking back, "
    'first in the turn, with signature "" (the originating bug stripped it: HTTP 400).',
    "mimo-relay-two-loops": "Every MiMo tool turn keeps exactly its own thinking, not only the "
    "latest one.",
    "mimo-official-host": "An unrecognisable model id on MiMo's own host is MiMo by host.",
    "mimo-tool-turn-without-thinking": 'A MiMo tool turn with no thinking gets the pad " " '
    "before its tool_use, recorded in explain.",
    "kimi-coding": "Kimi keeps unsigned thinking on every turn.",
    "kimi-empty-thinking": 'Kimi accepts an empty thinking text, so "" is still sent.',
    "deepseek-anthropic": "DeepSeek's Anthropic endpoint gets unsigned thinking back on every "
    "tool loop.",
    "deepseek-family-by-model-first": "A DeepSeek model id decides the family on any host; "
    "explain says the model id won.",
    "claude-last-turn-only": "A latest-turn-only Claude model loses earlier turns' thinking; "
    "the latest turn goes out byte-identical.",
    "claude-keep-all": "Keep-all Claude models (and unknown newer ids) get every turn's signed "
    "blocks unchanged.",
    "claude-unsigned-latest": "Unsigned thinking never reaches Anthropic as thinking: dropped by "
    "default, text only when opted in.",
    "claude-redacted": "redacted_thinking with data stays in place; without data it is dropped.",
    "claude-interleaved": "Interleaved signed thinking keeps its exact original order.",
    "claude-cache-control-on-thinking": "cache_control is removed from a thinking block, and only "
    "from it.",
    "relay-claude-model": "A Claude model id behind a relay is Anthropic by model: own signed "
    "blocks kept.",
    "unknown-family": "An unknown target gets what the agent sent, minus blocks known to be "
    "another target's; explain says how to set a family.",
    "minimax-own-signed": "MiniMax gets its own signed blocks back verbatim on every turn.",
    "provider-override": "A provider's family: in config wins over detection.",
    "foreign-to-claude": "A block signed by another family is never sent to Claude as signed "
    "thinking.",
    "tool-pairing-kills-signature": "Removing an orphan tool_use kills its turn's signatures, so "
    "they are not sent.",
    "restore-by-tool-use-id": "A turn that lost its thinking gets its own observed blocks back, "
    "found by tool_use id.",
    "deepseek-chat-rc": "DeepSeek keeps reasoning_content on the chat wire.",
    "deepseek-chat-empty-rc": 'DeepSeek rejects an empty reasoning_content, so "" becomes " ".',
    "deepseek-chat-missing-rc": "A DeepSeek tool-call message without reasoning_content gets the "
    'pad " ", recorded in explain.',
    "kimi-chat-rc": 'Kimi keeps reasoning_content "" as it is.',
    "mimo-chat-rc": "MiMo keeps reasoning_content on the chat wire.",
    "strict-side-drops-rc": "A strict server known to reject reasoning fields does not get them.",
    "foreign-rc-to-deepseek": "Another family's reasoning is not replayed to DeepSeek: the pad "
    "goes instead.",
    "restore-chat-rc-by-tool-call-id": "A chat turn that lost its reasoning_content gets its own "
    "back, found by tool call id.",
    "gemini-own-signature": "Gemini gets its own tool-call thought signatures back verbatim.",
    "gemini-lost-signature": "A Gemini tool call that lost its thought signature gets its own "
    "back, found by tool call id.",
    "gemini-unknown-signature": "A current-turn Gemini 3 step whose signature is unknown gets "
    "the documented bypass value on its first call only, recorded in explain.",
    "gemini-foreign-signature": "A thought signature from another model is never sent; where "
    "Gemini 3 requires one, the bypass value goes instead.",
    "openrouter-lost-details": "A turn behind OpenRouter that lost its reasoning_details gets "
    "its own back, found by tool call id.",
    "openrouter-foreign-details": "Another model's reasoning_details are never replayed after a "
    "model switch behind OpenRouter.",
    "strict-drops-carriers": "A strict server gets neither reasoning_details nor thought "
    "signatures.",
    "responses-bare-id-store-false": "With store false a bare reasoning id goes whole when it "
    "was observed, is left out when not, and encrypted reasoning is asked for.",
    "responses-lost-reasoning": "A function call that lost its reasoning item gets the observed "
    "one back before it, found by call id.",
    "responses-foreign-item": "Another model's reasoning item is left out and the function call "
    "it led to loses its id.",
    "bedrock-claude-reasoning": "Claude on Bedrock Converse gets its own signed reasoningContent "
    "back (restored by toolUseId), never unsigned reasoning.",
    "openrouter-own-details": "A turn's own reasoning_details go back behind OpenRouter as they "
    "are: the same request.",
    "responses-own-item": "A Responses request whose reasoning items are the target's own, with "
    "store on, goes as it is.",
    "gemini-native-signatures": "Natively too, a lost thoughtSignature comes back by the call's "
    "name and arguments and another model's is replaced by the bypass value.",
    "vllm-reasoning-field": "On vLLM the agent's reasoning field stays (reasoning_content is "
    "moved to it) and a lost turn is restored there.",
    "copilot-reasoning-pair": "Copilot's reasoning_text and reasoning_opaque go back as one "
    "unit, and another model's pair is left out whole.",
    "fireworks-strict-schema": "Fireworks gets reasoning_content and no other reasoning field.",
    "cerebras-reasoning": "Cerebras gets prior reasoning as reasoning, never reasoning_content.",
    "mistral-thinking-chunks": "Mistral gets reasoning as a thinking chunk at the start of "
    "content, never as a field.",
    "vendor-no-openrouter-details": "A vendor's own host never gets reasoning_details observed "
    "at OpenRouter.",
    "openrouter-pinned-provider": "A request pinned to one upstream provider gets no "
    "reasoning_details another provider produced.",
}


@dataclass(frozen=True)
class Case:
    """A case id, its variants, and the assertions of the rule it exists for."""

    id: str
    variants: Mapping[str, Variant]
    check: Check

    @property
    def rule(self) -> str:
        """The one sentence this case exists for."""
        return RULES[self.id]

    def verify(self, results: dict[str, Result]) -> None:
        """Run the case's check; a failure names the case and states its rule."""
        try:
            self.check(results)
        except AssertionError as exc:
            raise AssertionError(f"{self.id}: {self.rule}\n{exc}") from exc


def pipeline_for(variant: Variant) -> Pipeline:
    """The pipeline a variant runs through, with its observed responses fed in."""
    pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(**variant.options)])
    for seen in variant.observed:
        sent = Request(
            api=seen.api, base_url=seen.base_url, body={"model": seen.model, "messages": []}
        )
        pipe.observe(sent, seen.response)
    return pipe


def run(case: Case) -> dict[str, Result]:
    """Run every variant of a case."""
    results = {}
    for name, variant in case.variants.items():
        pipe = pipeline_for(variant)
        explanation = pipe.explain(variant.request)
        after = pipe(variant.request)
        assert after.body == explanation.body
        results[name] = Result(variant.request, after, explanation)
    return results


def snapshot_data(results: dict[str, Result]) -> dict[str, Any]:
    """What a case's snapshot pins: per variant, the outgoing body and the explain record."""
    return {
        name: {
            "target": r.explanation.target.describe_target(),
            "body": r.after.body,
            "explain": [f"{c.path} {c.action.value}: {c.reason}" for c in r.explanation.changes],
        }
        for name, r in results.items()
    }


def req(api: str, base_url: str | None, body: dict[str, Any], **kw: Any) -> Request:
    return Request(api=api, base_url=base_url, body=body, **kw)


def only(results: dict[str, Result]) -> Result:
    assert len(results) == 1
    return next(iter(results.values()))


# ---------------------------------------------------------------- Anthropic wire

MIMO_LOOP = (U("list the files"), A(th_u("plan"), tu("c1")), T("c1"))


def _mimo_keeps_plan(results: dict[str, Result]) -> None:
    for r in results.values():
        assistant = r.messages[1]["content"]
        assert assistant[0] == {"type": "thinking", "thinking": "plan", "signature": ""}
        assert assistant[1] is r.before.body["messages"][1]["content"][1]
        assert r.explanation.target.family.name == "mimo"


def _mimo_two_loops(results: dict[str, Result]) -> None:
    r = only(results)
    first, second = r.messages[1]["content"], r.messages[4]["content"]
    assert [b["thinking"] for b in first if b["type"] == "thinking"] == ["r1"]
    assert [b["thinking"] for b in second if b["type"] == "thinking"] == ["r2"]
    assert first[0]["signature"] == ""
    assert second[0]["signature"] == ""


def _mimo_by_host(results: dict[str, Result]) -> None:
    _mimo_keeps_plan(results)
    assert only(results).explanation.target.rule == "host"


def _mimo_pad(results: dict[str, Result]) -> None:
    r = only(results)
    assistant = r.messages[1]["content"]
    assert assistant[0] == {"type": "thinking", "thinking": " ", "signature": ""}
    assert assistant[1] == tu("c1")
    assert r.actions(Action.PADDED) == ["messages[1].content[0]"]


def _kimi_every_turn(results: dict[str, Result]) -> None:
    r = only(results)
    assert r.after is r.before, "unsigned thinking on every turn is what Kimi wants"
    assert [m["content"][0]["thinking"] for m in r.messages if m["role"] == "assistant"] == [
        "plan",
        "next",
    ]


def _kimi_empty(results: dict[str, Result]) -> None:
    r = only(results)
    assert r.messages[1]["content"][0] == {"type": "thinking", "thinking": "", "signature": ""}
    assert r.after is r.before


def _deepseek_both_loops(results: dict[str, Result]) -> None:
    for r in results.values():
        assistants = [m for m in r.messages if m["role"] == "assistant"]
        assert [a["content"][0] for a in assistants] == [th_u("r1"), th_u("r2")]
        assert r.explanation.target.family.name == "deepseek"


def _deepseek_model_first(results: dict[str, Result]) -> None:
    _deepseek_both_loops(results)
    for r in results.values():
        assert r.explanation.target.rule == "model"
        assert "model id" in r.explanation.target.describe()


def _claude_last_turn_only(results: dict[str, Result]) -> None:
    r = only(results)
    before = r.before.body["messages"]
    assert r.messages[1]["content"] == [text("first answer")]
    assert r.messages[3] is before[3], "the latest turn goes out byte-identical"
    assert r.messages[3]["content"][0]["type"] == "thinking"


def _claude_keep_all(results: dict[str, Result]) -> None:
    for r in results.values():
        assert r.after is r.before, "keep-all models get every signed block unchanged"


def _claude_unsigned(results: dict[str, Result]) -> None:
    default, to_text = results["default"], results["to-text"]
    assert default.messages[1]["content"] == [text("bar")]
    assert default.actions(Action.DROPPED) == ["messages[1].content[0]"]
    assert to_text.messages[1]["content"] == [text("foo"), text("bar")]
    assert to_text.actions(Action.CONVERTED) == ["messages[1].content[0]"]


def _claude_redacted(results: dict[str, Result]) -> None:
    with_data, without = results["with-data"], results["without-data"]
    assert with_data.after is with_data.before
    assert [b["type"] for b in without.messages[1]["content"]] == ["thinking", "tool_use"]
    assert without.actions(Action.DROPPED) == ["messages[1].content[0]"]


def _same_object(results: dict[str, Result]) -> None:
    for r in results.values():
        assert r.after is r.before


def _cache_control(results: dict[str, Result]) -> None:
    r = only(results)
    block = r.messages[1]["content"][0]
    assert "cache_control" not in block
    assert block == th_s("cached plan", "sig-cc")
    assert r.messages[2] is r.before.body["messages"][2], "other cache_control stays"


def _relay_claude(results: dict[str, Result]) -> None:
    r = only(results)
    assert r.after is r.before
    assert r.explanation.target.family.name == "anthropic"
    assert r.explanation.target.rule == "model"


def _unknown_passes_through(results: dict[str, Result]) -> None:
    plain = results["relay"]
    assert plain.after is plain.before, "what the agent sent goes out as it is"
    kept = [c.reason for c in plain.explanation.changes if c.action == Action.KEPT]
    assert len(kept) == 2
    assert all("family:" in reason and "unknown" in reason for reason in kept)
    switched = results["relay-after-claude"]
    assert switched.messages[1]["content"] == [th_u("loose"), tu("c1")]
    assert switched.actions(Action.DROPPED) == ["messages[1].content[1]"]


def _foreign_to_claude(results: dict[str, Result]) -> None:
    r = only(results)
    assert r.messages[1]["content"] == [tu("c1")]
    assert r.actions(Action.DROPPED) == ["messages[1].content[0]"]
    assert r.actions(Action.WARNING) == ["messages[1].content[0]"]


def _tool_pairing_dead(results: dict[str, Result]) -> None:
    r = only(results)
    assert r.messages[1]["content"] == [tu("c1")]
    assert "messages[1].content[2]" in r.actions(Action.DROPPED)
    assert "messages[1].content[0]" in r.actions(Action.DROPPED)


def _restored(results: dict[str, Result]) -> None:
    for name, r in results.items():
        original = r.before.body["messages"][1]["content"]
        restored = r.messages[1]["content"]
        assert r.actions(Action.RESTORED) == ["messages[1].content"], name
        assert restored[0]["type"] == "thinking", "a restored turn starts with its thinking"
        assert not r.actions(Action.WARNING)
        assert [b for b in restored if b["type"] not in ("thinking", "redacted_thinking")] == (
            original
        )


def _chat_rc(expected: str | None, same: bool) -> Check:
    def check(results: dict[str, Result]) -> None:
        for r in results.values():
            assistant = r.messages[1]
            assert assistant.get("reasoning_content") == expected
            assert ("reasoning_content" in assistant) == (expected is not None)
            assert (r.after is r.before) == same

    return check


MINIMAX_BODY = {"model": "MiniMax-M3", "messages": []}


def _observed_anthropic(base_url: str | None, model: str, *blocks: Any) -> Observed:
    return Observed(
        ANTHROPIC,
        base_url,
        model,
        {"type": "message", "role": "assistant", "content": list(blocks)},
    )


def _observed_chat(base_url: str | None, model: str, reasoning: str, *ids: str) -> Observed:
    message = CA(reasoning, *ids)
    return Observed(CHAT, base_url, model, {"choices": [{"index": 0, "message": message}]})


GEMINI = "https://generativelanguage.googleapis.com/v1beta/openai/"
OPENROUTER = "https://openrouter.ai/api/v1"


def signed_call(id_: str, signature: str) -> dict[str, Any]:
    """A chat tool call carrying a Gemini thought signature."""
    return {**call(id_), "extra_content": {"google": {"thought_signature": signature}}}


def gemini_turn(*calls: dict[str, Any], details: list[Any] | None = None) -> dict[str, Any]:
    """A chat assistant message with these tool calls (and OpenRouter details, if given)."""
    message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": list(calls)}
    if details is not None:
        message["reasoning_details"] = details
    return message


def _observed_gemini(base_url: str, model: str, message: dict[str, Any]) -> Observed:
    return Observed(CHAT, base_url, model, {"choices": [{"index": 0, "message": message}]})


DETAILS = [
    {"type": "reasoning.text", "text": "look first", "format": "google-gemini-v1", "index": 0},
    {"type": "reasoning.encrypted", "data": "gsig-c1", "id": "c1", "format": "google-gemini-v1"},
]
CLAUDE_DETAILS = [
    {"type": "reasoning.text", "text": "claude plan", "signature": "csig", "index": 0},
]


def _signatures(expected: list[str | None], same: bool) -> Check:
    def check(results: dict[str, Result]) -> None:
        for r in results.values():
            calls = r.messages[1]["tool_calls"]
            got = [
                c.get("extra_content", {}).get("google", {}).get("thought_signature") for c in calls
            ]
            assert expected == got
            assert (r.after is r.before) == same

    return check


def _details(expected: list[Any] | None) -> Check:
    def check(results: dict[str, Result]) -> None:
        for r in results.values():
            assert expected == r.messages[1].get("reasoning_details")
            assert "extra_content" not in r.messages[1]["tool_calls"][0]

    return check


def _signatures_at(results: dict[str, Result], i: int, expected: list[str | None]) -> None:
    for r in results.values():
        calls = r.messages[i]["tool_calls"]
        got = [c.get("extra_content", {}).get("google", {}).get("thought_signature") for c in calls]
        assert expected == got


def _unknown_signature(results: dict[str, Result]) -> None:
    """The earlier turn's step gets nothing; the current turn's first call gets the bypass."""
    _signatures([None], same=False)(results)
    _signatures_at(results, 4, ["skip_thought_signature_validator", None])


RS = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc_1"}
FC = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "run", "arguments": "{}"}
FCO = {"type": "function_call_output", "call_id": "call_1", "output": "ok"}


def responses_body(model: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": model, "input": [{"role": "user", "content": "go"}, *items], **extra}


def _observed_responses(model: str, *output: dict[str, Any]) -> Observed:
    return Observed("responses", None, model, {"object": "response", "output": list(output)})


def _input_types(*expected: str | None) -> Check:
    def check(results: dict[str, Result]) -> None:
        for r in results.values():
            items = r.after.body["input"][1:]
            assert list(expected) == [i.get("type") for i in items]

    return check


def _bare_id(results: dict[str, Result]) -> None:
    observed, unknown = results["observed"], results["never-observed"]
    assert observed.after.body["input"][1] == RS
    assert [i.get("type") for i in unknown.after.body["input"][1:]] == [
        "function_call",
        "function_call_output",
    ]
    assert "id" not in unknown.after.body["input"][1]
    for r in results.values():
        assert ["reasoning.encrypted_content"] == r.after.body["include"]


def _foreign_item(results: dict[str, Result]) -> None:
    _input_types("function_call", "function_call_output")(results)
    for r in results.values():
        assert "id" not in r.after.body["input"][1]


BEDROCK = "https://bedrock-runtime.us-east-1.amazonaws.com"
SIGNED_RC = {"reasoningContent": {"reasoningText": {"text": "plan", "signature": "sig-1"}}}
TOOL_USE = {"toolUse": {"toolUseId": "t1", "name": "run", "input": {}}}


def converse_body(*assistant: dict[str, Any]) -> dict[str, Any]:
    return {
        "modelId": "us.anthropic.claude-opus-4-6-v1:0",
        "messages": [
            {"role": "user", "content": [{"text": "go"}]},
            {"role": "assistant", "content": list(assistant)},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": []}}]},
        ],
        "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
    }


def _bedrock(results: dict[str, Result]) -> None:
    for r in results.values():
        content = r.after.body["messages"][1]["content"]
        assert [SIGNED_RC, TOOL_USE] == content
        assert content[1] is r.before.body["messages"][1]["content"][-1]


GEMINI_3_ID = "gemini-3-pro-preview"
CALL_PART = {"functionCall": {"name": "run", "args": {"step": 1}}}


def native_body(model: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": model,
        "contents": [
            {"role": "user", "parts": [{"text": "go"}]},
            {"role": "model", "parts": list(parts)},
            {"role": "user", "parts": [{"functionResponse": {"name": "run", "response": {}}}]},
        ],
    }


def _native(observed_model: str) -> Observed:
    signed = {**CALL_PART, "thoughtSignature": "gsig-native"}
    return Observed(
        "gemini",
        None,
        observed_model,
        {"candidates": [{"content": {"role": "model", "parts": [signed]}}]},
    )


def _native_check(results: dict[str, Result]) -> None:
    lost, switched = results["lost"], results["switch-2.5-to-3"]
    assert "gsig-native" == lost.after.body["contents"][1]["parts"][0]["thoughtSignature"]
    part = switched.after.body["contents"][1]["parts"][0]
    assert "skip_thought_signature_validator" == part["thoughtSignature"]


def _same_request(results: dict[str, Result]) -> None:
    for r in results.values():
        assert r.after is r.before


def _no_carriers(results: dict[str, Result]) -> None:
    for r in results.values():
        assert "reasoning_details" not in r.messages[1]
        assert all("extra_content" not in c for c in r.messages[1]["tool_calls"])


CASES: tuple[Case, ...] = (
    Case(
        "mimo-relay-tool-loop",
        {"relay": Variant(req(ANTHROPIC, RELAY, anthropic_body("mimo-v2.5-pro", *MIMO_LOOP)))},
        _mimo_keeps_plan,
    ),
    Case(
        "mimo-relay-two-loops",
        {
            "relay": Variant(
                req(
                    ANTHROPIC,
                    RELAY,
                    anthropic_body(
                        "mimo-v2.5-pro",
                        U("first task"),
                        A(th_u("r1"), tu("c1")),
                        T("c1"),
                        U("second task"),
                        A(th_u("r2"), tu("c2")),
                        T("c2"),
                    ),
                )
            )
        },
        _mimo_two_loops,
    ),
    Case(
        "mimo-official-host",
        {
            "token-plan": Variant(
                req(
                    ANTHROPIC,
                    "https://token-plan-cn.xiaomimimo.com/anthropic",
                    anthropic_body("some-new-name", *MIMO_LOOP),
                )
            )
        },
        _mimo_by_host,
    ),
    Case(
        "mimo-tool-turn-without-thinking",
        {
            "relay": Variant(
                req(ANTHROPIC, RELAY, anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1")))
            )
        },
        _mimo_pad,
    ),
    Case(
        "kimi-coding",
        {
            "coding": Variant(
                req(
                    ANTHROPIC,
                    "https://api.kimi.com/coding",
                    anthropic_body(
                        "kimi-k2.6",
                        U(),
                        A(th_u("plan"), tu("c1")),
                        T("c1"),
                        U("again"),
                        A(th_u("next"), tu("c2")),
                        T("c2"),
                    ),
                )
            )
        },
        _kimi_every_turn,
    ),
    Case(
        "kimi-empty-thinking",
        {
            "coding": Variant(
                req(
                    ANTHROPIC,
                    "https://api.kimi.com/coding",
                    anthropic_body("kimi-k2.6", U(), A(th_u("", ""), tu("c1")), T("c1")),
                )
            )
        },
        _kimi_empty,
    ),
    Case(
        "deepseek-anthropic",
        {
            "official": Variant(
                req(
                    ANTHROPIC,
                    "https://api.deepseek.com/anthropic",
                    anthropic_body(
                        "deepseek-v4-pro",
                        U(),
                        A(th_u("r1"), tu("c1")),
                        T("c1"),
                        U("more"),
                        A(th_u("r2"), tu("c2")),
                        T("c2"),
                    ),
                )
            )
        },
        _deepseek_both_loops,
    ),
    Case(
        "deepseek-family-by-model-first",
        {
            host: Variant(
                req(
                    ANTHROPIC,
                    base,
                    anthropic_body(
                        "deepseek-v4-pro",
                        U(),
                        A(th_u("r1"), tu("c1")),
                        T("c1"),
                        U("more"),
                        A(th_u("r2"), tu("c2")),
                        T("c2"),
                    ),
                )
            )
            for host, base in (
                ("api.deepseek.com", "https://api.deepseek.com"),
                ("llm.example.com", "https://llm.example.com"),
            )
        },
        _deepseek_model_first,
    ),
    Case(
        "claude-last-turn-only",
        {
            "claude-sonnet-4-5": Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-sonnet-4-5",
                        U("first"),
                        A(th_s("first thought", "sig-a1"), text("first answer")),
                        U("second"),
                        A(th_s("second thought", "sig-a2"), tu("c1")),
                        T("c1"),
                    ),
                )
            )
        },
        _claude_last_turn_only,
    ),
    Case(
        "claude-keep-all",
        {
            model: Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        model,
                        U("first"),
                        A(th_s("first thought", "sig-a1"), text("first answer")),
                        U("second"),
                        A(th_s("second thought", "sig-a2"), tu("c1")),
                        T("c1"),
                    ),
                )
            )
            for model in ("claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-9")
        },
        _claude_keep_all,
    ),
    Case(
        "claude-unsigned-latest",
        {
            name: Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-6", U(), A(th_u("foo"), text("bar")), U("and then?")
                    ),
                ),
                options,
            )
            for name, options in (("default", {}), ("to-text", {"unsigned_to_anthropic": "text"}))
        },
        _claude_unsigned,
    ),
    Case(
        "claude-redacted",
        {
            name: Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-6", U(), A(red, th_s("plan", "sig-r"), tu("c1")), T("c1")
                    ),
                )
            )
            for name, red in (("with-data", rth("EuYBCkQYAiJA")), ("without-data", rth(None)))
        },
        _claude_redacted,
    ),
    Case(
        "claude-interleaved",
        {
            "claude-opus-4-6": Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-6",
                        U(),
                        A(th_s("one", "sig-1"), tu("c1"), th_s("two", "sig-2"), tu("c2")),
                        T("c1", "c2"),
                    ),
                )
            )
        },
        _same_object,
    ),
    Case(
        "claude-cache-control-on-thinking",
        {
            "claude-opus-4-6": Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-6",
                        U(),
                        A(
                            {
                                **th_s("cached plan", "sig-cc"),
                                "cache_control": {"type": "ephemeral"},
                            },
                            tu("c1"),
                        ),
                        {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": "c1",
                                    "content": "ok",
                                    "cache_control": {"type": "ephemeral"},
                                }
                            ],
                        },
                    ),
                )
            )
        },
        _cache_control,
    ),
    Case(
        "relay-claude-model",
        {
            "relay": Variant(
                req(
                    ANTHROPIC,
                    "https://relay.example.com",
                    anthropic_body(
                        "claude-sonnet-4-6", U(), A(th_s("plan", "sig-x"), tu("c1")), T("c1")
                    ),
                )
            )
        },
        _relay_claude,
    ),
    Case(
        "unknown-family",
        {
            "relay": Variant(
                req(
                    ANTHROPIC,
                    "https://relay.example.com",
                    anthropic_body(
                        "llama-4-maverick",
                        U(),
                        A(th_u("loose"), th_s("signed", "sig-u"), tu("c1")),
                        T("c1"),
                    ),
                )
            ),
            "relay-after-claude": Variant(
                req(
                    ANTHROPIC,
                    "https://relay.example.com",
                    anthropic_body(
                        "llama-4-maverick",
                        U(),
                        A(th_u("loose"), th_s("signed", "sig-u"), tu("c1")),
                        T("c1"),
                    ),
                ),
                observed=(_observed_anthropic(None, "claude-opus-4-6", th_s("signed", "sig-u")),),
            ),
        },
        _unknown_passes_through,
    ),
    Case(
        "minimax-own-signed",
        {
            "official": Variant(
                req(
                    ANTHROPIC,
                    "https://api.minimax.io/anthropic",
                    anthropic_body(
                        "MiniMax-M3",
                        U(),
                        A(th_s("mm plan", "mm-sig-1"), tu("c1")),
                        T("c1"),
                        U("more"),
                        A(th_s("mm next", "mm-sig-2"), tu("c2")),
                        T("c2"),
                    ),
                ),
                observed=(
                    _observed_anthropic(
                        "https://api.minimax.io/anthropic",
                        "MiniMax-M3",
                        th_s("mm plan", "mm-sig-1"),
                        tu("c1"),
                    ),
                    _observed_anthropic(
                        "https://api.minimax.io/anthropic",
                        "MiniMax-M3",
                        th_s("mm next", "mm-sig-2"),
                        tu("c2"),
                    ),
                ),
            )
        },
        _same_object,
    ),
    Case(
        "provider-override",
        {
            "relay": Variant(
                req(ANTHROPIC, RELAY, anthropic_body("house-model-1", *MIMO_LOOP), family="mimo")
            )
        },
        _mimo_keeps_plan,
    ),
    Case(
        "foreign-to-claude",
        {
            "claude-opus-4-7": Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-7",
                        U(),
                        A(th_s("mm plan", "mm-sig-9"), tu("c1")),
                        T("c1"),
                        thinking={"type": "adaptive"},
                    ),
                ),
                observed=(
                    _observed_anthropic(
                        "https://api.minimax.io/anthropic",
                        "MiniMax-M3",
                        th_s("mm plan", "mm-sig-9"),
                        tu("c1"),
                    ),
                ),
            )
        },
        _foreign_to_claude,
    ),
    Case(
        "tool-pairing-kills-signature",
        {
            "claude-opus-4-6": Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-6",
                        U(),
                        A(th_s("two calls", "sig-tp"), tu("c1"), tu("c2")),
                        T("c1"),
                    ),
                )
            )
        },
        _tool_pairing_dead,
    ),
    Case(
        "restore-by-tool-use-id",
        {
            "mimo-relay": Variant(
                req(ANTHROPIC, RELAY, anthropic_body("mimo-v2.5-pro", U(), A(tu("c1")), T("c1"))),
                observed=(
                    _observed_anthropic(RELAY, "mimo-v2.5-pro", th_u("the plan", ""), tu("c1")),
                ),
            ),
            "claude-interleaved": Variant(
                req(
                    ANTHROPIC,
                    None,
                    anthropic_body(
                        "claude-opus-4-6",
                        U(),
                        A(text("on it"), tu("c1"), tu("c2")),
                        T("c1", "c2"),
                    ),
                ),
                observed=(
                    _observed_anthropic(
                        None,
                        "claude-opus-4-6",
                        th_s("one", "sig-1"),
                        text("on it"),
                        tu("c1"),
                        th_s("two", "sig-2"),
                        tu("c2"),
                    ),
                ),
            ),
        },
        _restored,
    ),
    # ------------------------------------------------------------ Chat wire
    Case(
        "deepseek-chat-rc",
        {
            "official": Variant(
                req(
                    CHAT,
                    "https://api.deepseek.com",
                    chat_body("deepseek-v4-flash", CU(), CA("r1", "c1"), CT("c1")),
                )
            )
        },
        _chat_rc("r1", same=True),
    ),
    Case(
        "deepseek-chat-empty-rc",
        {
            "official": Variant(
                req(
                    CHAT,
                    "https://api.deepseek.com",
                    chat_body("deepseek-v4-flash", CU(), CA("", "c1"), CT("c1")),
                )
            )
        },
        _chat_rc(" ", same=False),
    ),
    Case(
        "deepseek-chat-missing-rc",
        {
            "official": Variant(
                req(
                    CHAT,
                    "https://api.deepseek.com",
                    chat_body("deepseek-v4-flash", CU(), CA(None, "c1"), CT("c1")),
                )
            )
        },
        _chat_rc(" ", same=False),
    ),
    Case(
        "kimi-chat-rc",
        {
            "official": Variant(
                req(
                    CHAT,
                    "https://api.moonshot.ai/v1",
                    chat_body("kimi-k2-thinking", CU(), CA("", "c1"), CT("c1")),
                )
            )
        },
        _chat_rc("", same=True),
    ),
    Case(
        "mimo-chat-rc",
        {
            "official": Variant(
                req(
                    CHAT,
                    "https://api.xiaomimimo.com/v1",
                    chat_body("mimo-v2-flash", CU(), CA("plan", "c1"), CT("c1")),
                )
            )
        },
        _chat_rc("plan", same=True),
    ),
    Case(
        "strict-side-drops-rc",
        {
            "mistral": Variant(
                req(
                    CHAT,
                    "https://api.mistral.ai/v1",
                    chat_body("mistral-large", CU(), CA("x", "c1"), CT("c1")),
                )
            )
        },
        _chat_rc(None, same=False),
    ),
    Case(
        "foreign-rc-to-deepseek",
        {
            "official": Variant(
                req(
                    CHAT,
                    "https://api.deepseek.com",
                    chat_body("deepseek-v4-flash", CU(), CA("kimi's own plan", "c1"), CT("c1")),
                ),
                observed=(
                    _observed_chat(
                        "https://api.moonshot.ai/v1", "kimi-k2-thinking", "kimi's own plan", "c1"
                    ),
                ),
            )
        },
        _chat_rc(" ", same=False),
    ),
    Case(
        "restore-chat-rc-by-tool-call-id",
        {
            "deepseek": Variant(
                req(
                    CHAT,
                    "https://api.deepseek.com",
                    chat_body("deepseek-v4-flash", CU(), CA(None, "c7"), CT("c7")),
                ),
                observed=(
                    _observed_chat(
                        "https://api.deepseek.com",
                        "deepseek-v4-flash",
                        "check the logs first",
                        "c7",
                    ),
                ),
            )
        },
        _chat_rc("check the logs first", same=False),
    ),
    Case(
        "gemini-own-signature",
        {
            "gemini-3": Variant(
                req(
                    CHAT,
                    GEMINI,
                    chat_body(
                        "gemini-3-pro-preview",
                        CU(),
                        gemini_turn(signed_call("c1", "gsig")),
                        CT("c1"),
                    ),
                ),
                observed=(
                    _observed_gemini(
                        GEMINI, "gemini-3-pro-preview", gemini_turn(signed_call("c1", "gsig"))
                    ),
                ),
            )
        },
        _signatures(["gsig"], same=True),
    ),
    Case(
        "gemini-lost-signature",
        {
            "gemini-3": Variant(
                req(
                    CHAT,
                    GEMINI,
                    chat_body(
                        "gemini-3-pro-preview", CU(), CA(None, "c1", "c2"), CT("c1"), CT("c2")
                    ),
                ),
                observed=(
                    _observed_gemini(
                        GEMINI,
                        "gemini-3-pro-preview",
                        gemini_turn(signed_call("c1", "gsig"), call("c2")),
                    ),
                ),
            )
        },
        _signatures(["gsig", None], same=False),
    ),
    Case(
        "gemini-unknown-signature",
        {
            "gemini-3": Variant(
                req(
                    CHAT,
                    GEMINI,
                    chat_body(
                        "gemini-3-pro-preview",
                        CU("earlier"),
                        CA(None, "c0"),
                        CT("c0"),
                        CU(),
                        CA(None, "c1", "c2"),
                        CT("c1"),
                        CT("c2"),
                    ),
                )
            )
        },
        _unknown_signature,
    ),
    Case(
        "gemini-foreign-signature",
        {
            "switch-2.5-to-3": Variant(
                req(
                    CHAT,
                    GEMINI,
                    chat_body(
                        "gemini-3-pro-preview",
                        CU(),
                        gemini_turn(signed_call("c1", "old-sig")),
                        CT("c1"),
                    ),
                ),
                observed=(
                    _observed_gemini(
                        GEMINI, "gemini-2.5-flash", gemini_turn(signed_call("c1", "old-sig"))
                    ),
                ),
            )
        },
        _signatures(["skip_thought_signature_validator"], same=False),
    ),
    Case(
        "openrouter-lost-details",
        {
            "gemini": Variant(
                req(
                    CHAT,
                    OPENROUTER,
                    chat_body("google/gemini-3-pro", CU(), CA(None, "c1"), CT("c1")),
                ),
                observed=(
                    _observed_gemini(
                        OPENROUTER, "google/gemini-3-pro", gemini_turn(call("c1"), details=DETAILS)
                    ),
                ),
            )
        },
        _details(DETAILS),
    ),
    Case(
        "openrouter-foreign-details",
        {
            "claude-to-gemini": Variant(
                req(
                    CHAT,
                    OPENROUTER,
                    chat_body(
                        "google/gemini-3-pro",
                        CU(),
                        gemini_turn(call("c1"), details=CLAUDE_DETAILS),
                        CT("c1"),
                    ),
                ),
                observed=(
                    _observed_gemini(
                        OPENROUTER,
                        "anthropic/claude-opus-4-6",
                        gemini_turn(call("c1"), details=CLAUDE_DETAILS),
                    ),
                ),
            )
        },
        _details(None),
    ),
    Case(
        "strict-drops-carriers",
        {
            "mistral": Variant(
                req(
                    CHAT,
                    "https://api.mistral.ai/v1",
                    chat_body(
                        "mistral-large",
                        CU(),
                        gemini_turn(signed_call("c1", "gsig"), details=DETAILS),
                        CT("c1"),
                    ),
                )
            )
        },
        _no_carriers,
    ),
    Case(
        "responses-bare-id-store-false",
        {
            "observed": Variant(
                req(
                    "responses",
                    None,
                    responses_body(
                        "gpt-5",
                        {"type": "reasoning", "id": "rs_1", "summary": []},
                        FC,
                        FCO,
                        store=False,
                    ),
                ),
                observed=(_observed_responses("gpt-5", RS, FC),),
            ),
            "never-observed": Variant(
                req(
                    "responses",
                    None,
                    responses_body(
                        "gpt-5",
                        {"type": "reasoning", "id": "rs_1", "summary": []},
                        FC,
                        FCO,
                        store=False,
                    ),
                ),
            ),
        },
        _bare_id,
    ),
    Case(
        "responses-lost-reasoning",
        {
            "o3": Variant(
                req("responses", None, responses_body("o3", FC, FCO)),
                observed=(_observed_responses("o3", RS, FC),),
            )
        },
        _input_types("reasoning", "function_call", "function_call_output"),
    ),
    Case(
        "responses-foreign-item",
        {
            "gpt-5-to-o3": Variant(
                req("responses", None, responses_body("o3", RS, FC, FCO)),
                observed=(_observed_responses("gpt-5", RS, FC),),
            )
        },
        _foreign_item,
    ),
    Case(
        "bedrock-claude-reasoning",
        {
            "unsigned": Variant(
                req(
                    "bedrock_converse",
                    BEDROCK,
                    converse_body(
                        {"reasoningContent": {"reasoningText": {"text": "plan"}}}, TOOL_USE
                    ),
                ),
                observed=(
                    Observed(
                        "bedrock_converse",
                        BEDROCK,
                        "us.anthropic.claude-opus-4-6-v1:0",
                        {"output": {"message": {"content": [SIGNED_RC, TOOL_USE]}}},
                    ),
                ),
            ),
            "lost": Variant(
                req("bedrock_converse", BEDROCK, converse_body(TOOL_USE)),
                observed=(
                    Observed(
                        "bedrock_converse",
                        BEDROCK,
                        "us.anthropic.claude-opus-4-6-v1:0",
                        {"output": {"message": {"content": [SIGNED_RC, TOOL_USE]}}},
                    ),
                ),
            ),
        },
        _bedrock,
    ),
    Case(
        "openrouter-own-details",
        {
            "gemini": Variant(
                req(
                    CHAT,
                    OPENROUTER,
                    chat_body(
                        "google/gemini-3-pro",
                        CU(),
                        gemini_turn(call("c1"), details=DETAILS),
                        CT("c1"),
                    ),
                ),
                observed=(
                    _observed_gemini(
                        OPENROUTER, "google/gemini-3-pro", gemini_turn(call("c1"), details=DETAILS)
                    ),
                ),
            )
        },
        _same_request,
    ),
    Case(
        "responses-own-item",
        {
            "o3": Variant(
                req("responses", None, responses_body("o3", RS, FC, FCO)),
                observed=(_observed_responses("o3", RS, FC),),
            )
        },
        _same_request,
    ),
    Case(
        "gemini-native-signatures",
        {
            "lost": Variant(
                req("gemini", None, native_body(GEMINI_3_ID, CALL_PART)),
                observed=(_native(GEMINI_3_ID),),
            ),
            "switch-2.5-to-3": Variant(
                req(
                    "gemini",
                    None,
                    native_body(GEMINI_3_ID, {**CALL_PART, "thoughtSignature": "gsig-native"}),
                ),
                observed=(_native("gemini-2.5-flash"),),
            ),
        },
        _native_check,
    ),
)

VLLM = "http://gpu-box.internal:8000/v1"
VLLM_TURN = {**CA(None, "c1"), "reasoning": "plan"}


def _observed_message(base_url: str | None, model: str, message: dict[str, Any]) -> Observed:
    return Observed(CHAT, base_url, model, {"choices": [{"index": 0, "message": message}]})


def _vllm(results: dict[str, Result]) -> None:
    for name, r in results.items():
        assistant = r.messages[1]
        assert "plan" == assistant.get("reasoning"), name
        assert "reasoning_content" not in assistant
        if name == "own":
            assert r.after is r.before


def _copilot(results: dict[str, Result]) -> None:
    own, foreign, lost = results["own"], results["foreign"], results["lost"]
    assert own.after is own.before
    assert not {"reasoning_text", "reasoning_opaque"} & foreign.messages[1].keys()
    assert foreign.actions(Action.DROPPED) == ["messages[1].reasoning_opaque"]
    pair = {k: COPILOT_TURN[k] for k in ("reasoning_text", "reasoning_opaque")}
    assert pair == {k: lost.messages[1][k] for k in pair}, "both halves restored, verbatim"


def _fireworks(results: dict[str, Result]) -> None:
    for r in results.values():
        assistant = r.messages[1]
        assert "plan" == assistant["reasoning_content"]
        assert not {"reasoning", "reasoning_details"} & assistant.keys()


def _cerebras(results: dict[str, Result]) -> None:
    for r in results.values():
        assistant = r.messages[1]
        assert ("plan", False) == (assistant.get("reasoning"), "reasoning_content" in assistant)
        assert "reasoning_details" not in assistant, "a strict schema"


def _mistral(results: dict[str, Result]) -> None:
    chunk = {"type": "thinking", "thinking": [{"type": "text", "text": "plan"}], "closed": True}
    for r in results.values():
        assistant = r.messages[1]
        assert [chunk, {"type": "text", "text": "ok"}] == assistant["content"]
        assert "reasoning_content" not in assistant
    assert results["own"].after is results["own"].before


def _no_details(results: dict[str, Result]) -> None:
    for r in results.values():
        assert "reasoning_details" not in r.messages[1]
        assert r.actions(Action.DROPPED) == ["messages[1].reasoning_details"]


ROUTED = [{"type": "reasoning.encrypted", "data": "vertex-made", "id": "c1", "format": "x"}]
MISTRAL_TURN = {
    "role": "assistant",
    "content": [
        {"type": "thinking", "thinking": [{"type": "text", "text": "plan"}], "closed": True},
        {"type": "text", "text": "ok"},
    ],
    "tool_calls": [call("c1")],
}
COPILOT_TURN = {**CA(None, "c1"), "reasoning_text": "plan", "reasoning_opaque": "opq-1"}

DIALECT_CASES: tuple[Case, ...] = (
    Case(
        "vllm-reasoning-field",
        {
            "own": Variant(
                req(
                    CHAT,
                    VLLM,
                    chat_body("moonshotai/Kimi-K2.6", CU(), VLLM_TURN, CT("c1")),
                    dialect="vllm",
                )
            ),
            "renamed": Variant(
                req(
                    CHAT,
                    VLLM,
                    chat_body("Qwen/Qwen3.6", CU(), CA("plan", "c1"), CT("c1")),
                    dialect="vllm",
                )
            ),
            "restored": Variant(
                req(
                    CHAT,
                    VLLM,
                    chat_body("moonshotai/Kimi-K2.6", CU(), CA(None, "c1"), CT("c1")),
                    dialect="vllm",
                ),
                observed=(_observed_message(VLLM, "moonshotai/Kimi-K2.6", VLLM_TURN),),
            ),
        },
        _vllm,
    ),
    Case(
        "copilot-reasoning-pair",
        {
            "own": Variant(
                req(
                    CHAT,
                    "https://api.githubcopilot.com",
                    chat_body("claude-sonnet-5", CU(), COPILOT_TURN, CT("c1")),
                )
            ),
            "foreign": Variant(
                req(
                    CHAT,
                    "https://api.githubcopilot.com",
                    chat_body("claude-sonnet-5", CU(), COPILOT_TURN, CT("c1")),
                ),
                observed=(
                    _observed_message(
                        "https://api.githubcopilot.com", "gemini-3-pro", COPILOT_TURN
                    ),
                ),
            ),
            "lost": Variant(
                req(
                    CHAT,
                    "https://api.githubcopilot.com",
                    chat_body("claude-sonnet-5", CU(), CA(None, "c1"), CT("c1")),
                ),
                observed=(
                    _observed_message(
                        "https://api.githubcopilot.com", "claude-sonnet-5", COPILOT_TURN
                    ),
                ),
            ),
        },
        _copilot,
    ),
    Case(
        "fireworks-strict-schema",
        {
            "kimi": Variant(
                req(
                    CHAT,
                    "https://api.fireworks.ai/inference/v1",
                    chat_body(
                        "accounts/fireworks/models/kimi-k3",
                        CU(),
                        {
                            **CA(None, "c1"),
                            "reasoning": "plan",
                            "reasoning_details": [{"type": "reasoning.text", "text": "plan"}],
                        },
                        CT("c1"),
                    ),
                )
            ),
            "lost": Variant(
                req(
                    CHAT,
                    "https://api.fireworks.ai/inference/v1",
                    chat_body("accounts/fireworks/models/kimi-k3", CU(), CA(None, "c1"), CT("c1")),
                ),
                observed=(
                    _observed_message(
                        "https://api.fireworks.ai/inference/v1",
                        "accounts/fireworks/models/kimi-k3",
                        CA("plan", "c1"),
                    ),
                ),
            ),
        },
        _fireworks,
    ),
    Case(
        "cerebras-reasoning",
        {
            "glm": Variant(
                req(
                    CHAT,
                    "https://api.cerebras.ai/v1",
                    chat_body("zai-glm-4.7", CU(), CA("plan", "c1"), CT("c1")),
                )
            ),
            "strict": Variant(
                req(
                    CHAT,
                    "https://api.cerebras.ai/v1",
                    chat_body(
                        "zai-glm-4.7",
                        CU(),
                        {**CA("plan", "c1"), "reasoning_details": [{"type": "reasoning.text"}]},
                        CT("c1"),
                    ),
                )
            ),
        },
        _cerebras,
    ),
    Case(
        "mistral-thinking-chunks",
        {
            "medium": Variant(
                req(
                    CHAT,
                    "https://api.mistral.ai/v1",
                    chat_body("mistral-medium-3-5", CU(), CA("plan", content="ok"), CU("next")),
                )
            ),
            "own": Variant(
                req(
                    CHAT,
                    "https://api.mistral.ai/v1",
                    chat_body("mistral-medium-3-5", CU(), MISTRAL_TURN, CT("c1")),
                )
            ),
            "lost": Variant(
                req(
                    CHAT,
                    "https://api.mistral.ai/v1",
                    chat_body("mistral-medium-3-5", CU(), CA(None, "c1", content="ok"), CT("c1")),
                ),
                observed=(
                    _observed_message(
                        "https://api.mistral.ai/v1", "mistral-medium-3-5", MISTRAL_TURN
                    ),
                ),
            ),
        },
        _mistral,
    ),
    Case(
        "vendor-no-openrouter-details",
        {
            "kimi": Variant(
                req(
                    CHAT,
                    "https://api.moonshot.ai/v1",
                    chat_body(
                        "kimi-k2.6",
                        CU(),
                        {**CA("plan", "c1"), "reasoning_details": CLAUDE_DETAILS},
                        CT("c1"),
                    ),
                ),
                observed=(
                    _observed_message(
                        OPENROUTER,
                        "moonshotai/kimi-k2.6",
                        {**CA("plan", "c1"), "reasoning_details": CLAUDE_DETAILS},
                    ),
                ),
            )
        },
        _no_details,
    ),
    Case(
        "openrouter-pinned-provider",
        {
            "ai-studio": Variant(
                req(
                    CHAT,
                    OPENROUTER,
                    {
                        **chat_body(
                            "google/gemini-3-pro",
                            CU(),
                            gemini_turn(call("c1"), details=ROUTED),
                            CT("c1"),
                        ),
                        "provider": {"only": ["google-ai-studio"]},
                    },
                ),
                observed=(
                    Observed(
                        CHAT,
                        OPENROUTER,
                        "google/gemini-3-pro",
                        {
                            "provider": "Google",
                            "choices": [
                                {"index": 0, "message": gemini_turn(call("c1"), details=ROUTED)}
                            ],
                        },
                    ),
                ),
            )
        },
        _no_details,
    ),
)
CASES = (*CASES, *DIALECT_CASES)
CASE_IDS = tuple(c.id for c in CASES)
