"""``preserve_reasoning``: the host's own switch that makes it keep earlier reasoning.

Sending reasoning back is only half of it on some hosts: Kimi k2.6 ignores earlier reasoning
unless ``thinking.keep`` is ``"all"``, DashScope unless ``preserve_thinking``, Z.ai's API
clears it unless ``clear_thinking`` is false, Fireworks keeps it per ``reasoning_history``,
OpenRouter (GPT-5.6 and newer) per ``reasoning.context``: the tokens are billed and
discarded (justrach/codegraff #323). With the option on, the switch of the request's host
dialect is merged into the body, never over a value the agent set and never for a model
that refuses it; explain says so.
"""

from __future__ import annotations

from attrs import evolve

from agent.explain import Action, Notes
from agent.families.dialects import merged
from agent.request import Request


def preserved(request: Request, notes: Notes) -> Request:
    """``request`` with its host's preservation switch set (the same object when there is
    none, the model refuses it, or the agent set it already)."""
    match = request.match
    switch = match.dialect.switch_for(match.model)
    if switch is None:
        return request
    body = merged(request.body, switch)
    if body is request.body:
        return request
    for key in switch:
        if body.get(key) is not request.body.get(key):
            notes.add(
                key,
                Action.CONVERTED,
                "set {} (preserve_reasoning: host dialect {} keeps earlier reasoning only "
                "with it; {})",
                body[key],
                match.dialect.name,
                match.dialect.why,
            )
    return evolve(request, body=body, resolved=match)
