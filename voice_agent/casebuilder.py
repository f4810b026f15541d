"""Assemble a Case from a call's turns: one place for files and live calls.

``frontdesk handle`` (a recording cut by VAD) and the live WebSocket call
(turns cut by pipecat) both end here, so a teller sees the same case
whichever way the customer came in.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from intents.types import Slots
from voice_agent.case import Case, Form, TranscriptSegment
from voice_agent.form import KnownPayeeFacts, build_form
from voice_agent.summary import summarise
from voice_agent.understanding import Understander, Understanding

SHANGHAI = timezone(timedelta(hours=8))
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

TENTATIVE_CONFIDENCE = 0.3
"""Highest intent confidence when only unclear speech was heard."""

PayeeLookup = Callable[[str, str], KnownPayeeFacts | None]
"""(customer_id, relation) → the profile's payee facts for that relation."""


def new_case_id(now: float | None = None) -> str:
    """A sortable unique id (ULID-like: 48-bit ms time + 80 random bits)."""
    ms = int((time.time() if now is None else now) * 1000)
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "c_" + "".join(reversed(chars))


@dataclass(frozen=True)
class IntentFacts:
    """What the case builder needs to know about an intent from the catalog."""

    name: str
    required: tuple[tuple[str, ...], ...]


class CaseBuilder:
    """Turns transcript segments into a teller-ready Case."""

    def __init__(
        self,
        understander: Understander,
        intents: Mapping[str, IntentFacts],
        flag_names: Mapping[str, str],
        payee_lookup: PayeeLookup,
    ) -> None:
        self.understander = understander
        self.intents = intents
        self.flag_names = flag_names
        self.payee_lookup = payee_lookup

    def form_for(
        self, intent: str, slots: Slots, intent_confidence: float, customer_id: str | None
    ) -> Form:
        """The form for ``intent``; a payee named by relation is completed from the profile."""
        facts = self.intents.get(intent, IntentFacts(name=intent, required=()))
        relation = slots.get("payee_relation")
        payee = (
            self.payee_lookup(customer_id, str(relation.value))
            if relation is not None and customer_id and intent == "transfer"
            else None
        )
        return build_form(intent, slots, facts.required, intent_confidence, profile_payee=payee)

    def understand_call(
        self,
        transcript: Sequence[TranscriptSegment],
        customer_id: str | None,
        intent_hint: str | None = None,
    ) -> Understanding:
        """Understand everything clearly said in the call as one request.

        Slots and risk cues are often spread over turns (the amount in one,
        the payee in the next), so the clear turns are joined and understood
        together; the earlier turns also go in as history for risk rules.

        When nothing was clear but ASR did produce words, those words are
        still understood, tentatively: the intent's confidence is capped at
        :data:`TENTATIVE_CONFIDENCE` (the case is marked for repetition), but
        fraud cues in them are kept — a scam victim mumbling must not lose
        the teller's warning.
        """
        clear = [s.text for s in transcript if not s.unclear and s.text.strip()]
        tentative = not clear
        if tentative:
            clear = [s.text for s in transcript if s.text.strip()]
        joined = "，".join(clear)
        understanding = self.understander.understand(
            joined, customer_id=customer_id, history=tuple(clear[:-1])
        )
        if tentative:
            capped = tuple(
                replace(a, confidence=min(a.confidence, TENTATIVE_CONFIDENCE))
                for a in understanding.intent.alternatives
            )
            intent = replace(
                understanding.intent,
                confidence=min(understanding.intent.confidence, TENTATIVE_CONFIDENCE),
                alternatives=capped,
            )
            understanding = replace(understanding, intent=intent)
        if intent_hint and intent_hint != understanding.intent.code:
            understanding = self.understander.with_intent(
                understanding, intent_hint, customer_id=customer_id, history=tuple(clear[:-1])
            )
        return understanding

    def build(
        self,
        transcript: Sequence[TranscriptSegment],
        customer_id: str | None,
        scenario: str | None,
        audio_seconds: float,
        timings_ms: Mapping[str, int],
        *,
        understanding: Understanding | None = None,
        disconnected: bool = False,
        handoff_reason: str = "recording",
    ) -> Case:
        """Build the case; ``understanding`` defaults to :meth:`understand_call`."""
        if understanding is None:
            understanding = self.understand_call(transcript, customer_id)
        needs_repeat = not any(not s.unclear and s.text.strip() for s in transcript)
        intent = understanding.intent.code
        facts = self.intents.get(intent, IntentFacts(name=intent, required=()))
        form = self.form_for(
            intent, understanding.slots, understanding.intent.confidence, customer_id
        )
        summary = summarise(
            intent,
            facts.name,
            form,
            understanding.risk,
            self.flag_names,
            understanding.normalised.dialect,
            scenario=scenario,
            needs_repeat=needs_repeat,
        )
        return Case(
            case_id=new_case_id(),
            created_at=datetime.now(SHANGHAI).isoformat(timespec="seconds"),
            customer_id=customer_id,
            scenario=scenario,
            audio_seconds=audio_seconds,
            transcript=tuple(transcript),
            understanding=understanding,
            form=form,
            summary=summary,
            timings_ms=dict(timings_ms),
            needs_repeat=needs_repeat,
            disconnected=disconnected,
            handoff_reason="disconnected" if disconnected else handoff_reason,
        )
