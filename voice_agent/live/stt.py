"""Our ASR engine as a pipecat STT service, and the processor after it.

pipecat's own ``WhisperSTTService`` silently drops segments whose
``no_speech_prob`` is at least 0.4 (a fraud sentence was lost that way,
speech-notes.md) and exposes none of the decoding options we measured, so
we subclass ``SegmentedSTTService`` around ``FrontDesk.transcribe_span``:
the CLI and the live call share one configuration, and an unclear result
becomes an unclear turn (the caller is asked again) instead of vanishing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable

import numpy as np
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.utils.time import time_now_iso8601

from voice_agent.audio import pcm16_to_float
from voice_agent.case import TranscriptSegment
from voice_agent.live.session import RecognisedTurn

SAMPLE_RATE = 16_000

#: (samples, start_s, end_s) → the recognised, dialect-normalised turn. Blocking.
Transcribe = Callable[[np.ndarray, float, float], TranscriptSegment]


class FrontDeskSTTService(SegmentedSTTService):
    """Transcribes each VAD-cut turn with the configured ASR engine.

    The base class buffers audio (with a second of pre-roll) while the VAD
    says the caller speaks, and queues the segment when the VAD says they
    stopped; one background task transcribes queued segments in order, so
    audio keeps flowing while Whisper works. Decoding runs in a thread so
    several calls share the event loop.

    Args:
        transcribe: blocking recogniser (``FrontDesk.transcribe_span``).
        gate: shared by every call of one engine. The engine decodes one
            segment at a time and counts queueing against its decode
            timeout, so with several callers a turn could be reported as
            timed out (unclear: "please repeat") only because others were
            speaking. Waiting here, on the event loop, keeps the timeout
            for decoding alone.
        model: the ASR model's name, for pipecat's metrics and logs only
            (decoding options live in our engine, not in pipecat settings).
        language: the decoding language, likewise informational.
        trailing_silence_secs: silence appended so Whisper hears the end of
            the last word.
    """

    def __init__(
        self,
        transcribe: Transcribe,
        *,
        gate: asyncio.Semaphore | None = None,
        model: str | None = None,
        language: str | None = None,
        trailing_silence_secs: float = 0.3,
    ) -> None:
        super().__init__(
            sample_rate=SAMPLE_RATE,
            trailing_silence_secs=trailing_silence_secs,
            settings=STTSettings(model=model, language=language),
            # Measured VAD stop → transcript on 2 cores (speech-notes.md).
            ttfs_p99_latency=1.2,
        )
        self._transcribe = transcribe
        self._gate = gate or asyncio.Semaphore(1)
        self._trailing_s = trailing_silence_secs
        self._samples_seen = 0
        # Call time (s) of each VAD stop whose segment is queued, oldest first:
        # the base class queues segments in the same order.
        self._stops: deque[float] = deque()

    @property
    def wants_wav_segments(self) -> bool:
        """Our engine reads raw 16-bit PCM."""
        return False

    @property
    def samples_seen(self) -> int:
        """Audio samples received so far in the call."""
        return self._samples_seen

    def can_generate_metrics(self) -> bool:
        """TTFB (VAD stop → transcript) is worth measuring."""
        return True

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Track call time, then let the base class buffer and segment."""
        if isinstance(frame, InputAudioRawFrame):
            self._samples_seen += frame.num_frames
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._stops.append(self._samples_seen / SAMPLE_RATE)
        await super().process_frame(frame, direction)

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame | None, None]:
        """Recognise one segment (raw PCM plus trailing silence)."""
        end = self._stops.popleft() if self._stops else self._samples_seen / SAMPLE_RATE
        start = max(0.0, end - (len(audio) / 2 / SAMPLE_RATE - self._trailing_s))
        samples = pcm16_to_float(audio)
        t0 = time.perf_counter()
        async with self._gate:
            segment = await asyncio.to_thread(self._transcribe, samples, start, end)
        asr_ms = round((time.perf_counter() - t0) * 1000)
        yield TranscriptionFrame(
            text=segment.text,
            user_id="customer",
            timestamp=time_now_iso8601(),
            result=RecognisedTurn(segment=segment, asr_ms=asr_ms),
        )


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
