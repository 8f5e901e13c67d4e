"""The committed bad-input corpus (``tests/corpus/``): every case gets the behaviour it names
(the very request back, exactly the decisions its rule makes, a named error, or nothing to
recover).

Requests go through every public entry point (Request, Pipeline call, explain, observe,
recover, options); configs through ``load_config``; command lines through the CLI's
``main``. On top of its own expectation, every case must: raise nothing but the library's
named errors, keep messages bounded, and never show the secret planted in its input.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agent import Action, AgentError, Pipeline, Request
from agent.middleware import ThinkingRoundTrip, ToolPairing
from tests.builders import ROOT, SECRET
from tests.test_hostile_inputs import special

CORPUS = Path(__file__).parent / "corpus"
REQUESTS = json.loads((CORPUS / "requests.json").read_text())
#: the longest message a named error may have
BOUND = 1000


def _deep(n: int) -> Any:
    value: Any = []
    for _ in range(n):
        value = [value]
    return value


def expand(value: Any) -> Any:
    """The corpus's markers turned into the values JSON cannot spell."""
    if isinstance(value, list):
        return [expand(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "$deep":
            return _deep(arg)
        if key == "$huge":
            return "x" * arg
        if key == "$nan":
            return math.nan
        if key == "$bytes":
            return arg.encode()
        if key == "$object":
            return object()
        if key == "$set":
            return {1}
        if key == "$tuple":
            return (1,)
        if key == "$self":
            holder: dict[str, Any] = {}
            holder["self"] = holder
            return holder
        if key == "$intkeys":
            return {5: "five"}
    return {k: expand(v) for k, v in value.items()}


def _base(kind: str) -> dict[str, Any]:
    """The good request each case spoils in one place; the secret is in its texts."""
    if kind == "anthropic":
        return {
            "model": "claude-opus-4-6",
            "max_tokens": 10,
            "thinking": {"type": "enabled", "budget_tokens": 5},
            "messages": [
                {"role": "user", "content": f"my key is {SECRET}"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": f"use {SECRET}", "signature": "s"},
                        {"type": "tool_use", "id": "c1", "name": "run", "input": {}},
                    ],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1"}]},
            ],
        }
    return {
        "model": "deepseek-v4-pro",
        "messages": [
            {"role": "user", "content": f"my key is {SECRET}"},
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": f"use {SECRET}",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "run", "arguments": ""}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ],
    }


def _other_base(kind: str) -> dict[str, Any] | None:
    """The good requests of the other wires, the secret in their texts."""
    if kind == "responses":
        return {
            "model": "gpt-5",
            "store": False,
            "input": [
                {"role": "user", "content": f"my key is {SECRET}"},
                {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "e1"},
                {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "run"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"},
            ],
        }
    if kind == "gemini":
        return {
            "model": "gemini-3-pro-preview",
            "contents": [
                {"role": "user", "parts": [{"text": f"my key is {SECRET}"}]},
                {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "run", "args": {}}, "thoughtSignature": "s"}
                    ],
                },
                {"role": "user", "parts": [{"functionResponse": {"name": "run", "response": {}}}]},
            ],
        }
    if kind == "converse":
        text = {"text": f"use {SECRET}", "signature": "s"}
        return {
            "modelId": "us.anthropic.claude-opus-4-6-v1:0",
            "messages": [
                {"role": "user", "content": [{"text": "go"}]},
                {
                    "role": "assistant",
                    "content": [
                        {"reasoningContent": {"reasoningText": text}},
                        {"toolUse": {"toolUseId": "t1", "name": "run", "input": {}}},
                    ],
                },
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": []}}]},
            ],
            "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 9}},
        }
    if kind == "openrouter":
        return {
            "model": "google/gemini-3-pro",
            "messages": [
                {"role": "user", "content": f"my key is {SECRET}"},
                {
                    "role": "assistant",
                    "content": None,
                    "reasoning_details": [{"type": "reasoning.encrypted", "data": "d", "id": "c1"}],
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "run", "arguments": "{}"},
                            "extra_content": {"google": {"thought_signature": "s"}},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            ],
        }
    return None


def _spoiled(case: dict[str, Any]) -> dict[str, Any]:
    body = _other_base(case["base"]) or _base(case["base"])
    if "set" in case:
        path, value = case["set"]
        target: Any = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = expand(value)
    return body


def _pipe() -> Pipeline:
    return Pipeline([ToolPairing(), ThinkingRoundTrip()])


def _outcome(out: Request, request: Request) -> Any:
    """``same`` for the very request back, else the request that goes out."""
    return "same" if out is request else out


def _run(case: dict[str, Any]) -> Any:
    """The case's call: ``same``, the decisions that changed the request (``pipe``), the
    request sent, or what the call returned."""
    call = case["call"]
    if call == "pipe":
        request = Request(
            api=case["api"], base_url=expand(case.get("base_url")), body=_spoiled(case)
        )
        pipe = _pipe()
        out = pipe(request)
        explained = pipe.explain(request)
        assert out.body == explained.body, "explain sends what a call sends"
        counted, counts = pipe.counted(request)
        assert (counted is request) == (out is request), "counted changes what a call changes"
        assert out.body == counted.body, "counted sends what a call sends"
        assert Counter(c.action.value for c in explained.changes) == counts, "explain's count"
        assert pipe(out).body == out.body, "a second run changes nothing more"
        if out is request:
            return "same"
        if "$" not in json.dumps(case):
            json.dumps(out.body)  # what was JSON stays JSON
        changed = (c for c in explained.changes if c.action not in (Action.KEPT, Action.WARNING))
        return [[c.path, c.action.value] for c in changed]
    if call == "observe":
        pipe = _pipe()
        base = "anthropic" if case["api"] == "anthropic_messages" else "chat"
        request = Request(api=case["api"], body=_base(base))
        pipe.observe(request, expand(case["response"]))
        return _outcome(pipe(request), request)
    if call == "recover":
        request = Request(api="anthropic_messages", body=_base("anthropic"))
        return _pipe().recover(request, request, expand(case["status"]), expand(case["error"]))
    if call == "request":
        fields = {k: expand(v) for k, v in case["fields"].items()}
        request = Request(api="anthropic_messages", body=_base("anthropic"), **fields)
        return _outcome(_pipe()(request), request)
    if call == "pipeline":
        return Pipeline(expand(case["middleware"]))
    if call == "option":
        return ThinkingRoundTrip(**{k: expand(v) for k, v in case["options"].items()})
    raise AssertionError(f"unknown call {call}")


def _check_error(case: dict[str, Any], exc: AgentError) -> None:
    expect = case["expect"]
    assert "error" in expect, f"{case['name']}: unexpected {type(exc).__name__}: {exc}"
    assert expect["error"] == type(exc).__name__
    assert expect["where"] == getattr(exc, "where", None)
    text = str(exc)
    assert len(text) <= BOUND, f"{len(text)} characters"
    assert SECRET not in text
    assert SECRET not in repr(exc)


def test_the_request_corpus_is_what_its_rules_write() -> None:
    """requests.json is what tests/corpus/make.py writes from its rules (run it after a change
    to them), so each case's expectation is the rule's, not a copy of an output."""
    spec = importlib.util.spec_from_file_location("corpus_make", CORPUS / "make.py")
    assert spec is not None
    assert spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)

    assert make.build() == REQUESTS


def test_the_docs_count_its_outcomes() -> None:
    """The docs' account of the corpus (docs/suite.md) is the corpus: how many requests, and
    how many get each outcome."""
    outcomes = Counter(key for case in REQUESTS for key in case["expect"] if key != "where")
    readme = " ".join((ROOT / "docs" / "suite.md").read_text(encoding="utf-8").split())

    assert (
        f"{len(REQUESTS)} bad requests, each with its outcome: {outcomes['same']} come back as "
        f"the very same request, {outcomes['changes']} with exactly the decisions their rule "
        f"makes (path and action), {outcomes['error']} with the library's own error naming the "
        f"JSON path, {outcomes['none']} with nothing to recover"
    ) in readme


@pytest.mark.parametrize("case", REQUESTS, ids=[c["name"] for c in REQUESTS])
def test_request(case: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """Each bad request gets the behaviour its case names, and nothing raw."""
    expect = case["expect"]
    failed: AgentError | None = None
    try:
        result = _run(case)
    except AgentError as exc:
        failed = exc
    if failed is not None:
        _check_error(case, failed)
        return
    assert "error" not in expect, f"expected {expect['error']} at {expect['where']!r}"
    if "none" in expect:
        assert result is None
    if "same" in expect:
        assert "same" == result
    if "changes" in expect:
        assert expect["changes"] == result
    assert SECRET not in caplog.text, "a log shows body content"


CONFIGS = json.loads((CORPUS / "configs.json").read_text())


def _generated(how: str) -> bytes:
    """The config files the corpus describes by how they are made."""
    if how == "deep-yaml":
        return b"providers: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"
    if how == "deep-toml":
        return b"a = " + b"[" * 20_000 + b"]" * 20_000 + b"\n"
    if how == "billion-laughs":
        lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
            lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
        lines.append("providers: *i")
        return ("\n".join(lines) + "\n").encode()
    if how == "huge-scalar":
        return b"providers: {p: {model: '" + b"x" * 50_000_000 + b"'}}\n"
    if how == "utf-16":
        return "providers: {p: {model: m}}\n".encode("utf-16")
    if how == "latin-1":
        return "# caf\xe9\nproviders: {p: {model: m}}\n".encode("latin-1")
    if how == "binary":
        return bytes(range(256)) * 4
    raise AssertionError(how)


def _levels(first: str, level: str) -> list[str]:
    """Nine anchored levels, each nine aliases of the one before ("X" in ``level``)."""
    names = "abcdefghi"
    out = [f"&a {first}"]
    out += [
        f"&{name} " + level.replace("X", f"*{prev}") for prev, name in itertools.pairwise(names)
    ]
    return out


_LIST_LEVELS = _levels("[" + ", ".join(["lol"] * 9) + "]", "[" + ", ".join(["X"] * 9) + "]")
_MAPPING_LEVELS = _levels(
    "{" + ", ".join(f"k{k}: lol" for k in range(9)) + "}",
    "{" + ", ".join(f"k{k}: X" for k in range(9)) + "}",
)
#: what the markers of configs.json's texts stand for
MARKERS = {
    "@HUGE@": "x" * 100_000,
    "@LIST-BOMB@": "[" + ", ".join(_LIST_LEVELS) + "]",
    "@MAPPING-BOMB@": "{" + ", ".join(f"l{n}: {x}" for n, x in enumerate(_MAPPING_LEVELS)) + "}",
}


def _expanded(text: str) -> str:
    for marker, value in MARKERS.items():
        text = text.replace(marker, value)
    return text


@pytest.mark.parametrize("case", CONFIGS, ids=[c["name"] for c in CONFIGS])
def test_config(
    case: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each bad config fails at load with a ConfigError naming its entry, bounded and without
    the secret; a good one loads and builds its pipelines without creating a file."""
    from agent import ConfigError, load_config

    monkeypatch.delenv("AGENT_CORPUS_UNSET", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / f"agent{case['suffix']}"
    data = _generated(case["gen"]) if "gen" in case else _expanded(case["text"]).encode()
    path.write_bytes(data)

    failed: ConfigError | None = None
    try:
        config = load_config(path)
    except ConfigError as exc:
        failed = exc
    if failed is not None:
        assert "entry" in case["expect"], f"unexpected: {failed}"
        assert case["expect"]["entry"] == failed.entry
        for shown in (str(failed), repr(failed)):
            assert len(shown) <= BOUND
            assert SECRET not in shown
        assert SECRET not in caplog.text
        return
    assert "pass" in case["expect"], f"expected a ConfigError at {case['expect']['entry']!r}"
    for name in [None, *config.providers]:
        Pipeline.from_config(config, provider=name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["agent" + case["suffix"], "conf"]


def test_the_alias_bombs_reach_every_config_field() -> None:
    """Each alias bomb of the corpus is tried in every field the config schema reads (the keys
    taken from the code, so a field added later without its bombs fails here)."""
    import attrs

    from agent.config.loader import _PROVIDER_KEYS
    from agent.config.model import options_of
    from agent.config.sections import _GATEWAY_OPTIONS, _STORE_OPTIONS
    from agent.families import ModelFamily
    from agent.families.contracts import AnthropicContract, ChatContract

    fields = {
        *(f"providers.p.{k}" for k in _PROVIDER_KEYS),
        *(f"middleware[0].thinking_round_trip.{k}" for k in options_of("thinking_round_trip")),
        *(f"store.{kind}.{k}" for kind, keys in _STORE_OPTIONS.items() for k in keys),
        *(f"gateway.{k}" for k in _GATEWAY_OPTIONS),
        *(f"families[0].{f.name}" for f in attrs.fields(ModelFamily)),
        *(f"families[0].anthropic.{f.name}" for f in attrs.fields(AnthropicContract)),
        *(f"families[0].chat.{f.name}" for f in attrs.fields(ChatContract)),
    }
    bombed = Counter(c["name"].split("/")[1] for c in CONFIGS if c["name"].startswith("alias/"))

    assert set() == fields - set(bombed)
    assert {3} == set(bombed.values())


INVOCATIONS = json.loads((CORPUS / "cli.json").read_text())


def _cli_file(content: Any) -> bytes:
    if isinstance(content, str):
        return content.encode()
    how = content["gen"]
    if how == "binary":
        return bytes(range(256)) * 4
    if how == "utf-16":
        return '{"model": "m", "messages": []}'.encode("utf-16")
    if how == "deep":
        return b"[" * 100_000 + b"]" * 100_000
    if how == "deep-object":
        return b'{"a":' * 100_000 + b"{}" + b"}" * 100_000
    if how == "alias-bomb":
        return _expanded("terminal: @LIST-BOMB@\n").encode()
    if how == "large":
        return b'{"model": "' + b"x" * 33_000_000 + b'"}'
    raise AssertionError(how)


class _Stdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize("case", INVOCATIONS, ids=[c["name"] for c in INVOCATIONS])
def test_cli(
    case: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command line gets its exit code: 0, 1 with one line on stderr, or 2 (usage);
    never 70 (a bug), never a traceback, never the planted key."""
    from agent.cli import main

    monkeypatch.chdir(tmp_path)
    with contextlib.ExitStack() as files:
        for name, content in case.get("files", {}).items():
            if isinstance(content, dict) and "special" in content:
                kind = str(content["special"])
                files.enter_context(special(tmp_path, kind.replace("folder", "directory"), name))
            else:
                (tmp_path / name).write_bytes(_cli_file(content))
        monkeypatch.setattr("sys.stdin", _Stdin(case.get("stdin", "").encode()))

        try:
            code = main(case["args"])
        except SystemExit as exit_:  # argparse: usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else 2
    out, err = capsys.readouterr()

    assert case["expect"]["code"] == code, err
    assert "Traceback" not in out + err
    assert SECRET not in out + err
    if code == 1:
        assert 1 == len(err.strip().splitlines()), err
        assert len(err) <= BOUND
        assert err.startswith("error: ")
