"""Find the speech in a recording with Silero VAD, so ASR sees only turns.

Whisper pads every input to a 30 s window and, on silence or noise, invents
text or echoes its prompt. Cutting the recording to speech first avoids
both and lets one request be one turn. The model is the ONNX file bundled
in the ``silero-vad`` wheel: no download, ~0.15 ms per 32 ms chunk.

Side effect worth knowing: ``import silero_vad`` calls
``torch.set_num_threads(1)`` for the whole process. We import it lazily and
restore the previous thread count, so other torch users (a transformers
intent classifier) keep their threads.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.errors import ModelError
from voice_agent.audio import SAMPLE_RATE
from voice_agent.settings import AudioSettings

MERGE_GAP_S = 0.6
"""Spans closer than this are one turn: an elderly caller pausing mid-sentence."""


@dataclass(frozen=True)
class SpeechSpan:
    """One stretch of speech, in seconds from the start of the recording."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        """Length of the span in seconds."""
        return self.end_s - self.start_s


def _load_silero() -> tuple[Any, Any]:
    """Import silero_vad without letting it change torch's thread count."""
    import torch

    threads = torch.get_num_threads()
    try:
        import silero_vad

        with warnings.catch_warnings():  # silero-vad 6.2 uses importlib.resources.path
            warnings.simplefilter("ignore", DeprecationWarning)
            model = silero_vad.load_silero_vad(onnx=True)
    except Exception as exc:  # ImportError, onnxruntime errors, missing package data
        raise ModelError(
            f"Cannot load the Silero VAD model: {exc}. Fix: pip install silero-vad==6.2.3"
        ) from exc
    finally:
        torch.set_num_threads(threads)
    return model, silero_vad.get_speech_timestamps


class SpeechDetector:
    """Silero VAD with Front Desk's settings, loaded once and shared.

    Thread-safe: the ONNX model keeps recurrent state between chunks, so
    calls are serialised with a lock (a call takes milliseconds).
    """

    def __init__(self, settings: AudioSettings, merge_gap_s: float = MERGE_GAP_S) -> None:
        """Load the model.

        Args:
            settings: Threshold, minimum silence, padding and minimum speech length.
            merge_gap_s: Spans separated by less silence than this are merged.

        Raises:
            ModelError: silero-vad is not installed or its model cannot load.
        """
        self._settings = settings
        self._merge_gap_s = merge_gap_s
        self._model, self._get_speech_timestamps = _load_silero()
        self._lock = threading.Lock()

    def speech_spans(self, samples: np.ndarray) -> tuple[SpeechSpan, ...]:
        """Return the speech spans of 16 kHz mono float32 ``samples``, in order.

        Spans include ``speech_pad_ms`` of padding each side (clipped to the
        recording) and are merged when the gap between them is shorter than
        ``merge_gap_s``. An empty tuple means silence or noise only.
        """
        import torch

        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if len(audio) < 512:  # shorter than one Silero chunk (32 ms): no speech possible
            return ()
        s = self._settings
        with self._lock, torch.inference_mode():
            stamps = self._get_speech_timestamps(
                torch.from_numpy(audio),
                self._model,
                threshold=s.vad_threshold,
                sampling_rate=SAMPLE_RATE,
                min_speech_duration_ms=s.min_speech_ms,
                min_silence_duration_ms=s.min_silence_ms,
                speech_pad_ms=s.speech_pad_ms,
            )
        spans = [
            SpeechSpan(start_s=st["start"] / SAMPLE_RATE, end_s=st["end"] / SAMPLE_RATE)
            for st in stamps
        ]
        return tuple(merge_spans(spans, self._merge_gap_s))


def merge_spans(spans: list[SpeechSpan], max_gap_s: float) -> list[SpeechSpan]:
    """Merge spans (sorted by start) whose gap is shorter than ``max_gap_s``."""
    merged: list[SpeechSpan] = []
    for span in spans:
        if merged and span.start_s - merged[-1].end_s < max_gap_s:
            merged[-1] = SpeechSpan(merged[-1].start_s, max(merged[-1].end_s, span.end_s))
        else:
            merged.append(span)
    return merged


def crop(samples: np.ndarray, span: SpeechSpan) -> np.ndarray:
    """The samples of one span (what ASR should be given)."""
    return samples[round(span.start_s * SAMPLE_RATE) : round(span.end_s * SAMPLE_RATE)]
