"""The pipeline transports work inside ``httpx2`` clients only; an ``httpx`` object looks
alike until it fails deep inside with a bare AssertionError, so it is refused by name."""

from __future__ import annotations

#: What to use instead of an httpx client, for a request that came from one.
CLIENT = (
    "{client}(transport=...) (the HTTP client the anthropic and openai SDKs are built on), "
    "not an httpx client"
)


def expect(value: object, kind: type, name: str, instead: str) -> None:
    """A TypeError naming httpx2 when ``value`` (not None) is not a ``kind``."""
    if value is None or isinstance(value, kind):
        return
    given = f"{type(value).__module__.split('.')[0]}.{type(value).__name__}"
    raise TypeError(
        f"{name}: the pipeline transports are httpx2 transports and got {given}; use {instead}"
    )
