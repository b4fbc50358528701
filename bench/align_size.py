"""Time and peak memory of one alignment of two synthetic texts of N sentences.

    python -m bench.align_size --sentences 5000

Each run is a fresh subprocess, so the peak resident set (``ru_maxrss``) is
that one alignment's (plus the interpreter and libraries, measured apart as
``baseline``). The texts: ``b`` copies a third of ``a``'s sentences, rewords
a third (every fourth word changed) and adds a third of its own; sentences
are 8-24 words from a 5,000-word vocabulary, so common words are shared by
most pairs as in real copy. ``--repeated``: every sentence of both texts is the
same (boilerplate: every pair is a candidate), the worst case of the per-sentence
cap. Prints the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time

_CHILD = """
import json, resource, sys, time
from bench.align_size import repeated_texts, texts
from shingling.align import align
n, seed, repeated = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
a, b = repeated_texts(n) if repeated else texts(n, seed)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
result = align(a, b) if n else None
t1, c1 = time.perf_counter(), time.process_time()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "sentences": n, "repeated": repeated, "chars_a": len(a), "chars_b": len(b),
    "wall_s": round(t1 - t0, 2), "cpu_s": round(c1 - c0, 2),
    "baseline_mib": round(base / 1024), "peak_mib": round(peak / 1024),
    "summary": None if result is None else vars(result.summary),
}))
"""


def texts(n: int, seed: int = 0) -> tuple[str, str]:
    """Two texts of ``n`` sentences each (see the module docstring)."""
    rng = random.Random(seed)
    vocab = [f"{rng.choice('bcdfglmnprst')}{rng.choice('aeiou')}{k}" for k in range(5000)]
    weights = [1 / (k + 1) for k in range(len(vocab))]  # Zipf-like: few very common words

    def sentence() -> list[str]:
        return rng.choices(vocab, weights, k=rng.randint(8, 24))

    a = [sentence() for _ in range(n)]
    b = []
    for k, s in enumerate(a):
        if k % 3 == 0:
            b.append(list(s))
        elif k % 3 == 1:
            b.append([rng.choice(vocab) if i % 4 == 3 else w for i, w in enumerate(s)])
        else:
            b.append(sentence())

    def text(sents: list[list[str]]) -> str:
        return " ".join(" ".join(s).capitalize() + "." for s in sents)

    return text(a), text(b)


def repeated_texts(n: int) -> tuple[str, str]:
    """Two texts of ``n`` copies of one sentence."""
    one = "The agency said the figures would be revised next month, officials confirmed."
    return " ".join([one] * n), " ".join([one] * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, nargs="+", default=[5000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeated", action="store_true", help="one sentence, repeated")
    args = parser.parse_args()
    print(
        f"# {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}"
    )
    for n in args.sentences:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(n), str(args.seed), str(int(args.repeated))],
            check=True,
            capture_output=True,
            text=True,
        )
        print(json.dumps(json.loads(out.stdout)))


if __name__ == "__main__":
    main()
