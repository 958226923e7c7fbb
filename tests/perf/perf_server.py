"""What the benchmark scripts share: the `atrium` command of this interpreter, waiting for a
started server, and its peak resident memory."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx


def atrium(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "atrium"), *args]


def wait_until_healthy(base_url: str, *, timeout_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base_url} did not become healthy within {timeout_seconds:.0f} s")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
