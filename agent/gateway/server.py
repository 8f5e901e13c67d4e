"""Running the gateway: checks before it starts, the start-up banner, Uvicorn with the
guarded protocol, and worker processes that exit when their supervisor dies."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from agent.config import Config
from agent.gateway.app import build_app
from agent.gateway.metrics import MULTIPROCESS_ENV
from agent.wire import safe_url

#: Where ``serve`` tells its worker processes which config to load, and who supervises them.
CONFIG_ENV = "AGENT_GATEWAY_CONFIG"
SUPERVISOR_ENV = "AGENT_GATEWAY_SUPERVISOR"
#: The metrics folder ``serve`` made for its workers (and removes at its exit).
OWN_METRICS_ENV = "AGENT_GATEWAY_METRICS_FOLDER"
_PR_SET_PDEATHSIG = 1
#: glibc's ``mallopt`` parameters, and the largest mmap threshold it takes (64-bit).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_MAX = 32 * 1024 * 1024


def check_binding(config: Config, host: str) -> str | None:
    """Why the gateway must not start on ``host`` (None when it may)."""
    if host in ("127.0.0.1", "localhost", "::1") or config.gateway.tokens:
        return None
    return (
        f"binding {host} exposes the providers' keys to the network: set gateway.tokens in "
        "the config (clients present one as their api key)"
    )


def check_workers(config: Config, workers: int) -> str | None:
    """Why the gateway must not start ``workers`` processes (None when it may)."""
    if workers < 1:
        return "--workers must be 1 or more"
    if workers > 1 and config.store_spec.kind == "memory":
        return (
            f"--workers {workers} with the memory store: each worker would keep its own "
            "thinking, and a conversation continued through another worker could not be "
            "restored; use store: {sqlite: {path: ...}} or {redis: {url: ...}}"
        )
    return None


def banner(config: Config, host: str, port: int, workers: int) -> str:
    """What ``serve`` prints first: per provider, the base URL each kind of client uses;
    then the store, the address and whether tokens are on. No key or password."""
    shown_host = f"[{host}]" if ":" in host else host
    root = f"http://{shown_host}:{port}"
    lines = [f"agent gateway: {len(config.providers)} provider(s)"]
    for name, provider in config.providers.items():
        url = f"{root}/{name}"
        target = safe_url(provider.base_url) or "(official endpoint)"
        lines.append(f"  {name} ({provider.api_mode} -> {target})")
        if provider.api_mode == "anthropic_messages":
            lines.append(f"    Anthropic SDK / Claude Code: ANTHROPIC_BASE_URL={url}")
            lines.append(f"    Vercel AI SDK (@ai-sdk/anthropic): baseURL {url}/v1")
            lines.append(f"    hermes: base_url: {url}   (api_mode: anthropic_messages)")
        elif provider.api_mode in ("chat_completions", "responses"):
            lines.append(f"    OpenAI-style clients: OPENAI_BASE_URL={url}/v1")
            lines.append(f"    hermes: base_url: {url}/v1")
        else:
            lines.append(f"    clients: base URL {url}")
    store = config.store_spec
    where = store.options.get("path") or safe_url(store.options.get("url")) or ""
    tokens = len(config.gateway.tokens)
    lines.append(f"store: {store.kind}{f' ({where})' if where else ''}")
    every = " (every interface)" if host in ("0.0.0.0", "::") else ""
    lines.append(f"listening on {root}{every}, {workers} worker(s)")
    lines.append(f"tokens: {f'on ({tokens})' if tokens else 'off (loopback only)'}")
    if config.gateway.metrics:
        lines.append(f"metrics: {root}/metrics")
    if not guarded():
        lines.append(
            "warning: httptools is not installed, so Uvicorn's h11 parser reads request heads: "
            "only gateway.max_header_bytes holds (not header_timeout, not max_headers); "
            "install the gateway extra"
        )
    return "\n".join(lines)


def guarded() -> bool:
    """Whether request heads go through the guarded protocol (it is httptools')."""
    return importlib.util.find_spec("httptools") is not None


def uvicorn_options(config: Config) -> dict[str, Any]:
    """Uvicorn's settings for the gateway: the guarded protocol, no access log of its own,
    the drain period on SIGTERM."""
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": math.ceil(config.gateway.drain_timeout),
    }
    if guarded():
        options["http"] = "agent.gateway.protocol:GuardedProtocol"
    else:  # h11: its own limit on a request head, in bytes (the banner warns)
        options["http"] = "h11"
        options["h11_max_incomplete_event_size"] = config.gateway.max_header_bytes
    return options


def die_with_parent(parent: int) -> None:
    """Make this worker process stop (SIGTERM: it drains, then exits) when ``parent``, its
    supervisor, dies, even by ``kill -9``: the kernel's parent-death signal on Linux, and a
    watchdog on the parent's id everywhere."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, name="supervisor-watchdog", daemon=True).start()


def _leave_metrics(supervisor: int) -> None:
    """When a worker stops after its supervisor died (``kill -9``: the supervisor's own
    cleanup never ran), its files leave the shared metrics folder ``serve`` made, and the
    last worker out removes the folder (else it stays in the temporary folder for good).
    Run at the end of the worker's lifespan: Uvicorn ends the process by raising SIGTERM
    again, so an ``atexit`` would never run."""
    folder = os.environ.get(OWN_METRICS_ENV)
    if not folder or os.getppid() == supervisor:
        return  # (the supervisor removes it at its exit)
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            if name.endswith(f"_{os.getpid()}.db"):
                os.unlink(os.path.join(folder, name))
        os.rmdir(folder)  # (only once empty: the other workers' files are theirs to remove)


def keep_free_memory(size: int) -> bool:
    """Let this process keep up to ``size`` bytes of freed memory for reuse rather than hand
    it back to the system (``gateway.keep_free_bytes``); True when glibc took it.

    A long history is a few MB read, decoded and freed on every call. glibc gives freed memory
    back once more than twice its last large block is free at the top, so the next call often
    takes the same pages fresh from the kernel (a page fault each 4 KB). Set here, the trim
    threshold is ``size`` and the mmap threshold half of it (32 MB at most): glibc's own rule
    from the start, up to its ceiling. Linux with glibc only; elsewhere (musl, macOS) nothing
    changes."""
    if size <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    size = min(size, 2**31 - 1)
    mmap = min(size // 2, _MMAP_MAX)
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(mallopt(_M_TRIM_THRESHOLD, size))


def app_from_environment() -> Any:
    """The app of the config named in ``AGENT_GATEWAY_CONFIG`` (each worker loads it)."""
    from agent.config import load_config

    supervisor = os.environ.get(SUPERVISOR_ENV)
    on_exit = None
    if supervisor and supervisor.isdigit():
        die_with_parent(int(supervisor))
        on_exit = functools.partial(_leave_metrics, int(supervisor))
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # a fresh process
    config = load_config(os.environ[CONFIG_ENV])
    keep_free_memory(config.gateway.keep_free_bytes)
    return build_app(config, on_exit)


def serve(
    config: Config,
    host: str = "127.0.0.1",
    port: int = 8787,
    workers: int = 1,
    out: TextIO | None = None,
) -> None:
    """Run the gateway (blocking) with Uvicorn; with ``workers`` > 1, that many processes on
    one port, sharing the config's store (SQLite or Redis)."""
    import uvicorn

    print(banner(config, host, port, workers), file=out or sys.stdout, flush=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = uvicorn_options(config)
    if workers == 1:
        keep_free_memory(config.gateway.keep_free_bytes)
        uvicorn.run(build_app(config), host=host, port=port, **options)
        return
    os.environ[CONFIG_ENV] = str(Path(config.path).resolve())
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    with _shared_metrics(config.gateway.metrics):
        uvicorn.run(
            "agent.gateway:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **options,
        )


@contextlib.contextmanager
def _shared_metrics(on: bool) -> Iterator[None]:
    """Workers that count into one folder (prometheus-client's multiprocess mode), so a
    scrape of any worker answers for all; the folder is removed at exit."""
    if not on or os.environ.get(MULTIPROCESS_ENV):
        yield
        return
    folder = tempfile.mkdtemp(prefix="agent-gateway-metrics-")
    os.environ[MULTIPROCESS_ENV] = os.environ[OWN_METRICS_ENV] = folder
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for name in (MULTIPROCESS_ENV, OWN_METRICS_ENV):
            os.environ.pop(name, None)
