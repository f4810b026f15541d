"""Encoder window: CER, intent accuracy and decode time, short windows vs 30 s.

Every configuration decodes every clip of every audio set in the same run,
one clip at a time in rotating order (so the shared machine's load falls on
all of them alike), through the real engine (``WhisperEngine``: guards,
token bound, t2s) on the VAD-cut speech span, as ``frontdesk handle`` does.
The transcript then goes through the real understanding (dialect → intent)
for intent accuracy.

Audio sets (all built from committed files, nothing downloaded):

* ``fixtures``: the 28 speech fixtures of tests/data/audio (mixed rates and
  formats, 2.9–6.1 s);
* ``phone``: the same clips cut to the telephone band (300–3400 Hz);
* ``noisy``: the same clips with seeded white noise at 15 dB SNR;
* ``slow``: the slow, pausing requests of tests/data/audio/slow_speech.jsonl
  (built by tests/voice_agent/slow_speech.py)
  (fixture phrases with 0.8–1.5 s pauses, 5–15 s turns), one turn each.

Usage::

    .venv/bin/python benchmarks/bench_window.py [--windows 30 15 10] [--sets fixtures phone]
        [--prompts banking short none]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe_machine

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
SR = 16_000
#: Decoder prompts compared by ``--prompts``; "banking" is the setting's own
#: (voice_agent.settings.BANKING_PROMPT). Every prompt token is prefilled on
#: every turn, so a shorter one decodes faster; what it costs in CER is the
#: question.
PROMPTS = {
    "banking": "",
    "short": "银行柜台对话：转账、余额、挂失、存折、密码、养老金、验证码。",
    "none": "",
}


@dataclass(frozen=True)
class Clip:
    """One utterance to decode, with what was said and meant."""

    name: str
    samples: np.ndarray
    script: str
    intent: str


def _fixture_clips() -> list[tuple[dict[str, Any], np.ndarray]]:
    from voice_agent.audio import decode_audio

    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
    return [
        (lab, decode_audio(AUDIO / lab["file"], 60).samples)
        for lab in labels
        if lab["kind"] == "speech"
    ]


def _phone(samples: np.ndarray) -> np.ndarray:
    """The telephone band: 300–3400 Hz, cut in the frequency domain."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), 1 / SR)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    return np.fft.irfft(spectrum, len(samples)).astype(np.float32)


def _noisy(samples: np.ndarray, seed: int, snr_db: float = 15.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    power = float(np.mean(samples[np.abs(samples) > 0.01] ** 2)) if np.any(samples) else 1e-4
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(samples))
    return (samples + noise).astype(np.float32)


def audio_sets(names: list[str]) -> Iterator[tuple[str, list[Clip]]]:
    """The named audio sets, each a list of clips."""
    fixtures = _fixture_clips() if {"fixtures", "phone", "noisy"} & set(names) else []
    for name in names:
        if name == "slow":
            from tests.voice_agent.slow_speech import build_slow_turns

            turns = build_slow_turns()
            yield name, [Clip(t.name, t.samples, t.script, t.intent) for t in turns]
            continue
        clips = []
        for i, (lab, samples) in enumerate(fixtures):
            if name == "phone":
                samples = _phone(samples)
            elif name == "noisy":
                samples = _noisy(samples, seed=i)
            clips.append(Clip(lab["file"], samples, lab["script"], lab["intent"]))
        yield name, clips


def main() -> int:
    """Decode every set with every window; print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=float, nargs="+", default=[30.0, 15.0, 10.0, 8.0])
    parser.add_argument("--margin", type=float, default=1.3)
    parser.add_argument("--sets", nargs="+", default=["fixtures", "phone", "noisy", "slow"])
    parser.add_argument("--json", type=Path, help="write per-clip rows here")
    parser.add_argument(
        "--prompts",
        nargs="+",
        default=["banking"],
        choices=sorted(PROMPTS),
        help="decoder prompts to compare (prefill costs decode time per turn)",
    )
    args = parser.parse_args()

    from metrics import character_error_rate

    from voice_agent.asr import WhisperEngine
    from voice_agent.service import build_frontdesk
    from voice_agent.settings import Settings
    from voice_agent.vad import SpeechDetector, crop

    machine = describe_machine()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-window-")))
    text_only = build_frontdesk(settings, load_asr=False)
    engines = {
        (w, p): WhisperEngine.from_settings(
            settings.asr.model_copy(
                update={
                    "encoder_window_s": w,
                    "encoder_window_margin_s": args.margin,
                    "initial_prompt": PROMPTS[p] if p != "banking" else settings.asr.initial_prompt,
                }
            ),
            settings.model_cache_dir,
        )
        for w in args.windows
        for p in args.prompts
    }
    vad = SpeechDetector(settings.audio)
    warm = np.zeros(SR, dtype=np.float32)
    for engine in engines.values():  # lazy initialisation off the clock
        engine.transcribe(warm)

    rows: list[dict[str, Any]] = []
    loads = [os.getloadavg()[0]]
    for set_name, clips in audio_sets(args.sets):
        for k, clip in enumerate(clips):
            spans = vad.speech_spans(clip.samples)
            samples = (
                crop(clip.samples, replace(spans[0], end_s=spans[-1].end_s))
                if spans
                else clip.samples
            )
            order = list(engines)
            order = order[k % len(order) :] + order[: k % len(order)]
            for w, p in order:
                t0 = time.perf_counter()
                result = engines[w, p].transcribe(samples)
                asr_s = time.perf_counter() - t0
                intent = (
                    text_only.understand(result.text).intent.code
                    if result.text.strip() and not result.unclear
                    else "unclear"
                )
                rows.append(
                    {
                        "set": set_name,
                        "clip": clip.name,
                        "window": w,
                        "prompt": p,
                        "used_window": result.options["encoder_window_s"],
                        "speech_s": len(samples) / SR,
                        "asr_s": asr_s,
                        "cer": character_error_rate(clip.script, result.text),
                        "intent_ok": intent == clip.intent,
                        "unclear": result.unclear,
                        "reason": result.reason,
                        "text": result.text,
                    }
                )
        loads.append(os.getloadavg()[0])
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")

    print(f"Machine: {machine}; load average {min(loads):.1f}–{max(loads):.1f} during the run.")
    print(f"Margin {args.margin} s; window = max(setting, speech + margin), whole seconds.\n")
    print(
        "| set (clips) | window setting | prompt | windows used (s) | CER mean / median "
        "| intent accuracy | unclear | ASR median / p90 (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for set_name in args.sets:
        for w, p in engines:
            rs = [r for r in rows if r["set"] == set_name and r["window"] == w and r["prompt"] == p]
            if not rs:
                continue
            cer = [r["cer"] for r in rs]
            asr = sorted(r["asr_s"] for r in rs)
            used = [r["used_window"] for r in rs]
            label = "30 s (stock)" if w >= 30 else f"≥ {w:g} s"
            print(
                f"| {set_name} ({len(rs)}) | {label} | {p} | {min(used):g}–{max(used):g} "
                f"| {statistics.mean(cer):.1%} / {statistics.median(cer):.1%} "
                f"| {sum(r['intent_ok'] for r in rs)}/{len(rs)} "
                f"| {sum(r['unclear'] for r in rs)} "
                f"| {statistics.median(asr):.2f} / {asr[int(0.9 * (len(asr) - 1))]:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
