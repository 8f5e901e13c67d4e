"""Recorder: a middleware that records every request it sees, for tests of your own chains."""

from __future__ import annotations

from attrs import field, frozen

from agent.request import Request


@frozen
class Recorder:
    """A middleware that records every request it sees and passes it on unchanged.

    Put it anywhere in a chain (``Pipeline([..., Recorder()])``) and assert on
    ``recorder.requests`` or ``recorder.bodies`` afterwards.

    Attributes:
        requests: the requests seen, oldest first.
    """

    requests: list[Request] = field(factory=list)

    def __call__(self, request: Request) -> Request:
        """Record ``request`` and return it as it is."""
        self.requests.append(request)
        return request

    @property
    def bodies(self) -> list[dict[str, object]]:
        """The bodies seen, as plain dicts."""
        return [dict(r.body) for r in self.requests]

    @property
    def last(self) -> Request:
        """The most recent request; raises LookupError when none was seen."""
        if not self.requests:
            raise LookupError("the recorder has seen no request yet")
        return self.requests[-1]

    def clear(self) -> None:
        """Forget what was recorded."""
        self.requests.clear()
