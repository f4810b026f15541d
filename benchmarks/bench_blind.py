"""Accuracy on a labelled set written apart from the training data.

Our dev set was written by the people who wrote the catalog and the rules,
so its scores flatter us. The blind set (tests/data/text/blind_utterances.jsonl)
was written by someone who had not read them, the way the bank's held-out
check will be. This harness runs the whole text path (``build_frontdesk``,
as ``frontdesk understand`` does) and prints the figures the bank checks,
then every failure grouped by kind so a fix can target a phenomenon.

Scoring follows intents/evaluation.py: a row's slots are right when every
gold slot has its gold value and no other slot *of the gold intent's form*
was found (slots outside the form never reach a teller's screen). A fraud
row is caught, and a legitimate row is a false alarm, when it gets any
fraud flag other than the two supporting cues.

    .venv/bin/python benchmarks/bench_blind.py [FILE.jsonl ...] [--data-dir DIR]

Several files share one build (the first build trains the classifier).
``--data-dir`` reuses a stored model; leave it out after changing the
catalog or the lexicon, since a stored model is not retrained.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machine import describe_machine

from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "tests/data/text/blind_utterances.jsonl"
SUPPORTING = frozenset({"secrecy_pressure", "third_party_instruction"})


@dataclass
class Tally:
    """Counts for one labelled file, and its failures by kind."""

    n: int = 0
    intent: int = 0
    by_dialect: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    slot: int = 0
    slot_n: int = 0
    dialect: int = 0
    fraud_n: int = 0
    fraud_hit: int = 0
    legit_n: int = 0
    false_alarm: int = 0
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _fraud_codes(result: dict[str, Any]) -> set[str]:
    return {f["code"] for f in result["risk"]["flags"] if f["category"] == "fraud"}


def score(desk: FrontDesk, rows: list[dict[str, Any]]) -> Tally:
    """Run every row through ``desk`` and count hits and failures."""
    t = Tally()
    for row in rows:
        text = row["text"]
        understood = desk.understand(text)
        result = understood.to_json()
        t.n += 1
        gold_intent = row["intent"]
        got_intent = result["intent"]["code"]
        ok = got_intent == gold_intent
        t.intent += ok
        dialect = row.get("dialect", "")
        t.by_dialect[dialect][0] += ok
        t.by_dialect[dialect][1] += 1
        norm = result["normalized_text"]
        if not ok:
            t.failures[f"intent {gold_intent} -> {got_intent}"].append(f"{text}  ⇒  {norm}")

        if row.get("slots") is not None:
            t.slot_n += 1
            form = set(desk.catalog.spec(gold_intent).slots)
            got = {k: v for k, v in result["slots"].items() if k in form}
            gold = dict(row["slots"])
            if got == gold:
                t.slot += 1
            else:
                for k in sorted(set(gold) | set(got)):
                    if got.get(k) != gold.get(k):
                        kind = "missed" if k not in got else "extra" if k not in gold else "wrong"
                        t.failures[f"slot {k} {kind}"].append(
                            f"{text}  gold={gold.get(k)!r} got={got.get(k)!r}  ⇒  {norm}"
                        )

        if dialect:
            got_dialect = result["dialect"]["code"]
            t.dialect += got_dialect == dialect
            if got_dialect != dialect:
                t.failures[f"dialect {dialect} -> {got_dialect}"].append(
                    f"{text}  markers={result['dialect']['markers']}"
                )

        codes = _fraud_codes(result)
        strong = codes - SUPPORTING
        if row.get("fraud"):
            t.fraud_n += 1
            t.fraud_hit += bool(strong)
            if not strong:
                t.failures["fraud missed"].append(
                    f"{text}  gold={row.get('fraud_flags')} got={sorted(codes)}"
                )
        else:
            t.legit_n += 1
            t.false_alarm += bool(strong)
            if strong:
                flags = understood.risk.flags
                evidence = [f"{f.code}:{f.evidence} [{f.cue}]" for f in flags if f.code in strong]
                t.failures["fraud false alarm"].append(f"{text}  flags={evidence}")
    return t


def _pct(hit: int, n: int) -> str:
    return f"{hit / n:.3f} ({hit}/{n})" if n else "n/a"


def report(name: str, t: Tally, show_failures: bool) -> None:
    """Print the headline figures, then the failures by kind."""
    print(f"\n## {name} ({t.n} utterances)\n")
    print("| metric | value | bank's bar |")
    print("|---|---|---|")
    print(f"| intent accuracy | {_pct(t.intent, t.n)} | ≥ 0.90 |")
    for d in sorted(t.by_dialect):
        hit, n = t.by_dialect[d]
        bar = "≥ 0.85" if d == "shanghainese" else "—"
        print(f"| intent accuracy, {d or 'unlabelled'} | {_pct(hit, n)} | {bar} |")
    print(f"| slot accuracy | {_pct(t.slot, t.slot_n)} | ≥ 0.90 |")
    n_dialect = sum(n for d, (_, n) in t.by_dialect.items() if d)
    print(f"| dialect accuracy | {_pct(t.dialect, n_dialect)} | ≥ 0.85 |")
    print(f"| fraud recall | {_pct(t.fraud_hit, t.fraud_n)} | ≥ 0.90 |")
    print(f"| fraud false alarms | {_pct(t.false_alarm, t.legit_n)} | ≤ 0.10 |")
    if not show_failures:
        return
    print("\n### Failures by kind\n")
    for kind in sorted(t.failures, key=lambda k: (-len(t.failures[k]), k)):
        print(f"- {kind}: {len(t.failures[kind])}")
        for line in t.failures[kind]:
            print(f"    - {line}")


def main() -> None:
    """Build the text-only Front Desk once and score each labelled file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path, nargs="*", default=[BLIND])
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse a stored model")
    parser.add_argument("--no-failures", action="store_true", help="figures only")
    args = parser.parse_args()

    print(describe_machine())
    with tempfile.TemporaryDirectory() as tmp:
        desk = build_frontdesk(Settings(data_dir=args.data_dir or Path(tmp)), load_asr=False)
        for path in args.data:
            rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
            report(path.name, score(desk, rows), not args.no_failures)


if __name__ == "__main__":
    main()
