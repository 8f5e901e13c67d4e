"""The transport: the pipeline inside any client built on the SDKs' HTTP layer (httpx2).

Here the openai SDK's client on Kimi's Chat Completions wire, with an ``httpx2.Client`` whose
transport is ``PipelineTransport``: it runs the pipeline on every chat, Messages, Responses,
Gemini or Bedrock call the client makes (and passes anything else through), learns the
provider's base URL from each request, observes each answer, and retries a classified
thinking error once. The agent keeps only each answer's content and tool calls; Kimi wants the
reasoning of every tool-call turn back, and gets it.

Runs against the bundled Kimi emulator; EXAMPLE_BASE_URL, EXAMPLE_API_KEY and EXAMPLE_MODEL
send it to a real provider on the Chat Completions wire instead (see _upstream.py).
"""

import httpx2
import openai
from _upstream import chat_agent, upstream

from agent import Pipeline
from agent.integrations.transport import PipelineTransport
from agent.middleware import ThinkingRoundTrip, ToolPairing


def main() -> None:
    with upstream("kimi", "kimi-k2.6", openai_wire=True) as provider:
        pipe = Pipeline([ToolPairing(), ThinkingRoundTrip()])
        client = openai.OpenAI(
            base_url=provider.base_url,
            api_key=provider.api_key,
            http_client=httpx2.Client(transport=PipelineTransport(pipe)),
        )
        print(f"{provider.model} through the openai SDK on PipelineTransport:")
        answer = chat_agent(client, provider.model)
        print(f"completed: {answer!r}; {provider.report()}")


if __name__ == "__main__":
    main()
