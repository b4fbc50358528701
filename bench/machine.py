"""What the figures were measured on: CPU, cores, Python, numpy, Redis."""

from __future__ import annotations

import os
import platform
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
