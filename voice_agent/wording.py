"""How slot values are said to a caller and written for a teller.

The catalog's templates (:mod:`intents.templates`) say *which* facts a
read-back or summary names; this module says *how* each value sounds. The
caller hears 伍万元整 and "尾号一二三四" (digits one by one, as tellers read
account tails); the teller reads 5万元 and ``**** 1234``. Both come from the
same form, so what the caller confirmed is what the teller sees.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def spoken_values(filled: Mapping[str, int | str], intent_name: str) -> dict[str, str]:
    """Slot values as the caller hears them in a read-back."""
    out = {NAME_FIELD: intent_name}
    for code, value in filled.items():
        if code == "amount":
            out[code] = to_capital_yuan(int(value))
        elif code == "term_months":
            out[code] = speak_term(int(value))
        elif code == "payee_account":
            out[code] = speak_digits(str(value)[-4:])
        elif code == "medium":
            out[code] = MEDIUM_NAMES.get(str(value), str(value))
        else:
            out[code] = str(value)
    return out


def written_values(filled: Mapping[str, int | str], intent_name: str) -> dict[str, str]:
    """Slot values as a teller reads them in a summary (accounts masked)."""
    out = {NAME_FIELD: intent_name}
    for code, value in filled.items():
        if code == "amount":
            out[code] = format_amount(int(value))
        elif code == "term_months":
            out[code] = f"{int(value)}个月"
        elif code == "payee_account":
            out[code] = mask_account(str(value))
        elif code == "medium":
            out[code] = MEDIUM_NAMES.get(str(value), str(value))
        else:
            out[code] = str(value)
    return out


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
