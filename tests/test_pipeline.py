"""Pipeline: the chain, explain for any middleware, and the chain's own checks."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from agent import Action, InvalidResponse, MemoryStore, Origin, Pipeline, Request
from agent.families import FamilyRegistry
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.testing import run_tool_loop
from tests.builders import (
    CA,
    CT,
    CU,
    RELAY,
    A,
    T,
    U,
    anthropic_body,
    chat_body,
    claude,
    th_s,
    th_u,
    tu,
)

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
        with anthropic.Anthropic(  # closed: its pooled socket is not left to a later test
            base_url=mimo.base_url,
            api_key="test",
            max_retries=0,
            middleware=[PipelineMiddleware(pipe, base_url=RELAY)],
        ) as client:
            steps = run_tool_loop(
                client,
                [U()],
                model="mimo-v2.5-pro",
                max_tokens=100,
                tools=[{"name": "run", "input_schema": {"type": "object"}}],
            )

        assert "end_turn" == steps[-1].stop_reason
        assert len(steps) == len(asked)


class TestObserveSdkObjects:
    def test_an_anthropic_message(self) -> None:
        """An SDK Message given to observe is read: the thinking the agent dropped comes back
        from the store on the next call (it was silently passed over)."""
        pipe = Pipeline([ThinkingRoundTrip()])
        observed = [th_s("plan", "sig-1"), tu("c1")]
        message = anthropic.types.Message.model_validate(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-4-6",
                "content": observed,
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
        )
        pipe.observe(claude(U()), message)

        out = pipe(claude(U(), A(tu("c1")), T("c1")))

        assert observed == out.body["messages"][1]["content"]

    def test_an_openai_chat_completion(self) -> None:
        """An openai ChatCompletion keeps the reasoning_content the SDK does not declare."""
        import openai

        pipe = Pipeline([ThinkingRoundTrip()])
        request = Request(
            api=CH, base_url="https://api.deepseek.com", body=chat_body("deepseek-v4-pro", CU())
        )
        completion = openai.types.chat.ChatCompletion.model_validate(
            {
                "id": "c",
                "object": "chat.completion",
                "created": 1,
                "model": "deepseek-v4-pro",
                "choices": [
                    {"index": 0, "finish_reason": "tool_calls", "message": CA("the plan", "c1")}
                ],
            }
        )
        pipe.observe(request, completion)
        later = Request(
            api=CH,
            base_url="https://api.deepseek.com",
            body=chat_body("deepseek-v4-pro", CU(), CA(None, "c1"), CT("c1")),
        )

        assert "the plan" == pipe(later).body["messages"][1]["reasoning_content"]

    def test_any_pydantic_model(self) -> None:
        """A pydantic model is read through model_dump."""
        from pydantic import BaseModel

        class Reply(BaseModel):
            type: str = "message"
            content: list[dict[str, Any]]

        pipe = Pipeline([ThinkingRoundTrip()])
        observed = [th_s("plan", "sig-1"), tu("c1")]
        pipe.observe(claude(U()), Reply(content=observed))

        out = pipe(claude(U(), A(tu("c1")), T("c1")))

        assert observed == out.body["messages"][1]["content"]

    @pytest.mark.parametrize(
        "response",
        [None, "{}", b"{}", ["content"], object()],
        ids=["none", "text", "bytes", "list", "object"],
    )
    def test_anything_else_is_a_named_error(self, response: object) -> None:
        """What is neither the response JSON nor an SDK object is InvalidResponse (a
        TypeError) naming what was given, never silently passed over."""
        with pytest.raises(InvalidResponse) as info:
            Pipeline([ThinkingRoundTrip()]).observe(claude(U()), response)

        assert isinstance(info.value, TypeError)
        assert ("response", type(response).__name__) == (
            info.value.where,
            info.value.problem.split("got ", 1)[1].split(";")[0],
        )
