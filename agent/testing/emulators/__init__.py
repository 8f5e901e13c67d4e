"""Provider emulators: real HTTP servers on 127.0.0.1 that enforce each family's contract.

Each emulator speaks ``POST .../v1/messages`` (Anthropic Messages) and
``POST .../chat/completions`` (Chat Completions) on an ephemeral port, validates what its
provider validates (``rules``), answers a broken contract with that provider's status and
exact error body (``errors``), signs its own thinking the way its provider does, plays a
scripted tool-use conversation (``replies``), streams Server-Sent Events when asked (``sse``),
and logs what it received.

    with Emulator("mimo") as mimo:
        client = anthropic.Anthropic(base_url=mimo.base_url, api_key="test")
        ...
        assert mimo.log[-1].status == 200

Families: anthropic, deepseek, kimi, mimo, minimax, glm, qwen, gemini (chat wire: tool-call
thought signatures, Gemini 3 enforcing them), and ``strict`` (an OpenAI-compatible server that
answers 422 to unknown message fields). Every family also answers ``POST .../v1/responses``
(the OpenAI Responses API, with ``store`` semantics: ``responses``) and Bedrock Converse's
``POST .../model/{modelId}/converse`` (its Anthropic-wire rules on ``reasoningContent``).
The gemini family also answers ``POST .../models/{model}:generateContent``
(Gemini's native wire, ``thoughtSignature`` on parts). Relays: litellm, ccr, openrouter.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from attrs import Attribute, define, field

from agent.testing.emulators.converse import claude_body, converse_block
from agent.testing.emulators.errors import HTTPError, anthropic_error
from agent.testing.emulators.gemini import respond as generate
from agent.testing.emulators.hosts import HOSTS, inbound, outbound
from agent.testing.emulators.late_rules import (
    check_claude_5_converse,
    check_compaction_blocks,
    check_kimi_preserved,
)
from agent.testing.emulators.received import Received
from agent.testing.emulators.relays import RELAYS, backward, forward, rewrap, routed
from agent.testing.emulators.replies import Script
from agent.testing.emulators.responses import compaction_seal, respond
from agent.testing.emulators.rules import (
    RULES,
    Signer,
    check_chat,
    check_claude,
    check_gemini,
    check_strict,
    check_tool_results,
    check_tool_turns,
    check_vendor_details,
    thinks_unasked,
)
from agent.testing.emulators.server import Handler, Server
from agent.testing.emulators.sse import anthropic_events, chat_events

FAMILIES = tuple(RULES)

__all__ = ["FAMILIES", "Emulator", "HTTPError", "Received"]


def _check_family(_: object, __: Attribute[str], value: str) -> None:
    if value not in FAMILIES:
        raise ValueError(f"family: {value!r} is not one of {', '.join(FAMILIES)}")


def _check_relay(_: object, __: Attribute[str | None], value: str | None) -> None:
    if value is not None and value not in RELAYS:
        raise ValueError(f"relay: {value!r} is not one of {', '.join(RELAYS)}")


def _check_host(_: object, __: Attribute[str | None], value: str | None) -> None:
    if value is not None and value not in HOSTS:
        raise ValueError(f"host: {value!r} is not one of {', '.join(HOSTS)}")


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
        relay: put a relay's behaviour in front (``litellm``, ``ccr``; see ``relays``).
        latency: seconds it takes before answering each request, as a model takes to
            answer (for time-out tests and benchmarks; 0 answers at once).
        gzip: compress answers, streams included, when the client accepts gzip, as the
            Anthropic API does behind Cloudflare (github/gh-aw-firewall#1550).
        upstreams: behind the ``openrouter`` relay, the upstream providers that serve
            requests that pin none, in turn (``google-vertex``, ``google-ai-studio``).
        serving: the upstream provider serving the request being answered.
        keeps_items: Responses (``openai``): False puts a relay in front that forces
            ``store: false`` whatever the body says (nothing is kept between calls).
        host: serve the family's model behind a host with its own way of carrying reasoning
            on the chat wire (``vllm``, ``cerebras``, ``fireworks``, ``copilot``, ``mistral``;
            see ``hosts``): its checks and errors replace the family's, and ``reached``
            records what reasoning reached the model.
        reached: per chat request served behind ``host``, the reasoning each assistant message
            carried to the model (None where none did).
    """

    family: str = field(validator=_check_family)
    rounds: int = 4
    tools_per_round: int = 1
    interleaved: bool = False
    strict: bool = True
    redacted: bool = False
    secret: bytes = field(default=b"", repr=False)
    prefix: str = ""
    relay: str | None = field(default=None, validator=_check_relay)
    latency: float = 0.0
    gzip: bool = False
    upstreams: tuple[str, ...] = ("google-vertex",)
    keeps_items: bool = True
    host: str | None = field(default=None, validator=_check_host)
    serving: str = field(init=False, default="google-vertex", repr=False)
    _routed: int = field(init=False, default=0, repr=False)
    log: list[Received] = field(init=False, factory=list, repr=False)
    reached: list[list[str | None]] = field(init=False, factory=list, repr=False)
    _server: ThreadingHTTPServer | None = field(init=False, default=None, repr=False)
    _thread: threading.Thread | None = field(init=False, default=None, repr=False)
    _lock: threading.Lock = field(init=False, factory=threading.Lock, repr=False)
    _counter: int = field(init=False, default=0, repr=False)
    _sent: dict[str, list[dict[str, Any]]] = field(init=False, factory=dict, repr=False)
    # server-held conversations (message threads), by the id of the reply that ends them
    _threads: dict[str, list[Any]] = field(init=False, factory=dict, repr=False)
    # Responses: the items the server kept (store not false), and function call -> reasoning
    _kept: dict[str, Any] = field(init=False, factory=dict, repr=False)
    _links: dict[str, str] = field(init=False, factory=dict, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.secret:
            self.secret = f"emulator-secret-{self.family}".encode()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        """Start serving on 127.0.0.1 at an ephemeral port."""
        owner = self

        class _Bound(Handler):
            pass

        _Bound.owner = owner
        self._server = Server(("127.0.0.1", 0), _Bound)
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

    def sign(self, text: str) -> str:
        """The signature this emulator puts on a thinking text (HMAC-SHA256, base64)."""
        return Signer(self.secret).sign(text)

    def compaction(self, item_id: str) -> dict[str, Any]:
        """A Responses ``compaction`` item this server made for this caller (as its server-side
        compaction returns one)."""
        sealed = compaction_seal(Signer(self.secret), item_id)
        return {"type": "compaction", "id": item_id, "encrypted_content": sealed}

    # ------------------------------------------------------------------ dispatch

    def handle(self, path: str, body: Any) -> tuple[int, Any, Iterator[bytes] | None]:
        """Answer one request: (status, JSON, SSE chunks for a stream or None)."""
        if self.latency > 0:
            time.sleep(self.latency)
        route = path.split("?", 1)[0].rstrip("/")
        received = body
        try:
            if route.endswith(":generateContent"):
                named = unquote(route.rsplit("/", 1)[-1].split(":", 1)[0])
                answer = generate(named, body, self.rounds, Signer(self.secret))
                self.log.append(Received(path, body, 200, answer))
                return 200, answer, None
            if route.endswith("/converse"):
                answer = self._converse(unquote(route.rsplit("/", 2)[-2]), body)
                self.log.append(Received(path, body, 200, answer))
                return 200, answer, None
            if route.endswith("/responses"):
                answer = respond(
                    body,
                    self._next(),
                    self.family,
                    self.rounds,
                    Signer(self.secret),
                    self._kept,
                    self._links,
                    self.reached,
                    self.keeps_items,
                )
                self.log.append(Received(path, body, 200, answer))
                return 200, answer, None
            if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
                raise HTTPError(400, {"error": {"message": "messages: Field required"}})
            body = forward(self.relay, body, self._serving(body))
            if route.endswith("/v1/messages"):
                message = self._messages(body)
                stream = anthropic_events(message) if body.get("stream") else None
            elif route.endswith("/chat/completions"):
                message = self._chat(body)
                stream = chat_events(message) if body.get("stream") else None
            else:
                raise HTTPError(404, {"error": {"message": f"no route {route}"}})
        except HTTPError as exc:
            model = received.get("model") if isinstance(received, Mapping) else None
            exc = rewrap(self.relay, model, exc)
            self.log.append(Received(path, body, exc.status, exc.body))
            return exc.status, exc.body, None
        self.log.append(Received(path, body, 200, message, stream is not None))
        return 200, message, stream

    def _serving(self, body: Mapping[str, Any]) -> str:
        """The upstream provider that serves this request (behind OpenRouter)."""
        with self._lock:
            self.serving = routed(body, self.upstreams, self._routed)
            self._routed += 1
        return self.serving

    def _script(self) -> Script:
        return Script(
            self.family, self.rounds, self.tools_per_round, self.interleaved, self.redacted
        )

    def _next(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _thinking_on(self, body: Mapping[str, Any]) -> bool:
        thinking = body.get("thinking")
        if isinstance(thinking, Mapping):
            return thinking.get("type") != "disabled"
        if self.family == "anthropic" and thinks_unasked(body.get("model")):
            return True  # Sonnet 5+, Opus 5.5, Fable, Mythos think unasked
        return RULES[self.family].thinks_by_default  # DeepSeek, Kimi, MiMo think by default

    def _messages(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if self.family == "strict":
            raise HTTPError(404, {"detail": "Not Found"})
        thread = body.get("thread")
        body = {**body, "messages": [*self._held(thread), *body["messages"]]}
        if not body["messages"]:
            raise anthropic_error("messages: at least one message is required")
        check_tool_results(body["messages"])
        reply = self._messages_reply(body)
        if isinstance(thread, Mapping) and thread.get("type") in ("create", "continue"):
            held = [*body["messages"], {"role": "assistant", "content": reply["content"]}]
            self._threads[reply["id"]] = held
        return reply

    def _held(self, thread: object) -> list[Any]:
        """The server-held conversation a ``thread: {type: continue}`` request goes on from."""
        if not (isinstance(thread, Mapping) and thread.get("type") == "continue"):
            return []
        held = self._threads.get(str(thread.get("previous_message_id")))
        if held is None:
            raise HTTPError(
                404,
                {
                    "type": "error",
                    "error": {
                        "type": "not_found_error",
                        "message": "thread not found",
                        "error_code": "thread_not_found",
                    },
                },
            )
        return held

    def _messages_reply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        signer = Signer(self.secret)
        if self.family == "anthropic":
            check_compaction_blocks(body["messages"])
        if self.family == "kimi" and self._thinking_on(body):
            check_kimi_preserved(body, anthropic_wire=True)
        if self._thinking_on(body):
            if self.family == "anthropic":
                check_claude(body["messages"], signer, self._sent, self.strict)
            elif (rule := RULES[self.family].tool_turn) is not None:
                check_tool_turns(rule, body["messages"])
        return self._script().anthropic(body, self._next(), signer, self._sent)

    def _converse(self, model: str, body: Any) -> dict[str, Any]:
        """Bedrock Converse (``POST /model/{modelId}/converse``): the family's Anthropic-wire
        rules on the same blocks, errors as Bedrock's ValidationException."""
        if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
            raise HTTPError(400, {"message": "1 validation error detected: messages: null"})
        check_claude_5_converse(model, body["messages"])
        seen = claude_body(model, body)
        try:
            check_tool_results(seen["messages"])
            reply = self._messages_reply(seen)
        except HTTPError as exc:
            error = exc.body.get("error") if isinstance(exc.body, Mapping) else None
            text = error.get("message") if isinstance(error, Mapping) else json.dumps(exc.body)
            raise HTTPError(
                400, {"message": f"The model returned the following errors: {text}"}
            ) from None
        return {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [converse_block(b) for b in reply["content"]],
                }
            },
            "stopReason": reply["stop_reason"],
            "usage": {"inputTokens": 10, "outputTokens": 20, "totalTokens": 30},
            "metrics": {"latencyMs": 1},
        }

    def _chat(self, body: Mapping[str, Any]) -> dict[str, Any]:
        signer = Signer(self.secret)
        if self.host is not None:  # the host's checks, not the vendor's
            self.reached.append(inbound(self.host, body, signer.sign))
            reply = self._script().chat(body, self._next(), signer)
            return outbound(self.host, backward(self.relay, reply, self.serving), signer.sign)
        check_vendor_details(self.family, body["messages"])
        if self.family == "kimi" and self._thinking_on(body):
            check_kimi_preserved(body, anthropic_wire=False)
        if self.family == "strict":
            check_strict(body["messages"])
        elif self.family == "gemini":
            check_gemini(body["messages"], signer, body.get("model"))
        elif self._thinking_on(body) and (rule := RULES[self.family].chat) is not None:
            check_chat(rule, body["messages"])
        reply = self._script().chat(body, self._next(), signer)
        return backward(self.relay, reply, self.serving)
