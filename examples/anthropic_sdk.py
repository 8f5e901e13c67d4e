"""One line in the anthropic SDK: the pipeline as the client's middleware.

An agent calls mimo-v2.5-pro behind an Anthropic-compatible relay and, like many agents,
keeps only the text and tool calls of each answer. MiMo wants the thinking of every tool-call
turn back: without the pipeline its second call is an HTTP 400 ("The reasoning_content in the
thinking mode must be passed back to the API."). With the pipeline installed, each turn's own
thinking (observed when it came) goes back, and the tool loop completes.

Runs against the bundled MiMo emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL
send it to a real provider on the Anthropic wire instead (see _upstream.py).
"""

import anthropic
from _upstream import anthropic_agent, upstream

from agent import Pipeline
from agent.integrations.anthropic import PipelineMiddleware
from agent.middleware import ThinkingRoundTrip, ToolPairing


def main() -> None:
    with upstream("mimo", "mimo-v2.5-pro") as provider:
        # --8<-- [start:client]
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        client = anthropic.Anthropic(
            base_url=provider.base_url,
            api_key=provider.api_key,
            middleware=[PipelineMiddleware(pipe, base_url=provider.base_url)],  # the one line
        )
        # --8<-- [end:client]
        print(f"{provider.model} through the anthropic SDK with the pipeline installed:")
        answer = anthropic_agent(client, provider.model)
        print(f"completed: {answer!r}; {provider.report()}")


if __name__ == "__main__":
    main()
