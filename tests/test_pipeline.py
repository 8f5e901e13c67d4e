"""Pipeline: the chain, explain for any middleware, and the chain's own checks."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from agent import Action, MemoryStore, Origin, Pipeline, Request
from agent.families import FamilyRegistry
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing import run_tool_loop
from tests.builders import RELAY, A, T, U, anthropic_body, claude, th_s, th_u, tu

AM = "anthropic_messages"
CH = "chat_completions"


class TestPipeline:
    def test_explain_a_middleware_that_does_not_explain_itself(self) -> None:
        """For a plain callable, explain reports the messages it changed by comparing bodies."""

        def shout(request: Request) -> Request:
            messages = [*request.body["messages"][:-1], {"role": "user", "content": "GO"}]
            return Request(
                api=request.api,
                body={**request.body, "messages": messages},
                resolved=request.resolved,
            )

        request = claude(U("go"))

        explanation = Pipeline([shout]).explain(request)

        assert [("shout", "messages[0]", Action.CONVERTED)] == [
            (c.middleware, c.path, c.action) for c in explanation.changes
        ]
        assert "messages[0]" in str(explanation)

    def test_not_callable(self) -> None:
        """A chain entry that is not callable is rejected when the pipeline is built."""
        with pytest.raises(TypeError, match=r"middleware\[1\]"):
            Pipeline([ToolPairing(), "thinking_round_trip"])  # type: ignore[list-item]


HOUSE = {
    "name": "house",
    "models": ["house-*"],
    "anthropic": {"thinking": "carry", "empty_signature": "required"},
    "why": "the house model wants its reasoning back",
}


class TestOneResolution:
    def test_resolve_carries_the_target(self) -> None:
        """Pipeline.resolve returns a request carrying its family answer; resolving again
        returns the very same object."""
        pipe = Pipeline([ThinkingRoundTrip()])
        request = Request(api=AM, base_url=RELAY, body=anthropic_body("mimo-v2.5-pro", U()))

        resolved = pipe.resolve(request)

        assert "mimo" == resolved.match.family.name
        assert resolved is pipe.resolve(resolved)

    @pytest.mark.parametrize("resolved", [False, True], ids=["as-given", "pre-resolved"])
    def test_same_object_when_nothing_changes(self, resolved: bool) -> None:
        """pipe(req) is req when nothing changes, whether req was resolved or not."""
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        request = claude(U(), A(th_s("p", "s1"), tu("c1")), T("c1"))
        if resolved:
            request = pipe.resolve(request)

        assert request is pipe(request)

    def test_one_registry_for_every_decision(self) -> None:
        """A family only the pipeline's table knows drives the chain, explain and observe:
        the middleware has no table of its own to disagree with."""
        families = FamilyRegistry.builtin().with_definitions([("house", HOUSE)])
        store = MemoryStore()
        pipe = Pipeline([ThinkingRoundTrip(store=store)], families=families)
        body = anthropic_body("house-1", U(), A(th_u("plan"), tu("c1")), T("c1"))
        request = Request(api=AM, base_url=RELAY, body=body)

        out = pipe(request)
        explanation = pipe.explain(request)
        pipe.observe(out, {"type": "message", "content": [th_u("next"), tu("c2")]})

        assert {"type": "thinking", "thinking": "plan", "signature": ""} == out.body["messages"][1][
            "content"
        ][0]
        assert "house" == explanation.target.family.name
        assert Origin("house", "open.markhub.top", "house-1") == store.origin_of_text("next")

    def test_classified_once_per_sdk_call(
        self, agent_emulator: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Through the SDK adapter, each call classifies its target once: the chain, observe
        and recover all read the answer the request carries."""
        asked: list[str] = []
        detect = FamilyRegistry.resolve

        def counting(self: FamilyRegistry, model: str, *args: Any) -> Any:
            asked.append(model)
            return detect(self, model, *args)

        monkeypatch.setattr(FamilyRegistry, "resolve", counting)
        mimo = agent_emulator("mimo", rounds=3)
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        client = anthropic.Anthropic(
            base_url=mimo.base_url,
            api_key="test",
            max_retries=0,
            middleware=[PipelineMiddleware(pipe, base_url=RELAY)],
        )

        steps = run_tool_loop(
            client,
            [U()],
            model="mimo-v2.5-pro",
            max_tokens=100,
            tools=[{"name": "run", "input_schema": {"type": "object"}}],
        )

        assert "end_turn" == steps[-1].stop_reason
        assert len(steps) == len(asked)
