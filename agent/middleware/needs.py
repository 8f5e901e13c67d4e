"""What each wire's pass may look up in the store, gathered before it runs, so a shared store
answers a whole call in one batch (``agent.store.batch``).

One function per wire adds the call's keys to a ``Wanted``: every signature and reasoning text
the pass may ask the origin of, and every tool call id of the conversation, the turn read
(``fetch``) only where the pass may put it back (a turn that lost its reasoning, on a family
that wants it), else only kept alive. A pass that asks for more is still answered (a miss
costs one more batch, see ``Found``); a pass that adds a lookup should add its key here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

from attrs import evolve

from agent.body import block_key, thought_signature
from agent.errors import InvalidRequest
from agent.middleware.bedrock_wire import view as converse_view
from agent.middleware.gemini_wire import SIGNATURE, call_key
from agent.middleware.sent_turns import latest_turn_start
from agent.request import Request
from agent.store import Wanted

#: Every field a chat message carries its reasoning text in (chat_wire renames the aliases).
_TEXTS = ("reasoning_content", "reasoning", "reasoning_text")


def anthropic(request: Request, want: Wanted) -> None:
    """Messages: each thinking block's signature (or data), else its text; each turn's tool
    ids, the first read where a turn the contract sends back has no reasoning of its own."""
    history = request.history
    contract = request.match.family.anthropic
    keep_all = contract.keeps_all_turns(request.match.model)
    # an unknown target (pass) too: a classified error may teach its family, and the retry then
    # finds what it restores in this call's batch
    known = contract.thinking.sends_thinking
    unsigned_kept = (
        not contract.thinking.checks_signatures
    )  # (a signature-checking target drops it)
    # the latest turn as it may be sent: a last message that holds only thinking may be left
    # out, making the turn before it the latest (sent_turns), so its turn is read too
    latest = history.latest_start if keep_all else latest_turn_start(history, lambda i: True)
    for i in history.assistants:
        content = history.messages[i].get("content")
        own = False  # the turn carries reasoning (a signed block, or an unsigned text)
        for j in history.thinking.get(i, ()):
            block = content[j]
            key = block_key(block)
            text = block.get("thinking")
            if key is not None:
                want.signature(key)
                own = True
            elif isinstance(text, str) and text.strip():
                want.text(text)
                own = own or unsigned_kept
        sent = keep_all or i >= latest
        ids = history.tool_ids(i)
        # an unsigned family's turn is found by any of its ids (restore.observed_turn)
        for n, tool_id in enumerate(ids):
            first = n == 0 or unsigned_kept
            want.tool(tool_id, fetch=first and known and sent and not own)


def chat(request: Request, want: Wanted) -> None:
    """Chat Completions: reasoning texts, reasoning_details keys, thought signatures; the
    first tool call id read where the message lost what the family wants back, each call's
    id where the family restores thought signatures per call."""
    history = request.history
    contract = request.match.family.chat
    restores_text = contract.reasoning_content != "drop"  # pass: see anthropic()
    for i in history.assistants:
        message = history.messages[i]
        reasoning = False
        for name in _TEXTS:
            text = message.get(name)
            if isinstance(text, str) and text.strip():
                want.text(text)
                reasoning = True
        details = message.get("reasoning_details")
        for item in details if isinstance(details, list) else ():
            _detail(item, want)
        opaque = message.get("reasoning_opaque")  # Copilot's pair: found by its signature
        want.signature(opaque if isinstance(opaque, str) else None)
        calls = message.get("tool_calls")
        calls = calls if isinstance(calls, list) else []
        ids = [c.get("id") for c in calls if isinstance(c, Mapping)]
        for tool_id in ids:  # a turn is found by any of its ids (chat_carriers.turn_for)
            if isinstance(tool_id, str):
                want.tool(tool_id, fetch=restores_text and not reasoning)
        first = history.tool_ids(i)[:1]
        if first:
            want.tool(first[0], fetch=contract.details == "keep" and not details)
        for k, call in enumerate(calls):
            signature = thought_signature(call)
            want.signature(signature)
            if k < len(ids):
                want.tool(ids[k], fetch=contract.tool_signatures == "keep" and signature is None)


def _detail(item: object, want: Wanted) -> None:
    """A reasoning_details item is found by its signature (or data), else by its text."""
    if not isinstance(item, Mapping):
        return
    key = item.get("signature") or item.get("data")
    if isinstance(key, str) and key:
        want.signature(key)
    else:
        want.text(item.get("text"))


def responses(request: Request, want: Wanted) -> None:
    """Responses: each reasoning item's encrypted content, its id read where it has none;
    each function call's call id, read where it opens its turn without a reasoning item."""
    items = request.body.get("input")
    if not isinstance(items, list):
        return
    keeps = request.match.family.chat.details
    before: object = None
    for item in items:
        if not isinstance(item, Mapping):
            before = None
            continue
        kind = item.get("type")
        item_id = item.get("id")
        if kind == "compaction":  # left out once its encrypted content was rejected
            sealed = item.get("encrypted_content")
            want.signature(sealed if isinstance(sealed, str) and sealed else None)
        elif kind == "reasoning" or (
            kind == "item_reference" and isinstance(item_id, str) and item_id.startswith("rs_")
        ):
            encrypted = item.get("encrypted_content") if kind == "reasoning" else None
            key = encrypted if isinstance(encrypted, str) and encrypted else None
            want.signature(key)
            want.tool(item_id, fetch=key is None and keeps != "drop")
        elif kind == "function_call":
            opens = before not in ("reasoning", "function_call")
            want.tool(item.get("call_id"), fetch=opens and keeps == "keep")
        before = kind


def gemini(request: Request, want: Wanted) -> None:
    """Gemini: each part's thought signature; each function call's key, read where the call
    has no signature and the family restores them."""
    contents = request.body.get("contents")
    keeps = request.match.family.chat.tool_signatures == "keep"
    for content in contents if isinstance(contents, list) else ():
        if not isinstance(content, Mapping) or content.get("role") != "model":
            continue
        parts = content.get("parts")
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, Mapping):
                continue
            signature = part.get(SIGNATURE)
            signed = isinstance(signature, str) and bool(signature)
            want.signature(signature)
            if "functionCall" in part:
                want.tool(call_key(part), fetch=keeps and not signed)


def converse(request: Request, want: Wanted) -> None:
    """Bedrock Converse: what the Anthropic pass reads on the body's Anthropic view."""
    if not isinstance(request.body.get("messages"), list):
        return
    seen, _ = converse_view(request.body)
    anthropic(evolve(request, api="anthropic_messages", body=seen, resolved=request.match), want)


#: Each wire's gatherer.
NEEDS: dict[str, Callable[[Request, Wanted], None]] = {
    "anthropic_messages": anthropic,
    "chat_completions": chat,
    "responses": responses,
    "gemini": gemini,
    "bedrock_converse": converse,
}


def wanted(request: Request) -> Wanted:
    """The keys the pass may look up for ``request`` (resolved); none for a body the pass
    cannot read (it raises the same error when it runs)."""
    want = Wanted()
    gather = NEEDS.get(request.api)
    if gather is None:
        return want
    # a malformed body: the pass itself says what is wrong where
    with contextlib.suppress(InvalidRequest, LookupError, TypeError, AttributeError):
        gather(request, want)
    return want
