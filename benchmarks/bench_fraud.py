"""Fraud alarms tellers can trust: everyday calls vs scam stories, before and after.

Runs the whole text path (``build_frontdesk``, as ``frontdesk understand``
does) of one or two source trees over the labelled sets and prints the
figures of issue 12 side by side:

- blind everyday calls (``tests/data/text/blind3_calls.jsonl``, rows without
  a ``fraud_code``): share at medium or high (bar ≤ 3 %), share with any
  fraud flag other than the supporting cues, even a low note (bar ≤ 10 %);
- blind scam stories (rows with a ``fraud_code``; ``turns`` when the story
  is told over several utterances): share at medium or high (≥ 95 %), share
  whose fraud type is among the flags (≥ 85 %), and the pretext-only ones;
- the held-out split of the everyday-calls corpus (voice_agent/risk/data);
- dev/blind/blind2 fraud recall and false alarms as ``bench_blind.py``
  counts them (any non-supporting fraud flag);
- per fraud code precision and recall on the blind set, the ten worst
  false alarms with their evidence, and text-path latency per utterance.

A story told over several turns is fed turn by turn with the earlier turns
as history (as the live call does); the call's risk is the highest level
and the union of flags over its turns.

    .venv/bin/python benchmarks/bench_fraud.py --before 451ef83 [--after REV] [--blind FILE]

``--before``/``--after`` take a git revision, checked out into a temporary
worktree and imported in a subprocess (same data files, same machine, same
run); without ``--after`` the working tree is measured. ``--blind`` names
another blind set of the same shape (e.g. ``blind4_calls.jsonl``); its rows
are still reported under the ``blind3`` key of the raw results.
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
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEXT = ROOT / "tests/data/text"
BLIND = TEXT / "blind3_calls.jsonl"
BLIND_ENV = "BENCH_FRAUD_BLIND"  # --blind, handed to the worker subprocess
EVERYDAY = ROOT / "voice_agent/risk/data/everyday_calls.jsonl"
OLD_SETS = ("dev_utterances.jsonl", "blind_utterances.jsonl", "blind2_utterances.jsonl")
SUPPORTING = frozenset({"secrecy_pressure", "third_party_instruction"})
HIGH = ("medium", "high")
RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}


# ------------------------------------------------------------------ worker


def _worker(out: Path) -> None:
    """Run inside the tree under test (cwd and sys.path[0]); write raw results to ``out``."""
    sys.path.insert(0, os.getcwd())
    import voice_agent
    from voice_agent.service import build_frontdesk  # the tree under test, chosen at run time
    from voice_agent.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        desk = build_frontdesk(Settings(data_dir=Path(tmp)), load_asr=False)
        understander = desk.understander

        def run(turns: list[str]) -> dict[str, Any]:
            history: list[str] = []
            intents: list[str] = []
            level = "none"
            flags: dict[str, tuple[str, str, str]] = {}
            seconds: list[float] = []
            for text in turns:
                t0 = time.perf_counter()
                u = understander.understand(
                    text, history=tuple(history), history_intents=tuple(intents)
                )
                seconds.append(time.perf_counter() - t0)
                history.append(text)
                intents.append(u.intent.code)
                if RANK[u.risk.level] > RANK[level]:
                    level = u.risk.level
                for f in u.risk.flags:
                    flags.setdefault(f.code, (f.category, f.evidence, f.cue))
            return {"level": level, "flags": flags, "seconds": seconds}

        results: dict[str, list[dict[str, Any]]] = {}
        blind = Path(os.environ.get(BLIND_ENV, str(BLIND)))
        sets = {"blind3": blind, "everyday": EVERYDAY, **{n: TEXT / n for n in OLD_SETS}}
        for name, path in sets.items():
            rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
            if name == "everyday":
                rows = [r for r in rows if r["split"] == "test"]
            out_rows = []
            for r in rows:
                turns = r.get("turns") or [r["text"]]
                out_rows.append({"row": r, **run([str(t) for t in turns])})
            results[name] = out_rows
    out.write_text(
        json.dumps({"module": voice_agent.__file__, "results": results}, ensure_ascii=False),
        "utf-8",
    )


# ------------------------------------------------------------------ parent


def _measure(rev: str | None) -> dict[str, Any]:
    """Run the worker on a worktree of ``rev`` (None: this working tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = ROOT
        if rev is not None:
            tree = Path(tmp) / "tree"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                check=True,
                capture_output=True,
            )
        out = Path(tmp) / "out.json"
        try:
            subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--worker", str(out)],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                check=True,
            )
            data: dict[str, Any] = json.loads(out.read_text("utf-8"))
        finally:
            if rev is not None:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=False,
                    capture_output=True,
                )
    return data


def _strong(r: dict[str, Any]) -> set[str]:
    return {c for c, (cat, _, _) in r["flags"].items() if cat == "fraud"} - SUPPORTING


def _fraud(r: dict[str, Any]) -> set[str]:
    return {c for c, (cat, _, _) in r["flags"].items() if cat == "fraud"}


def _pct(hit: int, n: int) -> str:
    return f"{hit / n:.3f} ({hit}/{n})" if n else "n/a"


def figures(data: dict[str, Any]) -> dict[str, str]:
    """The headline figures of one tree."""
    res = data["results"]
    out: dict[str, str] = {}
    blind = res["blind3"]
    everyday = [r for r in blind if not r["row"].get("fraud_code")]
    scams = [r for r in blind if r["row"].get("fraud_code")]
    pretext = [r for r in scams if r["row"].get("pretext_only")]
    multi = [r for r in scams if len(r["row"].get("turns") or []) > 1]
    out["blind everyday: medium/high (≤ 0.03)"] = _pct(
        sum(r["level"] in HIGH for r in everyday), len(everyday)
    )
    out["blind everyday: any non-supporting fraud flag (≤ 0.10)"] = _pct(
        sum(bool(_strong(r)) for r in everyday), len(everyday)
    )
    out["blind scams: medium/high (≥ 0.95)"] = _pct(
        sum(r["level"] in HIGH for r in scams), len(scams)
    )
    out["blind scams: fraud type named (≥ 0.85)"] = _pct(
        sum(r["row"]["fraud_code"] in _fraud(r) for r in scams), len(scams)
    )
    out["blind scams: high"] = _pct(sum(r["level"] == "high" for r in scams), len(scams))
    out["blind scams told only to the pretext: medium/high"] = _pct(
        sum(r["level"] in HIGH for r in pretext), len(pretext)
    )
    out["blind scams told over 2+ turns: medium/high"] = _pct(
        sum(r["level"] in HIGH for r in multi), len(multi)
    )
    held = res["everyday"]
    out["everyday corpus, held-out split: medium/high"] = _pct(
        sum(r["level"] in HIGH for r in held), len(held)
    )
    out["everyday corpus, held-out split: any non-supporting fraud flag"] = _pct(
        sum(bool(_strong(r)) for r in held), len(held)
    )
    for name in OLD_SETS:
        rows = res[name]
        fraud = [r for r in rows if r["row"].get("fraud")]
        legit = [r for r in rows if not r["row"].get("fraud")]
        short = name.replace("_utterances.jsonl", "")
        out[f"{short}: fraud recall (flag)"] = _pct(
            sum(bool(_strong(r)) for r in fraud), len(fraud)
        )
        out[f"{short}: fraud at medium/high"] = _pct(
            sum(r["level"] in HIGH for r in fraud), len(fraud)
        )
        out[f"{short}: false alarms (flag)"] = _pct(
            sum(bool(_strong(r)) for r in legit), len(legit)
        )
        out[f"{short}: legitimate at medium/high"] = _pct(
            sum(r["level"] in HIGH for r in legit), len(legit)
        )
    single = [
        s for rows in res.values() for r in rows if len(r["seconds"]) == 1 for s in r["seconds"]
    ]
    ms = sorted(1000 * s for s in single)
    out["text path ms per utterance, median / p90 (≤ 5 median)"] = (
        f"{statistics.median(ms):.2f} / {ms[int(0.9 * len(ms))]:.2f} (n={len(ms)})"
    )
    return out


def per_code(data: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """Per fraud code on the blind set: precision, recall, gold count."""
    blind = data["results"]["blind3"]
    codes = sorted({r["row"]["fraud_code"] for r in blind if r["row"].get("fraud_code")})
    out = []
    for code in codes:
        gold = [r for r in blind if r["row"].get("fraud_code") == code]
        pred = [r for r in blind if code in _fraud(r)]
        tp = sum(1 for r in pred if r["row"].get("fraud_code") == code)
        out.append((code, _pct(tp, len(pred)), _pct(tp, len(gold)), len(gold)))
    return out


def worst(data: dict[str, Any], n: int = 10) -> list[str]:
    """The ``n`` worst false alarms on blind everyday calls, with the evidence that fired."""
    rows = [
        r
        for r in data["results"]["blind3"]
        if not r["row"].get("fraud_code") and (r["level"] in HIGH or _strong(r))
    ]
    rows.sort(key=lambda r: (-RANK[r["level"]], -len(_strong(r))))
    lines = []
    for r in rows[:n]:
        ev = "; ".join(
            f"{c}: 「{e}」 [{cue}]" for c, (cat, e, cue) in r["flags"].items() if cat == "fraud"
        )
        text = " / ".join(r["row"].get("turns") or [r["row"]["text"]])
        lines.append(f"| {r['level']} | {text} | {ev} |")
    return lines


def misses(data: dict[str, Any]) -> list[str]:
    """Blind scam stories below medium, with what was heard."""
    out = []
    for r in data["results"]["blind3"]:
        if r["row"].get("fraud_code") and r["level"] not in HIGH:
            text = " / ".join(r["row"].get("turns") or [r["row"]["text"]])
            out.append(f"- {r['row']['fraud_code']} → {r['level']} {sorted(_fraud(r))}: {text}")
    return out


def main() -> None:
    """Measure the trees and print the report (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="git revision measured as 'before'")
    parser.add_argument("--after", help="git revision measured as 'after' (default: working tree)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--details", action="store_true", help="list every missed scam story")
    parser.add_argument(
        "--blind", type=Path, default=BLIND, help="the blind set (reported under 'blind3')"
    )
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker)
        return
    os.environ[BLIND_ENV] = str(args.blind.resolve())

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from machine import describe_machine

    print(describe_machine())
    runs: dict[str, dict[str, Any]] = {}
    if args.before:
        runs[f"before ({args.before})"] = _measure(args.before)
    runs[f"after ({args.after or 'working tree'})"] = _measure(args.after)
    tables = {name: figures(d) for name, d in runs.items()}
    kinds = Counter(
        str(r["row"].get("kind")) for r in next(iter(runs.values()))["results"]["blind3"]
    )
    print(f"\nblind set {args.blind.name} rows by kind: {dict(kinds)}\n")
    names = list(tables)
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for metric in tables[names[0]]:
        print(f"| {metric} | " + " | ".join(tables[n][metric] for n in names) + " |")
    for name, d in runs.items():
        print(f"\n### {name}: per fraud code on the blind set\n")
        print("| code | precision | recall | gold rows |")
        print("|---|---|---|---|")
        for code, p, rec, g in per_code(d):
            print(f"| {code} | {p} | {rec} | {g} |")
        print(f"\n### {name}: ten worst false alarms on blind everyday calls\n")
        print("| level | call | fraud flags: evidence [cue] |")
        print("|---|---|---|")
        print("\n".join(worst(d)))
        if args.details:
            print(f"\n### {name}: blind scam stories below medium\n")
            print("\n".join(misses(d)))


if __name__ == "__main__":
    main()
