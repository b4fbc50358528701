"""``python -m bench.steps``: where one article's bulk-ingest time goes.

The client's side, stage by stage: every article goes through every stage
before the next article, and each stage is timed on its own, so a slow phase
of a shared VM hits all stages alike (timing each stage over the whole
corpus in turn moved figures by +-30 % here). ``analyse`` is also timed
against ``analyse_staged``, the stage-by-stage reference path, the same way:
their ratio is the one-call kernel's gain.

Then the writes, into a fresh redis-server on 127.0.0.1: the client's CPU
(this thread's) for ``Index.write_prepared`` of batches of 256 articles, and
Redis's time inside ``put.lua`` (``INFO commandstats``). Writes here are not
overlapped with analysis: ``python -m bench ingest`` measures the overlap.

Prints the machine and a Markdown table; writes ``bench/results/steps.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from isal import isal_zlib

from bench.machine import describe
from bench.redis_server import redis_server
from bench.scenarios import BATCH, article_in, machine_speed
from bench.synth import DEFAULT_MATERIAL, generate, load_material
from service.model import ArticleIn
from service.storage.index import Index, analyse_article
from service.storage.layout import PreparedDoc
from shingling import PipelineConfig
from shingling.pipeline import analyse, analyse_staged, warm_up
from shingling.shingles import pack

RESULTS = Path(__file__).resolve().parent / "results"
_T = TypeVar("_T")


def client_stages(articles: list[ArticleIn], config: PipelineConfig) -> dict[str, float]:
    """Microseconds per article of each client stage, interleaved article by article."""
    spent: dict[str, int] = {}

    def timed(name: str, stage: Callable[..., _T], *args: object) -> _T:
        start = time.perf_counter_ns()
        out = stage(*args)
        spent[name] = spent.get(name, 0) + time.perf_counter_ns() - start
        return out

    for article in articles:
        text = article.text
        analysis = timed("analyse (one compiled call)", analyse, text, config)
        timed("analyse_staged (the reference path)", analyse_staged, text, config)
        timed("packed shingle set", pack, analysis.shingles)
        utf8 = text.encode("utf-8", "surrogatepass")
        timed("SHA-256 digest", lambda b: hashlib.sha256(b).hexdigest(), utf8)
        timed("compressed text (ISA-L level 1)", isal_zlib.compress, utf8, 1)
        timed(
            "prepare (analysis, packed set, digest, compression, fields)",
            analyse_article,
            article,
            config,
        )
    return {name: ns / len(articles) / 1e3 for name, ns in spent.items()}


def writes(
    articles: list[ArticleIn], config: PipelineConfig
) -> tuple[dict[str, float], dict[str, object]]:
    """Client CPU and Redis script time per article of batched writes, and the machine."""
    prepared = [(a, analyse_article(a, config)) for a in articles]
    pairs = [(a, d) for a, d in prepared if isinstance(d, PreparedDoc)]  # skip empty texts
    cpu: list[float] = []
    with redis_server() as client:
        index = Index(client, config, name="steps", capacity=len(articles))
        index.check_config()
        client.config_resetstat()
        for i in range(0, len(pairs), BATCH):
            batch = pairs[i : i + BATCH]
            start = time.thread_time()
            index.write_prepared([a for a, _ in batch], [d for _, d in batch])
            cpu.append((time.thread_time() - start) / len(batch) * 1e6)
        stats = client.info("commandstats").get("cmdstat_evalsha", {})
        machine = describe(client)
    figures = {
        "write_client_cpu_us": statistics.median(cpu),
        "put_lua_us": float(stats.get("usec_per_call", 0.0)),
    }
    return figures, machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.steps", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--material", type=Path, default=DEFAULT_MATERIAL)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the articles; medians")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    config = PipelineConfig()
    warm_up(config)
    material = load_material(args.material)
    articles = [article_in(a) for a in generate(args.articles, seed=args.seed, material=material)]
    rounds = [client_stages(articles, config) for _ in range(args.rounds)]
    stages = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    written, machine = writes(articles, config)
    machine["floor_per_s"] = machine_speed([a.text for a in articles], config.k)
    print(f"machine: {json.dumps(machine)}", file=sys.stderr)
    ratio = statistics.median(
        r["analyse (one compiled call)"] / r["analyse_staged (the reference path)"] for r in rounds
    )
    lines = [
        f"{args.articles:,} articles, {args.rounds} interleaved rounds, medians (us per article);"
        f" the pure-Python floor ran at {machine['floor_per_s']:,.0f} articles/s",
        "",
        "| step | us/article |",
        "|---|---:|",
        *(f"| {name} | {us:.0f} |" for name, us in stages.items()),
        f"| write: client CPU (pack, send, read replies) | {written['write_client_cpu_us']:.0f} |",
        f"| write: Redis time in put.lua | {written['put_lua_us']:.0f} |",
        "",
        f"analyse / analyse_staged: {ratio:.2f}",
    ]
    table = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"articles": args.articles, "rounds": args.rounds, "machine": machine,
              "stages_us": stages, "analyse_over_staged": ratio, **written}  # fmt: skip
    (args.out / "steps.json").write_text(json.dumps(result, indent=1))
    (args.out / "steps.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
