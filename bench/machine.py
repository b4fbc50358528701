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


def busy_cpu_seconds() -> tuple[float, float] | None:
    """CPU seconds every core has spent busy since boot, and of those, stolen
    by the hypervisor for other guests (Linux /proc/stat); None where that is
    not available."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(x) for x in first[1:]] + [0] * 8
    idle = ticks[3] + ticks[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(ticks[:8]) - idle) / tick, ticks[7] / tick


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
    the allocator returning memory), every other process, and the
    hypervisor's steal (our virtual cores held back while other guests ran:
    a shared host's load, invisible inside the VM otherwise).
    """

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._start = self._now()

    def _now(self) -> tuple[tuple[float, float] | None, float, float, float, float]:
        server, main = redis_cpu_seconds(self.client)
        return busy_cpu_seconds(), time.process_time(), server, main, time.monotonic()

    def cores(self) -> dict[str, float | None]:
        machine, own, server, main, wall = self._now()
        m0, o0, s0, n0, w0 = self._start
        seconds = wall - w0
        background = (server - s0) - (main - n0)
        if machine is None or m0 is None or seconds <= 0:
            return {"redis_background": None, "other_processes": None, "hypervisor_steal": None}
        (busy, stolen), (busy0, stolen0) = machine, m0
        elsewhere = (busy - busy0) - (stolen - stolen0) - (own - o0) - (server - s0)
        return {
            "redis_background": max(0.0, background) / seconds,
            "other_processes": max(0.0, elsewhere) / seconds,
            "hypervisor_steal": max(0.0, stolen - stolen0) / seconds,
        }
