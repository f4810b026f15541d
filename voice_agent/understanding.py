"""Text → Understanding: dialect, intent, slots and risk in one call.

The stages are plain Python (no pipecat), so the CLI, the server, the live
call and the tests run exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dialects.types import Normalised
from intents.types import IntentPrediction, Slots
from voice_agent.risk.types import RiskAssessment, RiskInput


class Normaliser(Protocol):
    """Dialect detection and normalisation (dialects.normaliser)."""

    def normalise(self, text: str) -> Normalised:
        """Detect the dialect of ``text`` and return its Mandarin form."""
        ...


class Classifier(Protocol):
    """Intent classifier (intents.classifier)."""

    def predict(self, text: str) -> IntentPrediction:
        """Pick the intent of normalised ``text``."""
        ...


class SlotFinder(Protocol):
    """Slot extraction (intents.slots)."""

    def extract(self, text: str) -> Slots:
        """Find the slots in normalised ``text``."""
        ...


class RiskAssessor(Protocol):
    """Fraud and transaction risk (voice_agent.risk.engine)."""

    def assess(self, request: RiskInput) -> RiskAssessment:
        """Flag fraud cues and transaction risks for one utterance."""
        ...


@dataclass(frozen=True)
class Understanding:
    """What the system understood of one utterance (contract.md: Understanding)."""

    normalised: Normalised
    intent: IntentPrediction
    slots: Slots
    risk: RiskAssessment

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object (codes from taxonomy.md)."""
        return {
            "text": self.normalised.text,
            "normalized_text": self.normalised.normalized_text,
            "dialect": {
                "code": self.normalised.dialect,
                # From the words; a Case may say "speech" (voice_agent.speech_dialect).
                "source": "text",
                "confidence": round(self.normalised.confidence, 3),
                "markers": list(self.normalised.markers),
            },
            "intent": {
                "code": self.intent.code,
                "confidence": round(self.intent.confidence, 3),
                "alternatives": [
                    {"code": a.code, "confidence": round(a.confidence, 3)}
                    for a in self.intent.alternatives
                ],
                "drivers": list(self.intent.drivers),
            },
            "slots": self.slots.as_dict(),
            "risk": self.risk.to_json(),
        }


class Understander:
    """Runs the understanding stages in order for one utterance."""

    def __init__(
        self,
        normaliser: Normaliser,
        classifier: Classifier,
        slot_finder: SlotFinder,
        risk: RiskAssessor,
    ) -> None:
        self.normaliser = normaliser
        self.classifier = classifier
        self.slot_finder = slot_finder
        self.risk = risk

    def understand(
        self,
        text: str,
        customer_id: str | None = None,
        history: tuple[str, ...] = (),
        history_intents: tuple[str, ...] = (),
        *,
        call_slots: Slots | None = None,
        call_intent: str | None = None,
    ) -> Understanding:
        """Understand ``text`` as one turn of a call.

        Args:
            text: the utterance.
            customer_id: whose profile the risk engine compares against.
            history: the call's earlier utterances.
            history_intents: the intent predicted for each of them.
            call_slots: the call's slots so far; transaction risk is judged
                on them merged with this turn's (the payee said in one turn,
                the amount in the next is one large transfer to a new payee).
            call_intent: the intent the call has fixed, if any; risk rules
                that depend on the intent use it instead of this turn's guess.
        """
        normalised = self.normaliser.normalise(text)
        intent = self.classifier.predict(normalised.normalized_text)
        slots = self.slot_finder.extract(normalised.normalized_text)
        risk = self.risk.assess(
            RiskInput(
                normalised=normalised,
                intent=call_intent or intent.code,
                slots=call_slots.merged(slots) if call_slots is not None else slots,
                customer_id=customer_id,
                history=history,
                history_intents=history_intents,
            )
        )
        return Understanding(normalised=normalised, intent=intent, slots=slots, risk=risk)
