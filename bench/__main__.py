"""``python -m bench all --size 10k``: every measurement, one command.

Sizes: ``300`` (CI smoke), ``10k``, ``100k``, ``1M``. Prints the machine and
a table; writes ``bench/results/<size>.json`` and ``<size>.md``. Every
scenario has a time budget (``--budget`` seconds); one cut short says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from itertools import islice
from pathlib import Path
from typing import cast

import redis

from bench import report, saved, scenarios
from bench.machine import describe
from bench.redis_server import redis_server
from bench.synth import DEFAULT_MATERIAL, Material, load_material
from service.defaults import MAX_LOCATED
from service.storage.index import Index
from shingling import PipelineConfig

SIZES = {"300": 300, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}
SCENARIOS = (
    "signatures",
    "ingest",
    "bands_only",
    "parallel",
    "datasketch",
    "http",
    "retention",
)
#: Scenario groups: what the passage index costs, against the path before it and
#: the datasketch baseline, in one run.
GROUPS = {"passages": ("ingest", "bands_only", "datasketch")}
ON_SAVED = ("query",)  # scenarios run on an index kept by --keep-index, not in "all"
RESULTS = Path(__file__).resolve().parent / "results"


def run(args: argparse.Namespace) -> dict[str, object]:
    if args.scenario == "query":
        return run_on_saved(args)
    if args.with_baseline or args.keep_baseline or args.baseline_index:
        raise SystemExit(
            "--with-baseline, --keep-baseline and --baseline-index go with 'query --index DIR' "
            "('all' runs the baseline)"
        )
    size = SIZES[args.size]
    config = PipelineConfig(winnow=args.winnow)
    material = load_material(args.material)
    wanted = SCENARIOS if args.scenario == "all" else GROUPS.get(args.scenario, (args.scenario,))
    if args.keep_index is not None and "ingest" not in wanted:
        raise SystemExit("--keep-index saves the ingest scenario's index: use it with 'ingest'")
    corpus = scenarios.Corpus(size, args.seed, material, queries=min(args.queries, size))
    result: dict[str, object] = {"size": size, "seed": args.seed, "material": str(args.material)}
    result["winnow"] = config.winnow
    result["max_located"] = args.max_located

    def deadline() -> float:
        return time.monotonic() + float(args.budget)

    def say(name: str, figures: dict[str, object]) -> None:
        result[name] = figures
        shown = {k: v for k, v in figures.items() if k != "series"}
        print(f"{name}: {json.dumps(shown, default=float)}", file=sys.stderr, flush=True)

    head = corpus.head(min(size, args.signature_articles))
    with redis_server() as client:
        result["machine"] = machine(client, [a.text for a in head], config.k)
        if "signatures" in wanted:
            texts = [a.text for a in head]
            say("signatures", scenarios.signatures(texts, config, args.budget))
        if "ingest" in wanted:
            index = Index(  # sized as an operator would
                client, config, name="bench", capacity=size, max_located=args.max_located
            )
            index.check_config()
            say("ingest", scenarios.ingest(
                index, corpus.stream(), deadline(), workers=args.ingest_workers))  # fmt: skip
            say("query", scenarios.query(index, corpus, deadline()))
            if args.keep_index is not None:
                start = time.monotonic()
                kept = saved.save(client, args.keep_index, corpus)
                say("kept", {"path": str(kept), "seconds": time.monotonic() - start})
    if "bands_only" in wanted:  # the path before passage fingerprints, same corpus and run
        with redis_server() as client:
            index = scenarios.BandsOnly(client, config, name="bench", capacity=size)
            index.check_config()
            say("bands_only_ingest", scenarios.ingest(index, corpus.stream(), deadline()))
            say("bands_only_query", scenarios.query(index, corpus, deadline()))
    if "parallel" in wanted:
        with redis_server() as client:
            cap = min(size, args.parallel_articles)
            index = Index(client, config, name="parallel", capacity=cap)
            say("parallel", scenarios.ingest(
                index, corpus.head(cap), deadline(), workers=args.workers))  # fmt: skip
    if "datasketch" in wanted:
        with redis_server() as client:
            cap = min(size, args.baseline_articles)
            articles = (a for i, a in enumerate(corpus.head(cap)) if i < cap)
            sample = corpus.sample or head[: args.queries]
            say("datasketch", scenarios.datasketch_baseline(
                client, articles, sample, config, deadline()))  # fmt: skip
    if "http" in wanted:
        with redis_server() as client:
            url = f"redis://127.0.0.1:{client.connection_pool.connection_kwargs['port']}/0"
            batch = head[: min(size, args.http_articles)]
            say("http", scenarios.http_ingest(url, batch, deadline()))
    if "retention" in wanted:
        with redis_server() as client:
            index = Index(client, config, name="retention")
            index.check_config()
            aging = corpus.head(min(size, args.retention_articles))
            say("retention", scenarios.retention(index, aging, len(aging) // 5, deadline()))
    return result


def machine(client: redis.Redis, texts: list[str], k: int) -> dict[str, object]:
    """The machine and its speed now (printed as well: a long run shows it first)."""
    described = describe(client)
    described["floor_per_s"] = scenarios.machine_speed(texts, k)
    print(f"machine: {json.dumps(described)}", file=sys.stderr, flush=True)
    return described


def run_on_saved(args: argparse.Namespace) -> dict[str, object]:
    """The query scenario on an index saved by ``--keep-index``; with
    ``--with-baseline``, first the datasketch baseline over the same corpus
    (regenerated from ``--material``) and the same query sample, in its own
    redis-server, stopped before the saved index is restored (and saved by
    ``--keep-baseline``); with ``--baseline-index``, that saved baseline
    restored and queried instead of built."""
    if args.index is None:
        raise SystemExit("the query scenario runs on a saved index: give --index DIR")
    if args.keep_baseline is not None and not args.with_baseline:
        raise SystemExit(
            "--keep-baseline saves the baseline that --with-baseline builds: give both"
        )
    if args.with_baseline and args.baseline_index is not None:
        raise SystemExit(
            "--with-baseline builds the baseline, --baseline-index restores a saved one: give one"
        )
    corpus = saved.load(args.index)
    queries = corpus.sample[: args.queries]
    corpus.sample = queries
    config = PipelineConfig(winnow=args.winnow)
    result: dict[str, object] = {"size": corpus.size, "seed": corpus.seed, "material": "-"}
    if args.with_baseline:
        result["material"] = str(args.material)
        material = load_material(args.material)
        cap = min(corpus.size, args.baseline_articles)
        articles = islice(saved.regenerate(corpus, material), cap)
        with redis_server() as client:
            figures = scenarios.datasketch_baseline(
                client, articles, queries, config, time.monotonic() + args.budget
            )
            result["datasketch"] = figures
            if args.keep_baseline is not None:
                facts = baseline_facts(material, config)
                saved.save_baseline(client, args.keep_baseline, corpus, figures, facts)
        print(f"datasketch: {json.dumps(result['datasketch'])}", file=sys.stderr, flush=True)
    elif args.baseline_index is not None:
        result["material"] = str(args.material)
        built = saved.load_baseline(
            args.baseline_index, corpus, baseline_facts(load_material(args.material), config)
        )
        snapshot = args.baseline_index / saved.BASELINE_SNAPSHOT
        with redis_server(timeout=args.budget, restore=snapshot) as client:
            lsh = scenarios.datasketch_lsh(client, config)
            held = saved.sample_within(corpus, int(cast(int, built["articles"])))
            missing = scenarios.datasketch_holds(lsh, (a.id for a in held))
            if missing:
                raise SystemExit(
                    f"the baseline restored from {snapshot} lacks {len(missing)} of the "
                    f"query sample's articles (e.g. {missing[0]!r}): build it again"
                )
            result["datasketch"] = {  # the saving run's figures, its queries timed again
                **built,
                "restored": str(args.baseline_index),
                **scenarios.datasketch_queries(
                    lsh, queries, config, time.monotonic() + args.budget
                ),
            }
        print(f"datasketch: {json.dumps(result['datasketch'])}", file=sys.stderr, flush=True)
    with redis_server(timeout=args.budget, restore=args.index / saved.SNAPSHOT) as client:
        result["machine"] = machine(client, [a.text for a in queries], config.k)
        index = Index(
            client,
            config,
            name=saved.INDEX_NAME,
            capacity=corpus.size,
            max_located=args.max_located,
        )
        index.check_config()
        result["restored"] = {"path": str(args.index), "articles": index.count()}
        result["query"] = scenarios.query(index, corpus, time.monotonic() + args.budget)
        print(f"query: {json.dumps(result['query'])}", file=sys.stderr, flush=True)
    return result


def baseline_facts(material: Material, config: PipelineConfig) -> dict[str, object]:
    """What a saved baseline must share with a run that restores it: the
    sentence material (by content) and the settings its MinHashes used."""
    words = "\n".join(" ".join(s) for s in material.sentences)
    return {
        "material_sha256": hashlib.sha256(words.encode()).hexdigest(),
        "num_perm": config.num_perm,
        "bands": config.b,
        "rows": config.r,
        "minhash_seed": config.seed,
        "k": config.k,
    }


def size_label(size: int) -> str:
    return next((label for label, n in SIZES.items() if n == size), str(size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "scenario", choices=("all", *GROUPS, *SCENARIOS, *ON_SAVED), help="what to measure"
    )
    parser.add_argument("--size", choices=SIZES, default="10k", help="articles in the index")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--material",
        type=Path,
        default=DEFAULT_MATERIAL,
        help="sentence material for bench.synth (folder of .txt or MRPC .tsv)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=900.0,
        help="seconds each scenario may run before it stops and reports",
    )
    parser.add_argument("--queries", type=int, default=1000, help="queries to time")
    parser.add_argument(
        "--winnow",
        type=int,
        default=PipelineConfig.winnow,
        help="passage fingerprint window (COPYDESK_WINNOW): fewer postings an article "
        "as it grows (docs/matching.md); a kept index must have been built with the same",
    )
    parser.add_argument(
        "--max-located",
        type=int,
        default=MAX_LOCATED,
        help="matches of a reply whose passages are located (COPYDESK_MAX_LOCATED): "
        "0 times the query without them",
    )
    parser.add_argument("--signature-articles", type=int, default=2000)
    parser.add_argument(
        "--baseline-articles",
        type=int,
        default=100_000,
        help="most articles the datasketch baseline indexes",
    )
    parser.add_argument("--http-articles", type=int, default=3000)
    parser.add_argument(
        "--parallel-articles",
        type=int,
        default=20_000,
        help="articles the 'parallel' scenario ingests with --workers processes",
    )
    parser.add_argument("--workers", type=int, default=2, help="analysis processes for 'parallel'")
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=1,
        help="analysis processes for 'ingest' (1: the one-core figure)",
    )
    parser.add_argument("--retention-articles", type=int, default=10_000)
    parser.add_argument(
        "--keep-index",
        type=Path,
        default=None,
        metavar="DIR",
        help="after 'ingest', save the index (RDB) and the corpus truth into DIR",
    )
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        metavar="DIR",
        help="for 'query': the index saved by --keep-index",
    )
    parser.add_argument(
        "--with-baseline",
        action="store_true",
        help="for 'query': first the datasketch baseline over the saved index's corpus "
        "(regenerated from --material; at most --baseline-articles) and its query sample",
    )
    parser.add_argument(
        "--keep-baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="for 'query --with-baseline': then save the baseline (RDB) and how it was built "
        "into DIR",
    )
    parser.add_argument(
        "--baseline-index",
        type=Path,
        default=None,
        metavar="DIR",
        help="for 'query': restore the baseline saved by --keep-baseline and time its queries "
        "(instead of building it)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for JSON and Markdown")
    args = parser.parse_args(argv)
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    size = size_label(cast(int, result["size"]))
    stem = size if args.scenario == "all" else f"{size}-{args.scenario}"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1, default=float))
    table = report.markdown(result)
    (args.out / f"{stem}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
