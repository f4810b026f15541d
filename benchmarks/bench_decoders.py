"""Decoders on 2 cores: one two-thread decoder vs two one-thread decoders.

A burst of turns arrives at once (callers finishing their sentences
together); each configuration drains the same burst, alternately, several
rounds, in the same run. Reported: the time to drain the burst (turns per
second the machine sustains) and each turn's wait + decode (what a caller
feels). Both use the right-sized encoder window and the real engine.

Usage::

    .venv/bin/python benchmarks/bench_decoders.py [--burst 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe_machine, percentile

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
SR = 16_000
CONFIGS = {"1 decoder × 2 threads": (1, 2), "2 decoders × 1 thread": (2, 1)}


def main() -> int:
    """Drain bursts with each configuration; print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from voice_agent.asr import WhisperEngine
    from voice_agent.audio import decode_audio
    from voice_agent.settings import Settings

    machine = describe_machine()
    settings = Settings()
    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
    clips = []
    for lab in labels:
        if lab["kind"] == "speech":
            samples = decode_audio(AUDIO / lab["file"], 60).samples
            a, b = int((lab["speech_start_s"] - 0.3) * SR), int((lab["speech_end_s"] + 0.3) * SR)
            clips.append(samples[max(0, a) : b])
    engines = {
        name: WhisperEngine.from_settings(
            settings.asr.model_copy(update={"decoders": d, "cpu_threads": t}),
            settings.model_cache_dir,
        )
        for name, (d, t) in CONFIGS.items()
    }
    for engine in engines.values():
        engine.transcribe(clips[0])
    drains: dict[str, list[float]] = {n: [] for n in engines}
    waits: dict[str, list[float]] = {n: [] for n in engines}
    loads = [os.getloadavg()[0]]
    for r in range(args.rounds):
        order = list(engines) if r % 2 == 0 else list(reversed(engines))
        for name in order:
            engine = engines[name]
            burst = [clips[(r * args.burst + i) % len(clips)] for i in range(args.burst)]
            t0 = time.perf_counter()

            def one(samples: object, engine: WhisperEngine = engine, t0: float = t0) -> float:
                engine.transcribe(samples)  # type: ignore[arg-type]
                return time.perf_counter() - t0

            with ThreadPoolExecutor(max_workers=args.burst) as pool:
                done = list(pool.map(one, burst))
            drains[name].append(time.perf_counter() - t0)
            waits[name].extend(done)
        loads.append(os.getloadavg()[0])

    print(f"Machine: {machine}; load average {min(loads):.1f}–{max(loads):.1f} during the run.")
    print(f"Bursts of {args.burst} turns (fixture speech ± 0.3 s), {args.rounds} rounds each.\n")
    print("| decoders | burst drained median (s) | turns/s | turn wait+decode p50 / p90 (s) |")
    print("|---|---|---|---|")
    for name in engines:
        drain = statistics.median(drains[name])
        print(
            f"| {name} | {drain:.2f} | {args.burst / drain:.2f} "
            f"| {statistics.median(waits[name]):.2f} / {percentile(waits[name], 0.9):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
