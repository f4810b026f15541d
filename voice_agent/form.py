"""Fill the transaction form for the chosen intent and list what is missing.

The form is what the teller would otherwise type. Values come from the
customer's words first; a payee the customer named by relation (我儿子) is
completed from the customer's profile, marked ``customer_profile`` so the
teller knows to confirm it rather than trust it as spoken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intents.types import Slots
from voice_agent.case import Form, FormField


@dataclass(frozen=True)
class KnownPayeeFacts:
    """What the customer's profile says about a payee they named by relation."""

    name: str | None
    account: str | None
    bank: str | None


def build_form(
    intent: str,
    slots: Slots,
    required: Sequence[Sequence[str]],
    intent_confidence: float,
    profile: Slots | None = None,
) -> Form:
    """Build the form for ``intent`` from the slots found in the call.

    Args:
        intent: the intent code; it is the form type.
        slots: slots found in the customer's words.
        required: the intent's required slots as any-of groups; when no slot
            of a group is filled, the group's first code is reported missing.
        intent_confidence: scales each field's confidence: a value read out
            of a sentence we barely understood deserves less trust.
        profile: facts from the customer's profile (a payee named by
            relation), used only for fields the customer did not say and
            marked ``customer_profile`` so the teller confirms them.

    Returns:
        The form with every found field and the missing required ones.
    """
    fields: dict[str, FormField] = {}
    scale = 0.5 + 0.5 * max(0.0, min(1.0, intent_confidence))
    for v in slots.values:
        fields[v.code] = FormField(
            value=v.value,
            confidence=round(v.confidence * scale, 3),
            source="speech",
            evidence=v.evidence,
        )
    for v in (profile or Slots()).values:
        if v.code not in fields:
            fields[v.code] = FormField(
                value=v.value, confidence=round(v.confidence, 3), source="customer_profile"
            )
    return Form(type=intent, fields=fields, missing=missing_fields(fields, required))


def missing_fields(
    fields: dict[str, FormField], required: Sequence[Sequence[str]]
) -> tuple[str, ...]:
    """The required slots not yet filled (also after a teller's edit)."""
    return tuple(
        group[0] for group in required if group and not any(code in fields for code in group)
    )
