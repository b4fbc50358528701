"""Batch clustering: syndication families across a whole set of signatures.

Pure numpy, no Redis. The stages, each a function here:

1. ``candidate_pairs``: for each LSH band, sort the band keys and pair rows
   inside runs of equal keys. A pair with Jaccard ``s`` becomes a candidate
   with probability ``1 - (1 - s**r)**b`` (``PipelineConfig``): approximate,
   a missed candidate is a missed link. Runs longer than ``max_bucket``
   (boilerplate every article carries, or a huge family) are not expanded to
   all ``m(m-1)/2`` pairs: each row is paired with its next ``max_bucket - 1``
   neighbours in the run instead (a sliding window), and the run is counted
   in ``stats.oversized_buckets``. Members of one big family still connect
   through the window; only links that rely on that one band alone can be lost.
2. ``link``: candidates are verified with the online path's rule
   (``Scores.verdict``); only ``duplicate`` and ``syndicated`` links join
   rows in a ``UnionFind``. Pairs already in one component are not verified
   again (they cannot change the components), nor are pairs already rejected.
3. ``name_clusters``: components of two or more rows become clusters with an
   ``origin`` and a stable ``cluster_id``.

Verification comes in two flavours with the same interface:

- ``ShingleVerifier``: exact. ``compare`` on the shingle sets of the two
  texts, then ``verdict``, exactly as ``Index`` does for a posted article.
- ``SignatureVerifier``: an estimate for when the sets are too many to
  fetch or re-shingle (3-5 ms an article from text). Jaccard is the share of equal
  signature slots (standard error ``sqrt(J(1-J)/num_perm)``), set sizes are
  the MinHash cardinality estimate (about ``1/sqrt(num_perm)`` relative
  error, ~9% at 128), containment follows from those, and quotations cannot
  be told from narrative, so ``shared_narrative`` is taken as ``shared``. To
  keep that noise from merging families, the rule must hold with the Jaccard
  estimate lowered by ``z`` (default 2) standard errors; pairs in between
  stay apart (or go to an exact ``refine`` verifier). docs/clustering.md
  measures both flavours against known families.

Origins (``pick_origin``, documented in docs/clustering.md) weigh three
things, in this order: a member from a wire/agency source (``wire`` names,
e.g. ANI, PTI, Reuters) beats one from an outlet; among those still in the
running, a dated member later than another dated one drops out, while an
undated member stays in (an unknown date is not a later one); the rest are
compared by text. Every cluster says why (``origin_reason``).

Cluster ids (``cluster_id``) are a digest of the origin's article id. They
are stable across reruns over the same data (everything here is
deterministic), untouched clusters keep theirs when articles are added
elsewhere, and a cluster that grows by later articles keeps its origin and so
its id. When an earlier article joins (or two clusters merge) the origin and
the id follow the earliest member (among the wire-source members, when there
are any), i.e. the merged cluster keeps one of the two old ids. Where the
origin is chosen by text (no wire source, no dates) it can move when members
join: those ids are only stable while the membership is.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from shingling.config import PipelineConfig
from shingling.score import Scores, Thresholds, Verdict, compare
from shingling.shingles import Shingles
from shingling.signature import band_keys

#: Verdicts that put two articles in one family.
LINKING = frozenset({Verdict.DUPLICATE, Verdict.SYNDICATED})

Progress = Callable[[float], None]

#: Wire and news agencies whose copy outlets run (``COPYDESK_WIRE_SOURCES``
#: overrides it). A source matches a name when the name's words appear, in
#: order, among the source's words, case aside: "ANI" matches "ANI" and
#: "ANI News", "AP" matches "AP" but not "Apple".
DEFAULT_WIRE_SOURCES: tuple[str, ...] = (
    "ANI",
    "PTI",
    "IANS",
    "UNI",
    "Reuters",
    "AP",
    "Associated Press",
    "AFP",
    "Agence France-Presse",
    "UPI",
    "dpa",
    "EFE",
    "Xinhua",
    "Kyodo",
    "Yonhap",
)

_WORD = re.compile(r"\w+")
#: Members compared for the reason's text shares when wire or dates decided.
REASON_SAMPLE = 50


def wire_source(source: str | None, names: Sequence[str]) -> str | None:
    """The entry of ``names`` that ``source`` is (see ``DEFAULT_WIRE_SOURCES``), or None."""
    if not source:
        return None
    words = _WORD.findall(source.casefold())
    for name in names:
        want = _WORD.findall(name.casefold())
        if want and any(
            words[i : i + len(want)] == want for i in range(len(words) - len(want) + 1)
        ):
            return name
    return None


@dataclass(frozen=True)
class ClusterParams:
    """Knobs of the batch job (not of the index: changing them needs no re-ingest).

    ``max_bucket``: runs of equal band keys up to this size give all their
    pairs; longer runs a sliding window of this width. ``origin_sample``: at
    most this many other members are compared when choosing an origin by
    containment (approximate beyond it). ``slot_bands``: after the index's
    ``b`` bands of ``r`` rows, also use the first ``slot_bands`` signature
    slots as one-row bands. A pair with Jaccard ``s`` then becomes a candidate
    with probability ``1 - (1-s**r)**b * (1-s)**slot_bands``: what finds a
    short text reused inside a long one (high containment, Jaccard ~0.03,
    which ``r=2`` bands mostly miss), at the cost of many more candidates.
    ``passages``: also pair rows sharing a passage fingerprint, where the
    caller gives them (``link``). ``wire_sources``: agency names preferred as
    origins (``pick_origin``).
    """

    max_bucket: int = 64
    origin_sample: int = 200
    slot_bands: int = 0
    #: Also pair articles that share a passage fingerprint (``link``).
    passages: bool = True
    #: Sources whose members are preferred as origins (``wire_source``).
    wire_sources: tuple[str, ...] = DEFAULT_WIRE_SOURCES

    def __post_init__(self) -> None:
        if self.max_bucket < 2:
            raise ValueError(f"max_bucket must be >= 2, got {self.max_bucket}")
        if self.slot_bands < 0:
            raise ValueError(f"slot_bands must be >= 0, got {self.slot_bands}")
        if self.origin_sample < 1:
            raise ValueError(f"origin_sample must be >= 1, got {self.origin_sample}")


class UnionFind:
    """Disjoint sets over rows ``0..n-1`` (numpy parents, union by smaller root).

    ``union_many`` joins a whole batch of edges in a few vectorised sweeps;
    ``find``/``union`` are the scalar versions.
    """

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.parent)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = int(self.parent[root])
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, int(self.parent[x])
        return root

    def union(self, a: int, b: int) -> bool:
        """Join the sets of ``a`` and ``b``; False if they were already one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True

    def roots(self) -> np.ndarray:
        """The root of every row (compresses every path first)."""
        p = self.parent
        while True:
            grand = p[p]
            if np.array_equal(grand, p):
                return p
            p[:] = grand

    def union_many(self, a: np.ndarray, b: np.ndarray) -> None:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        while len(a):
            roots = self.roots()
            ra, rb = roots[a], roots[b]
            keep = ra != rb
            ra, rb, a, b = ra[keep], rb[keep], a[keep], b[keep]
            # Several edges may write one root at once; the last write wins and
            # the others are retried on the next sweep (each sweep joins >= 1).
            self.parent[np.maximum(ra, rb)] = np.minimum(ra, rb)

    def groups(self, min_size: int = 2) -> list[np.ndarray]:
        """Rows of every set with at least ``min_size`` members, each sorted."""
        roots = self.roots()
        order = np.argsort(roots, kind="stable")
        sorted_roots = roots[order]
        cuts = np.flatnonzero(np.diff(sorted_roots)) + 1
        return [g for g in np.split(order, cuts) if len(g) >= min_size]


class Verifier(Protocol):
    """Says which candidate pairs (row indices) are syndicated or duplicate."""

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...


class NamingVerifier(Verifier, Protocol):
    """A verifier that also gives the containments origins are chosen by."""

    def containment_matrix(self, rows: np.ndarray) -> np.ndarray: ...


def link_mask(
    jaccard: np.ndarray,
    containment: np.ndarray,
    reverse: np.ndarray,
    shared: np.ndarray,
    narrative: np.ndarray,
    t: Thresholds,
) -> np.ndarray:
    """``Scores.verdict(t) in LINKING`` for arrays of scores (same rule, vectorised)."""
    duplicate = jaccard >= t.duplicate_jaccard
    syndicated = (np.maximum(containment, reverse) >= t.syndicated_containment) & (
        narrative >= t.syndicated_narrative
    )
    return np.asarray(duplicate | syndicated, dtype=bool)


def estimate_cardinality(sigs: np.ndarray) -> np.ndarray:
    """MinHash estimate of each set's size from its signature (row-wise).

    The minimum of ``n`` uniform 32-bit values is about ``2^32 / (n + 1)``;
    averaged over the slots (relative error about ``1/sqrt(num_perm)``).
    """
    frac = sigs.astype(np.float64).sum(axis=-1) / float(1 << 32)
    return np.asarray(np.maximum(sigs.shape[-1] / np.maximum(frac, 1e-12) - 1.0, 1.0))


class SignatureVerifier:
    """Estimated scores from signatures alone (see the module docstring).

    A pair is linked only when the rule holds with the Jaccard estimate
    lowered by ``z`` standard errors (``sqrt(J(1-J)/num_perm)``): near the
    thresholds the estimate cannot tell, and a false link merges two families
    while a missed one is often recovered through another member. Pairs that
    pass at the point estimate but not at the lower bound (the grey zone) go
    to ``refine`` (e.g. a ``ShingleVerifier``) when one is given, else stay
    apart. ``grey_pairs`` counts them.
    """

    def __init__(
        self,
        sigs: np.ndarray,
        config: PipelineConfig,
        thresholds: Thresholds,
        *,
        z: float = 2.0,
        refine: Verifier | None = None,
        chunk: int = 1 << 16,
    ) -> None:
        self.sigs = sigs
        self.sizes = estimate_cardinality(sigs)
        self.num_perm = config.num_perm
        self.thresholds = thresholds
        self.z = z
        self.refine = refine
        self.grey_pairs = 0
        self.chunk = chunk

    def scores(
        self, a: np.ndarray, b: np.ndarray, z: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Estimated (jaccard, containment of a in b, of b in a, shared) per pair,
        with the Jaccard estimate lowered by ``z`` standard errors."""
        equal = np.empty(len(a), dtype=np.int64)
        for i in range(0, len(a), self.chunk):
            s = slice(i, i + self.chunk)
            equal[s] = np.count_nonzero(self.sigs[a[s]] == self.sigs[b[s]], axis=1)
        jaccard = equal / self.num_perm
        if z:
            jaccard = np.maximum(jaccard - z * np.sqrt(jaccard * (1 - jaccard) / self.num_perm), 0)
        size_a, size_b = self.sizes[a], self.sizes[b]
        shared = jaccard * (size_a + size_b) / (1.0 + jaccard)
        return jaccard, shared / size_a, shared / size_b, shared

    def _rule(self, a: np.ndarray, b: np.ndarray, z: float) -> np.ndarray:
        jaccard, cont, rev, shared = self.scores(a, b, z)
        return link_mask(jaccard, cont, rev, shared, shared, self.thresholds)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sure = self._rule(a, b, self.z)
        grey = self._rule(a, b, 0.0) & ~sure if self.z else np.zeros(len(a), dtype=bool)
        self.grey_pairs += int(grey.sum())
        if self.refine is not None and grey.any():
            sure[grey] = self.refine(a[grey], b[grey])
        return sure

    def containment_matrix(self, rows: np.ndarray) -> np.ndarray:
        """``M[i, j]``: estimated share of ``rows[i]``'s shingles found in ``rows[j]``."""
        s = self.sigs[rows]
        jaccard = (s[:, None, :] == s[None, :, :]).mean(axis=2)
        size = self.sizes[rows]
        shared = jaccard * (size[:, None] + size[None, :]) / (1.0 + jaccard)
        return np.asarray(shared / size[:, None])


class ShingleVerifier:
    """Exact scores: ``compare`` + ``verdict`` on shingle sets, as the index does.

    ``shingles_of(rows)`` returns the ``Shingles`` of those rows (the caller
    decides where texts come from: files, Redis); results are kept for reuse.
    """

    def __init__(
        self,
        shingles_of: Callable[[Sequence[int]], Sequence[Shingles]],
        thresholds: Thresholds,
    ) -> None:
        self._fetch = shingles_of
        self.thresholds = thresholds
        self._cache: dict[int, Shingles] = {}

    def _get(self, rows: np.ndarray) -> None:
        missing = [int(r) for r in np.unique(rows) if int(r) not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._fetch(missing), strict=True))

    def score(self, a: int, b: int) -> Scores:
        self._get(np.array([a, b]))
        return compare(self._cache[a], self._cache[b])

    def scores(self, a: np.ndarray, b: np.ndarray) -> list[Scores]:
        """Exact scores of the pairs ``(a[i], b[i])``."""
        self._get(np.concatenate([a, b]))
        cache = self._cache
        return [compare(cache[x], cache[y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)]

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        t = self.thresholds
        return np.array([s.verdict(t) in LINKING for s in self.scores(a, b)], dtype=bool)

    def containment_matrix(self, rows: np.ndarray) -> np.ndarray:
        self._get(rows)
        m = np.eye(len(rows))
        for i, x in enumerate(rows):
            for j in range(i + 1, len(rows)):
                s = compare(self._cache[int(x)], self._cache[int(rows[j])])
                m[i, j], m[j, i] = s.containment, s.reverse_containment
        return m


def candidate_pairs(keys: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of rows with equal ``keys`` (one band), as ``(a, b, oversized)``.

    ``a < b`` row-wise. Runs of up to ``max_bucket`` equal keys give all their
    pairs; longer runs pair each row with the next ``max_bucket - 1`` rows of
    the run (in row order), and count in ``oversized``.
    """
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    lengths = np.diff(np.r_[starts, len(sk)])
    multi = lengths >= 2
    if not multi.any():
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, 0
    run_len = lengths[multi]
    # Every sorted position inside a run of 2+, with the end of its run.
    in_multi = np.repeat(multi, lengths)
    pos = np.flatnonzero(in_multi)
    end = np.repeat(starts + lengths, lengths)[in_multi]
    firsts, seconds = [], []
    for d in range(1, min(int(run_len.max()), max_bucket)):
        ok = pos + d < end
        if not ok.any():
            break
        firsts.append(order[pos[ok]])
        seconds.append(order[pos[ok] + d])
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    return np.minimum(a, b), np.maximum(a, b), int((run_len > max_bucket).sum())


def _unique(x: np.ndarray) -> np.ndarray:
    # Sort-based: numpy 2's hash-based np.unique is several times slower on
    # millions of uint64 pair codes (measured: 24 s of a 33 s run at 100k).
    x = np.sort(x)
    return x[np.r_[True, x[1:] != x[:-1]]] if len(x) else x


def _contains(sorted_set: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x in sorted_set`` element-wise (``sorted_set`` sorted and unique)."""
    if not len(sorted_set):
        return np.zeros(len(x), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, x), len(sorted_set) - 1)
    return np.asarray(sorted_set[at] == x)


@dataclass
class Stats:
    """What the job did, for its summary."""

    articles: int = 0
    candidate_pairs: int = 0
    verified_pairs: int = 0
    linked_pairs: int = 0
    oversized_buckets: int = 0
    passage_pairs: int = 0  # candidate pairs offered by shared passage fingerprints
    stock_fingerprints: int = 0  # fingerprints carried by more than max_bucket articles
    timings: dict[str, float] = field(default_factory=dict)


def passage_pairs(
    fingerprints: Sequence[np.ndarray], max_bucket: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of rows that share a passage fingerprint, as ``(a, b, stock)``.

    ``fingerprints[row]`` is that row's sorted, distinct fingerprints
    (``shingling.passages.fingerprints``). A fingerprint carried by more than
    ``max_bucket`` rows is a stock passage (boilerplate, a standard phrase):
    it gives no pairs at all and is counted in ``stock``. The online index
    keeps the newest ``max_bucket`` carriers of a fingerprint (service/storage/keys.py
    FINGERPRINT_CAP) for the same reason.
    """
    lengths = np.fromiter((len(f) for f in fingerprints), dtype=np.int64, count=len(fingerprints))
    if not lengths.sum():
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, 0
    rows = np.repeat(np.arange(len(fingerprints)), lengths)
    keys = np.concatenate([np.asarray(f, dtype=np.uint32) for f in fingerprints])
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    run = np.diff(np.r_[starts, len(sk)])
    common = np.repeat(run > max_bucket, run)
    kept = order[~common]
    a, b, _ = candidate_pairs(keys[kept], max_bucket)
    ra, rb = rows[kept][a], rows[kept][b]
    return np.minimum(ra, rb), np.maximum(ra, rb), int((run > max_bucket).sum())


def _join(
    uf: UnionFind,
    a: np.ndarray,
    b: np.ndarray,
    rejected: np.ndarray,
    verify: Verifier,
    stats: Stats,
) -> np.ndarray:
    """Verify the pairs not yet in one component nor rejected, join those that
    link; returns the rejected pair codes, updated."""
    roots = uf.roots()
    open_ = roots[a] != roots[b]
    code = _unique((a[open_].astype(np.uint64) << np.uint64(32)) | b[open_].astype(np.uint64))
    code = code[~_contains(rejected, code)]
    a = (code >> np.uint64(32)).astype(np.int64)
    b = (code & np.uint64(0xFFFFFFFF)).astype(np.int64)
    t = time.perf_counter()
    ok = verify(a, b) if len(a) else np.empty(0, dtype=bool)
    stats.timings["verify"] = stats.timings.get("verify", 0.0) + time.perf_counter() - t
    stats.verified_pairs += len(a)
    stats.linked_pairs += int(ok.sum())
    uf.union_many(a[ok], b[ok])
    return _unique(np.concatenate([rejected, code[~ok]]))


def link(
    sigs: np.ndarray,
    config: PipelineConfig,
    verify: Verifier,
    *,
    params: ClusterParams | None = None,
    progress: Progress | None = None,
    stats: Stats | None = None,
    fingerprints: Sequence[np.ndarray] | None = None,
    passage_verify: Verifier | None = None,
) -> UnionFind:
    """Union-find of rows joined by verified links: band by band, then (when
    ``fingerprints`` are given) the pairs that share a passage fingerprint,
    verified by ``passage_verify`` (default ``verify``).

    The rule is the same for both generators: a pair joins a family when it
    is ``duplicate`` or ``syndicated`` (``LINKING``); a ``partial`` pair, a
    shared passage that is under ``syndicated_containment`` of both articles
    (a boilerplate paragraph, a shared quotation), never does. Fingerprints
    only add candidates a whole-document band misses: a story pasted into a
    longer page.
    """
    params = params or ClusterParams()
    stats = stats if stats is not None else Stats()
    stats.articles = len(sigs)
    uf = UnionFind(len(sigs))
    rejected = np.empty(0, dtype=np.uint64)
    t0 = time.perf_counter()
    bands = band_keys(sigs, config) if len(sigs) else np.empty((0, config.b), np.uint32)
    stats.timings["band_keys"] = time.perf_counter() - t0
    stats.timings["verify"] = 0.0
    slots = min(params.slot_bands, sigs.shape[1] if sigs.ndim == 2 else 0)
    total = config.b + slots + (fingerprints is not None and params.passages)
    for band in range(config.b + slots):
        keys = bands[:, band] if band < config.b else sigs[:, band - config.b]
        a, b, oversized = candidate_pairs(keys, params.max_bucket)
        stats.oversized_buckets += oversized
        stats.candidate_pairs += len(a)
        rejected = _join(uf, a, b, rejected, verify, stats)
        if progress is not None:
            progress((band + 1) / total)
    if fingerprints is not None and params.passages:
        a, b, stock = passage_pairs(fingerprints, params.max_bucket)
        stats.passage_pairs, stats.stock_fingerprints = len(a), stock
        stats.candidate_pairs += len(a)
        _join(uf, a, b, rejected, passage_verify or verify, stats)
        if progress is not None:
            progress(1.0)
    stats.timings["link"] = time.perf_counter() - t0
    return uf


@dataclass(frozen=True)
class Cluster:
    cluster_id: str
    origin: str
    members: list[str]  # sorted
    #: Why ``origin`` was chosen (``pick_origin``): wire source, dates, text shares.
    origin_reason: str = ""


def cluster_id(origin_id: str) -> str:
    """A stable id for the cluster whose origin is ``origin_id``."""
    digest = hashlib.blake2b(origin_id.encode("utf-8", "surrogatepass"), digest_size=8)
    return "c" + digest.hexdigest()


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: ``pick_origin``'s sort key of a competitor: smallest first.
_Key = tuple[float, float, bool, str]


def pick_origin(
    ids: Sequence[str],
    published: np.ndarray,
    containment: Callable[[np.ndarray], np.ndarray],
    sample: int = 200,
    *,
    sources: Sequence[str | None] | None = None,
    wire: Sequence[str] = (),
) -> tuple[int, str]:
    """The likely origin of one cluster, as (index into ``ids``, why).

    1. **Wire**: when some members' ``sources`` are wire/agency names
       (``wire``, see ``wire_source``), only they compete.
    2. **Dates** (``published``, epoch seconds, NaN = unknown): a competitor
       dated later than another dated competitor drops out. Undated ones stay
       in: an unknown date is not a later date, so an undated wire story is
       not displaced by a dated rework just because that one has a date.
    3. **Text**, among those left: ``containment(rows)[i, j]`` is the share of
       ``i``'s shingles found in ``j``. For each member, ``carried`` = the mean
       share of its text found in the others, ``held`` = the mean share of the
       others' text found in it. The origin sits in the middle of its family:
       the copies take from it (high ``carried``) and what they took is in it
       (high ``held``); a trimmed copy has a high ``carried`` but a low
       ``held``, an extended one the reverse. Largest ``carried + held`` wins;
       ties (always so in a family of two, where the sum is the same for
       both) go to the larger ``held``, the fuller text (an outlet's copy more
       often cuts wire copy than extends it), then to a dated member over an
       undated one, then to the smallest id.

    Shares are measured over at most ``sample`` members (the competitors with
    the smallest ids, then the other smallest ids): approximate beyond it.
    When wire or dates leave one competitor, they only go into the reason,
    measured over at most ``REASON_SAMPLE`` members.
    """
    competing, why = _competitors(len(ids), published, sources, wire)
    if len(competing) > sample:
        competing = np.array(sorted(competing.tolist(), key=lambda i: ids[i])[:sample])
    rows, carried, held = _shares(ids, competing, containment, sample)
    at = {int(r): i for i, r in enumerate(rows)}

    def key(i: int) -> _Key:
        c, h = float(carried[at[i]]), float(held[at[i]])
        return (-round(c + h, 9), -round(h, 9), bool(np.isnan(published[i])), ids[i])

    best = min(competing.tolist(), key=key)
    if len(competing) > 1:
        why.append(_tie_reason([key(i) for i in competing.tolist()], key(best)))
    c, h = float(carried[at[best]]), float(held[at[best]])
    if len(rows) == 2:
        why.append(f"the other carries {_pct(c)} of its text, it holds {_pct(h)} of the other's")
    elif len(rows) > 2:
        why.append(f"the others carry {_pct(c)} of its text, it holds {_pct(h)} of theirs (mean)")
    return int(best), "; ".join(why)


def _competitors(
    n: int, published: np.ndarray, sources: Sequence[str | None] | None, wire: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """``pick_origin``'s steps 1 and 2: the members (of ``n``) still competing
    after the wire and date rules, and the reasons those rules give."""
    names = [wire_source(s, wire) for s in sources] if sources is not None else [None] * n
    competing = np.flatnonzero([w is not None for w in names])
    why: list[str] = []
    if len(competing):
        why.append(
            f"wire source ({names[competing[0]]})"
            if len(competing) == 1
            else f"one of {len(competing)} wire-source members"
        )
    else:
        competing = np.arange(n)
    dated = ~np.isnan(published[competing])
    if dated.any():
        earliest = float(published[competing][dated].min())
        keep = ~dated | (published[competing] == earliest)
        if not keep.all():
            if keep.sum() == 1:
                why.append(f"earliest published_at ({_iso(earliest)})")
            else:
                why.append(f"no later published_at than {_iso(earliest)}")
        competing = competing[keep]
    return competing, why


def _shares(
    ids: Sequence[str],
    competing: np.ndarray,
    containment: Callable[[np.ndarray], np.ndarray],
    sample: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The members the shares are measured over (the competitors with the
    smallest ids, then the other smallest ids), and each one's ``carried``
    and ``held`` (mean share of its text in the others, of theirs in it)."""
    by_id = sorted(range(len(ids)), key=lambda i: ids[i])
    pool = list(dict.fromkeys([*sorted(competing.tolist(), key=lambda i: ids[i]), *by_id]))
    # Decided already (one competitor): the shares only go into the reason, over fewer.
    width = max(sample, len(competing)) if len(competing) > 1 else min(sample, REASON_SAMPLE)
    rows = np.array(sorted(pool[:width]))
    m = np.array(containment(rows), dtype=np.float64)
    np.fill_diagonal(m, 0.0)
    others = max(len(rows) - 1, 1)
    return rows, m.sum(axis=1) / others, m.sum(axis=0) / others


def _tie_reason(keys: Sequence[_Key], best: _Key) -> str:
    """Why the best of several competitors won, from their sort keys."""
    tied = sum(k[:3] == best[:3] for k in keys)
    if tied > 1:
        return f"smallest id of {tied} with the same text shares"
    if sum(k[:2] == best[:2] for k in keys) > 1:
        return "dated, where the others with the same text shares are not"
    if sum(k[0] == best[0] for k in keys) > 1:
        return "tied on shared text: the fuller one, holding more of the others' text"
    return f"the most text shared with the others, of {len(keys)} candidates"


def name_clusters(
    groups: Sequence[np.ndarray],
    ids: Sequence[str],
    published: Callable[[np.ndarray], np.ndarray],
    containment: Callable[[np.ndarray], np.ndarray],
    *,
    params: ClusterParams | None = None,
    progress: Progress | None = None,
    sources: Callable[[np.ndarray], Sequence[str | None]] | None = None,
) -> list[Cluster]:
    """Clusters (sorted by id) from groups of rows; ``published(rows)`` gives epochs,
    ``sources(rows)`` the outlets (matched against ``params.wire_sources``)."""
    params = params or ClusterParams()
    out = []
    for i, rows in enumerate(groups):
        rows = np.asarray(rows)
        member_ids = [ids[int(r)] for r in rows]

        def among(sub: np.ndarray, rows: np.ndarray = rows) -> np.ndarray:
            return containment(rows[sub])

        origin, reason = pick_origin(
            member_ids,
            np.asarray(published(rows), dtype=np.float64),
            among,
            params.origin_sample,
            sources=sources(rows) if sources is not None else None,
            wire=params.wire_sources,
        )
        out.append(
            Cluster(cluster_id(member_ids[origin]), member_ids[origin], sorted(member_ids), reason)
        )
        if progress is not None and (i % 1000 == 0 or i == len(groups) - 1):
            progress((i + 1) / len(groups))
    out.sort(key=lambda c: c.cluster_id)
    return out


@dataclass
class ClusterResult:
    clusters: list[Cluster]
    stats: Stats


def cluster_signatures(
    sigs: np.ndarray,
    ids: Sequence[str],
    published: np.ndarray,
    config: PipelineConfig,
    verify: NamingVerifier,
    *,
    params: ClusterParams | None = None,
    progress: Progress | None = None,
    fingerprints: Sequence[np.ndarray] | None = None,
    passage_verify: Verifier | None = None,
    sources: Sequence[str | None] | None = None,
) -> ClusterResult:
    """The whole job over in-memory inputs: link, group, name.

    ``published``: epoch seconds per row, NaN where unknown; ``sources``: the
    outlet per row (None where unknown), for the origins. ``progress``
    receives 0..1 (linking is the first 90%).
    """
    stats = Stats()
    uf = link(
        sigs,
        config,
        verify,
        params=params,
        stats=stats,
        progress=(lambda f: progress(0.9 * f)) if progress else None,
        fingerprints=fingerprints,
        passage_verify=passage_verify,
    )
    t = time.perf_counter()
    groups = uf.groups()
    clusters = name_clusters(
        groups,
        ids,
        lambda rows: published[rows],
        verify.containment_matrix,
        params=params,
        progress=(lambda f: progress(0.9 + 0.1 * f)) if progress else None,
        sources=(lambda rows: [sources[int(r)] for r in rows]) if sources is not None else None,
    )
    stats.timings["origins"] = time.perf_counter() - t
    return ClusterResult(clusters, stats)
