import numpy as np
from datasketch import MinHash

from shingling import PipelineConfig, band_keys, estimate_jaccard, shingle, signature
from shingling.signature import as_minhash, to_hash32

CFG = PipelineConfig()


def test_signature_equals_datasketch_update_batch(seed_texts: dict[str, str]) -> None:
    hashes = shingle(seed_texts["000"], CFG).hashes
    m = MinHash(num_perm=CFG.num_perm, seed=CFG.seed, hashfunc=int, scheme="affine32")
    m.update_batch(to_hash32(hashes).tolist())
    assert np.array_equal(signature(hashes, CFG), m.hashvalues)


def test_estimate_tracks_exact_jaccard(seed_texts: dict[str, str]) -> None:
    a, b = shingle(seed_texts["000"], CFG), shingle(seed_texts["001"], CFG)
    est = estimate_jaccard(signature(a.hashes, CFG), signature(b.hashes, CFG))
    exact = len(np.intersect1d(a.hashes, b.hashes)) / len(np.union1d(a.hashes, b.hashes))
    # 128 permutations: standard error ~0.037 at J=0.22; 4 sigma.
    assert abs(est - exact) < 0.15
    assert (
        as_minhash(signature(a.hashes, CFG), CFG).jaccard(as_minhash(signature(b.hashes, CFG), CFG))
        == est
    )


def test_band_keys_vectorised_equals_single() -> None:
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(7, CFG.num_perm), dtype=np.uint64).astype(np.uint32)
    matrix = band_keys(sigs, CFG)
    assert matrix.shape == (7, CFG.b)
    for i in range(7):
        assert np.array_equal(matrix[i], band_keys(sigs[i], CFG))


def test_equal_bands_give_equal_keys_only_in_same_band() -> None:
    sig = np.arange(CFG.num_perm, dtype=np.uint32)
    other = sig.copy()
    other[2:] += 1  # only band 0 (rows 0-1) agrees
    k1, k2 = band_keys(sig, CFG), band_keys(other, CFG)
    assert k1[0] == k2[0]
    assert (k1[1:] != k2[1:]).all()


def test_empty_set_signature() -> None:
    assert (signature(np.empty(0, dtype=np.uint64), CFG) == 0xFFFFFFFF).all()


def test_signature_of_windows_with_repeats_is_that_of_the_set() -> None:
    """analyse signs every window, repeats kept: a minimum, so the set's signature."""
    from shingling import analyse

    text = "the cat sat on the mat. " * 6 + "Then the dog sat on the cat."
    analysis = analyse(text, PipelineConfig())
    assert len(analysis.shingles.windows) > len(analysis.shingles.hashes)
    assert np.array_equal(analysis.signature, signature(analysis.shingles.hashes, PipelineConfig()))
