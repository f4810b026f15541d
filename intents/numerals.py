"""Chinese and mixed numerals: parse what customers say, render what we read back.

Customers say amounts every way at once: 五万, 一万二 (colloquial elision:
the trailing digit takes the next lower unit, so 12000), 3万, 1万2, 1.5万,
5,000, 大写 伍仟元 from a form, 10万零500. The slot extractor finds the
numeral run in the text; this module only turns a run into an integer, so
the grammar is tested on its own (property tests in
tests/intents/test_numerals.py).

Going the other way, :func:`to_capital_yuan` gives the 大写 reading a
teller reads back to confirm an amount (伍万元整), and :func:`to_spoken`
the natural spoken form (五万, 两千五百) for voice prompts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.errors import InputError

__all__ = [
    "NUMERAL_CHARS",
    "NumeralError",
    "is_digit_reading",
    "parse_number",
    "read_digits",
    "to_capital_yuan",
    "to_spoken",
]


class NumeralError(InputError, ValueError):
    """The text is not a numeral this parser understands."""


# Digit characters, including 大写 forms, 两 (two before units), 幺 (one,
# as read in phone and card numbers) and both zeros.
_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "○": 0,
    "一": 1, "壹": 1, "幺": 1,
    "二": 2, "贰": 2, "貳": 2, "两": 2, "兩": 2,
    "三": 3, "叁": 3, "參": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6, "陸": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
_ZEROS = frozenset("零〇○")
_SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_UNITS: dict[str, int] = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}

#: Every character that can be part of a numeral run (for the slot regexes).
NUMERAL_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)

# Currency words that may trail a numeral handed to parse_number (伍仟元,
# 伍万元整): stripping them here keeps the 大写 read-back round-trippable.
_CURRENCY_SUFFIX = re.compile(r"(?:块钱|块|元整|元|圆整|圆|整)$")
_ARABIC = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d,])")


@dataclass(frozen=True)
class _Tok:
    """One lexical piece of a numeral: a number, a unit or a zero."""

    kind: str  # "num" | "unit" | "big" | "zero"
    value: float
    single_digit: bool = False


def _normalise(text: str) -> str:
    # NFKC folds full-width digits (１２３) to ASCII; commas only go when
    # they group thousands, so "5,000" is 5000 but "3,4" stays invalid.
    text = unicodedata.normalize("NFKC", text).strip()
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)
    return re.sub(r"\s+", "", text)


def _tokenise(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        m = _ARABIC.match(text, i)
        if m:
            s = m.group()
            toks.append(_Tok("num", float(s), single_digit=len(s) == 1))
            i = m.end()
            continue
        if ch in _ZEROS:
            toks.append(_Tok("zero", 0))
        elif ch in _DIGITS:
            toks.append(_Tok("num", _DIGITS[ch], single_digit=True))
        elif ch in _SMALL_UNITS:
            toks.append(_Tok("unit", _SMALL_UNITS[ch]))
        elif ch in _BIG_UNITS:
            toks.append(_Tok("big", _BIG_UNITS[ch]))
        else:
            raise NumeralError(f"not a numeral character {ch!r} in {text!r}")
        i += 1
    return toks


def is_digit_reading(text: str) -> bool:
    """True when ``text`` is digits read one by one (六二二二, 138, 幺三八).

    Such runs are card, phone or account numbers, never amounts spoken with
    units, so the slot extractor treats them separately.
    """
    t = _normalise(text)
    return bool(t) and all(ch.isdigit() or ch in _DIGITS for ch in t)


def read_digits(text: str) -> str:
    """Turn a digit-by-digit reading (六二二二零二, 幺三八) into an ASCII digit string.

    Raises:
        NumeralError: a character is not a digit.
    """
    out = []
    for ch in _normalise(text):
        if ch.isdigit():
            out.append(ch)
        elif ch in _DIGITS:
            out.append(str(_DIGITS[ch]))
        else:
            raise NumeralError(f"not a digit {ch!r} in {text!r}")
    return "".join(out)


def parse_number(text: str) -> int:
    """Parse a Chinese, 大写, Arabic or mixed numeral into an integer.

    Accepts 五万, 一万二 (=12000), 两千五, 3万, 1万2, 1.5万, 5,000, 伍仟元,
    十万, 一百零五, 10万零500, 一亿, 幺 and digit-by-digit readings (一九八 →
    198). A trailing 元/块/块钱/元整 is ignored.

    Raises:
        NumeralError: the text is empty or not a well-formed numeral, e.g.
            a range such as 三四千 (the slot extractor handles ranges).
    """
    t = _CURRENCY_SUFFIX.sub("", _normalise(text))
    if not t:
        raise NumeralError(f"empty numeral: {text!r}")
    if is_digit_reading(t) and not _ARABIC.fullmatch(t):
        # Digit-by-digit reading, possibly mixed (一9八); the decimal point
        # cannot appear here because '.' is not a digit character.
        return int(read_digits(t))
    toks = _tokenise(t)
    try:
        value = _evaluate(toks)
    except NumeralError as e:
        raise NumeralError(f"{e} in {text!r}") from e
    if value != int(value) or value < 0:
        raise NumeralError(f"not a whole number: {text!r}")
    return int(value)


def _evaluate(toks: list[_Tok]) -> float:
    """Evaluate tokens left to right with section/total accumulators.

    ``section`` collects what lies below the current big unit (万/亿);
    ``pending`` is a number not yet multiplied by a unit. ``last_unit``
    remembers the unit just read so a lone trailing digit can take the next
    lower one (一万二 → 1万 + 2千); a 零 in between cancels that (一万零二).
    """
    total = 0.0  # everything closed by 亿, plus 万-groups
    section = 0.0  # below the last big unit
    pending: float | None = None
    pending_single = False
    last_unit: int | None = None  # unit immediately before `pending`
    prev_small: int | None = None  # to refuse 一百一千
    after_zero = False
    for tok in toks:
        if tok.kind == "num":
            if pending is not None:
                raise NumeralError("two numbers without a unit between them")
            pending, pending_single = tok.value, tok.single_digit
            continue
        if tok.kind == "zero":
            if pending is not None:
                raise NumeralError("零 after a bare number")
            after_zero, last_unit = True, None
            continue
        unit = int(tok.value)
        if tok.kind == "unit":
            if prev_small is not None and unit >= prev_small:
                raise NumeralError("units out of order")
            # 十 with nothing before it means 一十 (十万, 十五).
            section += (1 if pending is None else pending) * unit
            prev_small = unit
        else:  # big
            if pending is None and section == 0 and total == 0:
                raise NumeralError("万/亿 without a number")
            section += pending or 0
            if unit == 10**8:
                total = (total + section) * unit
            else:
                if total % 10**8 >= 10**4:
                    raise NumeralError("万 twice")
                total += section * unit
            section, prev_small = 0.0, None
        pending, last_unit, after_zero = None, unit, False
    if pending is not None:
        if pending_single and last_unit is not None and last_unit >= 100 and not after_zero:
            # Colloquial elision: 一万二, 两千五, 一百五, 1万2.
            pending *= last_unit // 10
        section += pending
    return total + section


_SPOKEN_DIGITS = "零一二三四五六七八九"
_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SPOKEN_UNITS = ("", "十", "百", "千")
_CAPITAL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _render(n: int, digits: str, units: tuple[str, ...], spoken: bool) -> str:
    """Canonical Chinese reading, one 4-digit group at a time (high to low).

    A 零 is written once for any run of zeros between non-zero digits,
    including across groups (十万零五百, 一亿零五百万).
    """
    if n < 0:
        raise NumeralError(f"negative amount: {n}")
    if n == 0:
        return digits[0]
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out: list[str] = []
    zero_pending = False
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        if g == 0:
            zero_pending = bool(out)
            continue
        if out and g < 1000:
            zero_pending = True
        for pos in range(3, -1, -1):
            d = (g // 10**pos) % 10
            if d == 0:
                zero_pending = zero_pending or bool(out)
                continue
            if zero_pending:
                out.append(digits[0])
                zero_pending = False
            if spoken and not out and d == 2 and (pos >= 2 or (pos == 0 and gi > 0)):
                out.append("两")  # leading 2 before 百/千/万/亿: 两千五百, 两万
            elif spoken and not out and d == 1 and pos == 1:
                pass  # leading 一十 is said 十 (十万, 十五)
            else:
                out.append(digits[d])
            out.append(units[pos])
        out.append(_GROUP_UNITS[gi])
        # Trailing zeros of a group need no 零 (一万五千); a gap before a
        # small next group is caught by the `g < 1000` test above.
        zero_pending = False
    return "".join(out)


def to_spoken(n: int, *, before_measure: bool = False) -> str:
    """Natural spoken Mandarin for ``n``: 50000 → 五万, 12000 → 一万二千, 2500 → 两千五百.

    Uses 两 for a leading 2 before 百/千/万/亿 and drops the 一 of a leading
    一十 (十万), as people say them; no colloquial elision, so the text is
    unambiguous when read by TTS.

    Args:
        n: a non-negative integer.
        before_measure: the number is followed by a measure word (年, 个月,
            块), where a lone 2 is said 两 (两年, not 二年).
    """
    if before_measure and n == 2:
        return "两"
    return _render(n, _SPOKEN_DIGITS, _SPOKEN_UNITS, spoken=True)


def to_capital_yuan(n: int) -> str:
    """The 大写 amount a teller reads back: 50000 → 伍万元整, 105 → 壹佰零伍元整.

    Follows the banking form: every digit written (壹拾, never bare 拾),
    one 零 per gap, and 元整 for whole yuan.
    """
    return _render(n, _CAPITAL_DIGITS, _CAPITAL_UNITS, spoken=False) + "元整"
