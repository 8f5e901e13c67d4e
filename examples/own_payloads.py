"""An agent that builds its payloads itself: ``pipe(req)`` before sending, ``observe`` after.

The originating agent of this project built its Anthropic Messages bodies by hand and sent
them to mimo-v2.5-pro behind a relay; its rule "unknown third-party relay: strip all
thinking" made every tool loop fail on call 2 with MiMo's HTTP 400. Here the same agent keeps
only text and tool calls, and hands each body to the pipeline: ``pipe(req)`` returns the body
that goes on the wire, ``pipe.explain(req)`` says what changed and why, and
``pipe.observe(sent, response)`` records each answer's thinking for the calls that follow.

Runs against the bundled MiMo emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL
send it to a real provider on the Anthropic wire instead (see _upstream.py).
"""

import json
import urllib.request
from typing import Any

from _upstream import PROMPT, TOOL, run_step, upstream

from agent import Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing


def post(url: str, key: str, body: Any) -> dict[str, Any]:
    """POST a Messages body; the provider's answer as JSON (an HTTP error raises)."""
    request = urllib.request.Request(
        f"{url}/v1/messages",
        data=json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            "x-api-key": key,
            "anthropic-version": "2023-06-01",
        },
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        answer: dict[str, Any] = json.load(response)
        return answer


def main() -> None:
    pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
    with upstream("mimo", "mimo-v2.5-pro") as provider:
        history: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
        for call in range(1, 9):
            body = {
                "model": provider.model,
                "max_tokens": 2048,
                "thinking": {"type": "enabled", "budget_tokens": 1024},
                "tools": [TOOL],
                "messages": history,
            }
            req = Request(api="anthropic_messages", base_url=provider.base_url, body=body)
            sent = pipe(req)  # the body that goes on the wire
            if call == 2:
                print(pipe.explain(req))  # what the pipeline changed, where, and why
            answer = post(provider.base_url, provider.api_key, sent.body)
            pipe.observe(sent, answer)  # the answer's thinking, kept for the calls after

            kept = [b for b in answer["content"] if b["type"] in ("text", "tool_use")]
            history.append({"role": "assistant", "content": kept})
            calls = [b for b in kept if b["type"] == "tool_use"]
            print(f"  call {call}: {answer['stop_reason']}")
            if not calls:
                text = "".join(b["text"] for b in kept if b["type"] == "text")
                print(f"completed: {text!r}; {provider.report()}")
                return
            results = [
                {"type": "tool_result", "tool_use_id": b["id"], "content": run_step(**b["input"])}
                for b in calls
            ]
            history.append({"role": "user", "content": results})


if __name__ == "__main__":
    main()
