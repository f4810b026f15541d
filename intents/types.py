"""Values the understanding layer produces: intent predictions and slots."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntentScore:
    """One candidate intent and its calibrated probability."""

    code: str
    confidence: float


@dataclass(frozen=True)
class IntentPrediction:
    """The chosen intent, its alternatives, and the words that drove it.

    Attributes:
        code: the intent code (taxonomy.md), ``out_of_scope`` when nothing fits.
        confidence: calibrated probability of ``code``.
        alternatives: the next most likely intents, best first.
        drivers: the words of the input that weighed most for ``code``,
            shown to product staff in the "try a sentence" box.
        model_version: which stored classifier produced this.
    """

    code: str
    confidence: float
    alternatives: tuple[IntentScore, ...] = ()
    drivers: tuple[str, ...] = ()
    model_version: str = ""


@dataclass(frozen=True)
class SlotValue:
    """One extracted slot with the words that gave it.

    Attributes:
        code: slot code from taxonomy.md (amount, payee_name ...).
        value: int for amount/term_months, str otherwise.
        evidence: the customer's words the value came from (e.g. 五万块).
        start: character offset of ``evidence`` in the text it was found in.
        end: end offset (exclusive).
        confidence: how sure the extractor is (pattern strength).
    """

    code: str
    value: int | str
    evidence: str
    start: int
    end: int
    confidence: float = 0.9


@dataclass(frozen=True)
class Slots:
    """All slots found in one utterance; at most one value per slot code."""

    values: tuple[SlotValue, ...] = ()

    def get(self, code: str) -> SlotValue | None:
        """Return the value for ``code`` or None when it was not found."""
        for v in self.values:
            if v.code == code:
                return v
        return None

    def as_dict(self) -> dict[str, int | str]:
        """The contract's ``slots`` object: only the slots that were found."""
        return {v.code: v.value for v in self.values}

    def merged(self, newer: Slots) -> Slots:
        """Slots of a later turn override this turn's, code by code."""
        by_code = {v.code: v for v in self.values}
        for v in newer.values:
            by_code[v.code] = v
        return Slots(tuple(by_code.values()))
