"""``gateway.keep_free_bytes``: a gateway worker keeps freed memory for reuse, so a long
history read on every call does not take its pages fresh from the kernel each time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent import ConfigError, load_config
from agent.cli import main
from agent.gateway import server

GLIBC = sys.platform.startswith("linux") and bool(
    getattr(os, "confstr", lambda _: None)("CS_GNU_LIBC_VERSION")
)

#: Frees a 20 MB block, then takes one again: how many fresh pages the second one takes.
_REUSE = """
import resource, sys
from agent.gateway.server import keep_free_memory
size = int(sys.argv[1])
print(keep_free_memory(size))
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = b"a" * 20_000_000
del block
before = faults()
block = b"b" * 20_000_000
print(faults() - before)
"""


def _second_block(size: int) -> tuple[str, int]:
    # glibc's own rule, whatever this environment tunes (GLIBC_TUNABLES, MALLOC_*_)
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and "MALLOC_" not in k}
    out = subprocess.run(
        [sys.executable, "-c", _REUSE, str(size)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's (Linux)")
class TestReuse:
    def test_freed_memory_is_taken_again_without_fresh_pages(self) -> None:
        """With the setting, a 20 MB block freed and taken again costs almost no page faults;
        with glibc's own rule it costs one per 4 KB page (about 4,900)."""
        kept, faults = _second_block(64_000_000)
        default, fresh = _second_block(0)

        assert ("True", "False") == (kept, default)
        assert faults < 500
        assert fresh > 2_000


class TestGatewayUsesIt:
    def _config(self, tmp_path: Path, extra: str = "") -> Path:
        path = tmp_path / "g.yaml"
        path.write_text(
            f"{extra}providers:\n"
            "  p: {base_url: 'https://x.example', api_mode: anthropic_messages}\n"
        )
        return path

    def test_serve_sets_it_from_the_config(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``serve`` (one worker) and each worker of ``--workers N`` set the configured size
        (64 MB by default) before the first request."""
        import uvicorn

        asked: list[int] = []
        monkeypatch.setattr(server, "keep_free_memory", asked.append)
        monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
        path = self._config(tmp_path)

        assert 0 == main(["serve", "--config", str(path), "--port", "9999"])
        monkeypatch.delenv(server.SUPERVISOR_ENV, raising=False)  # (no watchdog in here)
        monkeypatch.setenv(
            server.CONFIG_ENV, str(self._config(tmp_path, "gateway: {keep_free_bytes: 0}\n"))
        )
        server.app_from_environment()

        assert [64_000_000, 0] == asked

    @pytest.mark.parametrize("bad", [-1, 1.5, "64MB", True])
    def test_a_wrong_size_names_the_entry(self, tmp_path: Path, bad: Any) -> None:
        path = self._config(tmp_path, f"gateway: {{keep_free_bytes: {bad!r}}}\n")

        with pytest.raises(ConfigError, match=r"gateway\.keep_free_bytes"):
            load_config(path)

    def test_nothing_changes_where_it_is_off(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """0, and any system but Linux, leave the C library alone."""
        assert not server.keep_free_memory(0)
        monkeypatch.setattr(sys, "platform", "darwin")
        assert not server.keep_free_memory(64_000_000)
