"""What locating a query's shared passages costs per match, with the query's
windows sorted once against sorted per pair, in the same process.

    python -m bench.locate [--articles 400] [--repeat 7] [--material PATH]

A query reply locates the passages of its first 10 matches
(``service.storage.query.with_passages``): the query text is located once
(``shingling.passages.locate``), each match text once, and each pair's runs
are found by ``kernels.shared_runs_sorted`` with the query's windows sorted
once (``Located.order``). The baseline is the same pair work sorting per
pair (``kernels.shared_runs``, what every pair paid before the query's sort
was kept). Texts: ``bench.synth`` articles (families of reworked copies);
the first article is the query, the others its matches. Reported: the
median over ``--repeat`` runs of the microseconds per pair, both ways, and
their ratio; also ``locate`` of one text, the part both share.

Then a whole reply's passage step, as ``with_passages`` runs it: the query
located and 10 match texts located and compared in one compiled call
(``shingling.passages.shared_passages_many``, shipped) against the same
texts one ``shared_passages`` call each (baseline). Median microseconds per
reply of 10 matches, over the same replies, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from bench.machine import cpu_model
from bench.scenarios import Corpus
from bench.synth import DEFAULT_MATERIAL, load_material
from shingling import PipelineConfig, kernels
from shingling.passages import Located, locate, shared_passages, shared_passages_many


def _per_pair_us(fn: object, texts: list[Located], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for t in texts:
            fn(t)  # type: ignore[operator]
        runs.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.locate")
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--material", type=Path, default=DEFAULT_MATERIAL)
    args = parser.parse_args(argv)
    config = PipelineConfig()
    texts = [a.text for a in Corpus(2000, 1, load_material(args.material), 1).head(args.articles)]
    located = [locate(t, config) for t in texts]
    query, matches = located[0], located[1:]
    gap = config.k

    def once(m: Located) -> object:
        return kernels.shared_runs_sorted(query.sorted_windows, query.order, m.windows, gap)

    def per_pair(m: Located) -> object:
        return kernels.shared_runs(query.windows, m.windows, gap)

    once(matches[0]), per_pair(matches[0])  # compile / load the kernels
    sorted_once = _per_pair_us(once, matches, args.repeat)
    sorted_each = _per_pair_us(per_pair, matches, args.repeat)
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for t in texts:
            locate(t, config)
        runs.append((time.perf_counter() - start) / len(texts) * 1e6)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"pairs: {len(matches)}, median of {args.repeat} runs")
    print("| step | us per pair |")
    print("|---|---:|")
    print(f"| runs, query sorted once (shipped) | {sorted_once:.1f} |")
    print(f"| runs, sorted per pair (baseline) | {sorted_each:.1f} |")
    print(f"| ratio shipped / baseline | {sorted_once / sorted_each:.2f}x |")
    print(f"| locate one text (both ways) | {statistics.median(runs):.1f} |")
    many, each = _reply_us(texts, config, args.repeat)
    print("\n| a reply's passages, 10 matches | us per reply |")
    print("|---|---:|")
    print(f"| one compiled call (shipped) | {many:.0f} |")
    print(f"| one call per match (baseline) | {each:.0f} |")
    print(f"| ratio shipped / baseline | {many / each:.2f}x |")
    return 0


def _reply_us(texts: list[str], config: PipelineConfig, repeat: int) -> tuple[float, float]:
    """Median microseconds of a reply's passage step both ways: each text in
    turn is the query, the 10 after it its matches (the replies interleaved,
    so a slow phase of the machine hits both ways alike)."""
    replies = [(texts[i], texts[i + 1 : i + 11]) for i in range(0, max(1, len(texts) - 10))]
    many: list[float] = []
    each: list[float] = []
    for _ in range(repeat):
        for query, matches in replies:
            start = time.perf_counter()
            shared_passages_many(locate(query, config), matches, config)
            mid = time.perf_counter()
            q = locate(query, config)
            for m in matches:
                shared_passages(q, m, config)
            many.append((mid - start) * 1e6)
            each.append((time.perf_counter() - mid) * 1e6)
    return statistics.median(many), statistics.median(each)


if __name__ == "__main__":
    raise SystemExit(main())
