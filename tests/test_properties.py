"""The rules on histories, model ids and hosts that no case lists (Hypothesis)."""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing import Emulator
from tests.builders import CA, CT, CU, A, T, U, rth, text, th_s, th_u, tu
from tests.contracts import EXPECTED, FAMILY_OF

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


@st.composite
def anthropic_history(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 4))):
        messages.append(U(f"task {t}"))
        for s in range(draw(st.integers(1, 3))):
            tag = f"{t}.{s}"
            blocks: list[dict[str, Any]] = []
            for k, kind in enumerate(draw(st.lists(st.sampled_from(BLOCK_KINDS), max_size=3))):
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
            ids = [f"c{tag}.{i}" for i in range(draw(st.integers(0, 2)))]
            uses = [tu(i) for i in ids]
            if draw(st.booleans()) and blocks and uses:  # interleave a tool_use early
                blocks.insert(1, uses.pop(0))
            if not blocks and not uses:
                blocks.append(text(f"done {tag}"))
            messages.append(A(*blocks, *uses))
            if not ids:
                break
            messages.append(T(*ids))
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
    assert out.body == pipe.explain(request).body, "explain sends what a plain call sends"
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
    @given(target=ANY_TARGET, history=anthropic_history())
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


def _decorated(history: list[dict[str, Any]], cache: bool, empty_tail: bool) -> None:
    """``cache_control`` on every thinking block (agents put it anywhere) and, optionally, a
    trailing assistant message that holds only thinking."""
    for message in history:
        content = message.get("content")
        if cache and isinstance(content, list):
            message["content"] = [
                {**b, "cache_control": {"type": "ephemeral"}} if b.get("type") in THINKING else b
                for b in content
            ]
    if empty_tail:
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


class TestIdempotence:
    @SETTINGS
    @given(
        target=TARGETS,
        options=OPTIONS,
        history=anthropic_history(),
        elsewhere=ELSEWHERE,
        thinking=st.booleans(),
        lost=st.booleans(),
        cache=st.booleans(),
        empty_tail=st.booleans(),
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
        empty_tail: bool,
    ) -> None:
        """For every option value, a second run changes nothing, and no output object is
        the store's: also with cache_control on thinking, an emptied trailing message,
        thinking observed at another target and lost by the agent."""
        model, base_url = target
        _decorated(history, cache, empty_tail)
        body: dict[str, Any] = {"model": model, "max_tokens": 100, "messages": history}
        if thinking:
            body["thinking"] = {"type": "enabled", "budget_tokens": 50}
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(**options)])
        where = Request(api="anthropic_messages", base_url=elsewhere[1], body={**body})
        where = Request(
            api="anthropic_messages", base_url=elsewhere[1], body={**body, "model": elsewhere[0]}
        )
        for i, message in enumerate(history):
            if message["role"] == "assistant" and isinstance(message["content"], list):
                seen = (
                    where
                    if i % 2
                    else Request(api="anthropic_messages", base_url=base_url, body=body)
                )
                pipe.observe(
                    seen, {"type": "message", "content": copy.deepcopy(message["content"])}
                )
                if lost:
                    message["content"] = [
                        b for b in message["content"] if b["type"] not in THINKING
                    ] or [text("kept")]

        _twice(pipe, Request(api="anthropic_messages", base_url=base_url, body=body))

    @SETTINGS
    @given(
        target=TARGETS,
        options=OPTIONS,
        history=chat_history(),
        elsewhere=ELSEWHERE,
        thinking=st.booleans(),
        lost=st.booleans(),
    )
    def test_chat_wire(
        self,
        target: tuple[str, str | None],
        options: dict[str, Any],
        history: list[dict[str, Any]],
        elsewhere: tuple[str, str | None],
        thinking: bool,
        lost: bool,
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
        for i, message in enumerate(history):
            if message["role"] == "assistant":
                pipe.observe(where if i % 2 else here, {"choices": [{"message": dict(message)}]})
                if lost:
                    message.pop("reasoning_content", None)

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
    assert out.body == pipe.explain(request).body, "explain sends what a plain call sends"
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
