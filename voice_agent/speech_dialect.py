"""Dialect from the audio: speech the Mandarin recogniser cannot read, that sounds like dialect.

Whisper base has no Wu. On a Shanghainese speaker it writes wrong Mandarin
characters (CER ≈ 0.84) and the text-level dialect detector sees no Wu
words, so the case said ``mandarin`` and the call asked the caller to
repeat three times. This module judges each turn from what the recogniser
already computed (speech-notes.md, "Measured later"):

* **language ID**: Whisper's own language distribution on the turn's
  encoder output (:attr:`AsrResult.language_probs`). Mandarin, even over
  an 8 kHz line, whispered, fast, quiet or noisy, keeps P(zh) high;
  Chinese it cannot read loses it to ja/th/en/my…;
* **the reading failed**: the ASR guards judged the turn unclear for a
  reason that means "could not read it" (low confidence, repetition loop,
  prompt echo, a decode that timed out), not "there was nothing" (no
  speech, empty);
* **it is speech**: ``no_speech_prob`` low;
* **Wu words in what was read**: the text-level detector's markers
  (阿拉, 侬, 几钿 or their ASR homophones) in an unclear turn add evidence.

Unclear alone is never dialect: 8 kHz Mandarin is unclear as often as Wu
is. The judgement is one frozen value on the turn
(``TranscriptSegment.speech_dialect``) and the case (``dialect.source``).
Calibration and what it does and does not show: benchmarks/RESULTS.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dialects.types import Normalised
from voice_agent.settings import SpeechDialectSettings

#: ASR guard reasons that mean "heard speech, could not read it". A
#: ``timeout`` is nearly always a decoding loop on speech Whisper cannot
#: read (on a busy machine 3 of 8 Wu-text stand-ins timed out instead of
#: looping to the end); it has no language ID of its own, so the service
#: runs one, and Mandarin that was merely slow still sounds Mandarin.
UNREADABLE_REASONS = ("low_confidence", "repetition", "prompt_echo", "timeout")


@dataclass(frozen=True)
class SpeechDialect:
    """One turn's judgement.

    Attributes:
        is_dialect: the turn is dialect speech the recogniser cannot read.
        code: ``shanghainese`` (the configured code) when ``is_dialect``,
            else ``mandarin``.
        confidence: how sure (0–1) the turn is dialect speech.
        p_zh: Whisper's P(zh) on the turn (None when not computed).
        top_language: Whisper's most likely language.
        evidence: the measurements behind it, for the case and the tests.
    """

    is_dialect: bool
    code: str
    confidence: float
    p_zh: float | None
    top_language: str | None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    source: str = "speech"

    def to_json(self) -> dict[str, Any]:
        """The contract's dialect object, ``source: speech``."""
        return {
            "code": self.code,
            "source": self.source,
            "confidence": round(self.confidence, 3),
            "markers": [],
            "p_zh": None if self.p_zh is None else round(self.p_zh, 4),
            "top_language": self.top_language,
        }


MANDARIN_SPEECH = SpeechDialect(False, "mandarin", 0.0, None, None)


def judge_speech(
    *,
    language_probs: Mapping[str, float],
    avg_logprob: float,
    no_speech_prob: float,
    unclear_reason: str | None,
    text_dialect: Normalised | None = None,
    settings: SpeechDialectSettings | None = None,
) -> SpeechDialect:
    """Judge one recognised turn: dialect speech, or not.

    Args:
        language_probs: Whisper's language-ID distribution (code → p).
        avg_logprob: the decode's mean token log-probability.
        no_speech_prob: Whisper's no-speech probability.
        unclear_reason: the ASR guards' reason, or None when the text is clear.
        text_dialect: the text-level dialect analysis of what was read.
        settings: thresholds.

    Returns:
        The judgement; :data:`MANDARIN_SPEECH`-like when any gate fails.
    """
    s = settings or SpeechDialectSettings()
    p_zh = float(language_probs.get("zh", 0.0)) if language_probs else None
    top = max(language_probs, key=lambda k: language_probs[k]) if language_probs else None
    wu_markers = (
        len(text_dialect.markers)
        if text_dialect is not None and text_dialect.dialect != "mandarin"
        else 0
    )
    evidence = {
        "p_zh": p_zh,
        "top_language": top,
        "avg_logprob": round(avg_logprob, 3),
        "no_speech_prob": round(no_speech_prob, 3),
        "unclear_reason": unclear_reason,
        "wu_markers": wu_markers,
    }

    def mandarin(why: str) -> SpeechDialect:
        return SpeechDialect(False, "mandarin", 0.0, p_zh, top, {**evidence, "gate": why})

    if not s.enabled:
        return mandarin("disabled")
    if p_zh is None:
        return mandarin("no_language_id")
    # A timed-out decode reports no_speech_prob 1.0 as a placeholder: the
    # VAD cut it as speech, and the language ID below still has to agree.
    if no_speech_prob > s.max_no_speech_prob and unclear_reason != "timeout":
        return mandarin("not_speech")
    if unclear_reason not in UNREADABLE_REASONS:
        return mandarin("readable")  # clear text, or nothing heard: never dialect
    if p_zh >= s.max_p_zh:
        return mandarin("sounds_mandarin")
    # Below the gate, the further P(zh) falls the surer; a decode that
    # could barely read anything (very low logprob, a loop) and Wu words in
    # what it read add to it.
    confidence = 0.55 + 0.35 * (s.max_p_zh - p_zh) / s.max_p_zh
    if unclear_reason in ("repetition", "prompt_echo") or avg_logprob < -0.6:
        confidence += 0.05
    if wu_markers:
        confidence += 0.05
    confidence = min(0.99, confidence)
    if confidence < s.min_confidence:
        return mandarin("low_confidence")
    return SpeechDialect(True, s.code, confidence, p_zh, top, evidence)
