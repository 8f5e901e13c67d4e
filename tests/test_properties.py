"""The rules on histories, model ids and hosts, and on what is read from outside (JSON text,
configs, bad values), that no case lists (Hypothesis)."""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import ConfigError, InvalidRequest, Pipeline, Request, load_config
from agent.config.parse import MAX_ALIAS_VALUES
from agent.inputs import MAX_DEPTH, decode_at, loads
from agent.integrations import _sse
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.recovery import classify
from agent.testing import Emulator
from tests.builders import CA, CT, CU, SECRET, A, T, U, rth, text, th_s, th_u, tu
from tests.contracts import EXPECTED, FAMILY_OF
from tests.corpus.configs import FIELDS as CONFIG_FIELDS

THINKING = ("thinking", "redacted_thinking")

TARGETS = st.sampled_from(
    [
        ("claude-opus-4-6", None),
        ("claude-sonnet-4-5", None),
        ("claude-haiku-4-5", "https://relay.example.com"),
        ("mimo-v2.5-pro", "https://open.markhub.top"),
        ("house-model", "https://api.xiaomimimo.com/anthropic"),
        ("kimi-k2.6", "https://api.kimi.com/coding"),
        ("deepseek-v4-pro", "https://api.deepseek.com/anthropic"),
        ("deepseek-chat", "https://api.deepseek.com"),
        ("MiniMax-M3", "https://api.minimax.io/anthropic"),
        ("glm-4.7", "https://api.z.ai/api/anthropic"),
        ("qwen3.6-plus", None),
        ("llama-4-maverick", "https://relay.example.com"),
        ("kimi-k3", "https://api.moonshot.ai/anthropic"),
        ("grok-4.3", "https://api.x.ai/v1"),
        ("claude-sonnet-5", "https://api.anthropic.com"),
    ]
)
ANY_TARGET = st.one_of(
    TARGETS,
    st.tuples(
        st.text(min_size=1, max_size=30),
        st.one_of(st.none(), st.sampled_from(["https://x.example", "api.z.ai", "a b"])),
    ),
)

BLOCK_KINDS = ["th_s", "th_u", "th_u_empty", "th_u_empty_sig", "rth", "rth_no_data", "text"]
THINKING_KINDS = BLOCK_KINDS[:-1]


@st.composite
def anthropic_history(draw: st.DrawFn, odd: bool = False) -> list[dict[str, Any]]:
    """A generated Anthropic-wire history; ``odd`` adds the shapes agents also send: steps
    that hold only thinking (up to five blocks), empty assistant turns, and results messages
    with an orphan result (its call never made) and text beside the real results."""
    messages: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 4))):
        messages.append(U(f"task {t}"))
        for s in range(draw(st.integers(1, 3))):
            tag = f"{t}.{s}"
            if odd and draw(st.integers(0, 7)) == 0:
                messages.append(A())  # an empty assistant turn
                break
            only_thinking = odd and draw(st.booleans())
            kinds = THINKING_KINDS if only_thinking else BLOCK_KINDS
            blocks: list[dict[str, Any]] = []
            drawn = draw(st.lists(st.sampled_from(kinds), max_size=5 if odd else 3))
            for k, kind in enumerate(drawn):
                blocks.append(
                    {
                        "th_s": th_s(f"thought {tag}.{k}", f"sig-{tag}.{k}"),
                        "th_u": th_u(f"loose {tag}.{k}"),
                        "th_u_empty": th_u(""),
                        "th_u_empty_sig": th_u(f"empty-signed {tag}.{k}", ""),
                        "rth": rth(f"data-{tag}.{k}"),
                        "rth_no_data": rth(None),
                        "text": text(f"say {tag}.{k}"),
                    }[kind]
                )
            ids = [] if only_thinking else [f"c{tag}.{i}" for i in range(draw(st.integers(0, 2)))]
            uses = [tu(i) for i in ids]
            if draw(st.booleans()) and blocks and uses:  # interleave a tool_use early
                blocks.insert(1, uses.pop(0))
            if not blocks and not uses:
                blocks.append(text(f"done {tag}"))
            messages.append(A(*blocks, *uses))
            if not ids:
                break
            results = T(*ids)
            if odd and draw(st.booleans()):  # an orphan result beside the real ones
                at = draw(st.integers(0, len(ids)))
                results["content"].insert(at, {"type": "tool_result", "tool_use_id": f"g{tag}"})
            if odd and draw(st.booleans()):
                results["content"].append(text(f"more {tag}"))
            messages.append(results)
    return messages


@st.composite
def chat_history(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 4))):
        messages.append(CU(f"task {t}"))
        for s in range(draw(st.integers(1, 3))):
            ids = [f"c{t}.{s}.{i}" for i in range(draw(st.integers(0, 2)))]
            rc = draw(st.sampled_from([None, "", f"reasoning {t}.{s}"]))
            messages.append(CA(rc, *ids, content=None if ids else f"answer {t}.{s}"))
            if not ids:
                break
            messages.extend(CT(i) for i in ids)
    return messages


def _thinking_texts(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b["thinking"] for b in content if b["type"] == "thinking"]


def _tag(value: str) -> str | None:
    """The turn.step tag a generated text or id carries ("thought 1.2.0" -> "1.2")."""
    word = value.split(" ")[-1].lstrip("c")
    parts = word.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _common(request: Request, pipe: Pipeline) -> Request:
    snapshot = copy.deepcopy(request.body)
    out = pipe(request)
    assert snapshot == request.body, "the input is never mutated"
    explained = pipe.explain(request)
    assert out.body == explained.body, "explain sends what a plain call sends"
    counted, counts = pipe.counted(request)
    assert counted.body == out.body, "counted sends what a plain call sends"
    assert Counter(c.action.value for c in explained.changes) == counts, "explain's count"
    again = pipe(Request(api=out.api, base_url=out.base_url, body=out.body))
    assert out.body == again.body, "running twice changes nothing more"
    return out


SETTINGS = settings(
    max_examples=int(os.environ.get("AGENT_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TestAnthropicWire:
    @SETTINGS
    @given(target=TARGETS, history=anthropic_history(), lost=st.booleans())
    def test_contract_holds(
        self, target: tuple[str, str | None], history: list[dict[str, Any]], lost: bool
    ) -> None:
        """Whatever the history, the output obeys the target family's declared contract; also
        when every turn was observed and the agent then lost its thinking (restore)."""
        model, base_url = target
        body = {"model": model, "max_tokens": 1000, "messages": history}
        request = Request(api="anthropic_messages", base_url=base_url, body=body)
        pipe = Pipeline([ThinkingRoundTrip()])
        all_texts = {  # every thinking text the conversation ever had (restore may use them)
            b.get("thinking")
            for m in history
            if isinstance(m["content"], list)
            for b in m["content"]
        }
        if lost:
            for message in history:
                if message["role"] == "assistant":
                    pipe.observe(request, {"type": "message", "content": message["content"]})
                    message["content"] = [
                        b for b in message["content"] if b["type"] not in THINKING
                    ] or [text("kept")]
        contract = EXPECTED[FAMILY_OF[target]].anthropic  # (the evidence's, not the table's)

        out = _common(request, pipe)

        before = [
            b
            for m in history
            if isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] not in THINKING
        ]
        after = [
            b
            for m in out.body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] not in THINKING
        ]
        assert [id(b) for b in before] == [id(b) for b in after], "other blocks: same, in order"
        for message in out.body["messages"]:
            assert message["content"] != [], "never an empty message"
            if message["role"] != "assistant":
                continue
            blocks = message["content"]
            thinking = [b for b in blocks if b["type"] in THINKING]
            assert all("cache_control" not in b for b in thinking)
            if contract.thinking == "pass":
                assert out.body is request.body, "an unknown target gets what the agent sent"
            elif contract.thinking == "drop":
                assert not thinking
            elif contract.thinking == "verify":
                if thinking:
                    assert blocks[0]["type"] in THINKING, "a signed turn starts with thinking"
                for b in thinking:
                    assert b.get("signature") or b.get("data"), "never unsigned to Anthropic"
                    assert b["signature" if b["type"] == "thinking" else "data"].startswith(
                        ("sig-", "data-")
                    ), "never minted"
            else:
                pads = {contract.pad, ""} if contract.pad is not None else {""}
                texts = set(_thinking_texts(message)) - pads
                assert texts <= all_texts
                tags = {_tag(x) for x in texts} | {
                    _tag(b.get("text") or b.get("id", ""))
                    for b in blocks
                    if b["type"] not in THINKING
                }
                assert len(tags - {None}) <= 1, "a message carries only its own reasoning"
                for b in thinking:
                    if b["type"] == "thinking" and not b.get("signature"):
                        has_empty = b.get("signature") == ""
                        assert has_empty == (contract.empty_signature != "forbidden") or (
                            contract.empty_signature == "accepted"
                        )
                        if contract.empty_to_pad:
                            assert b["thinking"] != ""
                needs = any(b["type"] == "tool_use" for b in blocks) and (
                    "tool_calls" in contract.pad_on
                )
                if needs and contract.pad is not None:
                    assert thinking, "a tool-call turn carries thinking"

    @SETTINGS
    @given(target=ANY_TARGET, history=anthropic_history(odd=True))
    def test_any_model_id_or_host(
        self, target: tuple[str, str | None], history: list[dict[str, Any]]
    ) -> None:
        """Any model id and base URL resolves to some family and runs without a crash."""
        model, base_url = target
        body = {"model": model, "messages": history}
        request = Request(api="anthropic_messages", base_url=base_url, body=body)

        _common(request, Pipeline([ToolPairing(), ThinkingRoundTrip()]))


class TestChatWire:
    @SETTINGS
    @given(target=TARGETS, history=chat_history(), lost=st.booleans())
    def test_contract_holds(
        self, target: tuple[str, str | None], history: list[dict[str, Any]], lost: bool
    ) -> None:
        """reasoning_content is kept, restored, padded or removed exactly as the family
        declares; restored only from the turn's own observed reasoning."""
        model, base_url = target
        request = Request(
            api="chat_completions", base_url=base_url, body={"model": model, "messages": history}
        )
        contract = EXPECTED[FAMILY_OF[target]].chat  # (the evidence's, not the table's)
        pipe = Pipeline([ThinkingRoundTrip()])
        own = [m.get("reasoning_content") for m in history]
        if lost:
            for message in history:
                if message["role"] == "assistant":
                    pipe.observe(request, {"choices": [{"message": dict(message)}]})
                    message.pop("reasoning_content", None)

        out = _common(request, pipe)

        assert len(history) == len(out.body["messages"])
        for old, new in zip(history, out.body["messages"], strict=True):
            rest_old = {k: v for k, v in old.items() if k != "reasoning_content"}
            assert rest_old == {k: v for k, v in new.items() if k != "reasoning_content"}
            if new["role"] != "assistant":
                assert old is new
                continue
            rc = new.get("reasoning_content")
            if contract.reasoning_content == "drop":
                assert "reasoning_content" not in new
                continue
            if contract.reasoning_content == "pass":
                assert old is new, "an unknown target gets what the agent sent"
                continue
            mine = own[history.index(old)]
            assert rc in (old.get("reasoning_content"), mine, contract.pad), "never borrowed"
            if new.get("tool_calls") and "tool_calls" in contract.pad_on:
                assert "reasoning_content" in new
            if contract.empty_to_pad:
                assert rc != ""


#: (emulator family, model id, base URL): known ids, vendor hosts, unknown aliases.
EMULATED = st.sampled_from(
    [
        ("anthropic", "claude-opus-4-6", None),
        ("anthropic", "claude-sonnet-4-5", None),
        ("anthropic", "relay-pro", "https://relay.example.com"),
        ("mimo", "mimo-v2.5-pro", "https://open.markhub.top"),
        ("mimo", "relay-pro", "https://open.markhub.top"),
        ("kimi", "kimi-k2.6", "https://api.kimi.com/coding"),
        ("kimi", "claude-opus-4-6", "https://api.kimi.com/coding"),
        ("deepseek", "deepseek-v4-pro", "https://api.deepseek.com/anthropic"),
        ("deepseek", "relay-pro", "https://relay.example.com"),
        ("deepseek", "deepseek-chat", "https://api.deepseek.com"),
        ("minimax", "MiniMax-M3", "https://api.minimax.io/anthropic"),
        ("glm", "glm-4.7", "https://api.z.ai/api/anthropic"),
        ("qwen", "relay-pro", "https://relay.example.com"),
        ("strict", "relay-pro", "https://relay.example.com/v1"),
        ("strict", "mistral-large", "https://api.mistral.ai/v1"),
        ("kimi", "kimi-k3", "https://api.moonshot.ai/v1"),
        ("kimi", "kimi-k2.6", "https://api.kimi.com/coding"),
        ("xai", "grok-4.3", "https://api.x.ai/v1"),
    ]
)
ROUTES = {"anthropic_messages": "/v1/messages", "chat_completions": "/v1/chat/completions"}


def _signed_by(emulator: Emulator, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history with every signed thinking block signed by the emulator (so a Claude
    emulator accepts what its model wrote, and only that)."""
    out = []
    for message in history:
        content = message.get("content")
        if message["role"] == "assistant" and isinstance(content, list):
            content = [
                {**b, "signature": emulator.sign(b["thinking"])}
                if b["type"] == "thinking" and b.get("signature")
                else b
                for b in content
            ]
            message = {**message, "content": content}
        out.append(message)
    return out


#: (emulator family, host, model id, base URL, explicit dialect): one per host dialect, and a
#: host no row knows in front of vLLM.
HOSTED = st.sampled_from(
    [
        ("kimi", "vllm", "moonshotai/Kimi-K2.6", "http://gpu.internal/v1", "vllm"),
        ("deepseek", "vllm", "deepseek-ai/DeepSeek-V4-Pro", "http://gpu.internal/v1", None),
        ("glm", "cerebras", "zai-glm-4.7", "https://api.cerebras.ai/v1", None),
        ("openai", "cerebras", "gpt-oss-120b", "https://api.cerebras.ai/v1", None),
        (
            "kimi",
            "fireworks",
            "accounts/fireworks/models/kimi-k3",
            "https://api.fireworks.ai/v1",
            None,
        ),
        ("deepseek", "fireworks", "deepseek-v4-pro", "https://llm.internal/v1", None),
        ("anthropic", "copilot", "claude-sonnet-5", "https://api.githubcopilot.com", None),
        ("mistral", "mistral", "mistral-medium-3-5", "https://api.mistral.ai/v1", None),
        ("mistral", "mistral", "mistral-large", "https://api.mistral.ai/v1", None),
    ]
)
FIELDS = ["reasoning_content", "reasoning", "reasoning_text", None]


@st.composite
def hosted_history(draw: st.DrawFn, sign: Any) -> list[dict[str, Any]]:
    """A chat history whose assistant messages carry reasoning in any field a host or an
    SDK uses (Copilot's pair signed right, wrong or half; Mistral's chunks; details)."""
    messages = []
    for m in draw(chat_history()):
        if m["role"] != "assistant":
            messages.append(m)
            continue
        text = m.pop("reasoning_content", None)
        field = draw(st.sampled_from(FIELDS))
        if text is not None and field is not None:
            m[field] = text
        extra = draw(st.sampled_from(["", "pair", "bad-pair", "half", "chunk", "details"]))
        if extra == "pair" and text:
            m.update(reasoning_text=text, reasoning_opaque=sign(text))
        elif extra == "bad-pair":
            m.update(reasoning_text="t", reasoning_opaque="forged")
        elif extra == "half":
            m["reasoning_text"] = "alone"
        elif extra == "chunk" and text:
            chunk = {"type": "thinking", "thinking": [{"type": "text", "text": text}]}
            m["content"] = [{**chunk, "closed": True}]
        elif extra == "details":
            m["reasoning_details"] = [{"type": "reasoning.text", "text": text or "x"}]
        messages.append(m)
    return messages


class TestDoNoHarm:
    def _check(self, family: str, model: str, base_url: str | None, api: str, body: Any) -> None:
        emulator = Emulator(family)
        raw, _, _ = emulator.handle(ROUTES[api], copy.deepcopy(body))
        request = Request(api=api, base_url=base_url, body=body)

        sent = Pipeline([ToolPairing(), ThinkingRoundTrip()])(request)
        status, answer, _ = Emulator(family).handle(ROUTES[api], dict(sent.body))

        if raw == 200:
            assert 200 == status, answer

    @SETTINGS
    @given(target=EMULATED, history=anthropic_history(), thinking=st.booleans())
    def test_anthropic_wire(
        self, target: tuple[str, str, str | None], history: list[dict[str, Any]], thinking: bool
    ) -> None:
        """Wherever the emulated provider accepts the agent's own request, it accepts the
        pipeline's (the pipeline never makes a call fail that would have succeeded)."""
        family, model, base_url = target
        if family == "strict":
            return  # no Anthropic wire there
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": 100,
            "messages": _signed_by(Emulator(family), history),
        }
        if thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 50}

        self._check(family, model, base_url, "anthropic_messages", body)

    @SETTINGS
    @given(target=HOSTED, data=st.data())
    def test_host_dialects(self, target: tuple[str, str, str, str, str | None], data: Any) -> None:
        """Behind every host dialect too: wherever the host accepts the agent's own request,
        it accepts the pipeline's, and no reasoning that reached the model without the
        pipeline is lost with it."""
        family, host, model, base_url, dialect = target
        history = data.draw(hosted_history(Emulator(family).sign))
        body = {"model": model, "messages": history}
        raw = Emulator(family, host=host)
        status_raw, _, _ = raw.handle(ROUTES["chat_completions"], copy.deepcopy(body))
        request = Request(api="chat_completions", base_url=base_url, body=body, dialect=dialect)

        sent = Pipeline([ToolPairing(), ThinkingRoundTrip()])(request)
        ours = Emulator(family, host=host)
        status, answer, _ = ours.handle(ROUTES["chat_completions"], dict(sent.body))

        if status_raw == 200:
            assert 200 == status, answer
            lost = [a for a, b in zip(raw.reached[0], ours.reached[0], strict=False) if a and not b]
            assert not lost, "reasoning that reached the model without the pipeline"

    @SETTINGS
    @given(target=EMULATED, history=chat_history(), thinking=st.booleans())
    def test_chat_wire(
        self, target: tuple[str, str, str | None], history: list[dict[str, Any]], thinking: bool
    ) -> None:
        """The same on the chat wire."""
        family, model, base_url = target
        if family == "anthropic":
            return  # no chat wire there
        body: dict[str, Any] = {"model": model, "messages": history}
        if thinking:
            body["thinking"] = {"type": "enabled"}

        self._check(family, model, base_url, "chat_completions", body)


OPTIONS = st.fixed_dictionaries(
    {
        "unsigned_to_anthropic": st.sampled_from(["drop", "text"]),
        "foreign": st.sampled_from(["pad", "keep_text"]),  # (drop, deprecated, sends pad's)
        "trusted_models": st.sampled_from([(), ("claude-*",), ("*",)]),
        "on_missing_loop_thinking": st.sampled_from(["send", "raise", "drop_param"]),
        "restore": st.booleans(),
    }
)
#: where earlier turns of the conversation were answered (observed before the call)
ELSEWHERE = st.sampled_from(
    [
        ("claude-sonnet-4-5", None),
        ("kimi-k2.6", "https://api.kimi.com/coding"),
        ("mimo-v2.5-pro", "https://open.markhub.top"),
    ]
)


def _decorated(history: list[dict[str, Any]], cache: bool, tail: str | None) -> None:
    """``cache_control`` on every thinking block (agents put it anywhere) and, optionally, a
    trailing assistant message that holds only thinking: in the last turn, or as a new turn of
    its own (when it is left out, the turn before it is the latest one)."""
    for message in history:
        content = message.get("content")
        if cache and isinstance(content, list):
            message["content"] = [
                {**b, "cache_control": {"type": "ephemeral"}} if b.get("type") in THINKING else b
                for b in content
            ]
    if tail == "new-turn":
        history.append(U("one more"))
    if tail is not None:
        history.append(A(th_u("half a thought")))


def _containers(value: Any, out: set[int]) -> set[int]:
    if isinstance(value, dict | list):
        out.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, out)
    return out


def _twice(pipe: Pipeline, request: Request) -> None:
    """pipe(pipe(r)) == pipe(r), and the output shares no object with the store: marking
    every new container of the output changes nothing sent next."""
    from agent import ThinkingContractError

    try:
        out = pipe(request)
    except ThinkingContractError:
        return  # ``raise`` refused the request: nothing was sent
    again = pipe(Request(api=out.api, base_url=out.base_url, body=out.body))
    assert again.body == out.body, "running twice changes nothing more"
    expected = copy.deepcopy(out.body)
    ours = _containers(request.body, set())
    stack: list[Any] = [out.body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list) and id(value) not in ours:
            if isinstance(value, dict):
                stack.extend(value.values())
                value["__marked__"] = True
            else:
                stack.extend(value)
    assert pipe(request).body == expected, "no output object is shared with the store"


#: which assistant messages' reasoning is observed a second time, from the other target
ECHOES = st.sampled_from([(), (0,), (1,), (0, 1)])


def _echoed(i: int, echo: tuple[int, ...]) -> bool:
    return i % 2 in echo


class TestIdempotence:
    @SETTINGS
    @given(
        target=TARGETS,
        options=OPTIONS,
        history=anthropic_history(odd=True),
        elsewhere=ELSEWHERE,
        thinking=st.booleans(),
        lost=st.booleans(),
        cache=st.booleans(),
        tail=st.sampled_from([None, "same-turn", "new-turn"]),
        echo=ECHOES,
        one_target=st.booleans(),
    )
    def test_anthropic_wire(
        self,
        target: tuple[str, str | None],
        options: dict[str, Any],
        history: list[dict[str, Any]],
        elsewhere: tuple[str, str | None],
        thinking: bool,
        lost: bool,
        cache: bool,
        tail: str | None,
        echo: tuple[int, ...],
        one_target: bool,
    ) -> None:
        """For every option value, a second run changes nothing, and no output object is
        the store's: also with cache_control on thinking, a trailing message that holds only
        thinking (in the last turn or a new one), thinking-only and empty assistant turns,
        orphan results beside real ones, every turn observed at the target or every other
        one at another target, thinking lost by the agent, and the same reasoning observed
        again from the other target (the store's index then names that one)."""
        model, base_url = target
        _decorated(history, cache, tail)
        body: dict[str, Any] = {"model": model, "max_tokens": 100, "messages": history}
        if thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 50}
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(**options)])
        where = Request(api="anthropic_messages", base_url=elsewhere[1], body={**body})
        where = Request(
            api="anthropic_messages", base_url=elsewhere[1], body={**body, "model": elsewhere[0]}
        )
        here = Request(api="anthropic_messages", base_url=base_url, body=body)
        echoes: list[tuple[Request, list[dict[str, Any]]]] = []
        for i, message in enumerate(history):
            if message["role"] == "assistant" and isinstance(message["content"], list):
                seen = where if i % 2 and not one_target else here
                pipe.observe(
                    seen, {"type": "message", "content": copy.deepcopy(message["content"])}
                )
                if _echoed(i, echo):
                    other = here if seen is where else where
                    thinking_only = [b for b in message["content"] if b["type"] in THINKING]
                    echoes.append((other, copy.deepcopy(thinking_only)))
                if lost:
                    message["content"] = [
                        b for b in message["content"] if b["type"] not in THINKING
                    ] or [text("kept")]
        for other, blocks in echoes:
            pipe.observe(other, {"type": "message", "content": blocks})

        _twice(pipe, Request(api="anthropic_messages", base_url=base_url, body=body))

    @SETTINGS
    @given(
        model=st.sampled_from(["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]),
        history=anthropic_history(odd=True),
        tail=st.sampled_from(["same-turn", "new-turn"]),
        lost=st.booleans(),
        thinking=st.booleans(),
    )
    def test_a_left_out_message_reveals_the_turn_before(
        self,
        model: str,
        history: list[dict[str, Any]],
        tail: str,
        lost: bool,
        thinking: bool,
    ) -> None:
        """On a model that keeps only the latest turn's thinking, a last message left out
        (it held only unsigned thinking) makes the turn before it the latest: the first run
        sends that turn as the latest one, so the second run, which no longer sees the
        message, sends the same (every turn observed, so restore could put thinking back)."""
        _decorated(history, False, tail)
        body: dict[str, Any] = {"model": model, "max_tokens": 100, "messages": history}
        if thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 50}
        request = Request(api="anthropic_messages", body=body)
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        for message in history:
            if message["role"] == "assistant":
                pipe.observe(request, {"type": "message", "content": list(message["content"])})
                if lost:
                    message["content"] = [
                        b for b in message["content"] if b["type"] not in THINKING
                    ] or [text("kept")]

        _twice(pipe, request)

    @SETTINGS
    @given(
        target=TARGETS,
        options=OPTIONS,
        history=chat_history(),
        elsewhere=ELSEWHERE,
        thinking=st.booleans(),
        lost=st.booleans(),
        echo=ECHOES,
    )
    def test_chat_wire(
        self,
        target: tuple[str, str | None],
        options: dict[str, Any],
        history: list[dict[str, Any]],
        elsewhere: tuple[str, str | None],
        thinking: bool,
        lost: bool,
        echo: tuple[int, ...],
    ) -> None:
        """The same on the chat wire."""
        model, base_url = target
        body: dict[str, Any] = {"model": model, "messages": history}
        if thinking:
            body["thinking"] = {"type": "enabled"}
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(**options)])
        where = Request(
            api="chat_completions", base_url=elsewhere[1], body={**body, "model": elsewhere[0]}
        )
        here = Request(api="chat_completions", base_url=base_url, body=body)
        echoes = []
        for i, message in enumerate(history):
            if message["role"] == "assistant":
                pipe.observe(where if i % 2 else here, {"choices": [{"message": dict(message)}]})
                if _echoed(i, echo) and message.get("reasoning_content"):
                    reasoning = {"reasoning_content": message["reasoning_content"]}
                    echoes.append((here if i % 2 else where, {"choices": [{"message": reasoning}]}))
                if lost:
                    message.pop("reasoning_content", None)
        for other, answer in echoes:
            pipe.observe(other, answer)

        _twice(pipe, Request(api="chat_completions", base_url=base_url, body=body))


# ---------------------------------------------------------------- the other carriers

MODELS_ELSEWHERE = ["gpt-5", "o3", "gemini-3-pro-preview", "gemini-2.5-flash"]


@st.composite
def responses_input(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A Responses input with reasoning items (whole, bare, referenced, lost) and the
    responses observed before (each reasoning item from some model)."""
    items: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    observed: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 4))):
        rs = {"type": "reasoning", "id": f"rs_{n}", "summary": [], "encrypted_content": f"e{n}"}
        fc = {
            "type": "function_call",
            "id": f"fc_{n}",
            "call_id": f"call_{n}",
            "name": "run",
            "arguments": "{}",
        }
        cmp = {"type": "compaction", "id": f"cmp_{n}", "encrypted_content": f"c{n}"}
        compacted = draw(st.booleans())
        output = [cmp, rs, fc] if compacted else [rs, fc]
        if draw(st.booleans()):
            observed.append({"model": draw(st.sampled_from(MODELS_ELSEWHERE)), "output": output})
        if compacted and draw(st.booleans()):
            items.append(cmp)  # (else the agent lost it)
        shape = draw(st.sampled_from(["whole", "bare", "reference", "lost", "fc-no-id"]))
        if shape == "whole":
            items.append(rs)
        elif shape == "bare":
            items.append({k: v for k, v in rs.items() if k != "encrypted_content"})
        elif shape == "reference":
            items.append({"type": "item_reference", "id": rs["id"]})
        items.append(fc if shape != "fc-no-id" else {k: v for k, v in fc.items() if k != "id"})
        if draw(st.booleans()):
            items.append({"type": "function_call_output", "call_id": fc["call_id"], "output": "ok"})
    return items, observed


@st.composite
def gemini_contents(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Native Gemini contents with signed, unsigned and foreign-signed function calls."""
    contents: list[dict[str, Any]] = [{"role": "user", "parts": [{"text": "go"}]}]
    observed: list[dict[str, Any]] = []
    for n in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            contents.append({"role": "user", "parts": [{"text": f"task {n}"}]})
        part = {"functionCall": {"name": "run", "args": {"n": n}}, "thoughtSignature": f"s{n}"}
        if draw(st.booleans()):
            observed.append({"model": draw(st.sampled_from(MODELS_ELSEWHERE)), "parts": [part]})
        if draw(st.booleans()):
            part = {"functionCall": part["functionCall"]}
        parts = [part] + ([{"functionCall": {"name": "run", "args": {"n": -n}}}] if n % 2 else [])
        contents.append({"role": "model", "parts": parts})
        contents.append(
            {"role": "user", "parts": [{"functionResponse": {"name": "run", "response": {}}}]}
        )
    return contents, observed


def _sealed_by(
    emulator: Emulator, model: str, items: list[Any], observed: list[Any]
) -> tuple[list[Any], list[Any]]:
    """The input and observed answers with the items ``model`` answered sealed the way the
    emulator seals them (what its server really returned), so restoring them is no fake."""
    own = {
        o["encrypted_content"]: (
            emulator.compaction(o["id"])["encrypted_content"]
            if o["type"] == "compaction"
            else "enc_" + emulator.sign(f"{model}:{o['id']}")
        )
        for seen in observed
        if seen["model"] == model
        for o in seen["output"]
        if o.get("type") in ("reasoning", "compaction")
    }

    def sealed(item: dict[str, Any]) -> dict[str, Any]:
        key = item.get("encrypted_content")
        return {**item, "encrypted_content": own[key]} if key in own else item

    return [sealed(i) for i in items], [
        {**seen, "output": [sealed(o) for o in seen["output"]]} for seen in observed
    ]


def _carrier_checks(pipe: Pipeline, request: Request) -> Request:
    snapshot = copy.deepcopy(request.body)
    out = pipe(request)
    assert snapshot == request.body, "the input is never mutated"
    explained = pipe.explain(request)
    assert out.body == explained.body, "explain sends what a plain call sends"
    counted, counts = pipe.counted(request)
    assert counted.body == out.body, "counted sends what a plain call sends"
    assert Counter(c.action.value for c in explained.changes) == counts, "explain's count"
    again = pipe(Request(api=out.api, base_url=out.base_url, body=out.body))
    assert out.body == again.body, "running twice changes nothing more"
    return out


class TestOtherCarriers:
    @SETTINGS
    @given(
        target=st.sampled_from(["gpt-5", "o3", "grok-4.3", "house-model"]),
        store=st.sampled_from([None, True, False]),
        history=responses_input(),
    )
    def test_responses(
        self,
        target: str,
        store: bool | None,
        history: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    ) -> None:
        """Responses: never a bare id with store false to OpenAI (others keep the agent's
        items), never another model's item, a reasoning item always followed by what it led
        to, no function call id without its reasoning, compaction items in their order;
        idempotent, input untouched."""
        items, observed = history
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        for seen in observed:
            sent = Request(api="responses", body={"model": seen["model"], "input": []})
            pipe.observe(sent, {"object": "response", "output": seen["output"]})
        body: dict[str, Any] = {"model": target, "input": items}
        if store is not None:
            body["store"] = store
        out = _carrier_checks(pipe, Request(api="responses", body=body)).body["input"]
        foreign = {o["output"][0]["encrypted_content"] for o in observed if o["model"] != target}
        openai = target in ("gpt-5", "o3")  # (the 404 for a bare id is OpenAI's own)
        compactions = [i["id"] for i in out if i.get("type") == "compaction"]
        assert compactions == sorted(compactions, key=lambda c: int(c[4:])), "never reordered"
        for k, item in enumerate(out):
            if item.get("type") == "reasoning":
                assert item.get("encrypted_content") not in foreign
                if store is False and openai:
                    assert "encrypted_content" in item
                later = next((i for i in out[k + 1 :] if i.get("type") != "reasoning"), None)
                assert later is not None
                assert later.get("type") == "function_call"
            if item.get("type") == "item_reference" and store is False and openai:
                raise AssertionError("a reference with store: false")

    @SETTINGS
    @given(
        target=st.sampled_from(
            [("openai", "gpt-5"), ("deepseek", "deepseek-v4-pro"), ("xai", "grok-4.3")]
        ),
        store=st.sampled_from([None, False]),
        history=responses_input(),
    )
    def test_responses_do_no_harm(
        self,
        target: tuple[str, str],
        store: bool | None,
        history: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    ) -> None:
        """Wherever a Responses server (OpenAI, a bridge to DeepSeek, xAI) accepts the
        agent's own input, compaction items included, it accepts the pipeline's."""
        family, model = target
        items, observed = _sealed_by(Emulator(family), model, *history)
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        for seen in observed:
            sent = Request(api="responses", body={"model": seen["model"], "input": []})
            pipe.observe(sent, {"object": "response", "output": seen["output"]})
        body: dict[str, Any] = {"model": model, "input": items}
        if store is not None:
            body["store"] = store
        raw, _, _ = Emulator(family).handle("/v1/responses", copy.deepcopy(body))
        out = pipe(Request(api="responses", body=body))
        status, answer, _ = Emulator(family).handle("/v1/responses", dict(out.body))

        if raw == 200:
            assert 200 == status, answer

    @SETTINGS
    @given(
        target=st.sampled_from(["gemini-3-pro-preview", "gemini-2.5-flash", "house-model"]),
        history=gemini_contents(),
    )
    def test_gemini_native(
        self, target: str, history: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        """Gemini natively: no signature observed from another model is sent; Gemini 3's
        current-turn steps always carry one; idempotent, input untouched."""
        contents, observed = history
        pipe = Pipeline([ThinkingRoundTrip()])
        for seen in observed:
            sent = Request(api="gemini", body={"model": seen["model"], "contents": []})
            pipe.observe(
                sent, {"candidates": [{"content": {"role": "model", "parts": seen["parts"]}}]}
            )
        request = Request(api="gemini", body={"model": target, "contents": contents})
        out = _carrier_checks(pipe, request).body["contents"]
        foreign = {
            p["thoughtSignature"] for o in observed if o["model"] != target for p in o["parts"]
        }
        start = max(
            (i + 1 for i, c in enumerate(out) if c["role"] == "user" and "text" in c["parts"][0]),
            default=0,
        )
        for i, content in enumerate(out):
            if content["role"] != "model":
                continue
            signatures = [p.get("thoughtSignature") for p in content["parts"]]
            assert not foreign & set(signatures)
            if i >= start and target.startswith("gemini-3"):
                assert signatures[0] is not None


# ---------------------------------------------------------------- what is read from outside

#: openers of one level and what closes each (arrays and objects, with and without siblings)
LEVELS = {"[": "]", '{"k":': "}", "[1,": "]", '{"a":1,"b":': "}"}
#: what sits innermost, and the levels it adds
INNERMOST = {"0": 0, '"s"': 0, "[]": 1, "{}": 1}


@st.composite
def nested_json(draw: st.DrawFn) -> tuple[str, int]:
    """JSON text and its nesting depth: a cycle of openers repeated to a depth around the
    bound or far past it."""
    depth = draw(
        st.one_of(
            st.integers(1, 2 * MAX_DEPTH),
            st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 5_000, 50_000]),
        )
    )
    cycle = draw(st.lists(st.sampled_from(list(LEVELS)), min_size=1, max_size=4))
    inner = draw(st.sampled_from(list(INNERMOST)))
    opens = (cycle * (depth // len(cycle) + 1))[: depth - INNERMOST[inner]]
    text = "".join(opens) + inner + "".join(LEVELS[o] for o in reversed(opens))
    return text, depth


RELAY_PREFIXES = st.sampled_from(
    ["", "data:", "Error from provider(x): ", "litellm.BadRequestError: AnthropicException - "]
)
REAL_ERRORS = st.sampled_from(
    [
        None,
        json.dumps({"error": {"message": "messages.1.content.0: Invalid `signature` in "
                              "`thinking` block"}}),
        json.dumps({"error": {"message": "The `reasoning_content` in the thinking mode must "
                              "be passed back to the API."}}),
    ]
)  # fmt: skip


class TestWhatIsReadFromOutside:
    @SETTINGS
    @given(nested=nested_json(), as_bytes=st.booleans())
    def test_one_nesting_bound(self, nested: tuple[str, int], as_bytes: bool) -> None:
        """Any JSON text decodes when it nests at most MAX_DEPTH levels and is refused as no
        JSON (a ValueError, never a RecursionError) when deeper, through every decoder."""
        text, depth = nested
        data = text.encode() if as_bytes else text
        if depth <= MAX_DEPTH:
            assert json.loads(text) == loads(data) == _sse.loads(text.encode())
            assert (json.loads(text), len(text) + 1) == decode_at(f"x{text} tail", 1)
            return
        with pytest.raises(ValueError, match="nested too deeply"):
            loads(data)
        with pytest.raises(ValueError, match="nested too deeply"):
            decode_at(f"x{text}", 1)
        assert _sse.loads(text.encode()) is None

    @SETTINGS
    @given(nested=nested_json(), prefix=RELAY_PREFIXES, error=REAL_ERRORS, wrapped=st.booleans())
    def test_recovery_reads_any_error_body(
        self, nested: tuple[str, int], prefix: str, error: str | None, wrapped: bool
    ) -> None:
        """An error body holding JSON text of any depth, in a relay's wrapper or a JSON string,
        is read without an exception; a provider's error beside it is still found."""
        text = prefix + nested[0] + (f" {error}" if error else "")
        body: Any = {"error": {"message": text}} if wrapped else text

        found = classify(400, body)

        expected = classify(400, error) if error else None
        if len(text) < 60_000:  # (the whole text is looked at)
            assert (expected and expected.kind) == (found and found.kind)


def _aliases(anchors: list[list[Any]]) -> tuple[str, int, int, int]:
    """A YAML list of anchored lists, each of scalars and aliases of earlier anchors, and,
    counted independently of the library, its nodes (each once), its nodes with every alias
    expanded, and its depth expanded."""
    size: list[int] = []
    depth: list[int] = []
    items = []
    for n, members in enumerate(anchors):
        written = [f"*a{m}" if isinstance(m, int) else m for m in members]
        items.append(f"&a{n} [{', '.join(written)}]")
        size.append(1 + sum(size[m] if isinstance(m, int) else 1 for m in members))
        depth.append(1 + max((depth[m] for m in members if isinstance(m, int)), default=0))
    distinct = 1 + len(anchors) + sum(1 for a in anchors for m in a if not isinstance(m, int))
    return f"[{', '.join(items)}]", distinct, 1 + sum(size), 1 + max(depth, default=0)


@st.composite
def alias_graphs(draw: st.DrawFn) -> list[list[Any]]:
    """Anchored lists whose members are scalars or aliases of earlier anchors: chains, fans and
    bombs of every size around the expansion bound."""
    anchors: list[list[Any]] = []
    for n in range(draw(st.integers(1, 9))):
        fan = draw(st.integers(0, 12))
        refs = draw(st.lists(st.integers(0, n - 1), min_size=fan, max_size=fan)) if n else []
        anchors.append([*refs, *(["lol"] * draw(st.integers(0, 3)))])
    return anchors


#: where an alias graph is put, and how many levels the place itself nests
ALIAS_PLACES = st.sampled_from(
    [
        ("terminal: {V}", 1),
        ("providers: {{p: {{model: {V}}}}}", 3),
        ("middleware: [{{thinking_round_trip: {{trusted_models: {V}}}}}]", 4),
        ("families: [{{name: x, models: [x], anthropic: {{keep_all_from: {{opus: {V}}}}}}}]", 5),
    ]
)


class TestConfigsFromOutside:
    @SETTINGS
    @given(anchors=alias_graphs(), place=ALIAS_PLACES)
    def test_aliases_are_refused_exactly_past_the_bounds(
        self, anchors: list[list[Any]], place: tuple[str, int], tmp_path_factory: Any
    ) -> None:
        """Whatever anchors and aliases a config holds, it is refused whole exactly when its
        aliases would add more than MAX_ALIAS_VALUES values or nest it deeper than MAX_DEPTH
        (counted here independently), before any field reads it; otherwise the fields decide."""
        template, levels = place
        value, distinct, expanded, depth = _aliases(anchors)
        path = tmp_path_factory.mktemp("alias") / "agent.yaml"
        path.write_text(template.format(V=value) + "\n")

        try:
            load_config(path)
            refused = ""
        except ConfigError as exc:
            refused = exc.problem
        if expanded - distinct > MAX_ALIAS_VALUES:
            assert "aliases here expand to more than" in refused
        elif levels + depth > MAX_DEPTH:
            assert "nested too deeply" in refused
        else:
            assert "aliases" not in refused
            assert "nested too deeply" not in refused


WORD_FIELDS = [
    "model",
    "messages",
    "role",
    "content",
    "block-type",
    "thinking-text",
    "signature",
    "tool-calls",
    "reasoning-content",
]
SECRET_VALUES = st.recursive(
    st.sampled_from([SECRET, 1, 1.5, True, None, f"x {SECRET} y"]),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["api_key", "k", SECRET]), inner, min_size=1, max_size=3),
    ),
    max_leaves=6,
)


class TestValuesNeverShown:
    @SETTINGS
    @given(
        wire=st.sampled_from(["anthropic", "chat"]),
        place=st.sampled_from(WORD_FIELDS),
        value=SECRET_VALUES,
    )
    def test_a_body_value_is_named_by_path_and_type(
        self, wire: str, place: str, value: Any
    ) -> None:
        """Whatever value, holding a key anywhere inside, stands in a body field, the call
        either goes or raises InvalidRequest naming the path and type, bounded, never the key."""
        from tests.corpus.make import ANTHROPIC, CHAT
        from tests.test_corpus import _base

        places: dict[str, Any] = ANTHROPIC if wire == "anthropic" else CHAT
        if place not in places:
            return
        body = _base(wire)
        for message in body["messages"]:  # the key only in the value tried
            if message.get("content") and isinstance(message["content"], str):
                message["content"] = "text"
        target: Any = body
        path = places[place][0]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        api = "anthropic_messages" if wire == "anthropic" else "chat_completions"

        try:
            Pipeline([ToolPairing(), ThinkingRoundTrip()])(Request(api=api, body=body))
            message = ""
        except InvalidRequest as exc:
            message = str(exc)
        assert SECRET not in message
        assert len(message) <= 1000

    @SETTINGS
    @given(
        place=st.sampled_from(sorted(CONFIG_FIELDS)),
        token=st.sampled_from(
            [f"*{SECRET}", f"!{SECRET} x", f"!<{SECRET}> x", f"!{SECRET}!x y", f"!!int {SECRET}",
             f"!!float {SECRET}", f"!!timestamp {SECRET}", f"!!set {SECRET}",
             f"{{k: [{SECRET}]}}", f"[[{SECRET}]]", f"&{SECRET} [*{SECRET}x]"]
        ),
    )  # fmt: skip
    def test_a_config_token_is_never_shown(
        self, place: str, token: str, tmp_path_factory: Any
    ) -> None:
        """A key written as a YAML token (an alias, a tag, a core tag's value) or inside a
        value of the wrong type, in any field, fails at load or loads; its error never shows
        the key and is bounded."""
        path = tmp_path_factory.mktemp("token") / "agent.yaml"
        path.write_text(CONFIG_FIELDS[place].format(B=token) + "\n")

        try:
            load_config(path)
            message = ""
        except ConfigError as exc:
            message = str(exc)
        assert SECRET not in message
        assert len(message) <= 1000
