"""service.storage.keys: key formats and the LSH shard count."""

from __future__ import annotations

from service.storage.keys import ENTRIES_PER_SHARD, Keys, lsh_shards_for
from service.storage.layout import band_field


def test_shard_count_is_a_power_of_two_near_the_planned_entries_per_shard() -> None:
    for capacity in (1, 5_000, 65_536, 100_000, 1_000_000, 3_000_000):
        shards = lsh_shards_for(capacity, 64)
        assert shards & (shards - 1) == 0
        if 1 << 10 < shards < 1 << 24:
            per_shard = capacity * 64 / shards
            assert ENTRIES_PER_SHARD / 2 < per_shard <= ENTRIES_PER_SHARD
    assert lsh_shards_for(1, 64) == 1 << 10  # small indexes: a floor
    assert lsh_shards_for(10**9, 64) == 1 << 24  # and a ceiling


def test_band_entries_stay_within_the_index_shard_count() -> None:
    keys = Keys("k", lsh_shards=1024)
    names, fields = keys.band_entries([0xFFFFFFFF, 7, 123456789])
    assert all(int(n.rsplit(":", 1)[1]) < 1024 for n in names)
    assert fields[1] == band_field(1, 7)
    assert all(n.startswith(keys.lsh_prefix) for n in names)
