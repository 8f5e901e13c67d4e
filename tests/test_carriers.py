"""Other reasoning carriers end to end: Gemini's thought signatures (OpenAI-compatible and
native wires), OpenRouter's reasoning_details, the OpenAI Responses API's reasoning items and
Bedrock Converse's reasoningContent, against the emulators. Each loop fails without the
pipeline the way the wild reports it, and completes with it."""

from __future__ import annotations

from typing import Any

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.recovery import classify
from agent.testing.emulators import Emulator
from tests.loops import chat_loop, converse_loop, gemini_loop, post, responses_loop

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


def no_reasoning(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client that keeps only function calls and messages (mastra #8738)."""
    return [o for o in output if o["type"] != "reasoning"]


class TestResponses:
    def test_bare_ids_with_store_false_fail_without_the_pipeline(self) -> None:
        """With store: false and no encrypted content asked for, the kept reasoning items
        are bare ids: the second call is the 404 users report."""
        with Emulator("openai") as openai:
            results = responses_loop(openai, "gpt-5", None)

        status, body = results[-1]
        assert (2, 404) == (len(results), status)
        assert "Items are not persisted when `store` is set to false" in body["error"]["message"]
        error = classify(status, body)
        assert error is not None
        assert ("must_pass_back", "openai") == (error.kind, error.family)

    def test_the_pipeline_asks_for_encrypted_reasoning(self) -> None:
        """The pipeline adds include: reasoning.encrypted_content (store: false), so each
        reasoning item goes back whole and the loop completes."""
        with Emulator("openai") as openai:
            results = responses_loop(openai, "gpt-5", _pipe())
            last = openai.log[-1].body

        assert [200] * 5 == [s for s, _ in results]
        assert ["reasoning.encrypted_content"] == last["include"]
        reasoning = [i for i in last["input"] if i.get("type") == "reasoning"]
        assert 4 == len(reasoning)
        assert all("encrypted_content" in i for i in reasoning)

    def test_lost_reasoning_items_fail_without_the_pipeline(self) -> None:
        """store on (the default): a function call sent with its id but without its
        reasoning item is the 400 users report."""
        with Emulator("openai") as openai:
            results = responses_loop(openai, "o3", None, store=None, keep=no_reasoning)

        status, body = results[-1]
        assert (2, 400) == (len(results), status)
        assert "without its required 'reasoning' item" in body["error"]["message"]

    def test_the_pipeline_restores_lost_reasoning_items(self) -> None:
        """The observed reasoning items go back before their function calls (by call id)."""
        with Emulator("openai") as openai:
            results = responses_loop(openai, "o3", _pipe(), store=None, keep=no_reasoning)

        assert [200] * 5 == [s for s, _ in results]

    def test_model_switch_drops_the_old_models_items(self) -> None:
        """Items made by gpt-5 (observed) are not sent to o3, which cannot verify them; the
        function calls they led to lose their ids."""
        pipe = _pipe()
        with Emulator("openai") as openai:
            first = responses_loop(openai, "gpt-5", pipe, include=True)
            history = [dict(i) for i in openai.log[-1].body["input"]]
            history.append({"role": "user", "content": "now with o3"})
            raw = responses_loop(openai, "o3", None, include=True, history=list(history))
            fixed = responses_loop(openai, "o3", pipe, include=True, history=list(history))

        assert all(s == 200 for s, _ in first)
        assert 400 == raw[0][0]
        assert "could not be verified" in raw[0][1]["error"]["message"]
        assert [200] * 5 == [s for s, _ in fixed]

    def test_an_unverifiable_item_is_learned_and_left_out(self) -> None:
        """An item never observed that the provider cannot verify: its 400 is classified, the
        item is remembered as rejected, and the one retry goes without it."""
        pipe = _pipe()
        body = {
            "model": "o3",
            "store": False,
            "include": ["reasoning.encrypted_content"],
            "input": [
                {"role": "user", "content": "go"},
                {"type": "reasoning", "id": "rs_x", "summary": [], "encrypted_content": "enc_?"},
                {"type": "function_call", "call_id": "c1", "name": "run", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"},
            ],
        }
        request = Request(api="responses", body=body)
        with Emulator("openai") as openai:
            url = f"{openai.openai_base_url}/responses"
            sent = pipe(request)
            status, error = post(url, dict(sent.body))
            retry = pipe.recover(request, sent, status, error)
            assert retry is not None
            again, _ = post(url, dict(retry.body))

        assert 400 == status
        assert [i.get("type") for i in retry.body["input"]] == [
            None,
            "function_call",
            "function_call_output",
        ]
        assert 200 == again


def unsigned(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client that keeps reasoningText without its signature (llama_index #20851)."""
    out = []
    for block in content:
        text = block.get("reasoningContent", {}).get("reasoningText")
        if text is not None:
            block = {"reasoningContent": {"reasoningText": {"text": text["text"]}}}
        out.append(block)
    return out


def no_reasoning_content(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client that keeps only text and tool use (spring-ai #6413)."""
    return [b for b in content if "reasoningContent" not in b]


CLAUDE_ON_BEDROCK = "us.anthropic.claude-opus-4-6-v1:0"


class TestBedrockConverse:
    def test_unsigned_reasoning_fails_without_the_pipeline(self) -> None:
        """Bedrock enforces Anthropic's rule: reasoningText without its signature is the
        ValidationException users report."""
        with Emulator("anthropic") as bedrock:
            results = converse_loop(bedrock, CLAUDE_ON_BEDROCK, None, keep=unsigned)

        status, body = results[-1]
        assert (2, 400) == (len(results), status)
        assert "thinking.signature: Field required" in body["message"]

    def test_the_pipeline_restores_the_signed_blocks(self) -> None:
        """The observed signed reasoning goes back (by toolUseId) in place of the unsigned
        copy, in Converse's own form."""
        pipe = _pipe()
        with Emulator("anthropic") as bedrock:
            results = converse_loop(bedrock, CLAUDE_ON_BEDROCK, pipe, keep=unsigned)
            last = bedrock.log[-1].body

        assert [200] * 5 == [s for s, _ in results]
        assistant = [m for m in last["messages"] if m["role"] == "assistant"]
        assert all(
            "signature" in m["content"][0]["reasoningContent"]["reasoningText"] for m in assistant
        )

    def test_lost_reasoning_fails_and_is_restored(self) -> None:
        """Dropped reasoningContent is Anthropic's 'Expected thinking' 400 without the
        pipeline; with it the loop completes."""
        with Emulator("anthropic") as bedrock:
            raw = converse_loop(bedrock, CLAUDE_ON_BEDROCK, None, keep=no_reasoning_content)
            fixed = converse_loop(bedrock, CLAUDE_ON_BEDROCK, _pipe(), keep=no_reasoning_content)

        assert 400 == raw[-1][0]
        assert "Expected `thinking` or `redacted_thinking`" in raw[-1][1]["message"]
        assert [200] * 5 == [s for s, _ in fixed]

    def test_a_kept_history_goes_as_sent(self) -> None:
        """Nothing to do for a client that keeps every block: the same request object."""
        pipe = _pipe()
        with Emulator("anthropic") as bedrock:
            results = converse_loop(bedrock, CLAUDE_ON_BEDROCK, pipe)
            last = bedrock.log[-1].body

        assert [200] * 5 == [s for s, _ in results]
        request = Request(
            api="bedrock_converse",
            base_url="https://bedrock-runtime.us-east-1.amazonaws.com",
            body={**last, "modelId": CLAUDE_ON_BEDROCK},
        )
        assert pipe(request) is request


def unsigned_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client that rebuilds parts from their content and loses thoughtSignature (5ire #405)."""
    return [{k: v for k, v in p.items() if k != "thoughtSignature"} for p in parts]


class TestGeminiNative:
    def test_lost_signatures_fail_without_the_pipeline(self) -> None:
        """Gemini 3 natively: the missing signature is its 400, classified as Gemini's."""
        with Emulator("gemini") as gemini:
            results = gemini_loop(gemini, GEMINI_3, None, keep=unsigned_parts)

        status, body = results[-1]
        assert (2, 400) == (len(results), status)
        error = classify(status, body)
        assert error is not None
        assert ("must_pass_back", "gemini") == (error.kind, error.family)

    def test_the_pipeline_restores_them(self) -> None:
        """Observed signatures come back by the call's name and arguments (no id natively)."""
        with Emulator("gemini") as gemini:
            results = gemini_loop(gemini, GEMINI_3, _pipe(), keep=unsigned_parts)
            last = gemini.log[-1].body

        assert [200] * 5 == [s for s, _ in results]
        signatures = [
            p["thoughtSignature"]
            for c in last["contents"]
            if c["role"] == "model"
            for p in c["parts"]
            if "functionCall" in p
        ]
        assert 4 == len(signatures)
        assert "skip_thought_signature_validator" not in signatures

    def test_unknown_signatures_get_the_bypass_value(self) -> None:
        """Nothing observed: the current turn's steps get the documented bypass value."""
        with Emulator("gemini") as gemini:
            results = gemini_loop(gemini, GEMINI_3, _pipe(), keep=unsigned_parts, observe=False)

        assert [200] * 5 == [s for s, _ in results]

    def test_gemini_2_5_enforces_them_too(self) -> None:
        """Gemini 2.5 now answers the same 400 as Gemini 3 (2026): without the pipeline the
        second call fails; with it, nothing observed, the bypass value goes."""
        with Emulator("gemini") as gemini:
            bare = gemini_loop(gemini, "gemini-2.5-flash", None, keep=unsigned_parts)
            fixed = gemini_loop(
                gemini, "gemini-2.5-flash", _pipe(), keep=unsigned_parts, observe=False
            )

        assert (2, 400) == (len(bare), bare[-1][0])
        assert [200] * 5 == [s for s, _ in fixed]


class TestModelInPath:
    def test_gemini_and_converse_move_the_model_to_the_url(self) -> None:
        """A Request carries the model in its body on every wire; for_the_wire takes it out
        where the wire carries it in the URL, and leaves other wires' bodies alone."""
        from agent.wire import for_the_wire

        gemini = {"model": "gemini-3-pro-preview", "contents": []}
        converse = {"modelId": "us.anthropic.claude-opus-4-6-v1:0", "messages": []}
        chat = {"model": "gpt-5", "messages": []}

        assert ({"contents": []}, "gemini-3-pro-preview") == for_the_wire("gemini", gemini)
        assert ({"messages": []}, converse["modelId"]) == for_the_wire("bedrock_converse", converse)
        body, model = for_the_wire("chat_completions", chat)
        assert (body, model) == (chat, None)
        assert body is chat


class TestResponsesErrors:
    def test_each_error_is_classified(self) -> None:
        """The Responses API's reasoning errors, as users report them, are ours to fix."""
        not_found = {
            "error": {
                "message": "Item with id 'rs_1' not found. Items are not persisted when `store` "
                "is set to false. Try again with `store` set to true, or remove this item from "
                "your input.",
                "type": "invalid_request_error",
                "param": "input",
                "code": None,
            }
        }
        unverified = {
            "error": {
                "message": "The encrypted content for item rs_0a18 could not be verified. Reason: "
                "Encrypted content could not be decrypted or parsed.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_encrypted_content",
            }
        }
        missing = {
            "error": {
                "message": "Item 'fc_0a03' of type 'function_call' was provided without its "
                "required 'reasoning' item: 'rs_0a03'.",
                "type": "invalid_request_error",
                "param": "input",
                "code": None,
            }
        }

        found = [classify(404, not_found), classify(400, unverified), classify(400, missing)]

        assert [
            ("must_pass_back", "openai"),
            ("invalid_signature", None),
            ("must_pass_back", "openai"),
        ] == [(e.kind, e.family) for e in found if e is not None]
        assert found[1] is not None
        assert "rs_0a18" == found[1].field
