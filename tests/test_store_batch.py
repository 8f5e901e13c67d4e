"""One call's lookups in one batch: the keys gathered before the pass runs answer everything
it asks in the originating loops, a batched store gives every case the same payload as the
memory store, and SQLite reads a call in one query."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from agent import Pipeline, Request, load_config
from agent.errors import ConfigError
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.sqlite_store import SqliteStore
from agent.store import Found, MemoryStore, Wanted
from agent.testing.emulators import Emulator
from tests.cases import CASES, Variant
from tests.fleet import Agent, call_sync, every_turn_restored, pipeline

VARIANTS = [(case, name, variant) for case in CASES for name, variant in case.variants.items()]
VARIANT_IDS = [f"{case.id}/{name}" for case, name, _ in VARIANTS]


class Batched(MemoryStore):
    """The memory store read the way a shared store is: the call's keys in one batch first
    (and each batch counted)."""

    local: ClassVar[bool] = False
    batches: ClassVar[list[int]] = []

    def lookup(self, wanted: Wanted) -> Found:
        Batched.batches.append(len(wanted))
        return super().lookup(wanted)


def _run(variant: Variant, store: MemoryStore) -> tuple[Any, list[str]]:
    pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(**{**variant.options, "store": store})])
    for seen in variant.observed:
        sent = Request(
            api=seen.api, base_url=seen.base_url, body={"model": seen.model, "messages": []}
        )
        pipe.observe(sent, seen.response)
    explanation = pipe.explain(variant.request)
    return pipe(variant.request).body, [
        f"{c.path} {c.action}: {c.reason}" for c in explanation.changes
    ]


class TestSameAnswers:
    @pytest.mark.parametrize(("case", "name", "variant"), VARIANTS, ids=VARIANT_IDS)
    def test_every_case_as_the_memory_store(self, case: Any, name: str, variant: Variant) -> None:
        """Whether the pass looks keys up as it goes or reads the call's batch first, each
        case sends the same body and explains the same decisions."""
        assert _run(variant, MemoryStore()) == _run(variant, Batched())


#: The originating loops: (family, wire, model), each run by an agent that keeps no reasoning.
LOOPS = [
    ("mimo", "anthropic_messages", "mimo-v2.5-pro"),
    ("kimi", "anthropic_messages", "kimi-k2.6"),
    ("deepseek", "anthropic_messages", "deepseek-v4-pro"),
    ("glm", "anthropic_messages", "glm-4.7"),
    ("anthropic", "anthropic_messages", "claude-opus-4-6"),
    ("anthropic", "anthropic_messages", "claude-sonnet-4-5"),
    ("deepseek", "chat_completions", "deepseek-v4-pro"),
    ("kimi", "chat_completions", "kimi-k2.6"),
    ("gemini", "chat_completions", "gemini-3-pro-preview"),
]


def _chat_loop(pipe: Pipeline, emulator: Emulator, model: str) -> None:
    messages: list[Any] = [{"role": "user", "content": "go"}]
    tools = [{"type": "function", "function": {"name": "run", "parameters": {}}}]
    for _ in range(10):
        request = Request(
            api="chat_completions",
            base_url="http://chat.test/v1",
            body={"model": model, "messages": list(messages), "tools": tools},
        )
        sent = pipe(request)
        status, answer, _ = emulator.handle("/v1/chat/completions", sent.body)
        assert 200 == status, answer
        pipe.observe(sent, answer)
        message = answer["choices"][0]["message"]
        calls = [
            {k: v for k, v in c.items() if k != "extra_content"}  # the agent loses signatures
            for c in message.get("tool_calls") or ()
        ]
        messages.append({"role": "assistant", "content": message["content"], "tool_calls": calls})
        if not calls:
            return
        messages += [{"role": "tool", "tool_call_id": c["id"], "content": "ok"} for c in calls]


class TestGathered:
    @pytest.mark.parametrize(
        ("family", "wire", "model"), LOOPS, ids=[f"{f}-{w}-{m}" for f, w, m in LOOPS]
    )
    def test_each_call_is_one_batch(self, family: str, wire: str, model: str) -> None:
        """In every originating loop, each call's pass finds all it asks for in the batch
        gathered before it ran: one batch per call, never a second."""
        Batched.batches.clear()
        emulator = Emulator(family, rounds=4)
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip(store=Batched())])
        if wire == "chat_completions":
            _chat_loop(pipe, emulator, model)
        else:
            agent = Agent()
            while not agent.done:
                body = {**agent.body(), "model": model}
                sent = pipe(Request(api=wire, base_url="http://anthropic.test", body=body))
                status, answer, _ = emulator.handle("/v1/messages", sent.body)
                assert 200 == status, answer
                pipe.observe(sent, answer)
                agent.take(answer["content"])

        assert [200] * 5 == [r.status for r in emulator.log]
        assert 5 == len(Batched.batches)


class TestSqlite:
    def test_a_call_is_read_in_one_query(self, tmp_path: Path) -> None:
        """The SQLite store reads all a call needs in one SELECT, whatever its length (the
        turns the agent lost, and the origin of the thinking it kept on every other turn)."""
        store = SqliteStore(str(tmp_path / "t.db"))
        emulator, agent = Emulator("mimo", rounds=20), Agent(keeps_every=2)
        pipe = pipeline(store)
        call_sync(pipe, emulator, agent)
        statements: list[str] = []
        assert store._conn is not None
        store._conn.set_trace_callback(statements.append)
        selects = []
        while not agent.done:
            statements.clear()
            call_sync(pipe, emulator, agent)
            selects.append(sum(s.lstrip().upper().startswith("SELECT") for s in statements))

        assert every_turn_restored(emulator)
        assert [1] * 20 == selects


def _config(tmp_path: Path, options: str) -> Any:
    path = tmp_path / "agent.yaml"
    url = "" if options.startswith("unix") else "redis://127.0.0.1:1/0'"
    provider = "providers: {p: {base_url: 'https://api.deepseek.com'}}\n"  # (one is required)
    path.write_text(f"{provider}store: {{redis: {{url: '{url}{options}}}}}\n")
    return load_config(path)


class TestRedisOptions:
    def test_defaults_and_settings(self, tmp_path: Path) -> None:
        """``timeout_ms`` (200 by default) and ``cluster`` (detected unless set) reach the
        store; loading connects nothing."""
        default = _config(tmp_path, "").store
        set_ = _config(tmp_path, ", timeout_ms: 50, cluster: true").store

        assert (200, None) == (default.timeout_ms, default.cluster)
        assert (50, True) == (set_.timeout_ms, set_.cluster)

    @pytest.mark.parametrize(
        ("options", "entry"),
        [
            (", timeout_ms: 0", "store.redis.timeout_ms"),
            (", timeout_ms: 1.5", "store.redis.timeout_ms"),
            (", timeout_ms: 60001", "store.redis.timeout_ms"),
            (", cluster: 'yes'", "store.redis.cluster"),
            ("unix:///tmp/r.sock', cluster: true", "store.redis.cluster"),
        ],
    )
    def test_a_bad_setting_is_named(self, tmp_path: Path, options: str, entry: str) -> None:
        """A bad time limit or cluster flag (a cluster over a unix socket) fails at load,
        naming the entry."""
        with pytest.raises(ConfigError) as info:
            _config(tmp_path, options)

        assert entry == info.value.entry


class TestFate:
    def test_what_a_metrics_endpoint_counts(self) -> None:
        """A response's ``extensions["agent"]`` gives (state, turns not restored); a call the
        pipeline did not run, or a field that is not a fate, gives None."""
        from agent.store.lookups import fate

        assert ("timeout", 3) == fate({"store": {"state": "timeout", "unrestored": 3}})
        assert ("ok", 0) == fate({"store": {"state": "ok", "unrestored": 0}})
        assert fate(None) is None
        assert fate({"store": None}) is None
        assert fate({"store": {"state": "fine"}}) is None
