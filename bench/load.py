"""A small, bounded HTTP load driver for copydesk.

Starts ``copydesk serve`` itself on 127.0.0.1 (a free port, the embedded Redis
in a temporary data dir), runs N concurrent async httpx clients that post and
match articles for a fixed time (and at most a fixed number of requests), then
prints throughput, p50/p99 latency per operation and every error. Stops the
server it started.

    python -m bench.load --clients 8 --seconds 20 --max-requests 20000

Bounded by design: ``--seconds`` and ``--max-requests`` both stop the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.redis_server import copydesk_server


def _article(i: int, rng: random.Random, words: int = 400) -> str:
    """A news-length synthetic article; every third one reworks an earlier one."""
    base = random.Random(i // 3 if i % 3 else i)
    tokens = [f"w{base.randrange(50_000)}" for _ in range(words)]
    if i % 3:
        for _ in range(words // 10):  # light edits: a syndicated rework
            tokens[rng.randrange(words)] = f"e{rng.randrange(50_000)}"
    return " ".join(" ".join(tokens[j : j + 20]).capitalize() + "." for j in range(0, words, 20))


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0


async def _client(
    base_url: str, c: int, stats: Stats, stop_at: float, budget: list[int], match_share: float
) -> None:
    rng = random.Random(c)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        i = 0
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            i += 1
            op = "match" if rng.random() < match_share else "post"
            text = _article(c * 1_000_000 + i, rng)
            start = time.perf_counter()
            try:
                if op == "post":
                    r = await http.post("/articles", json={"id": f"c{c}-{i}", "text": text})
                else:
                    r = await http.post("/articles/match", json={"text": text})
            except httpx.HTTPError as exc:
                stats.errors[f"{op}: {type(exc).__name__}"] += 1
                continue
            stats.latencies[op].append(time.perf_counter() - start)
            stats.statuses[f"{op} {r.status_code}"] += 1
            stats.requests += 1
            if r.status_code >= 400:
                stats.errors[f"{op} {r.status_code}: {r.text[:120]}"] += 1


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def run(clients: int, seconds: float, max_requests: int, match_share: float) -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory(prefix="copydesk-load-") as tmp,
        copydesk_server("--data-dir", str(Path(tmp) / "data")) as served,
    ):
        base = served.url
        stats = Stats()
        budget = [max_requests]
        started = time.monotonic()

        async def main() -> None:
            stop_at = time.monotonic() + seconds
            await asyncio.wait_for(
                asyncio.gather(
                    *(_client(base, c, stats, stop_at, budget, match_share) for c in range(clients))
                ),
                seconds + 60,  # in-flight requests get a bounded grace period
            )

        asyncio.run(main())
        elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": stats.requests,
        "throughput_rps": round(stats.requests / elapsed, 1),
        "latency_ms": {
            op: {"n": len(v), "p50": round(_pct(v, 0.5), 1), "p99": round(_pct(v, 0.99), 1)}
            for op, v in sorted(stats.latencies.items())
        },
        "statuses": dict(sorted(stats.statuses.items())),
        "errors": dict(stats.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument(
        "--match-share",
        type=float,
        default=0.5,
        help="share of requests that are POST /articles/match",
    )
    args = parser.parse_args()
    result = run(args.clients, args.seconds, args.max_requests, args.match_share)
    print(json.dumps(result, indent=2))
    if result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
