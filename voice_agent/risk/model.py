"""The compiled risk rules: flag codes and the frozen dataclasses rules.yaml becomes.

Kept apart from loading (``rules``) and matching (``matching``) so the
engine, the loader and the matcher share one vocabulary without importing
each other's machinery, and so a reader sees what a rule *is* without
wading through how the YAML is validated. The flag codes live here because
:meth:`LevelPolicy.evaluate` needs each flag's category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
    "prize_fraud",
    "kidnapping_hoax",
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


@dataclass(frozen=True, eq=False)
class Term:
    """One phrasing; ``pinyin`` is its padded toneless pinyin, or "" for chars-only.

    Compared and hashed by identity: the loader makes one Term per distinct
    phrasing, and matching looks terms up in dicts hundreds of times per
    utterance, where hashing three fields was a third of the engine's time.
    """

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
    scripts: CueSet = CueSet()  # known scam scripts: raise the flag and count without an ask


@dataclass(frozen=True)
class PartRules:
    """The three parts of a scam story (rules.yaml ``parts:``), kind → cues.

    ``pretext``: who they claim to be; ``ask``: moving money or handing over
    credentials; ``pressure``: urgency, threats, secrecy.
    """

    pretext: Mapping[str, CueSet]
    ask: Mapping[str, CueSet]
    pressure: Mapping[str, CueSet]
    # Not a part of the scam: what takes its tactics out of the level (a
    # warning or lesson about scams, a request checked with the family, a
    # code typed by a relative beside the caller). See RiskEngine._judge.
    defuse: Mapping[str, CueSet] = field(default_factory=dict)

    def items(self) -> tuple[tuple[str, Mapping[str, CueSet]], ...]:
        """``(part, kinds)`` in taxonomy order."""
        return (("pretext", self.pretext), ("ask", self.ask), ("pressure", self.pressure))


@dataclass(frozen=True)
class FraudLevels:
    """How the scam structure sets the fraud side of the level (rules.yaml ``levels.fraud``).

    Attributes:
        high_harm: tactics that make an ask ``high`` (safe_account ...).
        note: a fraud flag or a pretext without an ask (a note for the teller).
        script: a known scam script, even told only up to the pretext.
        ask: an ask that moves money or credentials, with a fraud flag or pretext.
        ask_high_harm: such an ask with a high-harm tactic or a known script.
    """

    high_harm: frozenset[str]
    note: str = "low"
    script: str = "medium"
    ask: str = "medium"
    ask_high_harm: str = "high"

    def level(
        self,
        rule_flags: Iterable[str],
        model_flags: Iterable[str],
        pretext: bool,
        ask: bool,
        script: bool,
    ) -> str:
        """The structure's level. Model-found flags give context, never a high-harm tactic."""
        rules = set(rule_flags)
        context = bool(rules) or bool(set(model_flags)) or pretext
        if ask and context and (script or rules & self.high_harm):
            return self.ask_high_harm
        levels = ["none"]
        if context or script:
            levels.append(self.note)
        if script:
            levels.append(self.script)
        if ask and context:
            levels.append(self.ask)
        return max(levels, key=RISK_LEVELS.index)


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
    combinations: tuple[Combination, ...]
    fraud: FraudLevels

    def score(self, codes: Iterable[str]) -> float:
        """Noisy-OR of the flags' weights: independent evidence each closes part of the gap to 1."""
        miss = 1.0
        for code in set(codes):
            miss *= 1.0 - self.weights.get(code, 0.0)
        return round(1.0 - miss, 4)

    def evaluate(
        self, codes: Iterable[str], fraud_level: str = "none", ask: bool = False
    ) -> tuple[str, float]:
        """Return ``(level, score)`` for a set of raised flag codes.

        The level is the highest of: ``fraud_level`` (what the scam structure
        supports, :meth:`FraudLevels.level`), the score's threshold level,
        ``high`` for a high flag, and any combination met. A fraud flag other
        than the supporting cues only counts towards the score's level when
        an ask was heard (``ask``): without one it is a note, whatever its
        weight. The score returned is over every flag.
        """
        present = set(codes)
        if not present:
            return fraud_level, 0.0
        counted = {
            c
            for c in present
            if FLAG_CATEGORY.get(c) != "fraud" or c in self.supporting_cues or ask
        }
        rank = RISK_LEVELS.index(fraud_level)
        counted_score = self.score(counted)
        for level, minimum in self.thresholds:
            if counted and counted_score >= minimum:
                rank = max(rank, RISK_LEVELS.index(level))
        if present & self.high_flags:
            rank = RISK_LEVELS.index("high")
        for combo in self.combinations:
            if all(counted.intersection(group) for group in combo.any_of):
                rank = max(rank, RISK_LEVELS.index(combo.min_level))
        return RISK_LEVELS[rank], self.score(present)


@dataclass(frozen=True)
class RuleSet:
    """Everything rules.yaml says, compiled."""

    source: str
    flags: Mapping[str, FlagRule]
    transaction: TransactionRules
    levels: LevelPolicy
    parts: PartRules
    terms: tuple[Term, ...]  # every distinct term, for one pass of matching
