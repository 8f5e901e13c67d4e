"""Where a client request goes: its path checked and normalised, the provider's upstream URL
(never outside the provider's base path), and the headers and query that go on (the client's
credentials only where the provider forwards them)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

import httpx2

from agent.config import ProviderConfig
from agent.integrations._tee import decodable
from agent.integrations.resent import scope_of
from agent.wire import OFFICIAL_HOSTS, host_of

#: Headers that belong to one hop, never forwarded (RFC 9110 §7.6.1), plus the ones the
#: gateway sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
#: Every header a client may carry a credential in (the SDKs': Anthropic, OpenAI and Azure,
#: Gemini, Bedrock's session token; cookies): for the gateway, never for the provider
#: unless the provider says ``forward_client_key``.
CLIENT_KEYS = frozenset(
    {"authorization", "x-api-key", "api-key", "x-goog-api-key", "x-amz-security-token", "cookie"}
)
#: Query parameters that carry a credential (Gemini's ``?key=``, and the usual others).
CLIENT_KEY_PARAMS = frozenset(
    {"key", "api_key", "api-key", "apikey", "access_token", "x-api-key", "x-goog-api-key"}
)
#: Where a client presents a gateway token when its own key goes upstream; never forwarded.
TOKEN_HEADER = "x-gateway-token"
_DECODABLE = decodable() & {"gzip", "x-gzip", "deflate", "identity"}  # bounded exactly
#: Percent-escapes a path may not carry: a slash or backslash (a segment that turns into
#: two) and control characters.
_FORBIDDEN = re.compile(rb"%(2f|5c|[01][0-9a-f]|7f)", re.IGNORECASE)


class BadPath(ValueError):
    """A request path the gateway refuses (400), with why."""


def checked_path(raw: bytes) -> list[str]:
    """The segments of a raw request path (still percent-encoded), empty ones dropped but a
    trailing one kept; ``BadPath`` for a path with control characters, a backslash, an
    encoded slash, or a ``.`` / ``..`` segment."""
    if not raw.startswith(b"/"):
        raise BadPath("the path must start with /")
    if any(b < 0x20 or b == 0x7F for b in raw) or _FORBIDDEN.search(raw):
        raise BadPath("control characters and encoded slashes are not allowed in the path")
    if b"\\" in raw:
        raise BadPath("backslashes are not allowed in the path")
    parts = raw[1:].split(b"/")
    segments = [p for p in parts[:-1] if p] + [parts[-1]]
    if any(unquote_to_bytes(s) in (b".", b"..") for s in segments):
        raise BadPath("'.' and '..' segments are not allowed in the path")
    try:
        return [s.decode("ascii") for s in segments]
    except UnicodeDecodeError:
        raise BadPath("the path must be ASCII (percent-encode the rest)") from None


def end_to_end(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers that go on to the next hop (lower-cased names): not the hop-by-hop ones,
    nor any a ``Connection`` header names (RFC 9110 §7.6.1)."""
    items = [(k.lower(), v) for k, v in headers]
    named = {token.strip().lower() for k, v in items if k == "connection" for token in v.split(",")}
    return {k: v for k, v in items if k not in HOP_BY_HOP and k not in named}


def base_of(provider: ProviderConfig) -> str:
    """The provider's base URL as the gateway sends to it (no trailing slash)."""
    base = (provider.base_url or f"https://{OFFICIAL_HOSTS[provider.api_mode]}").rstrip("/")
    if provider.base_url is None and provider.api_mode in ("chat_completions", "responses"):
        base += "/v1"
    return base


def upstream_url(provider: ProviderConfig, path: str, query: str) -> str:
    """Where a client path goes: Messages under ``{base_url}/v1/...`` (anthropic SDK
    convention), the OpenAI wires under ``{base_url}/...`` with the client's ``v1/`` dropped
    (openai SDK convention: the base URL carries ``/v1``). ``BadPath`` if it would leave the
    base URL's path."""
    base = base_of(provider)
    path = path.lstrip("/")
    if provider.api_mode in ("chat_completions", "responses") and path.startswith("v1/"):
        path = path[3:]  # (Gemini and Bedrock paths go on as the client wrote them)
    url = f"{base}/{path}" + (f"?{query}" if query else "")
    root = httpx2.URL(base).path.rstrip("/")
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL:
        raise BadPath("the path does not make a valid upstream URL") from None
    if not (parsed.path == root or parsed.path.startswith(f"{root}/")):
        raise BadPath("the path leaves the provider's base URL")
    return url


def kept_query(query: bytes, forward_keys: bool) -> str:
    """The client's query string as it goes on: without credential parameters unless the
    provider forwards the client's key."""
    text = query.decode("latin-1")
    if forward_keys or not text:
        return text
    kept = [
        part
        for part in text.split("&")
        if unquote_to_bytes(part.split("=", 1)[0]).decode("latin-1").lower()
        not in CLIENT_KEY_PARAMS
    ]
    return "&".join(p for p in kept if p)


def masked_query(query: bytes) -> str:
    """A query string for a log line: every value masked (names kept, bounded)."""
    if not query:
        return ""
    names = [part.split(b"=", 1)[0][:64].decode("latin-1") for part in query.split(b"&")[:32]]
    return "?" + "&".join(f"{name}=*" for name in names if name)


def client_scope(headers: Iterable[tuple[str, str]]) -> str:
    """What tells one client from another: its credentials (the gateway token, its keys) as
    it sent them (for what the gateway keeps per client; never shown)."""
    return scope_of(headers, _SCOPED)


_SCOPED = CLIENT_KEYS | {TOKEN_HEADER}


def upstream_headers(
    headers: Iterable[tuple[str, str]], provider: ProviderConfig
) -> dict[str, str]:
    """The client's headers, minus hop-by-hop ones and the gateway token; the client's
    credentials only where the provider forwards them, else the provider's key."""
    dropped = {TOKEN_HEADER} if provider.forward_client_key else {TOKEN_HEADER, *CLIENT_KEYS}
    kept = {k: v for k, v in end_to_end(headers).items() if k not in dropped}
    if "accept-encoding" in kept:
        kept["accept-encoding"] = accepted_codings(kept["accept-encoding"])
    if provider.forward_client_key and CLIENT_KEYS & kept.keys():
        return kept
    if provider.api_key:
        header = key_header(provider)
        kept[header] = (
            provider.api_key if header != "authorization" else f"Bearer {provider.api_key}"
        )
    return kept


#: Azure OpenAI's hosts: an API key goes in ``api-key``; ``Authorization: Bearer`` is for
#: Entra ID tokens (JWTs). https://learn.microsoft.com/azure/ai-foundry/openai/reference
_AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


def key_header(provider: ProviderConfig) -> str:
    """The header the provider's ``api_key`` goes in: ``x-api-key`` on the Messages wire; a
    Google API key (``AIza...``) on Gemini's own wire in ``x-goog-api-key`` (a Bearer token
    there is an OAuth token, https://ai.google.dev/api#authentication); an API key on Azure
    OpenAI in ``api-key``; anything else, an OAuth or Entra ID token (a JWT, ``eyJ...``)
    included, as ``Authorization: Bearer``, as before."""
    key = provider.api_key or ""
    if provider.api_mode == "anthropic_messages":
        return "x-api-key"
    if provider.api_mode == "gemini" and key.startswith("AIza"):
        return "x-goog-api-key"
    azure = provider.base_url and host_of(provider.base_url, provider.api_mode).endswith(
        _AZURE_HOSTS
    )
    if azure and not key.startswith("eyJ"):
        return "api-key"
    return "authorization"


def accepted_codings(accept_encoding: str) -> str:
    """The client's Accept-Encoding cut to the codings the gateway decodes within exact
    bounds (gzip, deflate): the answer still reaches the client as upstream sent it (in a
    coding the client accepts), and the gateway can read a compressed answer to observe
    it."""
    kept = [
        part.strip()
        for part in accept_encoding.split(",")
        if part.split(";")[0].strip().lower() in _DECODABLE
    ]
    return ", ".join(kept) or "identity"
