"""Our ASR engine as a pipecat STT service that decides when a turn ends.

pipecat's own ``WhisperSTTService`` silently drops segments whose
``no_speech_prob`` is at least 0.4 (a fraud sentence was lost that way,
speech-notes.md) and exposes none of the decoding options we measured, so
the service wraps ``FrontDesk.transcribe_span``: the CLI and the live call
share one configuration, and an unclear result becomes an unclear turn
(the caller is asked again) instead of vanishing.

Turn-taking (issue 13), on the audio clock:

1. The VAD reports the *first short pause* (``VADUserStoppedSpeakingFrame``
   after ~0.3 s of silence). The turn so far is recognised at once, in a
   thread: a speculative decode.
2. If the caller speaks again before the turn ends, the guess is thrown
   away (cancelled if it has not started) and the turn goes on: the next
   pause recognises all of it, the earlier phrases joined with the new.
   "Speaks again" is the VAD's report, or sound in the pause loud enough
   to be a short phrase the VAD does not report (一个, 丢了: under its
   0.25 s minimum).
3. Otherwise the guess decides how long a silence ends the turn
   (:mod:`voice_agent.live.turn_end`): short after a complete request,
   patient after an unfinished one. When that silence has passed and the
   guess is ready, the guess *is* the transcript: no decode is left to do
   at the end of the turn.

A turn is never answered before it ends, so a phrase the VAD cut too early
is always joined with what follows it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import STTService
from pipecat.utils.time import time_now_iso8601

from voice_agent.audio import SAMPLE_RATE, pcm16_to_float
from voice_agent.case import TranscriptSegment
from voice_agent.live.session import RecognisedTurn
from voice_agent.live.turn_end import EndOfTurnPolicy, closes_sentence, sounds_complete

BYTES_PER_S = SAMPLE_RATE * 2
#: During a pause, a 20 ms frame this loud (RMS, full scale 1.0) and this many
#: times the pause's noise floor is speech the VAD may not report: Silero
#: needs ``start_secs`` (0.25 s) of speech, and elderly callers' short
#: phrases (一个, 丢了: 0.2-0.5 s) went unreported, so the pause looked 2.7 s
#: long and the turn was cut.
SOUND_RMS = 0.015
SOUND_OVER_FLOOR = 4.0
SOUND_FRAMES = 2

#: (samples, start_s, end_s) → the recognised, dialect-normalised turn. Blocking.
Transcribe = Callable[[np.ndarray, float, float], TranscriptSegment]


@dataclass
class Speculation:
    """A decode of the turn so far, started at a pause.

    Attributes:
        covers_bytes: how much of the turn's audio it heard.
        task: the decode (segment, decode ms); cancelled when discarded.
    """

    covers_bytes: int
    task: asyncio.Task[tuple[TranscriptSegment, int]]


@dataclass
class TurnStats:
    """What the service did, for tests and benchmarks."""

    speculations: int = 0
    discarded: int = 0
    turns: int = 0
    #: per turn: silence (s) that ended it, and whether its text sounded complete
    ends: list[tuple[float, bool]] = field(default_factory=list)


class FrontDeskSTTService(STTService):
    """Recognises each turn with the configured ASR engine, speculatively.

    Args:
        transcribe: blocking recogniser (``FrontDesk.transcribe_span``).
        gate: shared by every call of one engine. The engine decodes one
            segment at a time and counts queueing against its decode
            timeout, so with several callers a turn could be reported as
            timed out only because others were speaking. Waiting here, on
            the event loop, keeps the timeout for decoding alone.
        model: the ASR model's name, for pipecat's metrics and logs only.
        language: the decoding language, likewise informational.
        pause_secs: the VAD's stop_secs: silence already passed when the
            VAD reports a pause.
        resume_secs: the VAD's start_secs: speech already under way when
            it reports speech again.
        policy: how much silence ends a turn.
        trailing_silence_secs: digital silence appended so Whisper hears
            the end of the last word.
    """

    def __init__(
        self,
        transcribe: Transcribe,
        *,
        gate: asyncio.Semaphore | None = None,
        model: str | None = None,
        language: str | None = None,
        pause_secs: float = 0.3,
        resume_secs: float = 0.2,
        policy: EndOfTurnPolicy | None = None,
        trailing_silence_secs: float = 0.2,
    ) -> None:
        super().__init__(
            sample_rate=SAMPLE_RATE,
            settings=STTSettings(model=model, language=language),
            ttfs_p99_latency=1.2,
        )
        self._transcribe = transcribe
        self._gate = gate or asyncio.Semaphore(1)
        self._pause_s = pause_secs
        self._resume_s = resume_secs
        self.policy = policy or EndOfTurnPolicy()
        self._trailing = bytes(int(SAMPLE_RATE * trailing_silence_secs) * 2)
        self._samples_seen = 0
        self._buffer = bytearray()  # the turn's audio (or pre-roll between turns)
        self._in_turn = False
        self._speaking = False
        self._turn_start_s = 0.0
        self._pause_start_s: float | None = None  # call time the current pause began
        self._longest_pause_s = 0.0
        self._speculation: Speculation | None = None
        # Sound inside a pause that the VAD did not report (see SOUND_RMS).
        self._floor = 1.0
        self._loud_run = 0
        self._heard_at_s: float | None = None  # when unreported sound began
        self._last_sound_s = 0.0
        self.stats = TurnStats()

    @property
    def samples_seen(self) -> int:
        """Audio samples received so far in the call."""
        return self._samples_seen

    def can_generate_metrics(self) -> bool:
        """TTFB is worth measuring."""
        return True

    # -- frames -----------------------------------------------------------------

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Follow the VAD's speech/pause reports, then let the base class route audio."""
        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._on_speech()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._on_pause()
        await super().process_frame(frame, direction)

    async def process_audio_frame(
        self, frame: InputAudioRawFrame, direction: FrameDirection
    ) -> None:
        """Buffer the audio and end the turn once its pause is long enough."""
        self._samples_seen += frame.num_frames
        self._buffer += frame.audio
        if not self._in_turn and len(self._buffer) > BYTES_PER_S:
            del self._buffer[: len(self._buffer) - BYTES_PER_S]  # 1 s of pre-roll
        if self._in_turn and not self._speaking and self._pause_start_s is not None:
            self._listen_in_pause(frame.audio)
        await self._maybe_end_turn()

    def _listen_in_pause(self, pcm: bytes) -> None:
        """Catch speech inside a pause that the VAD does not report.

        Sound there makes the guess stale (it did not hear it) and restarts
        the pause; once quiet again for ``pause_secs``, the turn so far is
        guessed again, as at a VAD pause.
        """
        rms = float(np.sqrt(np.mean(pcm16_to_float(pcm) ** 2))) if pcm else 0.0
        loud = rms >= SOUND_RMS and rms >= SOUND_OVER_FLOOR * self._floor
        self._floor = min(self._floor, max(rms, 1e-4))
        self._loud_run = self._loud_run + 1 if loud else 0
        if self._loud_run >= SOUND_FRAMES:
            if self._heard_at_s is None:
                self._heard_at_s = self._now_s - SOUND_FRAMES * 0.02
                pause = self._heard_at_s - (self._pause_start_s or self._heard_at_s)
                self._longest_pause_s = max(self._longest_pause_s, pause)
                self._discard()
            self._last_sound_s = self._now_s
        elif self._heard_at_s is not None and self._now_s - self._last_sound_s >= self._pause_s:
            self._heard_at_s = None
            self._start_speculation(pause_start_s=self._last_sound_s)

    async def stop(self, frame: EndFrame) -> None:
        """End of call: the turn in progress is recognised and pushed, not lost."""
        if self._in_turn:
            await self._end_turn(final=True)
        await super().stop(frame)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Recognise raw PCM as one turn (pipecat's entry point; turns use speculation)."""
        segment, ms = await self._recognise(audio, 0.0, len(audio) / BYTES_PER_S)
        yield self._frame(segment, ms)

    # -- turn-taking ------------------------------------------------------------

    @property
    def _now_s(self) -> float:
        return self._samples_seen / SAMPLE_RATE

    def _on_speech(self) -> None:
        self._speaking = True
        if not self._in_turn:
            self._in_turn = True
            self._turn_start_s = max(0.0, self._now_s - len(self._buffer) / BYTES_PER_S)
            self._longest_pause_s = 0.0
            return
        if self._pause_start_s is not None:  # the caller went on: the pause was mid-turn
            resumed = self._heard_at_s or self._now_s - self._resume_s
            self._longest_pause_s = max(self._longest_pause_s, resumed - self._pause_start_s)
            self._pause_start_s = None
        self._heard_at_s = None
        self._discard()

    def _on_pause(self) -> None:
        self._speaking = False
        if not self._in_turn:
            return
        self._start_speculation(pause_start_s=self._now_s - self._pause_s)

    def _start_speculation(self, pause_start_s: float) -> None:
        self._pause_start_s = max(self._turn_start_s, pause_start_s)
        self._floor = 1.0
        self._loud_run = 0
        self._heard_at_s = None
        self._discard()
        pcm = bytes(self._buffer)
        task = asyncio.get_running_loop().create_task(
            self._recognise(pcm + self._trailing, self._turn_start_s, self._pause_start_s)
        )
        self._speculation = Speculation(covers_bytes=len(pcm), task=task)
        self.stats.speculations += 1

    def _discard(self) -> None:
        if self._speculation is not None:
            self._speculation.task.cancel()  # a decode already running finishes unheard
            self._speculation = None
            self.stats.discarded += 1

    async def _maybe_end_turn(self) -> None:
        spec = self._speculation
        if not self._in_turn or self._speaking or spec is None or self._pause_start_s is None:
            return  # (no guess while unreported sound goes on: it was discarded)
        silence = self._now_s - self._pause_start_s
        if not spec.task.done():
            if silence < self.policy.complete_pause_s:
                return
            # The shortest pause has passed and the guess is not ready: wait for
            # it here, holding the audio (it queues upstream, nothing is lost),
            # so the decision is the one a real-time caller gets, whatever the
            # decode time, and a resumed speech frame cannot overtake it.
            await asyncio.wait({spec.task})
        if spec.task.cancelled():
            return
        if spec.task.exception() is not None:
            await self._end_turn(final=False)  # report the failure as the turn's result
            return
        segment, _ms = spec.task.result()
        complete = not segment.unclear and sounds_complete(segment.normalized_text or segment.text)
        closed = closes_sentence(segment.text)
        if silence >= self.policy.required_pause_s(complete, self._longest_pause_s, closed):
            self.stats.ends.append((silence, complete))
            await self._end_turn(final=False)

    async def _end_turn(self, *, final: bool) -> None:
        """Push the turn's transcript: the speculation's, or a fresh decode."""
        spec, self._speculation = self._speculation, None
        end_s = self._pause_start_s if self._pause_start_s is not None else self._now_s
        pcm = bytes(self._buffer)
        self._in_turn = False
        self._speaking = False
        self._pause_start_s = None
        if len(self._buffer) > BYTES_PER_S:
            del self._buffer[: len(self._buffer) - BYTES_PER_S]
        try:
            if spec is not None and not spec.task.cancelled():
                segment, ms = await spec.task
            else:  # the call ended mid-phrase: recognise what there is
                segment, ms = await self._recognise(pcm + self._trailing, self._turn_start_s, end_s)
        except Exception as e:
            await self.push_error(f"{self}: transcription failed: {e}", exception=e)
            return
        self.stats.turns += 1
        await self.push_frame(self._frame(segment, ms))

    async def _recognise(
        self, pcm: bytes, start_s: float, end_s: float
    ) -> tuple[TranscriptSegment, int]:
        samples = pcm16_to_float(pcm)
        async with self._gate:
            t0 = time.perf_counter()
            segment = await asyncio.to_thread(self._transcribe, samples, start_s, end_s)
        return segment, round((time.perf_counter() - t0) * 1000)

    @staticmethod
    def _frame(segment: TranscriptSegment, asr_ms: int) -> TranscriptionFrame:
        frame = TranscriptionFrame(
            text=segment.text,
            user_id="customer",
            timestamp=time_now_iso8601(),
            result=RecognisedTurn(segment=segment, asr_ms=asr_ms),
        )
        frame.finalized = True
        return frame


class TurnProcessor(FrameProcessor):
    """Hands each recognised turn to the call's session (understanding + dialogue).

    Turns are handled one at a time in arrival order; the understanding runs
    in a thread inside the session, so other calls keep going meanwhile.
    """

    def __init__(self, on_turn: Callable[[RecognisedTurn], Awaitable[None]]) -> None:
        super().__init__()
        self._on_turn = on_turn

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Consume transcriptions; pass every other frame on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, TranscriptionFrame) and isinstance(frame.result, RecognisedTurn):
            await self._on_turn(frame.result)
        else:
            await self.push_frame(frame, direction)
