"""Provider emulators: real HTTP servers on 127.0.0.1 that enforce each family's contract.

Each emulator speaks ``POST .../v1/messages`` (Anthropic Messages) and
``POST .../chat/completions`` (Chat Completions) on an ephemeral port, validates what its
provider validates, answers a broken contract with that provider's status and exact error body
(see shared/providers.md), signs its own thinking the way its provider does, plays a scripted
tool-use conversation, streams Server-Sent Events when asked, and logs what it received.

    with Emulator("mimo") as mimo:
        client = anthropic.Anthropic(base_url=mimo.base_url, api_key="test")
        ...
        assert mimo.log[-1].status == 200

Families: anthropic, deepseek, kimi, mimo, minimax, glm, qwen, and ``strict`` (an
OpenAI-compatible server that answers 422 to unknown message fields).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import define, field, frozen

FAMILIES = ("anthropic", "deepseek", "kimi", "mimo", "minimax", "glm", "qwen", "strict")
_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
_ANTHROPIC_EXPECTED = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
    "`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
    "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We "
    "recommend you include thinking blocks from previous turns. To avoid this requirement, "
    f"disable `thinking`. Please consult our documentation at {_DOCS}"
)
_ANTHROPIC_MODIFIED = (
    "messages.{i}.content.{j}: `thinking` or `redacted_thinking` blocks in the latest "
    "assistant message cannot be modified. These blocks must remain as they were in the "
    "original response."
)
_MUST_PASS_BACK = "The reasoning_content in the thinking mode must be passed back to the API."
_STRICT_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "tool_calls", "tool_call_id", "refusal", "function_call"}
)


class HTTPError(Exception):
    """A contract violation, answered with ``status`` and the provider's exact ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


@frozen
class Received:
    """One request the emulator received, and what it answered.

    Attributes:
        path: the request path.
        body: the JSON body as received.
        status: the HTTP status answered.
        response: the JSON answered (for a stream: the message the events carried).
        stream: whether the answer was streamed.
    """

    path: str
    body: Any
    status: int
    response: Any
    stream: bool = False

    @property
    def error(self) -> str | None:
        """The error text of a failed call (the provider's message, wherever it puts it)."""
        if self.status < 400 or not isinstance(self.response, Mapping):
            return None
        error = self.response.get("error")
        if isinstance(error, Mapping):
            param = error.get("param")
            text = error.get("message")
            return f"{text}: {param}" if isinstance(param, str) and param else str(text)
        return json.dumps(self.response)


def _anthropic_error(message: str) -> HTTPError:
    return HTTPError(
        400,
        {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
            "request_id": "req_emulator",
        },
    )


def _openai_error(message: str, code: str = "invalid_request_error") -> HTTPError:
    return HTTPError(
        400,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": code,
            }
        },
    )


def _mimo_error() -> HTTPError:
    return HTTPError(
        400,
        {
            "error": {
                "code": "400",
                "message": "Param Incorrect",
                "param": _MUST_PASS_BACK,
                "type": "",
            }
        },
    )


def _blocks(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = message.get("content")
    return [b for b in content if isinstance(b, Mapping)] if isinstance(content, list) else []


def _is_real_user(message: Mapping[str, Any]) -> bool:
    if message.get("role") != "user":
        return False
    content = message.get("content")
    if not isinstance(content, list):
        return True
    return not content or any(b.get("type") != "tool_result" for b in _blocks(message))


@define
class Emulator:
    """A provider emulator for one family; a context manager that starts and stops it.

    Attributes:
        family: which provider contract to enforce (see ``FAMILIES``).
        rounds: tool-use rounds in the scripted conversation before the final answer.
        tools_per_round: tool calls per round (with ``interleaved``, each after its own
            thinking block, as Claude does with interleaved thinking).
        interleaved: Anthropic family: thinking before every tool call of a round.
        redacted: Anthropic family: open each tool round with a redacted_thinking block.
        strict: Anthropic family: answer 400 when the active tool loop's assistant message
            does not start with thinking (True), or accept and ignore it (False, the
            "graceful degradation" some models show).
        secret: the key the emulator signs its own thinking with (never sent).
        prefix: a path prefix the base URL carries (``/anthropic``, ``/coding``).
    """

    family: str = field()
    rounds: int = 4
    tools_per_round: int = 1
    interleaved: bool = False
    strict: bool = True
    redacted: bool = False
    secret: bytes = b""
    prefix: str = ""
    log: list[Received] = field(init=False, factory=list)
    _server: ThreadingHTTPServer | None = field(init=False, default=None)
    _thread: threading.Thread | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, factory=threading.Lock)
    _counter: int = field(init=False, default=0)
    _sent: dict[str, list[dict[str, Any]]] = field(init=False, factory=dict)

    @family.validator
    def _check_family(self, _: Any, value: str) -> None:
        if value not in FAMILIES:
            raise ValueError(f"family: {value!r} is not one of {', '.join(FAMILIES)}")

    def __attrs_post_init__(self) -> None:
        if not self.secret:
            self.secret = f"emulator-secret-{self.family}".encode()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        """Start serving on 127.0.0.1 at an ephemeral port."""
        emulator = self

        class Handler(_Handler):
            owner = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"emulator-{self.family}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The base URL for the anthropic SDK (``.../v1/messages`` is appended by the SDK)."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    @property
    def openai_base_url(self) -> str:
        """The base URL for OpenAI-style clients (``.../chat/completions`` is appended)."""
        return f"{self.base_url}/v1"

    @property
    def bodies(self) -> list[Any]:
        """The bodies received, oldest first."""
        return [r.body for r in self.log]

    def clear(self) -> None:
        """Forget the log."""
        self.log.clear()

    # ------------------------------------------------------------------ signing

    def sign(self, text: str) -> str:
        """The signature this emulator puts on a thinking text (HMAC-SHA256, base64)."""
        digest = hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).digest()
        return "sig_" + base64.b64encode(digest).decode()

    def _verify(self, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(text), signature)

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    # ------------------------------------------------------------------ dispatch

    def handle(self, path: str, body: Any) -> tuple[int, Any, Iterator[bytes] | None]:
        """Answer one request: (status, JSON, SSE chunks for a stream or None)."""
        route = path.split("?", 1)[0].rstrip("/")
        try:
            if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
                raise HTTPError(400, {"error": {"message": "messages: Field required"}})
            if route.endswith("/v1/messages"):
                if self.family == "strict":
                    raise HTTPError(404, {"detail": "Not Found"})
                self._check_anthropic(body)
                message = self._anthropic_reply(body)
                stream = _anthropic_events(message) if body.get("stream") else None
            elif route.endswith("/chat/completions"):
                self._check_chat(body)
                message = self._chat_reply(body)
                stream = _chat_events(message) if body.get("stream") else None
            else:
                raise HTTPError(404, {"error": {"message": f"no route {route}"}})
        except HTTPError as exc:
            self.log.append(Received(path, body, exc.status, exc.body))
            return exc.status, exc.body, None
        self.log.append(Received(path, body, 200, message, stream is not None))
        return 200, message, stream

    # ------------------------------------------------------------------ Anthropic wire

    def _thinking_on(self, body: Mapping[str, Any]) -> bool:
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping):
            return thinking.get("type") != "disabled"
        # DeepSeek, Kimi and MiMo think by default; Anthropic only when asked
        return self.family in ("deepseek", "kimi", "mimo")

    def _check_anthropic(self, body: Mapping[str, Any]) -> None:
        messages = body["messages"]
        if not self._thinking_on(body):
            return
        if self.family == "anthropic":
            self._check_claude(messages, body)
            return
        for i, message in enumerate(messages):
            if message.get("role") != "assistant":
                continue
            blocks = _blocks(message)
            if not any(b.get("type") == "tool_use" for b in blocks):
                continue
            thinking = [b for b in blocks if b.get("type") == "thinking"]
            if self.family == "deepseek" and not thinking:
                raise _openai_error(
                    "The `content[].thinking` in the thinking mode must be passed back to the API.",
                    "invalid_argument",
                )
            if self.family == "kimi" and not thinking:
                raise _openai_error(
                    "thinking is enabled but reasoning_content is missing in "
                    f"assistant tool call message at index {i}"
                )
            if self.family == "mimo" and not any(b.get("thinking") for b in thinking):
                raise _mimo_error()

    def _check_claude(self, messages: list[Any], body: Mapping[str, Any]) -> None:
        last_assistant = max(
            (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1
        )
        for i, message in enumerate(messages):
            if message.get("role") != "assistant":
                continue
            blocks = _blocks(message)
            kinds = [b.get("type") for b in blocks]
            if any(k in ("thinking", "redacted_thinking") for k in kinds) and kinds[0] not in (
                "thinking",
                "redacted_thinking",
            ):
                raise _anthropic_error(
                    f"messages.{i}.content.0: If an assistant message contains any thinking "
                    f"blocks, the first block must be `thinking` or `redacted_thinking`. "
                    f"Found `{kinds[0]}`."
                )
            for j, block in enumerate(blocks):
                if block.get("type") == "thinking":
                    if "thinking" not in block:
                        raise _anthropic_error(
                            f"messages.{i}.content.{j}.thinking.thinking: Field required"
                        )
                    if "signature" not in block:
                        raise _anthropic_error(
                            f"messages.{i}.content.{j}.thinking.signature: Field required"
                        )
                    if not self._verify(str(block["thinking"]), str(block["signature"])):
                        raise _anthropic_error(
                            f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
                        )
                elif block.get("type") == "redacted_thinking":
                    data = str(block.get("data", ""))
                    if not data.startswith("redacted_") or not self._verify(
                        data.removeprefix("redacted_").split(".")[0], data.split(".")[-1]
                    ):
                        raise _anthropic_error(
                            f"messages.{i}.content.{j}: Invalid `data` in `redacted_thinking` block"
                        )
        tail = messages[-1] if messages else None
        loop = (
            last_assistant >= 0
            and tail is not None
            and tail.get("role") == "user"
            and not (_is_real_user(tail))
        )
        if not loop:
            return
        latest = _blocks(messages[last_assistant])
        if latest and latest[0].get("type") not in ("thinking", "redacted_thinking"):
            if self.strict:
                raise _anthropic_error(
                    _ANTHROPIC_EXPECTED.format(i=last_assistant, found=latest[0].get("type"))
                )
            return  # degrade: accepted, thinking silently off for this request
        ids = [b.get("id") for b in latest if b.get("type") == "tool_use"]
        original = self._sent.get(str(ids[0])) if ids else None
        if original is None:
            return
        sent = [b for b in latest if b.get("type") in ("thinking", "redacted_thinking")]
        want = [b for b in original if b.get("type") in ("thinking", "redacted_thinking")]
        for j, (a, b) in enumerate(zip(sent, want, strict=False)):
            if {k: a.get(k) for k in ("type", "thinking", "signature", "data")} != {
                k: b.get(k) for k in ("type", "thinking", "signature", "data")
            }:
                raise _anthropic_error(_ANTHROPIC_MODIFIED.format(i=last_assistant, j=j))
        if len(sent) != len(want):
            raise _anthropic_error(
                _ANTHROPIC_MODIFIED.format(i=last_assistant, j=min(len(sent), len(want)))
            )

    def _round(self, body: Mapping[str, Any]) -> int:
        """How many tool rounds this conversation's active loop has had."""
        messages = body["messages"]
        start = max((i for i, m in enumerate(messages) if _is_real_user(m)), default=-1)
        return sum(1 for m in messages[start + 1 :] if m.get("role") == "assistant")

    def _tool_name(self, body: Mapping[str, Any]) -> str:
        tools = body.get("tools")
        if isinstance(tools, list) and tools and isinstance(tools[0], Mapping):
            name = tools[0].get("name") or tools[0].get("function", {}).get("name")
            if isinstance(name, str):
                return name
        return "run"

    def _anthropic_thinking(self, text: str, message_id: str) -> dict[str, Any]:
        if self.family in ("anthropic", "minimax"):
            signature = self.sign(text)
        elif self.family == "deepseek":
            signature = message_id  # DeepSeek's signature is the message id
        else:
            signature = ""  # MiMo and Kimi send unsigned thinking with signature ""
        return {"type": "thinking", "thinking": text, "signature": signature}

    def _anthropic_reply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        n = self._next()
        message_id = (
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.family}/{n}"))
            if self.family == "deepseek"
            else f"msg_{self.family}_{n:04d}"
        )
        k = self._round(body)
        content: list[dict[str, Any]] = []
        if k < self.rounds:
            for t in range(self.tools_per_round):
                if t == 0 or self.interleaved:
                    content.append(
                        self._anthropic_thinking(
                            f"[{self.family}] round {k + 1}, call {t + 1}: decide the next step",
                            message_id,
                        )
                    )
                tool_id = f"toolu_{self.family}_{n:04d}_{t}"
                content.append(
                    {
                        "type": "tool_use",
                        "id": tool_id,
                        "name": self._tool_name(body),
                        "input": {"step": k + 1, "call": t + 1},
                    }
                )
            if self.redacted and self.family == "anthropic":
                nonce = f"n{n:04d}"
                content.insert(
                    0, {"type": "redacted_thinking", "data": f"redacted_{nonce}.{self.sign(nonce)}"}
                )
            first_tool = next(b["id"] for b in content if b["type"] == "tool_use")
            self._sent[first_tool] = content
            stop = "tool_use"
        else:
            content.append(
                self._anthropic_thinking(
                    f"[{self.family}] all {k} rounds done: summarise", message_id
                )
            )
            content.append({"type": "text", "text": f"Done after {k} tool calls."})
            stop = "end_turn"
        return {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "emulated"),
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10 * len(body["messages"]), "output_tokens": 20},
        }

    # ------------------------------------------------------------------ Chat wire

    def _check_chat(self, body: Mapping[str, Any]) -> None:
        messages = body["messages"]
        if self.family == "strict":
            for i, message in enumerate(messages):
                for key in message:
                    if key not in _STRICT_MESSAGE_KEYS:
                        raise HTTPError(
                            422,
                            {
                                "detail": [
                                    {
                                        "type": "extra_forbidden",
                                        "loc": ["body", "messages", i, key],
                                        "msg": "Extra inputs are not permitted",
                                        "input": message[key],
                                    }
                                ]
                            },
                        )
            return
        if not self._thinking_on(body) or self.family not in ("deepseek", "kimi", "mimo"):
            return
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
        for i, message in enumerate(messages):
            if message.get("role") != "assistant":
                continue
            calls = message.get("tool_calls")
            rc = message.get("reasoning_content")
            if self.family == "deepseek":
                in_loop = i > last_user and bool(body.get("tools"))
                if (calls or in_loop) and not isinstance(rc, str):
                    raise _openai_error(
                        "The `reasoning_content` in the thinking mode must be "
                        "passed back to the API."
                    )
            elif self.family == "kimi" and calls and not isinstance(rc, str):
                raise _openai_error(
                    "thinking is enabled but reasoning_content is missing in "
                    f"assistant tool call message at index {i}"
                )
            elif self.family == "mimo" and calls and not (isinstance(rc, str) and rc):
                raise _mimo_error()

    def _chat_reply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        n = self._next()
        k = self._chat_round(body)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if self.family != "strict":
            message["reasoning_content"] = f"[{self.family}] round {k + 1}: decide the next step"
        if k < self.rounds:
            message["tool_calls"] = [
                {
                    "id": f"call_{self.family}_{n:04d}_{t}",
                    "type": "function",
                    "function": {
                        "name": self._tool_name(body),
                        "arguments": json.dumps({"step": k + 1, "call": t + 1}),
                    },
                }
                for t in range(self.tools_per_round)
            ]
            finish = "tool_calls"
        else:
            message["content"] = f"Done after {k} tool calls."
            finish = "stop"
        return {
            "id": f"chatcmpl_{self.family}_{n:04d}",
            "object": "chat.completion",
            "created": 1_700_000_000 + n,
            "model": body.get("model", "emulated"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": 10 * len(body["messages"]),
                "completion_tokens": 20,
                "total_tokens": 10 * len(body["messages"]) + 20,
            },
        }

    def _chat_round(self, body: Mapping[str, Any]) -> int:
        messages = body["messages"]
        start = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
        return sum(1 for m in messages[start + 1 :] if m.get("role") == "assistant")


def _sse(event: str | None, data: Any) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def _chunks(text: str, size: int = 16) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _anthropic_events(message: Mapping[str, Any]) -> Iterator[bytes]:
    """The message as the Messages API streams it, event by event."""

    def block_start(index: int, block: Mapping[str, Any]) -> bytes:
        return _sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": block},
        )

    def delta(index: int, payload: Mapping[str, Any]) -> bytes:
        return _sse(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": payload}
        )

    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    yield _sse("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "thinking":
            yield block_start(index, {"type": "thinking", "thinking": "", "signature": ""})
            for piece in _chunks(block["thinking"]):
                yield delta(index, {"type": "thinking_delta", "thinking": piece})
            if block["signature"]:
                yield delta(index, {"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            yield block_start(index, {"type": "text", "text": ""})
            for piece in _chunks(block["text"]):
                yield delta(index, {"type": "text_delta", "text": piece})
        elif kind == "tool_use":
            yield block_start(index, {**block, "input": {}})
            for piece in _chunks(json.dumps(block["input"]), 8):
                yield delta(index, {"type": "input_json_delta", "partial_json": piece})
        else:
            yield block_start(index, block)
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]},
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


def _chat_events(response: Mapping[str, Any]) -> Iterator[bytes]:
    """The completion as Chat Completions streams it, chunk by chunk, ending with [DONE]."""
    message = response["choices"][0]["message"]
    base = {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse(
            None, {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        )

    yield chunk({"role": "assistant", "content": None})
    for piece in _chunks(message.get("reasoning_content") or ""):
        if piece:
            yield chunk({"reasoning_content": piece})
    for index, call in enumerate(message.get("tool_calls") or ()):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        for piece in _chunks(call["function"]["arguments"], 8):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    if message.get("content"):
        for piece in _chunks(message["content"]):
            yield chunk({"content": piece})
    yield chunk({}, response["choices"][0]["finish_reason"])
    yield b"data: [DONE]\n\n"


class _Handler(BaseHTTPRequestHandler):
    owner: Emulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the emulator keeps its own log."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "invalid JSON body"}})
            return
        status, payload, stream = self.owner.handle(self.path, body)
        if stream is None:
            self._send(status, payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in stream:
            self.wfile.write(event)
            self.wfile.flush()
        self.close_connection = True

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
