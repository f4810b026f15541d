"""A call's running risk: one turn's assessment merged into the call's so far.

The dialogue keeps one :class:`RiskAssessment` per call and folds every
turn into it with :func:`merge_risk`. Each turn is already judged over the
whole call (the engine reads ``RiskInput.history``), so merging only has to
keep what was said: a cue heard once (安全账户) must not disappear because
the next turn was an innocent 对的.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from voice_agent.risk.types import (
    FRAUD_PARTS,
    RISK_LEVELS,
    FraudJudgement,
    PartEvidence,
    RiskAssessment,
)

T = TypeVar("T")


def merge_risk(older: RiskAssessment, newer: RiskAssessment) -> RiskAssessment:
    """The call's risk after another turn.

    Highest level and score; flags united by (code, evidence), older first;
    the scam's parts united the same way, the first script kept, and the
    missing parts re-derived from the union.
    """
    level = max(older.level, newer.level, key=RISK_LEVELS.index)
    flags = _union(older.flags, newer.flags, lambda f: (f.code, f.evidence))
    return RiskAssessment(
        level=level,
        score=max(older.score, newer.score),
        flags=flags,
        fraud=merge_fraud(older.fraud, newer.fraud),
    )


def merge_fraud(older: FraudJudgement, newer: FraudJudgement) -> FraudJudgement:
    """Union of two judgements' parts; the higher structure level; the first script."""

    def key(p: PartEvidence) -> tuple[str, str]:
        return (p.kind, p.evidence)

    parts = {name: _union(getattr(older, name), getattr(newer, name), key) for name in FRAUD_PARTS}
    return FraudJudgement(
        pretext=parts["pretext"],
        ask=parts["ask"],
        pressure=parts["pressure"],
        script=older.script or newer.script,
        missing=tuple(name for name in FRAUD_PARTS if not parts[name]),
        level=max(older.level, newer.level, key=RISK_LEVELS.index),
        defused=_union(older.defused, newer.defused, key),
    )


def _union(
    older: tuple[T, ...], newer: tuple[T, ...], key: Callable[[T], Hashable]
) -> tuple[T, ...]:
    seen: set[Hashable] = set()
    out: list[T] = []
    for item in (*older, *newer):
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return tuple(out)
