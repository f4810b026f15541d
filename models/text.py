"""Text resources shared by the understanding layers: pinyin and t2s.

Whisper misspells banking words as homophones (挂失→挂施, 存折→存者), so
both the dialect layer and the intent/risk layers compare text on toneless
pinyin as well as on characters. The helpers live here, in the lowest
layer, so ``dialects`` and ``intents`` share one implementation.
"""

from __future__ import annotations

import functools
import re

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin


@functools.lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional characters to Simplified (Whisper drifts to Traditional)."""
    return str(_t2s().convert(text))


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


@functools.lru_cache(maxsize=65536)
def pinyin_syllables(text: str) -> tuple[str, ...]:
    """Return one toneless pinyin syllable per character of ``text``.

    Runs of Chinese characters are converted phrase-aware (so polyphones
    such as 重置 read chong zhi); other characters are kept as themselves,
    lower-cased, so the result has exactly ``len(text)`` items and an index
    maps back to the text.
    """
    out: list[str] = []
    pos = 0
    for m in _HAN_RUN.finditer(text):
        out.extend(ch.lower() for ch in text[pos : m.start()])
        run = m.group()
        syl = lazy_pinyin(run, style=Style.NORMAL, errors="default")
        if len(syl) != len(run):  # rare: fall back to one lookup per character
            syl = [lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0] for ch in run]
        out.extend(s.lower() for s in syl)
        pos = m.end()
    out.extend(ch.lower() for ch in text[pos:])
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def phrase_pinyin(text: str) -> tuple[str, ...]:
    """Toneless pinyin of a phrase using pypinyin's phrase dictionary.

    Better than per-character lookup for polyphones (重置 → chong zhi), at the
    cost of not mapping 1:1 back to characters for non-Chinese runs.
    """
    return tuple(s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="default"))


def pinyin_string(text: str) -> str:
    """Space-joined toneless pinyin of ``text`` (for n-gram features)."""
    return " ".join(phrase_pinyin(text))


def find_pinyin(haystack: str, needle: str) -> tuple[int, int] | None:
    """Find ``needle`` in ``haystack`` by toneless pinyin, per character.

    Returns the character span ``(start, end)`` in ``haystack`` of the first
    match, or None. Used to catch ASR homophones such as 挂施 for 挂失.
    """
    if not needle:
        return None
    hay = pinyin_syllables(haystack)
    ned = phrase_pinyin(needle)
    n = len(ned)
    if n == 0 or n > len(hay):
        return None
    for i in range(len(hay) - n + 1):
        if hay[i : i + n] == ned:
            return i, i + n
    return None
