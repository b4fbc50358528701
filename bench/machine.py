"""What the figures were measured on: CPU, cores, Python, numpy, Redis."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import datasketch
import numpy as np
import redis


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(client: redis.Redis) -> dict[str, object]:
    info = client.info("server")
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "datasketch": datasketch.__version__,
        "redis": info.get("redis_version"),
        "os": f"{platform.system()} {platform.release()}",
    }


def busy_cpu_seconds() -> float | None:
    """CPU seconds every core has spent busy since boot (Linux /proc/stat),
    or None where that is not available."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def redis_cpu_seconds(client: redis.Redis) -> tuple[float, float]:
    """CPU seconds of the Redis server: all its threads, and its main thread."""
    info = client.info("cpu")
    main = float(info.get("used_cpu_user_main_thread", 0)) + float(
        info.get("used_cpu_sys_main_thread", 0)
    )
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"]), main


class OtherLoad:
    """How busy the machine was besides the measurement itself (this process
    and Redis's main thread), over a stretch of measurement, in cores
    (0.5 = half a core kept busy): Redis's background threads (freeing,
    the allocator returning memory) and every other process.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._start = self._now()

    def _now(self) -> tuple[float | None, float, float, float, float]:
        server, main = redis_cpu_seconds(self.client)
        return busy_cpu_seconds(), time.process_time(), server, main, time.monotonic()

    def cores(self) -> dict[str, float | None]:
        machine, own, server, main, wall = self._now()
        m0, o0, s0, n0, w0 = self._start
        seconds = wall - w0
        background = (server - s0) - (main - n0)
        if machine is None or m0 is None or seconds <= 0:
            return {"redis_background": None, "other_processes": None}
        elsewhere = (machine - m0) - (own - o0) - (server - s0)
        return {
            "redis_background": max(0.0, background) / seconds,
            "other_processes": max(0.0, elsewhere) / seconds,
        }
