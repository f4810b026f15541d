"""End of turn: latency on complete requests, cut-offs on slow, pausing speakers.

The live call's front half runs in process, as in a call: pipecat's Silero
``VADProcessor`` → ``FrontDeskSTTService`` (with ``FrontDesk.transcribe_span``,
the real engine and dialect normaliser) → a sink that timestamps every
transcript. Configurations, on the same clips in the same run:

* ``previous`` — the turn-taking of 451ef83: the VAD ends the turn after
  0.5 s of silence, then Whisper decodes it in its 30 s window;
* ``window`` — the same turn-taking with the right-sized encoder window;
* ``now`` — this release: speculative decode at the first 0.3 s pause, the
  words decide the end of turn (voice_agent.live.turn_end), short window.

Two measurements:

* **latency**: the 28 speech fixtures (complete requests, said fluently)
  streamed at real-time pace; end of speech (the label's ``speech_end_s``)
  → transcript, on the audio clock plus the wall time spent waiting;
* **cut-offs**: the 20 slow requests of tests/voice_agent/slow_speech.py (4 speakers'
  rhythms, 0.8–1.5 s pauses), streamed as fast as the pipeline takes them
  (end-of-turn decisions are made on the audio clock, and the service waits
  for its guess before deciding, so pacing does not change them). A slow
  request is *cut off* when it comes out as more than one turn.

Usage::

    .venv/bin/python benchmarks/bench_turns.py [--configs previous now] [--skip-latency]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe_machine, percentile

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
SR = 16_000
CHUNK = SR // 50  # 20 ms
TAIL_S = 2.6  # more than the patient pause: every turn can end on its own
#: per streamed utterance: (silence, sounded complete) for each turn the policy ended
ENDS: list[list[tuple[float, bool]]] = []


@dataclass(frozen=True)
class Config:
    """One way of taking turns."""

    name: str
    window_s: float
    stop_secs: float
    speculative: bool


CONFIGS = {
    "previous": Config(
        "previous (451ef83): VAD 0.5 s ends the turn, 30 s window", 30.0, 0.5, False
    ),
    "window": Config("VAD 0.5 s ends the turn, right-sized window", 15.0, 0.5, False),
    "now": Config(
        "now: speculative at 0.3 s, the words decide, right-sized window", 15.0, 0.3, True
    ),
}


async def stream(
    frontdesk: Any, config: Config, samples: np.ndarray, realtime: bool
) -> list[tuple[float, float, str]]:
    """Stream one utterance; (audio time s, wall lateness s, text) per transcript."""
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.audio.vad.vad_analyzer import VADParams
    from pipecat.frames.frames import EndFrame, Frame, InputAudioRawFrame, TranscriptionFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.audio.vad_processor import VADProcessor
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    from voice_agent.live.call import VadConfig
    from voice_agent.live.stt import FrontDeskSTTService
    from voice_agent.live.turn_end import EndOfTurnPolicy

    out: list[tuple[float, float, str]] = []
    t0 = time.monotonic()

    class Sink(FrameProcessor):
        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, TranscriptionFrame):
                audio_now = stt.samples_seen / SR
                # Wall time past the audio clock: decode time not hidden by the stream.
                lateness = max(0.0, (time.monotonic() - t0) - audio_now) if realtime else 0.0
                out.append((audio_now, lateness, frame.text))
            await self.push_frame(frame, direction)

    policy = EndOfTurnPolicy() if config.speculative else EndOfTurnPolicy(0.0, 0.0, 0.0)
    stt = FrontDeskSTTService(
        frontdesk.transcribe_span,
        pause_secs=config.stop_secs,
        resume_secs=VadConfig().start_secs,
        policy=policy,
    )
    live = VadConfig()  # the live call's thresholds (confidence 0.5, min volume 0.3)
    vad = VADProcessor(
        vad_analyzer=SileroVADAnalyzer(
            sample_rate=SR,
            params=VADParams(
                confidence=live.confidence,
                start_secs=live.start_secs,
                stop_secs=config.stop_secs,
                min_volume=live.min_volume,
            ),
        )
    )
    worker = PipelineWorker(
        Pipeline([vad, stt, Sink()]),
        params=PipelineParams(audio_in_sample_rate=SR),
        idle_timeout_secs=None,
        enable_rtvi=False,
        enable_turn_tracking=False,
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.2)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    t0 = time.monotonic()
    for i, off in enumerate(range(0, len(pcm), CHUNK * 2)):
        if realtime:
            delay = t0 + i * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        elif i % 25 == 0:
            await asyncio.sleep(0)
        chunk = pcm[off : off + CHUNK * 2].ljust(CHUNK * 2, b"\0")
        await worker.queue_frame(InputAudioRawFrame(audio=chunk, sample_rate=SR, num_channels=1))
    await worker.queue_frame(EndFrame())
    await task
    ENDS.append(list(stt.stats.ends))
    return out


def main() -> int:
    """Run both measurements for each configuration; print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="ERROR")

    from tests.voice_agent.slow_speech import build_slow_turns
    from voice_agent.audio import decode_audio
    from voice_agent.service import build_frontdesk
    from voice_agent.settings import Settings

    machine = describe_machine()
    loads = [os.getloadavg()[0]]
    base = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-turns-")))
    desks = {}
    for key in args.configs:
        settings = base.model_copy(
            update={"asr": base.asr.model_copy(update={"encoder_window_s": CONFIGS[key].window_s})}
        )
        desks[key] = build_frontdesk(settings)
    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
    fixtures = [
        (lab, decode_audio(AUDIO / lab["file"], 60).samples)
        for lab in labels
        if lab["kind"] == "speech"
    ]
    slow = build_slow_turns()
    tail = np.zeros(int(TAIL_S * SR), dtype=np.float32)
    rows: list[dict[str, Any]] = []

    for key in args.configs:  # warm each engine once
        asyncio.run(stream(desks[key], CONFIGS[key], fixtures[0][1], realtime=False))
    if not args.skip_latency:
        for k, (lab, samples) in enumerate(fixtures):
            order = args.configs[k % len(args.configs) :] + args.configs[: k % len(args.configs)]
            for key in order:
                got = asyncio.run(
                    stream(desks[key], CONFIGS[key], np.concatenate([samples, tail]), True)
                )
                first = got[0] if got else None
                rows.append(
                    {
                        "kind": "latency",
                        "config": key,
                        "clip": lab["file"],
                        "turns": len(got),
                        "latency_s": first[0] + first[1] - lab["speech_end_s"] if first else None,
                        "text": first[2] if first else "",
                    }
                )
        loads.append(os.getloadavg()[0])
    for turn in slow:
        for key in args.configs:
            got = asyncio.run(
                stream(desks[key], CONFIGS[key], np.concatenate([turn.samples, tail]), False)
            )
            rows.append(
                {
                    "kind": "slow",
                    "config": key,
                    "clip": turn.name,
                    "speaker": turn.speaker,
                    "turns": len(got),
                    "cut_off": len(got) > 1,
                    "ends": ENDS[-1],
                    "texts": [t for _, _, t in got],
                }
            )
    loads.append(os.getloadavg()[0])
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")

    print(f"Machine: {machine}; load average {min(loads):.1f}–{max(loads):.1f} during the run.\n")
    print(
        "| turn-taking | complete requests: EoS→transcript p50 / p90 s (n) | split | "
        "slow speakers cut off | slow: silence that ended the turn, p50 s |"
    )
    print("|---|---|---|---|---|")
    for key in args.configs:
        lat = [r for r in rows if r["kind"] == "latency" and r["config"] == key]
        vals = [r["latency_s"] for r in lat if r["latency_s"] is not None]
        split = sum(1 for r in lat if r["turns"] != 1)
        sl = [r for r in rows if r["kind"] == "slow" and r["config"] == key]
        cut = sum(1 for r in sl if r["cut_off"])
        ends = [r["ends"][-1][0] for r in sl if r["ends"] and not r["cut_off"]]
        lat_txt = (
            f"{statistics.median(vals):.2f} / {percentile(vals, 0.9):.2f} ({len(vals)})"
            if vals
            else "—"
        )
        end_txt = f"{statistics.median(ends):.2f}" if ends else "—"
        print(
            f"| {CONFIGS[key].name} | {lat_txt} | {split}/{len(lat)} "
            f"| {cut}/{len(sl)} | {end_txt} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
