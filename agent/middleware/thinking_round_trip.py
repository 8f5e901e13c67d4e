"""ThinkingRoundTrip: each provider gets back exactly the reasoning its contract demands.

Keyed on the request's model family (resolved once, carried on the request), it keeps,
restores, converts, pads or drops prior thinking:

- Anthropic (``verify``): signed blocks verbatim, in order, only from their own origin (same
  model on the same host, widened by ``trusted_models``); unsigned or foreign thinking dropped
  (``unsigned_to_anthropic="text"`` opts into visible text); ``redacted_thinking`` with ``data``
  kept, without dropped; earlier turns only on keep-all models.
- DeepSeek, Kimi, MiMo, MiniMax, GLM, Qwen (``carry``): every turn keeps its own thinking;
  unsigned thinking is written the way the family takes it (``signature: ""`` only for those
  that accept it); a turn that must carry thinking and has none gets it restored from the
  store, or the family's documented pad.
- Unknown families (``drop``): prior thinking and ``reasoning_content`` are removed.

Paths in ``explain`` refer to the request body as it came in.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from attrs import evolve, field, frozen
from attrs.validators import in_, instance_of

from agent.errors import InvalidRequest, ThinkingContractError
from agent.families import AnthropicContract, ChatContract, FamilyMatch, FamilyRegistry
from agent.recovery import ThinkingError
from agent.request import Action, Notes, Request
from agent.store import MemoryStore, Origin, StoredTurn, ThinkingStore

log = logging.getLogger("agent")

_THINKING = ("thinking", "redacted_thinking")
_HOW_TO_SET = (
    "set `family:` on the provider in config (or Request(family=...)) if this endpoint "
    "wants reasoning back"
)


def _reject(path: str, problem: str) -> InvalidRequest:
    return InvalidRequest(path, problem)


def _message_list(body: Mapping[str, Any]) -> list[Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _reject("messages", f"expected a list of messages, got {type(messages).__name__}")
    return messages


def _role(message: object, i: int) -> str:
    if not isinstance(message, Mapping):
        raise _reject(f"messages[{i}]", f"expected an object, got {type(message).__name__}")
    role = message.get("role")
    if not isinstance(role, str):
        raise _reject(f"messages[{i}].role", f"expected a string, got {role!r}")
    return role


def _block_type(block: object, path: str) -> str:
    if not isinstance(block, Mapping):
        raise _reject(path, f"expected a content block object, got {type(block).__name__}")
    kind = block.get("type")
    if not isinstance(kind, str):
        raise _reject(f"{path}.type", f"expected a string, got {kind!r}")
    return kind


def _kind(block: object, i: int, j: int) -> str:
    """A block's type: the fast path for a plain dict, else full validation (which may raise)."""
    if type(block) is dict:
        kind = block.get("type")
        if type(kind) is str:
            return kind
    return _block_type(block, f"messages[{i}].content[{j}]")


def _is_real_user(message: Mapping[str, Any], i: int) -> bool:
    """Whether a user message carries anything other than tool_result (a new turn starts)."""
    content = message.get("content")
    if type(content) is not list:
        _content(message, i)
        return True
    for j, block in enumerate(content):
        kind = block.get("type") if type(block) is dict else None
        if type(kind) is not str:
            kind = _kind(block, i, j)
        if kind != "tool_result":
            return True
    return not content


def _content(message: Mapping[str, Any], i: int) -> list[Any] | str | None:
    content = message.get("content")
    if content is None or isinstance(content, (str, list)):
        return content
    raise _reject(
        f"messages[{i}].content", f"expected a string or a list of blocks, got {content!r}"
    )


def _without(block: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != key}


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, str):
        return (items,)
    if not isinstance(items, Iterable) or not all(isinstance(i, str) for i in items):
        raise TypeError(f"trusted_models: expected a list of model patterns, got {items!r}")
    return tuple(items)


@frozen
class ThinkingRoundTrip:
    """The central middleware: per model family, the prior reasoning its provider wants back.

    Attributes:
        unsigned_to_anthropic: what unsigned or foreign thinking becomes for an Anthropic
            target: ``drop`` (default; visible reasoning text has made Claude refuse) or
            ``text`` (a text block, opt-in).
        foreign: what thinking observed from another family becomes for an unsigned-carrying
            family: ``pad`` (default: the family's pad where it needs reasoning, else removed,
            so another vendor's chain of thought is not replayed), ``keep_text`` (its text
            travels unsigned), or ``drop`` (removed, never padded).
        trusted_models: glob patterns of origin models (same family) whose signatures an
            Anthropic target also accepts, e.g. ``("claude-*",)``; by default only the same
            model on the same host is trusted.
        on_missing_loop_thinking: with thinking enabled, when the active tool loop's assistant
            message has no thinking that can be sent: ``send`` as is (and say so loudly),
            ``raise`` ThinkingContractError, or ``drop_param`` (remove ``thinking`` for this
            one request).
        restore: put back a turn's own observed thinking when the history lost it.
        store: where observed thinking and its origin are kept.
        families: the table used when a request arrives without a resolved family.
    """

    unsigned_to_anthropic: Literal["drop", "text"] = field(
        default="drop", validator=in_(("drop", "text"))
    )
    foreign: Literal["pad", "keep_text", "drop"] = field(
        default="pad", validator=in_(("pad", "keep_text", "drop"))
    )
    trusted_models: tuple[str, ...] = field(default=(), converter=_strings)
    on_missing_loop_thinking: Literal["send", "raise", "drop_param"] = field(
        default="send", validator=in_(("send", "raise", "drop_param"))
    )
    restore: bool = field(default=True, validator=instance_of(bool))
    store: ThinkingStore = field(factory=MemoryStore, repr=False)
    families: FamilyRegistry = field(factory=FamilyRegistry.builtin, repr=False)

    def __call__(self, request: Request) -> Request:
        """The request with its prior reasoning fitted to the target's contract."""
        return self.transform(request, None)

    def transform(self, request: Request, notes: Notes | None) -> Request:
        """Like ``__call__``, recording each decision in ``notes`` when given."""
        match = request.resolved or self._resolve(request)
        if request.api == "anthropic_messages":
            return _AnthropicPass(self, request, match, notes).run()
        return _ChatPass(self, request, match, notes).run()

    def observe(self, request: Request, response_body: Mapping[str, Any]) -> None:
        """Record the thinking of a response with its origin (the target of ``request``)."""
        match = request.resolved or self._resolve(request)
        origin = Origin(match.family.name, match.host, match.model)
        turn = (
            _observed_anthropic(origin, response_body)
            if request.api == "anthropic_messages"
            else _observed_chat(origin, response_body)
        )
        if turn is not None:
            self.store.record(turn)

    def learn(self, sent: Request, error: ThinkingError) -> str | None:
        """Remember what a provider's thinking error says about what was sent; say what.

        An invalid signature (or redacted data) is remembered as rejected, and so are all of a
        turn's blocks when the provider says that turn's thinking was modified; later calls
        do not send them again.
        """
        if error.kind not in ("invalid_signature", "modified") or error.message is None:
            return None
        messages = sent.body.get("messages")
        if not isinstance(messages, list) or not 0 <= error.message < len(messages):
            return None
        content = messages[error.message].get("content")
        if not isinstance(content, list):
            return None
        if error.kind == "invalid_signature" and error.block is not None:
            blocks = content[error.block : error.block + 1]
        else:
            blocks = content
        keys = [
            key
            for b in blocks
            if isinstance(b, Mapping)
            for key in (b.get("signature") if b.get("type") == "thinking" else b.get("data"),)
            if isinstance(key, str) and key
        ]
        for key in keys:
            self.store.reject(key)
        if not keys:
            return None
        return f"{len(keys)} signature(s) at messages[{error.message}] rejected by the provider"

    def _resolve(self, request: Request) -> FamilyMatch:
        model = request.body.get("model")
        if not isinstance(model, str):
            raise _reject("model", f"expected the model id as a string, got {model!r}")
        return self.families.resolve(model, request.base_url, request.api, request.family)

    def trusts(self, origin: Origin, match: FamilyMatch) -> bool:
        """Whether a signature minted at ``origin`` verifies at the target of ``match``."""
        if origin.family != match.family.name:
            return False
        if match.family.anthropic.thinking != "verify":
            return True  # carrying families: any block of their own family is their own
        if origin.model == match.model and origin.host == match.host:
            return True
        return any(fnmatch.fnmatchcase(origin.model, p) for p in self.trusted_models)


def _observed_anthropic(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    content = body.get("content")
    if not isinstance(content, list):
        return None
    blocks: list[tuple[Mapping[str, Any], int]] = []
    tool_ids: list[str] = []
    for index, block in enumerate(content):
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in _THINKING:
            blocks.append((block, index))
        elif kind == "tool_use" and isinstance(block.get("id"), str):
            tool_ids.append(block["id"])
    if not blocks:
        return None
    return StoredTurn(origin, tuple(blocks), None, tuple(tool_ids), len(content))


def _observed_chat(origin: Origin, body: Mapping[str, Any]) -> StoredTurn | None:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return None
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        return None
    reasoning = message.get("reasoning_content")
    if not isinstance(reasoning, str) or not reasoning:
        return None
    calls = message.get("tool_calls")
    tool_ids = tuple(
        c["id"]
        for c in (calls if isinstance(calls, list) else ())
        if isinstance(c, Mapping) and isinstance(c.get("id"), str)
    )
    return StoredTurn(origin, (), reasoning, tool_ids)


class _Pass:
    """Per-call state of one run (never kept on the middleware)."""

    def __init__(
        self, mw: ThinkingRoundTrip, request: Request, match: FamilyMatch, notes: Notes | None
    ) -> None:
        self.mw = mw
        self.request = request
        self.match = match
        self.notes = notes
        self.family = match.family
        self.store = mw.store
        self.rejected = mw.store.rejected()
        self.dead = (
            request.dead_signatures | self.rejected if self.rejected else (request.dead_signatures)
        )
        self.trusted: dict[Origin, bool] = {}  # per call: origins seen are few, blocks many

    def note(self, path: object, action: Action, reason: str) -> None:
        if self.notes is not None:
            self.notes.add(str(path), action, reason)

    @property
    def target(self) -> str:
        return f"{self.match.model} at {self.match.host}"

    def foreign_origin(self, signature: str | None, text: str | None) -> Origin | None:
        """The origin of a block if it was observed from a target it does not verify at."""
        origin = None
        if signature:
            origin = self.store.origin_of_signature(signature)
        elif text and not text.isspace():
            origin = self.store.origin_of_text(text)
        if origin is None:
            return None
        trusted = self.trusted.get(origin)
        if trusted is None:
            trusted = self.trusted[origin] = self.mw.trusts(origin, self.match)
        return None if trusted else origin

    def finish(self, body: Mapping[str, Any] | None) -> Request:
        if body is None:
            return self.request  # nothing to do: the very same object
        return evolve(self.request, body=body, resolved=self.match)


class _AnthropicPass(_Pass):
    """One run over an Anthropic Messages body."""

    def run(self) -> Request:
        body = self.request.body
        messages = _message_list(body)
        contract: AnthropicContract = self.family.anthropic
        self.contract = contract
        # The turn structure is found from the end: the tail is short, the history long.
        last_assistant = -1
        last_real_user = -1
        latest_real_user = -1  # the last real user message before the last assistant message
        for i in range(len(messages) - 1, -1, -1):
            message = messages[i]
            role = message.get("role") if type(message) is dict else None
            if type(role) is not str:
                role = _role(message, i)
            if role == "assistant":
                if last_assistant < 0:
                    last_assistant = i
            elif role == "user" and _is_real_user(message, i):
                if last_real_user < 0:
                    last_real_user = i
                if last_assistant >= 0:
                    latest_real_user = i
                    break
        self.loop_start = last_real_user + 1
        self.latest_start = latest_real_user + 1
        self.keep_all = contract.keeps_all_turns(self.match.model)
        tail = messages[-1] if messages else None
        self.continuing_loop = (
            last_assistant >= self.loop_start and tail is not None and tail.get("role") == "user"
        )

        out: list[Any] | None = None
        missing_loop_thinking: str | None = None
        for i, message in enumerate(messages):
            new = message
            role = message.get("role") if type(message) is dict else None
            if type(role) is not str:
                role = _role(message, i)
            if role == "assistant":
                new = self.message(i, message)
                if (
                    contract.thinking == "verify"
                    and i == last_assistant
                    and self.continuing_loop
                    and not _starts_with_thinking(new)
                ):
                    missing_loop_thinking = f"messages[{i}].content[0]"
            if new is not message and out is None:
                out = list(messages[:i])
            if out is not None and new is not None:
                out.append(new)
        new_body: Mapping[str, Any] | None = None
        if out is not None:
            new_body = {**body, "messages": out}
        if missing_loop_thinking is not None:
            new_body = self.missing_loop_thinking(missing_loop_thinking, new_body or body)
        return self.finish(new_body)

    def missing_loop_thinking(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        thinking = body.get("thinking")
        enabled = isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive")
        if not enabled:
            return body
        problem = (
            "the active tool loop's assistant message has no thinking that can be sent; "
            "with thinking enabled Anthropic expects it to start with its thinking block "
            "(HTTP 400 'Expected `thinking` or `redacted_thinking`, but found ...' on strict "
            "models)"
        )
        policy = self.mw.on_missing_loop_thinking
        if policy == "raise":
            raise ThinkingContractError(path, problem)
        log.warning("%s: %s (on_missing_loop_thinking=%s)", path, problem, policy)
        if policy == "drop_param":
            self.note("thinking", Action.DROPPED, f"{problem}; thinking disabled for this request")
            return {k: v for k, v in body.items() if k != "thinking"}
        self.note(path, Action.WARNING, f"{problem}; sent as is (on_missing_loop_thinking=send)")
        return body

    def message(self, i: int, message: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The message fitted to the contract: the same object, a copy, or None (emptied)."""
        content = message.get("content")
        if type(content) is not list:
            content = _content(message, i)
            if not isinstance(content, list):
                return self.string_message(i, message)
        contract = self.contract
        in_latest = i >= self.latest_start
        in_loop = i >= self.loop_start
        out: list[Any] | None = None
        has_thinking = False
        has_tool_use = False
        foreign_removed = False
        for j, block in enumerate(content):
            kind = block.get("type") if type(block) is dict else None
            if type(kind) is not str:
                kind = _kind(block, i, j)
            if kind != "thinking" and kind != "redacted_thinking":
                if kind == "tool_use":
                    has_tool_use = True
                if out is not None:
                    out.append(block)
                continue
            path = _Path(i, j)
            if contract.thinking == "verify":
                new = self.verify_block(path, kind, block, in_latest)
                if new is block:  # the common case: an own signed block, kept as it is
                    has_thinking = True
                    if out is not None:
                        out.append(block)
                    continue
            elif contract.thinking == "carry":
                new = self.carry_block(path, kind, block)
                if new is _FOREIGN:
                    foreign_removed = True
                    new = None
            else:
                if self.notes is not None:
                    self.note(
                        str(path),
                        Action.DROPPED,
                        f"{self.match.describe()}; prior thinking is dropped ({_HOW_TO_SET})",
                    )
                new = None
            if new is not None and new.get("type") in _THINKING:
                has_thinking = True
            if new is block:
                if out is not None:
                    out.append(block)
                continue
            if out is None:
                out = list(content[:j])
            if new is not None:
                out.append(new)
        if has_thinking and contract.thinking == "verify":
            current = out if out is not None else content
            if current[0].get("type") not in _THINKING:
                # "the first block must be thinking": a turn that does not start with its
                # thinking was reordered, so its signatures no longer verify
                out = [b for b in current if b.get("type") not in _THINKING]
                has_thinking = False
                if self.notes is not None:
                    head = f"messages[{i}].content["
                    self.notes.changes = [
                        c
                        for c in self.notes.changes
                        if not (c.path.startswith(head) and c.action == Action.KEPT)
                    ]
                    for j, block in enumerate(content):
                        if block.get("type") in _THINKING and any(block is b for b in current):
                            self.note(
                                _Path(i, j),
                                Action.DROPPED,
                                "the turn's blocks were reordered (a thinking block must come "
                                "first), so its signatures no longer verify",
                            )
        if has_thinking:
            pass
        elif (
            has_tool_use
            and self.mw.restore
            and contract.thinking != "drop"  # never restore what the contract drops
            and (self.keep_all or in_latest)
        ):
            ids = [b["id"] for b in content if b["type"] == "tool_use" and type(b.get("id")) is str]
            restored = self.restore(i, out if out is not None else content, ids) if ids else None
            if restored is not None:
                out, has_thinking = restored, True
        if not has_thinking and contract.thinking == "carry" and contract.pad is not None:
            needed = (has_tool_use and "tool_calls" in contract.pad_on) or (
                in_loop and "active_loop" in contract.pad_on
            )
            if needed and not (foreign_removed and self.mw.foreign == "drop"):
                out = [self.pad_block(), *(out if out is not None else content)]
                why = "had none" if not foreign_removed else "had only foreign thinking"
                self.note(
                    f"messages[{i}].content[0]",
                    Action.PADDED,
                    f"{self.family.name} needs thinking on this turn and it {why}; "
                    f"inserted the documented pad {contract.pad!r} ({self.family.why})",
                )
        if out is None:
            return message
        if not out:
            self.note(
                f"messages[{i}]",
                Action.DROPPED,
                "the message held only thinking that cannot be sent; an empty message is "
                "rejected, so it is left out",
            )
            return None
        return {**message, "content": out}

    def string_message(self, i: int, message: Mapping[str, Any]) -> Mapping[str, Any]:
        """A plain-text assistant message; only an active-loop pad can apply to it."""
        contract = self.contract
        if (
            contract.thinking == "carry"
            and contract.pad is not None
            and "active_loop" in contract.pad_on
            and i >= self.loop_start
        ):
            text = message.get("content")
            blocks: list[Any] = [self.pad_block()]
            if text:
                blocks.append({"type": "text", "text": text})
            self.note(
                f"messages[{i}].content",
                Action.PADDED,
                f"{self.family.name} needs thinking on every message of the active tool loop; "
                f"inserted the pad {contract.pad!r} ({self.family.why})",
            )
            return {**message, "content": blocks}
        return message

    def pad_block(self) -> dict[str, Any]:
        assert self.contract.pad is not None
        block: dict[str, Any] = {"type": "thinking", "thinking": self.contract.pad}
        if self.contract.empty_signature != "forbidden":
            block["signature"] = ""
        return block

    def verify_block(
        self, path: _Path, kind: str, block: Mapping[str, Any], in_latest: bool
    ) -> Mapping[str, Any] | None:
        """A thinking block for a signature-checking target (Anthropic)."""
        if not self.keep_all and not in_latest:
            self.note(
                path,
                Action.DROPPED,
                f"{self.match.model} keeps only the latest assistant turn's thinking; earlier "
                "turns' blocks are stripped by the API anyway",
            )
            return None
        if kind == "redacted_thinking":
            data = block.get("data")
            if not isinstance(data, str) or not data:
                self.note(path, Action.DROPPED, "redacted_thinking without data cannot be verified")
                return None
            if data in self.dead:
                return self.unsendable(path, block, self.dead_reason(data, "data"))
            origin = self.foreign_origin(data, None)
            if origin is not None:
                return self.unsendable(path, block, f"minted by {origin}, not by {self.target}")
            return self.keep(path, block, "redacted_thinking passed back unchanged, in place")
        text = block.get("thinking")
        if not isinstance(text, str):
            raise _reject(f"{path}.thinking", f"expected the thinking text, got {text!r}")
        signature = block.get("signature")
        if signature is not None and not isinstance(signature, str):
            raise _reject(f"{path}.signature", f"expected a string, got {signature!r}")
        if not signature:
            return self.unsendable(
                path,
                block,
                "unsigned thinking (Anthropic answers 400 "
                "'Invalid `signature` in `thinking` block'; never minted)",
            )
        if signature in self.dead:
            return self.unsendable(path, block, self.dead_reason(signature))
        origin = self.foreign_origin(signature, None)
        if origin is not None:
            return self.unsendable(
                path,
                block,
                f"signed by {origin}, not by {self.target}; a foreign signature is rejected",
            )
        return self.keep(path, block, "own signed thinking passed back verbatim, in order")

    def dead_reason(self, key: str, what: str = "signature") -> str:
        if key in self.rejected:
            return f"the provider rejected this {what} before (remembered from its 400)"
        return (
            f"its turn was restructured (a tool_use was removed), so its {what} no longer verifies"
        )

    def unsendable(
        self, path: _Path, block: Mapping[str, Any], why: str
    ) -> Mapping[str, Any] | None:
        text = block.get("thinking")
        if self.mw.unsigned_to_anthropic == "text" and isinstance(text, str) and text.strip():
            self.note(
                path, Action.CONVERTED, f"{why}; turned into text (unsigned_to_anthropic=text)"
            )
            return {"type": "text", "text": text}
        self.note(
            path,
            Action.DROPPED,
            f"{why}; dropped, not turned into text (unsigned_to_anthropic=drop)",
        )
        return None

    def keep(self, path: _Path, block: Mapping[str, Any], why: str) -> Mapping[str, Any]:
        if "cache_control" in block:
            self.note(
                f"{path}.cache_control",
                Action.STRIPPED,
                "cache_control cannot be set on thinking blocks; removed from the block only",
            )
            return _without(block, "cache_control")
        if self.notes is not None:
            self.note(path, Action.KEPT, f"{why} ({self.family.name})")
        return block

    def carry_block(self, path: _Path, kind: str, block: Mapping[str, Any]) -> Any:
        """A thinking block for a family that takes its own or unsigned thinking back."""
        contract = self.contract
        if kind == "redacted_thinking":
            data = block.get("data")
            origin = self.foreign_origin(data if isinstance(data, str) else None, None)
            if origin is not None:
                self.note(
                    path,
                    Action.DROPPED,
                    f"redacted thinking from {origin} is opaque to {self.family.name}",
                )
                return _FOREIGN
            return self.keep(path, block, "passed back unchanged")
        text = block.get("thinking")
        if not isinstance(text, str):
            raise _reject(f"{path}.thinking", f"expected the thinking text, got {text!r}")
        signature = block.get("signature")
        if signature is not None and not isinstance(signature, str):
            raise _reject(f"{path}.signature", f"expected a string, got {signature!r}")
        origin = self.foreign_origin(signature, text)
        if origin is not None:
            if self.mw.foreign != "keep_text":
                self.note(
                    path,
                    Action.DROPPED,
                    f"thinking observed from {origin} is another "
                    f"vendor's reasoning; not replayed to {self.family.name} "
                    f"(foreign={self.mw.foreign})",
                )
                return _FOREIGN
            new: Mapping[str, Any] = self.unsigned_form({"type": "thinking", "thinking": text})
            self.note(
                path,
                Action.UNSIGNED,
                f"thinking observed from {origin}: its signature "
                "removed, its text kept (foreign=keep_text)",
            )
            return new
        if signature:
            return self.keep(path, block, "own thinking passed back with its signature")
        new = self.pad_empty(block)
        if new is not block:
            self.note(
                path,
                Action.PADDED,
                f"empty thinking becomes the pad {contract.pad!r} "
                f"({self.family.name} rejects an empty reasoning text)",
            )
        shaped = self.unsigned_form(new)
        if shaped is not new and self.notes is not None:
            self.note(path, Action.UNSIGNED, self.unsigned_reason())
        if "cache_control" in shaped:
            return self.keep(path, shaped, "")
        if shaped is block and self.notes is not None:
            self.note(
                path, Action.KEPT, f"unsigned thinking kept on every turn ({self.family.why})"
            )
        return shaped

    def pad_empty(self, block: Mapping[str, Any]) -> Mapping[str, Any]:
        """An empty unsigned thinking text becomes the pad, for families that reject ''."""
        contract = self.contract
        if block.get("thinking") == "" and contract.empty_to_pad and contract.pad:
            return {**block, "thinking": contract.pad}
        return block

    def unsigned_form(self, block: Mapping[str, Any]) -> Mapping[str, Any]:
        rule = self.contract.empty_signature
        if rule == "required" and block.get("signature") != "":
            return {**block, "signature": ""}
        if rule == "forbidden" and "signature" in block:
            return _without(block, "signature")
        return block

    def unsigned_reason(self) -> str:
        if self.contract.empty_signature == "required":
            return f'{self.family.name} takes unsigned thinking with signature ""'
        return (
            f"{self.family.name} takes unsigned thinking without a signature field; "
            'signature "" goes only to families that accept it'
        )

    def restore(self, i: int, content: Sequence[Any], tool_ids: list[str]) -> list[Any] | None:
        """The message with its own observed thinking put back in original order, or None.

        Only when the message's other blocks line up with the observed response (same tool
        calls, same count), so each block goes back exactly where the model put it.
        """
        turn = self.store.turn_for_tool(tool_ids[0])
        if turn is None or turn.tool_ids != tuple(tool_ids) or not turn.blocks:
            return None
        if not self.mw.trusts(turn.origin, self.match):
            return None
        if self.contract.thinking == "verify":
            for block, _ in turn.blocks:  # all or nothing: a partial turn is a modified turn
                key = (
                    block.get("signature") if block.get("type") == "thinking" else block.get("data")
                )
                if not isinstance(key, str) or not key or key in self.dead:
                    return None
            at = {position: block for block, position in turn.blocks}
        else:
            at = {  # shaped like any other unsigned block of this family
                position: self.unsigned_form(self.pad_empty(block))
                if block.get("type") == "thinking" and not block.get("signature")
                else block
                for block, position in turn.blocks
            }
        if len(content) + len(at) != turn.size:
            return None  # the agent's turn does not line up with the observed one
        others = iter(content)
        out: list[Any] = []
        for position in range(len(content) + len(at)):
            if position in at:
                out.append(at[position])
            else:
                out.append(next(others))
        if self.contract.thinking == "verify" and out[0].get("type") not in _THINKING:
            return None  # Anthropic: a turn with thinking must start with it
        self.note(
            f"messages[{i}].content",
            Action.RESTORED,
            f"{len(turn.blocks)} thinking block(s) of this turn, observed from {turn.origin}, "
            f"put back where the model put them (found by tool_use id {tool_ids[0]})",
        )
        return out


_FOREIGN: Any = object()


class _Path:
    """``messages[i].content[j]``, formatted only when someone reads it (explain, errors)."""

    __slots__ = ("i", "j")

    def __init__(self, i: int, j: int) -> None:
        self.i = i
        self.j = j

    def __str__(self) -> str:
        return f"messages[{self.i}].content[{self.j}]"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _starts_with_thinking(message: Mapping[str, Any] | None) -> bool:
    if message is None:
        return False
    content = message.get("content")
    return (
        isinstance(content, list)
        and bool(content)
        and isinstance(content[0], Mapping)
        and content[0].get("type") in _THINKING
    )


class _ChatPass(_Pass):
    """One run over a Chat Completions body."""

    def run(self) -> Request:
        body = self.request.body
        messages = _message_list(body)
        contract: ChatContract = self.family.chat
        self.contract = contract
        last_user = -1
        for i, message in enumerate(messages):
            if _role(message, i) == "user":
                last_user = i
        out: list[Any] | None = None
        for i, message in enumerate(messages):
            new = message
            if message["role"] == "assistant":
                new = self.message(i, message, in_loop=i > last_user)
            if new is not message and out is None:
                out = list(messages[:i])
            if out is not None:
                out.append(new)
        return self.finish(None if out is None else {**body, "messages": out})

    def message(self, i: int, message: Mapping[str, Any], in_loop: bool) -> Mapping[str, Any]:
        path = f"messages[{i}].reasoning_content"
        contract = self.contract
        present = "reasoning_content" in message
        reasoning = message.get("reasoning_content")
        if reasoning is not None and not isinstance(reasoning, str):
            raise _reject(path, f"expected a string, got {type(reasoning).__name__}")
        calls = message.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            raise _reject(f"messages[{i}].tool_calls", f"expected a list, got {calls!r}")
        if contract.reasoning_content == "drop":
            if not present:
                return message
            self.note(
                path,
                Action.DROPPED,
                f"{self.match.describe()}; reasoning_content is not "
                f"sent (strict servers answer 422 'Extra inputs are not permitted'); "
                f"{_HOW_TO_SET}",
            )
            return _without(message, "reasoning_content")
        foreign_removed = False
        if reasoning:
            origin = self.foreign_origin(None, reasoning)
            if origin is None or self.mw.foreign == "keep_text":
                if self.notes is not None:
                    why = (
                        f"observed from {origin}, kept as text (foreign=keep_text)"
                        if origin
                        else f"passed back ({self.family.why})"
                    )
                    self.note(path, Action.KEPT, why)
                return message
            self.note(
                path,
                Action.DROPPED,
                f"reasoning observed from {origin} is another "
                f"vendor's; not replayed to {self.family.name} (foreign={self.mw.foreign})",
            )
            reasoning, foreign_removed = None, True
        elif reasoning == "":
            if contract.empty_to_pad and contract.pad:
                self.note(
                    path,
                    Action.PADDED,
                    f"'' becomes the pad {contract.pad!r} "
                    f"({self.family.name} rejects an empty reasoning_content)",
                )
                return {**message, "reasoning_content": contract.pad}
            self.note(path, Action.KEPT, f"'' is accepted by {self.family.name}")
            return message
        ids = [c.get("id") for c in calls or () if isinstance(c, Mapping)]
        if ids and self.mw.restore and isinstance(ids[0], str):
            turn = self.store.turn_for_tool(ids[0])
            if (
                turn is not None
                and turn.reasoning
                and turn.tool_ids == tuple(ids)
                and self.mw.trusts(turn.origin, self.match)
            ):
                self.note(
                    path,
                    Action.RESTORED,
                    f"this turn's own reasoning, observed from "
                    f"{turn.origin}, found again by tool call id {ids[0]}",
                )
                return {**message, "reasoning_content": turn.reasoning}
        needed = (bool(calls) and "tool_calls" in contract.pad_on) or (
            in_loop and "active_loop" in contract.pad_on
        )
        if (
            needed
            and contract.pad is not None
            and not (foreign_removed and self.mw.foreign == "drop")
        ):
            self.note(
                path,
                Action.PADDED,
                f"{self.family.name} needs reasoning_content here "
                f"and it had {'only foreign' if foreign_removed else 'none'}; inserted "
                f"the documented pad {contract.pad!r} ({self.family.why})",
            )
            return {**message, "reasoning_content": contract.pad}
        if foreign_removed:
            return _without(message, "reasoning_content")
        return message
