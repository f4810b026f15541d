"""How slot values are said to a caller and written for a teller.

The catalog's templates (:mod:`intents.templates`) say *which* facts a
read-back or summary names; this module says *how* each value sounds. The
caller hears 伍万元整 and "尾号一二三四" (digits one by one, as tellers read
account tails); the teller reads 5万元 and ``**** 1234``. Both come from the
same form, so what the caller confirmed is what the teller sees.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from intents.numerals import to_capital_yuan, to_spoken
from intents.taxonomy import MEDIUM_NAMES
from intents.templates import NAME_FIELD, Template

_DIGIT_NAMES = "零一二三四五六七八九"


def speak_digits(digits: str) -> str:
    """Digits read one by one (1234 → 一二三四), as tellers read account tails."""
    return "".join(_DIGIT_NAMES[int(c)] for c in digits if c.isdigit())


def mask_account(value: str) -> str:
    """An account number masked to its last four digits: ``**** 1234``.

    The one masking rule of the project (queue lists, logs, the caller's
    view): values too short to be an account are masked completely, so a
    partly typed number never leaks either.
    """
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) < 8:
        return "****"
    return f"**** {digits[-4:]}"


def format_amount(yuan: int) -> str:
    """5万元, 1.2万元, 2500元: how tellers write amounts on a note."""
    if yuan >= 10_000:
        wan = yuan / 10_000
        return f"{wan:g}万元" if wan == round(wan, 2) else f"{yuan}元"
    return f"{yuan}元"


def speak_term(months: int) -> str:
    """一年, 半年 is not used: 六个月 is unambiguous on a bad line."""
    if months % 12 == 0:
        return f"{to_spoken(months // 12)}年"
    return f"{to_spoken(months)}个月"


Formatter = Callable[[int | str], str]


def _medium_name(value: int | str) -> str:
    return MEDIUM_NAMES.get(str(value), str(value))


#: How the caller hears each slot; slots not listed are said as they are.
SPOKEN: Mapping[str, Formatter] = MappingProxyType(
    {
        "amount": lambda v: to_capital_yuan(int(v)),
        "term_months": lambda v: speak_term(int(v)),
        "payee_account": lambda v: speak_digits(str(v)[-4:]),
        "medium": _medium_name,
    }
)

#: How the teller reads each slot in a summary (accounts masked).
WRITTEN: Mapping[str, Formatter] = MappingProxyType(
    {
        "amount": lambda v: format_amount(int(v)),
        "term_months": lambda v: f"{int(v)}个月",
        "payee_account": lambda v: mask_account(str(v)),
        "medium": _medium_name,
    }
)


def _values(
    filled: Mapping[str, int | str], intent_name: str, how: Mapping[str, Formatter]
) -> dict[str, str]:
    out = {NAME_FIELD: intent_name}
    for code, value in filled.items():
        out[code] = how[code](value) if code in how else str(value)
    return out


def spoken_values(filled: Mapping[str, int | str], intent_name: str) -> dict[str, str]:
    """Slot values as the caller hears them in a read-back."""
    return _values(filled, intent_name, SPOKEN)


def written_values(filled: Mapping[str, int | str], intent_name: str) -> dict[str, str]:
    """Slot values as a teller reads them in a summary (accounts masked)."""
    return _values(filled, intent_name, WRITTEN)


def render_readback(
    template: Template,
    filled: Mapping[str, int | str],
    intent_name: str,
    prefix: str,
    suffix: str,
) -> str:
    """One read-back sentence: every value the teller will act on, as spoken."""
    body = template.render(spoken_values(filled, intent_name), sep="，")
    return f"{prefix}{body}。{suffix}"
