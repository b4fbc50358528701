"""The measurements: each scenario returns a flat dict of figures.

Every loop is bounded by a count and by ``deadline`` (``time.monotonic()``);
a scenario cut short by its deadline says so (``complete: false``) and
reports what it measured. Throughputs are wall-clock on a shared machine.
"""

from __future__ import annotations

import asyncio
import re
import resource
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice

import numpy as np
import psutil
import redis
import xxhash
from datasketch import MinHash, MinHashLSH

from bench.machine import OtherLoad
from bench.redis_server import copydesk_server
from bench.synth import Article, Material, generate
from service.bulk import ingest_batches
from service.model import ArticleIn, Match
from service.retention import sweep
from service.storage.index import Index
from shingling import PipelineConfig, analyse

BATCH = 256  # articles per Index.put_many, as `copydesk ingest` uses
INGEST_BLOCK = 20_000  # articles generated (untimed) before each timed stretch of ingest
_FLOOR_WORD = re.compile(r"\w+")


# -- the corpus ---------------------------------------------------------------
@dataclass
class Corpus:
    """The generated articles of one run: streamed, with truth and a query sample kept."""

    size: int
    seed: int
    material: Material
    queries: int
    family: dict[str, int] = field(default_factory=dict)
    sample: list[Article] = field(default_factory=list)

    @property
    def sample_every(self) -> int:
        """The sample's stride: it takes every ``sample_every``-th article, from the first."""
        return max(1, self.size // self.queries)

    def stream(self) -> Iterator[Article]:
        """Every article once, remembering families and an evenly spread sample."""
        every = self.sample_every
        for i, article in enumerate(generate(self.size, seed=self.seed, material=self.material)):
            self.family[article.id] = article.family
            if i % every == 0 and len(self.sample) < self.queries:
                self.sample.append(article)
            yield article

    def head(self, n: int) -> list[Article]:
        return list(islice(generate(self.size, seed=self.seed, material=self.material), n))


def article_in(a: Article) -> ArticleIn:
    return ArticleIn(text=a.text, id=a.id, source=a.source, published_at=a.published_at)


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0


def _percentiles(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def _timed_rate(
    items: list[str], work: Callable[[str], object], deadline: float
) -> tuple[float, int]:
    """Items per second of ``work`` over ``items`` (stopping at ``deadline``)."""
    start = time.perf_counter()
    done = 0
    for item in items:
        work(item)
        done += 1
        if time.monotonic() > deadline:
            break
    return _rate(done, time.perf_counter() - start), done


# -- signatures ---------------------------------------------------------------
def floor_shingles(text: str, k: int) -> list[bytes]:
    """The pure-Python floor: lower-case words, joined k at a time."""
    words = _FLOOR_WORD.findall(text.lower())
    return [" ".join(words[i : i + k]).encode() for i in range(max(1, len(words) - k + 1))]


def machine_speed(texts: list[str], k: int, seconds: float = 3.0) -> float:
    """Articles/s of the pure-Python floor (word k-grams, xxh3 each), the median
    of rounds over ``seconds``: how fast this machine is at the time of the run.

    Shared machines vary by up to 2x from hour to hour; a run's absolute
    figures are read against this (ratios within a run need no correction).
    """
    rates: list[float] = []
    deadline = time.monotonic() + seconds
    part = texts[:50]
    while time.monotonic() < deadline and len(rates) < 100:
        rate, _ = _timed_rate(
            part,
            lambda t: [xxhash.xxh3_64_intdigest(s) for s in floor_shingles(t, k)],
            deadline + 10,
        )
        rates.append(rate)
    return statistics.median(rates)


def signatures(texts: list[str], config: PipelineConfig, seconds: float) -> dict[str, object]:
    """Articles/s from text to signature: copydesk against the floor and datasketch."""
    k, num_perm = config.k, config.num_perm

    def floor(text: str) -> object:
        return [xxhash.xxh3_64_intdigest(s) for s in floor_shingles(text, k)]

    def per_shingle(text: str) -> object:
        m = MinHash(num_perm=num_perm, seed=config.seed)
        for s in floor_shingles(text, k):
            m.update(s)
        return m

    def batch(text: str) -> object:
        m = MinHash(num_perm=num_perm, seed=config.seed)
        m.update_batch(floor_shingles(text, k))
        return m

    def copydesk(text: str) -> object:
        return analyse(text, config)

    methods = {
        "floor": floor,
        "copydesk": copydesk,
        "datasketch_update": per_shingle,
        "datasketch_update_batch": batch,
    }
    for work in methods.values():  # warm every cache (permutations, tokens) alike
        work(texts[0])
    # Interleaved rounds: every method runs on the same slice of articles in turn,
    # so a burst of load from elsewhere hits all of them, not the one that was
    # running. Rates are medians over rounds; each ratio is the median of the
    # per-round ratios.
    chunk = max(1, min(50, len(texts)))
    rounds: dict[str, list[float]] = {name: [] for name in methods}
    done = dict.fromkeys(methods, 0)
    deadline = time.monotonic() + seconds
    start = 0
    while time.monotonic() < deadline and len(rounds["floor"]) < 200:
        part = [texts[(start + i) % len(texts)] for i in range(chunk)]
        start += chunk
        for name, work in methods.items():
            rate, n = _timed_rate(part, work, deadline + 60)
            rounds[name].append(rate)
            done[name] += n
    out: dict[str, object] = {"articles": len(texts), "rounds": len(rounds["floor"])}
    for name in methods:
        out[f"{name}_per_s"] = statistics.median(rounds[name])
        out[f"{name}_measured"] = done[name]
    for name in ("floor", "datasketch_update", "datasketch_update_batch"):
        out[f"copydesk_over_{name}"] = statistics.median(
            c / o for c, o in zip(rounds["copydesk"], rounds[name], strict=True) if o
        )
    out["words_per_article"] = statistics.mean(len(t.split()) for t in texts)
    return out


# -- memory -----------------------------------------------------------------------
def _memory_of(client: redis.Redis, keys: list[bytes]) -> int:
    total = 0
    for i in range(0, len(keys), 1000):
        pipe = client.pipeline(transaction=False)
        for key in keys[i : i + 1000]:
            pipe.memory_usage(key, samples=0)
        total += sum(v or 0 for v in pipe.execute())
    return total


def index_memory(client: redis.Redis, index: Index, sample: int = 2000) -> dict[str, float]:
    """Bytes per article of each index structure (``MEMORY USAGE``), and of the
    stored documents (text and metadata, estimated from a sample of docs)."""
    parts = index.keys.parts
    n = max(1, index.count())

    def every(kind: str) -> list[bytes]:
        return [k for p in parts for k in client.scan_iter(p.pattern(kind), count=1000)]

    sig = _memory_of(client, every("sig"))
    lsh = _memory_of(client, every("lsh"))
    fp = _memory_of(client, every("fp"))
    ids = _memory_of(client, [p.ids.encode() for p in parts])
    bytime = _memory_of(client, [p.bytime.encode() for p in parts])
    docs = list(islice((k for p in parts for k in client.scan_iter(p.pattern("doc"))), sample))
    doc_mean = _memory_of(client, docs) / max(1, len(docs))
    # Each doc's own fingerprint list (its 'fp' field) is an index structure too:
    # its bytes (4 a fingerprint) are counted here and not as document bytes.
    pipe = client.pipeline(transaction=False)
    for d in docs:
        pipe.hstrlen(d, "fp")
    own_fp = sum(pipe.execute()) / max(1, len(docs)) if docs else 0.0
    return {
        "signature_bytes": sig / n,
        "lsh_bytes": lsh / n,
        "fingerprint_bytes": fp / n + own_fp,
        "ids_bytes": ids / n,
        "bytime_bytes": bytime / n,
        "index_bytes": (sig + lsh + ids + bytime) / n,
        "index_bytes_with_fingerprints": (sig + lsh + fp + ids + bytime) / n + own_fp,
        "document_bytes": doc_mean - own_fp,
    }


class BandsOnly(Index):
    """The path before passage fingerprints, as an operator runs it today:
    ``COPYDESK_WINNOW=0`` (no fingerprint is kept or stored, the LSH bands
    alone find candidates) and ``COPYDESK_MAX_LOCATED=0`` (matches are not
    located). The cost comparison's baseline, in the same run."""

    def __init__(
        self, client: redis.Redis, config: PipelineConfig, *args: object, **kwargs: object
    ) -> None:
        super().__init__(
            client,
            replace(config, winnow=0),
            *args,
            max_located=0,
            **kwargs,  # type: ignore[arg-type]
        )


# -- ingest -----------------------------------------------------------------------
def ingest(
    index: Index, articles: Iterable[Article], deadline: float, *, workers: int = 1
) -> dict[str, object]:
    """Bulk ingest as ``copydesk ingest`` does it (``service.bulk.ingest_batches``:
    batches of ``BATCH``, analysis overlapped with the previous batch's writes,
    in ``workers`` processes when > 1).

    Articles are generated in blocks outside the clock (the generator costs
    about a third of an ingest); only the ingest of each block is timed, as
    the baseline's is.
    """
    used_before = int(index.client.info("memory")["used_memory"])
    scripts_before = _script_usec(index.client)
    done = 0
    seconds = cpu = 0.0
    complete = True
    stream = iter(articles)
    while block := [article_in(a) for a in islice(stream, INGEST_BLOCK)]:
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        batches = (block[i : i + BATCH] for i in range(0, len(block), BATCH))
        for results in ingest_batches(index, batches, workers=workers):
            done += len(results)
        seconds += time.perf_counter() - start
        cpu += _cpu_seconds() - cpu_start
        if time.monotonic() > deadline:
            complete = next(stream, None) is None
            break
    used_after = int(index.client.info("memory")["used_memory"])
    return {
        "articles": done,
        "seconds": seconds,
        "per_s": _rate(done, seconds),
        "workers": workers,
        "complete": complete,
        # Where an article's time goes: the client's CPU (every thread of this
        # process and its analysis processes) and Redis's inside put.lua.
        "client_cpu_ms_per_article": cpu / max(1, done) * 1e3,
        "redis_script_ms_per_article": (_script_usec(index.client) - scripts_before)
        / max(1, done)
        / 1e3,
        "used_memory_per_article": (used_after - used_before) / max(1, done),
        **index_memory(index.client, index),
    }


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have exited."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _script_usec(client: redis.Redis) -> float:
    """Microseconds Redis has spent running scripts by EVALSHA (INFO commandstats)."""
    stats = client.info("commandstats").get("cmdstat_evalsha", {})
    return float(stats.get("usec", 0))


# -- queries, recall, false positives ----------------------------------------------------
def query(index: Index, corpus: Corpus, deadline: float, *, limit: int = 50) -> dict[str, object]:
    """Latency of ``match_text`` (analyse + one-round-trip LSH lookup + exact
    verification + ranking) over the query sample, and what it found."""
    family_size: dict[int, int] = {}
    for fam in corpus.family.values():
        family_size[fam] = family_size.get(fam, 0) + 1
    total_ms: list[float] = []
    lookup_ms: list[float] = []
    analyse_ms: list[float] = []  # the parts of a query, timed again one by one
    fetch_ms: list[float] = []
    expected = found = false_pos = partial_out = 0
    queries = [a for a in corpus.sample if a.id in corpus.family]
    other = OtherLoad(index.client)
    for article in queries:
        start = time.perf_counter()
        matches = index.match_text(article.text, limit=limit)
        total_ms.append((time.perf_counter() - start) * 1000)
        fam = corpus.family[article.id]
        expected += family_size[fam] - 1
        hits = [m for m in matches if m.id != article.id]
        found += sum(1 for m in hits if corpus.family.get(m.id) == fam)
        false_pos += sum(1 for m in hits if _claims_copy(m) and corpus.family.get(m.id) != fam)
        partial_out += sum(
            1 for m in hits if not _claims_copy(m) and corpus.family.get(m.id) != fam
        )
        if time.monotonic() > deadline:
            break
    other_cores = other.cores()
    # The parts, in later passes, the exhaustive lookup last: it leaves tables
    # of thousands of candidates to Redis's Lua garbage collector, which would
    # otherwise run inside the next timed script.
    bands, fps = [], []
    for article in queries[: len(total_ms)]:
        start = time.perf_counter()
        analysis = analyse(article.text, index.config)
        bands.append(analysis.bands)
        fps.append(analysis.fingerprints if index.max_passage_candidates else np.empty(0, "u4"))
        analyse_ms.append((time.perf_counter() - start) * 1000)
    for b, f in zip(bands, fps, strict=True):
        start = time.perf_counter()  # what a query's script does: top candidates and their sets
        index.lookup(
            b,
            f,
            exclude=set(),
            limit=index.max_candidates,
            with_docs=True,
            passage_limit=index.max_passage_candidates,
        )
        fetch_ms.append((time.perf_counter() - start) * 1000)
    for b, f in zip(bands, fps, strict=True):
        start = time.perf_counter()
        index.candidates(b, f)
        lookup_ms.append((time.perf_counter() - start) * 1000)
    return {
        "queries": len(total_ms),
        **{f"total_{k}": v for k, v in _percentiles(total_ms).items()},
        **{f"lookup_{k}": v for k, v in _percentiles(lookup_ms).items()},
        **{f"analyse_{k}": v for k, v in _percentiles(analyse_ms).items()},
        **{f"fetch_{k}": v for k, v in _percentiles(fetch_ms).items()},
        "true_pairs_expected": expected,
        "recall": found / expected if expected else 1.0,
        "false_positives_per_query": false_pos / max(1, len(total_ms)),
        "partial_other_family_per_query": partial_out / max(1, len(total_ms)),
        # CPU busy besides the queries while they were timed, in cores:
        **{f"busy_{k}_cores": v for k, v in other_cores.items()},
    }


def _claims_copy(m: Match) -> bool:
    return m.verdict in ("duplicate", "syndicated")


# -- the datasketch baseline -------------------------------------------------------------
DATASKETCH_BASENAME = b"copydesk-bench"  # its Redis keys' prefix (a kept baseline's too)


def datasketch_baseline(
    client: redis.Redis,
    articles: Iterable[Article],
    sample: list[Article],
    config: PipelineConfig,
    deadline: float,
) -> dict[str, object]:
    """datasketch ``MinHashLSH`` on Redis with the same bands, rows and signature
    size: text -> word shingles -> ``update_batch`` -> ``insertion_session``;
    built over ``articles``, then queried with ``sample``."""
    lsh = datasketch_lsh(client, config)
    built = datasketch_build(client, lsh, articles, config, deadline)
    return {**built, **datasketch_queries(lsh, sample, config, deadline + 60)}


def datasketch_lsh(client: redis.Redis, config: PipelineConfig) -> MinHashLSH:
    """The baseline's ``MinHashLSH`` on ``client``'s redis-server: empty, or
    attached to one built before (datasketch keeps nothing outside Redis)."""
    port = client.connection_pool.connection_kwargs["port"]
    return MinHashLSH(
        num_perm=config.num_perm,
        params=(config.b, config.r),
        storage_config={
            "type": "redis",
            "basename": DATASKETCH_BASENAME,
            "redis": {"host": "127.0.0.1", "port": port},
        },
        prepickle=False,
    )


def _datasketch_minhash(text: str, config: PipelineConfig) -> MinHash:
    m = MinHash(num_perm=config.num_perm, seed=config.seed)
    m.update_batch(floor_shingles(text, config.k))
    return m


def datasketch_build(
    client: redis.Redis,
    lsh: MinHashLSH,
    articles: Iterable[Article],
    config: PipelineConfig,
    deadline: float,
) -> dict[str, object]:
    """Insert ``articles`` into the baseline (until ``deadline``): its rate and
    the Redis memory it took per article."""
    used_before = int(client.info("memory")["used_memory"])
    done = 0
    complete = True
    start = time.perf_counter()
    with lsh.insertion_session(buffer_size=BATCH * config.b) as session:
        for article in articles:
            m = _datasketch_minhash(article.text, config)
            session.insert(article.id.encode(), m, check_duplication=False)
            done += 1
            if time.monotonic() > deadline:
                complete = False
                break
    seconds = time.perf_counter() - start
    used_after = int(client.info("memory")["used_memory"])
    return {
        "articles": done,
        "seconds": seconds,
        "per_s": _rate(done, seconds),
        "complete": complete,
        "used_memory_per_article": (used_after - used_before) / max(1, done),
    }


def datasketch_queries(
    lsh: MinHashLSH, sample: list[Article], config: PipelineConfig, deadline: float
) -> dict[str, object]:
    """Latency of the baseline's ``query`` (its keys, unranked and unverified)
    over ``sample``; the MinHash is made before the clock starts."""
    lookup_ms: list[float] = []
    for article in sample[: max(1, len(sample))]:
        m = _datasketch_minhash(article.text, config)
        t0 = time.perf_counter()
        lsh.query(m)
        lookup_ms.append((time.perf_counter() - t0) * 1000)
        if time.monotonic() > deadline:
            break
    return {
        "queries": len(lookup_ms),
        **{f"lookup_{k}": v for k, v in _percentiles(lookup_ms).items()},
    }


def datasketch_holds(lsh: MinHashLSH, ids: Iterable[str]) -> list[str]:
    """Which of ``ids`` the baseline has not indexed."""
    return [i for i in ids if not lsh.keys.has_key(i.encode())]


# -- the HTTP path ------------------------------------------------------------------------
def http_ingest(
    redis_url: str, articles: list[Article], deadline: float, *, concurrency: int = 8
) -> dict[str, object]:
    """POST /articles against ``copydesk serve`` (uvicorn) on loopback, with a
    bounded number of requests in flight.

    The client shares the machine: its CPU per request is reported next to
    the server's, whose figure is what a deployment pays per article."""
    import httpx

    with copydesk_server("--redis-url", redis_url, "--index", "bench-http", timeout=60) as served:
        server_before, client_before = _process_cpu(served.process), _cpu_seconds()
        latencies, failures, seconds = asyncio.run(
            _post_all(httpx, served.url, articles, deadline, concurrency)
        )
        server_cpu = _process_cpu(served.process) - server_before
        client_cpu = _cpu_seconds() - client_before
    done = max(1, len(latencies) + failures)
    return {
        "articles": len(latencies),
        "failures": failures,
        "concurrency": concurrency,
        "seconds": seconds,
        "per_s": _rate(len(latencies), seconds),
        "server_cpu_ms_per_request": server_cpu / done * 1000,
        "client_cpu_ms_per_request": client_cpu / done * 1000,
        **_percentiles(latencies),
    }


def _process_cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def _post_all(
    httpx: object, base: str, articles: list[Article], deadline: float, concurrency: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[Article] = asyncio.Queue()
    for a in articles:
        queue.put_nowait(a)

    async def worker(client: object) -> None:
        nonlocal failures
        while not queue.empty() and time.monotonic() < deadline:
            body = queue.get_nowait().body()
            t0 = time.perf_counter()
            response = await client.post("/articles", json=body, params={"limit": 5})  # type: ignore[attr-defined]
            if response.status_code in (200, 201):
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                failures += 1

    limits = httpx.Limits(max_connections=concurrency)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:  # type: ignore[attr-defined]
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return latencies, failures, time.perf_counter() - start


# -- retention ------------------------------------------------------------------------------
def retention(
    index: Index, articles: list[Article], window: int, deadline: float
) -> dict[str, object]:
    """Ingest ``articles`` in time order with a retention period worth about
    ``window`` articles, sweeping after every batch as the service's sweeper
    would: memory must level off once the window is full."""
    if len(articles) <= window:
        raise ValueError("retention needs more articles than its window")
    days = (articles[window].published_at - articles[0].published_at).total_seconds() / 86400
    points: list[tuple[int, int, int]] = []  # ingested, live articles, used_memory
    expired = 0
    for i in range(0, len(articles), BATCH):
        chunk = articles[i : i + BATCH]
        index.put_many(article_in(a) for a in chunk)
        now = _epoch(chunk[-1].published_at)
        expired += sweep(index, days, now=now)
        used = int(index.client.info("memory")["used_memory"])
        points.append((i + len(chunk), index.count(), used))
        if time.monotonic() > deadline:
            break
    full = [p for p in points if p[0] >= 2 * window] or points[-1:]
    mem = [p[2] for p in full]
    return {
        "window_articles": window,
        "retention_days": days,
        "ingested": points[-1][0],
        "expired": expired,
        "live_at_end": points[-1][1],
        "memory_after_window_min": min(mem),
        "memory_after_window_max": max(mem),
        "memory_growth_after_window": (mem[-1] - mem[0]) / mem[0] if mem[0] else 0.0,
        "series": points,
    }


def _epoch(dt: datetime) -> float:
    return dt.timestamp()
