"""copydesk's pure text library: normalise -> tokenise -> shingle -> signature,
exact overlap scores and verdicts. No Redis, no web framework."""

from shingling.chrome import chrome_spans, mask_chrome, strip_chrome
from shingling.config import PipelineConfig
from shingling.normalise import fold, normalise
from shingling.passages import Passage, SharedText, fingerprints, shared_passages
from shingling.pipeline import Analysis, analyse
from shingling.score import Scores, Thresholds, Verdict, compare, compare_packed
from shingling.shingles import Shingles, shingle, shingles_from_tokens
from shingling.signature import band_keys, estimate_jaccard, signature
from shingling.tokenise import Tokens, quote_spans, tokenise, words

__all__ = [
    "Analysis",
    "Passage",
    "PipelineConfig",
    "Scores",
    "SharedText",
    "Shingles",
    "Thresholds",
    "Tokens",
    "Verdict",
    "analyse",
    "band_keys",
    "chrome_spans",
    "compare",
    "compare_packed",
    "estimate_jaccard",
    "fingerprints",
    "fold",
    "mask_chrome",
    "normalise",
    "quote_spans",
    "shared_passages",
    "shingle",
    "shingles_from_tokens",
    "signature",
    "strip_chrome",
    "tokenise",
    "words",
]
