"""The batch clustering job on Dask (``copydesk cluster --engine dask``).

The same run as ``service.jobs.run.cluster``, with its stages spread
over the tasks of a ``dask.distributed`` cluster: a ``LocalCluster`` of worker
processes on 127.0.0.1 by default, or a running scheduler
(``--scheduler tcp://HOST:PORT``). Every task opens Redis itself from the URL
it is given (never a client object) and names keys through ``service.storage.keys``.

1. **Read** (one task per partition of the sorted doc numbers, whole ``sig``
   blocks each): the partition's signatures, the live ones' band keys
   (``band_keys``, plus ``slot_bands`` one-slot bands) and, with passages,
   their fingerprints. Each entry goes to one of ``shuffle`` buckets by a hash
   of (band, key), or of the fingerprint.
2. **Pairs** (one task per bucket): every partition's piece of that bucket,
   in doc order, through ``candidate_pairs`` band by band and
   ``passage_pairs``: a run of equal keys lies in one bucket, so these are
   exactly the pairs the in-process job makes. Pairs go to ``shuffle``
   verification buckets by a hash of the pair.
3. **Verify** (one task per pair bucket): band pairs with the mode's verifier
   (exact on the stored shingle sets, or estimated from signatures), and the
   passage pairs that are not band pairs always exactly, as ``link`` does.
4. **Components** at the client: the linked pairs into the same
   ``UnionFind``; the groups then go, in chunks, to tasks that choose their
   origins with ``name_clusters`` on the members' dates, sources and texts.

Why the result equals the in-process job's: ``link`` skips a pair already in
one component (it cannot change the components) and never re-verifies a
rejected one, and each verifier's answer for a pair depends on that pair
alone. So its components are those of the graph of every band pair its
verifier links plus every other passage pair the exact verifier links; that is
the graph built here. Groups (rows of a component, by smallest row) and
origins then come from the same functions on the same inputs. Only the counts
that depend on the order differ: ``verified_pairs`` here counts every distinct
pair. tests/service/jobs/test_dask_engine.py checks ARI 1.0 and the same origins.

Worth it above some tens of thousands of articles on several cores or
machines; below that, starting the workers costs more than the job
(docs/benchmarks.md, "Batch job on Dask"). API jobs stay in-process.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import redis
from redis.cluster import RedisCluster

from service.jobs.run import cluster_params, summarise, thresholds_for, verify_mode
from service.jobs.sources import IndexSource
from service.jobs.store import JobParams
from service.storage.keys import load_keys
from service.storage.layout import SIG_BLOCK_BITS
from service.storage.server import connect_url
from service.storage.snapshot import (
    load_fingerprints,
    read_ids,
    read_published,
    read_signatures,
    stored_shingles,
)
from shingling import PipelineConfig, Thresholds
from shingling.families import (
    DEFAULT_WIRE_SOURCES,
    Cluster,
    ClusterParams,
    ShingleVerifier,
    SignatureVerifier,
    UnionFind,
    _contains,
    _unique,
    candidate_pairs,
    name_clusters,
    passage_pairs,
)
from shingling.signature import band_keys

#: Doc numbers per read task: whole ``sig`` blocks (1024 slots each).
PARTITION_DOCS = 8 << SIG_BLOCK_BITS
#: Members per origin task (whole clusters).
NAME_CHUNK = 20_000
_EMPTY = np.empty(0, dtype=np.int64)
_CODES = np.empty(0, dtype=np.uint64)


def _mix(x: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64): bucket numbers from keys."""
    x = np.asarray(x, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)))


def _codes(a_docs: np.ndarray, b_docs: np.ndarray) -> np.ndarray:
    """Pair codes ``a << 32 | b`` of ranks (a doc's place among the run's sorted
    doc numbers: fewer than 2**32, where a partition's doc numbers are not)."""
    return (a_docs.astype(np.uint64) << np.uint64(32)) | b_docs.astype(np.uint64)


def _split_codes(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = (code >> np.uint64(32)).astype(np.int64)
    return a, (code & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _redis(url: str) -> redis.Redis:
    return connect_url(url, socket_timeout=120)  # a Redis Cluster node's URL gives RedisCluster


# -- the tasks (run on the workers; plain arguments only) ---------------------
def read_part(
    url: str,
    index: str,
    config_json: str,
    docs: np.ndarray,
    first: int,
    slot_bands: int,
    passages: bool,
    shuffle: int,
) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """Stage 1 for sorted doc numbers ``docs``, the run's from rank ``first``
    on: (the live ones' ranks, one piece per bucket).

    A piece is ``(band, key, rank, fingerprint, fp_rank)``, each array in doc order."""
    config = PipelineConfig.from_json(config_json)
    client = _redis(url)
    keys = load_keys(client, index)
    try:
        sigs = read_signatures(client, keys, config.num_perm, docs)
        live = sigs.any(axis=1)  # zeros: replaced or deleted while we read
        docs, sigs, ranks = docs[live], sigs[live], first + np.flatnonzero(live)
        fps = load_fingerprints(client, keys, docs) if passages else []
    finally:
        client.close()
    slots = min(slot_bands, config.num_perm)
    bands = band_keys(sigs, config) if len(sigs) else np.empty((0, config.b), np.uint32)
    table = np.hstack([bands.astype(np.uint32), sigs[:, :slots].astype(np.uint32)])
    width = table.shape[1]
    key = table.ravel()  # doc-major: each doc's bands in order
    band = np.tile(np.arange(width, dtype=np.int64), len(docs))
    doc = np.repeat(ranks, width)
    bucket = (_mix((band.astype(np.uint64) << np.uint64(32)) | key) % np.uint64(shuffle)).astype(
        np.int64
    )
    lengths = np.fromiter((len(f) for f in fps), dtype=np.int64, count=len(fps))
    fp = np.concatenate(fps).astype(np.uint32) if lengths.sum() else np.empty(0, np.uint32)
    fp_doc = np.repeat(ranks, lengths) if len(fps) else _EMPTY
    fp_bucket = (_mix(fp) % np.uint64(shuffle)).astype(np.int64)
    pieces: list[tuple[np.ndarray, ...]] = []
    for h in range(shuffle):
        on, fon = bucket == h, fp_bucket == h
        pieces.append((band[on], key[on], doc[on], fp[fon], fp_doc[fon]))
    return ranks, pieces


def bucket_pairs(
    max_bucket: int, shuffle: int, *pieces: tuple[np.ndarray, ...]
) -> tuple[dict[str, int], list[tuple[np.ndarray, np.ndarray]]]:
    """Stage 2 for one bucket, its pieces in partition order: the candidate pairs,
    as (counts, one ``(band codes, passage codes)`` per verification bucket)."""
    band = np.concatenate([p[0] for p in pieces]) if pieces else _EMPTY
    key = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0, np.uint32)
    doc = np.concatenate([p[2] for p in pieces]) if pieces else _EMPTY
    counts = {"candidate_pairs": 0, "oversized_buckets": 0, "passage_pairs": 0}
    counts["stock_fingerprints"] = 0
    found = [_CODES]
    # Stable sorts keep doc order inside a band and inside a run of equal keys,
    # the row order ``candidate_pairs`` windows an oversized run in.
    order = np.argsort(band, kind="stable")
    band, key, doc = band[order], key[order], doc[order]
    cuts = np.flatnonzero(np.diff(band)) + 1
    for keys_of, docs_of in zip(np.split(key, cuts), np.split(doc, cuts), strict=True):
        if not len(keys_of):
            continue
        a, b, oversized = candidate_pairs(keys_of, max_bucket)
        counts["candidate_pairs"] += len(a)
        counts["oversized_buckets"] += oversized
        found.append(_codes(docs_of[a], docs_of[b]))
    band_codes = _unique(np.concatenate(found))
    passage_codes = _CODES
    fp = np.concatenate([p[3] for p in pieces]) if pieces else np.empty(0, np.uint32)
    fp_doc = np.concatenate([p[4] for p in pieces]) if pieces else _EMPTY
    if len(fp):
        order = np.argsort(fp_doc, kind="stable")  # a doc's fingerprints in its order
        fp, fp_doc = fp[order], fp_doc[order]
        starts = np.flatnonzero(np.r_[True, fp_doc[1:] != fp_doc[:-1]])
        owners = fp_doc[starts]
        a, b, stock = passage_pairs(np.split(fp, starts[1:]), max_bucket)
        counts["passage_pairs"] += len(a)
        counts["candidate_pairs"] += len(a)
        counts["stock_fingerprints"] += stock
        passage_codes = _unique(_codes(owners[a], owners[b]))
    out = []
    band_to = (_mix(band_codes) % np.uint64(shuffle)).astype(np.int64)
    passage_to = (_mix(passage_codes) % np.uint64(shuffle)).astype(np.int64)
    for v in range(shuffle):
        out.append((band_codes[band_to == v], passage_codes[passage_to == v]))
    return counts, out


def verify_part(
    url: str,
    index: str,
    config_json: str,
    thresholds: dict[str, Any],
    mode: str,
    numbers: np.ndarray,
    *pieces: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, dict[str, int]]:
    """Stage 3 for one pair bucket: (linked pair codes, counts). ``numbers``:
    the doc number of each rank."""
    config = PipelineConfig.from_json(config_json)
    t = Thresholds(**thresholds)
    band = _unique(np.concatenate([_CODES, *(p[0] for p in pieces)]))
    passage = _unique(np.concatenate([_CODES, *(p[1] for p in pieces)]))
    # A band pair was verified (and maybe rejected) by the mode's verifier:
    # ``link`` does not offer it again as a passage pair.
    passage = passage[~_contains(band, passage)]
    ba, bb = _split_codes(band)
    pa, pb = _split_codes(passage)
    docs = _unique(np.concatenate([ba, bb, pa, pb]))  # ranks, sorted: so are their numbers
    client = _redis(url)
    try:
        keys = load_keys(client, index)
        exact = ShingleVerifier(stored_shingles(client, keys, config, numbers[docs]), t)
        verifier: ShingleVerifier | SignatureVerifier = exact
        if mode == "estimate":
            sigs = read_signatures(client, keys, config.num_perm, numbers[docs])
            verifier = SignatureVerifier(sigs, config, t)

        def rows(d: np.ndarray) -> np.ndarray:
            return np.asarray(np.searchsorted(docs, d))

        ok_band = verifier(rows(ba), rows(bb)) if len(ba) else np.zeros(0, bool)
        ok_passage = exact(rows(pa), rows(pb)) if len(pa) else np.zeros(0, bool)
    finally:
        client.close()
    counts = {
        "verified_pairs": len(band) + len(passage),
        "linked_pairs": int(ok_band.sum() + ok_passage.sum()),
        "grey_pairs": int(getattr(verifier, "grey_pairs", 0)),
    }
    return np.concatenate([band[ok_band], passage[ok_passage]]), counts


def name_part(
    url: str,
    index: str,
    config_json: str,
    thresholds: dict[str, Any],
    mode: str,
    groups: list[np.ndarray],
    ids: list[str],
    params: dict[str, Any],
) -> list[Cluster]:
    """Stage 4 for whole groups of doc numbers (``ids`` their article ids, in the
    same order): their clusters, origins chosen as the in-process job does."""
    config = PipelineConfig.from_json(config_json)
    t = Thresholds(**thresholds)
    cparams = ClusterParams(**{**params, "wire_sources": tuple(params["wire_sources"])})
    docs = np.concatenate(groups) if groups else _EMPTY
    client = _redis(url)
    try:
        keys = load_keys(client, index)
        epochs, sources = read_published(client, keys, docs)
        verifier: ShingleVerifier | SignatureVerifier
        if mode == "exact":
            verifier = ShingleVerifier(stored_shingles(client, keys, config, docs), t)
        else:
            sigs = read_signatures(client, keys, config.num_perm, np.sort(docs))
            verifier = SignatureVerifier(sigs[np.argsort(np.argsort(docs))], config, t)
        bounds = np.cumsum([0, *(len(g) for g in groups)])
        local = [np.arange(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        return name_clusters(
            local,
            ids,
            lambda rows: epochs[rows],
            verifier.containment_matrix,
            params=cparams,
            sources=lambda rows: [sources[int(r)] for r in rows],
        )
    finally:
        client.close()


# -- the client side ------------------------------------------------------------
@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Any]:
    """A ``distributed.Client``: of ``scheduler``, or of a LocalCluster of ``workers``
    single-threaded processes on 127.0.0.1 (no dashboard), closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def redis_url_of(client: redis.Redis) -> str:
    """A URL that opens the same Redis as ``client`` (TCP or unix socket; of a
    Redis Cluster, one of its nodes)."""
    if isinstance(client, RedisCluster):
        kw = client.get_nodes()[0].redis_connection.connection_pool.connection_kwargs
    else:
        kw = client.connection_pool.connection_kwargs
    auth = ""
    if kw.get("password"):
        from urllib.parse import quote

        auth = f"{quote(kw.get('username') or '')}:{quote(kw['password'])}@"
    if kw.get("path"):
        return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{auth}{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


@dataclass
class _Run:
    """What every task of one run is given."""

    dask: Any  # a distributed.Client
    url: str
    index: str
    config_json: str
    thresholds: dict[str, Any]
    shuffle: int
    docs: np.ndarray  # the run's sorted doc numbers: a rank is a place in it
    numbers: Any = None  # ``docs`` scattered to every worker (a future)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.dask.submit(fn, *args)

    def item(self, future: Any, i: int) -> Any:
        return self.dask.submit(operator.getitem, future, i)


def _refuse_in_process_only(params: JobParams) -> None:
    if params.rewritten:
        raise ValueError(
            "rewritten links (the sentence aligner) run on the in-process engine only: "
            "start the job without the Dask engine"
        )


def run_dask(
    source: IndexSource,
    config: PipelineConfig,
    thresholds: Thresholds,
    params: JobParams,
    progress: Callable[[float], None] | None = None,
    *,
    wire_sources: Sequence[str] = DEFAULT_WIRE_SOURCES,
    dask: Any,
    redis_url: str | None = None,
    partition_docs: int = PARTITION_DOCS,
    shuffle: int | None = None,
) -> tuple[dict[str, Any], list[Cluster]]:
    """``cluster`` over the index ``source`` on the Dask cluster of ``dask`` (a
    ``distributed.Client``); called as ``cluster`` is, so ``execute(...,
    run=partial(run_dask, dask=...))`` runs it as a recorded job. ``redis_url``:
    how the workers reach this Redis (default: from the source's client)."""
    _refuse_in_process_only(params)
    report = progress or (lambda _: None)
    t0 = time.perf_counter()
    by_doc = read_ids(source.client, source.keys, since=params.since, until=params.until)
    nthreads = max(1, sum(dask.nthreads().values()))
    t = thresholds_for(thresholds, params.thresholds)
    url = redis_url or redis_url_of(source.client)
    shuffle = shuffle or max(2, min(64, 2 * nthreads))
    docs = np.array(sorted(by_doc), dtype=np.int64)
    run = _Run(dask, url, source.keys.index, config.to_json(), asdict(t), shuffle, docs)
    run.numbers = dask.scatter(docs, broadcast=True)
    timings: dict[str, float] = {}
    lap = time.perf_counter
    read, live = _read(run, params, partition_docs)
    report(0.15)
    timings["read"] = lap() - t0
    mode = verify_mode(params.verify, len(live))
    t1 = lap()
    pairs = _pairs(run, read, params.max_bucket)
    timings["pairs"], t2 = lap() - t1, lap()
    report(0.35)
    linked, counts, checked = _verify(run, pairs, mode)
    timings["verify"], t3 = lap() - t2, lap()
    report(0.8)
    groups = _components(live, linked)
    cparams = cluster_params(params, wire_sources)
    clusters, named = _name(run, groups, docs[live], by_doc, mode, cparams)
    timings["components"] = lap() - t3
    report(1.0)
    _forget([*read, *pairs, *checked, *named, run.numbers])
    summary = {
        **summarise(len(live), clusters),
        "verify": mode,
        **counts,
        "seconds": round(time.perf_counter() - t0, 3),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "engine": "dask",
        "dask_threads": nthreads,
        "partitions": len(read),
        "shuffle": run.shuffle,
    }
    return summary, clusters


def _forget(futures: Sequence[Any]) -> None:
    """Let the scheduler drop a finished run's results. Released, not
    cancelled: a cancel walks each key's dependents, and for a dependent this
    client already let go it trips the scheduler (``assert ts.who_wants`` in
    ``stimulus_cancel``, logged as an ERROR)."""
    for f in futures:
        f.release()


def _read(run: _Run, params: JobParams, partition_docs: int) -> tuple[list[Any], np.ndarray]:
    """Stage 1: a read task per partition of whole sig blocks; (their futures,
    the live docs' ranks, sorted: the parts are in order)."""
    step = max(1 << SIG_BLOCK_BITS, partition_docs >> SIG_BLOCK_BITS << SIG_BLOCK_BITS)
    cuts = np.flatnonzero(np.diff(run.docs // step)) + 1
    read = [
        run.submit(read_part, run.url, run.index, run.config_json, run.docs[lo:hi], lo,
                   params.slot_bands, params.passages, run.shuffle)
        for lo, hi in zip([0, *cuts], [*cuts, len(run.docs)], strict=True)
        if hi > lo
    ]  # fmt: skip
    return read, np.concatenate([_EMPTY, *run.dask.gather([run.item(f, 0) for f in read])])


def _pairs(run: _Run, read: list[Any], max_bucket: int) -> list[Any]:
    """Stage 2: a pairs task per bucket, given its piece of every partition."""
    from distributed import wait

    piece_lists = [run.item(f, 1) for f in read]
    pieces = [[run.item(pl, h) for pl in piece_lists] for h in range(run.shuffle)]
    pairs = [run.submit(bucket_pairs, max_bucket, run.shuffle, *ps) for ps in pieces]
    wait(pairs)  # type: ignore[no-untyped-call]
    return pairs


def _verify(
    run: _Run, pairs: list[Any], mode: str
) -> tuple[list[np.ndarray], dict[str, int], list[Any]]:
    """Stage 3: a verify task per pair bucket; (linked codes, counts, their futures)."""
    outs = [run.item(f, 1) for f in pairs]
    to_verify = [[run.item(o, v) for o in outs] for v in range(run.shuffle)]
    checked = [
        run.submit(
            verify_part, run.url, run.index, run.config_json, run.thresholds, mode, run.numbers, *vs
        )  # fmt: skip
        for vs in to_verify
    ]
    counts: dict[str, int] = {}
    for c in run.dask.gather([run.item(f, 0) for f in pairs]):
        for k, v in c.items():
            counts[k] = counts.get(k, 0) + v
    linked = []
    for codes, c in run.dask.gather(checked):
        linked.append(codes)
        for k, v in c.items():
            counts[k] = counts.get(k, 0) + v
    return linked, counts, checked


def _components(live: np.ndarray, linked: list[np.ndarray]) -> list[np.ndarray]:
    """Stage 4, here: the linked pairs' components, as groups of rows of ``live``."""
    a, b = _split_codes(np.concatenate([_CODES, *linked]))
    uf = UnionFind(len(live))
    uf.union_many(np.searchsorted(live, a), np.searchsorted(live, b))
    return uf.groups()


def _name(
    run: _Run,
    groups: list[np.ndarray],
    members: np.ndarray,
    by_doc: dict[int, str],
    mode: str,
    cparams: ClusterParams,
) -> tuple[list[Cluster], list[Any]]:
    """Origins in tasks of whole groups, about ``NAME_CHUNK`` members each;
    (the clusters by id, the futures)."""
    chunks: list[list[np.ndarray]] = [[]]
    size = 0
    for g in groups:
        if size >= NAME_CHUNK:
            chunks.append([])
            size = 0
        chunks[-1].append(members[g])
        size += len(g)
    named = [
        run.submit(name_part, run.url, run.index, run.config_json, run.thresholds, mode, ch,
                   [by_doc[int(d)] for g in ch for d in g], asdict(cparams))
        for ch in chunks
        if ch
    ]  # fmt: skip
    clusters = [c for part in run.dask.gather(named) for c in part]
    clusters.sort(key=lambda c: c.cluster_id)
    return clusters, named


__all__ = ["dask_client", "redis_url_of", "run_dask"]
