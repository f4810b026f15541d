"""A sherpa-onnx WeNet CTC recogniser behind the :class:`~voice_agent.asr.AsrEngine` protocol.

The published Wu (Shanghainese) recognisers are WeNet models (speech-notes.md:
Conformer-U2pp-Wu, CER 15 % where Whisper-medium has 78 %); exported to ONNX
they run in sherpa-onnx on CPU. Selected by ``speech_dialect.second_engine_kind
= "sherpa-onnx-wenet"``, this engine re-reads the turns judged dialect speech
(``FrontDesk.reread``), exactly as a CTranslate2 Whisper second engine does.

A CTC model gives no Whisper-style confidence (sherpa-onnx reports no token
log-probabilities for CTC), so only an empty transcript or a decoding loop is
``unclear``; anything else is acted on and the understanding stage's own
confidence decides. The directory is verified in a child process before it is
loaded (:mod:`models.sherpa_wenet`): sherpa-onnx ends the process on some bad
directories instead of raising.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelError
from models.sherpa_wenet import WenetCheck, load_recognizer, verify_wenet_dir
from models.text import to_simplified
from voice_agent.asr import NO_TOKENS_LOGPROB, AsrResult, AsrSegment
from voice_agent.asr_guards import is_loop
from voice_agent.audio import SAMPLE_RATE

KIND = "sherpa-onnx-wenet"
#: WeNet's BPE word-start mark (English units in mixed Chinese/English models).
WORD_START = "\u2581"
#: Shorter turns are not decoded: WeNet's convolutional subsampling needs at
#: least 7 feature frames (~0.1 s) and fails on fewer; a VAD turn is longer.
MIN_SECONDS = 0.2


class SherpaWenetEngine:
    """One loaded WeNet CTC model; decodes a turn in one forward pass (no loops, no timeout).

    Turns are decoded one at a time (a lock): the engine is sized by
    ``threads`` like the main recogniser, and on a shared CPU two decodes at
    once would only slow each other down.
    """

    def __init__(self, recognizer: Any, check: WenetCheck, threads: int) -> None:
        """Wrap a loaded recogniser; prefer :meth:`load`."""
        self._recognizer = recognizer
        self._lock = threading.Lock()
        self.check = check
        self.name = f"{KIND}:{check.directory.name}"
        self.options: Mapping[str, object] = {
            "engine": KIND,
            "model": str(check.model),
            "tokens": str(check.tokens),
            "vocab_size": check.vocab_size,
            "subsampling_factor": check.subsampling_factor,
            "decoding_method": "greedy_search",
            "num_threads": threads,
            "t2s": True,
        }

    @classmethod
    def load(cls, directory: Path, threads: int = 1) -> SherpaWenetEngine:
        """Verify the directory in a child process, then load it here.

        Raises:
            ModelError: the directory is missing files or sherpa-onnx cannot
                load or run it; the message says which.
        """
        check = verify_wenet_dir(directory, threads=threads)
        try:
            recognizer = load_recognizer(check.model, check.tokens, threads)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{directory}: sherpa-onnx could not load it: {exc}") from exc
        return cls(recognizer, check, threads)

    def transcribe(self, samples: np.ndarray) -> AsrResult:
        """Transcribe one turn of 16 kHz mono float32 samples.

        Raises:
            ModelError: sherpa-onnx failed on the audio (not "could not read it").
        """
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        t0 = time.perf_counter()
        if len(audio) < MIN_SECONDS * SAMPLE_RATE:
            return self._result("", t0, len(audio))
        try:
            with self._lock:
                stream = self._recognizer.create_stream()
                stream.accept_waveform(SAMPLE_RATE, audio)
                self._recognizer.decode_stream(stream)
                raw = str(stream.result.text)
        except (RuntimeError, ValueError, IndexError) as exc:  # ONNX Runtime, symbol table
            raise ModelError(f"ASR decode failed in {self.name}: {exc}") from exc
        return self._result(raw, t0, len(audio))

    def _result(self, raw: str, t0: float, n_samples: int) -> AsrResult:
        decode_ms = round((time.perf_counter() - t0) * 1000)
        text = to_simplified(raw.replace(WORD_START, " ").strip())
        reason = "empty" if not text else "repetition" if is_loop(text) else None
        duration = n_samples / SAMPLE_RATE
        segments = (AsrSegment(0.0, duration, text, 0.0, 0.0, 0.0),) if text else ()
        return AsrResult(
            text=text,
            segments=segments,
            # No confidences from a CTC decode: 0.0 means "not measured", not "certain".
            avg_logprob=0.0 if text else NO_TOKENS_LOGPROB,
            no_speech_prob=0.0 if text else 1.0,
            unclear=reason is not None,
            reason=reason,
            decode_ms=decode_ms,
            options=self.options,
        )
