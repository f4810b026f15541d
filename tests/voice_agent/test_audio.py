"""Decoding every fixture format to 16 kHz mono, and refusing bad uploads clearly."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from models.errors import InputError
from voice_agent.audio import SAMPLE_RATE, decode_audio, pcm16_to_float

AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"
LABELS: list[dict[str, Any]] = [
    json.loads(line) for line in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()
]


def _wav_header(data_bytes: int, rate: int = 16_000, channels: int = 1) -> bytes:
    """A canonical 44-byte PCM16 WAV header claiming ``data_bytes`` of audio."""
    byte_rate = rate * channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", (36 + data_bytes) & 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, byte_rate, channels * 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes & 0xFFFFFFFF)
    )


def test_fixture_set_covers_the_formats_rates_and_channels() -> None:
    kinds = {(lab["format"], lab["sample_rate"], lab["channels"]) for lab in LABELS}
    assert {fmt for fmt, _, _ in kinds} >= {"wav", "flac", "mp3", "ogg"}
    assert {rate for _, rate, _ in kinds} >= {8_000, 16_000, 44_100}
    assert {ch for _, _, ch in kinds} == {1, 2}


@pytest.mark.parametrize("label", LABELS, ids=[lab["file"] for lab in LABELS])
def test_every_fixture_decodes_to_16k_mono_with_its_length(label: dict[str, Any]) -> None:
    audio = decode_audio(AUDIO / label["file"], max_seconds=60)
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(len(audio.samples) / SAMPLE_RATE)
    # Lossy codecs add or trim a few ms of priming; 50 ms is far below a syllable.
    assert audio.duration_s == pytest.approx(label["duration_s"], abs=0.05)
    assert audio.source_rate == label["sample_rate"]
    assert audio.source_channels == label["channels"]
    assert audio.source_format == label["format"]
    assert np.isfinite(audio.samples).all()
    assert float(np.abs(audio.samples).max()) <= 1.0


def test_bytes_and_path_decode_identically() -> None:
    path = AUDIO / "card_loss.wav"
    from_path = decode_audio(path, max_seconds=60)
    from_bytes = decode_audio(path.read_bytes(), max_seconds=60)
    np.testing.assert_array_equal(from_path.samples, from_bytes.samples)


def test_stereo_is_averaged_not_summed(tmp_path: Path) -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000).astype(np.float32) * 0.99
    path = tmp_path / "loud.wav"
    sf.write(path, np.stack([tone, tone], axis=1), 16_000, subtype="FLOAT")
    audio = decode_audio(path, max_seconds=60)
    assert float(np.abs(audio.samples).max()) == pytest.approx(0.99, abs=0.01)


def test_resampling_keeps_the_pitch(tmp_path: Path) -> None:
    rate = 44_100
    tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(rate) / rate)
    path = tmp_path / "tone.flac"
    sf.write(path, tone, rate)
    samples = decode_audio(path, max_seconds=60).samples
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(1000, abs=5)


def test_streamed_wav_with_unknown_length_is_accepted() -> None:
    pcm = (np.sin(np.arange(8000) / 5) * 8000).astype("<i2").tobytes()
    header = bytearray(_wav_header(len(pcm)))
    header[40:44] = b"\xff\xff\xff\xff"  # what a live recorder writes before it knows the length
    audio = decode_audio(bytes(header) + pcm, max_seconds=60)
    assert audio.duration_s == pytest.approx(0.5, abs=0.01)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        decode_audio(path, max_seconds=60)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read"):
        decode_audio(tmp_path / "nope.wav", max_seconds=60)


def test_truncated_wav_says_truncated(tmp_path: Path) -> None:
    data = (AUDIO / "balance.wav").read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated") as err:
        decode_audio(path, max_seconds=60)
    assert str(path) in str(err.value)


def test_random_bytes_are_not_audio() -> None:
    noise = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(InputError, match="not a readable audio file"):
        decode_audio(noise, max_seconds=60)


def test_text_renamed_to_wav_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "letter.wav"
    path.write_text("这不是录音，是一封信。\n" * 40, encoding="utf-8")
    with pytest.raises(InputError, match="not a readable audio file"):
        decode_audio(path, max_seconds=60)


def test_a_file_without_audio_stream(tmp_path: Path) -> None:
    import av

    path = tmp_path / "video.mkv"
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(InputError, match="no audio stream"):
        decode_audio(path, max_seconds=60)


def test_too_long_is_refused_with_length_and_limit() -> None:
    with pytest.raises(InputError, match=r"is \d+\.\d s long; the limit is 2 s"):
        decode_audio(AUDIO / "fraud_police.wav", max_seconds=2)


def test_hours_long_header_is_refused_without_decoding(tmp_path: Path) -> None:
    three_hours = 3 * 3600 * SAMPLE_RATE * 2
    path = tmp_path / "long.wav"
    path.write_bytes(_wav_header(three_hours) + b"\0" * 3200)
    with pytest.raises(InputError, match=r"10800\.0 s long; the limit is 600 s"):
        decode_audio(path, max_seconds=600)


def test_pcm16_to_float() -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    out = pcm16_to_float(pcm)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, 0.5, -1.0, 32767 / 32768])
    with pytest.raises(InputError, match="16-bit"):
        pcm16_to_float(pcm[:-1])
