"""When has the caller finished? The sentence decides how long a pause to wait.

Elderly callers say a request in phrases with a second's pause between
them ("我想 … 给我女儿 … 汇一点钱"). A fixed silence timeout either cuts
them after the first phrase (0.5 s) or makes every fluent request wait
(2 s). Instead, the live STT service recognises the turn at the first
short pause (speculatively) and asks :func:`sounds_complete` about the
text:

* a complete request (帮我查一下余额) that Whisper closed with 。？！ ends
  after ``complete_pause_s``;
* an unfinished one (我想, 给我女儿的, 帮我把) waits ``patient_pause_s``;
* a speaker who has already paused inside this turn is a pausing speaker:
  even a complete-sounding stretch waits a little longer than their own
  longest pause so far (their rhythm), never longer than the patient pause.

The judgement is a few word lists over the normalised (Mandarin) text,
plain Python, no model: a dangling last word (a verb without its object,
a preposition, 的, a conjunction, a filler), a trailing comma, or no
predicate at all (我的银行卡, 有个警察) means unfinished.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _words(*lines: str) -> tuple[str, ...]:
    return tuple(w for line in lines for w in line.split())


# Short answers to the assistant's questions: complete on their own.
ANSWERS = frozenset(
    _words(
        "对 对的 对对 对对对 是 是的 好 好的 行 可以 没错 嗯 嗯嗯 不 不是 不对 不要 不用",
        "没有 谢谢 再见 要 需要 不需要 确认 取消",
    )
)
# A last word that needs something after it. Longest first when matching.
DANGLING = tuple(
    sorted(
        _words(
            # wanting, asking, causing — with nothing wanted yet
            "我想 想 想要 我要 要 打算 准备 需要 请 请问 麻烦 能不能 可不可以 能 可以 会",
            "帮 帮我 给 给我 叫 叫我 让 让我 替我 跟我",
            # verbs of the bank's trade without their object
            "转 汇 打 存 取 查 查查 看看 问问 找 拿到 办 办理 开 改 调 交 付 借 还",
            "转给 汇给 打给 转到 汇到 打到 存到 存成 调到 改成 换成 转账给 打钱给 拨",
            "说 讲 告诉 问",
            # prepositions, particles, conjunctions, fillers
            "把 将 到 往 向 跟 和 与 同 从 在 对 为 为了 被 关于 的 地 得 还有 然后 就是",
            "那个 这个 那 这 一个 个 一些 一点 一下 因为 所以 如果 但是 可是 而且 或者 还是",
            "呃 嗯 啊 哦 那么 里",
        ),
        key=len,
        reverse=True,
    )
)
# ...except in these endings, which finish a sentence.
NOT_DANGLING = ("哪里", "那里", "这里", "怎么办", "办一下", "到账", "还有吗", "还有多少")
# A request names what it is about: 一下/一点 need such an object before them.
OBJECTS = _words(
    "余额 卡 存折 密码 养老金 工资 账 钱 定期 存款 限额 明细 流水 社保 手机银行 验证码",
    "柜员 人工 利息 贷款 理财 户头",
)
# Nouns that contain a verb's character (存折 is not 存): removed before
# looking for a predicate.
NOUNS = ("存折", "存款", "存单", "账户", "户头", "银行卡", "社保卡", "工资卡", "转账限额", "密码")
# A preposition or 把 needs its verb after it (我想给我儿子 …; 帮我把十万块 …);
# after one of these verbs 给 is the dative (转账给我孙子, 转三万块给我的老同学).
COVERBS = ("把", "将", "给", "跟", "向", "往", "替")
DATIVE_VERBS = "转汇打寄还拨交付送账"
# Some predicate must be there: 我的银行卡 alone is not a request yet.
PREDICATES = _words(
    "转 汇 打 存 取 查 挂失 丢 掉 忘 改 重置 激活 开通 登录 用 办 要 想 看 问 找 说 讲",
    "到账 剩 多少 几 吗 呢 吧 了 怎么 能不能 可以 帮 请 冻结 取消 调 交 付 借 还 下载",
    "不会 不能 不要 没 是 会 叫 让 告诉 介绍 收到 扣 停 补 换 开 关 注销 拿",
)
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、“”\"'()（）《》…-]+")
_TRAILING_CONTINUATION = re.compile(r"[,，、…-]\s*$")
_CLOSED = re.compile(r"[。？！?!.]\s*$")


def closes_sentence(text: str) -> bool:
    """Whether Whisper ended ``text`` with a full stop, question or exclamation mark."""
    return bool(_CLOSED.search(text))


def sounds_complete(text: str) -> bool:
    """Whether ``text`` (normalised Mandarin) sounds like a finished request.

    >>> sounds_complete("帮我查一下余额"), sounds_complete("我想"), sounds_complete("对")
    (True, False, True)
    """
    if _TRAILING_CONTINUATION.search(text):
        return False
    bare = _PUNCT.sub("", text)
    if not bare:
        return False  # nothing heard yet: wait
    if bare in ANSWERS:
        return True
    if not bare.endswith(NOT_DANGLING):
        for word in DANGLING:
            if bare.endswith(word):
                if word in ("一下", "一点", "看看", "查查", "问问") and any(
                    o in bare for o in OBJECTS
                ):
                    break  # 把卡激活一下: the object is there
                return False
    core = bare
    for noun in NOUNS:
        core = core.replace(noun, "名")
    last = max(
        (
            i
            for i, ch in enumerate(core)
            if ch in COVERBS and not (ch == "给" and any(v in core[:i] for v in DATIVE_VERBS))
        ),
        default=-1,
    )
    if last >= 0:
        # The coverb's object, then its verb: a predicate after the object.
        return any(p in core[last + 2 :] for p in PREDICATES)
    return any(p in core for p in PREDICATES)


@dataclass(frozen=True)
class EndOfTurnPolicy:
    """How much silence ends a turn, given what has been said.

    Attributes:
        complete_pause_s: silence that ends a complete request.
        patient_pause_s: silence that ends an unfinished one (elderly
            callers pause 0.8–1.5 s between phrases; the VAD notices
            speech again ~0.2–0.3 s after it resumes).
        rhythm_margin_s: a speaker who paused inside this turn gets their
            longest pause so far plus this before a complete-sounding
            stretch ends the turn.
    """

    complete_pause_s: float = 0.5
    patient_pause_s: float = 2.0
    unsure_pause_s: float = 2.0
    rhythm_margin_s: float = 0.6

    def required_pause_s(
        self, complete: bool, longest_pause_s: float, closed: bool = True
    ) -> float:
        """Silence (s) after which the turn ends.

        Args:
            complete: the words sound like a finished request.
            longest_pause_s: the longest pause inside this turn so far (0: none).
            closed: Whisper closed the sentence (。？！). Whisper ends 25 of the
                28 fluent fixture requests so, and most phrase fragments
                without it; complete-sounding words it left open wait
                ``unsure_pause_s``.
        """
        if not complete:
            return self.patient_pause_s
        if not closed:
            return self.unsure_pause_s
        if longest_pause_s <= 0:
            return self.complete_pause_s
        rhythm = longest_pause_s + self.rhythm_margin_s
        return min(self.patient_pause_s, max(self.complete_pause_s, rhythm))
