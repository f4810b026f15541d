"""Decode any common audio file into the 16 kHz mono float32 that ASR and VAD need.

We decode with PyAV (bundled FFmpeg), the same library faster-whisper uses,
so WAV, FLAC, MP3, OGG/Opus, M4A and WebM from a browser all work without a
system ffmpeg. Two checks happen *before* decoding: the file is not empty,
and the duration in the container header is within the limit, so an
hours-long upload is refused in milliseconds instead of being decoded into
gigabytes of samples. Containers without a duration (streamed WebM) are
still bounded: decoding stops as soon as the limit is passed.
"""

from __future__ import annotations

import gc
import io
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from models.errors import InputError

SAMPLE_RATE = 16_000
"""Rate of every array this module returns (Whisper and Silero both expect it)."""

# FLAC headers state the exact sample count; if far fewer samples decode, the
# file was cut off. MP3/OGG headers only estimate, so they are not checked.
# (FFmpeg clamps a WAV's length to the file size, so WAV is checked on the
# RIFF header itself, see _wav_data.)
_EXACT_LENGTH_FORMATS = frozenset({"flac"})
_TRUNCATION_TOLERANCE_S = 0.1
_WAV_HEAD_BYTES = 4096


@dataclass(frozen=True)
class Audio:
    """Decoded audio ready for VAD and ASR.

    Attributes:
        samples: float32 mono samples in [-1, 1] at 16 kHz (``SAMPLE_RATE``).
        duration_s: Length of ``samples`` in seconds.
        source_rate: Sample rate of the original file.
        source_channels: Channel count of the original file.
        source_format: Container name reported by FFmpeg (``wav``, ``mp3``, ``ogg``...).
    """

    samples: np.ndarray
    duration_s: float
    source_rate: int
    source_channels: int
    source_format: str


def _describe(source: Path | bytes) -> str:
    return str(source) if isinstance(source, Path) else f"uploaded audio ({len(source)} bytes)"


def decode_audio(source: Path | bytes, max_seconds: float) -> Audio:
    """Decode a file or its bytes to 16 kHz mono float32.

    Args:
        source: A path, or the raw bytes of an uploaded file.
        max_seconds: Longest recording accepted; longer ones are refused,
            never silently truncated (a truncated fraud call would lose evidence).

    Returns:
        The decoded :class:`Audio`.

    Raises:
        InputError: The file is missing, empty, not audio, truncated or
            corrupt, has no audio stream, or is longer than ``max_seconds``.
    """
    name = _describe(source)
    if isinstance(source, Path):
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise InputError(f"Cannot read {name}: {exc.strerror or exc}") from exc
        opened: str | io.BytesIO = str(source)
        with source.open("rb") as fh:
            head = fh.read(_WAV_HEAD_BYTES)
    else:
        size = len(source)
        opened = io.BytesIO(source)
        head = source[:_WAV_HEAD_BYTES]
    if size == 0:
        raise InputError(f"{name} is empty (0 bytes); send a WAV, FLAC, MP3 or OGG recording.")

    try:
        container = av.open(opened, mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"{name} is not a readable audio file ({exc}); send WAV, FLAC, MP3 or OGG."
        ) from exc
    with container:
        if not container.streams.audio:
            raise InputError(f"{name} has no audio stream (container {container.format.name!r}).")
        stream = container.streams.audio[0]
        fmt = container.format.name.split(",")[0]
        header_s = _header_duration(container, stream)
        wav = _wav_data(head)
        if wav is not None:
            header_s = max(header_s or 0.0, wav.size / wav.byte_rate)
        if header_s is not None and header_s > max_seconds:
            raise InputError(
                f"{name} is {header_s:.1f} s long; the limit is {max_seconds:.0f} s. "
                "Send a shorter recording."
            )
        missing = 0 if wav is None else wav.start + wav.size - size
        if missing > 0:
            raise InputError(
                f"{name} is truncated: its WAV header promises {missing:,} more bytes of "
                "audio than the file holds. Send the complete recording."
            )
        source_rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        source_channels = int(stream.codec_context.channels or 0)
        samples = _decode_stream(container, stream, name, max_seconds)

    duration = len(samples) / SAMPLE_RATE
    if len(samples) == 0:
        raise InputError(f"{name} holds no decodable audio (truncated or corrupt).")
    if (
        fmt in _EXACT_LENGTH_FORMATS
        and header_s is not None
        and duration < header_s - _TRUNCATION_TOLERANCE_S
    ):
        raise InputError(
            f"{name} is truncated: its header says {header_s:.2f} s but only "
            f"{duration:.2f} s of audio is present."
        )
    return Audio(
        samples=samples,
        duration_s=duration,
        source_rate=source_rate,
        source_channels=source_channels,
        source_format=fmt,
    )


@dataclass(frozen=True)
class _WavData:
    """What a RIFF/WAVE header claims about its ``data`` chunk."""

    start: int
    size: int
    byte_rate: int


def _wav_data(head: bytes) -> _WavData | None:
    """Parse the ``data`` chunk claim from the first bytes of a WAV file.

    FFmpeg clamps a WAV's length to the file size, hiding both a cut-off
    upload and a header-only "10 hours" file, so we read the claim ourselves.
    Streaming writers put 0 or 0xFFFFFFFF in the size ("unknown"): None.
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        chunk_size = int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk_id == b"fmt " and pos + 20 <= len(head):
            byte_rate = int.from_bytes(head[pos + 16 : pos + 20], "little")
        elif chunk_id == b"data":
            if chunk_size in (0, 0xFFFFFFFF) or byte_rate == 0:
                return None
            return _WavData(start=pos + 8, size=chunk_size, byte_rate=byte_rate)
        pos += 8 + chunk_size + (chunk_size & 1)
    return None


def _header_duration(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    """Duration claimed by the header, without decoding; None if unknown."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode_stream(
    container: av.container.InputContainer, stream: av.AudioStream, name: str, max_seconds: float
) -> np.ndarray:
    """Decode, downmix and resample, stopping once ``max_seconds`` is passed."""
    # Resample with the source layout kept and average the channels ourselves:
    # FFmpeg's stereo->mono matrix adds both channels at -3 dB, which can clip
    # a loud recording (a full-scale stereo tone would reach 1.41).
    resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=SAMPLE_RATE)
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().mean(axis=0)
                chunks.append(chunk)
                total += len(chunk)
            if total > limit:
                raise InputError(
                    f"{name} is longer than the limit of {max_seconds:.0f} s "
                    "(its header gave no length). Send a shorter recording."
                )
        for out in resampler.resample(None):
            chunk = out.to_ndarray().mean(axis=0)
            chunks.append(chunk)
            total += len(chunk)
    except av.error.FFmpegError as exc:
        raise InputError(f"{name} is corrupt or truncated: {exc}") from exc
    finally:
        # PyAV's resampler holds FFmpeg buffers until a collection runs
        # (faster-whisper issue #390); a long-running server would grow.
        del resampler
        gc.collect()
    if total > limit:
        raise InputError(
            f"{name} is {total / SAMPLE_RATE:.1f} s long; the limit is {max_seconds:.0f} s."
        )
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Convert 16 kHz mono signed 16-bit little-endian PCM to float32 in [-1, 1).

    This is what the customer page streams over the WebSocket.

    Raises:
        InputError: The byte count is odd, so the stream is not 16-bit PCM.
    """
    if len(data) % 2:
        raise InputError(
            f"PCM chunk of {len(data)} bytes is not whole 16-bit samples; send 16 kHz mono s16le."
        )
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
