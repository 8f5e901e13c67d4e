"""Built-in middleware: ThinkingRoundTrip (the reasoning round trip) and ToolPairing."""

from agent.middleware.thinking_round_trip import ThinkingRoundTrip
from agent.middleware.tool_pairing import ToolPairing

__all__ = ["ThinkingRoundTrip", "ToolPairing"]
