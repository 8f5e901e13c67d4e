"""The agent-side copy of an agent's own config: every served provider pointing at the gateway.

One file for both sides: ``serve --config ~/.hermes/config.yaml --agent-config FILE`` serves
the providers of the agent's own config (their real URLs and keys) and writes FILE, the same
config in which each provider's URL (``base_url``, or hermes' ``url`` / ``api``) is the
gateway's URL for it, ``http://HOST:PORT/NAME`` (``.../NAME/v1`` on the OpenAI wires, as the
openai SDK wants), and every other URL of the file that named a provider's (hermes'
``model.base_url``, say) follows. With ``gateway.tokens`` the agent must present a token: each
provider that does not forward the client's key gets ``api_key`` set to the first token as
written in the config (a ``${VAR}`` stays a reference) in place of its own key settings.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from agent.config import Config
from agent.config.parse import parse
from agent.errors import ConfigError

#: The keys a provider entry may give its URL under (ours, then hermes').
URL_KEYS = ("base_url", "url", "api")
#: The keys a provider entry may give its key under; replaced by the gateway token.
KEY_KEYS = ("api_key", "api_key_env", "key_env")
_OPENAI_WIRES = ("chat_completions", "responses")


def gateway_url(host: str, port: int) -> str:
    """The URL an agent reaches the gateway at (a wildcard bind is reached on loopback)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def provider_urls(config: Config, url: str) -> dict[str, str]:
    """Each provider's URL at the gateway ``url``."""
    return {
        name: f"{url}/{quote(name, safe='')}" + ("/v1" if p.api_mode in _OPENAI_WIRES else "")
        for name, p in config.providers.items()
    }


def refuse_loop(config: Config, url: str) -> None:
    """A provider whose base URL is the gateway itself would call itself: refused by name."""
    gateway = _endpoint(url)
    for provider in config.providers.values():
        if provider.base_url is not None and _endpoint(provider.base_url) == gateway:
            raise ConfigError(
                config.path,
                f"its base URL is this gateway ({url}), so serving it would call itself: serve "
                "the agent's original config (the written copy is for the agent)",
                entry=provider.where,
            )


def _endpoint(url: str) -> tuple[str, int | None] | None:
    """(host, port) a URL reaches, loopback names as one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    return ("loopback" if host in ("localhost", "127.0.0.1", "::1") else host, port)


def write_agent_config(config: Config, url: str, path: str | os.PathLike[str]) -> Path:
    """Write the agent-side copy of ``config`` (a YAML file) for the gateway at ``url``, as
    ``path`` (0600: it keeps the keys the original holds); return where it went."""
    source, target = Path(config.path), Path(path)
    if source.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(config.path, "--agent-config writes a copy of a YAML config only")
    if target.resolve() == source.resolve():
        raise ConfigError(
            str(target), "--agent-config must not overwrite --config (the gateway reads it)"
        )
    data, _ = parse(source)
    if not isinstance(data, dict):
        raise ConfigError(config.path, "expected a mapping at the top level")
    urls = provider_urls(config, url)
    token = _token(data)
    moved: dict[str, str] = {}
    for name, entry in _entries(data):
        if name not in config.providers:
            continue  # disabled, or not this library's
        provider = config.providers[name]
        for key in URL_KEYS:
            if isinstance(entry.get(key), str):
                moved[entry[key]] = urls[name]
                entry[key] = urls[name]
        if provider.base_url is None:
            entry["base_url"] = urls[name]
        if token is not None and not provider.forward_client_key:
            for key in KEY_KEYS:
                entry.pop(key, None)
            entry["api_key"] = token
    _follow(data, moved, set(map(id, (e for _, e in _entries(data)))))
    header = (
        f"# Written by thinking-round-trip serve from {source.name}: every provider calls the "
        f"gateway at {url}.\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    _write(target, text)
    return target


def _entries(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, entry) of every provider entry of ``providers:`` and ``custom_providers:``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for section in ("providers", "custom_providers"):
        value = data.get(section)
        if isinstance(value, dict):
            found += [(str(k), v) for k, v in value.items() if isinstance(v, dict)]
        elif isinstance(value, list):
            found += [(str(v.get("name")), v) for v in value if isinstance(v, dict)]
    return found


def _token(data: Mapping[str, Any]) -> str | None:
    """The first gateway token as the config writes it (None without tokens)."""
    gateway = data.get("gateway")
    tokens = gateway.get("tokens") if isinstance(gateway, dict) else None
    return tokens[0] if isinstance(tokens, list) and tokens and isinstance(tokens[0], str) else None


def _follow(node: Any, moved: Mapping[str, str], skip: set[int]) -> None:
    """Every other URL of the file that named a provider's (``model.base_url``) follows it."""
    if isinstance(node, dict):
        if id(node) not in skip:
            for key in URL_KEYS:
                if isinstance(node.get(key), str) and node[key] in moved:
                    node[key] = moved[node[key]]
        for value in node.values():
            _follow(value, moved, skip)
    elif isinstance(node, list):
        for value in node:
            _follow(value, moved, skip)


def _write(target: Path, text: str) -> None:
    """Write atomically, readable by its owner only."""
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.resolve().parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise ConfigError(str(target), f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
