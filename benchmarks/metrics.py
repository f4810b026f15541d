"""Accuracy metrics for measuring speech recognition: tests, benchmarks and tools.

Kept out of the product (nothing under ``voice_agent`` imports it): the
desk never scores its own transcripts, only the harnesses that measure it
do. Everyone imports it as ``from metrics import …`` with ``benchmarks/`` on
``sys.path``: a benchmark script has it there already (as for ``machine``),
pytest adds it (``pythonpath`` in pyproject.toml), tools insert it.
"""

from __future__ import annotations

import re

from models.text import to_simplified

__all__ = ["character_error_rate", "normalise_for_cer"]

_DIGITS = "零一二三四五六七八九"
_NON_TEXT = re.compile(r"[^\w]|_", re.UNICODE)


def _int_to_hanzi(n: int) -> str:
    """Read an integer below 10^12 as Mandarin digits (5000 → 五千, 12 → 十二)."""
    if n == 0:
        return "零"
    out = ""
    for unit_value, unit in ((10**8, "亿"), (10**4, "万"), (1, "")):
        part, n = divmod(n, unit_value)
        if part:
            if out and part < 1000:
                out += "零"
            words = _below_10k(part)
            out += ("一" + words if out and words.startswith("十") else words) + unit
    return out


def _below_10k(n: int) -> str:
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero and out:
                out += "零"
            out += _DIGITS[d] + unit
            zero = False
        elif out:
            zero = True
    return out[1:] if out.startswith("一十") else out  # 12 is 十二, not 一十二


def normalise_for_cer(text: str) -> str:
    """Simplified characters, Arabic numbers read as Chinese, no punctuation or spaces.

    Whisper writes amounts as digits (1万2, 5000) where the script has
    一万二, 五千; counting those as errors would measure formatting, not hearing.
    """
    simplified = to_simplified(text)
    spoken = re.sub(r"\d+", lambda m: _int_to_hanzi(int(m.group())), simplified)
    return _NON_TEXT.sub("", spoken)


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over characters / reference length, after :func:`normalise_for_cer`."""
    ref = normalise_for_cer(reference)
    hyp = normalise_for_cer(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
    return row[-1] / len(ref)
