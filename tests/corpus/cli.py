"""Writes ``cli.json``, the command-line corpus: arguments, the files they name (text, or
``{"gen": how}``), optional stdin, and the exit code each must get (0 ok, 1 bad input or
config, 2 usage; 70 is kept for real bugs and no case may get it). Paths in arguments are
relative to the case's own folder; ``/dev/...`` paths are used as they are. A file
``{"special": kind}`` is made as a FIFO, a folder or a link to a device."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KEY = "sk-live-THIS-MUST-NEVER-SHOW-4242"

GOOD = json.dumps(
    {
        "model": "mimo-v2.5-pro",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "r"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1"}]},
        ],
    }
)
CHAT = json.dumps(
    {
        "model": "deepseek-v4-pro",
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function"}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
    }
)
CONFIG = (
    "providers:\n  relay:\n    base_url: https://open.markhub.top\n    model: mimo-v2.5-pro\n"
    f"    api_mode: anthropic_messages\n    api_key: {KEY}\n"
)
FAMILY = (
    "families:\n  - {name: house, models: ['house-*'], anthropic: {thinking: carry}}\n" + CONFIG
)


def case(name: str, args: list[str], code: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "expect": {"code": code}, **extra}


def body(name: str, content: Any, code: int, *flags: str) -> dict[str, Any]:
    return case(name, ["preview", "b.json", *flags], code, files={"b.json": content})


CASES = [
    body("preview-good", GOOD, 0),
    body("preview-good-json", GOOD, 0, "--json"),
    body("preview-good-base-url", GOOD, 0, "--base-url", "https://open.markhub.top"),
    body("preview-good-family", GOOD, 0, "--family", "mimo"),
    body("preview-good-model", GOOD, 0, "--model", "claude-opus-4-6", "--json"),
    body("preview-chat-wire", CHAT, 0, "--api", "chat_completions"),
    body("preview-chat-wire-detected", CHAT, 0),
    body("preview-wire-mismatch", GOOD, 1, "--api", "chat_completions"),
    body("preview-empty-file", "", 1),
    body("preview-not-json", "{model: x}", 1),
    body("preview-a-list", "[]", 1),
    body("preview-a-string", '"text"', 1),
    body("preview-nan", '{"model": "m", "messages": [], "max_tokens": NaN}', 1),
    body("preview-infinity", '{"model": "m", "messages": [], "t": -Infinity}', 1, "--json"),
    body("preview-lone-surrogate", '{"model": "m\\udc80", "messages": []}', 1),
    body("preview-messages-a-number", '{"model": "m", "messages": 5}', 1),
    body("preview-role-a-number", '{"model": "m", "messages": [{"role": 5}]}', 1),
    body("preview-model-a-list", '{"model": [], "messages": []}', 1),
    body("preview-binary", {"gen": "binary"}, 1),
    body("preview-utf-16", {"gen": "utf-16"}, 1),
    body("preview-deep", {"gen": "deep"}, 1),
    body("preview-too-large", {"gen": "large"}, 1),
    body("preview-bad-family", GOOD, 1, "--family", "nope"),
    body("preview-empty-family", GOOD, 1, "--family", ""),
    body("preview-bad-base-url", GOOD, 1, "--base-url", "http://[::1"),
    body("preview-bad-api", GOOD, 2, "--api", "grpc"),
    case("preview-missing-file", ["preview", "nothing.json"], 1),
    case("preview-a-folder", ["preview", "."], 1),
    case("preview-dev-zero", ["preview", "/dev/zero"], 1),
    case("preview-dev-null", ["preview", "/dev/null"], 1),
    case("preview-stdin-good", ["preview", "-"], 0, stdin=GOOD),
    case("preview-stdin-empty", ["preview", "-"], 1, stdin=""),
    case("preview-no-body", ["preview"], 2),
    case(
        "preview-config-provider",
        ["preview", "b.json", "--config", "c.yaml", "--provider", "relay", "--json"],
        0,
        files={"b.json": GOOD, "c.yaml": CONFIG},
    ),
    case(
        "preview-config-unknown-provider",
        ["preview", "b.json", "--config", "c.yaml", "--provider", "nope"],
        1,
        files={"b.json": GOOD, "c.yaml": CONFIG},
    ),
    case(
        "preview-config-missing",
        ["preview", "b.json", "--config", "none.yaml", "--provider", "relay"],
        1,
        files={"b.json": GOOD},
    ),
    case(
        "preview-config-key-in-key-env",
        ["preview", "b.json", "--config", "c.yaml", "--provider", "relay"],
        1,
        files={"b.json": GOOD, "c.yaml": CONFIG.replace("api_key:", "api_key_env:")},
    ),
    case(
        "preview-config-without-provider",
        ["preview", "b.json", "--config", "c.yaml"],
        2,
        files={"b.json": GOOD, "c.yaml": CONFIG},
    ),
    case("check-good", ["check", "c.yaml"], 0, files={"c.yaml": CONFIG}),
    case("check-good-json", ["check", "c.yaml", "--json"], 0, files={"c.yaml": CONFIG}),
    case("check-family", ["check", "c.yaml"], 0, files={"c.yaml": FAMILY}),
    case("check-missing", ["check", "none.yaml"], 1),
    case("check-a-folder", ["check", "."], 1),
    case("check-dev-null", ["check", "/dev/null"], 1),
    case("check-binary", ["check", "c.toml"], 1, files={"c.toml": {"gen": "binary"}}),
    case("check-utf-16", ["check", "c.yaml"], 1, files={"c.yaml": {"gen": "utf-16"}}),
    case("check-deep", ["check", "c.yaml"], 1, files={"c.yaml": {"gen": "deep"}}),
    case("check-bad-yaml", ["check", "c.yaml"], 1, files={"c.yaml": "a: [\n"}),
    case(
        "check-key-in-key-env",
        ["check", "c.yaml"],
        1,
        files={"c.yaml": CONFIG.replace("api_key:", "api_key_env:")},
    ),
    case("check-unknown-suffix", ["check", "c.ini"], 1, files={"c.ini": CONFIG}),
    case("check-no-config", ["check"], 2),
    case("families", ["families"], 0),
    case("families-json", ["families", "--json"], 0),
    case("families-config", ["families", "--config", "c.yaml"], 0, files={"c.yaml": FAMILY}),
    case("families-bad-config", ["families", "--config", "c.yaml"], 1, files={"c.yaml": "- 5\n"}),
    case("no-command", [], 2),
    case("unknown-command", ["serve-me"], 2),
    case("help", ["--help"], 0),
    case("preview-help", ["preview", "--help"], 0),
    case("demo-bad-flag", ["demo", "--bogus"], 2),
]

#: what a path may name instead of a regular file (made by the test: a FIFO with a writer
#: waiting to send a good file, a folder, or a link named like the file to a device)
SPECIAL = {
    "fifo": {"special": "fifo"},
    "folder": {"special": "folder"},
    "link-to-dev-zero": {"special": "/dev/zero"},
    "link-to-dev-urandom": {"special": "/dev/urandom"},
    "link-to-dev-null": {"special": "/dev/null"},
}
for _kind, _file in SPECIAL.items():
    CASES += [
        case(f"check-{_kind}", ["check", "c.yaml"], 1, files={"c.yaml": _file}),
        case(
            f"families-config-{_kind}",
            ["families", "--config", "c.yaml"],
            1,
            files={"c.yaml": _file},
        ),
        body(f"preview-{_kind}", _file, 1),
        case(
            f"preview-config-{_kind}",
            ["preview", "b.json", "--config", "c.yaml", "--provider", "relay"],
            1,
            files={"b.json": GOOD, "c.yaml": _file},
        ),
    ]
# (serve is given none that reads as a good config to code that does not check: the FIFO's
# writer sends one and /dev/null is empty, and serving would not end)
CASES += [
    case(f"serve-config-{kind}", ["serve", "--config", "c.yaml"], 1, files={"c.yaml": file})
    for kind, file in SPECIAL.items()
    if kind not in ("fifo", "link-to-dev-null")
]
CASES += [
    case("check-dev-zero", ["check", "/dev/zero"], 1),
    case("check-dev-urandom", ["check", "/dev/urandom"], 1),
    case("families-config-dev-zero", ["families", "--config", "/dev/zero"], 1),
    case(
        "preview-config-dev-zero",
        ["preview", "-", "--config", "/dev/zero", "--provider", "p"],
        1,
        stdin=GOOD,
    ),
    body("preview-deep-object", {"gen": "deep-object"}, 1),
    case("check-deep-object", ["check", "c.yaml"], 1, files={"c.yaml": {"gen": "deep-object"}}),
    case("check-alias-bomb", ["check", "c.yaml"], 1, files={"c.yaml": {"gen": "alias-bomb"}}),
    case(
        "check-key-as-an-alias",
        ["check", "c.yaml"],
        1,
        files={"c.yaml": CONFIG.replace(f"api_key: {KEY}", f"api_key: *{KEY}")},
    ),
    case(
        "check-key-as-a-tag",
        ["check", "c.yaml"],
        1,
        files={"c.yaml": CONFIG.replace(f"api_key: {KEY}", f"api_key: !{KEY} x")},
    ),
    case(
        "check-key-under-an-int-tag",
        ["check", "c.yaml"],
        1,
        files={"c.yaml": CONFIG.replace(f"api_key: {KEY}", f"api_key: !!int {KEY}")},
    ),
]

if __name__ == "__main__":
    (HERE / "cli.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(len(CASES), "invocations")
