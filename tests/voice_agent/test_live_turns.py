"""Turn-taking in the live STT service: speculation at pauses, ends that follow the words.

The service runs in a real pipecat pipeline (pipecat's ``run_test``); the
VAD's reports are sent as the frames the VAD would send, between 20 ms
audio frames, so the audio clock is exact. The recogniser is a stand-in
that reads which phrases are in the audio: each phrase is a constant tone
of its own level, so the text it returns is exactly what the turn holds,
and every decode is recorded.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.tests.utils import run_test

from voice_agent.case import TranscriptSegment
from voice_agent.live.session import RecognisedTurn
from voice_agent.live.stt import FrontDeskSTTService
from voice_agent.live.turn_end import EndOfTurnPolicy, sounds_complete

SR = 16_000
FRAME = SR // 50  # 20 ms
PHRASES = ["帮我查一下余额", "我想", "给我女儿", "汇一点钱过去", "我要挂失"]
CLOSING = ("帮我查一下余额", "汇一点钱过去")
POLICY = EndOfTurnPolicy(
    complete_pause_s=0.5, patient_pause_s=2.0, unsure_pause_s=1.5, rhythm_margin_s=0.4
)


def level(phrase: str) -> int:
    return 1000 * (PHRASES.index(phrase) + 1)


class PhraseRecogniser:
    """Stand-in ASR: the phrases present in the audio, in order."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.calls: list[str] = []
        self.hold = hold

    def __call__(self, samples: np.ndarray, start: float, end: float) -> TranscriptSegment:
        if self.hold is not None:
            self.hold.wait(5)
        pcm = np.round(samples * 32768).astype(int)
        text = ""
        for value in pcm[np.abs(pcm) >= 500]:
            phrase = PHRASES[round(abs(int(value)) / 1000) - 1]
            if not text.endswith(phrase):
                text += phrase
        self.calls.append(text)
        # Whisper closes a sentence it heard end (。), not a fragment.
        closed = text + "。" if text.endswith(CLOSING) else text
        return TranscriptSegment(
            start=start,
            end=end,
            text=closed,
            normalized_text=text,
            unclear=not text,
            avg_logprob=-0.1,
            no_speech_prob=0.0,
        )


def audio(seconds: float, value: int = 0) -> list[Frame]:
    chunk = np.full(FRAME, value, dtype="<i2").tobytes()
    return [
        InputAudioRawFrame(audio=chunk, sample_rate=SR, num_channels=1)
        for _ in range(round(seconds * 50))
    ]


def say(phrase: str, seconds: float = 0.8) -> list[Frame]:
    """Speech as the VAD reports it: speaking, the phrase, 0.3 s of silence, stopped."""
    return [
        VADUserStartedSpeakingFrame(start_secs=0.2),
        *audio(seconds, level(phrase)),
        *audio(0.3),
        VADUserStoppedSpeakingFrame(stop_secs=0.3),
    ]


def run(frames: list[Frame], recogniser: PhraseRecogniser) -> tuple[list[str], FrontDeskSTTService]:
    """Send the frames through the service in a pipeline; the transcripts pushed."""

    async def go() -> tuple[FrontDeskSTTService, Sequence[Frame]]:
        service = FrontDeskSTTService(recogniser, pause_secs=0.3, resume_secs=0.2, policy=POLICY)
        down, _up = await run_test(service, frames_to_send=frames)
        return service, down

    service, down = asyncio.run(go())
    texts = [f.text.rstrip("。") for f in down if isinstance(f, TranscriptionFrame)]
    for f in down:
        if isinstance(f, TranscriptionFrame):
            assert isinstance(f.result, RecognisedTurn)
    return texts, service


def test_a_complete_request_ends_after_a_short_pause_with_the_speculative_transcript() -> None:
    asr = PhraseRecogniser()
    texts, service = run([*say("帮我查一下余额"), *audio(0.4)], asr)
    assert texts == ["帮我查一下余额"]
    assert asr.calls == ["帮我查一下余额"]  # the guess was the transcript: no second decode
    ((silence, complete),) = service.stats.ends
    assert complete
    assert 0.5 <= silence < 0.6


def test_an_unfinished_phrase_is_not_answered_after_a_short_pause() -> None:
    asr = PhraseRecogniser()
    texts, service = run([*say("我想"), *audio(0.9)], asr)
    # Silence 0.3 + 0.9 = 1.2 s: not enough for "我想"; the call then ends,
    # and the turn in progress is still recognised (not lost).
    assert service.stats.ends == []
    assert texts == ["我想"]


def test_an_unfinished_phrase_ends_after_the_patient_pause() -> None:
    asr = PhraseRecogniser()
    texts, service = run([*say("我想"), *audio(1.9)], asr)
    ((silence, complete),) = service.stats.ends
    assert not complete
    assert silence >= POLICY.patient_pause_s
    assert texts == ["我想"]


def test_the_speculative_result_is_discarded_when_speech_resumes() -> None:
    asr = PhraseRecogniser()
    frames = [
        *say("我想"),
        *audio(0.9),  # a 1.2 s pause: the guess "我想" is ready, not yet answered
        *say("给我女儿"),
        *audio(1.0),
        *say("汇一点钱过去"),
        *audio(0.5),
    ]
    texts, service = run(frames, asr)
    assert asr.calls[:2] == ["我想", "我想给我女儿"]  # guesses made at each pause...
    assert service.stats.speculations == 3
    assert service.stats.discarded == 2  # ...and thrown away when the caller went on
    assert texts == ["我想给我女儿汇一点钱过去"]  # one turn, the phrases joined


def test_a_decode_still_running_when_speech_resumes_is_never_answered() -> None:
    hold = threading.Event()
    asr = PhraseRecogniser(hold)
    frames: list[Frame] = [
        *say("我想"),
        *audio(0.1),  # 0.4 s of silence: the guess is still decoding (held)...
        VADUserStartedSpeakingFrame(start_secs=0.2),  # ...when the caller goes on
        *audio(0.8, level("给我女儿")),
        *audio(0.3),
        VADUserStoppedSpeakingFrame(stop_secs=0.3),
        *audio(2.0),
    ]
    threading.Timer(0.5, hold.set).start()  # the held decode finishes later, unheard
    texts, service = run(frames, asr)
    assert service.stats.discarded == 1
    assert texts == ["我想给我女儿"]


def test_complete_sounding_words_left_open_by_whisper_wait_the_unsure_pause() -> None:
    # "我要挂失" sounds complete, but the stand-in (like Whisper on a fragment)
    # does not close it with 。: it waits the unsure pause (1.5 s here).
    assert sounds_complete("我要挂失")
    texts, service = run([*say("我要挂失"), *audio(1.0)], PhraseRecogniser())
    assert service.stats.ends == []  # 1.3 s of silence: not yet
    assert texts == ["我要挂失"]  # (recognised when the call ended)
    texts, service = run([*say("我要挂失"), *audio(1.4)], PhraseRecogniser())
    ((silence, complete),) = service.stats.ends
    assert complete
    assert silence >= POLICY.unsure_pause_s


def test_a_short_phrase_the_vad_does_not_report_is_joined_not_cut() -> None:
    # 0.3 s of speech in the pause, under the VAD's 0.25 s start plus its lag:
    # no VADUserStartedSpeakingFrame arrives, but the turn must not end on "我想".
    asr = PhraseRecogniser()
    frames = [*say("我想"), *audio(0.8), *audio(0.3, level("给我女儿")), *audio(2.2)]
    texts, service = run(frames, asr)
    assert texts == ["我想给我女儿"]
    assert service.stats.discarded == 1  # the guess "我想" did not hear the phrase
    assert service.stats.speculations == 2
    ((silence, _complete),) = service.stats.ends
    assert silence >= POLICY.patient_pause_s  # counted from the end of the short phrase


def test_a_pausing_speaker_gets_their_own_rhythm_before_a_complete_sounding_stretch() -> None:
    asr = PhraseRecogniser()
    # "我想" … 1.2 s … "给我女儿汇一点钱过去" sounds complete, but this caller
    # pauses 1.2 s: a 0.5 s pause does not end the turn, their rhythm does.
    frames = [*say("我想"), *audio(0.9), *say("汇一点钱过去"), *audio(1.5)]
    texts, service = run(frames, asr)
    ((silence, complete),) = service.stats.ends
    assert complete
    assert silence > 1.2
    assert texts == ["我想汇一点钱过去"]


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("帮我查一下余额", True),
        ("我要挂失", True),
        ("对", True),
        ("是的。", True),
        ("我想", False),
        ("我想…", False),
        ("给我女儿", False),
        ("我想给我女儿", False),
        ("我想给我女儿汇一点钱", True),
        ("帮我把", False),
        ("帮我把十万块", False),
        ("帮我把十万块存成一年定期", True),
        ("我的银行卡", False),
        ("我的银行卡丢了", True),
        ("请帮我查一下", False),
        ("我们要转账，", False),
        ("", False),
    ],
)
def test_sounds_complete(text: str, complete: bool) -> None:
    assert sounds_complete(text) is complete
