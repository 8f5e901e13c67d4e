"""Real redis-server processes for the store tests, on 127.0.0.1: a single one on its own TCP
port (one a test may freeze with SIGSTOP), and a three-node Redis Cluster made with
``redis-cli --cluster create``. Skipped, saying why, where redis-server or the redis package
is missing (.ci/run installs both)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: No snapshots, no append-only file: a test's Redis keeps nothing on disk.
_QUIET = ("--save", "", "--appendonly", "no")
#: Three masters, no replicas, no question asked.
_CREATE = ("--cluster-replicas", "0", "--cluster-yes")


def _binary(name: str) -> str:
    pytest.importorskip("redis", reason="the redis package is not installed (agent[redis])")
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed here (.ci/run installs it)")
    return found


def free_port(also: int = 0) -> int:
    """A free TCP port on 127.0.0.1 (and, with ``also``, one whose port + ``also`` is free
    too: a cluster node listens for its peers 10000 above its port)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if not also:
            return port
        if port + also > 65535:
            continue
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + also))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


def _wait(port: int, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server on {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"redis-server on {port} did not start")


@contextlib.contextmanager
def redis_server(folder: Path, *options: str) -> Iterator[tuple[int, subprocess.Popen[Any]]]:
    """A redis-server on a free 127.0.0.1 port: (port, process)."""
    server = _binary("redis-server")
    cluster = "--cluster-enabled" in options
    port = free_port(10000 if cluster else 0)
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", *_QUIET, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
    )
    try:
        _wait(port, process)
        yield port, process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a frozen one must hear the TERM
            process.terminate()
            process.wait(timeout=10)


@contextlib.contextmanager
def redis_cluster(folder: Path) -> Iterator[list[int]]:
    """Three ``--cluster-enabled`` redis-servers joined by ``redis-cli --cluster create``
    (no replicas): their ports, once the cluster says ``cluster_state:ok``."""
    cli = _binary("redis-cli")
    with contextlib.ExitStack() as stack:
        ports = [
            stack.enter_context(
                redis_server(
                    folder / f"node{n}",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                )
            )[0]
            for n in range(3)
        ]
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), *_CREATE],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = [
                subprocess.run(
                    [cli, "-p", str(p), "cluster", "info"], capture_output=True, text=True
                ).stdout
                for p in ports
            ]
            if all("cluster_state:ok" in s for s in states):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the cluster did not come up")
        yield ports
