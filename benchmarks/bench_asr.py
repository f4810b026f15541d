"""ASR benchmark: load time, per-utterance latency, CER and peak memory on the fixtures.

Compares Front Desk's engine (Whisper base, int8, beam 1, banking prompt,
temperature 0, guards) with a peer on the same clips in the same run:
faster-whisper's library defaults (float32, beam 5, temperature fallback,
no prompt), language fixed to zh. openai-whisper and transformers' Whisper
pipeline need Hugging Face or OpenAI checkpoints, which cannot be fetched
offline, so faster-whisper's defaults are the peer.

Each configuration runs in its own fresh interpreter, so load time is
"cold-ish" (first load in a process, files in the page cache) and peak RSS
belongs to that configuration alone. The end-to-end figure is what
``frontdesk handle`` spends after load: decode the file, find speech with
Silero, transcribe the speech span.

Usage::

    .venv/bin/python benchmarks/bench_asr.py            # print table, append RESULTS.md
    .venv/bin/python benchmarks/bench_asr.py --no-append
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from machine import describe_machine, percentile

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

CONFIGS = {
    "frontdesk": "Front Desk: int8, beam 1, banking prompt, temp 0, guards",
    "peer": "faster-whisper defaults: float32, beam 5, temp fallback, no prompt",
}


def _worker(config: str) -> dict[str, Any]:
    """Measure one configuration in this (fresh) process; return the figures."""
    t_import = time.perf_counter()
    from faster_whisper import WhisperModel
    from metrics import character_error_rate

    from models.text import to_simplified
    from models.whisper_assets import load_whisper, resolve_asr_model
    from voice_agent.asr import WhisperEngine
    from voice_agent.audio import decode_audio
    from voice_agent.settings import Settings
    from voice_agent.vad import SpeechDetector, crop

    settings = Settings()
    import_s = time.perf_counter() - t_import
    ref = resolve_asr_model(settings.asr.model, settings.model_cache_dir)

    t0 = time.perf_counter()
    if config == "frontdesk":
        engine = WhisperEngine.from_settings(settings.asr, settings.model_cache_dir)
    else:
        model = WhisperModel(ref, device="cpu", compute_type="float32", cpu_threads=2)
    cold_load_s = time.perf_counter() - t0

    # Warm load: the same files again in a process that has loaded them once.
    load_whisper.cache_clear()
    t0 = time.perf_counter()
    if config == "frontdesk":
        engine = WhisperEngine.from_settings(settings.asr, settings.model_cache_dir)
    else:
        model = WhisperModel(ref, device="cpu", compute_type="float32", cpu_threads=2)
    warm_load_s = time.perf_counter() - t0

    vad = SpeechDetector(settings.audio)
    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
    speech = [lab for lab in labels if lab["kind"] == "speech"]

    def transcribe(samples: Any) -> tuple[str, bool]:
        if config == "frontdesk":
            result = engine.transcribe(samples)
            return result.text, result.unclear
        segments, _ = model.transcribe(samples, language="zh")
        return to_simplified("".join(s.text for s in segments)), False

    # One untimed decode: the first call pays for lazy initialisation.
    transcribe(decode_audio(AUDIO / speech[0]["file"], 60).samples)

    rows = []
    for lab in speech:
        t0 = time.perf_counter()
        audio = decode_audio(AUDIO / lab["file"], 60)
        t1 = time.perf_counter()
        spans = vad.speech_spans(audio.samples)
        t2 = time.perf_counter()
        cpu0 = time.process_time()
        if spans:  # one turn per fixture; all of it if VAD found nothing
            whole = replace(spans[0], end_s=spans[-1].end_s)
            samples = crop(audio.samples, whole)
        else:
            samples = audio.samples
        text, unclear = transcribe(samples)
        t3 = time.perf_counter()
        cpu_s = time.process_time() - cpu0
        rows.append(
            {
                "file": lab["file"],
                "duration_s": audio.duration_s,
                "decode_ms": (t1 - t0) * 1000,
                "vad_ms": (t2 - t1) * 1000,
                "asr_ms": (t3 - t2) * 1000,
                "asr_cpu_s": cpu_s,
                "e2e_ms": (t3 - t0) * 1000,
                "cer": character_error_rate(lab["script"], text),
                "keywords": all(w in text for w in lab["keywords"]),
                "unclear": unclear,
                "text": text,
            }
        )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "config": config,
        "import_s": import_s,
        "cold_load_s": cold_load_s,
        "warm_load_s": warm_load_s,
        "peak_rss_mb": peak_rss_mb,
        "rows": rows,
    }


def _table(results: list[dict[str, Any]]) -> str:
    head = (
        "| engine | load cold / warm (s) | ASR median / p90 (s) | ASR CPU time median (s) "
        "| end-to-end median / p90 (s) "
        "| e2e, 4.5–5.5 s clips (s) | CER median / mean | keywords (exact) | unclear "
        "| peak RSS (MB) |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for res in results:
        rows = res["rows"]
        asr = [r["asr_ms"] / 1000 for r in rows]
        e2e = [r["e2e_ms"] / 1000 for r in rows]
        five = [r["e2e_ms"] / 1000 for r in rows if 4.5 <= r["duration_s"] <= 5.5]
        cer = [r["cer"] for r in rows]
        five_txt = f"{statistics.median(five):.2f} (n={len(five)})" if five else "—"
        lines.append(
            f"| {CONFIGS[res['config']]} | {res['cold_load_s']:.2f} / {res['warm_load_s']:.2f} "
            f"| {statistics.median(asr):.2f} / {percentile(asr, 0.9):.2f} "
            f"| {statistics.median(r['asr_cpu_s'] for r in rows):.2f} "
            f"| {statistics.median(e2e):.2f} / {percentile(e2e, 0.9):.2f} | {five_txt} "
            f"| {statistics.median(cer):.1%} / {statistics.mean(cer):.1%} "
            f"| {sum(r['keywords'] for r in rows)}/{len(rows)} "
            f"| {sum(r['unclear'] for r in rows)}/{len(rows)} | {res['peak_rss_mb']:.0f} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> int:
    """Run every configuration in a fresh interpreter, print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    parser.add_argument("--no-append", action="store_true", help="do not touch RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the raw per-clip figures here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker), ensure_ascii=False))
        return 0

    machine = describe_machine()
    results = []
    for config in CONFIGS:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", config],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    table = _table(results)
    n = len(results[0]["rows"])
    text = (
        f"\n## ASR (bench_asr.py) — {dt.date.today().isoformat()}\n\n"
        f"Machine: {machine}.\n"
        f"Clips: {n} synthetic requests in tests/data/audio (2.9–6.1 s, mixed rates/formats); "
        "end-to-end = decode + VAD + ASR of the speech span, after the model is loaded; "
        "cpu_threads=2 for both engines.\n\n" + table
    )
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
