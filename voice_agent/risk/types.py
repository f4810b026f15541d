"""Values the risk engine produces and consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


FRAUD_PARTS = ("pretext", "ask", "pressure")


@dataclass(frozen=True)
class PartEvidence:
    """One part of a scam story, in the customer's own words.

    Attributes:
        part: ``pretext`` (who they claim to be), ``ask`` (what the caller is
            asked to do with money or credentials) or ``pressure`` (urgency,
            threats, secrecy).
        kind: the rule's name for it (authority, transfer, fee, urgency ...).
        evidence: the customer's words.
        turn: which utterance of the call said it (0 = first); the current
            utterance is ``len(history)``.
    """

    part: str
    kind: str
    evidence: str
    turn: int = 0


@dataclass(frozen=True)
class FraudJudgement:
    """The structure behind the fraud side of a risk level (taxonomy.md "Risk level").

    Attributes:
        pretext, ask, pressure: what was heard of each part, over the call so far.
        script: the fraud code of a known scam script heard (中了特等奖 →
            prize_fraud), "" if none; a script counts even without an ask.
        missing: the parts not heard yet, in ``FRAUD_PARTS`` order, so the
            teller sees what to ask about ("missing: ask").
        level: the level the structure alone supports.
        defused: what took the tactics out of the level (part ``defuse``:
            a warning or lesson about scams the caller retells, a request
            checked with the family, a code typed by a relative beside the
            caller); the flags stay as a note for the teller unless the
            caller says they were cheated.
    """

    pretext: tuple[PartEvidence, ...] = ()
    ask: tuple[PartEvidence, ...] = ()
    pressure: tuple[PartEvidence, ...] = ()
    script: str = ""
    missing: tuple[str, ...] = FRAUD_PARTS
    level: str = "none"
    defused: tuple[PartEvidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The contract's ``risk.fraud`` object."""

        def part(items: tuple[PartEvidence, ...]) -> list[dict[str, Any]]:
            return [{"kind": p.kind, "evidence": p.evidence, "turn": p.turn} for p in items]

        return {
            "pretext": part(self.pretext),
            "ask": part(self.ask),
            "pressure": part(self.pressure),
            "missing": list(self.missing),
            "script": self.script or None,
            "level": self.level,
        }


@dataclass(frozen=True)
class RiskAssessment:
    """The risk level of an utterance or call, every flag behind it, and the scam structure."""

    level: str = "none"
    score: float = 0.0
    flags: tuple[RiskFlag, ...] = ()
    fraud: FraudJudgement = field(default_factory=FraudJudgement)

    def has(self, code: str) -> bool:
        """Whether a flag with ``code`` was raised."""
        return any(f.code == code for f in self.flags)

    def to_json(self) -> dict[str, Any]:
        """The contract's ``risk`` object: level, score, flags, plus the scam's structure."""
        return {
            "level": self.level,
            "score": round(self.score, 3),
            "flags": [
                {"code": f.code, "category": f.category, "evidence": f.evidence, "advice": f.advice}
                for f in self.flags
            ],
            "fraud": self.fraud.to_json(),
        }


@dataclass(frozen=True)
class RiskInput:
    """Everything the risk engine looks at for one assessment.

    Attributes:
        normalised: the utterance (original and Mandarin text).
        intent: the intent code chosen for it.
        slots: slots found (amount, payee_account ...).
        customer_id: whose profile to compare against, if known.
        history: earlier utterances of the same call (original text), so cues
            spread across turns (limit raise, then transfer; a scam's pretext,
            then its ask) are seen.
        history_intents: intent codes of those earlier utterances.
    """

    normalised: Normalised
    intent: str
    slots: Slots
    customer_id: str | None = None
    history: tuple[str, ...] = field(default=())
    history_intents: tuple[str, ...] = field(default=())
