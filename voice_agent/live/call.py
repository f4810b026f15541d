"""One live call: a pipecat pipeline fed by the WebSocket route.

Design: the route reads the socket and pushes ``InputAudioRawFrame``s into
a ``PipelineWorker`` itself, rather than using pipecat's FastAPI websocket
transport with a serializer. Our protocol has a JSON handshake before any
audio (refused with a policy close when malformed), and the end of a call
must drain, not cancel: when the caller hangs up mid-sentence, the speech
in progress is still transcribed and saved. Owning the read loop makes
both explicit (the handshake is read before a pipeline exists; a drop is
followed by enough silence for the VAD to close the turn, then an
``EndFrame``, on which the STT service recognises the turn still open), whereas the transport
reports a disconnect as an event and leaves the session to be cancelled.
Everything after the socket is pipecat: Silero VAD (reporting pauses,
not the Smart Turn model, which was at chance on Mandarin), our STT
service (which recognises at the first short pause and decides from the
words how long a pause ends the turn: voice_agent.live.turn_end), and the
turn processor.

    audio → VADProcessor(Silero) → FrontDeskSTTService → TurnProcessor → session
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import EndFrame, ErrorFrame, Frame, InputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.workers.runner import WorkerRunner

from voice_agent.case import HandoffReason
from voice_agent.live.events import ErrorEvent
from voice_agent.live.heap import release_freed_memory
from voice_agent.live.session import CallSession, CallStart, Checkpoint, SaveCase, SendEvent
from voice_agent.live.stt import SAMPLE_RATE, FrontDeskSTTService, TurnProcessor
from voice_agent.live.turn_end import EndOfTurnPolicy
from voice_agent.settings import AudioSettings

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk

log = logging.getLogger(__name__)

#: One ASR queue per loaded engine, shared by every call (see FrontDeskSTTService).
_ASR_GATES: weakref.WeakKeyDictionary[object, asyncio.Semaphore] = weakref.WeakKeyDictionary()

#: 20 ms of 16-bit mono PCM at 16 kHz: the chunk size pushed into the pipeline.
CHUNK_BYTES = SAMPLE_RATE // 50 * 2


@dataclass(frozen=True)
class VadConfig:
    """Pause finding: how sure, how long speech must last, what a short pause is.

    ``stop_secs`` is the *first short pause*, where the turn so far is
    recognised speculatively; it no longer ends the turn. How much silence
    ends a turn depends on what was said (``policy``): a complete request
    after ``complete_pause_s``, an unfinished one after ``patient_pause_s``.
    """

    confidence: float = 0.5
    start_secs: float = 0.25
    stop_secs: float = 0.3
    min_volume: float = 0.3
    policy: EndOfTurnPolicy = field(default_factory=EndOfTurnPolicy)

    @classmethod
    def from_settings(cls, audio: AudioSettings) -> VadConfig:
        """The file pipeline's speech thresholds; the live call's own pauses."""
        return cls(confidence=audio.vad_threshold, start_secs=audio.min_speech_ms / 1000)


class LiveCall:
    """Owns one call's pipeline; the route feeds it audio and ends it.

    Args:
        frontdesk: the loaded system, shared by every call.
        save_case: stores the case in the tellers' queue.
        send: delivers events to the caller's page.
        start: the call's first frame.
        vad: turn-cutting thresholds; defaults to the frontdesk's settings.
        checkpoint: stores the case so far after every finished turn
            (:class:`CallSession`).

    Raises:
        InputError: for an unknown scenario.
    """

    def __init__(
        self,
        frontdesk: FrontDesk,
        save_case: SaveCase,
        send: SendEvent,
        start: CallStart,
        *,
        vad: VadConfig | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.session = CallSession(frontdesk, save_case, send, start, checkpoint)
        self.vad = vad or VadConfig.from_settings(frontdesk.settings.audio)
        self.max_seconds = frontdesk.settings.audio.max_seconds
        asr = frontdesk.settings.asr
        # As many turns in flight as the engine has decoders (asr.decoders).
        gate = _ASR_GATES.setdefault(frontdesk.asr, asyncio.Semaphore(asr.decoders))
        self._stt = FrontDeskSTTService(
            frontdesk.transcribe_span,
            gate=gate,
            model=asr.model,
            language=asr.language,
            pause_secs=self.vad.stop_secs,
            resume_secs=self.vad.start_secs,
            policy=self.vad.policy,
        )
        analyzer = SileroVADAnalyzer(
            sample_rate=SAMPLE_RATE,
            params=VADParams(
                confidence=self.vad.confidence,
                start_secs=self.vad.start_secs,
                stop_secs=self.vad.stop_secs,
                min_volume=self.vad.min_volume,
            ),
        )
        pipeline = Pipeline(
            [
                VADProcessor(vad_analyzer=analyzer),
                self._stt,
                TurnProcessor(self.session.on_turn),
            ]
        )
        self._worker = PipelineWorker(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE),
            # The route decides when a call is over, not an idle timer.
            idle_timeout_secs=None,
            enable_rtvi=False,
            enable_turn_tracking=False,
        )
        self._runner = WorkerRunner(handle_sigint=False)
        self._run_task: asyncio.Task[None] | None = None
        self._pending = b""
        self._bytes_fed = 0
        self._ended = False

        @self._worker.event_handler("on_pipeline_error")
        async def _on_error(_worker: PipelineWorker, frame: ErrorFrame) -> None:
            log.warning("live call pipeline error: %s", frame.error)
            await self.session.emit(ErrorEvent(f"speech recognition failed: {frame.error}"))

    @property
    def stt(self) -> FrontDeskSTTService:
        """The call's STT service (its turn statistics are read by benchmarks)."""
        return self._stt

    @property
    def handed_over(self) -> asyncio.Event:
        """Set once the case is in the tellers' queue."""
        return self.session.handed_over

    async def start(self, timeout_s: float = 10.0) -> None:
        """Start the pipeline and greet the caller."""
        started = asyncio.Event()

        @self._worker.event_handler("on_pipeline_started")
        async def _on_started(_worker: PipelineWorker, _frame: Frame) -> None:
            started.set()

        await self._runner.add_workers(self._worker)
        self._run_task = asyncio.create_task(self._runner.run())
        await asyncio.wait_for(started.wait(), timeout_s)
        await self.session.open()

    async def feed(self, pcm: bytes) -> None:
        """Push caller audio (16 kHz mono s16le, any chunking) into the pipeline."""
        if self._ended or self.handed_over.is_set():
            return
        data = self._pending + pcm
        usable = len(data) - len(data) % CHUNK_BYTES
        self._pending = data[usable:]
        for i in range(0, usable, CHUNK_BYTES):
            await self._push(data[i : i + CHUNK_BYTES])
        if self._bytes_fed / 2 / SAMPLE_RATE > self.max_seconds:
            await self.session.emit(
                ErrorEvent(f"call longer than {self.max_seconds:.0f} s: handing over to a teller")
            )
            await self.finish(disconnected=False)

    async def _push(self, chunk: bytes, *, caller: bool = True) -> None:
        if caller:  # the closing silence is ours, not the caller's audio
            self._bytes_fed += len(chunk)
            self.session.audio_seconds = self._bytes_fed / 2 / SAMPLE_RATE
        await self._worker.queue_frame(
            InputAudioRawFrame(audio=chunk, sample_rate=SAMPLE_RATE, num_channels=1)
        )

    async def finish(
        self,
        *,
        disconnected: bool,
        reason: HandoffReason = "caller_hangup",
        timeout_s: float = 60.0,
    ) -> None:
        """End the call, transcribing what was said, and save the case.

        Args:
            disconnected: the caller went away before the handoff. Then the
                utterance in progress is closed with silence (so the VAD ends
                the turn and it is transcribed), and the case is marked
                disconnected.
            reason: the handoff reason when the dialogue had not handed over
                (``system_interrupted`` when the server is draining).
            timeout_s: how long to wait for the pipeline to drain.
        """
        if self._ended:
            return
        self._ended = True
        if not self.handed_over.is_set():
            self.session.disconnected = disconnected
            if self._pending:
                await self._push(self._pending.ljust(CHUNK_BYTES, b"\0"))
                self._pending = b""
            # Enough silence for the VAD to report the pause; the STT service
            # recognises a turn still open when the pipeline ends.
            silence = bytes(CHUNK_BYTES)
            for _ in range(int((self.vad.stop_secs + 0.3) * 50)):
                await self._push(silence, caller=False)
        await self._worker.queue_frame(EndFrame())
        if self._run_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._run_task), timeout_s)
            except TimeoutError:
                log.warning("live call did not drain in %.0f s; cancelling", timeout_s)
                await self._worker.cancel()
                await self._run_task
        # Reached only when the dialogue did not hand over first: the caller hung up.
        await asyncio.to_thread(self.session.close_case, reason)
        # The call's buffers are freed now; hand their pages back (voice_agent.live.heap).
        await asyncio.to_thread(release_freed_memory)
