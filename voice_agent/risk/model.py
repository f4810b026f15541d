"""The compiled risk rules: flag codes and the frozen dataclasses rules.yaml becomes.

Kept apart from loading (``rules``) and matching (``matching``) so the
engine, the loader and the matcher share one vocabulary without importing
each other's machinery, and so a reader sees what a rule *is* without
wading through how the YAML is validated. The flag codes live here because
:meth:`LevelPolicy.evaluate` needs each flag's category; ``rules``
re-exports them for callers that import them from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from voice_agent.risk.types import RISK_LEVELS

FRAUD_FLAGS = (
    "safe_account",
    "impersonate_authority",
    "impersonate_service",
    "impersonate_acquaintance",
    "investment_fraud",
    "loan_fraud",
    "credit_repair",
    "task_rebate",
    "romance_fraud",
    "remote_control",
    "secrecy_pressure",
    "third_party_instruction",
    "fraud_reported",
)
TRANSACTION_FLAGS = (
    "large_amount",
    "unusual_amount",
    "new_payee",
    "blacklisted_payee",
    "limit_raise_before_transfer",
)
CUSTOMER_FLAGS = ("elderly", "repeated_attempts")
ALL_FLAGS = FRAUD_FLAGS + TRANSACTION_FLAGS + CUSTOMER_FLAGS
FLAG_CATEGORY: dict[str, str] = {
    **{c: "fraud" for c in FRAUD_FLAGS},
    **{c: "transaction" for c in TRANSACTION_FLAGS},
    **{c: "customer" for c in CUSTOMER_FLAGS},
}


@dataclass(frozen=True)
class Term:
    """One phrasing; ``pinyin`` is its padded toneless pinyin, or "" for chars-only."""

    text: str
    pinyin: str
    syllables: int


@dataclass(frozen=True)
class Pattern:
    """A word from every group, non-overlapping, spanning at most ``within`` chars."""

    groups: tuple[tuple[Term, ...], ...]
    within: int | None = None


@dataclass(frozen=True)
class CueSet:
    """Patterns that raise a signal, and the hard negatives that cancel it."""

    cues: tuple[Pattern, ...] = ()
    not_within: tuple[Pattern, ...] = ()
    not_if: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class FlagRule:
    """One flag's definition: what the teller sees and how it weighs."""

    code: str
    category: str
    name: str
    weight: float
    advice: str
    enabled: bool = True
    cueset: CueSet = CueSet()


@dataclass(frozen=True)
class TransactionRules:
    """Parameters of the transaction and customer flags (see rules.yaml)."""

    large_threshold: int
    large_intents: tuple[str, ...]
    unusual_max_multiple: float
    unusual_median_multiple: float
    unusual_min_past: int
    unusual_intents: tuple[str, ...]
    new_payee_intents: tuple[str, ...]
    limit_intents: tuple[str, ...]
    limit_transfer_intents: tuple[str, ...]
    limit_raise: CueSet
    limit_lower: CueSet
    transfer_words: CueSet
    elderly_min_age: int
    elderly_intents: tuple[str, ...]
    elderly_with_fraud: bool
    repeated_min_earlier: int
    repeated_intents: tuple[str, ...]
    repeated_cues: CueSet


@dataclass(frozen=True)
class Combination:
    """At least ``min_level`` when, for every group, one of its flags is raised."""

    any_of: tuple[tuple[str, ...], ...]
    min_level: str


@dataclass(frozen=True)
class LevelPolicy:
    """How flags become a score and a level (taxonomy.md "Risk level")."""

    weights: Mapping[str, float]
    thresholds: tuple[tuple[str, float], ...]  # ascending: (level, min score)
    high_flags: frozenset[str]
    supporting_cues: frozenset[str]
    fraud_floor: str
    combinations: tuple[Combination, ...]

    def evaluate(self, codes: Iterable[str]) -> tuple[str, float]:
        """Return ``(level, score)`` for a set of raised flag codes.

        The score is a noisy-OR of the flags' weights (independent pieces of
        evidence each close part of the gap to 1). The level is the highest
        of: the score's threshold level, ``high`` for a high flag, the fraud
        floor for any non-supporting fraud flag, and any combination met.
        """
        present = set(codes)
        if not present:
            return "none", 0.0
        miss = 1.0
        for code in present:
            miss *= 1.0 - self.weights.get(code, 0.0)
        score = 1.0 - miss
        rank = 0
        for level, minimum in self.thresholds:
            if score >= minimum:
                rank = max(rank, RISK_LEVELS.index(level))
        if present & self.high_flags:
            rank = RISK_LEVELS.index("high")
        if any(FLAG_CATEGORY.get(c) == "fraud" and c not in self.supporting_cues for c in present):
            rank = max(rank, RISK_LEVELS.index(self.fraud_floor))
        for combo in self.combinations:
            if all(present.intersection(group) for group in combo.any_of):
                rank = max(rank, RISK_LEVELS.index(combo.min_level))
        return RISK_LEVELS[rank], round(score, 4)


@dataclass(frozen=True)
class RuleSet:
    """Everything rules.yaml says, compiled."""

    source: str
    flags: Mapping[str, FlagRule]
    transaction: TransactionRules
    levels: LevelPolicy
    terms: tuple[Term, ...]  # every distinct term, for one pass of matching
