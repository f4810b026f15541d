"""A right-sized encoder window: Whisper's encoder on a few seconds, not 30.

Whisper was trained on 30 s windows and every implementation pads a 3 s turn
to 30 s, so the encoder (most of the decode time on CPU) spends 90 % of its
work on silence. CTranslate2's Whisper encoder accepts fewer than 3000 mel
frames (CTranslate2 PR #1446, the ``audio_ctx`` idea of whisper.cpp);
faster-whisper does not expose it, so this module decodes one turn itself
with the same tokenizer, prompt and decoding options as
``WhisperModel.transcribe``:

1. pad the turn with zero *samples* to the window and compute the log-mel
   of the whole window (faster-whisper pads 30 s windows with zero
   *features*; on a short window that lost half the accuracy, because the
   log-mel of silence is not 0: speech-notes.md, "The encoder need not
   see 30 s");
2. encode the window, then one ``generate`` call on it.

What a short window changes downstream, checked against faster-whisper
1.2.1 and CTranslate2 4.8:

* timestamps: decoding runs ``without_timestamps`` (no timestamp tokens are
  produced or needed), so the decoder's 0.02 s timestamp grid and
  ``max_initial_timestamp`` play no part; the segment spans the turn;
* positional limits: the encoder's 1500 positions are sliced to the
  window's length by CTranslate2; the decoder's 448-token limit is
  unchanged (prompt plus ``max_new_tokens`` stays under it);
* stopping: short windows make Whisper more prone to not stopping, so the
  token bound, the loop guards and the decode timeout stay on.

The window is chosen per turn (:func:`encoder_window_s`): never shorter
than the speech plus a margin, never longer than 30 s; a turn that does not
fit goes through faster-whisper's own 30 s path.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voice_agent.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

#: Whisper's stock window.
FULL_WINDOW_S = 30.0


def encoder_window_s(duration_s: float, min_window_s: float, margin_s: float) -> float:
    """The encoder window for a turn of ``duration_s`` seconds.

    The window is the longer of ``min_window_s`` and the turn plus
    ``margin_s`` (Whisper needs to hear silence after the last word to
    stop), rounded up to whole seconds (100 mel frames: an even number, as
    the encoder's stride-2 convolution wants), and capped at 30 s.
    ``FULL_WINDOW_S`` means Whisper's stock window: a turn too long for a
    shorter one, or ``min_window_s >= 30`` (the setting that goes back).
    """
    if min_window_s >= FULL_WINDOW_S:
        return FULL_WINDOW_S
    wanted = max(min_window_s, duration_s + margin_s)
    return min(FULL_WINDOW_S, float(math.ceil(wanted - 1e-9)))


@dataclass(frozen=True)
class WindowedSegment:
    """One decoded turn, shaped like faster-whisper's ``Segment`` where it matters."""

    start: float
    end: float
    text: str
    tokens: tuple[int, ...]
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    #: Whisper's language-ID distribution on the same encoder output
    #: ((code, probability), most likely first); read by speech_dialect.
    language_probs: tuple[tuple[str, float], ...] = ()


class WindowedDecoder:
    """Encode a turn in a short window and decode it greedily or by beam search.

    Args:
        model: the loaded faster-whisper model (its feature extractor,
            tokenizer and CTranslate2 model are reused).
        language: decoding language, e.g. ``"zh"``.
        beam_size: 1 for greedy decoding.
        initial_prompt: text given to the decoder as previous context.
    """

    def __init__(
        self, model: WhisperModel, language: str, beam_size: int, initial_prompt: str | None
    ) -> None:
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self._model = model
        self._beam_size = beam_size
        self._tokenizer: Tokenizer = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
        )
        previous: list[int] = []
        if initial_prompt:  # as WhisperModel.generate_segments encodes it
            previous = self._tokenizer.encode(" " + initial_prompt.strip())
        self.prompt: list[int] = model.get_prompt(
            self._tokenizer, previous, without_timestamps=True
        )
        # faster-whisper's defaults: suppress_tokens=[-1] (the model's
        # non-speech symbols), suppress_blank=True.
        self._suppress = list(get_suppressed_tokens(self._tokenizer, [-1]))

    def features(self, audio: np.ndarray, window_s: float) -> np.ndarray:
        """Log-mel features of ``audio`` padded with zero samples to ``window_s``.

        Returns an (n_mels, window_s × 100) float32 array. The turn must fit.
        """
        n = round(window_s * SAMPLE_RATE)
        if len(audio) > n:
            raise ValueError(f"a {len(audio) / SAMPLE_RATE:.2f} s turn does not fit {window_s} s")
        padded = np.zeros(n, dtype=np.float32)
        padded[: len(audio)] = audio
        # The extractor appends one hop and yields one frame more than the
        # window; faster-whisper drops that last frame too.
        feats: np.ndarray = self._model.feature_extractor(padded)[..., :-1]
        return np.ascontiguousarray(feats[..., : round(window_s * 100)])

    def decode(self, audio: np.ndarray, window_s: float, max_new_tokens: int) -> WindowedSegment:
        """Transcribe one turn (16 kHz mono float32) in a ``window_s`` encoder window."""
        encoder_output = self._model.encode(self.features(audio, window_s))
        result = self._model.model.generate(
            encoder_output,
            [self.prompt],
            beam_size=self._beam_size,
            patience=1.0,
            length_penalty=1.0,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            max_length=len(self.prompt) + max_new_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            max_initial_timestamp_index=0,  # no timestamps are decoded
        )[0]
        tokens = tuple(int(t) for t in result.sequences_ids[0])
        # As faster-whisper recovers it (length_penalty 1): the cumulative
        # log-probability over the tokens plus the end-of-text token.
        avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1)
        text = self._tokenizer.decode(list(tokens))
        return WindowedSegment(
            start=0.0,
            end=len(audio) / SAMPLE_RATE,
            text=text,
            tokens=tokens,
            avg_logprob=avg_logprob,
            no_speech_prob=float(result.no_speech_prob),
            compression_ratio=compression_ratio(text.strip()),
            # One decoder step on the encoder output already computed.
            language_probs=tuple(
                (token.strip("<|>"), float(p))
                for token, p in self._model.model.detect_language(encoder_output)[0]
            ),
        )


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: UTF-8 bytes over zlib-compressed bytes."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0
