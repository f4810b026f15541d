"""Speech recognition: one swappable engine interface and its Whisper implementation.

Whisper has no Wu (Shanghainese) language, so the engine sits behind the
small :class:`AsrEngine` protocol: a Wu-capable model can replace it without
touching the rest of the call. :class:`WhisperEngine` uses the decoding
settings measured best in ../shared/docs/speech-notes.md (language zh, beam 1, int8,
a banking prompt, no conditioning on previous text, temperature 0 only) and
adds guards, because a wrong transcript that *looks* like a request
is worse than asking the customer to repeat:

1. a confidence rule on ``avg_logprob`` / ``no_speech_prob``;
2. detectors for the prompt echoed back and for decoding loops
   (:mod:`voice_agent.asr_guards`);
3. a hard decode timeout.

Nothing is ever dropped silently: low-confidence text is kept and marked
``unclear`` (pipecat's WhisperSTTService drops segments with
``no_speech_prob >= 0.4``; a fraud sentence was lost that way).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from models.errors import ModelError
from models.text import to_simplified
from models.whisper_assets import load_whisper, resolve_asr_model
from voice_agent.asr_guards import judge
from voice_agent.asr_window import FULL_WINDOW_S, WindowedDecoder, encoder_window_s
from voice_agent.audio import SAMPLE_RATE
from voice_agent.settings import AsrSettings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


# Decoding length bound. Mandarin runs at up to ~6 characters a second and
# Whisper spends 1–2 tokens a character; on noise Whisper loops ("对话对话…")
# until the 448-token limit, which took 2.9 s on a 2 s clip. Bounding the
# tokens by the audio length keeps a loop as short as the speech could be.
TOKENS_PER_SECOND = 12
MIN_NEW_TOKENS = 24
# The prompt may take up to 223 tokens of Whisper's 448; 220 always fits.
MAX_NEW_TOKENS = 220

# avg_logprob reported when nothing was decoded (timeout, no segments): a
# finite floor, far below any real score (Whisper's rarely go under -2), so
# the result still serialises as valid JSON (no -Infinity).
NO_TOKENS_LOGPROB = -10.0

__all__ = [
    "AsrEngine",
    "AsrResult",
    "AsrSegment",
    "WhisperEngine",
]


@dataclass(frozen=True)
class AsrSegment:
    """One decoded stretch of an utterance, with Whisper's own confidences."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class AsrResult:
    """The transcript of one utterance and how much to trust it.

    Attributes:
        text: Simplified-Chinese transcript (kept even when ``unclear``).
        segments: The decoded segments, in order.
        avg_logprob: Token-weighted mean log-probability over the segments.
        no_speech_prob: Highest no-speech probability among the segments.
        unclear: True when the text should not be acted on; ask to repeat.
        reason: Why it is unclear (``low_confidence``, ``no_speech``,
            ``prompt_echo``, ``repetition``, ``empty``, ``timeout``), else None.
        decode_ms: Wall time of the decode (or of the wait, on timeout).
        options: The engine and decoding settings used, so a run can be reproduced.
    """

    text: str
    segments: tuple[AsrSegment, ...]
    avg_logprob: float
    no_speech_prob: float
    unclear: bool
    reason: str | None
    decode_ms: int
    # A plain dict typed read-only: json.dumps and dataclasses.asdict both
    # handle it, which a MappingProxyType would break.
    options: Mapping[str, object] = field(default_factory=dict)
    #: Whisper's language-ID distribution over the turn (code → probability,
    #: e.g. {"zh": 0.99, "ja": 0.004}); empty when it was not computed.
    #: Read by the dialect-speech judgement (voice_agent.speech_dialect).
    language_probs: Mapping[str, float] = field(default_factory=dict)
    #: Highest segment compression ratio (Whisper's repetition measure).
    compression_ratio: float = 0.0


class AsrEngine(Protocol):
    """Anything that turns 16 kHz mono float32 speech into an :class:`AsrResult`."""

    name: str

    def transcribe(self, samples: np.ndarray) -> AsrResult:
        """Transcribe one utterance (a VAD-cut turn)."""
        ...


class WhisperEngine:
    """faster-whisper with the measured-best settings, the guards and a right-sized window.

    Decoding runs on dedicated worker threads, one per decoder
    (``asr.decoders``, CTranslate2 workers sharing the weights), so that a
    decode can be abandoned after ``decode_timeout_s``. Python cannot kill a
    thread: an abandoned decode keeps running in the background until it
    finishes (or until the next segment boundary, where it checks a stop
    flag). Because the workers are as many as the decoders, abandoned decodes
    cannot pile up: a new request that finds every worker still busy waits at
    most its own timeout and, if they are still busy, is itself reported as
    ``timeout`` and cancelled before it starts. CPU use is therefore bounded
    by one decode per decoder.

    Callers on several threads (the server's upload handlers, live calls) take
    turns through a semaphore *before* the clock starts, so waiting behind
    other callers' speech never counts as a timeout: the timeout measures this
    caller's decode, plus at most one abandoned decode still finishing.
    """

    def __init__(
        self,
        model: WhisperModel,
        settings: AsrSettings,
        model_ref: str,
    ) -> None:
        """Wrap an already loaded model; prefer :meth:`from_settings`."""
        self._model = model
        self._settings = settings
        self.name = f"whisper:{Path(model_ref).name or model_ref}:{settings.compute_type}"
        # One worker thread per decoder (CTranslate2 worker): a decode can run
        # on each at once, and abandoned decodes cannot pile up beyond them.
        self.decoders = max(1, settings.decoders)
        self._executor = ThreadPoolExecutor(
            max_workers=self.decoders, thread_name_prefix="asr-decode"
        )
        self._turn = threading.BoundedSemaphore(self.decoders)
        self._kwargs: dict[str, Any] = {
            "language": settings.language,
            "task": "transcribe",
            "beam_size": settings.beam_size,
            # Temperature 0 only: fallback loops took 20–34 s on unintelligible
            # clips (speech-notes.md); asking to repeat is faster.
            "temperature": 0.0,
            "condition_on_previous_text": False,
            "initial_prompt": settings.initial_prompt or None,
            # Our VAD has already cut the turn; a second VAD pass costs time.
            "vad_filter": False,
            # Never let faster-whisper drop a segment as "no speech": we keep
            # the text and mark it unclear instead.
            "no_speech_threshold": None,
            "without_timestamps": True,
        }
        # A right-sized encoder window (voice_agent.asr_window) for turns that
        # fit one; faster-whisper's own 30 s path for the rest.
        self._windowed = WindowedDecoder(
            model, settings.language, settings.beam_size, settings.initial_prompt or None
        )
        self.options: Mapping[str, object] = {
            "engine": "faster-whisper",
            "model": model_ref,
            "compute_type": settings.compute_type,
            "cpu_threads": settings.cpu_threads,
            "decoders": settings.decoders,
            "decode_timeout_s": settings.decode_timeout_s,
            "min_avg_logprob": settings.min_avg_logprob,
            "max_no_speech_prob": settings.max_no_speech_prob,
            "min_encoder_window_s": settings.encoder_window_s,
            "encoder_window_margin_s": settings.encoder_window_margin_s,
            "t2s": True,
            **self._kwargs,
        }

    @classmethod
    def from_settings(cls, asr: AsrSettings, cache_dir: Path) -> WhisperEngine:
        """Resolve (assembling if needed) and load the configured model.

        Raises:
            ModelError: The model cannot be found, assembled or loaded.
        """
        ref = resolve_asr_model(asr.model, cache_dir)
        model = load_whisper(ref, asr.compute_type, asr.cpu_threads, asr.decoders)
        return cls(model, asr, ref)

    def transcribe(self, samples: np.ndarray) -> AsrResult:
        """Transcribe one utterance of 16 kHz mono float32 samples.

        Returns an ``unclear`` result with reason ``timeout`` when the decode
        takes longer than ``decode_timeout_s``; never raises for bad speech.

        Raises:
            ModelError: The model itself failed (not the audio).
        """
        with self._turn:
            return self._transcribe(samples)

    def _transcribe(self, samples: np.ndarray) -> AsrResult:
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        t0 = time.perf_counter()
        speech_s = min(len(audio) / SAMPLE_RATE, 30.0)  # the bound applies per 30 s window
        max_new = min(MAX_NEW_TOKENS, MIN_NEW_TOKENS + math.ceil(TOKENS_PER_SECOND * speech_s))
        window_s = self.window_for(len(audio) / SAMPLE_RATE)
        options = {**self.options, "max_new_tokens": max_new, "encoder_window_s": window_s}
        stop = threading.Event()  # per call: a new call must not un-stop an abandoned one
        future: Future[list[Any]] = self._executor.submit(
            self._decode, audio, max_new, window_s, stop
        )
        try:
            raw = future.result(timeout=self._settings.decode_timeout_s)
        except FutureTimeout:
            # Not started yet (worker busy with an abandoned decode): never start.
            # Started: ask it to stop at the next segment boundary.
            if not future.cancel():
                stop.set()
            return AsrResult(
                text="",
                segments=(),
                avg_logprob=NO_TOKENS_LOGPROB,
                no_speech_prob=1.0,
                unclear=True,
                reason="timeout",
                decode_ms=_ms(t0),
                options=options,
            )
        except Exception as exc:  # CTranslate2 reports model faults as RuntimeError
            raise ModelError(f"ASR decode failed in {self.name}: {exc}") from exc
        return self._result(raw, _ms(t0), options)

    def window_for(self, duration_s: float) -> float:
        """The encoder window (s) a turn of ``duration_s`` seconds is decoded in."""
        s = self._settings
        return encoder_window_s(duration_s, s.encoder_window_s, s.encoder_window_margin_s)

    def _decode(
        self, audio: np.ndarray, max_new: int, window_s: float, stop: threading.Event
    ) -> list[Any]:
        if window_s < FULL_WINDOW_S:
            seg = self._windowed.decode(audio, window_s, max_new)
            return [seg] if seg.text.strip() else []  # as faster-whisper skips empty ones
        segments, _info = self._model.transcribe(audio, max_new_tokens=max_new, **self._kwargs)
        out = []
        for seg in segments:  # decoding happens lazily, window by window
            out.append(seg)
            if stop.is_set():
                break
        return out

    def _result(
        self, raw: Sequence[Any], decode_ms: int, options: Mapping[str, object]
    ) -> AsrResult:
        segments = tuple(
            AsrSegment(
                start=float(s.start),
                end=float(s.end),
                text=to_simplified(s.text.strip()),
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
            )
            for s in raw
        )
        weights = [max(1, len(s.tokens)) for s in raw]
        if segments:
            avg_logprob = float(np.average([s.avg_logprob for s in segments], weights=weights))
            no_speech = max(s.no_speech_prob for s in segments)
            compression = max(s.compression_ratio for s in segments)
        else:
            avg_logprob, no_speech, compression = NO_TOKENS_LOGPROB, 1.0, 0.0
        text = "".join(s.text for s in segments).strip()
        reason = judge(text, avg_logprob, no_speech, compression, self._settings)
        # The windowed decoder runs language ID on the encoder output it
        # already has (one decoder step); faster-whisper's 30 s path does not.
        language: dict[str, float] = {}
        for s in raw:
            language = dict(getattr(s, "language_probs", ()) or ()) or language
        return AsrResult(
            text=text,
            segments=segments,
            avg_logprob=avg_logprob,
            no_speech_prob=no_speech,
            unclear=reason is not None,
            reason=reason,
            decode_ms=decode_ms,
            options=options,
            language_probs=language,
            compression_ratio=compression,
        )

    def detect_language(self, samples: np.ndarray) -> dict[str, float]:
        """Whisper's language-ID distribution for one turn (code → probability).

        For results without :attr:`AsrResult.language_probs` (the 30 s
        path): one encoder pass in the turn's window plus one decoder step.
        """
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        audio = audio[: int(FULL_WINDOW_S * SAMPLE_RATE)]
        with self._turn:
            window_s = self.window_for(len(audio) / SAMPLE_RATE)
            features = self._windowed.features(audio, window_s)
            encoded = self._model.encode(features)
            pairs = self._model.model.detect_language(encoded)[0]
        return {token.strip("<|>"): float(p) for token, p in pairs}

    def close(self) -> None:
        """Stop the worker thread (waits for a running decode to finish)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _ms(t0: float) -> int:
    return round((time.perf_counter() - t0) * 1000)
