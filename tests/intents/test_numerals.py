"""Chinese numeral parsing and rendering.

The property tests render integers with a generator written here, on
purpose in a different (recursive) style from intents.numerals, so a shared
mistake in both is unlikely.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.numerals import (
    NumeralError,
    is_digit_reading,
    parse_number,
    read_digits,
    to_capital_yuan,
    to_spoken,
)
from models.errors import InputError

DIGITS = "零一二三四五六七八九"
CAPITAL = str.maketrans("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟")
MAX = 10**9


def _below_10000(n: int, leading: bool) -> str:
    out, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d == 0:
            gap = gap or bool(out)
            continue
        if gap:
            out, gap = out + "零", False
        # 十五 / 十万 at the very start; 一十 inside (一百一十).
        out += ("" if leading and not out and d == 1 and value == 10 else DIGITS[d]) + unit
    return out


def _zh(n: int, leading: bool = True, keep_yi_shi: bool = False) -> str:
    for size, unit in ((10**8, "亿"), (10**4, "万")):
        if n >= size:
            high, low = divmod(n, size)
            text = _zh(high, leading, keep_yi_shi) + unit
            if low:
                text += ("零" if low < size // 10 else "") + _zh(low, False, keep_yi_shi)
            return text
    return _below_10000(n, leading and not keep_yi_shi)


def chinese(n: int, keep_yi_shi: bool = False) -> str:
    """Canonical Mandarin reading: 105 → 一百零五, 100500 → 十万零五百."""
    return "零" if n == 0 else _zh(n, keep_yi_shi=keep_yi_shi)


def capital(n: int, wan: str = "万") -> str:
    """大写 reading as written on bank forms (壹拾 kept)."""
    return chinese(n, keep_yi_shi=True).translate(CAPITAL).replace("万", wan)


def mixed(n: int) -> str:
    """Arabic digits with 万/亿 (3万, 10万零500, 2亿3000万)."""
    if n < 10**4:
        return str(n)
    if n >= 10**8:
        high, low = divmod(n, 10**8)
        if low == 0:
            return f"{high}亿"
        return f"{high}亿" + ("零" if low < 10**7 else "") + mixed(low)
    high, low = divmod(n, 10**4)
    if low == 0:
        return f"{high}万"
    return f"{high}万" + ("零" if low < 1000 else "") + str(low)


amounts = st.integers(min_value=0, max_value=MAX)


@settings(deadline=None)
@given(amounts)
def test_canonical_chinese_parses_back(n: int) -> None:
    assert parse_number(chinese(n)) == n


@settings(deadline=None)
@given(amounts, st.sampled_from(["万", "萬"]))
def test_capital_parses_back(n: int, wan: str) -> None:
    assert parse_number(capital(n, wan)) == n


@settings(deadline=None)
@given(amounts)
def test_digits_and_grouped_digits_parse_back(n: int) -> None:
    assert parse_number(str(n)) == n
    assert parse_number(f"{n:,}") == n


@settings(deadline=None)
@given(amounts)
def test_mixed_arabic_and_units_parse_back(n: int) -> None:
    assert parse_number(mixed(n)) == n


@settings(deadline=None)
@given(
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=1, max_value=9),
    st.sampled_from([100, 1000, 10**4]),
    st.booleans(),
)
def test_colloquial_elision(lead: int, tail: int, unit: int, arabic: bool) -> None:
    """一万二, 两千五, 一百五, 十二万五, 1万2: the tail digit takes the next lower unit."""
    if unit < 10**4:
        lead = lead % 9 + 1  # 五十千 is not Chinese
    expected = lead * unit + tail * unit // 10
    head = f"{lead}万" if arabic and unit == 10**4 else chinese(lead * unit)
    text = head + (str(tail) if arabic else DIGITS[tail])
    assert parse_number(text) == expected


@settings(deadline=None)
@given(amounts)
def test_to_capital_yuan_is_the_bank_form_and_round_trips(n: int) -> None:
    rendered = to_capital_yuan(n)
    assert rendered == capital(n) + "元整"
    assert parse_number(rendered) == n


@settings(deadline=None)
@given(amounts)
def test_to_spoken_round_trips(n: int) -> None:
    assert parse_number(to_spoken(n)) == n


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("五万", 50000),
        ("一万二", 12000),
        ("两千五百", 2500),
        ("两千五", 2500),
        ("八千八", 8800),
        ("3万", 30000),
        ("1万2", 12000),
        ("伍仟元", 5000),
        ("伍万元整", 50000),
        ("十万", 100000),
        ("二十万", 200000),
        ("一百零五", 105),
        ("三千零五十", 3050),
        ("1.5万", 15000),
        ("5,000", 5000),
        ("10万零500", 100500),
        ("一亿", 100000000),
        ("幺", 1),
        ("零", 0),
        ("〇", 0),
        ("一万零二", 10002),
        ("３万", 30000),
        ("五千块钱", 5000),
        ("一九八", 198),
        ("两万两千", 22000),
    ],
)
def test_examples(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text", ["", "三四千", "万", "一百一千", "一万一万", "五块五毛", "abc", "1.5"]
)
def test_malformed_numerals_raise_numeral_error(text: str) -> None:
    with pytest.raises(NumeralError) as info:
        parse_number(text)
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(
    ("n", "capital_text", "spoken"),
    [
        (50000, "伍万元整", "五万"),
        (12000, "壹万贰仟元整", "一万二千"),
        (2500, "贰仟伍佰元整", "两千五百"),
        (105, "壹佰零伍元整", "一百零五"),
        (10, "壹拾元整", "十"),
        (100500, "壹拾万零伍佰元整", "十万零五百"),
        (0, "零元整", "零"),
    ],
)
def test_rendering_examples(n: int, capital_text: str, spoken: str) -> None:
    assert to_capital_yuan(n) == capital_text
    assert to_spoken(n) == spoken


def test_two_before_a_measure_word_is_liang() -> None:
    assert to_spoken(2) == "二"
    assert to_spoken(2, before_measure=True) == "两"
    assert to_spoken(12, before_measure=True) == "十二"


def test_digit_readings() -> None:
    assert is_digit_reading("六二二二零二")
    assert not is_digit_reading("两千五")
    assert read_digits("幺三八 1234") == "1381234"
    with pytest.raises(NumeralError):
        read_digits("三千")


def test_negative_amount_cannot_be_rendered() -> None:
    with pytest.raises(NumeralError):
        to_capital_yuan(-5)
