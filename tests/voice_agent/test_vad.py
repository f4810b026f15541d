"""Silero VAD finds the speech inside the known silence padding of each fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voice_agent.audio import SAMPLE_RATE, decode_audio
from voice_agent.settings import AudioSettings
from voice_agent.vad import MERGE_GAP_S, SpeechDetector, SpeechSpan, crop, merge_spans

AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"
LABELS: list[dict[str, Any]] = [
    json.loads(line) for line in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()
]
SPEECH = [lab for lab in LABELS if lab["kind"] == "speech"]
NO_SPEECH = [lab for lab in LABELS if lab["kind"] != "speech"]
SETTINGS = AudioSettings()
PAD_S = SETTINGS.speech_pad_ms / 1000
SLACK_S = 0.15  # Silero decides per 32 ms chunk and its probability lags the onset a little


@pytest.fixture(scope="module")
def detector() -> SpeechDetector:
    return SpeechDetector(SETTINGS)


@pytest.mark.parametrize("label", SPEECH, ids=[lab["file"] for lab in SPEECH])
def test_one_span_around_the_speech(detector: SpeechDetector, label: dict[str, Any]) -> None:
    audio = decode_audio(AUDIO / label["file"], max_seconds=60)
    spans = detector.speech_spans(audio.samples)
    assert len(spans) == 1, spans  # one request is one turn, pauses merged
    (span,) = spans
    start, end = label["speech_start_s"], label["speech_end_s"]
    # The span starts up to one pad before the voice, and not after it.
    assert start - PAD_S - SLACK_S <= span.start_s <= start + SLACK_S
    # It ends after the voice: one pad later, or at the end of the file when the
    # trailing silence is shorter than the minimum silence Silero waits for.
    assert end - SLACK_S <= span.end_s <= min(audio.duration_s, end + PAD_S + SLACK_S + 0.5)
    assert span.duration_s > 0


@pytest.mark.parametrize("label", NO_SPEECH, ids=[lab["file"] for lab in NO_SPEECH])
def test_silence_and_noise_have_no_speech(detector: SpeechDetector, label: dict[str, Any]) -> None:
    audio = decode_audio(AUDIO / label["file"], max_seconds=60)
    assert detector.speech_spans(audio.samples) == ()


def _two_requests(gap_s: float) -> tuple[np.ndarray, float]:
    first = decode_audio(AUDIO / "pension.ogg", max_seconds=60).samples
    second = decode_audio(AUDIO / "teller.wav", max_seconds=60).samples
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
    return np.concatenate([first, gap, second]), len(first) / SAMPLE_RATE


def test_two_requests_far_apart_are_two_spans(detector: SpeechDetector) -> None:
    samples, boundary = _two_requests(gap_s=1.5)
    spans = detector.speech_spans(samples)
    assert len(spans) == 2
    assert spans[0].end_s < boundary + 0.75 < spans[1].start_s
    assert all(len(crop(samples, s)) > 0 for s in spans)


def test_a_short_pause_does_not_split_a_turn(detector: SpeechDetector) -> None:
    # The same request twice with ~0.95 s between the voices: Silero (500 ms
    # minimum silence) sees two, and their padded spans are ~0.55 s apart, so
    # the merge step makes them one turn, as for a caller pausing mid-request.
    first = decode_audio(AUDIO / "history_month.wav", max_seconds=60)
    samples = first.samples[: int(2.85 * SAMPLE_RATE)]  # cut right after the voice
    joined = np.concatenate([samples, np.zeros(int(0.3 * SAMPLE_RATE), np.float32), samples])
    assert len(SpeechDetector(SETTINGS, merge_gap_s=0.0).speech_spans(joined)) == 2
    assert len(detector.speech_spans(joined)) == 1


def test_too_short_input_has_no_speech(detector: SpeechDetector) -> None:
    assert detector.speech_spans(np.zeros(100, np.float32)) == ()


def test_merge_spans() -> None:
    spans = [SpeechSpan(0.0, 1.0), SpeechSpan(1.2, 2.0), SpeechSpan(3.0, 4.0)]
    assert merge_spans(spans, MERGE_GAP_S) == [SpeechSpan(0.0, 2.0), SpeechSpan(3.0, 4.0)]
    assert merge_spans([], MERGE_GAP_S) == []


def test_loading_vad_keeps_torch_thread_count() -> None:
    # A fresh interpreter: silero_vad sets torch threads to 1 only on first import.
    code = (
        "import torch; torch.set_num_threads(2)\n"
        "from voice_agent.settings import AudioSettings\n"
        "from voice_agent.vad import SpeechDetector\n"
        "SpeechDetector(AudioSettings()); print(torch.get_num_threads())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "2"
