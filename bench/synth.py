"""A synthetic news corpus with ground truth, built from real sentences.

Outlets syndicate wire copy: they trim its tail, write a new lede, add local
paragraphs, copy-edit words, reorder paragraphs or run it unchanged. This
module makes such *families* from "wire stories" assembled out of real
sentence material, and makes independent stories on the same *topics* as hard
negatives: they draw on the same background sentences (each outlet rewording
them) and carry the same direct quotations, as competing reports do.

Reproducible: the same ``seed`` and material give the same corpus, byte for
byte. Command line (the contract other benchmarks rely on)::

    python -m bench.synth --articles N --seed S --material PATH --out DIR

writes ``DIR/articles.jsonl`` (one ``POST /articles`` body per line: ``id``,
``text``, ``published_at``, ``source``) and ``DIR/truth.json``::

    {"families": [[id, ...], ...], "pairs": [[a, b, "kind"], ...]}

Every id is in exactly one family (singletons included). ``pairs`` are the
true syndicated pairs: ``[wire, copy, kind]`` with the edit(s) that made the
copy (``trim``, ``new_lede``, ``local``, ``copy_edit``, ``reorder``,
``duplicate``, or two joined by ``+``), and ``[copy, copy, "sibling"]`` for
two copies of the same wire story. ``generate(...)`` yields the same articles
without a file, for benchmarks at a million.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

DEFAULT_MATERIAL = Path(__file__).resolve().parents[1] / "seeds"

#: Edits outlets make to wire copy, and how often a copy gets each.
EDITS = ("duplicate", "trim", "new_lede", "local", "copy_edit", "reorder")
_EDIT_WEIGHTS = (1, 3, 2, 2, 3, 1)

WORDS_PER_ARTICLE = 600
_SINGLETON_SHARE = 0.45  # wire stories nobody picked up
_MAX_COPIES = 6
_STORIES_PER_TOPIC = 6
_TOPIC_SENTENCES = 40
_TOPIC_DRAW = 0.7  # share of a story's sentences taken from its topic's pool
_REWORD = 0.15  # share of words an outlet changes when it writes its own version
# A small material (the five seeds: ~150 sentences) puts the same sentences in
# far more stories; stronger rewording keeps independent stories independent.
_REWORD_SMALL, _SMALL_MATERIAL = 0.3, 1000
_COPY_EDIT = 0.03  # share of words a copy-editor touches
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d']?\s+(?=[\"\u201c'A-Z0-9])")
_OUTLETS = tuple(
    f"{town} {kind}"
    for town in (
        "Ashford", "Bexley", "Carlow", "Dunmore", "Elmira", "Fairview", "Galway", "Hollis",
        "Irvine", "Jasper", "Kendal", "Lismore", "Marlow", "Newry", "Oakham", "Preston",
    )
    for kind in ("Herald", "Courier", "Post", "Gazette", "Times", "Daily")
)  # fmt: skip


@dataclass(frozen=True)
class Material:
    """Real sentences (as word lists) and the vocabulary rewording draws on."""

    sentences: tuple[tuple[str, ...], ...]
    names: tuple[str, ...]  # capitalised words seen mid-sentence
    plain: tuple[str, ...]  # lower-case words

    @classmethod
    def from_sentences(cls, sentences: Iterable[str]) -> Material:
        unique = sorted({" ".join(s.split()) for s in sentences if len(s.split()) >= 5})
        if len(unique) < 10:
            raise ValueError(f"need at least 10 sentences of 5+ words, found {len(unique)}")
        words = [tuple(s.split()) for s in unique]
        names = sorted({w for s in words for w in s[1:] if w[:1].isupper() and w.isalpha()})
        plain = sorted({w for s in words for w in s if w.isalpha() and w.islower()})
        return cls(tuple(words), tuple(names) or ("Smith",), tuple(plain) or ("the",))


def load_material(path: Path) -> Material:
    """Sentences from a folder of ``.txt`` articles, or a TSV such as MRPC's
    (tab-separated, sentences in columns 4 and 5)."""
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise ValueError(f"{path} holds no .txt articles")
        texts = (f.read_text(encoding="utf-8") for f in files)
        return Material.from_sentences(
            s for t in texts for para in t.split("\n") for s in _SENTENCE_END.split(para.strip())
        )
    if path.suffix.lower() in (".tsv", ".txt"):
        rows = path.read_text(encoding="utf-8-sig").splitlines()
        cells = (r.split("\t") for r in rows)
        return Material.from_sentences(
            s for c in cells if len(c) >= 5 and c[0].strip().isdigit() for s in c[3:5]
        )
    raise ValueError(f"{path}: expected a folder of .txt articles or a .tsv file")


@dataclass(frozen=True)
class Article:
    """One generated article; ``body()`` is its ``POST /articles`` JSON."""

    id: str
    text: str
    published_at: datetime
    source: str
    family: int
    wire: str  # the id of its family's wire story (itself for the wire story)
    kind: str  # "wire", or the edit(s) that made this copy

    def body(self) -> dict[str, str]:
        return {
            "id": self.id,
            "text": self.text,
            "published_at": self.published_at.isoformat(),
            "source": self.source,
        }


Paragraphs = list[list[str]]  # paragraphs of sentences


@dataclass
class _Writer:
    """Makes stories and their copies from one random stream."""

    material: Material
    rng: random.Random
    topics: dict[int, tuple[list[int], list[str]]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        small = len(self.material.sentences) < _SMALL_MATERIAL
        return _REWORD_SMALL if small else _REWORD

    # -- sentences -----------------------------------------------------------
    def reword(self, words: tuple[str, ...], rate: float) -> str:
        """The sentence with about ``rate`` of its words replaced, names by
        names, numbers by numbers: one outlet's own wording of a fact."""
        rng, out = self.rng, list(words)
        for i in range(len(out)):
            if rng.random() >= rate:
                continue
            w = out[i]
            if any(ch.isdigit() for ch in w):
                out[i] = str(rng.randint(2, 9999))
            elif w[:1].isupper() and i > 0:
                out[i] = rng.choice(self.material.names)
            elif w.isalpha():
                out[i] = rng.choice(self.material.plain)
        return " ".join(out)

    def fresh_sentence(self) -> str:
        return self.reword(self.rng.choice(self.material.sentences), self.rate)

    def topic(self, number: int) -> tuple[list[int], list[str]]:
        """A topic's pool of background sentences and its quotations."""
        if number not in self.topics:
            rng, pool = self.rng, self.material.sentences
            background = [rng.randrange(len(pool)) for _ in range(_TOPIC_SENTENCES)]
            quotes = [
                f"{rng.choice(self.material.names)} said: \u201c{' '.join(rng.choice(pool))}\u201d"
                for _ in range(2)
            ]
            self.topics = {number: (background, quotes)}  # stories of a topic are adjacent
        return self.topics[number]

    # -- stories ---------------------------------------------------------------
    def paragraphs(self, sentences: list[str]) -> Paragraphs:
        out: Paragraphs = []
        i = 0
        while i < len(sentences):
            size = self.rng.choice((1, 1, 2, 2, 3))
            out.append(sentences[i : i + size])
            i += size
        return out

    def story(self, topic: int) -> Paragraphs:
        """A ~600-word wire story on ``topic``, in this outlet's own words."""
        rng, pool = self.rng, self.material.sentences
        background, quotes = self.topic(topic)
        target = max(200, int(rng.gauss(WORDS_PER_ARTICLE, 80)))
        sentences: list[str] = []
        words = 0
        while words < target:
            if rng.random() < _TOPIC_DRAW:
                source = pool[rng.choice(background)]
            else:
                source = rng.choice(pool)
            sentence = self.reword(source, self.rate)
            sentences.append(sentence)
            words += len(source)
        for quote in quotes:
            sentences.insert(rng.randint(1, len(sentences)), quote)
        return self.paragraphs(sentences)

    def copy(self, wire: Paragraphs, edits: tuple[str, ...]) -> Paragraphs:
        out = [list(p) for p in wire]
        for edit in edits:
            out = getattr(self, f"_{edit}")(out)
        return out

    def _duplicate(self, paras: Paragraphs) -> Paragraphs:
        return paras

    def _trim(self, paras: Paragraphs) -> Paragraphs:
        keep = max(2, round(len(paras) * self.rng.uniform(0.5, 0.85)))
        return paras[:keep]

    def _new_lede(self, paras: Paragraphs) -> Paragraphs:
        lede = [self.fresh_sentence() for _ in range(self.rng.randint(1, 2))]
        return [lede, *paras[self.rng.randint(1, 2) :]]

    def _local(self, paras: Paragraphs) -> Paragraphs:
        out = list(paras)
        for _ in range(self.rng.randint(2, 4)):
            local = [self.fresh_sentence() for _ in range(self.rng.randint(1, 3))]
            out.insert(self.rng.randint(1, len(out)), local)
        return out

    def _copy_edit(self, paras: Paragraphs) -> Paragraphs:
        return [[self.reword(tuple(s.split()), _COPY_EDIT) for s in p] for p in paras]

    def _reorder(self, paras: Paragraphs) -> Paragraphs:
        if len(paras) < 4:
            return paras
        body = paras[1:]
        for _ in range(self.rng.randint(1, 3)):
            i, j = self.rng.sample(range(len(body)), 2)
            body[i], body[j] = body[j], body[i]
        return [paras[0], *body]

    def edits(self) -> tuple[str, ...]:
        first = self.rng.choices(EDITS, _EDIT_WEIGHTS)[0]
        if first == "duplicate" or self.rng.random() < 0.6:
            return (first,)
        second = self.rng.choice([e for e in EDITS if e not in ("duplicate", first)])
        return (first, second)


def _text(paras: Paragraphs) -> str:
    return "\n\n".join(" ".join(p) for p in paras)


def generate(
    articles: int, *, seed: int = 0, material: Material | Path = DEFAULT_MATERIAL
) -> Iterator[Article]:
    """``articles`` articles in publication order, a family at a time.

    Deterministic in ``seed`` and the material; memory stays constant (one
    topic at a time), so a million articles can be streamed.
    """
    if articles < 0:
        raise ValueError("articles must be >= 0")
    mat = material if isinstance(material, Material) else load_material(material)
    rng = random.Random(seed)
    writer = _Writer(mat, rng)
    made = 0
    family = 0
    clock = _EPOCH
    while made < articles:
        topic = family // _STORIES_PER_TOPIC
        wire_id = f"s{seed}-{made:07d}"
        wire = writer.story(topic)
        clock += timedelta(seconds=rng.randint(20, 600))
        yield Article(wire_id, _text(wire), clock, rng.choice(_OUTLETS), family, wire_id, "wire")
        made += 1
        copies = 0 if rng.random() < _SINGLETON_SHARE else rng.randint(1, _MAX_COPIES)
        for _ in range(min(copies, articles - made)):
            edits = writer.edits()
            when = clock + timedelta(minutes=rng.randint(5, 24 * 60))
            text = _text(writer.copy(wire, edits))
            yield Article(
                f"s{seed}-{made:07d}", text, when, rng.choice(_OUTLETS), family, wire_id,
                "+".join(edits),
            )  # fmt: skip
            made += 1
        family += 1


def truth(articles: Iterable[Article]) -> dict[str, list[list[str]]]:
    """Families and true syndicated pairs of generated articles."""
    families: dict[int, list[Article]] = {}
    for a in articles:
        families.setdefault(a.family, []).append(a)
    pairs: list[list[str]] = []
    for members in families.values():
        copies = [a for a in members if a.kind != "wire"]
        pairs.extend([a.wire, a.id, a.kind] for a in copies)
        pairs.extend([a.id, b.id, "sibling"] for a, b in combinations(copies, 2))
    return {"families": [[a.id for a in m] for m in families.values()], "pairs": pairs}


def write(articles: int, seed: int, material: Path, out: Path) -> dict[str, int]:
    """Write ``articles.jsonl`` and ``truth.json`` under ``out``; returns counts."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[Article] = []
    with (out / "articles.jsonl").open("w", encoding="utf-8") as fh:
        for article in generate(articles, seed=seed, material=material):
            fh.write(json.dumps(article.body(), ensure_ascii=False) + "\n")
            made.append(_meta_only(article))
    result = truth(made)
    (out / "truth.json").write_text(json.dumps(result), encoding="utf-8")
    return {"articles": len(made), **{name: len(rows) for name, rows in result.items()}}


def _meta_only(a: Article) -> Article:
    # Truth needs ids and families only: drop the text to keep a million in memory.
    return Article(a.id, "", a.published_at, a.source, a.family, a.wire, a.kind)


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.synth", description=summary)
    parser.add_argument("--articles", type=int, required=True, help="how many articles")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    parser.add_argument(
        "--material",
        type=Path,
        default=DEFAULT_MATERIAL,
        help="folder of .txt articles or an MRPC-style .tsv (default: the project's seeds/)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    try:
        counts = write(args.articles, args.seed, args.material, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
