"""``python -m agent serve``: the pipeline as an HTTP gateway, for agents nobody can change.

Point an agent's base URL at ``http://127.0.0.1:8787/{provider}`` (Anthropic SDKs) or
``http://127.0.0.1:8787/{provider}/v1`` (OpenAI SDKs): each request goes to the configured
provider's ``base_url`` with its key, after the provider's chain. Upstream URLs follow each
SDK's convention: Messages go to ``{base_url}/v1/messages`` (a base URL without ``/v1``, like the
anthropic SDK's), Chat Completions and Responses to ``{base_url}/chat/completions`` (a base URL
with ``/v1``, like the openai SDK's). The pipeline runs in ``AsyncPipelineTransport``, so a stream
is passed on chunk by chunk and observed as it passes, a plain answer is observed, and a
classified thinking error is retried once; provider errors reach the client unchanged.

Bounded by construction: every byte held (a request, its head, a plain answer, a decoded or
observed stream) and every second waited (a head, an upstream call, a silent stream) has a
configured ceiling (``gateway:`` in the config). Its parts: ``routing`` (paths, headers,
credentials), ``app`` (the ASGI app), ``access`` (one JSON line per request), ``metrics``
(Prometheus), ``protocol`` (limits on a request's head), ``server`` (Uvicorn, workers).

Starlette (routing, streaming responses) on Uvicorn (an ASGI server) because both are small,
maintained and what the Python ecosystem's own gateways use; upstream calls go through
``httpx2``, the SDKs' HTTP layer. Needs the ``gateway`` extra.
"""

import starlette  # noqa: F401  (without the gateway extra this fails first, naming it)
import uvicorn  # noqa: F401

from agent.gateway.app import Gateway, build_app
from agent.gateway.routing import accepted_codings, end_to_end, upstream_url
from agent.gateway.server import (
    CONFIG_ENV,
    app_from_environment,
    banner,
    check_binding,
    check_workers,
    serve,
    uvicorn_options,
)

__all__ = [
    "CONFIG_ENV",
    "Gateway",
    "accepted_codings",
    "app_from_environment",
    "banner",
    "build_app",
    "check_binding",
    "check_workers",
    "end_to_end",
    "serve",
    "upstream_url",
    "uvicorn_options",
]
