"""Every case of shared/cases.md as a pinned payload, plus the rule each case exists for."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from agent import Action, Pipeline, Request
from agent.middleware import ThinkingRoundTrip
from tests.cases import CASE_IDS, CASES, RULES, Case, Variant, pipeline_for, run, snapshot_data

VARIANTS = [(case, name, variant) for case in CASES for name, variant in case.variants.items()]
VARIANT_IDS = [f"{case.id}/{name}" for case, name, _ in VARIANTS]


class TestCases:
    @pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
    def test_payload_is_pinned(self, case: Case, case_snapshot: SnapshotAssertion) -> None:
        """The outgoing body and explain record of each case match its snapshot file."""
        results = run(case)

        case.verify(results)
        assert snapshot_data(results) == case_snapshot

    def test_every_case_states_its_rule(self) -> None:
        """Each case carries the one sentence it exists for (shown when its check fails)."""
        assert {c.id for c in CASES} == set(RULES)
        assert all(r.endswith(".") and r.count(". ") == 0 for r in RULES.values())


def _blocks(body: Any) -> list[Any]:
    out = []
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, list):
            out.extend(content)
    return out


class TestWholeRequestProperties:
    @pytest.mark.parametrize(("case", "name", "variant"), VARIANTS, ids=VARIANT_IDS)
    def test_input_unchanged(self, case: Case, name: str, variant: Variant) -> None:
        """The input request and everything reachable from it is the same after the call."""
        before = copy.deepcopy(variant.request.body)
        pipe = pipeline_for(variant)

        pipe(variant.request)
        pipe.explain(variant.request)

        assert before == variant.request.body

    @pytest.mark.parametrize(("case", "name", "variant"), VARIANTS, ids=VARIANT_IDS)
    def test_idempotent(self, case: Case, name: str, variant: Variant) -> None:
        """Running the pipeline on its own output changes nothing more."""
        pipe = pipeline_for(variant)
        once = pipe(variant.request)

        twice = pipe(
            Request(api=once.api, base_url=once.base_url, body=once.body, family=once.family)
        )

        assert once.body == twice.body

    @pytest.mark.parametrize(("case", "name", "variant"), VARIANTS, ids=VARIANT_IDS)
    def test_other_blocks_identical(self, case: Case, name: str, variant: Variant) -> None:
        """Blocks other than thinking come out as the very same objects, in order."""
        pipe = Pipeline([ThinkingRoundTrip(**variant.options)])
        for seen in variant.observed:
            pipe.observe(
                Request(
                    api=seen.api, base_url=seen.base_url, body={"model": seen.model, "messages": []}
                ),
                seen.response,
            )
        out = pipe(variant.request)
        if variant.request.api == "responses":
            assert _other_items(variant.request.body) == _other_items(out.body)
            return
        if variant.request.api == "gemini":
            strip = [
                [{k: v for k, v in p.items() if k != "thoughtSignature"} for p in c["parts"]]
                for c in variant.request.body["contents"]
            ]
            after = [
                [{k: v for k, v in p.items() if k != "thoughtSignature"} for p in c["parts"]]
                for c in out.body["contents"]
            ]
            assert strip == after
            return
        if variant.request.api == "bedrock_converse":
            before = [b for b in _blocks(variant.request.body) if "reasoningContent" not in b]
            after = [b for b in _blocks(out.body) if "reasoningContent" not in b]
            assert [id(b) for b in before] == [id(b) for b in after]
            return
        if variant.request.api == "chat_completions":
            for old, new in zip(
                variant.request.body["messages"], out.body["messages"], strict=True
            ):
                assert _bare(old) == _bare(new)
            return
        thinking = ("thinking", "redacted_thinking")
        originals = [b for b in _blocks(variant.request.body) if b["type"] not in thinking]
        ids = {id(b) for b in originals}
        kept = [b for b in _blocks(out.body) if id(b) in ids]
        created = [b for b in _blocks(out.body) if id(b) not in ids and b["type"] not in thinking]

        assert [id(b) for b in kept] == [id(b) for b in originals]
        assert all(b["type"] == "text" for b in created), created
        assert not created or variant.options.get("unsigned_to_anthropic") == "text"

    @pytest.mark.parametrize(("case", "name", "variant"), VARIANTS, ids=VARIANT_IDS)
    def test_same_object_when_nothing_changes(
        self, case: Case, name: str, variant: Variant
    ) -> None:
        """A request that needs no change comes back as the same object, and only then."""
        pipe = pipeline_for(variant)
        explanation = pipe.explain(variant.request)

        out = pipe(variant.request)

        changed = any(c.action not in (Action.KEPT, Action.WARNING) for c in explanation.changes)
        assert (out is variant.request) == (not changed)


def _other_items(body: Mapping[str, Any]) -> list[Any]:
    """The Responses input items other than reasoning, function calls without their id."""
    return [
        {k: v for k, v in i.items() if not (k == "id" and i.get("type") == "function_call")}
        for i in body["input"]
        if i.get("type") != "reasoning"
    ]


#: A chat message's reasoning carriers, whichever field its host uses.
CARRIERS = (
    "reasoning_content",
    "reasoning",
    "reasoning_text",
    "reasoning_opaque",
    "reasoning_details",
)


def _bare(message: dict[str, Any]) -> dict[str, Any]:
    """A chat message without its reasoning carriers (the reasoning fields, Mistral's
    thinking chunks, the tool calls' extra_content); text chunks compared as their text."""
    out = {k: v for k, v in message.items() if k not in CARRIERS}
    content = out.get("content")
    if isinstance(content, list):
        rest = [c for c in content if c.get("type") != "thinking"]
        text = [c["text"] for c in rest if c.get("type") == "text"]
        out["content"] = "".join(text) if len(text) == len(rest) else rest
        out["content"] = out["content"] or None
    calls = out.get("tool_calls")
    if isinstance(calls, list):
        out["tool_calls"] = [{k: v for k, v in c.items() if k != "extra_content"} for c in calls]
    return out


def test_no_stale_snapshot_files() -> None:
    """Every file in tests/snapshots/ belongs to a snapshot test that exists (none is stale)."""
    from tests.conftest import SNAPSHOTS, snapshot_ids

    files = {p.stem for p in SNAPSHOTS.glob("*.json")}

    assert files == snapshot_ids()
