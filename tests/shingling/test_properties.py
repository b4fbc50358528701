"""Property tests of the pure pipeline over arbitrary Unicode (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shingling import (
    PipelineConfig,
    Verdict,
    analyse,
    band_keys,
    compare,
    estimate_jaccard,
    fold,
    mask_chrome,
    normalise,
    shingle,
    tokenise,
)

CONFIG = PipelineConfig()
SMALL = PipelineConfig(k=3, num_perm=32, b=16, r=2)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point except lone surrogates (the API refuses those before the pipeline),
# with extra weight on the characters that matter here: spaces, quotes, digits.
unicode_text = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(list(" \n\n\t\u00a0\u201c\u201d\"'\u2019-.,0123456789")),
    ),
    max_size=400,
)
words = st.lists(
    st.text(
        alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Lo", "Nd")),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=80,
)
wordy_text = words.map(" ".join)


@FAST
@given(unicode_text)
def test_tokens_offsets_point_at_the_token_text(text: str) -> None:
    tokens = tokenise(text)
    assert len(tokens.values) == len(tokens.starts) == len(tokens.ends) == len(tokens.quoted)
    prev_end = 0
    for value, s, e in zip(tokens.values, tokens.starts, tokens.ends, strict=True):
        assert 0 <= prev_end <= s < e <= len(text)
        assert value == fold(text[s:e])  # the offsets point at the token's own text
        assert value
        prev_end = e


@FAST
@given(unicode_text)
def test_mask_chrome_keeps_every_offset(text: str) -> None:
    masked = mask_chrome(text)
    assert len(masked) == len(text)
    assert all(m == c or m.isspace() for m, c in zip(masked, text, strict=True))


@FAST
@given(unicode_text)
def test_analyse_never_crashes_and_is_deterministic(text: str) -> None:
    a, b = analyse(text, CONFIG), analyse(text, CONFIG)
    assert np.array_equal(a.shingles.hashes, b.shingles.hashes)
    assert np.array_equal(a.signature, b.signature)
    assert np.array_equal(a.bands, b.bands)
    assert a.signature.shape == (CONFIG.num_perm,) and a.bands.shape == (CONFIG.b,)
    assert np.all(np.diff(a.shingles.hashes.astype(np.float64)) > 0) or len(a.shingles) <= 1
    assert set(a.shingles.narrative.tolist()) <= set(a.shingles.hashes.tolist())
    assert a.empty == (len(tokenise(text)) == 0)


@FAST
@given(unicode_text)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()


@FAST
@given(unicode_text, unicode_text)
def test_scores_in_range_and_jaccard_symmetric(a: str, b: str) -> None:
    sa, sb = shingle(a, SMALL), shingle(b, SMALL)
    ab, ba = compare(sa, sb), compare(sb, sa)
    for s in (ab, ba):
        for value in (s.jaccard, s.containment, s.reverse_containment):
            assert 0.0 <= value <= 1.0
        assert s.shared_narrative <= s.shared
        assert s.jaccard <= min(s.containment, s.reverse_containment) + 1e-12
    assert ab.jaccard == ba.jaccard
    assert ab.shared == ba.shared
    assert ab.containment == ba.reverse_containment
    assert ab.reverse_containment == ba.containment


@FAST
@given(wordy_text)
def test_text_against_itself(text: str) -> None:
    s = shingle(text, SMALL)
    assume(len(s) > 0)
    scores = compare(s, s)
    assert scores.jaccard == scores.containment == scores.reverse_containment == 1.0
    assert scores.verdict(__import__("shingling").Thresholds()) == Verdict.DUPLICATE
    sig = analyse(text, SMALL).signature
    assert estimate_jaccard(sig, sig) == 1.0


@FAST
@given(words)
def test_trivial_edits_do_not_change_shingles(tokens: list[str]) -> None:
    """Runs of spaces and tabs, no-break spaces and typographic apostrophes fold away."""
    text = " ".join(tokens)
    variant = "\u00a0 " + "  \t ".join(t.replace("'", "\u2019") for t in tokens) + " \t"
    assert np.array_equal(shingle(text, SMALL).hashes, shingle(variant, SMALL).hashes)


@FAST
@given(wordy_text, wordy_text)
def test_signature_estimate_tracks_exact_jaccard(a: str, b: str) -> None:
    aa, ab = analyse(a, CONFIG), analyse(b, CONFIG)
    assume(not aa.empty and not ab.empty)
    exact = compare(aa.shingles, ab.shingles).jaccard
    est = estimate_jaccard(aa.signature, ab.signature)
    assert 0.0 <= est <= 1.0
    if exact == 1.0:
        assert est == 1.0
    if exact == 0.0:
        # disjoint sets agree on a slot only by a 32-bit hash coincidence
        assert est <= 0.1
    # identical signatures give identical band keys
    if np.array_equal(aa.signature, ab.signature):
        assert np.array_equal(band_keys(aa.signature, CONFIG), band_keys(ab.signature, CONFIG))


@FAST
@given(unicode_text)
def test_array_tokeniser_finds_what_the_token_regex_finds(text: str) -> None:
    from shingling.tokenise import _TOKEN, word_spans

    codepoints = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    starts, ends = word_spans(codepoints)
    found = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    assert found == _TOKEN.findall(text)


@FAST
@given(unicode_text)
def test_a_token_hashes_the_same_wherever_it_stands(text: str) -> None:
    from shingling.shingles import span_hashes, token_hashes
    from shingling.tokenise import index_tokens

    tokens = index_tokens(text)
    in_text = span_hashes(tokens.codepoints, tokens.starts, tokens.ends, seed=1)
    alone = token_hashes(tokens.values, seed=1)
    assert in_text.tolist() == alone.tolist()
    by_value: dict[str, int] = {}
    for value, h in zip(tokens.values, in_text.tolist(), strict=True):
        assert by_value.setdefault(value, h) == h
    assert len(set(by_value.values())) == len(by_value)  # distinct tokens, distinct hashes


@FAST
@given(unicode_text)
def test_the_quick_no_to_chrome_never_misses_a_short_line(text: str) -> None:
    from shingling.chrome import _lines, _may_have_short_lines

    if any(line.short for line in _lines(text)):
        assert _may_have_short_lines(text)
