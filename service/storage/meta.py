"""An index's config in its meta: claimed by the first process that opens it,
checked by every later one.

The first partition's meta (``Keys.meta``) holds the pipeline's fingerprint
and config, the storage layout version, the shard counts and the partitions'
tags (``layout.CONFIG_FIELDS``). A process opening an index claims whatever
is unset and reads back what won, in one round trip; an index built with
other parameters, or in another layout, is refused (``ConfigMismatch``).
"""

from __future__ import annotations

from typing import cast

import redis
from redis.cluster import RedisCluster

from service.model import ConfigMismatch
from service.storage import layout
from service.storage.keys import LAYOUT_VERSION, IndexKeys, partition_tags
from shingling import PipelineConfig


def check_layout(index: str, stored: bytes | None) -> None:
    """Refuse an index stored in another layout (None: not claimed yet)."""
    if stored is not None and int(stored) != LAYOUT_VERSION:
        raise ConfigMismatch(
            f"index '{index}' uses storage layout {int(stored)}; this copydesk "
            f"reads layout {LAYOUT_VERSION} (2 added passage fingerprints). Re-ingest the "
            "articles into a new index (another COPYDESK_INDEX or --data-dir), then drop "
            "the old one."
        )


def new_tags(client: redis.Redis, index: str, partitions: int) -> list[str]:
    """The partition tags this process would give a new index of ``partitions``:
    on a cluster, spread over its masters (``partition_tags``)."""
    owner = None
    if isinstance(client, RedisCluster):
        cluster = client

        def owner(slot: int) -> str:
            return str(cluster.nodes_manager.get_node_from_slot(slot).name)

    return partition_tags(index, partitions, owner)


def _mismatch(
    index: str, config: PipelineConfig, stored_fp: bytes, raw_cfg: bytes | None
) -> ConfigMismatch:
    stored = layout.decode_config(raw_cfg)
    if stored is not None and stored.normaliser_version != config.normaliser_version:
        return ConfigMismatch(
            f"index '{index}' was built by a copydesk whose text pipeline "
            f"(normaliser version {stored.normaliser_version}) gives other shingle "
            f"hashes than this one's (version {config.normaliser_version}): "
            "re-ingest the articles into a new index (another COPYDESK_INDEX or "
            "--data-dir), then drop the old one."
        )
    return ConfigMismatch(
        f"index '{index}' was built with {stored} "
        f"(fingerprint {stored_fp.decode()}), but this process uses {config} "
        f"(fingerprint {config.fingerprint}). Signatures from different "
        "parameters cannot be compared: run with the index's parameters "
        "(COPYDESK_SHINGLE_K, COPYDESK_NUM_PERM, COPYDESK_BANDS, COPYDESK_ROWS, "
        "COPYDESK_WINNOW), "
        "or use another COPYDESK_INDEX / --data-dir and re-ingest."
    )


def claim_config(
    client: redis.Redis, config: PipelineConfig, keys: IndexKeys, partitions: int
) -> IndexKeys:
    """Claim an empty index for ``config`` (with ``keys``' shard counts and
    ``partitions`` partitions), or refuse one built otherwise. Returns the
    index's keys as stored: an existing index keeps its own shard counts and
    partitions, whatever is asked now."""
    meta, root = keys.meta, keys.root
    claim = layout.index_claim(config, LAYOUT_VERSION, root.lsh_shards, root.fp_shards)
    # An index of another layout is refused before anything is claimed in it.
    stored_layout, had_tags = client.hmget(meta, [layout.META_LAYOUT, layout.META_PARTITIONS])
    check_layout(keys.index, cast("bytes | None", stored_layout))
    if stored_layout is None:  # a new index: its partitions' tags (an existing one keeps its own)
        claim[layout.META_PARTITIONS] = layout.encode_partitions(
            new_tags(client, keys.index, partitions)
        )
    elif had_tags is None:
        # Made before partitions existed: it is one partition, whatever is asked now.
        claim[layout.META_PARTITIONS] = layout.encode_partitions([""])
    # Claim what is unset, then read back what won (another process may have
    # claimed first), in one round trip.
    pipe = client.pipeline()
    for name, value in claim.items():
        pipe.hsetnx(meta, name, value)
    pipe.hmget(meta, layout.CONFIG_FIELDS)
    stored_fp, stored_cfg, stored_layout, shards, fp_shards, tags = pipe.execute()[-1]
    check_layout(keys.index, stored_layout)
    if stored_fp is not None and stored_fp.decode() != config.fingerprint:
        raise _mismatch(keys.index, config, stored_fp, stored_cfg)
    return IndexKeys.of(keys.index, layout.decode_partitions(tags), int(shards), int(fp_shards))
