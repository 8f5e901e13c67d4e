"""The settled call (``agent.middleware.settled``): what the one walk calls settled, the chain
leaves as it is. Conversations are generated settled and then changed in one place; the chain
(``Pipeline.counted``, which never takes the shortcut) is the reference."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import Pipeline, Request
from agent.history import grown
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.middleware.settled import settled_check
from agent.request import with_history
from agent.store import MemoryStore, Origin, StoredTurn
from tests.builders import A, T, U, rth, text, th_s, tu
from tests.test_properties import anthropic_history

AM = "anthropic_messages"
SETTINGS = settings(
    max_examples=int(os.environ.get("AGENT_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
#: (model, base_url): the first keep every turn's thinking; the rest are no settled targets.
KEEPS_ALL = [("claude-opus-4-6", None), ("claude-sonnet-5", "https://api.anthropic.com")]
OTHERS = [
    ("claude-sonnet-4-5", None),  # keeps only the latest turn's thinking
    ("mimo-v2.5-pro", "https://open.markhub.top"),  # carries unsigned thinking
    ("house-model", "https://relay.example.com"),  # unknown: passes through
]


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A settled history: every turn starts with signed thinking, every call answered."""
    messages: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 4))):
        messages.append(U(f"task {t}"))
        for s in range(draw(st.integers(1, 3))):
            tag = f"{t}.{s}"
            blocks = [th_s(f"thought {tag}", f"sig-{tag}")]
            if draw(st.booleans()):
                blocks.append(th_s(f"more {tag}", f"sig-{tag}b"))
            if draw(st.booleans()):
                blocks.append(text(f"say {tag}"))
            ids = [f"c{tag}.{i}" for i in range(draw(st.integers(0, 2)))]
            messages.append(A(*blocks, *(tu(i) for i in ids)))
            if not ids:
                break
            messages.append(T(*ids))
    return messages


def _assistants(messages: list[dict[str, Any]]) -> list[int]:
    return [i for i, m in enumerate(messages) if m["role"] == "assistant"]


def _results(messages: list[dict[str, Any]]) -> list[int]:
    return [
        i for i, m in enumerate(messages) if isinstance(m["content"], list) and m["role"] == "user"
    ]


# one change each, at message ``at`` of its kind (None: nothing of that kind to change)
def _drop_result(m: list[Any], at: int) -> None:
    m[at]["content"].pop()


def _repeated_result(m: list[Any], at: int) -> None:
    m[at]["content"].append(m[at]["content"][0])  # a result twice: the chain's to judge


def _orphan_result(m: list[Any], at: int) -> None:
    m[at]["content"].append({"type": "tool_result", "tool_use_id": "ghost"})


def _unsigned(m: list[Any], at: int) -> None:
    del m[at]["content"][0]["signature"]


def _empty_signature(m: list[Any], at: int) -> None:
    m[at]["content"][0]["signature"] = ""


def _cached(m: list[Any], at: int) -> None:
    m[at]["content"][0]["cache_control"] = {"type": "ephemeral"}


def _redacted(m: list[Any], at: int) -> None:
    m[at]["content"].insert(1, rth("data"))


def _text_first(m: list[Any], at: int) -> None:
    m[at]["content"].insert(0, text("first"))


def _as_string(m: list[Any], at: int) -> None:
    m[at]["content"] = "said"


def _emptied(m: list[Any], at: int) -> None:
    m[at]["content"] = []


def _no_content(m: list[Any], at: int) -> None:
    del m[at]["content"]


def _thinking_not_text(m: list[Any], at: int) -> None:
    m[at]["content"][0]["thinking"] = 7


def _odd_type(m: list[Any], at: int) -> None:
    m[at]["content"].append({"type": 3})


def _result_in_assistant(m: list[Any], at: int) -> None:
    m[at]["content"].append({"type": "tool_result", "tool_use_id": "x"})


def _trailing_call(m: list[Any], at: int) -> None:
    m.append(A(th_s("last", "sig-last"), tu("open")))


def _system_role(m: list[Any], at: int) -> None:
    m[at] = {**m[at], "role": "model"}  # a role the Messages API does not have


ON_ASSISTANT = [
    _unsigned,
    _empty_signature,
    _cached,
    _redacted,
    _text_first,
    _as_string,
    _emptied,
    _no_content,
    _thinking_not_text,
    _odd_type,
    _result_in_assistant,
    _system_role,
]
ON_RESULTS = [_drop_result, _repeated_result, _orphan_result, _odd_type, _no_content, _as_string]


#: Each change with where it applies: an assistant message, a results message, or the end.
CHANGES = [(c, "assistant") for c in ON_ASSISTANT] + [(c, "results") for c in ON_RESULTS]
CHANGES.append((_trailing_call, "end"))
#: What the store or the request may say of a history's signatures.
MARKS = ["own", "other claude", "mimo", "rejected", "dead"]


def _signatures(messages: list[dict[str, Any]]) -> list[str]:
    return [
        b["signature"]
        for m in messages
        if m["role"] == "assistant" and isinstance(m.get("content"), list)
        for b in m["content"]
        if isinstance(b, dict) and isinstance(b.get("signature"), str) and b["signature"]
    ]


def _pipeline(store: MemoryStore, trusted: tuple[str, ...] = ()) -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip(store=store, trusted_models=trusted)])


def _request(
    messages: list[dict[str, Any]],
    target: tuple[str, str | None],
    marks: list[str],
    thread: bool = False,
    thinking: Any = None,
) -> tuple[Pipeline, Request]:
    """The default pipeline and its resolved request for ``messages``; ``marks`` say, in
    turn, what the store or the request knows of the history's signatures."""
    model, base_url = target
    store, dead = MemoryStore(), set()
    pipe = _pipeline(store)
    body: dict[str, Any] = {"model": model, "max_tokens": 64, "messages": messages}
    if thread:
        body["thread"] = {"type": "continue"}
    if thinking is not None:
        body["thinking"] = {"type": thinking} if isinstance(thinking, str) else thinking
    host = pipe.resolve(Request(api=AM, base_url=base_url, body=body)).match.host
    signatures = _signatures(messages)
    for n, mark in enumerate(marks if signatures else []):
        sig = signatures[n % len(signatures)]
        if mark == "rejected":
            store.reject(sig)
        elif mark == "dead":
            dead.add(sig)
        else:
            at = {"own": model, "other claude": "claude-haiku-4-5", "mimo": "mimo-v2.5-pro"}
            origin = Origin("mimo" if mark == "mimo" else "anthropic", host, at[mark])
            store.record(StoredTurn(origin, (({"type": "thinking", "signature": sig}, 0),)))
    request = Request(api=AM, base_url=base_url, body=body, dead_signatures=dead)
    return pipe, pipe.resolve(request)


def _holds(pipe: Pipeline, request: Request) -> bool:
    """The walk's answer, held to the chain: settled means the chain sends it as it came."""
    check = settled_check(pipe.middleware)
    assert check is not None
    snapshot = copy.deepcopy(request.body)
    answer = check(request)
    assert snapshot == request.body, "the walk reads, never writes"
    if answer:
        assert pipe.counted(request)[0] is request
    return answer


@pytest.mark.parametrize(("change", "where"), CHANGES, ids=[c.__name__ for c, _ in CHANGES])
@settings(SETTINGS, max_examples=min(SETTINGS.max_examples, 25))
@given(messages=conversations(), pick=st.integers(0, 1_000))
def test_one_change_away(
    change: Callable[[list[Any], int], None], where: str, messages: Any, pick: int
) -> None:
    """Each change the chain would act on (or might) makes the history no longer
    settled, on a target that keeps every turn."""
    at = {"assistant": _assistants(messages), "results": _results(messages), "end": [0]}
    places = at[where]
    if not places:
        return
    change(messages, places[pick % len(places)])
    assert not _holds(*_request(messages, KEEPS_ALL[0], []))


class TestSettledIsWhatTheChainLeaves:
    @SETTINGS
    @given(
        messages=conversations(),
        target=st.sampled_from(KEEPS_ALL + OTHERS),
        marks=st.lists(st.sampled_from(MARKS), max_size=3),
        thread=st.booleans(),
        thinking=st.sampled_from([None, {"type": "enabled", "budget_tokens": 2048}, "adaptive"]),
    )
    def test_settled_histories(
        self,
        messages: list[dict[str, Any]],
        target: tuple[str, str | None],
        marks: list[str],
        thread: bool,
        thinking: Any,
    ) -> None:
        """A settled history is called settled on a target that keeps every turn, unless the
        store or the request marks one of its signatures; whatever is called settled, the
        chain sends as it came (thinking on or off, in a server-held thread or not)."""
        answer = _holds(*_request(messages, target, marks, thread, thinking))
        if target in KEEPS_ALL and set(marks) <= {"own"}:
            assert answer, "a settled history takes the shortcut"

    @pytest.mark.parametrize("mark", [m for m in MARKS if m != "own"])
    def test_a_marked_signature_is_not_settled(self, mark: str) -> None:
        """A signature the provider rejected, one the request marks dead, one observed at
        another model or family: the chain's to decide."""
        messages = [U(), A(th_s("t", "s"), tu("c")), T("c")]
        assert _holds(*_request(copy.deepcopy(messages), KEEPS_ALL[0], ["own"]))
        assert not _holds(*_request(copy.deepcopy(messages), KEEPS_ALL[0], [mark]))

    @pytest.mark.parametrize("target", OTHERS, ids=[t[0] for t in OTHERS])
    def test_only_a_target_that_checks_and_keeps_every_turn(
        self, target: tuple[str, str | None]
    ) -> None:
        """A target that keeps only the latest turn's thinking, carries it unsigned or is
        unknown: the chain's to decide, however settled the history."""
        messages = [U(), A(th_s("t", "s"), tu("c")), T("c"), A(th_s("u", "s2"), text("done"))]
        assert _holds(*_request(copy.deepcopy(messages), KEEPS_ALL[0], []))
        assert not _holds(*_request(copy.deepcopy(messages), target, []))

    def test_a_block_field_the_host_rejects_is_the_chains(self) -> None:
        """Once the host is known to refuse a block field (Anthropic's own compaction field,
        learned from its error), a history holding it is no longer settled: the chain takes
        the field out."""
        block = {"type": "compaction", "content": "summary", "encrypted_content": "enc"}
        messages = [U(), A(th_s("t", "s"), block, text("ok")), U("next")]
        pipe, request = _request(messages, KEEPS_ALL[0], [])
        assert _holds(pipe, request)
        pipe._lessons.reject(request.match.host, "compaction.encrypted_content")  # as learned
        learned = pipe.resolve(Request(api=AM, body=request.body))
        assert not _holds(pipe, learned)
        assert "encrypted_content" not in pipe(learned).body["messages"][1]["content"][1]

    @SETTINGS
    @given(history=anthropic_history(odd=True), target=st.sampled_from(KEEPS_ALL + OTHERS))
    def test_odd_histories(
        self, history: list[dict[str, Any]], target: tuple[str, str | None]
    ) -> None:
        """The shapes agents also send (thinking-only steps, empty turns, orphans, text beside
        results): settled only where the chain changes nothing."""
        _holds(*_request(history, target, []))


class TestWhenTheShortcutApplies:
    def test_a_settled_call_comes_back_as_the_same_object(self) -> None:
        pipe = _pipeline(MemoryStore())
        body = {"model": "claude-opus-4-6", "messages": [U(), A(th_s("t", "s"), tu("c")), T("c")]}
        request = Request(api=AM, body=body)
        assert pipe(request) is request
        assert pipe.counted(request)[0] is request

    @pytest.mark.parametrize(
        "chain",
        [
            lambda: [ThinkingRoundTrip()],
            lambda: [ThinkingRoundTrip(), ToolPairing()],
            lambda: [ToolPairing(), ThinkingRoundTrip(preserve_reasoning=True)],
            lambda: [ToolPairing(), ThinkingRoundTrip(), ToolPairing()],
        ],
    )
    def test_only_the_default_chain_has_it(self, chain: Callable[[], list[Any]]) -> None:
        """Another chain (its order, a host switch, more steps) always runs whole."""
        assert settled_check(chain()) is None

    def test_a_history_whose_facts_are_known_runs_the_chain(self) -> None:
        """A history read before (its facts found by walking only what is new) is left to the
        chain, which then walks nothing again; the answer is the same."""
        pipe = _pipeline(MemoryStore())
        body = {"model": "claude-opus-4-6", "messages": [U(), A(th_s("t", "s"), tu("c")), T("c")]}
        fresh = pipe.resolve(Request(api=AM, body=body))
        known = with_history(pipe.resolve(Request(api=AM, body=body)), grown(AM, body, None))
        check = settled_check(pipe.middleware)
        assert check is not None
        assert check(fresh)
        assert not check(known)
        assert pipe(known) is known

    def test_a_subclass_is_not_the_default_chain(self) -> None:
        class Mine(ToolPairing):
            pass

        assert settled_check([Mine(), ThinkingRoundTrip()]) is None
        assert settled_check([ToolPairing(), ThinkingRoundTrip()]) is not None

    def test_a_foreign_signature_is_not_settled_and_is_dropped(self) -> None:
        """A signature observed at another model is the chain's to drop, not the walk's to pass."""
        store = MemoryStore()
        store.record(
            StoredTurn(
                Origin("anthropic", "api.anthropic.com", "claude-haiku-4-5"),
                (({"type": "thinking", "signature": "s"}, 0),),
            )
        )
        pipe = _pipeline(store)
        body = {"model": "claude-opus-4-6", "messages": [U(), A(th_s("t", "s"), tu("c")), T("c")]}
        out = pipe(Request(api=AM, body=body))
        assert [b["type"] for b in out.body["messages"][1]["content"]] == ["tool_use"]
        trusting = _pipeline(store, trusted=("claude-*",))
        request = Request(api=AM, body=body)
        assert trusting(request) is request
