"""Closing what a test opens: a client's connections go when the test is done with it, so no
socket outlives its test (pytest runs with ResourceWarning as an error: see pyproject.toml)."""

from __future__ import annotations

from typing import Any


def close_chat_model(llm: Any) -> None:
    """Close the sync clients a LangChain chat model made (``ChatOpenAI``'s root client,
    ``ChatAnthropic``'s client once it was made); a sync call made no async connection."""
    root = getattr(llm, "root_client", None)
    if root is not None:
        root.close()
    made = vars(llm).get("_client")  # (a cached property: made only when it was used)
    if made is not None:
        made.close()


async def run_closing(agent: Any, model: Any, prompt: str = "go") -> Any:
    """A pydantic-ai agent's run on its model, the model's client closed after it (on the
    event loop its connections were made on)."""
    try:
        return await agent.run(prompt)
    finally:
        await model.client.close()
