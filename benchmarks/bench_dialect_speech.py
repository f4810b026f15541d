"""Dialect from the audio (issue 9): detection and false-alarm rates, cost per turn.

Runs Front Desk's own turn path (``FrontDesk.transcribe_span``: Whisper with
language ID on the encoder output, the dialect-speech judgement, the Opus
recording) on every stand-in set of tests/voice_agent/speech_standins.py,
then ``frontdesk handle``'s intent accuracy on the Mandarin fixtures with
the judgement on and off.

Usage::

    .venv/bin/python benchmarks/bench_dialect_speech.py [--mandarin-limit N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import describe_machine  # noqa: E402

from tests.voice_agent.speech_standins import AUDIO, stand_in_sets  # noqa: E402
from voice_agent.asr import WhisperEngine  # noqa: E402
from voice_agent.recording import encode_opus  # noqa: E402
from voice_agent.service import FrontDesk, build_frontdesk  # noqa: E402
from voice_agent.settings import Settings, SpeechDialectSettings  # noqa: E402


def detection(desk: FrontDesk, mandarin_limit: int | None) -> list[dict[str, object]]:
    rows = []
    for name, clips in stand_in_sets(mandarin_limit):
        hits, ms, p_zh, unclear = 0, [], [], 0
        for clip in clips:
            t0 = time.perf_counter()
            seg = desk.transcribe_span(clip.samples, 0.0, len(clip.samples) / 16000)
            ms.append((time.perf_counter() - t0) * 1000)
            judged = seg.speech_dialect
            hits += bool(judged and judged.is_dialect)
            unclear += seg.unclear
            if judged and judged.p_zh is not None:
                p_zh.append(judged.p_zh)
        rows.append(
            {
                "set": name,
                "dialect": clips[0].dialect,
                "n": len(clips),
                "judged_dialect": hits,
                "unclear": unclear,
                "median_p_zh": statistics.median(p_zh) if p_zh else None,
                "min_p_zh": min(p_zh) if p_zh else None,
                "ms_per_turn_p50": statistics.median(ms),
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    return rows


def extra_cost(desk: FrontDesk) -> dict[str, float]:
    """What the judgement adds to a turn: the language-ID step and the Opus file."""
    engine = desk.asr
    assert isinstance(engine, WhisperEngine)
    samples = [x for _f, x, _s in _fixtures()[:8]]
    model = engine._model
    lid, opus = [], []
    for x in samples:
        feats = engine._windowed.features(x, engine.window_for(len(x) / 16000))
        enc = model.encode(feats)
        t0 = time.perf_counter()
        model.model.detect_language(enc)
        lid.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        encode_opus(x)
        opus.append((time.perf_counter() - t0) * 1000)
    return {"language_id_ms_p50": statistics.median(lid), "opus_ms_p50": statistics.median(opus)}


def _fixtures() -> list[tuple[str, np.ndarray, str]]:
    from tests.voice_agent.speech_standins import mandarin_fixtures

    return mandarin_fixtures()


def intent_accuracy(settings: Settings) -> dict[str, object]:
    labels = [
        json.loads(line) for line in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()
    ]
    speech = [row for row in labels if row["kind"] == "speech"]
    out: dict[str, object] = {}
    for enabled in (False, True):
        s = settings.model_copy(update={"speech_dialect": SpeechDialectSettings(enabled=enabled)})
        desk = build_frontdesk(s, load_asr=True)
        right, dialect_speech, got = 0, 0, {}
        for row in speech:
            case = desk.handle_audio(AUDIO / row["file"]).to_json()
            got[row["file"]] = case["intent"]["code"]
            right += case["intent"]["code"] == row["intent"]
            dialect_speech += case["handoff_reason"] == "dialect_speech"
        out["on" if enabled else "off"] = {
            "accuracy": right / len(speech),
            "n": len(speech),
            "dialect_speech_cases": dialect_speech,
            "intents": got,
        }
    on, off = out["on"], out["off"]
    assert isinstance(on, dict) and isinstance(off, dict)
    out["unchanged"] = on["intents"] == off["intents"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mandarin-limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here")
    args = parser.parse_args()
    print(describe_machine(), flush=True)
    settings = Settings()
    desk = build_frontdesk(settings, load_asr=True)
    result = {
        "machine": describe_machine(),
        "sets": detection(desk, args.mandarin_limit),
        "cost": extra_cost(desk),
    }
    print(json.dumps(result["cost"]), flush=True)
    result["handle"] = intent_accuracy(settings)
    handle = result["handle"]
    assert isinstance(handle, dict)
    print(
        json.dumps({k: v for k, v in handle.items() if k != "intents"}, ensure_ascii=False),
        flush=True,
    )
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
