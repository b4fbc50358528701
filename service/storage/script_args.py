"""The KEYS and ARGV of each Lua script call (``lua/put.lua``, ``remove.lua``,
``query.lua``: their headers document every position).

Pure functions of the keys of one partition and what is written or asked:
the index decides what to write, these say how a script is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from service.storage import layout
from service.storage.keys import FINGERPRINT_CAP, Keys
from service.storage.layout import PreparedDoc, pack_u32, pack_u32s, sig_offset
from shingling import PipelineConfig, band_keys

#: The old version of a replaced doc: its number inside the partition, its signature.
OldVersion = tuple[int, np.ndarray]


def lsh_args(part: Keys) -> list[str | int]:
    """A partition's LSH key prefix and shard count: the scripts build each
    band's shard key and field from them exactly as ``Keys.lsh`` and
    ``layout.band_field`` do."""
    return [part.lsh_prefix, part.lsh_shards]


def fp_args(part: Keys) -> list[str | int]:
    """A partition's fingerprint key prefix and shard count (``Keys.fp`` in the scripts)."""
    return [part.fp_prefix, part.fp_shards]


def put_args(
    part: Keys,
    config: PipelineConfig,
    doc: PreparedDoc,
    cur: bytes | str | None,
    n: int,
    old: OldVersion | None,
) -> tuple[list[str], list[bytes | str | int | float]]:
    """KEYS and ARGV of ``put.lua``: ``n`` and the old version's number are
    numbers inside ``part``; ``cur`` is what ``ids`` held for the id when read."""
    if old is not None:
        old_n, old_sig = old
        old_bands = pack_u32s(band_keys(old_sig, config))
        old_doc, old_block = part.doc(old_n), part.sig_block(old_n)
        old_packed = pack_u32(old_n)
        old_off = sig_offset(old_n, config.num_perm)
    else:
        old_bands = b""
        old_doc, old_block = part.doc(n), part.sig_block(n)
        old_packed, old_off = b"", 0
    keys = [part.ids, part.bytime, part.doc(n), part.sig_block(n), old_doc, old_block]
    args: list[bytes | str | int | float] = [
        doc.id,
        cur or b"",
        n,
        pack_u32(n),
        old_packed,
        doc.signature,
        sig_offset(n, config.num_perm),
        old_off,
        doc.time_score,
        layout.sig_block_bytes(config.num_perm),
        *lsh_args(part),
        doc.bands,
        old_bands,
        *fp_args(part),
        doc.fingerprints,  # packed: the script computes each one's shard (Keys.fp)
        FINGERPRINT_CAP,
        *(x for kv in doc.fields.items() for x in kv),
    ]
    return keys, args


def remove_args(
    part: Keys, config: PipelineConfig, article_id: bytes | str, n: int, sig: np.ndarray
) -> tuple[list[str], list[bytes | str | int]]:
    """KEYS and ARGV of ``remove.lua``; ``n`` is the doc's number inside ``part``."""
    return (
        [part.ids, part.bytime, part.doc(n), part.sig_block(n)],
        [
            article_id,
            str(n),
            pack_u32(n),
            sig_offset(n, config.num_perm),
            layout.sig_width(config.num_perm),
            *lsh_args(part),
            pack_u32s(band_keys(sig, config)),
            *fp_args(part),
        ],
    )


def query_args(
    part: Keys,
    *,
    bands: bytes,
    fingerprints: bytes,
    left_out: Iterable[int],
    limit: int,
    with_docs: bool,
    max_bucket: int,
    passage_limit: int,
    max_single_fingerprint: int,
) -> tuple[list[str], list[Any]]:
    """KEYS and ARGV of ``query.lua``: ``bands`` and ``fingerprints`` packed
    (``layout.pack_u32s``), ``left_out`` doc numbers inside ``part``."""
    return [part.ids], [
        part.doc_prefix,
        limit,
        pack_u32s(np.array(sorted(left_out))),
        "1" if with_docs else "0",
        *lsh_args(part),
        bands,
        max_bucket,
        *fp_args(part),
        fingerprints,
        passage_limit,
        FINGERPRINT_CAP,  # a full list is a stock passage: no candidates
        max_single_fingerprint,
    ]
