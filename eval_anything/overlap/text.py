"""Text normalization and hashed word runs, the two text rules of the overlap check.

Normalization is what makes two texts "the same" for this check: Unicode NFKC, case folded,
every run of characters that is not a letter, digit or underscore read as a word break (so
punctuation and whitespace differences vanish). Both sides go through :func:`words`.

Word runs are hashed, never stored: each word of the *evaluation* side gets a 64-bit value
(blake2b of the word), and a run of ``k`` words hashes to the polynomial
``sum(v[w_j] * P**(k-1-j))`` mod 2**64, computed for every window of a batch of training texts
at once with numpy. A training word that no evaluation item contains cannot be part of a shared
run, so it is never hashed: the index holds only the evaluation vocabulary and memory does not
grow with the training data. Two different runs share a 64-bit value with probability about
2**-64 per pair compared; the expected number of false matches is (training windows x
evaluation windows) / 2**64, about 1e-6 for 40 million training windows against 400 thousand
evaluation windows.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")
#: the polynomial base of run hashes (odd, so multiplication by it is invertible mod 2**64)
_BASE = np.uint64(0x9E3779B97F4A7C15)


def words(text: str) -> list[str]:
    """The normalized words of ``text``: NFKC, case folded, punctuation and spacing dropped."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def hash64(text: str) -> int:
    """A stable 64-bit hash (blake2b), the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def text_key(normalized: Sequence[str]) -> int:
    """The key of a whole normalized text, for the exact-match rule."""
    return hash64(" ".join(normalized))


def run_hashes(values: np.ndarray, known: np.ndarray, doc: np.ndarray, k: int) -> np.ndarray:
    """Hash of every ``k``-word window of concatenated texts, and where a window is usable.

    ``values`` are the words' 64-bit values, ``known`` whether each word is in the index's
    vocabulary, ``doc`` which text each word belongs to. Returns ``(starts, hashes)`` stacked as
    a 2-row array: windows that cross two texts or hold an unknown word are left out.
    """
    n = len(values) - k + 1
    if n <= 0:
        return np.empty((2, 0), dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + values[j:j + n]
    unknown = np.concatenate(([0], np.cumsum(~known, dtype=np.int64)))
    ok = (unknown[k:k + n] - unknown[:n] == 0) & (doc[:n] == doc[k - 1:k - 1 + n])
    starts = np.nonzero(ok)[0]
    return np.vstack((starts.astype(np.uint64), h[starts]))


def item_run_hashes(word_values: Sequence[int], k: int) -> set[int]:
    """Hashes of every ``k``-word window of one text whose words are all known (the index
    side: small, so plain Python over numpy's arithmetic, identical to :func:`run_hashes`)."""
    arr = np.asarray(word_values, dtype=np.uint64)
    ones = np.ones(len(arr), dtype=bool)
    zeros = np.zeros(len(arr), dtype=np.int64)
    return {int(x) for x in run_hashes(arr, ones, zeros, k)[1]}
