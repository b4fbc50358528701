"""One side of an alignment: a text, its sentences and its tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shingling.sentences import SentenceSpan
from shingling.tokenise import Tokens, tokenise


@dataclass(frozen=True)
class Side:
    """A text, its sentence spans, its tokens and the token index range of each sentence."""

    text: str
    spans: tuple[SentenceSpan, ...]
    tokens: Tokens
    bounds: tuple[tuple[int, int], ...]  # token index range of each sentence

    @classmethod
    def of(cls, text: str, spans: tuple[SentenceSpan, ...]) -> Side:
        toks = tokenise(text)
        bounds = tuple(
            (
                int(np.searchsorted(toks.starts, s.start, side="left")),
                int(np.searchsorted(toks.ends, s.end, side="right")),
            )
            for s in spans
        )
        return cls(text, spans, toks, bounds)

    def values(self, i: int) -> tuple[str, ...]:
        lo, hi = self.bounds[i]
        return self.tokens.values[lo:hi]

    def group_tokens(self, idx: Sequence[int]) -> list[tuple[int, int]]:
        """(sentence, token index) of every token of the sentences ``idx``, in order."""
        return [(i, t) for i in sorted(idx) for t in range(*self.bounds[i])]

    def lengths(self) -> np.ndarray:
        """Tokens per sentence."""
        return np.array([hi - lo for lo, hi in self.bounds])

    def types(self) -> np.ndarray:
        """Distinct tokens per sentence."""
        return np.array([len(set(self.values(i))) for i in range(len(self.spans))])
