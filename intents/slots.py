"""Slot extraction: amounts, terms, payees and media from one normalised utterance.

Rules, not a model: every value must come with the customer's words that
gave it (the teller sees them), and the few slots the forms need are
expressed in regular, well-known ways. The words live in
``intents/data/slot_lexicon.yaml`` (loaded and validated by
:mod:`intents.slot_lexicon`) so the product team can extend them; the
shapes (a numeral followed by a unit, a cue before a payee) live here.

Choices worth knowing (they are tested):

* An amount needs money context: a currency unit (块/元/钱), a money cue
  near it (转/存/限额调到), or 万/千 in the numeral. Numerals followed by a
  counter (岁, 个月, 年, 张, 号, 次) or after 第/手机号/密码 are not amounts,
  nor are digit-by-digit readings or numbers of 7+ digits.
* When several amounts are said, the one after a "new value" cue (调到,
  改成) wins, then one right after a money verb (转/付/交: 返十块钱佣金，
  先要我垫付两千 → 2000, the rebate is bait), while one after a
  "balance/old value" cue (从, 还有) loses; otherwise the strongest, then
  the latest. Figures said before a correction (不对, 说错了) are dropped:
  customers correct themselves forwards (转五千，不对，六千 → 6000).
* A range (三四千) gives the upper bound at confidence 0.6: for risk it is
  the safer reading, and the teller confirms the figure anyway.
* A duration counts as a term unless it reads as the past or a deadline
  (存了一年, 一年了, 三个月前, 三个月没收到); outside deposit context its
  confidence is 0.7.
* A relation is a payee only in payee position (转给/给…转/收款人是/我女儿的卡号);
  我儿子叫我来查余额 gives nothing.
* A card after 转到/打到 is the payee's card only when the utterance names
  a payee (转到我女儿卡上); 养老金打到社保卡上了没有 is the customer's card.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from intents.numerals import NUMERAL_CHARS, NumeralError, is_digit_reading, parse_number
from intents.slot_lexicon import SlotLexicon, load_lexicon
from intents.types import Slots, SlotValue
from models.text import find_pinyin

# Full-width digits and letters folded one for one, so offsets stay valid.
_FOLD = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)
_CLAUSE_BREAK = re.compile(r"[，。,！!？?；;：:\n]")
_DIGIT_CHARS = "0-9零〇○一二三四五六七八九幺"
_NUM_RUN = re.compile(rf"(?:\d{{1,3}}(?:,\d{{3}})+(?!\d)|\d+(?:\.\d+)?|[{NUMERAL_CHARS}])+")
_LONG_NUMBER = re.compile(rf"[{_DIGIT_CHARS}](?:[ \-—－_]*[{_DIGIT_CHARS}])+")
_RANGE = re.compile(r"^([一二两三四五六七八九])([二三四五六七八九])([十百千万亿].*)$")
_SMALL_NUM = r"[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九]|\d{1,2}"
_TERM = re.compile(
    rf"(?<![{_DIGIT_CHARS}两])(?P<num>{_SMALL_NUM})(?P<unit>个月|年)(?!级|代|纪|龄)(?P<half>半)?(?P<qi>期)?"
    r"|(?P<halfyear>半年)(?P<qi2>期)?"
)
_FILLER = "(?:是|为|的|了|个|\\s)?"
# Without deposit context, a duration is a term only when the utterance is
# little more than the duration (the answer to "存多久？"): 三年, 一年半吧.
_SHORT_ANSWER_EXTRA_CHARS = 4
_PUNCT = re.compile(r"[\s，。,.！!？?；;：:、吧呢啊呀吗嘛的]")
# Between a money verb and its figure: 转个五百, 付了两千, 还他一万二.
_VERB_OBJECT = "(?:他们|她们|[我他她伊])?(?:个|了)?"
# Ranking bonuses on top of confidence. A bare figure after a money verb
# (0.85) must beat a figure with a unit (0.95) said in passing; a figure
# after a "new value" cue must beat both, since 每天只能转五万，想调到十万
# asks for the new limit, not the old one.
_VERB_BONUS = 0.15
_TARGET_BONUS = 0.3


def _alt(words: Iterable[str]) -> str:
    """Regex alternation, longest first so 银行卡 wins over 卡."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


def _clause_before(text: str, start: int, width: int) -> str:
    """Up to ``width`` characters before ``start``, not crossing a clause break."""
    window = text[max(0, start - width) : start]
    parts = _CLAUSE_BREAK.split(window)
    return parts[-1]


@dataclass(frozen=True)
class _Amount:
    value: int
    start: int
    end: int
    confidence: float
    score: float


class SlotExtractor:
    """Finds taxonomy slots in one utterance; build once with :meth:`load`."""

    def __init__(self, lexicon: SlotLexicon) -> None:
        """Precompile every pattern so :meth:`extract` does no set-up work."""
        lx = self.lexicon = lexicon
        a = lx.amount
        self._currency = re.compile(rf"\s*(?:{_alt(a['currency_units'])})")
        self._approx = re.compile(rf"(?:{_alt(a['approx_after'])})")
        self._counter = re.compile(rf"\s*(?:{_alt(a['counters_after'])})")
        self._cue_before = re.compile(_alt(a["cues_before"]))
        self._cue_after = re.compile(rf"\s*(?:{_alt(a['cues_after'])})")
        self._target = re.compile(rf"(?:{_alt(a['target_cues'])}){_FILLER}$")
        self._source = re.compile(rf"(?:{_alt(a['source_cues'])}){_FILLER}$")
        self._blocker = re.compile(rf"(?:{_alt(a['blockers_before'])}){_FILLER}{_FILLER}$")
        self._verb_before = re.compile(rf"(?:{_alt(a['verbs_before'])}){_VERB_OBJECT}$")
        self._correction = re.compile(_alt(a["correction_cues"]))
        t = lx.term
        self._deposit = re.compile(_alt(t["deposit_context"]))
        self._past_after = re.compile(rf"(?:{_alt(t['past_after'])})")
        self._past_before = re.compile(rf"(?:{_alt(t['past_before'])})$")
        self._term_block = re.compile(rf"(?:{_alt(t['blockers_before'])})$")
        self._acct_cue = re.compile(_alt(lx.account["cues"]))
        self._acct_block = re.compile(_alt(lx.account["blockers"]))
        self._bank = re.compile(_alt(lx.banks))
        self._bank_cue = re.compile(_alt(lx.bank_payee_cues))
        self._bank_source = re.compile(rf"(?:{_alt(lx.bank_source_cues)}){_FILLER}$")
        p = lx.payee
        self._payee_cue = re.compile(_alt(p["cues"]))
        self._weak_cues = frozenset(p["weak_cues"])
        self._transfer = re.compile(_alt(p["transfer_verbs"]))
        self._poss = re.compile(_alt(p["possessives"]))
        self._relation = re.compile(_alt(lx.relations))
        self._relation_after = re.compile(_alt(p["relation_after"]))
        self._pronoun = re.compile(_alt(p["pronouns"]))
        self._pronoun_cue = re.compile(_alt(p["pronoun_cues"]))
        self._requester = re.compile(_alt(p["requester_after"]))
        self._not_name = re.compile(_alt([*lx.not_names, *lx.relations, *lx.banks]))
        self._titles = frozenset(lx.titles)
        self._media = re.compile(_alt(lx.media), re.IGNORECASE)
        self._media_lower = {w.lower(): code for w, code in lx.media.items()}
        self._media_excl = re.compile(_alt(lx.medium_exclusions), re.IGNORECASE)
        self._media_not_after = re.compile(_alt(lx.medium_not_after))
        self._media_payee_after = re.compile(_alt(lx.medium_payee_after))
        hx = lx.homophone_exceptions
        self._hx_words = frozenset(hx["words"])
        self._hx_before = re.compile(rf"(?:{_alt(hx['before'])})$")
        self._hx_after = re.compile(_alt(hx["after"]))

    @classmethod
    def load(cls, path: Path | None = None) -> SlotExtractor:
        """Load and validate a slot lexicon; ``None`` means the shipped one.

        Raises:
            ConfigError: the file cannot be read, is not YAML, or fails
                validation; the message names the file.
        """
        return cls(load_lexicon(path))

    def extract(self, text: str) -> Slots:
        """Return every slot found in ``text`` (normalised Mandarin).

        Offsets in each :class:`SlotValue` index into ``text`` as given.
        """
        folded = text.translate(_FOLD)
        values: list[SlotValue] = []
        long_spans, account = self._accounts(folded, text)
        amount = self._amount(folded, text, long_spans)
        relation, name = self._payee(folded, text, has_amount=amount is not None)
        has_payee = relation is not None or name is not None or account is not None
        for v in (
            amount,
            self._term(folded, text),
            account,
            self._bank_slot(folded, text),
            relation,
            name,
            self._medium(folded, text, has_payee=has_payee),
        ):
            if v is not None:
                values.append(v)
        return Slots(tuple(values))

    # -- amount ---------------------------------------------------------

    def _amount(self, t: str, text: str, long_spans: list[tuple[int, int]]) -> SlotValue | None:
        found: list[_Amount] = []
        for m in _NUM_RUN.finditer(t):
            s, e = m.span()
            if any(s < le and ls < e for ls, le in long_spans):
                continue  # part of a phone, card or ID number
            cand = self._amount_at(t, s, e)
            if (
                cand is None
                and e - s >= 3
                and t[e - 1] in "一二两三四五六七八九"
                and any(u in t[s : e - 1] for u in "千仟万萬亿億")
            ):
                # 五万一年期: the last digit belongs to the counter after it.
                cand = self._amount_at(t, s, e - 1, peeled=True)
            if cand is not None:
                found.append(cand)
        if not found:
            return None
        # 转五千，不对，六千: figures said before a correction no longer count,
        # however strongly they were tied to the verb.
        for c in self._correction.finditer(t):
            if any(a.start >= c.end() for a in found):
                found = [a for a in found if a.start >= c.end()]
        best = found[0]
        for cand in found[1:]:
            if cand.score >= best.score:  # ties go to the latest figure
                best = cand
        return SlotValue(
            "amount", best.value, text[best.start : best.end], best.start, best.end,
            round(best.confidence, 2),
        )  # fmt: skip

    def _amount_at(self, t: str, s: int, e: int, peeled: bool = False) -> _Amount | None:
        raw = t[s:e]
        conf_cap = 1.0
        rng = _RANGE.match(raw)
        if rng and _num(rng.group(2)) > _num(rng.group(1)):
            raw, conf_cap = rng.group(2) + rng.group(3), 0.6  # 三四千 → 四千
        elif is_digit_reading(raw) and not _plain_number(raw):
            return None  # 一九八, 六二二二: digits read one by one
        try:
            value = parse_number(raw)
        except NumeralError:
            return None
        before = _clause_before(t, s, 8)
        if self._blocker.search(before):
            return None
        end, approx = e, False
        if not peeled:
            if m := self._approx.match(t, end):
                end, approx = m.end(), True
            if m := self._currency.match(t, end):
                end, conf = m.end(), 0.95
                if m2 := self._approx.match(t, end):
                    end, approx = m2.end(), True
            elif self._counter.match(t, e):
                return None  # 三个月, 七十八岁, 两张, 一号
            else:
                conf = 0.0
        else:
            conf = 0.0
        has_unit = any(ch in "十拾百佰千仟万萬亿億" for ch in raw)
        if conf == 0.0 and raw[0] in "百佰千仟万萬亿億":
            return None  # 千万别告诉别人, 百万保障: idioms, not amounts
        if conf == 0.0:
            if (self._cue_before.search(before[-6:]) or self._cue_after.match(t, end)) and (
                value >= 10 or has_unit
            ):
                conf = 0.85
            elif any(ch in "万萬亿億" for ch in raw):
                conf = 0.7
            elif any(ch in "千仟" for ch in raw):
                conf = 0.6
            else:
                return None
        conf = min(conf, conf_cap) - (0.15 if approx else 0.0)
        score = conf
        if self._target.search(before):
            score += _TARGET_BONUS
        if self._source.search(before):
            score -= 0.25
        if self._verb_before.search(before):
            score += _VERB_BONUS
        return _Amount(value, s, end, conf, score)

    # -- term -------------------------------------------------------------

    def _term(self, t: str, text: str) -> SlotValue | None:
        found: list[tuple[int, int, int]] = []
        for m in _TERM.finditer(t):
            s, e = m.span()
            head = t[max(0, s - 3) : s]
            if self._past_after.match(t, e) or self._past_before.search(head):
                continue  # 存了一年了, 三个月前: the past, not a requested term
            if self._term_block.search(head):
                continue  # 第一个月, 近半年的明细: a period, not a term
            if m.group("halfyear"):
                months = 6
            else:
                n = _num(m.group("num"))
                months = n * (12 if m.group("unit") == "年" else 1)
                if m.group("half"):
                    months += 6 if m.group("unit") == "年" else 0
            found.append((months, s, e))
        if not found:
            return None
        months, s, e = found[-1]
        if self._deposit.search(t) or t[e - 1] == "期":
            conf = 0.9
        elif len(_PUNCT.sub("", t)) - (e - s) <= _SHORT_ANSWER_EXTRA_CHARS:
            conf = 0.7
        else:
            return None  # 一年翻倍, 付三个月房租: a duration in passing
        if len({f[0] for f in found}) > 1:
            conf = 0.5  # 一年还是三年: the customer has not decided
        return SlotValue("term_months", months, text[s:e], s, e, conf)

    # -- account ----------------------------------------------------------

    def _accounts(self, t: str, text: str) -> tuple[list[tuple[int, int]], SlotValue | None]:
        spans: list[tuple[int, int]] = []
        best: SlotValue | None = None
        for m in _LONG_NUMBER.finditer(t):
            digits = "".join(
                str(parse_number(ch)) if not ch.isdigit() else ch
                for ch in m.group()
                if ch not in " -—－_"
            )
            if len(digits) < 7:
                continue
            s, e = m.span()
            spans.append((s, e))
            if not 16 <= len(digits) <= 19 or t[e : e + 1] in ("X", "x"):
                continue  # phone number, or an ID number ending in X
            before = _clause_before(t, s, 10)
            if self._acct_block.search(before):
                continue
            if self._acct_cue.search(before):
                conf = 0.95
            elif len(digits) == 18 and _looks_like_id(digits):
                continue
            else:
                conf = 0.8
            if best is None or conf > best.confidence:
                best = SlotValue("payee_account", digits, text[s:e], s, e, conf)
        return spans, best

    # -- bank -------------------------------------------------------------

    def _bank_slot(self, t: str, text: str) -> SlotValue | None:
        best: SlotValue | None = None
        for m in self._bank.finditer(t):
            s, e = m.span()
            before = _clause_before(t, s, 6)
            if self._bank_source.search(before):
                continue  # 把工行卡里的钱转到…: the source, not the payee's bank
            conf = 0.9 if self._bank_cue.search(before) else 0.75
            if best is None or conf > best.confidence:
                best = SlotValue("payee_bank", self.lexicon.banks[m.group()], text[s:e], s, e, conf)
        return best

    # -- payee relation and name -------------------------------------------

    def _payee(
        self, t: str, text: str, has_amount: bool
    ) -> tuple[SlotValue | None, SlotValue | None]:
        relation: SlotValue | None = None
        name: SlotValue | None = None
        # A weak cue (给) needs a sign of a transfer: a transfer verb, or an
        # amount outside deposit talk (给我儿子打五万块钱 yes; 给我儿子打电话
        # and 存个定期给老伴看病用 no).
        has_verb = self._transfer.search(t) is not None
        has_transfer = has_verb or (has_amount and self._deposit.search(t) is None)
        cues = sorted(
            [(m, False) for m in self._payee_cue.finditer(t)]
            + [(m, True) for m in self._pronoun_cue.finditer(t)],
            key=lambda c: c[0].start(),
        )
        to_self = False  # 转给我五千: the customer receives, no third-party payee
        for m, pronoun_only in cues:
            cue = m.group()
            weak = cue in self._weak_cues
            if weak and not has_transfer:
                continue
            pos = m.end()
            if t.startswith("我", pos) and not self._poss_relation(t, pos):
                to_self = True
            if pm := self._pronoun.match(t, pos):
                # 转五万给他: the payee is the relation mentioned earlier.
                if relation is None and (earlier := self._last_relation(t, m.start())):
                    relation = self._relation_value(earlier, text, 0.7)
                continue
            if pronoun_only:
                continue
            if pm := self._poss.match(t, pos):
                pos = pm.end()
            if rm := self._relation_near(t, pos):
                if relation is None:
                    relation = self._relation_value(rm, text, 0.8 if weak else 0.9)
                pos = rm.end()
                if t.startswith("的", pos):
                    pos += 1
            if name is None and (span := self._name_at(t, pos)):
                strong = cue.startswith(("收款", "户名", "名字", "姓名"))
                conf = 0.9 if strong else (0.75 if weak else 0.85)
                evidence = text[span[0] : span[1]]
                name = SlotValue("payee_name", evidence, evidence, span[0], span[1], conf)
        if relation is None:
            for rm in self._relation.finditer(t):
                if self._relation_after.match(t, rm.end()):  # 我女儿的卡号是…
                    relation = self._relation_value(rm, text, 0.8)
                    break
        if relation is None and name is None and has_amount and not to_self and has_verb:
            for rm in self._relation.finditer(t):
                if self._requester.match(t, rm.end()):  # 我孙子说他出事了…打一万过去
                    relation = self._relation_value(rm, text, 0.55)
                    break
        return relation, name

    def _relation_near(self, t: str, pos: int) -> re.Match[str] | None:
        """A relation at ``pos``, or after a short modifier (给老家的阿哥)."""
        if rm := self._relation.match(t, pos):
            return rm
        rm = self._relation.search(t, pos, pos + 6)
        if rm and t[rm.start() - 1] in "的个" and not _CLAUSE_BREAK.search(t, pos, rm.start()):
            return rm
        return None

    def _poss_relation(self, t: str, pos: int) -> bool:
        """Whether a possessive at ``pos`` introduces a relation (我女儿, 我们家阿哥)."""
        pm = self._poss.match(t, pos)
        return pm is not None and self._relation_near(t, pm.end()) is not None

    def _last_relation(self, t: str, before: int) -> re.Match[str] | None:
        found = None
        for rm in self._relation.finditer(t, 0, before):
            found = rm
        return found

    def _relation_value(self, rm: re.Match[str], text: str, conf: float) -> SlotValue:
        s, e = rm.span()
        canonical = self.lexicon.relations[rm.group()]
        return SlotValue("payee_relation", canonical, text[s:e], s, e, conf)

    def _name_at(self, t: str, pos: int) -> tuple[int, int] | None:
        """Span of a 2–3 character personal name starting at ``pos``, if any."""
        lx = self.lexicon
        compound = next((c for c in lx.compound_surnames if t.startswith(c, pos)), None)
        if compound:
            sl = len(compound)
        elif pos < len(t) and t[pos] in lx.surnames:
            sl = 1
        else:
            return None
        end = pos + sl
        while end < len(t) and end - pos - sl < 2:
            ch = t[end]
            if not "\u4e00" <= ch <= "\u9fff" or ch in lx.stop_chars:
                break
            if ch in NUMERAL_CHARS and (
                (end + 1 < len(t) and t[end + 1] in NUMERAL_CHARS)
                or self._currency.match(t, end + 1)
                or self._counter.match(t, end + 1)
            ):
                break  # 张建国五万, 付三个月: a number starts here
            end += 1
        if end - pos - sl == 2 and self._not_name.match(t, end - 1):
            end -= 1  # 转给王芳明天: 明天 is not part of the name
        given = t[pos + sl : end]
        if not given or given in self._titles or given[:1] in self._titles:
            return None  # 张阿姨, 王总
        if any(given.startswith(title) for title in self._titles):
            return None
        if self._not_name.match(t, pos) or self._relation.search(t, pos + sl, end):
            return None  # 孙子, 余额, 银行, 高回报
        return pos, end

    # -- medium -------------------------------------------------------------

    def _medium(self, t: str, text: str, has_payee: bool) -> SlotValue | None:
        masked = self._media_excl.sub(lambda m: "□" * len(m.group()), t)
        for m in self._media.finditer(masked):
            s, e = m.span()
            code = self._media_lower[m.group().lower()]
            if code == "card":
                before = _clause_before(t, s, 10)
                if self._media_not_after.search(before):
                    continue  # 转到她卡上, 另一张卡: someone else's card
                if has_payee and self._media_payee_after.search(before):
                    continue  # 转到我女儿卡上: the payee's card, not the customer's
            conf = 0.75 if m.group() in ("卡", "手机上", "卡片") else 0.9
            return SlotValue("medium", code, text[s:e], s, e, conf)
        best: tuple[int, int, str] | None = None
        for word, code in self.lexicon.homophones.items():
            span = find_pinyin(masked, word)
            if span is None:
                continue
            s, e = span
            if masked[s:e] in self._hx_words and not (
                self._hx_before.search(masked[:s]) or self._hx_after.match(masked, e)
            ):
                continue  # 钱存着 (keeping money), not 存折
            if best is None or s < best[0]:
                best = (s, e, code)
        if best is None:
            return None
        s, e, code = best
        return SlotValue("medium", code, text[s:e], s, e, 0.7)


def _num(s: str) -> int:
    """Small numeral for terms and ranges (两, 十二, 3)."""
    return parse_number(s)


def _plain_number(raw: str) -> bool:
    """A short Arabic number (500, 5,000) or one Chinese digit: may be an amount.

    Longer digit readings (一九八, 13812345678) are codes, years or phone
    numbers read out, not amounts.
    """
    plain = raw.replace(",", "")
    return len(raw) == 1 or (plain.isascii() and plain.isdigit() and len(plain) < 7)


def _looks_like_id(digits: str) -> bool:
    """An 18-digit number whose birth-date field is plausible: a citizen ID."""
    year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    return 1900 <= year <= 2030 and 1 <= month <= 12 and 1 <= day <= 31
