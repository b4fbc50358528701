"""Compiled inner loops of the indexing and verification path (numba).

Each kernel is one pipeline stage written as plain loops and compiled once
per install (numba caches the machine code in the user's cache directory,
see ``CACHE_DIR``). The same stages as numpy expressions cost
~40 calls per article, and at ~600 tokens the fixed cost of each call, not
the arithmetic, was most of the time: analysing an article went from
0.61 to 0.31 ms, and to ~0.2 ms once folding and the chrome check ran on
per-code-point tables here too (docs/benchmarks.md). The kernels are pure
functions of arrays; the arithmetic is unchanged (the tests check the
hashes against the reference definitions, the table-driven text passes
against the Python string code, and the signatures against datasketch,
bit for bit).

All arithmetic is on uint64 and wraps, as the hash definitions ask.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import platformdirs


def _cache_dir() -> str | None:
    """Where numba keeps the compiled kernels: NUMBA_CACHE_DIR if the user set
    it, else ``<user cache dir>/copydesk/numba``; None if it is not writable.

    Never beside this file, numba's default when the package directory is
    writable, as in a venv's site-packages: pip does not know those files, so
    uninstalling the package (``pip install -e`` over ``pip install .``, as
    scripts/test once did) left ``site-packages/shingling/__pycache__`` holding
    only them, and ``import shingling`` then found an empty namespace package
    there instead of the code ("cannot import name 'Analysis'"). A per-user
    directory outside the install is also what numba falls back to where the
    package is read-only (a container), so every install behaves the same.
    Cache entries are keyed by the source file's path and content hash, so two
    installs (or versions) sharing the directory never load each other's code.
    """
    path = Path(
        os.environ.get("NUMBA_CACHE_DIR")
        or Path(platformdirs.user_cache_dir("copydesk", appauthor=False)) / "numba"
    )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return str(path) if os.access(path, os.W_OK | os.X_OK) else None


#: numba's cache directory for the kernels (None: compiled once per process).
CACHE_DIR = _cache_dir()
if CACHE_DIR is not None:
    # Set before numba is imported (it reads the variable then) and in the
    # environment, so numba's config reloads and our spawned workers keep it.
    os.environ["NUMBA_CACHE_DIR"] = CACHE_DIR

import numba  # noqa: E402  (after NUMBA_CACHE_DIR is set)
import numpy as np  # noqa: E402

if CACHE_DIR is not None:
    # numba may have been imported before us (its config module sets its attributes at run time)
    numba.config.CACHE_DIR = CACHE_DIR  # type: ignore[attr-defined]

_F = TypeVar("_F", bound=Callable[..., Any])


def _kernel(fn: _F) -> _F:
    """Compile ``fn`` without the GIL (a writer thread runs meanwhile), cached
    in ``CACHE_DIR``; where it is not writable, compile once per process (with
    no CACHE_DIR numba would fall back to writing beside this file)."""
    if CACHE_DIR is None:
        return cast(_F, numba.njit(nogil=True)(fn))
    try:
        return cast(_F, numba.njit(cache=True, nogil=True)(fn))
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return cast(_F, numba.njit(nogil=True)(fn))


# Hash constants: odd multipliers and the MurmurHash3 64-bit finaliser's.
P = np.uint64(0x9E3779B97F4A7C15)  # combines the k token hashes of a shingle
P_TOKEN = np.uint64(0xC2B2AE3D27D4EB4F)  # combines a token's code points
C_LEN = np.uint64(0xD6E8FEB86659FD93)  # mixes a token's length into its hash
C_SEED = np.uint64(0xA0761D6478BD642F)  # ... and the seed
M1 = np.uint64(0xFF51AFD7ED558CCD)
M2 = np.uint64(0xC4CEB9FE1A85EC53)
FNV = np.uint64(0x100000001B3)  # combines a band's rows
LOW32 = np.uint64(0xFFFFFFFF)
S33 = np.uint64(33)
WORD, JOINER = 1, 2  # character classes (shingling.tokenise); anything else is 0
NEWLINE = 0x0A


@_kernel
def fmix64(h: np.uint64) -> np.uint64:
    """MurmurHash3's 64-bit finaliser."""
    h ^= h >> S33
    h *= M1
    h ^= h >> S33
    h *= M2
    h ^= h >> S33
    return h


@_kernel
def _fmix32(h: np.uint64) -> np.uint64:
    """MurmurHash3's 32-bit finaliser (datasketch's ``_fmix(hv, 32)``) on a 32-bit value."""
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & LOW32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & LOW32
    h ^= h >> np.uint64(16)
    return h


@_kernel
def _is_quote_mark(c: int) -> bool:
    return c == 0x22 or c == 0x201C or c == 0x201D or c == 0x201E or c == 0xAB or c == 0xBB


@_kernel
def _opens_before(c: int, spaces: np.ndarray) -> bool:
    """Whether a quotation mark after ``c`` stands where a quotation opens:
    after whitespace, an opening bracket, a dash or a slash."""
    if c < len(spaces) and spaces[c]:
        return True
    return c == 0x28 or c == 0x5B or c == 0x7B or c == 0x2014 or c == 0x2013 or c == 0x2F


@_kernel
def _closes_after(c: int, spaces: np.ndarray) -> bool:
    """Whether a quotation mark before ``c`` stands where a quotation closes:
    before whitespace, punctuation, a closing bracket or a dash."""
    if c < len(spaces) and spaces[c]:
        return True
    return (
        c == 0x2E or c == 0x2C or c == 0x3B or c == 0x3A or c == 0x21 or c == 0x3F
        or c == 0x29 or c == 0x5D or c == 0x7D or c == 0x2014 or c == 0x2013 or c == 0x2F
        or c == 0x2026
    )  # fmt: skip


@_kernel
def _mark_role(codepoints: np.ndarray, i: int, spaces: np.ndarray) -> int:
    """1 when the mark at ``i`` can only open a quotation, -1 when it can only
    close one, 0 when either: by what stands on each side of it (a mark with a
    word on its right only opens, on its left only closes), else by its glyph
    (a left double quotation mark or a low-9 mark opens, a right one closes)."""
    n = len(codepoints)
    left = i == 0 or _opens_before(codepoints[i - 1], spaces)
    right = i + 1 == n or _closes_after(codepoints[i + 1], spaces)
    if left and not right:
        return 1
    if right and not left:
        return -1
    c = codepoints[i]
    if c == 0x201C or c == 0x201E:
        return 1
    if c == 0x201D:
        return -1
    return 0


@_kernel
def _continues_quote(codepoints: np.ndarray, j: int, spaces: np.ndarray) -> bool:
    """Whether the paragraph from ``j`` starts, after whitespace, with a quotation mark."""
    n = len(codepoints)
    while j < n and codepoints[j] < len(spaces) and spaces[codepoints[j]]:
        j += 1
    return j < n and _is_quote_mark(codepoints[j])


@_kernel
def _line_start(codepoints: np.ndarray, i: int, spaces: np.ndarray) -> int:
    """The offset of the line break before ``i`` when only whitespace stands
    between them, else -1."""
    j = i - 1
    while j >= 0 and codepoints[j] != NEWLINE:
        if codepoints[j] >= len(spaces) or not spaces[codepoints[j]]:
            return -1
        j -= 1
    return j


@_kernel
def quote_spans(codepoints: np.ndarray, spaces: np.ndarray) -> np.ndarray:
    """Spans of direct quotations (see ``shingling.tokenise.quote_spans``), as
    rows ``(start, end)``; ``spaces`` flags the whitespace of the BMP (all of
    Unicode's whitespace lies in it)."""
    n = len(codepoints)
    out = np.empty((n // 2 + 1, 2), np.int64)
    found = 0
    opened = -1
    for i in range(n):
        c = codepoints[i]
        if c == NEWLINE:
            if opened == -1:
                continue
            # A paragraph break (a line end followed by a blank line) ends a
            # quotation; an unclosed one counts only when the next paragraph
            # reopens it (a quote running over paragraphs), else its mark was
            # a stray.
            j = i + 1
            blank = True
            while j < n and codepoints[j] != NEWLINE:
                if codepoints[j] >= len(spaces) or not spaces[codepoints[j]]:
                    blank = False
                    break
                j += 1
            if blank and j < n:
                if _continues_quote(codepoints, j, spaces):
                    out[found, 0], out[found, 1] = opened, i
                    found += 1
                opened = -1
            continue
        if not _is_quote_mark(c):
            continue
        role = _mark_role(codepoints, i, spaces)
        if opened == -1:
            if role >= 0:
                opened = i
        elif role == 1:
            # A second opening. At the start of a line it continues a quote
            # over paragraphs cut by single line breaks: the first one ends
            # at that break. Inside a line, the first mark was a stray.
            line = _line_start(codepoints, i, spaces)
            if line >= 0:
                out[found, 0], out[found, 1] = opened, line
                found += 1
            opened = i
        else:
            out[found, 0], out[found, 1] = opened, i + 1
            found += 1
            opened = -1
    return out[:found]


SPACE, LINE_BREAK = 1, 2  # shingling.chrome's kinds of code point; anything else is 0


@_kernel
def has_short_line(codepoints: np.ndarray, kinds: np.ndarray, chars: int, words: int) -> bool:
    """Whether some line (as ``str.splitlines`` cuts them) has at most ``chars``
    characters and 1 to ``words`` whitespace-separated words. ``kinds`` gives
    each BMP code point's kind: ``SPACE``, ``LINE_BREAK`` (also whitespace) or 0."""
    start = 0
    count = 0
    gap = True  # the previous character was whitespace, or there was none
    for i in range(len(codepoints) + 1):
        kind = LINE_BREAK
        if i < len(codepoints):
            c = codepoints[i]
            kind = kinds[c] if c < len(kinds) else 0
        if kind == LINE_BREAK:
            if 0 < count <= words and i - start <= chars:
                return True
            start = i + 1
            count = 0
            gap = True
        elif kind == SPACE:
            gap = True
        else:
            count += gap
            gap = False
    return False


FOLD_UNSAFE = 255  # shingling.normalise.FOLD_UNSAFE


@_kernel
def _folded_size(codepoints: np.ndarray, fold_lengths: np.ndarray) -> int:
    """Length of ``codepoints`` once folded, or -1 when some character is beyond
    the fold table (above the BMP, or unsafe to fold alone)."""
    size = 0
    for i in range(len(codepoints)):
        c = codepoints[i]
        if c >= len(fold_lengths) or fold_lengths[c] == FOLD_UNSAFE:
            return -1
        size += fold_lengths[c]
    return size


@_kernel
def _fold_into(
    codepoints: np.ndarray,
    lo: int,
    hi: int,
    table: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
    size: int,
) -> int:
    """Fold ``codepoints[lo:hi]`` through ``table`` (fold lengths, starts, chars,
    classes) into ``out`` (folded code points, their classes, their origin)
    from position ``size``; returns the new size."""
    fold_lengths, fold_starts, fold_chars, classes = table
    folded, folded_classes, origin = out
    for i in range(lo, hi):
        c = codepoints[i]
        at = fold_starts[c]
        for j in range(at, at + fold_lengths[c]):
            f = fold_chars[j]
            folded[size] = f
            folded_classes[size] = classes[f]
            origin[size] = i
            size += 1
    return size


@_kernel
def fold_pieces(
    codepoints: np.ndarray,
    spaces: np.ndarray,
    fold_lengths: np.ndarray,
    fold_starts: np.ndarray,
    fold_chars: np.ndarray,
    classes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, np.ndarray]:
    """The indexing path's text in one pass (see ``shingling.tokenise.index_tokens``).

    Cuts ``codepoints`` at its quotation spans into pieces (outside and inside
    alternately, empty ones dropped), folds each character through the fold
    table (``shingling.normalise.FoldTable``) and joins the pieces with NUL.
    Returns the folded code points, the ``classes`` entry of each, whether each
    piece is quoted, False when some character is beyond the table (above
    the BMP, or unsafe to fold alone: the caller then folds in Python), and
    the offset in ``codepoints`` each folded code point came from (a piece
    break: where its piece starts), so tokens can be mapped back to the text.
    """
    n = len(codepoints)
    size = _folded_size(codepoints, fold_lengths)
    if size < 0:
        return (
            np.empty(0, np.uint32), np.empty(0, np.uint8), np.empty(0, np.bool_), False,
            np.empty(0, np.int64),
        )  # fmt: skip
    spans = quote_spans(codepoints, spaces)
    out = np.empty(size + 2 * len(spans) + 1, np.uint32)
    out_classes = np.empty(len(out), np.uint8)
    origin = np.empty(len(out), np.int64)
    piece_quoted = np.empty(2 * len(spans) + 1, np.bool_)
    table = (fold_lengths, fold_starts, fold_chars, classes)
    size = pieces = pos = 0
    for s in range(len(spans) + 1):
        start = spans[s, 0] if s < len(spans) else n
        end = spans[s, 1] if s < len(spans) else n
        for half in range(2):
            lo = pos if half == 0 else start
            hi = start if half == 0 else end
            if hi <= lo:
                continue
            if pieces > 0:
                out[size] = 0
                out_classes[size] = 0
                origin[size] = lo
                size += 1
            piece_quoted[pieces] = half == 1
            pieces += 1
            size = _fold_into(codepoints, lo, hi, table, (out, out_classes, origin), size)
        pos = end
    return out[:size], out_classes[:size], piece_quoted[:pieces], True, origin[:size]


@_kernel
def scan_words(classes: np.ndarray, codepoints: np.ndarray) -> tuple[np.ndarray, ...]:
    """Token spans in a text of ``classes`` (one per code point), and the
    piece of each token: ``word_hashes`` without the hashes. One scan serves
    both; the hashes it discards cost ~8 us on a 7,000-character text, on
    paths that are not the indexing hot path (the staged analysis, aligning)."""
    starts, ends, piece, _ = word_hashes(classes, codepoints, np.uint64(0))
    return starts, ends, piece


@_kernel
def span_hashes(
    codepoints: np.ndarray, starts: np.ndarray, ends: np.ndarray, seeded: np.uint64
) -> np.ndarray:
    """Hash of each token ``codepoints[start:end]`` (see ``shingling.shingles.span_hashes``)."""
    out = np.empty(len(starts), np.uint64)
    for t in range(len(starts)):
        h = np.uint64(0)
        power = np.uint64(1)
        for i in range(starts[t], ends[t]):
            h += np.uint64(codepoints[i]) * power
            power *= P_TOKEN
        out[t] = fmix64(h + np.uint64(ends[t] - starts[t]) * C_LEN + seeded)
    return out


@_kernel
def word_hashes(classes: np.ndarray, codepoints: np.ndarray, seeded: np.uint64) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # fmt: skip
    """The tokens of a text of ``classes`` (one per code point): runs of word
    characters, joined across a single joiner between two of them. Returns
    their spans, the piece of each (how many NUL code points precede it) and
    their ``span_hashes``, computed as each token is scanned: ``sketch``
    needs only the hashes, and hashing in the scan saves a second pass over
    the tokens (~8 % of ``sketch``, docs/benchmarks.md)."""
    n = len(classes)
    most = n // 2 + 1
    starts = np.empty(most, np.int64)
    ends = np.empty(most, np.int64)
    piece = np.empty(most, np.int64)
    hashes = np.empty(most, np.uint64)
    t = 0
    pieces = 0
    i = 0
    while i < n:
        if classes[i] != WORD:
            if codepoints[i] == 0:
                pieces += 1
            i += 1
            continue
        starts[t], piece[t] = i, pieces
        h = np.uint64(codepoints[i])
        power = P_TOKEN
        i += 1
        while i < n:
            if classes[i] == WORD:
                take = 1
            elif classes[i] == JOINER and i + 1 < n and classes[i + 1] == WORD:
                take = 2
            else:
                break
            for j in range(i, i + take):
                h += np.uint64(codepoints[j]) * power
                power *= P_TOKEN
            i += take
        ends[t] = i
        hashes[t] = fmix64(h + np.uint64(i - starts[t]) * C_LEN + seeded)
        t += 1
    return starts[:t], ends[:t], piece[:t], hashes[:t]


@_kernel
def windows(hashes: np.ndarray, quoted: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of every window of ``k`` token hashes, and those with no
    quoted token; both in text order, repeats kept (numpy sorts: its sort is
    several times faster than a compiled one at these sizes).

    A text shorter than ``k`` tokens (not empty) is one window of all of them.
    """
    n = len(hashes)
    if n == 0:
        return np.empty(0, np.uint64), np.empty(0, np.uint64)
    width = min(k, n)
    count = n - width + 1
    every = np.empty(count, np.uint64)
    narrative = np.empty(count, np.uint64)
    kept = 0
    for j in range(count):
        h = np.uint64(0)
        any_quoted = False
        for i in range(j, j + width):
            h = h * P + hashes[i]
            any_quoted = any_quoted or quoted[i]
        h = fmix64(h + np.uint64(width))
        every[j] = h
        if not any_quoted:
            narrative[kept] = h
            kept += 1
    return every, narrative[:kept]


@_kernel
def minhash(hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """datasketch's affine32 MinHash of 64-bit hashes: each value's low 32 bits,
    pre-mixed by ``_fmix32``, under ``a*h + b mod 2^32`` for every permutation.

    The inner loop runs over the permutations in uint32 with an unconditional
    minimum, which the compiler turns into SIMD lanes: 3x the 64-bit,
    compare-and-store form at 128 permutations (docs/benchmarks.md).
    """
    num_perm = len(a)
    mixed = np.empty(len(hashes), np.uint32)
    for i in range(len(hashes)):
        mixed[i] = np.uint32(_fmix32(hashes[i] & LOW32))
    low = np.full(num_perm, np.uint32(0xFFFFFFFF), np.uint32)
    for hv in mixed:
        for p in range(num_perm):
            low[p] = min(low[p], np.uint32(a[p] * hv + b[p]))
    return low


@_kernel
def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 32-bit bucket key per band of each signature row of ``sigs`` (n, num_perm)."""
    out = np.empty((sigs.shape[0], bands), np.uint32)
    for s in range(sigs.shape[0]):
        for i in range(bands):
            h = np.uint64(0)
            for j in range(i * rows, (i + 1) * rows):
                h = h * FNV + np.uint64(sigs[s, j])
            out[s, i] = np.uint32(fmix64(h + np.uint64(i)) >> np.uint64(32))
    return out


SKETCHED, SHORT_LINE, UNFOLDABLE = 0, 1, 2  # what ``sketch`` did with a text


@_kernel
def sketch(
    codepoints: np.ndarray,
    line_kinds: np.ndarray,
    short_chars: int,
    short_words: int,
    fold_args: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    seeded: np.uint64,
    k: int,
    a: np.ndarray,
    b: np.ndarray,
    bands: int,
    rows: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A text's whole analysis in one call: the kernels above, composed as
    ``shingling.pipeline`` composes them (``has_short_line``, ``fold_pieces``,
    ``scan_words`` and ``span_hashes`` fused as ``word_hashes``, ``windows``,
    ``minhash``, ``band_keys``).

    Returns ``(SKETCHED, windows, narrative windows, signature, band keys)``,
    or the stage's reason and empty arrays when the text needs the Python
    path: it ``SHORT_LINE`` (it may hold page chrome, which Python masks) or
    is ``UNFOLDABLE`` by the table alone. One call instead of seven saves
    their dispatch and the Python glue between them (docs/benchmarks.md).
    """
    none32 = np.empty(0, np.uint32)
    none64 = np.empty(0, np.uint64)
    if has_short_line(codepoints, line_kinds, short_chars, short_words):
        return SHORT_LINE, none64, none64, none32, none32
    spaces, fold_lengths, fold_starts, fold_chars, classes = fold_args
    folded, folded_classes, piece_quoted, ok, _ = fold_pieces(
        codepoints, spaces, fold_lengths, fold_starts, fold_chars, classes
    )
    if not ok:
        return UNFOLDABLE, none64, none64, none32, none32
    _, _, piece, hashes = word_hashes(folded_classes, folded, seeded)
    every, narrative = windows(hashes, piece_quoted[piece], k)
    sig = minhash(every, a, b)
    keys = band_keys(sig.reshape((1, len(sig))), bands, rows)[0]
    return SKETCHED, every, narrative, sig, keys


@_kernel
def distinct_marked(values: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of sorted ``values``, and a flag for each that is
    among sorted ``marks``. (numpy sorts: its SIMD sort is 3x numba's here.)"""
    distinct = np.empty(len(values), values.dtype)
    kept = 0
    for v in values:
        if kept == 0 or v != distinct[kept - 1]:
            distinct[kept] = v
            kept += 1
    flags = np.zeros(kept, np.bool_)
    j = 0
    for v in marks:  # both sorted: one merge
        while j < kept and distinct[j] < v:
            j += 1
        if j < kept and distinct[j] == v:
            flags[j] = True
    return distinct[:kept], flags


@_kernel
def _slot(value: np.uint32, shift: int) -> np.int64:
    """A 32-bit value's slot in a table of ``2**(32 - shift)`` (Fibonacci hashing)."""
    return np.int64(((np.uint64(value) * np.uint64(0x9E3779B1)) & LOW32) >> np.uint64(shift))


@_kernel
def _query_table(query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``overlaps``' lookup structures of the uint32 set ``query``: an
    open-addressing hash table at most a quarter full (``keys``, and ``where``:
    each slot's index into ``query``, -1 when empty), the 64 Kib sieve of the
    values' low 16 bits, and the table's ``_slot`` shift."""
    bits = 6
    while (1 << bits) < 4 * len(query):  # a table at most a quarter full
        bits += 1
    shift = 32 - bits
    keys = np.zeros(1 << bits, np.uint32)
    where = np.full(1 << bits, -1, np.int64)
    sieve = np.zeros(1 << 10, np.uint64)
    for i in range(len(query)):
        q = query[i]
        sieve[(q >> 6) & 1023] |= np.uint64(1) << np.uint64(q & 63)
        slot = _slot(q, shift)
        while where[slot] != -1:
            slot = (slot + 1) & ((1 << bits) - 1)
        keys[slot] = q
        where[slot] = i
    return keys, where, sieve, shift


@_kernel
def _probe(keys: np.ndarray, where: np.ndarray, v: np.uint32, shift: int) -> np.int64:
    """Index of ``v`` in the query of ``_query_table`` (-1: not in it)."""
    slot = _slot(v, shift)
    while where[slot] != -1 and keys[slot] != v:
        slot = (slot + 1) & (len(where) - 1)
    found: np.int64 = where[slot]
    return found


@_kernel
def _in_sieve(sieve: np.ndarray, v: np.uint32) -> bool:
    """False when ``v`` is certainly not in the query (its low-16-bit bit is unset)."""
    return bool((sieve[(v >> 6) & 1023] >> np.uint64(v & 63)) & np.uint64(1))


@_kernel
def _bit_set(bitmaps: np.ndarray, start: int, end: int, bit: int) -> bool:
    """Bit ``bit`` (most significant first) of ``bitmaps[start:end]``; unset past its end."""
    byte = start + (bit >> 3)
    return byte < end and (bitmaps[byte] >> (7 - (bit & 7))) & 1 == 1


@_kernel
def overlaps(
    query: np.ndarray,
    narrative: np.ndarray,
    values: np.ndarray,
    ends: np.ndarray,
    bitmaps: np.ndarray,
    bitmap_ends: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Shared values of the uint32 set ``query`` with each stored set
    (``values[ends[s-1]:ends[s]]``), and how many of those are narrative in
    both: among the query's ``narrative`` values and set in the set's bitmap
    (``bitmaps[bitmap_ends[s-1]:bitmap_ends[s]]``, most significant bit
    first; a bit past its bitmap's end reads as unset).

    Each stored value is looked up in the query, not merged with it: a 64 Kib
    sieve of the query's low 16 bits turns most non-members away with one
    cached load, and the rest probe a hash table of the query (a sorted merge
    mispredicts a branch on about every other value: 2.6x slower here).
    """
    keys, where, sieve, shift = _query_table(query)
    query_narrative = np.zeros(len(query), np.bool_)
    for v in narrative:
        i = _probe(keys, where, v, shift)
        if i != -1:
            query_narrative[i] = True
    sets = len(ends)
    shared = np.zeros(sets, np.int64)
    shared_narrative = np.zeros(sets, np.int64)
    start = bitmap_start = 0
    for s in range(sets):
        for j in range(start, ends[s]):
            v = values[j]
            if not _in_sieve(sieve, v):
                continue
            i = _probe(keys, where, v, shift)
            if i == -1:
                continue
            shared[s] += 1
            if query_narrative[i] and _bit_set(bitmaps, bitmap_start, bitmap_ends[s], j - start):
                shared_narrative[s] += 1
        start, bitmap_start = ends[s], bitmap_ends[s]
    return shared, shared_narrative


@_kernel
def winnow(values: np.ndarray, w: int) -> np.ndarray:
    """Robust winnowing (Schleimer, Wilkerson and Aiken 2003) of ``values`` in
    text order: the minimum of every window of ``w`` consecutive values (the
    rightmost on a tie), each chosen position once, in text order.

    A text with fewer than ``w`` values gives its minimum alone. Any run of
    at least ``w`` values that two texts share contains a position both
    choose, so they share a chosen value.
    """
    n = len(values)
    if n == 0:
        return np.empty(0, values.dtype)
    if n <= w:
        best = 0
        for i in range(1, n):
            if values[i] <= values[best]:
                best = i
        out = np.empty(1, values.dtype)
        out[0] = values[best]
        return out
    chosen = np.empty(n - w + 1, values.dtype)
    kept = 0
    last = -1
    for start in range(n - w + 1):
        if last < start:  # the last choice left the window: scan it whole
            best = start
            for i in range(start + 1, start + w):
                if values[i] <= values[best]:
                    best = i
        else:  # only the value entering the window can displace it
            best = last
            if values[start + w - 1] <= values[best]:
                best = start + w - 1
        if best != last:
            chosen[kept] = values[best]
            kept += 1
            last = best
    return chosen[:kept]


def shared_runs(a: np.ndarray, b: np.ndarray, gap: int) -> np.ndarray:
    """Runs of equal values ``a[i..i2] == b[j..j2]`` position by position,
    joined across gaps of at most ``gap`` positions in both arrays: rows
    ``(i, i2, j, j2)`` (inclusive), in ``a``'s order. Each value of ``a`` is
    placed at its first occurrence in ``b`` (``shingling.passages`` locates
    shared passages with it). ``shared_runs_sorted`` with ``a`` sorted here;
    a caller that compares one ``a`` with many ``b`` sorts it once."""
    order = np.argsort(a, kind="mergesort")
    return shared_runs_sorted(a[order], order, b, gap)


@_kernel
def shared_runs_sorted(
    sorted_a: np.ndarray, order_a: np.ndarray, b: np.ndarray, gap: int
) -> np.ndarray:
    """``shared_runs(a, b, gap)`` given ``a`` sorted (``sorted_a = a[order_a]``,
    ``order_a`` a stable argsort): one pass over ``b`` finds each value's first
    position in it (binary search in ``sorted_a``), one pass over ``a``'s
    positions joins them into runs. No sort of ``b``: a query located once is
    compared with each of its matches at the cost of the match alone."""
    na, nb = len(sorted_a), len(b)
    out = np.empty((na, 4), np.int64)
    if na == 0 or nb == 0:
        return out[:0]
    first = np.full(na, -1, np.int64)  # by position in a: first j with b[j] == a[i]
    for j in range(nb):
        at = np.searchsorted(sorted_a, b[j])
        if at >= na or sorted_a[at] != b[j] or first[order_a[at]] >= 0:
            continue  # not in a, or an earlier j took this value (all its copies in a)
        while at < na and sorted_a[at] == b[j]:
            first[order_a[at]] = j
            at += 1
    rows = 0
    prev_i = prev_j = -1
    for i in range(na):
        j = first[i]
        if j < 0:
            continue
        di, dj = i - prev_i, j - prev_j
        if rows > 0 and 0 < di <= gap + 1 and 0 < dj <= gap + 1:
            out[rows - 1, 1] = i
            out[rows - 1, 3] = j
        else:
            out[rows, 0] = i
            out[rows, 1] = i
            out[rows, 2] = j
            out[rows, 3] = j
            rows += 1
        prev_i, prev_j = i, j
    return out[:rows]


@_kernel
def located_tokens(
    text: np.ndarray,
    fold_args: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    seeded: np.uint64,
    k: int,
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
    """The compiled part of ``shingling.passages.locate`` for a text of code
    points (chrome masked already): False with nothing else when the fold
    table cannot fold it alone, else True, its token spans (offsets into
    ``text``) and windows (none under ``k`` tokens)."""
    none, no_windows = np.empty(0, np.int64), np.empty(0, np.uint64)
    spaces, fold_lengths, fold_starts, fold_chars, classes = fold_args
    folded, folded_classes, _, ok, origin = fold_pieces(
        text, spaces, fold_lengths, fold_starts, fold_chars, classes
    )
    if not ok:
        return False, none, none, no_windows
    starts, ends, _, hashes = word_hashes(folded_classes, folded, seeded)
    token_starts, token_ends = origin[starts], origin[ends - 1] + 1
    if len(hashes) < k:
        return True, token_starts, token_ends, no_windows
    every, _ = windows(hashes, np.zeros(len(hashes), np.bool_), k)
    return True, token_starts, token_ends, every


@_kernel
def match_runs(
    codepoints: np.ndarray,
    bounds: np.ndarray,
    short_line: tuple[np.ndarray, int, int],
    fold_args: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    seeded: np.uint64,
    k: int,
    query: tuple[np.ndarray, np.ndarray],
    gap: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``shingling.passages.locate`` of many texts and ``shared_runs_sorted``
    of one query (``query``: its windows sorted, and their stable argsort)
    against each, in one call: what a reply's matches need, without a
    dispatch and the Python glue per stage and per match (docs/benchmarks.md).

    Text ``t`` is ``codepoints[bounds[t]:bounds[t+1]]``. Returns, per text,
    its status (``SKETCHED``, or ``SHORT_LINE`` / ``UNFOLDABLE`` as ``sketch``
    says them: such a text is the caller's to locate in Python) and token
    count; the token spans of the located texts, concatenated; the runs
    ``(i, i2, j, j2)`` of every text,
    concatenated, ``i`` in the query's windows and ``j`` in the text's; and
    the number of runs of each text.
    """
    n = len(bounds) - 1
    status, tokens, runs_of = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    starts_out = np.empty(len(codepoints) // 2 + n + 1, np.int64)
    ends_out = np.empty(len(starts_out), np.int64)
    runs_out = np.empty((0, 4), np.int64)
    t_total = r_total = 0
    for t in range(n):
        text = codepoints[bounds[t] : bounds[t + 1]]
        if has_short_line(text, short_line[0], short_line[1], short_line[2]):
            status[t] = SHORT_LINE
            continue
        ok, starts, ends, every = located_tokens(text, fold_args, seeded, k)
        if not ok:
            status[t] = UNFOLDABLE
            continue
        m = len(starts)
        starts_out[t_total : t_total + m] = starts
        ends_out[t_total : t_total + m] = ends
        t_total += m
        tokens[t] = m
        runs = shared_runs_sorted(query[0], query[1], every, gap)
        if r_total + len(runs) > len(runs_out):
            grown = np.empty((max(2 * len(runs_out), r_total + len(runs)), 4), np.int64)
            grown[:r_total] = runs_out[:r_total]
            runs_out = grown
        runs_out[r_total : r_total + len(runs)] = runs
        r_total += len(runs)
        runs_of[t] = len(runs)
    return status, tokens, starts_out[:t_total], ends_out[:t_total], runs_out[:r_total], runs_of
