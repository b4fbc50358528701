"""service.storage.script_args: each script call's KEYS and ARGV sit where
the script's header says (lua/put.lua, remove.lua, query.lua)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from service.model import ArticleIn
from service.storage import layout
from service.storage.keys import FINGERPRINT_CAP, Keys
from service.storage.script_args import put_args, query_args, remove_args
from shingling import PipelineConfig, analyse, band_keys

CONFIG = PipelineConfig()
PART = Keys("s", 1024, 512, "1")
TEXT = (
    "The council approved the new budget on Tuesday after a long and heated debate. "
    "Officials said the plan would fund schools, repair roads and open two new clinics."
)
DOC = layout.encode_doc(ArticleIn(TEXT, id="a"), analyse(TEXT, CONFIG), datetime.now(UTC))


def test_put_args_of_a_new_article() -> None:
    keys, args = put_args(PART, CONFIG, DOC, None, 5, None)
    new = [PART.doc(5), PART.sig_block(5)]
    assert keys == [PART.ids, PART.bytime, *new, *new]  # no old version: the new keys again
    assert args[:9] == [
        "a", b"", 5, layout.pack_u32(5), b"", DOC.signature,
        layout.sig_offset(5, CONFIG.num_perm), 0, DOC.time_score,
    ]  # fmt: skip
    assert args[9] == layout.sig_block_bytes(CONFIG.num_perm)
    assert args[10:16] == [PART.lsh_prefix, 1024, DOC.bands, b"", PART.fp_prefix, 512]
    # the fingerprints go packed, as the doc stores them: the script finds their shards
    assert args[16] == DOC.fingerprints == DOC.fields["fp"] and len(DOC.fingerprints) > 0
    assert args[17] == FINGERPRINT_CAP
    pairs = args[18:]
    assert dict(zip(pairs[0::2], pairs[1::2], strict=True)) == DOC.fields


def test_put_args_of_a_replacement_name_the_old_version() -> None:
    old_sig = analyse("Another text entirely about frogs in the hills.", CONFIG).signature
    keys, args = put_args(PART, CONFIG, DOC, b"3", 1030, (3, old_sig))
    assert keys[4:6] == [PART.doc(3), PART.sig_block(3)]
    assert args[1] == b"3" and args[4] == layout.pack_u32(3)
    assert args[7] == layout.sig_offset(3, CONFIG.num_perm)
    assert args[13] == layout.pack_u32s(band_keys(old_sig, CONFIG))


def test_remove_args() -> None:
    sig = analyse(TEXT, CONFIG).signature
    keys, args = remove_args(PART, CONFIG, "a", 1025, sig)
    assert keys == [PART.ids, PART.bytime, PART.doc(1025), PART.sig_block(1025)]
    assert args == [
        "a", "1025", layout.pack_u32(1025), layout.sig_offset(1025, CONFIG.num_perm),
        CONFIG.num_perm * 4, PART.lsh_prefix, 1024, layout.pack_u32s(band_keys(sig, CONFIG)),
        PART.fp_prefix, 512,
    ]  # fmt: skip


def test_query_args() -> None:
    keys, args = query_args(
        PART,
        bands=b"B",
        fingerprints=b"F",
        left_out=[9, 2],
        limit=30,
        with_docs=True,
        max_bucket=64,
        passage_limit=10,
        max_single_fingerprint=4,
    )
    assert keys == [PART.ids]
    assert args == [
        PART.doc_prefix, 30, layout.pack_u32s(np.array([2, 9])), "1", PART.lsh_prefix, 1024,
        b"B", 64, PART.fp_prefix, 512, b"F", 10, FINGERPRINT_CAP, 4,
    ]  # fmt: skip
    _, args = query_args(
        PART, bands=b"", fingerprints=b"", left_out=[], limit=0, with_docs=False,
        max_bucket=0, passage_limit=0, max_single_fingerprint=0,
    )  # fmt: skip
    assert args[2] == b"" and args[3] == "0"
