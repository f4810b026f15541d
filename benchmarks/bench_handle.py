"""`frontdesk handle` on a dozen clips vs stock faster-whisper on the same files.

Issue 13's file target: the whole ``frontdesk handle A.wav B.wav …`` run,
interpreter start and model loading included, in at most half the time
stock faster-whisper needs to load the same Whisper base and transcribe
the same files. Both sides run as fresh subprocesses, alternately, on the
same files, in the same run; wall time and peak RSS come from the child.

* ``frontdesk`` — ``frontdesk handle FILES…`` with the embedded defaults
  (VAD, right-sized encoder window, dialect layer, understanding, risk,
  one Case per file on stdout);
* ``faster-whisper`` — ``WhisperModel(dir, device="cpu")`` with library
  defaults (float32 on CPU, beam 5, temperature fallback) and
  ``transcribe(path, language="zh")`` per file, every segment consumed:
  transcription only, nothing understood.

One untimed ``frontdesk handle`` run first trains the intent model in the
bench's fresh data directory, as an installed system already has it.

Usage::

    .venv/bin/python benchmarks/bench_handle.py [--clips 12] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe_machine

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
FRONTDESK = Path(sys.executable).with_name("frontdesk")

STOCK = """
import sys
from faster_whisper import WhisperModel
model = WhisperModel(sys.argv[1], device="cpu")
for path in sys.argv[2:]:
    segments, _ = model.transcribe(path, language="zh")
    print("".join(s.text for s in segments), flush=True)
"""


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, list[str]]:
    """Run ``cmd``; return wall seconds and its stdout lines."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, [line for line in done.stdout.splitlines() if line.strip()]


def _peak_rss_mb(cmd: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one run of ``cmd``, measured alone in a fresh wrapper process."""
    probe = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Alternate both configurations over the same files; print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from models.whisper_assets import resolve_asr_model
    from voice_agent.settings import Settings

    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
    files = [str(AUDIO / lab["file"]) for lab in labels if lab["kind"] == "speech"][: args.clips]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-handle-"))
    settings = Settings(data_dir=data_dir)
    model_dir = resolve_asr_model(settings.asr.model, settings.model_cache_dir)
    env = {**os.environ, "FRONTDESK_DATA_DIR": str(data_dir), "OMP_NUM_THREADS": "2"}
    commands = {
        "frontdesk": [str(FRONTDESK), "handle", *files],
        "faster-whisper": [sys.executable, "-c", STOCK, str(model_dir), *files],
    }
    # An installed Front Desk has its intent model trained already: the
    # first run in a fresh data_dir bootstraps it, so it is not timed.
    _run([str(FRONTDESK), "handle", files[0]], env)
    machine = describe_machine()
    walls: dict[str, list[float]] = {name: [] for name in commands}
    loads: list[float] = []
    outputs: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            loads.append(os.getloadavg()[0])
            wall, lines = _run(cmd, env)
            walls[name].append(wall)
            outputs[name] = lines
            print(f"{name}: {wall:.2f} s", file=sys.stderr)
    peaks = {name: _peak_rss_mb(cmd, env) for name, cmd in commands.items()}
    cases = [json.loads(line) for line in outputs["frontdesk"]]
    if len(cases) != len(files) or len(outputs["faster-whisper"]) != len(files):
        raise SystemExit("a configuration did not answer every file")
    fd = statistics.median(walls["frontdesk"])
    fw = statistics.median(walls["faster-whisper"])
    print(f"Machine: {machine}; load average {min(loads):.1f}–{max(loads):.1f} during the run.")
    print(f"{len(files)} clips, {args.rounds} rounds, alternating.\n")
    print("| configuration | wall median (s) | runs (s) | peak RSS (MB) |")
    print("|---|---|---|---|")
    for name, label in (("frontdesk", fd), ("faster-whisper", fw)):
        runs = " / ".join(f"{w:.1f}" for w in walls[name])
        print(f"| {name} | {label:.2f} | {runs} | {peaks[name]:.0f} |")
    print(f"\nfrontdesk handle / stock faster-whisper = {fd / fw:.2f}×")
    if args.json:
        args.json.write_text(
            json.dumps({"walls": walls, "peaks": peaks, "machine": machine}, indent=2), "utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
