"""service.storage.layout: every stored field round-trips, and its bytes are
the ones existing indexes hold (a change here would leave them unreadable)."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from service.model import ArticleIn
from service.storage import layout
from shingling import PipelineConfig, analyse
from shingling.shingles import narrow

CONFIG = PipelineConfig()
TEXT = (
    "The council approved the new budget on Tuesday after a long debate. "
    "Officials said the plan would fund schools, roads and two new clinics. "
    "Critics argued that the tax rise would hurt small businesses in the town."
)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_u32_packing_is_little_endian_and_round_trips() -> None:
    assert layout.pack_u32(1) == b"\x01\x00\x00\x00"
    assert layout.unpack_u32(layout.pack_u32(0xDEADBEEF)) == 0xDEADBEEF
    packed = layout.pack_u32s([1, 2, 0xFFFFFFFF])
    assert packed == b"\x01\0\0\0\x02\0\0\0\xff\xff\xff\xff"
    assert layout.unpack_u32s(packed).tolist() == [1, 2, 0xFFFFFFFF]
    assert layout.unpack_u32s(None).tolist() == []
    assert layout.pack_u32s(np.array([7], dtype=np.int64)) == layout.pack_u32(7)


def test_band_and_fp_fields() -> None:
    raw = layout.band_field(3, 0x01020304)
    assert raw == b"\x03\x04\x03\x02\x01" and len(raw) == layout.BAND_FIELD_BYTES
    assert layout.unpack_band_field(raw) == (3, 0x01020304)
    assert layout.fp_field(258) == b"\x02\x01\x00\x00"
    assert layout.unpack_fp_field(layout.fp_field(4242)) == 4242
    packed = layout.pack_u32s([5, 6, 7])
    assert layout.fp_fields(packed) == [layout.fp_field(5), layout.fp_field(6), layout.fp_field(7)]


def test_signature_block_arithmetic() -> None:
    assert layout.SIG_BLOCK_SLOTS == 1024
    assert layout.sig_offset(0, 128) == 0
    assert layout.sig_offset(1, 128) == 512
    assert layout.sig_offset(1024, 128) == 0  # first slot of the next block
    assert layout.sig_offset(1025, 4) == 16
    assert layout.sig_block_of(2047) == 1 and layout.sig_slot_of(2047) == 1023
    docs = np.array([3, 1024, 5000])
    assert layout.sig_block_of(docs).tolist() == [0, 1, 4]
    assert layout.sig_block_start(4) + layout.sig_slot_of(5000) == 5000
    assert layout.sig_block_bytes(128) == 1024 * 512


def test_signatures_round_trip_through_a_block() -> None:
    num_perm = 4
    sigs = np.arange(1, 13, dtype=np.uint32).reshape(3, num_perm)
    raw = layout.encode_sig_block(sigs)
    block = layout.decode_sig_block(raw, num_perm)
    assert block.shape == (1024, num_perm)
    assert np.array_equal(block[:3], sigs) and not block[3:].any()
    for n in range(3):
        off = layout.sig_offset(n, num_perm)
        slot = raw[off : off + layout.sig_width(num_perm)]
        assert np.array_equal(layout.decode_signature(slot, num_perm), sigs[n])
    assert not layout.decode_signature(b"", num_perm).any()  # past the block's end
    assert [s for s, _ in layout.set_slots(raw + bytes(16), num_perm)] == [0, 1, 2]
    assert layout.slot_is_set(raw, 2, num_perm) and not layout.slot_is_set(raw, 3, num_perm)
    assert not layout.slot_is_set(None, 0, num_perm)
    with pytest.raises(ValueError):
        layout.encode_sig_block(np.zeros((1025, num_perm), np.uint32))


def test_text_is_zlib_of_utf8_with_lone_surrogates_kept() -> None:
    text = "Grüße \ud800 tail"
    raw = layout.encode_text(layout.encode_utf8(text))
    assert zlib.decompress(raw) == text.encode("utf-8", "surrogatepass")
    assert layout.decode_text(raw) == text
    assert layout.decode_text(None) == "" and layout.decode_text(b"") == ""


def test_times_are_stored_in_utc() -> None:
    paris = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert layout.encode_time(paris) == "2024-05-01T12:00:00+00:00"
    assert layout.encode_time(datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00+00:00"
    assert layout.decode_time(b"2024-05-01T12:00:00+00:00") == NOW.timestamp()
    assert layout.decode_time(None) is None and layout.decode_time(b"") is None


def test_encode_doc_holds_every_field_and_decode_doc_reads_it_back() -> None:
    article = ArticleIn(
        TEXT, id="a-1", title="Budget", source="Wire", url="https://x.test/a", published_at=NOW
    )
    analysis = analyse(TEXT, CONFIG)
    doc = layout.encode_doc(article, analysis, NOW + timedelta(hours=1))
    f = doc.fields
    assert set(f) == {
        "id", "text", "sha", "ingested_at", "sh", "nq", "fp", "title", "source", "url",
        "published_at",
    }  # fmt: skip
    assert f["sha"] == layout.text_sha(TEXT.encode()) and doc.id == "a-1"
    assert f["published_at"] == "2024-05-01T12:00:00+00:00"
    assert f["ingested_at"] == "2024-05-01T13:00:00+00:00"
    assert doc.time_score == NOW.timestamp()  # published_at, not the ingest time
    assert layout.unpack_u32s(doc.fingerprints).tolist() == analysis.fingerprints.tolist()
    assert layout.unpack_u32s(doc.bands).tolist() == analysis.bands.tolist()
    assert np.array_equal(
        layout.decode_signature(doc.signature, CONFIG.num_perm), analysis.signature
    )
    shingles = layout.decode_shingles(f["sh"], f["nq"])  # type: ignore[arg-type]
    want = narrow(analysis.shingles)
    assert shingles.hashes.tolist() == want.hashes.tolist()

    raw = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in f.items()}
    stored = layout.decode_doc(raw)
    assert (stored.id, stored.text, stored.title, stored.source, stored.url) == (
        "a-1", TEXT, "Budget", "Wire", "https://x.test/a",
    )  # fmt: skip
    assert stored.published_at == f["published_at"] and stored.ingested_at == f["ingested_at"]


def test_an_article_without_id_or_metadata() -> None:
    doc = layout.encode_doc(ArticleIn(TEXT), analyse(TEXT, CONFIG), NOW)
    assert doc.id == layout.default_id(TEXT) == layout.text_sha(TEXT.encode())[:16]
    assert not {"title", "source", "url", "published_at"} & set(doc.fields)
    assert doc.time_score == NOW.timestamp()  # no published_at: the ingest time
    stored = layout.decode_doc({b"id": doc.id.encode(), b"text": doc.fields["text"]})  # type: ignore[dict-item]
    assert stored.title is None and stored.published_at is None and stored.ingested_at == ""


def test_same_version_compares_text_and_metadata() -> None:
    fields = layout.encode_doc(
        ArticleIn(TEXT, id="a", title="T"), analyse(TEXT, CONFIG), NOW
    ).fields
    sha = str(fields["sha"]).encode()
    assert layout.same_version([sha, b"T", None, None, None], fields)
    assert not layout.same_version([sha, b"Other", None, None, None], fields)
    assert not layout.same_version([b"0" * 64, b"T", None, None, None], fields)


def test_meta_fields() -> None:
    claim = layout.index_claim(CONFIG, 2, 1024, 2048)
    assert claim == {
        "fingerprint": CONFIG.fingerprint,
        "config": CONFIG.to_json(),
        "layout": "2",
        "lsh_shards": 1024,
        "fp_shards": 2048,
    }
    assert layout.decode_config(claim["config"].encode()) == CONFIG  # type: ignore[union-attr]
    assert layout.decode_config(None) is None
    assert layout.decode_partitions(layout.encode_partitions(["", "1-3"]).encode()) == ["", "1-3"]
    assert layout.decode_partitions(None) == [""]  # made before partitions existed
    assert layout.decode_count(b"12", 5) == 12 and layout.decode_count(None, 5) == 5
    assert layout.CONFIG_FIELDS[-1] == "partitions"
