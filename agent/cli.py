"""Command line: the ``thinking-round-trip`` console script (also ``python -m agent``)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from agent.agent_config import gateway_url, refuse_loop, write_agent_config
from agent.config import load_config
from agent.distribution import DISTRIBUTION, install_hint, installed_version, missing_extra
from agent.errors import AgentError, UnreadableFile
from agent.explain import dumps
from agent.families import APIS, FamilyRegistry
from agent.families.listing import print_table, table_records
from agent.inputs import loads, read_file
from agent.middleware import ThinkingRoundTrip, ToolPairing
from agent.pipeline import Pipeline
from agent.reports import check_record, check_text
from agent.request import Request
from agent.wire import wire_of

EXIT_OK = 0
EXIT_INPUT = 1  # the body or config given is invalid
EXIT_USAGE = 2  # argparse's own code for bad arguments
EXIT_BUG = 70  # an unexpected error inside the library (EX_SOFTWARE)


class _Fail(Exception):
    """A message for the user and an exit code; never a traceback."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


#: The largest body preview reads (Anthropic's own request limit).
MAX_BODY_BYTES = 32_000_000


def _read_json(path: str) -> Any:
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(MAX_BODY_BYTES + 1)
            if len(raw) > MAX_BODY_BYTES:
                raise _Fail(f"{path}: larger than {MAX_BODY_BYTES // 1_000_000} MB")
        else:  # only a regular file: a FIFO, a device or a folder is refused in one line
            raw = read_file(path, MAX_BODY_BYTES)
    except OSError as exc:
        raise _Fail(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnreadableFile as exc:
        raise _Fail(str(exc)) from None
    try:
        text = raw.decode("utf-8")
        return loads(text, parse_constant=_not_json)
    except UnicodeDecodeError as exc:
        raise _Fail(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _Fail(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except ValueError as exc:  # NaN, or nested deeper than the library's bound
        raise _Fail(f"{path}: not valid JSON: {exc}") from None


def _text_only(path: str, body: Any) -> None:
    """Reject a body holding a lone surrogate ("\\ud800"): valid JSON escapes, no text."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _Fail(f"{path}: a string holds a lone surrogate, which is no text") from None


def _not_json(name: str) -> Any:
    """NaN and Infinity are Python's, not JSON's: a body holding them is rejected."""
    raise ValueError(f"{name} is not a JSON value")


def _preview(args: argparse.Namespace) -> int:
    body = _read_json(args.body)
    _text_only(args.body, body)
    if not isinstance(body, dict):
        raise _Fail(f"{args.body}: the body must be a JSON object")
    shape = wire_of(body)
    if args.config is not None:
        if args.provider is None:
            raise _Fail("--config needs --provider NAME (check CONFIG lists them)", EXIT_USAGE)
        config = load_config(args.config)
        provider = config.provider(args.provider)
        pipeline = config.pipeline(args.provider)
        api, said = args.api or provider.api_mode, "--api" if args.api else "its api_mode"
        base_url = args.base_url or provider.base_url
        if "model" not in body and provider.model:
            body = {**body, "model": provider.model}
    else:
        if args.provider is not None:
            raise _Fail("--provider needs --config CONFIG", EXIT_USAGE)
        pipeline = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        api = args.api or (shape[0] if shape else "anthropic_messages")
        said, base_url = "--api", args.base_url
    if shape is not None and shape[0] != api:
        raise _Fail(
            f"{args.body}: the body is written for {shape[0]} ({shape[1]}), but {said} "
            f"says {api}; give the body of that wire, or --api {shape[0]}"
        )
    if args.model:
        body = {**body, "model": args.model}
    request = Request(
        api=api, base_url=base_url, body=body, family=args.family, provider=args.provider
    )
    explanation = pipeline.explain(request)
    if args.json:
        _print_json({"body": explanation.body, "explain": explanation.to_dict()})
    else:
        print("# outgoing body")
        print(dumps(explanation.body))
        print()
        print("# explain")
        print(explanation)
    return EXIT_OK


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _check(args: argparse.Namespace) -> int:
    path = _config_path(args)
    record = check_record(load_config(path, require_env=not args.no_env))
    if args.json:
        _print_json(record)
    else:
        print("\n".join(check_text(record)))
    return EXIT_OK


def _config_path(args: argparse.Namespace) -> str:
    """check's config, given as CONFIG or as --config CONFIG (one of them)."""
    given: set[str] = {p for p in (args.config, args.config_option) if p is not None}
    if len(given) != 1:
        raise _Fail("check needs one config: check CONFIG (or check --config CONFIG)", EXIT_USAGE)
    return given.pop()


def _families(args: argparse.Namespace) -> int:
    registry = load_config(args.config).families if args.config else FamilyRegistry.builtin()
    records = table_records(registry)
    if args.json:
        _print_json(records)
    else:
        print_table(records)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from agent.demo import run_demo

    return run_demo()


def _add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="the originating bug and its fix, through the real SDK, on the MiMo emulator",
        description=(
            "Run a four-tool-call conversation with mimo-v2.5-pro through the real anthropic "
            "SDK against the built-in MiMo relay emulator (127.0.0.1): once with the "
            "originating agent's 'strip thinking for unknown relays' rule (HTTP 400 on call "
            "2), once with ThinkingRoundTrip (completes). Exit codes: 0 both as expected, "
            "1 otherwise."
        ),
    )
    demo.set_defaults(run=_demo)


def _add_preview(commands: Any) -> None:
    preview = commands.add_parser(
        "preview",
        help="print the body that would go on the wire, and why each change was made",
        description=(
            "Run the chain over BODY.json for one target and print the outgoing body and the "
            "explain record. The target comes from a configured provider (--config, "
            "--provider) or from the flags (default chain: tool_pairing, thinking_round_trip). "
            "Exit codes: 0 ok, 1 invalid input or config, 2 usage."
        ),
    )
    preview.add_argument("body", metavar="BODY.json", help="the request body ('-' for stdin)")
    preview.add_argument("--config", default=None, help="a config file (YAML or TOML)")
    preview.add_argument("--provider", default=None, help="a provider of --config")
    preview.add_argument(
        "--api",
        choices=APIS,
        default=None,
        help="the wire (default: the provider's api_mode, else the wire the body's shape "
        "says, else anthropic_messages); a body written for another wire is refused",
    )
    preview.add_argument(
        "--base-url",
        default=None,
        help="where the request goes (default: the provider's, else the wire's official endpoint)",
    )
    preview.add_argument(
        "--family", default=None, help="force a model family instead of detecting it"
    )
    preview.add_argument("--model", default=None, help="override the body's model id")
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    preview.set_defaults(run=_preview)


def _add_check(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="validate a config and show, per provider, the family and the chain",
        description=(
            "Load CONFIG (YAML or TOML) and print, per provider, the host its calls go to, "
            "its wire and how that was decided, the resolved family and which rule matched "
            "(explicit / model id / host), what that family does to thinking, and the chain. "
            "Every environment variable the config names that is not set is listed in one "
            "error (--no-env: listed, not an error). Secrets are never printed, and no store "
            "file is created. Exit codes: 0 valid, 1 invalid, 2 usage."
        ),
    )
    check.add_argument("config", metavar="CONFIG", nargs="?", help="the config file")
    check.add_argument(
        "--config", dest="config_option", metavar="CONFIG", help="the config file (as CONFIG)"
    )
    check.add_argument(
        "--no-env",
        action="store_true",
        help="validate without the environment variables the config names (its secrets); "
        "those not set are listed instead of failing",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(run=_check)


def _add_families(commands: Any) -> None:
    families = commands.add_parser(
        "families",
        help="list the model families and what each does to thinking",
        description=(
            "Print the family table: the built-ins, plus the families of --config. "
            "Exit codes: 0 ok, 1 invalid config, 2 usage."
        ),
    )
    families.add_argument("--config", default=None, help="add and override from this file")
    families.add_argument("--json", action="store_true", help="machine-readable output")
    families.set_defaults(run=_families)


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the pipeline as an HTTP gateway in front of the configured providers",
        description=(
            "Serve /{provider}/... for every provider of CONFIG: requests go to the provider's "
            "base_url with its key, after its chain; GET /health answers. Binding anything "
            "but 127.0.0.1 needs gateway.tokens in the config. CONFIG may be the agent's own "
            "config file (hermes' config.yaml: its providers: mapping or custom_providers "
            "list); --agent-config then writes the copy the agent itself uses. Needs the "
            f"gateway extra ({install_hint('gateway')}). Exit codes: 1 invalid config, 2 usage."
        ),
    )
    serve.add_argument("--config", required=True, help="the config file (YAML or TOML)")
    serve.add_argument(
        "--agent-config",
        metavar="FILE",
        default=None,
        help="before serving, write FILE: a copy of CONFIG (YAML) for the agent, in which each "
        "provider's URL (base_url, or hermes' url / api) is this gateway's, "
        "http://HOST:PORT/NAME (http://HOST:PORT/NAME/v1 for chat_completions and responses), "
        "and any other URL of the file equal to a provider's follows it; with gateway.tokens, "
        "each provider that does not forward the client's key gets api_key: the first token "
        "as the config writes it (a ${VAR} stays one) instead of its own key settings. Keys "
        "the original holds stay in the copy (written 0600); comments are not kept",
    )
    serve.add_argument("--host", default="127.0.0.1", help="where to listen (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="the port (default 8787)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes on the one port (default 1); more than one needs a shared store "
        "(sqlite or redis) so any worker can continue any conversation",
    )
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        from agent.gateway import check_binding, check_workers, serve
    except ImportError as exc:
        raise _Fail(str(missing_extra("gateway", "serve", exc))) from None
    refused = check_binding(config, args.host) or check_workers(config, args.workers)
    if refused is not None:
        raise _Fail(refused, EXIT_USAGE)
    url = gateway_url(args.host, args.port)
    refuse_loop(config, url)
    if args.agent_config is not None:
        written = write_agent_config(config, url, args.agent_config)
        print(f"wrote {written}: the agent's copy, every provider at {url}", file=sys.stderr)
    serve(config, args.host, args.port, args.workers)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog=DISTRIBUTION,
        description="Fit the reasoning in an LLM request to its provider's contract.",
    )
    parser.add_argument(
        "--version", action="version", version=f"{DISTRIBUTION} {installed_version()}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_demo, _add_preview, _add_check, _add_families, _add_serve):
        add(commands)
    return parser


class _Warnings(logging.Handler):
    """Prints what a loaded config leaves to an assumption as ``warning: ...`` on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"warning: {record.getMessage()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return its exit code."""
    args = build_parser().parse_args(argv)
    log = logging.getLogger("agent.config")
    handler, propagate = _Warnings(logging.WARNING), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        return _run(args)
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.run(args)
    except _Fail as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return EXIT_OK
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug of ours: say so plainly, without a traceback
        print(f"error: unexpected {type(exc).__name__} (a bug; please report it)", file=sys.stderr)
        return EXIT_BUG
    return code
