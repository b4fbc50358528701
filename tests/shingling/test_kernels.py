"""The compiled kernels against the numpy definitions they replaced.

Stored indexes depend on every hash staying the same, so each kernel is
checked against the array form it replaced (kept here as the reference),
over the seed articles and arbitrary Unicode.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
from datasketch.minhash import _fmix
from hypothesis import given, settings
from hypothesis import strategies as st

from shingling import PipelineConfig, analyse, compare, compare_packed, kernels, shingle
from shingling.chrome import (
    _LONG_LINE_CHARS,
    LINE_BREAKS,
    SHORT_LINE_WORDS,
    _may_have_short_lines,
    mask_chrome,
)
from shingling.normalise import fold_table, whitespace_table
from shingling.shingles import (
    Shingles,
    narrow,
    pack,
    seeded,
    shingles_from_hashes,
    span_hashes,
    unpack,
)
from shingling.signature import band_keys, permutations, signature
from shingling.tokenise import (
    _bmp_classes,
    _classes,
    _index_tokens_python,
    fold_args,
    index_tokens,
    quote_spans,
)
from tests.shingling.test_properties import FAST, unicode_text

CONFIG = PipelineConfig()


def reference_word_spans(codepoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    classes = _classes(codepoints)
    inside = np.zeros(len(codepoints) + 2, dtype=bool)
    word = inside[1:-1]
    np.equal(classes, kernels.WORD, out=word)
    word[1:-1] |= (classes[1:-1] == kernels.JOINER) & word[:-2] & word[2:]
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    return edges[0::2], edges[1::2]


def reference_fmix64(h: np.ndarray) -> np.ndarray:
    for multiplier in (kernels.M1, kernels.M2):
        h = (h ^ (h >> kernels.S33)) * multiplier
    return h ^ (h >> kernels.S33)


def reference_span_hashes(
    codepoints: np.ndarray, starts: np.ndarray, ends: np.ndarray, seed: int
) -> np.ndarray:
    """Prefix sums of code point times power, shifted back by the inverse power."""
    n = len(codepoints)
    inverse = pow(int(kernels.P_TOKEN), -1, 1 << 64)
    up = np.cumprod(np.r_[1, np.full(max(n - 1, 0), kernels.P_TOKEN)].astype(np.uint64))
    down = np.cumprod(np.r_[1, np.full(max(n - 1, 0), inverse)].astype(np.uint64))
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codepoints * up[:n], out=prefix[1:])
    poly = (prefix[ends] - prefix[starts]) * down[starts]
    length = (ends - starts).astype(np.uint64)
    seeded = np.uint64(seed * int(kernels.C_SEED) % (1 << 64))
    return reference_fmix64(poly + length * kernels.C_LEN + seeded)


def reference_windows(hashes: np.ndarray, quoted: np.ndarray, k: int) -> tuple[list[int], ...]:
    n = len(hashes)
    if n == 0:
        return [], []
    width = min(k, n)
    out = np.zeros(n - width + 1, dtype=np.uint64)
    for i in range(width):
        out = out * kernels.P + hashes[i : n - width + 1 + i]
    out = reference_fmix64(out + np.uint64(width))
    q = np.convolve(quoted.astype(np.int64), np.ones(width, dtype=np.int64), "valid")
    return np.unique(out).tolist(), out[q == 0].tolist()


def reference_band_keys(sig: np.ndarray, config: PipelineConfig) -> np.ndarray:
    rows = sig[: config.b * config.r].astype(np.uint64).reshape(config.b, config.r)
    h = np.zeros(config.b, dtype=np.uint64)
    for j in range(config.r):
        h = h * kernels.FNV + rows[:, j]
    return (_fmix(h + np.arange(config.b, dtype=np.uint64), 64) >> np.uint64(32)).astype(np.uint32)


def reference_signature(hashes: np.ndarray, config: PipelineConfig) -> np.ndarray:
    a, b = permutations(config.num_perm, config.seed)
    if not len(hashes):
        return np.full(config.num_perm, 0xFFFFFFFF, dtype=np.uint32)
    hv = _fmix((hashes & kernels.LOW32).astype(np.uint32), 32)
    return (np.multiply.outer(a, hv) + b.reshape(-1, 1)).min(axis=1).astype(np.uint32)


QUOTE_MARKS = '"\u201c\u201d\u201e\u00ab\u00bb'


def reference_role(text: str, i: int) -> int:
    """A mark's role by its sides, then its glyph (1 opens, -1 closes, 0 either)."""
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    left = before.isspace() or before in "([{\u2014\u2013/"
    right = after.isspace() or after in ".,;:!?)]}\u2014\u2013/\u2026"
    if left != right:
        return 1 if left else -1
    return {"\u201c": 1, "\u201e": 1, "\u201d": -1}.get(text[i], 0)


def reference_quote_spans(text: str) -> list[tuple[int, int]]:
    """The quotation rules of ``shingling.tokenise.quote_spans`` as a plain loop."""
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for m in re.finditer(f"[{QUOTE_MARKS}\n]", text):
        i, ch = m.start(), m.group()
        if ch == "\n":
            if opened is not None:
                nxt = text.find("\n", i + 1)
                if nxt != -1 and not text[i + 1 : nxt].strip():
                    rest = text[nxt:].lstrip()
                    if rest[:1] and rest[0] in QUOTE_MARKS:
                        spans.append((opened, i))
                    opened = None
            continue
        role = reference_role(text, i)
        if opened is None:
            if role >= 0:
                opened = i
        elif role == 1:
            line = text.rfind("\n", 0, i)
            if line != -1 and not text[line + 1 : i].strip():
                spans.append((opened, line))
            opened = i
        else:
            spans.append((opened, i + 1))
            opened = None
    return spans


def reference_narrow(shingles: Shingles) -> tuple[list[int], list[int]]:
    low = np.unique((shingles.hashes & kernels.LOW32).astype(np.uint32))
    narrative = np.unique((shingles.narrative & kernels.LOW32).astype(np.uint32))
    return low.tolist(), narrative.tolist()


def check_text(text: str) -> None:
    assert quote_spans(text) == reference_quote_spans(text)
    tokens = index_tokens(text)
    starts, ends = reference_word_spans(tokens.codepoints)
    assert starts.tolist() == tokens.starts.tolist()
    assert ends.tolist() == tokens.ends.tolist()
    hashes = span_hashes(tokens.codepoints, tokens.starts, tokens.ends, CONFIG.seed)
    expected = reference_span_hashes(tokens.codepoints, tokens.starts, tokens.ends, CONFIG.seed)
    assert hashes.tolist() == expected.tolist()
    every, narrative = reference_windows(hashes, tokens.quoted, CONFIG.k)
    got = shingles_from_hashes(hashes, tokens.quoted, CONFIG)
    assert got.hashes.tolist() == every
    assert got.narrative.tolist() == sorted(set(narrative))
    sig = signature(got.hashes, CONFIG)
    assert sig.tolist() == reference_signature(got.hashes, CONFIG).tolist()
    assert band_keys(sig, CONFIG).tolist() == reference_band_keys(sig, CONFIG).tolist()
    narrowed = narrow(got)
    low, narrative_low = reference_narrow(got)
    assert (narrowed.hashes.tolist(), narrowed.narrative.tolist()) == (low, narrative_low)
    assert pack(got) == pack(narrowed)
    back = unpack(*pack(got))
    assert (back.hashes.tolist(), back.narrative.tolist()) == (low, narrative_low)


def test_kernels_equal_the_array_definitions_on_the_seeds(seed_texts: dict[str, str]) -> None:
    for text in seed_texts.values():
        check_text(text)


@FAST
@given(unicode_text)
def test_kernels_equal_the_array_definitions_on_any_text(text: str) -> None:
    check_text(text)


QUOTE_HEAVY = st.text(
    alphabet=st.sampled_from(list('ab "\u201c\u201d\u201e\u00ab\u00bb\n\t\u3000.,(\u2014'))
)


@FAST
@given(QUOTE_HEAVY)
def test_quote_spans_equal_the_loop_on_quote_heavy_text(text: str) -> None:
    assert quote_spans(text) == reference_quote_spans(text)


def test_quoted_pieces_mark_their_tokens() -> None:
    tokens = index_tokens('He said "stay at home" and left.\n\nThen "more" and "less')
    flagged = [v for v, q in zip(tokens.values, tokens.quoted.tolist(), strict=True) if q]
    assert flagged == ["stay", "at", "home", "more"]


def test_compare_packed_equals_compare_on_unpacked_sets(seed_texts: dict[str, str]) -> None:
    texts = list(seed_texts.values())
    query = narrow(shingle(texts[0], CONFIG))
    others = [narrow(shingle(t, CONFIG)) for t in texts]
    stored = [pack(o) for o in others]
    stored.append((stored[1][0], b""))  # a set stored without its narrative bitmap
    others.append(type(others[1])(others[1].hashes, np.empty(0, dtype=np.uint32)))
    for got, other in zip(compare_packed(query, stored), others, strict=True):
        assert got == compare(query, other)
    assert any(s.shared_narrative for s in compare_packed(query, stored)[1:])


def test_words_split_where_the_token_regex_splits() -> None:
    text = "U.S. officials--and 10,000 people's 'quotes' end. 3.5 a-b-"
    codepoints = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    starts, ends = kernels.scan_words(_classes(codepoints), codepoints)[:2]
    found = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    assert found == re.findall(r"\w+(?:[-'\u2019.,]\w+)*", text)
    assert analyse(text, CONFIG).shingles.hashes.size == len(found) - CONFIG.k + 1


def python_index_tokens(text: str) -> tuple[list[str], list[bool]]:
    """``index_tokens`` folded in Python (the path for texts the table cannot fold)."""
    tokens = _index_tokens_python(mask_chrome(text).replace("\0", " "))
    return tokens.values, tokens.quoted.tolist()


# Characters where folding is not one-to-one, or needs NFKC first, or lies
# above the BMP, or changes a word boundary; and quotes and paragraph breaks.
FOLD_HARD = st.text(
    alphabet=st.sampled_from(
        list("ab AB\"\u201c\u201d\u201e\u00ab\u00bb\n\n\t'\u2019-.,\u00df\u0130\ufb01\u00c5")
        + list("\u0301\u00ad\u200b\ufeff\u2009\u00e9\u03a3\u03c2\x00\u01c5\u212b\uff9e\u0345\u0390")
        + ["\U00010428", "\U0001f600"]
    )
)


@FAST
@given(st.one_of(FOLD_HARD, unicode_text))
def test_compiled_fold_equals_python_fold(text: str) -> None:
    tokens = index_tokens(text)
    assert (tokens.values, tokens.quoted.tolist()) == python_index_tokens(text)


def test_compiled_fold_equals_python_fold_on_the_seeds(seed_texts: dict[str, str]) -> None:
    for text in seed_texts.values():
        tokens = index_tokens(text)
        assert (tokens.values, tokens.quoted.tolist()) == python_index_tokens(text)
    typographic = "\u201cIt\u2019s over,\u201d said the Minister \u2014 STRASSE \u00c9t\u00e9."
    assert index_tokens(typographic).values == [
        "it's",
        "over",
        "said",
        "the",
        "minister",
        "strasse",
        "\u00e9t\u00e9",
    ]
    # News text takes the compiled pass, expansions and NFKC included; a
    # combining mark (which may compose with its neighbour) takes Python's.
    assert compiled_fold(typographic)
    assert compiled_fold("Stra\u00dfe \u00bd \ufb01le\u2026\u00a0\u00b5")
    assert not compiled_fold("Cafe\u0301")


def compiled_fold(text: str) -> bool:
    codepoints = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    tables = (whitespace_table(), *fold_table(), _bmp_classes())
    return bool(kernels.fold_pieces(codepoints, *tables)[3])


LINES = st.text(alphabet=st.sampled_from([*"ab  \t\u00a0\u3000\r\n", *LINE_BREAKS, "\U00010428"]))


def reference_may_have_short_lines(text: str) -> bool:
    return any(
        len(line) <= _LONG_LINE_CHARS and 0 < len(line.split()) <= SHORT_LINE_WORDS
        for line in text.splitlines()
    )


@FAST
@given(
    st.one_of(LINES, st.lists(st.text("ab ", min_size=1, max_size=60), max_size=12).map(" ".join))
)
def test_short_line_check_equals_splitlines(text: str) -> None:
    assert _may_have_short_lines(text) == reference_may_have_short_lines(text)
    assert _may_have_short_lines(text + "\n" + "word " * 60) == reference_may_have_short_lines(text)


WORDY = st.text(alphabet=st.sampled_from([*"ab1 .,'-\u2019\u00e9", "\x00", "\U00010428"]))


def _word_hashes_as_composed(codepoints: np.ndarray, seed: int) -> None:
    classes = _classes(codepoints)
    starts, ends, piece = kernels.scan_words(classes, codepoints)
    expected = kernels.span_hashes(codepoints, starts, ends, seeded(seed))
    _, _, got_piece, hashes = kernels.word_hashes(classes, codepoints, seeded(seed))
    assert hashes.tolist() == expected.tolist()
    assert got_piece.tolist() == piece.tolist()


@FAST
@given(st.one_of(WORDY, unicode_text), st.integers(0, 2**32 - 1))
def test_word_hashes_equal_scan_words_then_span_hashes(text: str, seed: int) -> None:
    # Joiners between words, at the ends and doubled; NUL piece breaks; astral words.
    _word_hashes_as_composed(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), "<u4"), seed)


def test_word_hashes_on_the_seeds(seed_texts: dict[str, str]) -> None:
    for text in seed_texts.values():
        folded = kernels.fold_pieces(np.frombuffer(text.encode("utf-32-le"), "<u4"), *fold_args())[
            0
        ]
        _word_hashes_as_composed(folded, CONFIG.seed)


# -- where numba caches the compiled kernels ------------------------------------

PACKAGE = Path(kernels.__file__).resolve().parent


def test_the_kernel_cache_is_outside_the_package() -> None:
    assert kernels.CACHE_DIR is not None
    cache = Path(kernels.CACHE_DIR).resolve()
    assert cache != PACKAGE and PACKAGE not in cache.parents
    assert numba.config.CACHE_DIR == kernels.CACHE_DIR


def test_running_a_kernel_writes_nothing_into_an_installed_package(tmp_path: Path) -> None:
    """pip does not know numba's cache files: any left in an installed package
    outlive its uninstall and turn it into an empty namespace package."""
    site = tmp_path / "site-packages"  # the package as `pip install .` lays it out
    shutil.copytree(PACKAGE, site / "shingling", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(
        PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONDONTWRITEBYTECODE="1"
    )
    code = (
        "import numpy as np\n"
        "from shingling import kernels\n"
        f"assert kernels.__file__.startswith({str(site)!r}), kernels.__file__\n"
        "assert kernels.fmix64(np.uint64(1)) != 1\n"
    )
    shipped = {p for p in site.rglob("*") if p.is_file()}
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True, timeout=300)
    assert {p for p in site.rglob("*") if p.is_file()} == shipped  # nothing new in the package
    assert list((tmp_path / "cache").rglob("*.nbi")), "the kernel was not cached"


def _runs_reference(a: np.ndarray, b: np.ndarray, gap: int) -> list[tuple[int, int, int, int]]:
    """The numpy form ``kernels.shared_runs`` replaced (shingling.passages)."""
    if not len(a) or not len(b):
        return []
    order = np.argsort(b, kind="stable")
    sorted_b = b[order]
    at = np.minimum(np.searchsorted(sorted_b, a), len(b) - 1)
    i = np.flatnonzero(sorted_b[at] == a)
    if not len(i):
        return []
    j = order[at[i]]
    di, dj = np.diff(i), np.diff(j)
    joined = (di > 0) & (di <= gap + 1) & (dj > 0) & (dj <= gap + 1)
    cuts = np.flatnonzero(~joined) + 1
    first, last = np.r_[0, cuts], np.r_[cuts - 1, len(i) - 1]
    cols = (i[first].tolist(), i[last].tolist(), j[first].tolist(), j[last].tolist())
    return list(zip(*cols, strict=True))


@settings(deadline=None)  # the first call loads the compiled kernel
@given(
    st.lists(st.integers(0, 12), max_size=80),
    st.lists(st.integers(0, 12), max_size=80),
    st.integers(0, 6),
)
def test_shared_runs_equal_the_array_definition(a: list[int], b: list[int], gap: int) -> None:
    xa, xb = np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)
    got = [tuple(r) for r in kernels.shared_runs(xa, xb, gap).tolist()]
    assert got == _runs_reference(xa, xb, gap)
