"""Understanding benchmark: load time and per-utterance latency after load.

Runs the text path (dialect → intent → slots → risk) on a labelled set, as
``frontdesk understand`` does, and reports load time, latency per stage and
accuracy on the same rows, so a speed change is always seen next to its
accuracy cost. In the same run it measures a peer configuration — the
``sparse+e5`` classifier (multilingual-e5-small embeddings added to the
sparse features) — on the same rows.

    .venv/bin/python benchmarks/bench_understanding.py [--data FILE.jsonl] [--peer BACKEND]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machine import describe_machine, percentile

import models.text as text_helpers
from intents import features
from voice_agent.risk.types import RiskInput
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings, UnderstandingSettings

ROOT = Path(__file__).resolve().parent.parent
SUPPORTING = {"secrecy_pressure", "third_party_instruction"}
STAGES = ("dialect", "intent", "slots", "risk", "total")


@dataclass
class Run:
    """One configuration's figures."""

    backend: str
    first_load_s: float = 0.0
    warm_load_s: float = 0.0
    ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in STAGES})
    acc: dict[str, float] = field(default_factory=dict)


def _load(backend: str, tmp: Path) -> tuple[FrontDesk, float, float]:
    settings = Settings(
        data_dir=tmp,
        understanding=UnderstandingSettings(classifier_backend=backend),  # type: ignore[arg-type]
    )
    t0 = time.perf_counter()
    build_frontdesk(settings, load_asr=False)  # trains and stores the first model
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    desk = build_frontdesk(settings, load_asr=False)  # loads the stored model
    return desk, first, time.perf_counter() - t0


def _clear_caches() -> None:
    """A live utterance is new text: per-text caches must not flatter the figures."""
    features._embed_one.cache_clear()
    text_helpers.pinyin_syllables.cache_clear()
    text_helpers.phrase_pinyin.cache_clear()


def _time_stages(desk: FrontDesk, rows: list[dict[str, Any]], run: Run) -> None:
    u = desk.understander
    for _ in range(2):  # the first pass warms code paths; the second is measured
        for v in run.ms.values():
            v.clear()
        _clear_caches()
        for row in rows:
            t = [time.perf_counter()]
            norm = u.normaliser.normalise(row["text"])
            t.append(time.perf_counter())
            intent = u.classifier.predict(norm.normalized_text)
            t.append(time.perf_counter())
            slots = u.slot_finder.extract(norm.normalized_text)
            t.append(time.perf_counter())
            u.risk.assess(RiskInput(norm, intent.code, slots, row.get("customer_id")))
            t.append(time.perf_counter())
            for i, k in enumerate(STAGES[:-1]):
                run.ms[k].append((t[i + 1] - t[i]) * 1000)
            run.ms["total"].append((t[-1] - t[0]) * 1000)


def _accuracy(desk: FrontDesk, rows: list[dict[str, Any]]) -> dict[str, float]:
    n = sh = sh_ok = ok = dialect_ok = slot_n = slot_ok = 0
    fraud_n = fraud_tp = legit_n = alarms = 0
    for row in rows:
        result = desk.understand(row["text"]).to_json()
        n += 1
        hit = result["intent"]["code"] == row["intent"]
        ok += hit
        if row.get("dialect") == "shanghainese":
            sh += 1
            sh_ok += hit
        dialect_ok += result["dialect"]["code"] == row.get("dialect")
        for code, value in row.get("slots", {}).items():
            slot_n += 1
            slot_ok += result["slots"].get(code) == value
        fraud = {f["code"] for f in result["risk"]["flags"] if f["category"] == "fraud"}
        if row.get("fraud"):
            fraud_n += 1
            fraud_tp += bool(fraud)
        else:
            legit_n += 1
            alarms += bool(fraud - SUPPORTING)
    return {
        "intent accuracy": ok / n,
        f"intent accuracy, Shanghainese (n={sh})": sh_ok / max(sh, 1),
        f"gold slot values found (n={slot_n})": slot_ok / max(slot_n, 1),
        "dialect accuracy": dialect_ok / n,
        f"fraud recall (n={fraud_n})": fraud_tp / max(fraud_n, 1),
        f"fraud false alarms (n={legit_n})": alarms / max(legit_n, 1),
    }


def main() -> None:
    """Run the benchmark for our default and the peer; print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/text/dev_utterances.jsonl")
    parser.add_argument("--peer", default="sparse+e5", help="peer classifier backend")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text("utf-8").splitlines() if line.strip()]
    machine = describe_machine()
    runs = []
    for backend in ("sparse", args.peer):
        with tempfile.TemporaryDirectory() as tmp:
            desk, first, warm = _load(backend, Path(tmp))
            run = Run(backend, first, warm)
            _time_stages(desk, rows, run)
            run.acc = _accuracy(desk, rows)
            runs.append(run)

    print(f"## Understanding (bench_understanding.py) — {time.strftime('%Y-%m-%d')}\n")
    print(f"Machine: {machine}. Data: {args.data.name} ({len(rows)} utterances).\n")
    head = " | ".join(r.backend for r in runs)
    print(f"| measure | {head} |\n|---|" + "---|" * len(runs))
    print("| load, first start (trains), s | " + " | ".join(f"{r.first_load_s:.2f}" for r in runs))
    print("| load, later starts, s | " + " | ".join(f"{r.warm_load_s:.2f}" for r in runs))
    for k in STAGES:
        cells = [f"{statistics.median(r.ms[k]):.2f} / {percentile(r.ms[k], 0.9):.2f}" for r in runs]
        print(f"| {k} ms, median / p90 | " + " | ".join(cells))
    for key in runs[0].acc:
        print(f"| {key} | " + " | ".join(f"{r.acc.get(key, 0.0):.3f}" for r in runs))


if __name__ == "__main__":
    main()
