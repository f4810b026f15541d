"""The right-sized encoder window: chosen per turn, never shorter than the speech.

The choice is plain arithmetic (fast tests); the decode runs the real model
on real fixture audio (slow tests): a short window hears what the 30 s
window hears, a turn longer than the minimum window gets a longer one, and
the setting 30 goes back to faster-whisper's own path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from metrics import character_error_rate

from voice_agent.asr import WhisperEngine
from voice_agent.asr_window import FULL_WINDOW_S, encoder_window_s
from voice_agent.audio import decode_audio
from voice_agent.settings import AsrSettings, Settings

AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"
LABELS = {
    lab["file"]: lab
    for lab in (json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines())
}
SR = 16_000


@pytest.mark.parametrize("duration", [0.3, 2.0, 5.5, 13.7, 14.0, 20.2, 28.7, 28.8, 45.0])
def test_the_window_is_never_shorter_than_the_speech(duration: float) -> None:
    window = encoder_window_s(duration, min_window_s=15.0, margin_s=1.3)
    assert window >= min(duration + 1.3, FULL_WINDOW_S)
    assert window >= 15.0
    assert window <= FULL_WINDOW_S
    assert window == int(window)  # whole seconds: an even number of mel frames


def test_short_turns_share_the_minimum_window_and_long_ones_grow() -> None:
    assert encoder_window_s(3.0, 10.0, 1.3) == 10.0
    assert encoder_window_s(9.5, 10.0, 1.3) == 11.0
    assert encoder_window_s(29.0, 10.0, 1.3) == FULL_WINDOW_S


def test_a_minimum_of_30_goes_back_to_the_stock_window() -> None:
    assert encoder_window_s(2.0, 30.0, 1.3) == FULL_WINDOW_S
    assert AsrSettings(encoder_window_s=30).encoder_window_s == 30


@pytest.fixture(scope="module")
def engines() -> dict[str, WhisperEngine]:
    cache = Settings().model_cache_dir
    return {
        "short": WhisperEngine.from_settings(AsrSettings(), cache),
        "stock": WhisperEngine.from_settings(AsrSettings(encoder_window_s=30.0), cache),
    }


def _speech(name: str) -> np.ndarray:
    lab = LABELS[name]
    samples = decode_audio(AUDIO / name, 60).samples
    return samples[int((lab["speech_start_s"] - 0.3) * SR) : int((lab["speech_end_s"] + 0.3) * SR)]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transfer_50k.wav", "card_loss.wav", "pension.ogg"])
def test_a_short_window_hears_what_the_30s_window_hears(
    engines: dict[str, WhisperEngine], name: str
) -> None:
    samples = _speech(name)
    short = engines["short"].transcribe(samples)
    stock = engines["stock"].transcribe(samples)
    assert short.options["encoder_window_s"] == AsrSettings().encoder_window_s
    assert stock.options["encoder_window_s"] == FULL_WINDOW_S
    script = LABELS[name]["script"]
    assert (
        character_error_rate(script, short.text) <= character_error_rate(script, stock.text) + 0.1
    )
    assert not short.unclear, short
    # The result has faster-whisper's shape: one segment spanning the turn.
    assert len(short.segments) == 1
    assert short.segments[0].end == pytest.approx(len(samples) / SR)


@pytest.mark.slow
def test_a_turn_longer_than_the_minimum_window_is_heard_to_its_end(
    engines: dict[str, WhisperEngine],
) -> None:
    # Four requests back to back, ~16.5 s: longer than the 15 s minimum window.
    parts = ["transfer_50k.wav", "card_loss.wav", "pension.ogg", "deposit_one_year.wav"]
    gap = np.zeros(int(1.1 * SR), dtype=np.float32)
    samples = np.concatenate([x for name in parts for x in (_speech(name), gap)])
    duration = len(samples) / SR
    assert duration > 15.0
    result = engines["short"].transcribe(samples)
    window = result.options["encoder_window_s"]
    assert isinstance(window, float)
    assert duration + 1.3 <= window < FULL_WINDOW_S
    # The last request is in the transcript: the window did not cut the speech.
    assert "一年" in result.text or "定期" in result.text, result.text
    assert "五万" in result.text or "5万" in result.text, result.text
