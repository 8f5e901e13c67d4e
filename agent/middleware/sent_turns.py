"""The turn structure of an Anthropic-wire body as it will be sent.

The pass decides on the body as it came in, but what matters to the provider (and to a second
run) is the body as it goes out, without the messages the pass leaves out (an assistant message
that held only thinking that cannot be sent): when the last assistant message is left out, the
turn before it is the latest one, and the loop check looks at the message before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent.body import REMOVE
from agent.history import History


def latest_turn_start(history: History, left_out: Callable[[int], bool]) -> int:
    """The first message of the latest assistant turn as the body will be sent.

    ``left_out(i)`` says whether the pass leaves assistant message ``i`` out when it is the
    latest turn's; it is asked only of a last assistant message that holds nothing but
    thinking. When that one goes, the turn of the one before it is the latest, and what is sent
    of it (a latest-turn model keeps only the latest turn's thinking) is decided as of it: a
    second run, which no longer sees the left-out message, decides it so.
    """
    messages, start, last = history.messages, history.latest_start, history.last_assistant
    while last >= 0:
        positions = history.thinking.get(last)
        if positions is None or len(positions) != len(messages[last]["content"]):
            break  # it holds more than thinking: it is sent
        if not left_out(last):
            break
        last = max((k for k in history.assistants if k < last), default=-1)
        start = _after_real_user(messages, last)
    return start


def _after_real_user(messages: Sequence[Any], before: int) -> int:
    """The index after the last user message before ``before`` that carries anything other
    than tool results (0 when there is none)."""
    for k in range(before - 1, -1, -1):
        message = messages[k]
        content = message.get("content")
        if message.get("role") == "user" and (
            not isinstance(content, list)
            or not content
            or any(b.get("type") != "tool_result" for b in content)
        ):
            return k + 1
    return 0


def continued_turn(history: History, changes: Mapping[int, Any]) -> int | None:
    """The assistant message the request continues a tool loop from, as it will be sent (a
    message left out no longer counts: a trailing one that held only thinking reveals the
    turn before it), or None when the request does not continue the active loop."""
    if not changes:
        return history.last_assistant if history.continuing_loop else None
    messages = history.messages
    kept = (k for k in reversed(range(len(messages))) if changes.get(k) is not REMOVE)
    tail = next(kept, None)
    if tail is None or messages[tail].get("role") != "user":
        return None
    last = next((k for k in kept if messages[k].get("role") == "assistant"), None)
    return last if last is not None and last >= history.loop_start else None
