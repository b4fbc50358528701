"""How every stored field of copydesk is encoded: the one place that knows.

``keys.py`` names the keys; this module says what their values and fields
hold, and how to write and read them. The Lua scripts (``lua/``) write the
same bytes (their headers say which argument is which); change both together,
and bump ``keys.LAYOUT_VERSION`` when an existing index could no longer be read.

Doc record (``Keys.doc(n)``, a hash; field names are the constants below):

    id            the article id (UTF-8)
    text          its text, UTF-8 compressed in zlib format (``encode_text``)
    sha           SHA-256 (hex) of the UTF-8 text
    ingested_at   ISO 8601 UTC time of the write
    sh, nq        its shingle set (32-bit hashes, sorted) and which of it is
                  narrative, packed (``shingling.shingles.pack``)
    fp            its passage fingerprints, packed uint32 LE
    title, source, url, published_at (ISO 8601 UTC)   optional metadata

Other values:

- a doc number is decimal in ``ids`` (values) and ``bytime`` (members), and
  a uint32 LE (``pack_u32``) in posting lists, which are packed uint32 LE
  (``pack_u32s``);
- ``sig:<block>`` holds ``SIG_BLOCK_SLOTS`` fixed slots of ``num_perm``
  uint32 LE (``sig_offset``; an unset slot reads as zeros);
- an LSH shard's field is (band uint8, bucket uint32 LE) (``band_field``); a
  fingerprint shard's field is the fingerprint uint32 LE (``fp_field``);
- the first partition's meta holds the fields ``META_*`` (``index_claim``).
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from isal import isal_zlib

from service.model import ArticleIn, StoredArticle
from shingling import Analysis, PipelineConfig
from shingling.shingles import Shingles, pack, unpack
from shingling.signature import SIG_DTYPE

# -- doc record fields ------------------------------------------------------
ID = "id"
TEXT = "text"
SHA = "sha"
INGESTED_AT = "ingested_at"
SHINGLES = "sh"
NARRATIVE = "nq"
FINGERPRINTS = "fp"
TITLE = "title"
SOURCE = "source"
URL = "url"
PUBLISHED_AT = "published_at"
#: The optional metadata of an article, as ``ArticleIn`` names it.
META_FIELDS = (TITLE, SOURCE, URL, PUBLISHED_AT)
#: What makes two versions of an article the same (same text and metadata).
IDENTITY_FIELDS = (SHA, *META_FIELDS)
#: What a list of articles shows (no text).
LISTED_FIELDS = (ID, TITLE, SOURCE, URL, PUBLISHED_AT, INGESTED_AT)

# -- index meta fields (``Keys.meta``) ---------------------------------------
META_NEXT_DOC = "next_doc"  # every partition: the last doc number given out
META_FINGERPRINT = "fingerprint"  # the rest in the first partition only
META_CONFIG = "config"
META_LAYOUT = "layout"
META_LSH_SHARDS = "lsh_shards"
META_FP_SHARDS = "fp_shards"
META_PARTITIONS = "partitions"
#: The fields ``check_config`` claims and reads back, in this order.
CONFIG_FIELDS = (
    META_FINGERPRINT,
    META_CONFIG,
    META_LAYOUT,
    META_LSH_SHARDS,
    META_FP_SHARDS,
    META_PARTITIONS,
)

# -- packed numbers -----------------------------------------------------------
#: A packed uint32, as posting lists, signatures and fingerprints hold them.
U32 = np.dtype("<u4")
_U32 = struct.Struct("<I")
_BAND_FIELD = struct.Struct("<BI")
BAND_FIELD_BYTES = _BAND_FIELD.size
FP_FIELD_BYTES = _U32.size


def pack_u32(n: int) -> bytes:
    """A doc number (or fingerprint) as posting lists hold it: uint32 LE."""
    return _U32.pack(n)


def unpack_u32(raw: bytes) -> int:
    return int(_U32.unpack(raw)[0])


def pack_u32s(values: Iterable[int] | np.ndarray) -> bytes:
    """Values as packed uint32 LE (a posting list, a doc's fingerprints, bands)."""
    return np.asarray(values if isinstance(values, np.ndarray) else list(values), U32).tobytes()


def unpack_u32s(raw: bytes | None) -> np.ndarray:
    """Packed uint32 LE values as an array (empty for None)."""
    return np.frombuffer(raw or b"", dtype=U32)


def band_field(band: int, bucket: int) -> bytes:
    """The field of a (band, bucket) entry in its LSH shard."""
    return _BAND_FIELD.pack(band, bucket)


def unpack_band_field(raw: bytes) -> tuple[int, int]:
    band, bucket = _BAND_FIELD.unpack(raw)
    return int(band), int(bucket)


def fp_field(fingerprint: int) -> bytes:
    """The field of a fingerprint in its shard: the fingerprint, uint32 LE."""
    return _U32.pack(fingerprint)


def unpack_fp_field(raw: bytes) -> int:
    return int(_U32.unpack(raw)[0])


def fp_fields(packed: bytes) -> list[bytes]:
    """The fields of packed fingerprints, one each (``put.lua`` takes them so)."""
    return [packed[i : i + FP_FIELD_BYTES] for i in range(0, len(packed), FP_FIELD_BYTES)]


# -- signature blocks --------------------------------------------------------
SIG_BLOCK_BITS = 10
#: Signature slots in one ``sig`` block.
SIG_BLOCK_SLOTS = 1 << SIG_BLOCK_BITS
_SLOT_MASK = SIG_BLOCK_SLOTS - 1


def sig_width(num_perm: int) -> int:
    """Bytes of one signature slot."""
    return num_perm * 4


def sig_block_bytes(num_perm: int) -> int:
    """Bytes of a full ``sig`` block."""
    return SIG_BLOCK_SLOTS * sig_width(num_perm)


def sig_offset(n: int, num_perm: int) -> int:
    """Byte offset of doc ``n``'s signature inside its ``sig`` block."""
    return (n & _SLOT_MASK) * sig_width(num_perm)


def sig_block_of(n: Any) -> Any:
    """The block number of doc number(s) ``n`` (an int or an int array)."""
    return n >> SIG_BLOCK_BITS


def sig_slot_of(n: Any) -> Any:
    """The slot inside its block of doc number(s) ``n`` (an int or an int array)."""
    return n & _SLOT_MASK


def sig_block_start(block: int) -> int:
    """The first doc number of block ``block`` (``Keys.sig_block`` of it names the block)."""
    return block << SIG_BLOCK_BITS


def encode_signature(signature: np.ndarray) -> bytes:
    return np.asarray(signature).astype(SIG_DTYPE).tobytes()


def decode_signature(raw: bytes | None, num_perm: int) -> np.ndarray:
    """A signature slot's bytes as uint32; a slot past the block's end (short
    or None) reads as zeros."""
    return np.frombuffer((raw or b"").ljust(sig_width(num_perm), b"\0"), dtype=SIG_DTYPE)


def decode_sig_block(raw: bytes | None, num_perm: int) -> np.ndarray:
    """A whole ``sig`` block as a (``SIG_BLOCK_SLOTS``, ``num_perm``) array,
    zeros where a slot is unset."""
    buf = (raw or b"").ljust(sig_block_bytes(num_perm), b"\0")
    return np.frombuffer(buf[: sig_block_bytes(num_perm)], dtype=SIG_DTYPE).reshape(-1, num_perm)


def encode_sig_block(signatures: np.ndarray) -> bytes:
    """Up to ``SIG_BLOCK_SLOTS`` signatures (rows, in slot order from 0) as a block."""
    if len(signatures) > SIG_BLOCK_SLOTS:
        raise ValueError(f"a block holds {SIG_BLOCK_SLOTS} signatures, not {len(signatures)}")
    return np.ascontiguousarray(signatures, dtype=SIG_DTYPE).tobytes()


def set_slots(raw: bytes, num_perm: int) -> list[tuple[int, np.ndarray]]:
    """(slot, signature) of each non-zero slot of a ``sig`` block's bytes."""
    width = sig_width(num_perm)
    out = []
    for slot in range(len(raw) // width):
        chunk = raw[slot * width : (slot + 1) * width]
        if chunk.strip(b"\0"):
            out.append((slot, np.frombuffer(chunk, dtype=SIG_DTYPE)))
    return out


def slot_is_set(raw: bytes | None, n: int, num_perm: int) -> bool:
    """Whether doc ``n``'s slot in its block's bytes ``raw`` holds a signature."""
    off, width = sig_offset(n, num_perm), sig_width(num_perm)
    data = raw or b""
    return len(data) >= off + width and bool(data[off : off + width].strip(b"\0"))


# -- scalar fields -------------------------------------------------------------
def decode_str(raw: bytes | None) -> str | None:
    return raw.decode() if raw is not None else None


def decode_number(raw: bytes | str) -> int:
    """A doc number as ``ids`` and ``bytime`` hold it (decimal)."""
    return int(raw)


def utc(dt: datetime) -> datetime:
    """``dt`` in UTC; a naive time is taken to be UTC already."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def encode_time(dt: datetime) -> str:
    """A time as ``published_at`` and ``ingested_at`` hold it: ISO 8601 in UTC."""
    return utc(dt).isoformat()


def decode_time(raw: bytes | str | None) -> float | None:
    """A stored time as epoch seconds (None when unset)."""
    if not raw:
        return None
    return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw).timestamp()


def text_sha(utf8: bytes) -> str:
    """The SHA-256 (hex) the index keeps of an article's UTF-8 text."""
    return hashlib.sha256(utf8).hexdigest()


def encode_utf8(text: str) -> bytes:
    """An article text's UTF-8 (lone surrogates kept, as the text is hashed)."""
    return text.encode("utf-8", "surrogatepass")


def encode_text(utf8: bytes) -> bytes:
    """A text's UTF-8 as the ``text`` field holds it: zlib format, written by
    ISA-L at level 1 (a third of zlib's own level-1 time on news text, and a
    little smaller); any zlib reads it back."""
    return isal_zlib.compress(utf8, 1)


def decode_text(raw: bytes | None) -> str:
    """A stored ``text`` field as a string ('' when unset)."""
    return zlib.decompress(raw).decode("utf-8", "surrogatepass") if raw else ""


def decode_shingles(hashes: bytes, narrative: bytes | None) -> Shingles:
    """A stored ``sh``/``nq`` pair as the 32-bit shingle set it packs."""
    return unpack(hashes, narrative or b"")


# -- whole records ---------------------------------------------------------------
@dataclass(frozen=True)
class PreparedDoc:
    """What ``put.lua`` stores for one article, computed without Redis: its
    id, doc record fields, signature bytes, packed band buckets and
    fingerprints. Plain bytes and strings, so a worker process can hand it
    back cheaply."""

    id: str
    fields: dict[str, bytes | str]
    signature: bytes
    bands: bytes
    fingerprints: bytes
    time_score: float  # what retention orders by: published_at, else ingested_at


def default_id(text: str, sha: str | None = None) -> str:
    """The id of an article sent without one: the first 16 hex digits of its
    text's SHA-256 (``sha`` when the caller has it already)."""
    if sha is None:
        sha = text_sha(encode_utf8(text))
    return sha[:16]


def encode_doc(article: ArticleIn, analysis: Analysis, now: datetime) -> PreparedDoc:
    """The record, signature, bands and fingerprints of ``article`` (analysed
    into ``analysis``) written at ``now``."""
    # "sh"/"nq": the shingle set itself and which of it is narrative, so
    # verifying a candidate is a set intersection, not a re-parse.
    hashes, narrative = pack(analysis.shingles)
    utf8 = encode_utf8(article.text)
    sha = text_sha(utf8)
    fingerprints = pack_u32s(np.asarray(analysis.fingerprints))
    fields: dict[str, bytes | str] = {
        ID: article.id or default_id(article.text, sha),
        TEXT: encode_text(utf8),
        SHA: sha,
        INGESTED_AT: encode_time(now),
        SHINGLES: hashes,
        NARRATIVE: narrative,
        # put.lua and remove.lua read them to unlist a replaced or removed
        # version without help from the caller.
        FINGERPRINTS: fingerprints,
    }
    for name in (TITLE, SOURCE, URL):
        value = getattr(article, name)
        if value is not None:
            fields[name] = value
    if article.published_at is not None:
        fields[PUBLISHED_AT] = encode_time(article.published_at)
    return PreparedDoc(
        str(fields[ID]),
        fields,
        encode_signature(analysis.signature),
        pack_u32s(np.asarray(analysis.bands)),
        fingerprints,
        utc(article.published_at or now).timestamp(),
    )


def decode_doc(raw: Mapping[bytes, bytes]) -> StoredArticle:
    """A doc record (``HGETALL``, undecoded) as the article it stores."""

    def field(name: str) -> str | None:
        return decode_str(raw.get(name.encode()))

    return StoredArticle(
        id=raw[ID.encode()].decode(),
        text=decode_text(raw[TEXT.encode()]),
        title=field(TITLE),
        source=field(SOURCE),
        url=field(URL),
        published_at=field(PUBLISHED_AT),
        ingested_at=field(INGESTED_AT) or "",
    )


def same_version(stored: Sequence[bytes | None], fields: Mapping[str, bytes | str]) -> bool:
    """Whether a stored doc's ``IDENTITY_FIELDS`` (``HMGET``, in that order)
    are those of the record ``fields``: same text and metadata."""
    pairs = zip(IDENTITY_FIELDS, stored, strict=True)
    return all(decode_str(v) == fields.get(name) for name, v in pairs)


# -- index meta ----------------------------------------------------------------
def index_claim(
    config: PipelineConfig, layout: int, lsh_shards: int, fp_shards: int
) -> dict[str, str | int]:
    """The meta fields a process claims in a new (or older) index, but for
    its partitions (``encode_partitions``)."""
    return {
        META_FINGERPRINT: config.fingerprint,
        META_CONFIG: config.to_json(),
        META_LAYOUT: str(layout),
        META_LSH_SHARDS: lsh_shards,
        META_FP_SHARDS: fp_shards,
    }


def encode_partitions(tags: Sequence[str]) -> str:
    """The partitions' tags as the meta holds them: a JSON list."""
    return json.dumps(list(tags))


def decode_partitions(raw: bytes | str | None) -> list[str]:
    """The partitions' tags in the meta ('' alone for an index made before partitions)."""
    return list(json.loads(raw)) if raw else [""]


def decode_count(raw: bytes | str | None, default: int) -> int:
    """A count field of the meta (shards, ``next_doc``), ``default`` when unset."""
    return int(raw) if raw else default


def decode_config(raw: bytes | str | None) -> PipelineConfig | None:
    return PipelineConfig.from_json(raw) if raw else None
