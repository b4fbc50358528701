"""service.storage.meta: the first process claims an index's config, later
ones adopt what is stored or are refused."""

from __future__ import annotations

import pytest
import redis

from service.model import ConfigMismatch
from service.storage import layout
from service.storage.keys import LAYOUT_VERSION, IndexKeys
from service.storage.meta import check_layout, claim_config, new_tags
from shingling import PipelineConfig

CONFIG = PipelineConfig()


def test_a_new_index_is_claimed_with_every_config_field(redis_client: redis.Redis) -> None:
    keys = claim_config(redis_client, CONFIG, IndexKeys.single("m", 1024, 2048), 3)
    assert keys == IndexKeys.of("m", ["", "1", "2"], 1024, 2048)
    stored = redis_client.hgetall(keys.meta)
    assert stored[b"fingerprint"] == CONFIG.fingerprint.encode()
    assert stored[b"layout"] == str(LAYOUT_VERSION).encode()
    assert layout.decode_partitions(stored[b"partitions"]) == ["", "1", "2"]
    assert (stored[b"lsh_shards"], stored[b"fp_shards"]) == (b"1024", b"2048")


def test_a_later_process_adopts_the_stored_shards_and_partitions(
    redis_client: redis.Redis,
) -> None:
    first = claim_config(redis_client, CONFIG, IndexKeys.single("m", 1024, 2048), 2)
    later = claim_config(redis_client, CONFIG, IndexKeys.single("m", 4096, 4096), 5)
    assert later == first


def test_an_index_made_before_partitions_stays_one_partition(redis_client: redis.Redis) -> None:
    meta = IndexKeys.single("old").meta
    redis_client.hset(meta, mapping={"layout": str(LAYOUT_VERSION)})
    keys = claim_config(redis_client, CONFIG, IndexKeys.single("old"), 3)
    assert len(keys.parts) == 1


def test_another_config_is_refused_and_says_which(redis_client: redis.Redis) -> None:
    claim_config(redis_client, CONFIG, IndexKeys.single("m"), 1)
    other = PipelineConfig(k=4)
    with pytest.raises(ConfigMismatch, match="fingerprint"):
        claim_config(redis_client, other, IndexKeys.single("m"), 1)
    newer = PipelineConfig(normaliser_version=CONFIG.normaliser_version + 1)
    with pytest.raises(ConfigMismatch, match="normaliser version"):
        claim_config(redis_client, newer, IndexKeys.single("m"), 1)


def test_another_layout_is_refused_before_anything_is_claimed(redis_client: redis.Redis) -> None:
    meta = IndexKeys.single("m").meta
    redis_client.hset(meta, "layout", "1")
    with pytest.raises(ConfigMismatch, match="storage layout 1"):
        claim_config(redis_client, CONFIG, IndexKeys.single("m"), 1)
    assert redis_client.hkeys(meta) == [b"layout"]
    check_layout("m", None)  # unclaimed: nothing to refuse
    check_layout("m", str(LAYOUT_VERSION).encode())


def test_new_tags_on_one_redis(redis_client: redis.Redis) -> None:
    assert new_tags(redis_client, "m", 1) == [""]
    assert new_tags(redis_client, "m", 3) == ["", "1", "2"]
