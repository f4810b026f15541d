"""Side by side, one run: this release, the previous one, stock pipecat, stock faster-whisper.

N callers (1, 4, 8, 12) stream the same speech fixtures at real-time pace,
concurrently, in one process and one event loop (as the server runs
calls), each through its own pipeline; every configuration serves the same
callers with the same clips, one configuration after the other, in the
same run. Measured per transcript: end of speech (the label's
``speech_end_s``) → transcript, on the wall clock.

* ``now`` — this release: Silero VAD reports a 0.3 s pause, the turn is
  recognised speculatively, the words decide the end of turn, a right-sized
  encoder window (FrontDeskSTTService + FrontDesk.transcribe_span);
* ``previous`` — 451ef83's turn-taking and decoding, run by this code: the
  VAD ends the turn after 0.5 s of silence, then Whisper decodes it in the
  30 s window (same engine, guards and prompt). Not the old files
  themselves: their ASR queue, VAD and engine are what this emulates;
* ``pipecat`` — stock pipecat: ``VADProcessor(SileroVADAnalyzer())`` with
  default ``VADParams`` and ``WhisperSTTService`` with its defaults, given
  the bundled Whisper base directory, language zh and device cpu (its own
  default model is English and cannot be fetched offline);
* ``faster-whisper`` — stock faster-whisper: ``WhisperModel(dir, device="cpu")``
  (float32, 2 threads) and ``transcribe(clip, language="zh")`` with library
  defaults on the whole clip once it has arrived (no VAD wait), one
  thread per caller: what "just transcribing the clip" costs.

"Kept up" is bench_live's rule: every turn answered, and the median no more
than 1.5 × the single caller's.

Usage::

    .venv/bin/python benchmarks/bench_side_by_side.py [--callers 1 4 8 12] [--clips 2]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe_machine, percentile

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
SR = 16_000
CHUNK = SR // 50
TAIL_S = 2.6


async def caller(
    make_pipeline: Callable[[Callable[[str], None]], Any],
    clips: list[tuple[dict[str, Any], np.ndarray]],
) -> list[dict[str, Any]]:
    """One caller: a pipeline of its own, clips streamed one after another."""
    from pipecat.frames.frames import EndFrame, InputAudioRawFrame
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.workers.runner import WorkerRunner

    out: list[dict[str, Any]] = []
    heard: list[tuple[float, str]] = []
    worker = PipelineWorker(
        make_pipeline(lambda text: heard.append((time.monotonic(), text))),
        params=PipelineParams(audio_in_sample_rate=SR),
        idle_timeout_secs=None,
        enable_rtvi=False,
        enable_turn_tracking=False,
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.5)
    for lab, samples in clips:
        pcm = (
            (np.clip(np.concatenate([samples, np.zeros(int(TAIL_S * SR))]), -1, 1) * 32767)
            .astype("<i2")
            .tobytes()
        )
        before = len(heard)
        t0 = time.monotonic()
        for i, off in enumerate(range(0, len(pcm), CHUNK * 2)):
            delay = t0 + i * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            frame = InputAudioRawFrame(
                audio=pcm[off : off + CHUNK * 2].ljust(CHUNK * 2, b"\0"),
                sample_rate=SR,
                num_channels=1,
            )
            await worker.queue_frame(frame)
        deadline = time.monotonic() + 20
        while len(heard) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        eos = t0 + lab["speech_end_s"]
        got = heard[before:]
        out.append(
            {
                "clip": lab["file"],
                "latency_s": got[0][0] - eos if got else None,
                "text": got[0][1] if got else None,
            }
        )
    await worker.queue_frame(EndFrame())
    await task
    return out


def pipelines(frontdesks: dict[str, Any], model_dir: str) -> dict[str, Any]:
    """A pipeline factory per streaming configuration."""
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.audio.vad.vad_analyzer import VADParams
    from pipecat.frames.frames import Frame, TranscriptionFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.processors.audio.vad_processor import VADProcessor
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.services.whisper.stt import WhisperSTTService
    from pipecat.transcriptions.language import Language

    from voice_agent.live.call import VadConfig
    from voice_agent.live.stt import FrontDeskSTTService
    from voice_agent.live.turn_end import EndOfTurnPolicy

    # One ASR queue per engine, as in the server; per event loop (one per run).
    gates: dict[tuple[str, asyncio.AbstractEventLoop], asyncio.Semaphore] = {}

    class Sink(FrameProcessor):
        def __init__(self, heard: Callable[[str], None]) -> None:
            super().__init__()
            self._heard = heard

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, TranscriptionFrame):
                self._heard(frame.text)
            await self.push_frame(frame, direction)

    def ours(key: str, stop_secs: float, policy: EndOfTurnPolicy) -> Any:
        live = VadConfig()

        def make(heard: Callable[[str], None]) -> Pipeline:
            loop = asyncio.get_running_loop()  # kept alive by the key: no id reuse
            gate = gates.setdefault((key, loop), asyncio.Semaphore(1))
            vad = SileroVADAnalyzer(
                sample_rate=SR,
                params=VADParams(
                    confidence=live.confidence,
                    start_secs=live.start_secs,
                    stop_secs=stop_secs,
                    min_volume=live.min_volume,
                ),
            )
            stt = FrontDeskSTTService(
                frontdesks[key].transcribe_span,
                gate=gate,
                pause_secs=stop_secs,
                resume_secs=live.start_secs,
                policy=policy,
            )
            return Pipeline([VADProcessor(vad_analyzer=vad), stt, Sink(heard)])

        return make

    def stock_pipecat(heard: Callable[[str], None]) -> Pipeline:
        stt = WhisperSTTService(
            device="cpu",
            settings=WhisperSTTService.Settings(model=model_dir, language=Language.ZH),
        )
        vad = SileroVADAnalyzer(sample_rate=SR)
        return Pipeline([VADProcessor(vad_analyzer=vad), stt, Sink(heard)])

    return {
        "now": ours("now", VadConfig().stop_secs, EndOfTurnPolicy()),
        "previous": ours("previous", 0.5, EndOfTurnPolicy(0.0, 0.0, 0.0, 0.0)),
        "pipecat": stock_pipecat,
    }


def stock_faster_whisper(
    model: Any, n: int, clips: list[tuple[dict[str, Any], np.ndarray]]
) -> list[dict[str, Any]]:
    """N callers' clips transcribed at once, one thread each, after each clip arrives."""
    from concurrent.futures import ThreadPoolExecutor

    from models.text import to_simplified

    def one(idx: int) -> list[dict[str, Any]]:
        rows = []
        for lab, samples in clips:
            time.sleep(len(samples) / SR)  # the clip arrives in real time
            t0 = time.monotonic()
            segments, _ = model.transcribe(samples, language="zh")
            text = to_simplified("".join(s.text for s in segments))
            end_of_clip_after_speech = len(samples) / SR - lab["speech_end_s"]
            rows.append(
                {
                    "clip": lab["file"],
                    "latency_s": time.monotonic() - t0 + end_of_clip_after_speech,
                    "text": text,
                }
            )
        return rows

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [r for rows in pool.map(one, range(n)) for r in rows]


def main() -> int:
    """Every configuration at every N; print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, nargs="+", default=[1, 4, 8, 12])
    parser.add_argument("--clips", type=int, default=2, help="clips per caller, in sequence")
    parser.add_argument(
        "--configs", nargs="+", default=["now", "previous", "pipecat", "faster-whisper"]
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from faster_whisper import WhisperModel
    from loguru import logger

    from models.whisper_assets import resolve_asr_model
    from voice_agent.audio import decode_audio
    from voice_agent.service import build_frontdesk
    from voice_agent.settings import Settings

    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    machine = describe_machine()
    base = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-sbs-")))
    model_dir = resolve_asr_model(base.asr.model, base.model_cache_dir)
    frontdesks = {
        "now": build_frontdesk(base),
        "previous": build_frontdesk(
            base.model_copy(update={"asr": base.asr.model_copy(update={"encoder_window_s": 30.0})})
        ),
    }
    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
    fixtures = [
        (lab, decode_audio(AUDIO / lab["file"], 60).samples)
        for lab in labels
        if lab["kind"] == "speech"
    ]
    factories = pipelines(frontdesks, model_dir)
    stock_model = (
        WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2)
        if "faster-whisper" in args.configs
        else None
    )
    rows: list[dict[str, Any]] = []
    for n in args.callers:
        for config in args.configs:
            load0 = os.getloadavg()[0]
            per_caller = [
                [fixtures[(i * args.clips + k) % len(fixtures)] for k in range(args.clips)]
                for i in range(n)
            ]
            if config == "faster-whisper":
                results = stock_faster_whisper(stock_model, n, per_caller[0])
            else:

                async def run_all(
                    make: Any = factories[config], clips: list[Any] = per_caller
                ) -> list[dict[str, Any]]:
                    per = await asyncio.gather(*(caller(make, c) for c in clips))
                    return [r for rs in per for r in rs]

                results = asyncio.run(run_all())
            for r in results:
                r.update(config=config, callers=n, load=load0)
            rows.extend(results)
            print(config, n, file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")

    print(f"Machine: {machine}. {args.clips} clips per caller at real-time pace.\n")
    print("| configuration | callers | EoS→transcript p50 / p95 s | missing | load | kept up |")
    print("|---|---|---|---|---|---|")
    single: dict[str, float] = {}
    for config in args.configs:
        for n in args.callers:
            rs = [r for r in rows if r["config"] == config and r["callers"] == n]
            vals = [r["latency_s"] for r in rs if r["latency_s"] is not None]
            missing = sum(1 for r in rs if r["latency_s"] is None)
            p50 = statistics.median(vals) if vals else float("nan")
            single.setdefault(config, p50)
            kept = missing == 0 and p50 <= 1.5 * single[config]
            p95 = percentile(vals, 0.95) if vals else float("nan")
            print(
                f"| {config} | {n} | {p50:.2f} / {p95:.2f} | {missing} "
                f"| {rs[0]['load']:.1f} | {'yes' if kept else 'no'} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
