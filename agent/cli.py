"""Command line: ``python -m agent <command>`` (also installed as ``agent-pipeline``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.errors import AgentError
from agent.families import APIS
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.pipeline import Pipeline
from agent.request import Request, dumps

EXIT_OK = 0
EXIT_INPUT = 1  # the body or config given is invalid
EXIT_USAGE = 2  # argparse's own code for bad arguments


class _Fail(Exception):
    """A message for the user and an exit code; never a traceback."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise _Fail(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Fail(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None


def _preview(args: argparse.Namespace) -> int:
    body = _read_json(args.body)
    if not isinstance(body, dict):
        raise _Fail(f"{args.body}: the body must be a JSON object")
    if args.model:
        body = {**body, "model": args.model}
    pipeline = Pipeline([ToolPairing(), ThinkingRoundTrip()])
    request = Request(api=args.api, base_url=args.base_url, body=body, family=args.family)
    explanation = pipeline.explain(request)
    if args.json:
        print(
            json.dumps(
                {"body": explanation.body, "explain": explanation.to_dict()},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print("# outgoing body")
        print(dumps(explanation.body))
        print()
        print("# explain")
        print(explanation)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m agent",
        description="Fit the reasoning in an LLM request to its provider's contract.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    preview = commands.add_parser(
        "preview",
        help="print the body that would go on the wire, and why each change was made",
        description=(
            "Run ToolPairing and ThinkingRoundTrip over BODY.json for one target and print the "
            "outgoing body and the explain record. Exit codes: 0 ok, 1 invalid input, 2 usage."
        ),
    )
    preview.add_argument("body", metavar="BODY.json", help="the request body ('-' for stdin)")
    preview.add_argument(
        "--api", choices=APIS, default="anthropic_messages", help="the wire (default: %(default)s)"
    )
    preview.add_argument(
        "--base-url",
        default=None,
        help="where the request goes (default: the wire's official endpoint)",
    )
    preview.add_argument(
        "--family", default=None, help="force a model family instead of detecting it"
    )
    preview.add_argument("--model", default=None, help="override the body's model id")
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    preview.set_defaults(run=_preview)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except _Fail as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    return code
