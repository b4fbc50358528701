"""What the semantic pair features cost: the lexical and the lexical + semantic
aligner on the same texts, in the same process.

    python -m bench.semantic_cost [--words 1000] [--repeat 7]

Texts: real news copy from ``seeds/`` (``a`` = 000 then 002, ``b`` = 001 then
003), each cut to ``--words`` words (the aligner's own tokeniser), so ``b``
reworks part of ``a`` and the rest is another outlet's report. Reported, as
the median of ``--repeat`` runs after one warm-up:

* ``align``: one ``align(a, b)``, lexical (``AlignParams()``) and semantic
  (``semantic_params()``);
* ``embed``: ``shingling.semantic.embed`` of one text's sentences, what a
  match query would add per query if the verdict used the signal (it does not
  yet: ``POST /articles/match`` never calls the aligner, so its cost is
  unchanged);
* ``load``: importing wordllama and loading its weights, once per process
  (a fresh subprocess, so nothing is cached).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

_LOAD = """
import time
t = time.perf_counter()
from shingling import semantic
semantic._model(); semantic._unit_table()
print(time.perf_counter() - t)
"""


def texts(words: int) -> tuple[str, str]:
    from shingling.tokenise import tokenise

    def cut(*names: str) -> str:
        text = "\n\n".join((SEEDS / n).read_text(encoding="utf-8") for n in names)
        toks = tokenise(text)
        return text if len(toks.ends) <= words else text[: int(toks.ends[words - 1])]

    return (
        cut("000_3a13d4dc9571d926.txt", "002_0b82e36cb2ececb7.txt"),
        cut("001_d7f4fccf9dbf45e7.txt", "003_ad48eea2a50b0cbd.txt"),
    )


def _median(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall-clock and CPU seconds of ``fn()`` (CPU time is what a
    machine shared with other jobs does not inflate)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from shingling import semantic
    from shingling.align import AlignParams, align, semantic_params
    from shingling.sentences import split_sentences

    load = float(
        subprocess.run(
            [sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
    )
    a, b = texts(args.words)
    lexical, sem = AlignParams(), semantic_params()
    sentences = [s.text for s in split_sentences(a)]
    timed = {
        "align_lexical": _median(lambda: align(a, b, lexical), args.repeat),
        "align_semantic": _median(lambda: align(a, b, sem), args.repeat),
        "embed_one_text": _median(lambda: semantic.embed(sentences), args.repeat),
    }
    out: dict[str, float] = {
        "words": args.words,
        "sentences_a": len(sentences),
        "sentences_b": len(list(split_sentences(b))),
        **{f"{k}_s": w for k, (w, _) in timed.items()},
        **{f"{k}_cpu_s": c for k, (_, c) in timed.items()},
        "load_once_s": load,
    }
    if args.json:
        print(json.dumps(out, indent=1))
        return out
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"{args.words}-word texts ({out['sentences_a']} / {out['sentences_b']} sentences), "
        f"median of {args.repeat} runs, {machine}\n\n"
        "| step | lexical | lexical + semantic |\n|---|---:|---:|\n"
        f"| one alignment, wall (CPU) | {out['align_lexical_s'] * 1e3:.0f} "
        f"({out['align_lexical_cpu_s'] * 1e3:.0f}) ms "
        f"| {out['align_semantic_s'] * 1e3:.0f} ({out['align_semantic_cpu_s'] * 1e3:.0f}) ms |\n"
        f"| embed one text (per match query, if used), wall (CPU) | 0 | "
        f"{out['embed_one_text_s'] * 1e3:.1f} ({out['embed_one_text_cpu_s'] * 1e3:.1f}) ms |\n"
        f"| load the weights (once per process) | 0 | {out['load_once_s'] * 1e3:.0f} ms |"
    )
    return out


if __name__ == "__main__":
    main()
