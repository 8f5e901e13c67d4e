"""Writes ``requests.json``, the bad-request corpus, from the rules below (run it after
changing them; the file is committed and reviewed like any test).

Every case names the behaviour it must get: ``same`` (the very request back), ``changes`` (the
decisions explain reports, as [path, action], its ``kept`` and ``warning`` entries aside: what
the rule below changes), ``none`` (recover has nothing to fix), an error type and the JSON path
it names, or ``pass`` (no exception, where the call gives back no request: building options
and pipelines); an output is plain JSON when the input was. Values that JSON cannot spell are
markers the test expands: ``{"$deep": n}`` (a list nested n deep), ``{"$huge": n}`` (a string
of n characters), ``{"$nan": 1}``, ``{"$bytes": "b"}``, ``{"$object": 1}``, ``{"$set": 1}``,
``{"$tuple": 1}``, ``{"$self": 1}`` (a dict that holds itself), ``{"$intkeys": 1}`` (a dict with
an int key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SECRET = "sk-live-THIS-MUST-NEVER-SHOW-4242"

VALUES: dict[str, Any] = {
    "int": 5,
    "null": None,
    "string": "s",
    "list": [],
    "object": {},
    "deep": {"$deep": 10_000},
    "nan": {"$nan": 1},
    "bytes": {"$bytes": "b"},
    "python-object": {"$object": 1},
    "set": {"$set": 1},
    "tuple": {"$tuple": 1},
    "lone-surrogate": "\udc80",
    "self-holding": {"$self": 1},
    "bool": True,
    "float": 1.5,
    "int-keys": {"$intkeys": 1},
    # a key where a value of another type belongs: no error message may show it
    "secret-object": {"api_key": SECRET},
    "secret-list": [SECRET],
    "secret-string": SECRET,
}
#: the secret-bearing kinds behave as these do (only what they hold differs)
ALIKE = {"secret-object": "object", "secret-list": "deep", "secret-string": "string"}
#: a word given as an option value, a middleware or family name is shown (bounded) as written
#: (README: foreign: 'maybe' is not one of ...), so the key as a bare string is not tried there;
#: a value holding others never is shown, and a body's values never are
SHOWN = {"option/foreign", "option/middleware", "request/family"}
STRINGS = {"string", "lone-surrogate"}
#: kinds that reach the validator as an object (a dict) rather than as a scalar or list
OBJECTS = {"object", "self-holding", "int-keys"}

# place: (path in the base body, value kinds passed, where the named error points)
ANTHROPIC = {
    "model": (["model"], STRINGS, "model"),
    "messages": (["messages"], {"list"}, "messages"),
    "assistant-message": (["messages", 1], set(), "messages[1]"),
    "role": (["messages", 1, "role"], STRINGS, "messages[1].role"),
    "content": (["messages", 1, "content"], STRINGS | {"null", "list"}, "messages[1].content"),
    "user-content": (["messages", 0, "content"], STRINGS | {"null", "list"}, "messages[0].content"),
    "block": (["messages", 1, "content", 0], set(), "messages[1].content[0]"),
    "block-type": (["messages", 1, "content", 0, "type"], STRINGS, "messages[1].content[0].type"),
    "thinking-text": (
        ["messages", 1, "content", 0, "thinking"],
        STRINGS,
        "messages[1].content[0].thinking",
    ),
    "signature": (
        ["messages", 1, "content", 0, "signature"],
        STRINGS | {"null"},
        "messages[1].content[0].signature",
    ),
    "tool-use-id": (["messages", 1, "content", 1, "id"], set(VALUES), ""),
    "tool-result-id": (["messages", 2, "content", 0, "tool_use_id"], set(VALUES), ""),
    "thinking-param": (["thinking"], set(VALUES), ""),
}
CHAT = {
    "model": (["model"], STRINGS, "model"),
    "messages": (["messages"], {"list"}, "messages"),
    "assistant-message": (["messages", 1], set(), "messages[1]"),
    "role": (["messages", 1, "role"], STRINGS, "messages[1].role"),
    "reasoning-content": (
        ["messages", 1, "reasoning_content"],
        STRINGS | {"null"},
        "messages[1].reasoning_content",
    ),
    "tool-calls": (
        ["messages", 1, "tool_calls"],
        {"null", "list", "deep"},
        "messages[1].tool_calls",
    ),
    "tool-call": (["messages", 1, "tool_calls", 0], set(VALUES), ""),
    "tool-call-id": (["messages", 1, "tool_calls", 0, "id"], set(VALUES), ""),
    "tool-message-id": (["messages", 2, "tool_call_id"], set(VALUES), ""),
    "content": (["messages", 1, "content"], set(VALUES), ""),
}


#: The other wires' passes read less and validate nothing but what they must: a bad value
#: anywhere is passed over (sent as the agent wrote it), except where named.
RESPONSES = {
    "input": (["input"], STRINGS | {"null", "list", "deep"}, "input"),
    "reasoning-item": (["input", 1], set(VALUES), ""),
    "reasoning-id": (["input", 1, "id"], set(VALUES), ""),
    "encrypted-content": (["input", 1, "encrypted_content"], set(VALUES), ""),
    "function-call": (["input", 2], set(VALUES), ""),
    "call-id": (["input", 2, "call_id"], set(VALUES), ""),
    "store": (["store"], set(VALUES), ""),
    "include": (["include"], set(VALUES), ""),
}
GEMINI = {
    "contents": (["contents"], set(VALUES), ""),
    "model-turn": (["contents", 1], set(VALUES), ""),
    "parts": (["contents", 1, "parts"], set(VALUES), ""),
    "part": (["contents", 1, "parts", 0], set(VALUES), ""),
    "function-call": (["contents", 1, "parts", 0, "functionCall"], set(VALUES), ""),
    "thought-signature": (["contents", 1, "parts", 0, "thoughtSignature"], set(VALUES), ""),
}
CONVERSE = {
    "model-id": (["modelId"], STRINGS, "model"),
    # (the Converse pass runs the Anthropic pass on a view: what that pass reads, it checks)
    "messages": (["messages"], set(VALUES) - {"deep"}, "messages[0]"),
    "content": (
        ["messages", 1, "content"],
        STRINGS | {"null", "list", "deep"},
        "messages[1].content",
    ),
    "reasoning-content": (["messages", 1, "content", 0, "reasoningContent"], set(VALUES), ""),
    "signature": (
        ["messages", 1, "content", 0, "reasoningContent", "reasoningText", "signature"],
        STRINGS | {"null"},
        "messages[1].content[0].signature",
    ),
    "tool-use-id": (["messages", 1, "content", 1, "toolUse", "toolUseId"], set(VALUES), ""),
}
OPENROUTER = {
    "reasoning-details": (["messages", 1, "reasoning_details"], set(VALUES), ""),
    "detail": (["messages", 1, "reasoning_details", 0], set(VALUES), ""),
    "extra-content": (["messages", 1, "tool_calls", 0, "extra_content"], set(VALUES), ""),
    "thought-signature": (
        ["messages", 1, "tool_calls", 0, "extra_content", "google", "thought_signature"],
        set(VALUES),
        "",
    ),
}


#: A request whose spoiled value is passed over comes back the same, unless a rule changes it.
SAME: dict[str, Any] = {"same": True}
Outcome = Callable[[str], dict[str, Any]]


def _changes(*entries: tuple[str, str]) -> dict[str, Any]:
    return {"changes": [list(entry) for entry in entries]}


def _always(expect: dict[str, Any]) -> Outcome:
    return lambda _: expect


def _strings_pass(otherwise: dict[str, Any]) -> Outcome:
    """Same for a string (a value the wire allows); ``otherwise`` for anything else."""
    return lambda kind: SAME if kind in STRINGS else otherwise


# a tool_result whose call is gone is removed, and the user message it emptied is left out
_LOST_CALL = _changes(("messages[2].content[0]", "dropped"), ("messages[2]", "dropped"))
# ids that no longer pair: the call and its result go; the signed turn was restructured, so its
# signature no longer verifies (dropped); the emptied messages are left out
_UNPAIRED = _changes(
    ("messages[1].content[1]", "dropped"),
    ("messages[2].content[0]", "dropped"),
    ("messages[2]", "dropped"),
    ("messages[1].content[0]", "dropped"),
    ("messages[1]", "dropped"),
)
# the same on the chat wire: the call goes, the message it emptied, and the tool message
_UNPAIRED_CHAT = _changes(
    ("messages[1].tool_calls[0]", "dropped"), ("messages[1]", "dropped"), ("messages[2]", "dropped")
)
# store: false with an OpenAI reasoning model: the encrypted reasoning is asked for
_INCLUDE = ("include", "converted")
# Gemini 3: a current-turn step whose first call has no signature gets the bypass value
_BYPASS = _changes(("contents[1].parts[0].thoughtSignature", "padded"))
_BYPASS_CHAT = _changes(
    ("messages[1].tool_calls[0].extra_content.google.thought_signature", "padded")
)

#: The rule that changes a request whose spoiled value is passed over, by base and place
#: (every other passed value: SAME).
OUTCOMES: dict[str, Outcome] = {
    # a message that is no assistant message has no tool_use the result pairs with
    "anthropic/role": _always(_LOST_CALL),
    "anthropic/content": _always(_LOST_CALL),
    # unsigned thinking never goes to Anthropic
    "anthropic/signature": _strings_pass(_changes(("messages[1].content[0]", "dropped"))),
    "anthropic/tool-use-id": _always(_UNPAIRED),
    "anthropic/tool-result-id": _always(_UNPAIRED),
    "chat/role": _always(_changes(("messages[2]", "dropped"))),
    # DeepSeek needs reasoning on a tool-call message: the pad " "
    "chat/reasoning-content": _strings_pass(_changes(("messages[1].reasoning_content", "padded"))),
    # no tool call: the tool message pairs with nothing; a nested list is a call without id
    "chat/tool-calls": lambda kind: (
        _UNPAIRED_CHAT if kind == "deep" else _changes(("messages[2]", "dropped"))
    ),
    "chat/tool-call": _always(_UNPAIRED_CHAT),
    "chat/tool-call-id": _always(_UNPAIRED_CHAT),
    "chat/tool-message-id": _always(_UNPAIRED_CHAT),
    # no items (a string or nothing): nothing to carry, nothing asked for
    "responses/input": lambda kind: SAME if kind in STRINGS | {"null"} else _changes(_INCLUDE),
    "responses/reasoning-item": _always(_changes(_INCLUDE)),
    "responses/reasoning-id": _always(_changes(_INCLUDE)),
    # no encrypted content with store: false is a bare id: left out, and its call's id
    "responses/encrypted-content": lambda kind: (
        _changes(_INCLUDE)
        if kind in STRINGS
        else _changes(("input[1]", "dropped"), ("input[2].id", "dropped"), _INCLUDE)
    ),
    # a reasoning item whose following item is gone is left out
    "responses/function-call": lambda kind: (
        _changes(_INCLUDE) if kind in OBJECTS else _changes(("input[1]", "dropped"), _INCLUDE)
    ),
    "responses/call-id": _always(_changes(_INCLUDE)),
    # an include that is a list (or none) gets the item; anything else is the agent's
    "responses/include": lambda kind: (
        _changes(_INCLUDE) if kind in ("null", "list", "deep") else SAME
    ),
    "gemini/thought-signature": _strings_pass(_BYPASS),
    # unsigned reasoning never goes to Claude (on Bedrock too)
    "converse/signature": _strings_pass(_changes(("messages[1].content[0]", "dropped"))),
    "openrouter/extra-content": _always(_BYPASS_CHAT),
    "openrouter/thought-signature": _strings_pass(_BYPASS_CHAT),
}


def _where(place: str, kind: str, where: str) -> str:
    """Where the error points: a nested value is named by its first bad part."""
    if kind == "deep" and place in ("messages",):
        return "messages[0]"
    if place in ("model-id",):
        return where
    if kind == "deep" and place in ("content", "user-content"):
        return where + "[0]"
    if kind in OBJECTS and place in ("assistant-message",):
        return where + ".role"
    if kind in OBJECTS and place == "block":
        return where + ".type"
    return where


def _body_cases(api: str, base: str, places: dict[str, Any]) -> list[dict[str, Any]]:
    cases = []
    for place, (path, passed, where) in places.items():
        for name, value in VALUES.items():
            kind = ALIKE.get(name, name)
            expect: dict[str, Any] = (
                OUTCOMES.get(f"{base}/{place}", _always(SAME))(kind)
                if kind in passed
                else {"error": "InvalidRequest", "where": _where(place, kind, where)}
            )
            cases.append(
                {
                    "name": f"{base}/{place}/{name}",
                    "call": "pipe",
                    "api": api,
                    "base": base,
                    "set": [path, value],
                    "expect": expect,
                }
            )
    return cases


def _other_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for name, value in VALUES.items():
        kind = ALIKE.get(name, name)
        cases.append(
            {
                "name": f"observe/response/{name}",
                "call": "observe",
                "api": "anthropic_messages",
                "response": value,
                # a response that is no mapping is an error, never silently passed over; what
                # is passed over changes nothing sent
                "expect": (
                    SAME if kind in OBJECTS else {"error": "InvalidResponse", "where": "response"}
                ),
            }
        )
        cases.append(
            {
                "name": f"observe/thinking-text/{name}",
                "call": "observe",
                "api": "anthropic_messages",
                "response": {
                    "type": "message",
                    "content": [{"type": "thinking", "thinking": value, "signature": "s"}],
                },
                "expect": SAME,
            }
        )
        cases.append(
            {
                "name": f"observe/chat-reasoning/{name}",
                "call": "observe",
                "api": "chat_completions",
                "response": {"choices": [{"message": {"reasoning_content": value}}]},
                "expect": SAME,
            }
        )
        cases.append(
            {
                "name": f"recover/error-body/{name}",
                "call": "recover",
                "status": 400,
                "error": value,
                "expect": {"none": True},
            }
        )
        cases.append(
            {
                "name": f"recover/status/{name}",
                "call": "recover",
                "status": value,
                "error": {"error": {"message": "Invalid `signature` in `thinking` block"}},
                "expect": {"none": True},
            }
        )
        is_name = kind in STRINGS
        cases.append(
            {
                "name": f"request/family/{name}",
                "call": "request",
                "fields": {"family": value},
                "expect": (
                    {"error": "UnknownFamily", "where": "family"}
                    if is_name
                    else SAME
                    if kind == "null"
                    else {"error": "InvalidRequest", "where": "family"}
                ),
            }
        )
        cases.append(
            {
                "name": f"request/base-url/{name}",
                "call": "request",
                "fields": {"base_url": value},
                "expect": (
                    SAME
                    if kind in STRINGS | {"null"}
                    else {"error": "InvalidRequest", "where": "base_url"}
                ),
            }
        )
        cases.append(
            {
                "name": f"option/foreign/{name}",
                "call": "option",
                "options": {"foreign": value},
                "expect": {"error": "InvalidOption", "where": "foreign"},
            }
        )
        cases.append(
            {
                "name": f"option/middleware/{name}",
                "call": "pipeline",
                "middleware": value,
                "expect": (
                    {"pass": True}
                    if kind == "list"
                    else {"error": "InvalidOption", "where": "middleware[0]"}
                    if kind in ("deep", "set", "tuple")
                    else {"error": "InvalidOption", "where": "middleware"}
                ),
            }
        )
    # (the key as a bare string is not tried where a word is shown: see SHOWN)
    shown = {f"{place}/secret-string" for place in SHOWN}
    cases = [c for c in cases if c["name"] not in shown]
    huge = {"$huge": 20_000_000}
    for place, path, where in (
        ("model", ["model"], None),
        ("thinking-text", ["messages", 1, "content", 0, "thinking"], None),
        ("signature", ["messages", 1, "content", 0, "signature"], None),
        ("role-in-a-list", ["messages", 1, "role"], "messages[1].role"),
        ("type-in-a-list", ["messages", 1, "content", 0, "type"], "messages[1].content[0].type"),
    ):
        value = [huge] if where else huge
        cases.append(
            {
                "name": f"anthropic/{place}/20-mb",
                "call": "pipe",
                "api": "anthropic_messages",
                "base": "anthropic",
                "set": [path, value],
                "expect": {"error": "InvalidRequest", "where": where} if where else SAME,
            }
        )
    for text in ("not a url", "http://[::1", "http://", "ftp://x", "", {"$huge": 100_000}):
        cases.append(
            {
                "name": f"request/base-url/{json.dumps(text)[:24]}",
                "call": "pipe",
                "api": "anthropic_messages",
                "base": "anthropic",
                "base_url": text,
                "expect": (
                    {"error": "InvalidRequest", "where": "base_url"}
                    if text == "http://[::1"
                    else SAME
                ),
            }
        )
    return cases


def build() -> list[dict[str, Any]]:
    return [
        *_body_cases("anthropic_messages", "anthropic", ANTHROPIC),
        *_body_cases("chat_completions", "chat", CHAT),
        *_body_cases("responses", "responses", RESPONSES),
        *_body_cases("gemini", "gemini", GEMINI),
        *_body_cases("bedrock_converse", "converse", CONVERSE),
        *_body_cases("chat_completions", "openrouter", OPENROUTER),
        *_other_cases(),
    ]


if __name__ == "__main__":
    cases = build()
    (HERE / "requests.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(len(cases), "cases")
