"""Other reasoning carriers end to end: Gemini's tool-call thought signatures (OpenAI-compatible
wire) and OpenRouter's reasoning_details, against the emulators. Each loop fails without the
pipeline the way the wild reports it, and completes with it."""

from __future__ import annotations

from typing import Any

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.recovery import classify
from agent.testing.emulators import Emulator
from tests.loops import chat_loop, post

GEMINI_3 = "gemini-3-pro-preview"


def _pipe() -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


def without_extra_content(message: dict[str, Any]) -> dict[str, Any]:
    """What many clients keep of a reply: tool calls rebuilt from their parsed fields, so
    ``extra_content`` (the thought signature) is lost (chatbox #3308, 5ire #405)."""
    if not message.get("tool_calls"):
        return message
    calls = [{k: v for k, v in c.items() if k != "extra_content"} for c in message["tool_calls"]]
    return {**message, "tool_calls": calls}


def without_details(message: dict[str, Any]) -> dict[str, Any]:
    """A client that keeps only role, content and tool calls (claude-code-router #1057)."""
    return {k: v for k, v in message.items() if k != "reasoning_details"}


class TestGeminiSignatures:
    def test_lost_signatures_fail_without_the_pipeline(self) -> None:
        """Gemini 3 answers the missing signature with its 400 array on the second call."""
        with Emulator("gemini") as gemini:
            results = chat_loop(gemini, GEMINI_3, None, store=without_extra_content)

        status, body = results[-1]
        assert (2, 400) == (len(results), status)
        assert isinstance(body, list)
        assert "missing a thought_signature" in body[0]["error"]["message"]
        error = classify(status, body)
        assert error is not None
        assert ("must_pass_back", "gemini") == (error.kind, error.family)

    def test_the_pipeline_restores_them(self) -> None:
        """The observed signatures come back by tool call id: the whole loop completes, and
        every restored signature is the one the model made (no bypass value)."""
        pipe = _pipe()
        with Emulator("gemini") as gemini:
            results = chat_loop(gemini, GEMINI_3, pipe, store=without_extra_content)
            sent = gemini.bodies

        assert [200] * 5 == [s for s, _ in results]
        signatures = [
            m["tool_calls"][0]["extra_content"]["google"]["thought_signature"]
            for m in sent[-1]["messages"]
            if m.get("tool_calls")
        ]
        assert 4 == len(signatures)
        assert "skip_thought_signature_validator" not in signatures

    def test_unknown_signatures_get_the_bypass_value(self) -> None:
        """Without anything observed (a history the model did not make), the documented
        bypass value lets the loop go on."""
        with Emulator("gemini") as gemini:
            results = chat_loop(
                gemini, GEMINI_3, _pipe(), store=without_extra_content, observe=False
            )

        assert [200] * 5 == [s for s, _ in results]

    def test_a_kept_history_goes_as_sent(self) -> None:
        """A client that keeps extra_content needs nothing: each request is the agent's own."""
        pipe = _pipe()
        with Emulator("gemini") as gemini:
            results = chat_loop(gemini, GEMINI_3, pipe)
            bodies = gemini.bodies

        assert [200] * 5 == [s for s, _ in results]
        request = Request(api="chat_completions", body=bodies[-1])
        assert pipe(request) is request

    def test_model_switch_drops_the_old_models_signatures(self) -> None:
        """Signatures made by Gemini 2.5 (observed) are not sent to Gemini 3, which rejects
        them; the bypass value goes on the current turn's steps instead."""
        pipe = _pipe()
        with Emulator("gemini", secret=b"another model") as old:
            first = chat_loop(old, "gemini-2.5-flash", pipe)
            history = old.bodies[-1]["messages"][:-1]  # up to the last tool results
        body = {"model": GEMINI_3, "messages": history}
        with Emulator("gemini") as new:
            url = f"{new.openai_base_url}/chat/completions"
            raw_status, raw = post(url, body)
            sent = pipe(Request(api="chat_completions", body=body))
            status, _ = post(url, dict(sent.body))

        assert all(s == 200 for s, _ in first)
        assert 400 == raw_status
        assert "Thought signature is not valid" in raw["error"]["message"]
        assert 200 == status


class TestOpenRouterDetails:
    def test_lost_details_fail_without_the_pipeline(self) -> None:
        """Behind OpenRouter the signatures travel in reasoning_details; a client that drops
        them gets OpenRouter's wrapped 400, classified as Gemini's."""
        with Emulator("gemini", relay="openrouter") as router:
            results = chat_loop(router, "google/gemini-3-pro", None, store=without_details)

        status, body = results[-1]
        assert (2, 400) == (len(results), status)
        assert "Provider returned error" == body["error"]["message"]
        error = classify(status, body)
        assert error is not None
        assert ("must_pass_back", "gemini") == (error.kind, error.family)

    def test_the_pipeline_restores_them(self) -> None:
        """The observed reasoning_details come back unmodified by tool call id, and nothing
        of Gemini's own wire (extra_content) is added for OpenRouter."""
        pipe = _pipe()
        bodies: list[dict[str, Any]] = []
        with Emulator("gemini", relay="openrouter") as router:
            results = chat_loop(
                router,
                "google/gemini-3-pro",
                pipe,
                store=without_details,
                base_url="https://openrouter.ai/api/v1",
                sent_bodies=bodies,
            )
            answers = [r.response for r in router.log]

        assert [200] * 5 == [s for s, _ in results]
        turns = [m for m in bodies[-1]["messages"] if m.get("tool_calls")]
        replies = [a["choices"][0]["message"] for a in answers[:-1]]
        assert [r["reasoning_details"] for r in replies] == [t["reasoning_details"] for t in turns]
        assert all("extra_content" not in c for t in turns for c in t["tool_calls"])
