"""Drive a scripted tool-use conversation through the real anthropic SDK (tests and the demo).

The loop is the agent side of the emulators' script: send the history, append the assistant's
content as the agent stores it, answer every tool call with a tool_result, repeat until the
model ends its turn or the provider answers an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import anthropic
from attrs import frozen

from agent.integrations._sse import MessageAccumulator

Mode = Literal["create", "stream", "stream_helper"]
History = list[dict[str, Any]]


@frozen
class Step:
    """One API call of the loop.

    Attributes:
        call: its number, from 1.
        status: the HTTP status (200, or the error's).
        stop_reason: the model's stop reason on success.
        error: the provider's error text on failure.
        content: the assistant content appended to the history on success.
    """

    call: int
    status: int
    stop_reason: str | None = None
    error: str | None = None
    content: tuple[Mapping[str, Any], ...] = ()


def _block(block: Any) -> dict[str, Any]:
    data: dict[str, Any] = block.model_dump(exclude_none=True)
    return data


def _error_text(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        message, param = error.get("message"), error.get("param")
        return f"{message}: {param}" if isinstance(param, str) and param else str(message)
    return str(body)


def _from_events(events: list[Any]) -> dict[str, Any]:
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.add(event.model_dump())
    if accumulator.message is None:
        raise RuntimeError("the stream carried no message_start event")
    return accumulator.message


def _result(message: Any) -> tuple[str | None, list[dict[str, Any]]]:
    if isinstance(message, dict):
        return message.get("stop_reason"), [dict(b) for b in message["content"]]
    return message.stop_reason, [_block(b) for b in message.content]


def _tool_results(content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": b["id"], "content": f"output of {b['id']}"}
            for b in content
            if b.get("type") == "tool_use"
        ],
    }


Store = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _advance(
    steps: list[Step], history: History, call: int, message: Any, store: Store | None
) -> bool:
    """Record a successful call and extend the history; False when the model is done."""
    stop, content = _result(message)
    steps.append(Step(call, 200, stop, content=tuple(content)))
    history.append({"role": "assistant", "content": store(content) if store else content})
    if stop != "tool_use":
        return False
    history.append(_tool_results(content))
    return True


def run_tool_loop(
    client: anthropic.Anthropic,
    history: History,
    *,
    mode: Mode = "create",
    max_calls: int = 12,
    store: Store | None = None,
    **params: Any,
) -> list[Step]:
    """Run the loop on ``history`` (extended in place); ``store`` shapes what the agent keeps."""
    steps: list[Step] = []
    messages: Any = history  # plain JSON the agent keeps; the SDK's TypedDicts are too narrow
    for call in range(1, max_calls + 1):
        try:
            if mode == "stream_helper":
                with client.messages.stream(messages=messages, **params) as stream:
                    message: Any = stream.get_final_message()
            elif mode == "stream":
                message = _from_events(
                    list(client.messages.create(messages=messages, stream=True, **params))
                )
            else:
                message = client.messages.create(messages=messages, **params)
        except anthropic.APIStatusError as exc:
            steps.append(Step(call, exc.status_code, error=_error_text(exc)))
            return steps
        if not _advance(steps, history, call, message, store):
            return steps
    return steps


async def run_tool_loop_async(
    client: anthropic.AsyncAnthropic,
    history: History,
    *,
    mode: Mode = "create",
    max_calls: int = 12,
    store: Store | None = None,
    **params: Any,
) -> list[Step]:
    """The async twin of ``run_tool_loop``."""
    steps: list[Step] = []
    messages: Any = history  # plain JSON the agent keeps; the SDK's TypedDicts are too narrow
    for call in range(1, max_calls + 1):
        try:
            if mode == "stream_helper":
                async with client.messages.stream(messages=messages, **params) as stream:
                    message: Any = await stream.get_final_message()
            elif mode == "stream":
                events = [
                    e
                    async for e in await client.messages.create(
                        messages=messages, stream=True, **params
                    )
                ]
                message = _from_events(events)
            else:
                message = await client.messages.create(messages=messages, **params)
        except anthropic.APIStatusError as exc:
            steps.append(Step(call, exc.status_code, error=_error_text(exc)))
            return steps
        if not _advance(steps, history, call, message, store):
            return steps
    return steps
