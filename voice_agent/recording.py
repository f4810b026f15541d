"""Each turn's audio, compressed for the case: Opus in an OGG file (PyAV).

A teller who gets a case the recogniser could not read (a Shanghainese
caller) must be able to hear what was said. 16 kHz mono speech at 24 kbit/s
Opus is about 3 kB a second, small enough to keep every turn with its case;
browsers play ``audio/ogg; codecs=opus`` natively.
"""

from __future__ import annotations

import io

import av
import numpy as np

from voice_agent.audio import SAMPLE_RATE

MIME_TYPE = "audio/ogg"
_FRAME = 320  # 20 ms at 16 kHz, an Opus frame size


def encode_opus(samples: np.ndarray, *, bitrate: int = 24_000) -> bytes:
    """16 kHz mono float32 samples → an OGG/Opus file's bytes."""
    pcm = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    pcm16 = (pcm * 32767).astype(np.int16)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="ogg") as container:
        # Complexity 0: 20 ms instead of 360 ms for 3 s of speech on a busy
        # 2-core box (the live call waits for it), for ~10 % more bytes.
        stream = container.add_stream(
            "libopus", rate=SAMPLE_RATE, options={"compression_level": "0"}
        )
        stream.bit_rate = bitrate
        stream.layout = "mono"
        for start in range(0, len(pcm16), _FRAME * 50):
            chunk = pcm16[start : start + _FRAME * 50]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def decode_opus(data: bytes) -> np.ndarray:
    """An OGG/Opus file's bytes → 16 kHz mono float32 (for tests and checks)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
