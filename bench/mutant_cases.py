"""The rules ``bench/mutants.py`` breaks: each one broken in one line of one file, with the
tests that must notice (the runner is ``mutants.py``; ``tests/test_mutants.py`` checks that
every mutant's text is still in its file exactly once)."""

from __future__ import annotations

from attrs import frozen

RULES = "tests/test_rules.py"
UNIT = (
    RULES,
    "tests/test_thinking_round_trip.py",
    "tests/test_tool_pairing.py",
    "tests/test_recovery.py",
    "tests/test_pipeline.py",
    "tests/test_cases.py",
)


@frozen
class Mutant:
    """One rule broken in one place.

    Attributes:
        name: the rule, in words (what the mutant breaks).
        path: the file, relative to the repository.
        old: the text replaced; it must occur in the file exactly once.
        new: what replaces it.
        tests: the pytest arguments (files or node ids) that pin the rule.
    """

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...] = UNIT


MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------ restore: only into a turn that lines up
    Mutant(
        "restore (Anthropic, signed): only into a turn with the observed tool ids, in order",
        "agent/middleware/restore.py",
        "if (turn.tool_ids != tuple(tool_ids)) if exact else",
        "if False if exact else",
    ),
    Mutant(
        "restore (Anthropic, unsigned): only into a turn whose tool ids are all the observed's",
        "agent/middleware/restore.py",
        "else not set(tool_ids) <= set(turn.tool_ids):",
        "else False:",
    ),
    Mutant(
        "restore (Anthropic, signed): a turn that does not line up gets nothing put back",
        "agent/middleware/restore.py",
        "elif call.mode.carries_unsigned:  # its own reasoning beats a pad",
        "elif True:  # its own reasoning beats a pad",
    ),
    Mutant(
        "restore (Anthropic, signed): a restored Claude turn must start with thinking",
        "agent/middleware/restore.py",
        'if signed and out[0].get("type") not in THINKING_TYPES:',
        "if False:",
    ),
    Mutant(
        "restore (chat reasoning_content): only into a message whose tool ids are the observed's",
        "agent/middleware/chat_carriers.py",
        "if (turn.tool_ids != ids) if exact else not set(ids) <= set(turn.tool_ids):",
        "if (turn.tool_ids != ids) if exact else False:",
    ),
    Mutant(
        "restore (OpenRouter reasoning_details): only into a turn with the same tool calls",
        "agent/middleware/chat_carriers.py",
        "found = turn_for(call, i, exact=True)\n    details =",
        "found = turn_for(call, i, exact=False)\n    details =",
    ),
    Mutant(
        "restore (Copilot pair): only into a turn with the same tool calls",
        "agent/middleware/chat_carriers.py",
        "found = turn_for(call, i, exact=True)\n    pair =",
        "found = turn_for(call, i, exact=False)\n    pair =",
    ),
    Mutant(
        "restore by tool id (Anthropic wire): a tool turn that lost its thinking gets it back",
        "agent/middleware/anthropic_wire.py",
        "restored = restore_turn(call, i, content, ids)\n        if restored is not None:",
        "restored = None\n        if restored is not None:",
    ),
    Mutant(
        "restore by tool id (chat wire): a message that lost its reasoning gets it back",
        "agent/middleware/chat_wire.py",
        "    restored = _restored(call, i, path, message, field)\n    if restored is not None:\n"
        "        return restored\n    calls",
        "    restored = None\n    if restored is not None:\n        return restored\n    calls",
    ),
    # ------------------------------------------------------------------------ pads
    Mutant(
        "pad (Anthropic wire): a turn the family needs thinking on gets the documented pad",
        "agent/middleware/anthropic_wire.py",
        "return [pad_block(contract), *content]",
        "return content",
    ),
    Mutant(
        "pad (chat wire): a message the family needs reasoning on gets the documented pad",
        "agent/middleware/chat_wire.py",
        "return {**message, field: contract.pad}\n    if foreign_removed:",
        "return message\n    if foreign_removed:",
    ),
    Mutant(
        "pad (DeepSeek, Anthropic wire): every tool-call turn, not only the active loop's",
        "agent/families/builtin.py",
        '**_UNSIGNED_CARRY,\n            "pad": " ",\n            "pad_on": ["tool_calls", '
        '"active_loop"],',
        '**_UNSIGNED_CARRY,\n            "pad": " ",\n            "pad_on": ["active_loop"],',
    ),
    Mutant(
        "pad (DeepSeek, chat wire): every tool-call message, not only the active loop's",
        "agent/families/builtin.py",
        '"reasoning_content": "keep",\n            "pad": " ",\n            "pad_on": '
        '["tool_calls", "active_loop"],',
        '"reasoning_content": "keep",\n            "pad": " ",\n            "pad_on": '
        '["active_loop"],',
    ),
    Mutant(
        "empty reasoning becomes the pad where the family rejects '' (Anthropic wire)",
        "agent/middleware/policies.py",
        'if block.get("thinking") == "" and contract.empty_to_pad and contract.pad:',
        "if False:",
    ),
    Mutant(
        "empty reasoning becomes the pad where the family rejects '' (chat wire)",
        "agent/middleware/chat_wire.py",
        "if contract.empty_to_pad and contract.pad:",
        "if False:",
    ),
    Mutant(
        'signature "" goes only to families that accept it',
        "agent/middleware/policies.py",
        'if rule == "forbidden" and "signature" in block:',
        "if False:",
    ),
    # ------------------------------------------------------------- signatures to Anthropic
    Mutant(
        "a foreign signature is dropped for an Anthropic target",
        "agent/middleware/policies.py",
        "origin = call.foreign_origin(signature, None, i)\n    if origin is not None:\n"
        "        return _unsendable(",
        "origin = call.foreign_origin(signature, None, i)\n    if False:\n"
        "        return _unsendable(",
    ),
    Mutant(
        "unsigned thinking never goes to Anthropic",
        "agent/middleware/policies.py",
        "    if not signature:\n        return _unsendable(",
        "    if False:\n        return _unsendable(",
    ),
    Mutant(
        "a dead signature (its turn restructured) is not sent",
        "agent/middleware/policies.py",
        "    if signature in call.dead:\n        return _unsendable(call, block, "
        "call.dead_reason(signature))",
        "    if False:\n        return _unsendable(call, block, call.dead_reason(signature))",
    ),
    Mutant(
        "a reordered signed turn (thinking no longer first) is not sent as signed",
        "agent/middleware/anthropic_wire.py",
        "        and call.mode.checks_signatures\n        and _first_kind",
        "        and False\n        and _first_kind",
    ),
    Mutant(
        "earlier turns' thinking only to models that keep every turn",
        "agent/middleware/anthropic_wire.py",
        "send_turn = keep_all or i >= latest_start",
        "send_turn = True",
    ),
    Mutant(
        "thinking blocks never carry cache_control",
        "agent/middleware/policies.py",
        '    if "cache_control" in block:\n        removed = ',
        "    if False:\n        removed = ",
    ),
    Mutant(
        "on_missing_loop_thinking=raise raises",
        "agent/middleware/anthropic_wire.py",
        'if policy == "raise":',
        "if False:",
    ),
    # ----------------------------------------------------------------- foreign reasoning
    Mutant(
        "another family's thinking is not replayed (Anthropic wire, foreign=pad)",
        "agent/middleware/policies.py",
        "    origin = call.foreign_origin(signature, text, i)\n    if origin is not None:\n"
        "        return _foreign(call, text, origin)",
        "    origin = call.foreign_origin(signature, text, i)\n    if False:\n"
        "        return _foreign(call, text, origin)",
    ),
    Mutant(
        "another family's reasoning is not replayed (chat wire, foreign=pad)",
        "agent/middleware/chat_wire.py",
        'if origin is None or call.options.foreign == "keep_text":',
        "if True:",
    ),
    Mutant(
        "an unknown target gets what the agent sent minus what is another target's",
        "agent/middleware/policies.py",
        "        return key not in call.dead and call.foreign_origin(key, None) is None",
        "        return key not in call.dead",
    ),
    Mutant(
        "an unknown target gets no signature its turn's restructuring killed",
        "agent/middleware/policies.py",
        "        return key not in call.dead and call.foreign_origin(key, None) is None",
        "        return call.foreign_origin(key, None) is None",
    ),
    Mutant(
        "a strict server gets no reasoning field (chat wire)",
        "agent/middleware/chat_wire.py",
        '    if mode == "drop":\n        return _dropped(call, i, message)',
        "    if False:\n        return _dropped(call, i, message)",
    ),
    Mutant(
        "OpenRouter: reasoning_details holding another model's items are not sent",
        "agent/middleware/chat_carriers.py",
        "reason = _not_sent(call, items)",
        "reason = None",
    ),
    Mutant(
        "Gemini 3: a current-turn step with no known signature gets the bypass value",
        "agent/middleware/chat_carriers.py",
        "elif required and k == first:",
        "elif False:",
    ),
    # ----------------------------------------------------------------------- ToolPairing
    Mutant(
        "orphan removal (Anthropic wire): a tool_use without its result is removed",
        "agent/middleware/tool_pairing.py",
        'if block.get("type") == kind and not _id_in(block.get(key), partner)',
        'if block.get("type") == kind and False',
    ),
    Mutant(
        "orphan removal (chat wire): a tool call without its tool message is removed",
        "agent/middleware/tool_pairing.py",
        'kept = [c for c in calls if isinstance(c, Mapping) and _id_in(c.get("id"), answered)]',
        "kept = list(calls)",
    ),
    Mutant(
        "orphan removal (chat wire): a tool message without its call is removed",
        "agent/middleware/tool_pairing.py",
        'if k < 0 or not _id_in(answer, _partner(history, k, "assistant")):',
        "if False:",
    ),
    Mutant(
        "orphan removal (chat wire): a message left with no tool call and no content goes",
        "agent/middleware/tool_pairing.py",
        'if kept or new.get("content"):',
        "if True:",
    ),
    Mutant(
        "orphan removal (Anthropic wire): a message left empty goes",
        "agent/middleware/tool_pairing.py",
        "        kept = rebuild(content, orphans)\n        if kept:",
        "        kept = rebuild(content, orphans)\n        if True:",
    ),
    Mutant(
        "orphan removal marks the changed turn's signatures dead",
        "agent/middleware/tool_pairing.py",
        '        if role == "assistant":\n            dead.update(',
        "        if False:\n            dead.update(",
    ),
    # -------------------------------------------------------------------------- recover
    Mutant(
        "recover: a rejected signature is remembered",
        "agent/middleware/thinking_round_trip.py",
        "        self._reject(keys)\n        if not keys:",
        "        if not keys:",
    ),
    Mutant(
        "recover: 'must be passed back' in another family's words retries as that family",
        "agent/pipeline.py",
        "family = _learned_family(error, resolved.match.family.name)",
        "family = None",
    ),
    Mutant(
        "recover: never a retry with the very body that was refused",
        "agent/pipeline.py",
        "        if out.body == sent.body:\n            return None",
        "        if False:\n            return None",
    ),
    # -------------------------------------------------------------------------- gateway
    Mutant(
        "gateway: a missing or wrong token is 401",
        "agent/gateway/app.py",
        "if not self.authorized(request, provider.forward_client_key):",
        "if False:",
        (RULES,),
    ),
    Mutant(
        "gateway: a declared Content-Length over the limit is 413 before the body is read",
        "agent/gateway/app.py",
        "if declared is not None and declared.isdigit() and int(declared) > limit:",
        "if False:",
        (RULES,),
    ),
    Mutant(
        "gateway: a body over the limit is 413 as it is read (chunked, no Content-Length)",
        "agent/gateway/reading.py",
        "        if size > limit:\n            return None",
        "        if False:\n            return None",
        (RULES,),
    ),
    Mutant(
        "gateway: /health names no provider to a caller without a token when tokens are set",
        "agent/gateway/app.py",
        "if not self.authorized(request, False):  # (the names say who holds its keys)",
        "if False:",
        (RULES,),
    ),
    Mutant(
        "gateway: the client's key never goes upstream unless the provider forwards it",
        "agent/gateway/routing.py",
        "dropped = {TOKEN_HEADER} if provider.forward_client_key else {TOKEN_HEADER, *CLIENT_KEYS}",
        "dropped = {TOKEN_HEADER}",
        (RULES, "tests/test_gateway.py::TestKeys"),
    ),
    Mutant(
        "gateway: a client that leaves a stream ends the upstream call",
        "agent/gateway/relay.py",
        "        left.add_done_callback(lambda done: _stop(done, sending, sent))",
        "        pass",
        ("tests/test_gateway_hostile.py::TestClientGone",),
    ),
    Mutant(
        "gateway: the decisions counted are the ones explain gives (the common case counted)",
        "agent/middleware/policies.py",
        "            tally.count(_UNSIGNED, rewritten)",
        "            tally.count(_KEPT, rewritten)",
        ("tests/test_corpus.py::test_request", "tests/test_properties.py"),
    ),
    Mutant(
        "gateway: a resent history's new messages are read where they are",
        "agent/integrations/resent.py",
        "    shift = p - (entry.at + 1)",
        "    shift = p - entry.at",
        ("tests/test_resent.py",),
    ),
    Mutant(
        "gateway: only the body's own history is read as one read before",
        "agent/integrations/resent.py",
        "if not isinstance(top, dict) or top.get(key) != [] or too_deep(top):",
        "if not isinstance(top, dict) or too_deep(top):",
        ("tests/test_resent.py",),
    ),
    Mutant(
        "gateway: what one client sent is never read faster for another",
        "agent/integrations/resent.py",
        "            if entry.scope != tag or entry.key != key:",
        "            if entry.key != key:",
        ("tests/test_resent.py",),
    ),
    Mutant(
        "gateway: a long history edited early is not scanned for nothing",
        "agent/integrations/resent.py",
        "continue  # (edited before its last MB: not worth a scan to find out where)",
        "pass",
        ("tests/test_resent.py",),
    ),
    Mutant(
        "gateway: a spliced body holds each unchanged message's bytes whole",
        "agent/integrations/spliced.py",
        "view[bound[0] : bound[1]])",
        "view[bound[0] : bound[1] - 1])",
        ("tests/test_resent.py",),
    ),
    Mutant(
        "gateway: a spliced body takes the client's bytes only for the very message they are",
        "agent/integrations/spliced.py",
        "return [b if m is o else None for m, o, b in zip(messages, out, bounds, strict=True)]",
        "return list(bounds)",
        ("tests/test_resent.py",),
    ),
    Mutant(
        "gateway: a resent history's facts go on from where the walk of the one before ended",
        "agent/history.py",
        "        _facts_anthropic(h, start, walk[2:])",
        "        _facts_anthropic(h, start, (-1, -1, None))",
        ("tests/test_history_grown.py", "tests/test_resent.py"),
    ),
    # ------------------------------------------- the settled call: only what the chain leaves
    Mutant(
        "settled: a tool call without its results in the next message is the chain's",
        "agent/middleware/settled.py",
        "            if results != pending:",
        "            if False:",
        ("tests/test_settled.py",),
    ),
    Mutant(
        "settled: a signature observed at a target it does not verify at is the chain's",
        "agent/middleware/settled.py",
        "                    if not options.trusts(origin, match):",
        "                    if False:",
        ("tests/test_settled.py",),
    ),
    Mutant(
        "settled: a target that keeps only the latest turn's thinking is the chain's",
        "agent/middleware/settled.py",
        "    if not contract.keeps_all_turns(match.model):",
        "    if False:",
        ("tests/test_settled.py",),
    ),
    Mutant(
        "gateway: a resent history's facts are reused only for the very messages they are of",
        "agent/history.py",
        "        or not all(map(operator.is_, messages, before.messages))",
        "        or len(messages) < 0",
        ("tests/test_history_grown.py", "tests/test_resent.py"),
    ),
)
