"""Understanding benchmark: load time and per-utterance latency after load.

Runs the text path (dialect → intent → slots → risk) on our labelled
utterances, as ``frontdesk understand`` does, and reports load time,
latency median/p90/p99 per stage, and accuracy on the same set (intent,
Shanghainese intent, slot, dialect, fraud recall and false alarms), so a
speed change is always seen next to its accuracy cost.

    .venv/bin/python benchmarks/bench_understanding.py [--data FILE.jsonl]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from machine import describe_machine, percentile

from voice_agent.risk.types import RiskInput
from voice_agent.service import build_frontdesk
from voice_agent.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SUPPORTING = {"secrecy_pressure", "third_party_instruction"}


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/text/dev_utterances.jsonl")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text("utf-8").splitlines() if line.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        t0 = time.perf_counter()
        desk = build_frontdesk(settings, load_asr=False)  # includes first training
        first_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        desk = build_frontdesk(settings, load_asr=False)  # stored model
        warm_load = time.perf_counter() - t0

    u = desk.understander
    stage: dict[str, list[float]] = {
        "dialect": [],
        "intent": [],
        "slots": [],
        "risk": [],
        "total": [],
    }
    hits = {"intent": 0, "intent_sh": 0, "sh": 0, "slot": 0, "slot_n": 0, "dialect": 0}
    fraud_tp = fraud_n = false_alarm = legit_n = 0
    for _ in range(2):  # first pass warms caches; the second is measured
        for k in stage:
            stage[k].clear()
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
            for i, k in enumerate(("dialect", "intent", "slots", "risk")):
                stage[k].append((t[i + 1] - t[i]) * 1000)
            stage["total"].append((t[-1] - t[0]) * 1000)
    for row in rows:
        result = desk.understand(row["text"]).to_json()
        ok = result["intent"]["code"] == row["intent"]
        hits["intent"] += ok
        if row.get("dialect") == "shanghainese":
            hits["sh"] += 1
            hits["intent_sh"] += ok
        hits["dialect"] += result["dialect"]["code"] == row.get("dialect")
        for code, value in row.get("slots", {}).items():
            hits["slot_n"] += 1
            hits["slot"] += result["slots"].get(code) == value
        fraud_codes = {f["code"] for f in result["risk"]["flags"] if f["category"] == "fraud"}
        if row.get("fraud"):
            fraud_n += 1
            fraud_tp += bool(fraud_codes)
        else:
            legit_n += 1
            false_alarm += bool(fraud_codes - SUPPORTING)
    n = len(rows)
    print(f"## Understanding benchmark ({time.strftime('%Y-%m-%d')})\n")
    print(f"Machine: {describe_machine()}. Data: {args.data.name} ({n} utterances).\n")
    print(f"Load: first start (trains the classifier) {first_load:.2f} s; ", end="")
    print(f"later starts {warm_load:.2f} s.\n")
    print("| stage | median ms | p90 ms | p99 ms |\n|---|---|---|---|")
    for k, v in stage.items():
        p90, p99 = percentile(v, 0.9), percentile(v, 0.99)
        print(f"| {k} | {statistics.median(v):.2f} | {p90:.2f} | {p99:.2f} |")
    print("\n| measure | value |\n|---|---|")
    print(f"| intent accuracy | {hits['intent'] / n:.3f} |")
    if hits["sh"]:
        sh = hits["intent_sh"] / hits["sh"]
        print(f"| intent accuracy, Shanghainese ({hits['sh']}) | {sh:.3f} |")
    if hits["slot_n"]:
        print(f"| slot accuracy ({hits['slot_n']} slots) | {hits['slot'] / hits['slot_n']:.3f} |")
    print(f"| dialect accuracy | {hits['dialect'] / n:.3f} |")
    if fraud_n:
        print(f"| fraud recall ({fraud_n}) | {fraud_tp / fraud_n:.3f} |")
    if legit_n:
        print(f"| fraud false alarms ({legit_n} legitimate) | {false_alarm / legit_n:.3f} |")


if __name__ == "__main__":
    main()
