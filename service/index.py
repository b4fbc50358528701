"""The article index in Redis: atomic writes, one-round-trip LSH lookups,
exact verification and ranking.

LSH finds *candidates* and is approximate: a pair with Jaccard ``s`` is a
candidate with probability ``1 - (1 - s**r)**b`` (see ``PipelineConfig``).
Every candidate is then scored exactly on its shingle set (recomputed from the
stored text), so the scores in a ``Match`` are exact; only a missed candidate
is an error, and its rate is measured in docs/matching.md and the benchmarks.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Literal

import numpy as np
import redis

from service.keys import LAYOUT_VERSION, Keys, band_field, sig_offset
from shingling import (
    Analysis,
    PipelineConfig,
    Shingles,
    Thresholds,
    Verdict,
    analyse,
    band_keys,
    compare,
    shingle,
)
from shingling.signature import SIG_DTYPE

_VERDICT_RANK = {Verdict.DUPLICATE: 0, Verdict.SYNDICATED: 1, Verdict.PARTIAL: 2}
_META_FIELDS = ("title", "source", "url", "published_at")
_PACK = np.dtype("<u4")
_MAX_RETRIES = 8


class ConfigMismatch(RuntimeError):
    """The index in Redis was built with other pipeline parameters."""


class EmptyText(ValueError):
    """The text has no words once page chrome is removed."""


@dataclass(frozen=True)
class ArticleIn:
    text: str
    id: str | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class StoredArticle:
    id: str
    text: str
    title: str | None
    source: str | None
    url: str | None
    published_at: str | None
    ingested_at: str
    shingles: int


@dataclass(frozen=True)
class Match:
    id: str
    title: str | None
    source: str | None
    published_at: str | None
    jaccard: float
    containment: float
    reverse_containment: float
    shared_shingles: int
    verdict: Verdict


@dataclass(frozen=True)
class PutResult:
    id: str
    status: Literal["created", "replaced", "unchanged"]
    matches: list[Match]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _s(raw: bytes | None) -> str | None:
    return raw.decode() if raw is not None else None


def _script(name: str) -> str:
    return resources.files("service").joinpath("lua", name).read_text()


class Index:
    """One named index in one Redis. The client is passed in; nothing global."""

    def __init__(
        self,
        client: redis.Redis,
        config: PipelineConfig,
        thresholds: Thresholds | None = None,
        *,
        name: str = "default",
        max_candidates: int = 200,
        cache_size: int = 4096,
    ) -> None:
        self.client = client
        self.config = config
        self.thresholds = thresholds or Thresholds()
        self.keys = Keys(name)
        self.max_candidates = max_candidates
        self._put = client.register_script(_script("put.lua"))
        self._remove = client.register_script(_script("remove.lua"))
        self._shingle_cache: OrderedDict[int, Shingles] = OrderedDict()
        self._cache_size = cache_size
        self._config_checked = False

    # -- configuration -------------------------------------------------
    def check_config(self) -> None:
        """Claim an empty index for this config, or refuse one built otherwise."""
        meta = self.keys.meta
        self.client.hsetnx(meta, "fingerprint", self.config.fingerprint)
        self.client.hsetnx(meta, "config", self.config.to_json())
        self.client.hsetnx(meta, "layout", str(LAYOUT_VERSION))
        stored_fp, stored_cfg, layout = self.client.hmget(meta, "fingerprint", "config", "layout")
        if stored_fp is not None and stored_fp.decode() != self.config.fingerprint:
            stored = PipelineConfig.from_json(stored_cfg) if stored_cfg else None
            raise ConfigMismatch(
                f"index '{self.keys.index}' was built with {stored} "
                f"(fingerprint {stored_fp.decode()}), but this process uses {self.config} "
                f"(fingerprint {self.config.fingerprint}). Signatures from different "
                "parameters cannot be compared: run with the index's parameters "
                "(COPYDESK_SHINGLE_K, COPYDESK_NUM_PERM, COPYDESK_BANDS, COPYDESK_ROWS), "
                "or use another COPYDESK_INDEX / --data-dir and re-ingest."
            )
        if layout is not None and int(layout) != LAYOUT_VERSION:
            raise ConfigMismatch(
                f"index '{self.keys.index}' uses storage layout {int(layout)}; this copydesk "
                f"reads layout {LAYOUT_VERSION}. Re-ingest into a new index."
            )
        self._config_checked = True

    def _ensure(self) -> None:
        if not self._config_checked:
            self.check_config()

    # -- writes ----------------------------------------------------------
    def put(self, article: ArticleIn, *, limit: int = 20) -> PutResult:
        """Index ``article`` atomically; same id and text again is a no-op."""
        self._ensure()
        analysis = analyse(article.text, self.config)
        if analysis.empty:
            raise EmptyText("text has no words once page chrome is removed")
        article_id = article.id or self._new_id(article.text)
        fields = self._doc_fields(article_id, article)
        for _ in range(_MAX_RETRIES):
            cur = self.client.hget(self.keys.ids, article_id)
            old: tuple[int, np.ndarray] | None = None
            if cur is not None:
                old_n = int(cur)
                if self._unchanged(old_n, fields):
                    matches = self._query(analysis, exclude={old_n}, limit=limit)
                    return PutResult(article_id, "unchanged", matches)
                old = (old_n, self._read_signature(old_n))
            n = int(self.client.hincrby(self.keys.meta, "next_doc", 1))
            if self._run_put(article_id, cur, n, analysis, fields, old) == b"OK":
                self._shingle_cache[n] = analysis.shingles
                matches = self._query(analysis, exclude={n}, limit=limit)
                return PutResult(article_id, "replaced" if old else "created", matches)
        raise RuntimeError(f"article {article_id!r} kept changing under concurrent writes")

    def _new_id(self, text: str) -> str:
        return _text_sha(text)[:16]

    def _doc_fields(self, article_id: str, article: ArticleIn) -> dict[str, bytes | str]:
        fields: dict[str, bytes | str] = {
            "id": article_id,
            "text": zlib.compress(article.text.encode("utf-8", "surrogatepass"), 6),
            "sha": _text_sha(article.text),
            "ingested_at": _iso(_now()),
        }
        for name in ("title", "source", "url"):
            value = getattr(article, name)
            if value is not None:
                fields[name] = value
        if article.published_at is not None:
            fields["published_at"] = _iso(article.published_at)
        return fields

    def _unchanged(self, n: int, fields: dict[str, bytes | str]) -> bool:
        names = ("sha", *_META_FIELDS)
        stored = self.client.hmget(self.keys.doc(n), names)
        return all(_s(v) == fields.get(name) for name, v in zip(names, stored, strict=True))

    def _read_signature(self, n: int) -> np.ndarray:
        width = self.config.num_perm * 4
        off = sig_offset(n, self.config.num_perm)
        raw = self.client.getrange(self.keys.sig_block(n), off, off + width - 1)
        return np.frombuffer(raw.ljust(width, b"\0"), dtype=SIG_DTYPE)

    def _band_args(self, bands: np.ndarray) -> tuple[list[str], list[bytes]]:
        keys = [self.keys.lsh(i, int(bk)) for i, bk in enumerate(bands)]
        fields = [band_field(i, int(bk)) for i, bk in enumerate(bands)]
        return keys, fields

    def _run_put(
        self,
        article_id: str,
        cur: bytes | None,
        n: int,
        analysis: Analysis,
        fields: dict[str, bytes | str],
        old: tuple[int, np.ndarray] | None,
    ) -> bytes:
        new_keys, new_fields = self._band_args(analysis.bands)
        if old is not None:
            old_n, old_sig = old
            old_keys, old_fields = self._band_args(band_keys(old_sig, self.config))
            old_doc, old_block = self.keys.doc(old_n), self.keys.sig_block(old_n)
            old_packed = np.array([old_n], dtype=_PACK).tobytes()
            old_off = sig_offset(old_n, self.config.num_perm)
        else:
            old_keys, old_fields = [], []
            old_doc, old_block = self.keys.doc(n), self.keys.sig_block(n)
            old_packed, old_off = b"", 0
        score = self._time_score(fields)
        flat: list[bytes | str] = [x for kv in fields.items() for x in kv]
        result = self._put(
            keys=[
                self.keys.ids,
                self.keys.bytime,
                self.keys.doc(n),
                self.keys.sig_block(n),
                old_doc,
                old_block,
                *new_keys,
                *old_keys,
            ],
            args=[
                article_id,
                cur or b"",
                n,
                np.array([n], dtype=_PACK).tobytes(),
                old_packed,
                analysis.signature.astype(SIG_DTYPE).tobytes(),
                sig_offset(n, self.config.num_perm),
                old_off,
                score,
                len(new_keys),
                len(old_keys),
                len(fields),
                *flat,
                *new_fields,
                *old_fields,
            ],
        )
        return bytes(result)

    @staticmethod
    def _time_score(fields: dict[str, bytes | str]) -> float:
        stamp = fields.get("published_at") or fields["ingested_at"]
        return datetime.fromisoformat(str(stamp)).timestamp()

    def delete(self, article_id: str) -> bool:
        """Remove ``article_id`` and every trace of it. False if it was not indexed."""
        self._ensure()
        for _ in range(_MAX_RETRIES):
            cur = self.client.hget(self.keys.ids, article_id)
            if cur is None:
                return False
            n = int(cur)
            keys, fields = self._band_args(band_keys(self._read_signature(n), self.config))
            result = self._remove(
                keys=[
                    self.keys.ids,
                    self.keys.bytime,
                    self.keys.doc(n),
                    self.keys.sig_block(n),
                    *keys,
                ],
                args=[
                    article_id,
                    cur,
                    np.array([n], dtype=_PACK).tobytes(),
                    sig_offset(n, self.config.num_perm),
                    self.config.num_perm * 4,
                    len(keys),
                    *fields,
                ],
            )
            if result == b"OK":
                self._shingle_cache.pop(n, None)
                return True
            if result == b"MISSING":
                return False
        raise RuntimeError(f"article {article_id!r} kept changing under concurrent writes")

    # -- reads -------------------------------------------------------------
    def get(self, article_id: str) -> StoredArticle | None:
        self._ensure()
        cur = self.client.hget(self.keys.ids, article_id)
        if cur is None:
            return None
        raw = self.client.hgetall(self.keys.doc(int(cur)))
        if not raw:
            return None
        return self._stored(raw)

    @staticmethod
    def _stored(raw: dict[bytes, bytes]) -> StoredArticle:
        def field(name: str) -> str | None:
            return _s(raw.get(name.encode()))

        text = zlib.decompress(raw[b"text"]).decode("utf-8", "surrogatepass")
        return StoredArticle(
            id=raw[b"id"].decode(),
            text=text,
            title=field("title"),
            source=field("source"),
            url=field("url"),
            published_at=field("published_at"),
            ingested_at=field("ingested_at") or "",
            shingles=0,
        )

    def count(self) -> int:
        return int(self.client.hlen(self.keys.ids))

    def ids(self) -> Iterator[str]:
        for raw_id, _ in self.client.hscan_iter(self.keys.ids, count=1000):
            yield raw_id.decode()

    def match_text(self, text: str, *, limit: int = 20) -> list[Match]:
        """Matches of an unstored text, ranked best first."""
        self._ensure()
        analysis = analyse(text, self.config)
        if analysis.empty:
            raise EmptyText("text has no words once page chrome is removed")
        return self._query(analysis, exclude=set(), limit=limit)

    def matches_of(self, article_id: str, *, limit: int = 20) -> list[Match] | None:
        """Matches of a stored article against the rest; None if it is unknown."""
        self._ensure()
        cur = self.client.hget(self.keys.ids, article_id)
        if cur is None:
            return None
        n = int(cur)
        raw = self.client.hget(self.keys.doc(n), "text")
        if raw is None:
            return None
        text = zlib.decompress(raw).decode("utf-8", "surrogatepass")
        return self._query(analyse(text, self.config), exclude={n}, limit=limit)

    def candidates(self, bands: np.ndarray) -> Counter[int]:
        """Doc numbers sharing at least one band bucket, with the number shared.

        One round trip: every band lookup goes in one pipeline.
        """
        keys, fields = self._band_args(bands)
        pipe = self.client.pipeline(transaction=False)
        for key, field in zip(keys, fields, strict=True):
            pipe.hget(key, field)
        hits: Counter[int] = Counter()
        for raw in pipe.execute():
            if raw:
                hits.update(np.frombuffer(raw, dtype=_PACK).tolist())
        return hits

    def _query(self, analysis: Analysis, *, exclude: set[int], limit: int) -> list[Match]:
        hits = self.candidates(analysis.bands)
        for n in exclude:
            hits.pop(n, None)
        ranked = [n for n, _ in hits.most_common(self.max_candidates)]
        if not ranked:
            return []
        names = ("id", "text", "title", "source", "published_at")
        pipe = self.client.pipeline(transaction=False)
        for n in ranked:
            if n in self._shingle_cache:
                pipe.hmget(self.keys.doc(n), "id", "title", "source", "published_at")
            else:
                pipe.hmget(self.keys.doc(n), *names)
        matches: list[Match] = []
        for n, row in zip(ranked, pipe.execute(), strict=True):
            if row[0] is None:  # deleted since the band lookup
                continue
            if n in self._shingle_cache:
                other = self._shingle_cache[n]
                self._shingle_cache.move_to_end(n)
                doc_id, title, source, published = row
            else:
                doc_id, text, title, source, published = row
                other = shingle(zlib.decompress(text).decode("utf-8", "surrogatepass"), self.config)
                self._remember(n, other)
            scores = compare(analysis.shingles, other)
            verdict = scores.verdict(self.thresholds)
            if verdict is None:
                continue
            matches.append(
                Match(
                    id=doc_id.decode(),
                    title=_s(title),
                    source=_s(source),
                    published_at=_s(published),
                    jaccard=scores.jaccard,
                    containment=scores.containment,
                    reverse_containment=scores.reverse_containment,
                    shared_shingles=scores.shared,
                    verdict=verdict,
                )
            )
        matches.sort(
            key=lambda m: (
                _VERDICT_RANK[m.verdict],
                -max(m.containment, m.reverse_containment),
                -m.jaccard,
                m.id,
            )
        )
        return matches[:limit]

    def _remember(self, n: int, shingles: Shingles) -> None:
        self._shingle_cache[n] = shingles
        if len(self._shingle_cache) > self._cache_size:
            self._shingle_cache.popitem(last=False)
