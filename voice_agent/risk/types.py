"""Values the risk engine produces and consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialects.types import Normalised
from intents.types import Slots

RISK_LEVELS = ("none", "low", "medium", "high")
CATEGORIES = ("fraud", "transaction", "customer")


@dataclass(frozen=True)
class RiskFlag:
    """One reason for concern, with the customer's words that triggered it.

    Attributes:
        code: flag code from taxonomy.md (safe_account, large_amount ...).
        category: ``fraud``, ``transaction`` or ``customer``.
        evidence: the customer's own words (original text, not normalised)
            or, for transaction/customer flags, the fact (e.g. 五万块).
        advice: one line for the teller saying what to check.
        name: the flag's Chinese name for screens (安全账户 ...).
        cue: the rule words that matched, joined by "+" (验证码+告诉), so
            the risk team sees which phrasing fired even when the customer's
            words were an ASR homophone (验证马).
    """

    code: str
    category: str
    evidence: str
    advice: str
    name: str = ""
    cue: str = ""


@dataclass(frozen=True)
class RiskAssessment:
    """The risk level of an utterance or call, and every flag behind it."""

    level: str = "none"
    score: float = 0.0
    flags: tuple[RiskFlag, ...] = ()

    def has(self, code: str) -> bool:
        """Whether a flag with ``code`` was raised."""
        return any(f.code == code for f in self.flags)


@dataclass(frozen=True)
class RiskInput:
    """Everything the risk engine looks at for one assessment.

    Attributes:
        normalised: the utterance (original and Mandarin text).
        intent: the intent code chosen for it.
        slots: slots found (amount, payee_account ...).
        customer_id: whose profile to compare against, if known.
        history: earlier utterances of the same call (original text), so cues
            spread across turns (limit raise, then transfer) are seen.
        history_intents: intent codes of those earlier utterances.
    """

    normalised: Normalised
    intent: str
    slots: Slots
    customer_id: str | None = None
    history: tuple[str, ...] = field(default=())
    history_intents: tuple[str, ...] = field(default=())
