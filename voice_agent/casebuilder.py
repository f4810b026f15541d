"""Project a call's final dialogue state into the teller's Case.

The dialogue state is the call's one truth: the form the caller confirmed,
the intent it fixed, the risk it merged turn by turn. A case is a view of
that state plus the transcript and timings, never a second understanding of
the joined transcript, so what the customer confirmed is what the teller
receives. ``frontdesk handle`` (a recording cut by VAD) runs the same fold
over its turns, so a file and a live call end up here the same way.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Protocol

from dialects.types import MANDARIN, Normalised, Replacement
from intents.taxonomy import OUT_OF_SCOPE
from intents.templates import Template, default_summary
from intents.types import IntentPrediction, IntentScore
from voice_agent.case import Case, Form, HandoffReason, TranscriptSegment
from voice_agent.dialogue import DialogueState
from voice_agent.form import build_form
from voice_agent.speech_dialect import SpeechDialect
from voice_agent.summary import summarise
from voice_agent.understanding import Understanding
from voice_agent.wording import render_readback

SHANGHAI = timezone(timedelta(hours=8))
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_JOIN = "，"

TENTATIVE_CONFIDENCE = 0.3
"""Highest intent confidence when only unclear speech was heard."""


class IntentFacts(Protocol):
    """What the case needs of a catalog intent (intents.catalog.IntentSpec)."""

    @property
    def name(self) -> str:
        """Chinese display name."""
        ...

    @property
    def required(self) -> tuple[tuple[str, ...], ...]:
        """Required any-of slot groups."""
        ...

    @property
    def summary(self) -> Template:
        """The request part of the teller's summary."""
        ...

    @property
    def readback(self) -> Template:
        """Which facts the read-back names."""
        ...


def new_case_id(now: float | None = None) -> str:
    """A sortable unique id (ULID-like: 48-bit ms time + 80 random bits)."""
    ms = int((time.time() if now is None else now) * 1000)
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "c_" + "".join(reversed(chars))


def call_intent(state: DialogueState) -> IntentPrediction:
    """The call's intent: the one the dialogue fixed, else its best guess.

    A guess from unclear speech only is capped at :data:`TENTATIVE_CONFIDENCE`
    (the case is marked for repetition).
    """
    pred = state.prediction or IntentPrediction(OUT_OF_SCOPE, 0.0)
    if state.intent is not None and state.intent != pred.code:
        # Fixed by the scenario (or a scenario's expected intent): keep the
        # classifier's own choice as the first alternative for the teller.
        pred = replace(
            pred,
            code=state.intent,
            confidence=1.0 if not state.intent_assumed else max(pred.confidence, 0.5),
            alternatives=(IntentScore(pred.code, pred.confidence), *pred.alternatives),
        )
    if state.tentative:
        pred = replace(
            pred,
            confidence=min(pred.confidence, TENTATIVE_CONFIDENCE),
            alternatives=tuple(
                replace(a, confidence=min(a.confidence, TENTATIVE_CONFIDENCE))
                for a in pred.alternatives
            ),
        )
    return pred


def call_normalised(state: DialogueState) -> Normalised:
    """The call's words as one utterance: turns joined, dialect over all of them.

    Replacement offsets are shifted into the joined text, so the console can
    highlight the dialect words of any turn.
    """
    texts: list[str] = []
    replacements: list[Replacement] = []
    offset = 0
    for n in state.heard:
        replacements += [
            replace(r, start=r.start + offset, end=r.end + offset) for r in n.replacements
        ]
        texts.append(n.text)
        offset += len(n.text) + len(_JOIN)
    dialects = [n for n in state.heard if n.dialect != MANDARIN]
    strongest = max(dialects, key=lambda n: n.confidence) if dialects else None
    mandarin_conf = max((n.confidence for n in state.heard), default=1.0)
    return Normalised(
        text=_JOIN.join(texts),
        normalized_text=_JOIN.join(n.normalized_text for n in state.heard),
        dialect=strongest.dialect if strongest else MANDARIN,
        confidence=strongest.confidence if strongest else mandarin_conf,
        replacements=tuple(replacements),
    )


def call_speech_dialect(transcript: Sequence[TranscriptSegment]) -> SpeechDialect | None:
    """The call's dialect from the audio: its surest turn judged dialect speech, if any."""
    judged = [
        s.speech_dialect
        for s in transcript
        if s.speech_dialect is not None and s.speech_dialect.is_dialect
    ]
    return max(judged, key=lambda d: d.confidence) if judged else None


class CaseBuilder:
    """Projects dialogue states into forms and cases.

    Args:
        intents: intent code → its catalog facts (``Catalog.intents``).
        flag_names: risk flag code → Chinese name, for the summary.
        scenario_notes: scenario code → the teller's note on it (catalog).
    """

    def __init__(
        self,
        intents: Mapping[str, IntentFacts],
        flag_names: Mapping[str, str],
        scenario_notes: Mapping[str, str],
    ) -> None:
        self.intents = intents
        self.flag_names = flag_names
        self.scenario_notes = scenario_notes

    def form(self, state: DialogueState) -> Form:
        """The form as the call stands: what the read-back names and the case holds."""
        pred = call_intent(state)
        spec = self.intents.get(pred.code)
        required = spec.required if spec is not None else ()
        return build_form(pred.code, state.slots, required, pred.confidence, state.profile)

    def read_back(self, state: DialogueState) -> str:
        """The read-back of the call's form as the caller hears it (account tail only).

        The same template and wording as the dialogue's confirm, so the
        caller's view of a case repeats what they were asked to confirm.
        """
        pred = call_intent(state)
        spec = self.intents.get(pred.code)
        if spec is None:
            return ""
        form = self.form(state)
        filled = {code: f.value for code, f in form.fields.items()}
        return render_readback(spec.readback, filled, spec.name, "", "").rstrip("。") + "。"

    def understanding(self, state: DialogueState) -> Understanding:
        """The contract's Understanding of the whole call, from its state."""
        return Understanding(
            normalised=call_normalised(state),
            intent=call_intent(state),
            slots=state.slots,
            risk=state.risk,
        )

    def project(
        self,
        state: DialogueState,
        transcript: Sequence[TranscriptSegment],
        customer_id: str | None,
        audio_seconds: float,
        timings_ms: Mapping[str, int],
        *,
        disconnected: bool = False,
        handoff_reason: HandoffReason = "recording",
    ) -> Case:
        """The teller's case for a call whose dialogue ended in ``state``."""
        understanding = self.understanding(state)
        speech = call_speech_dialect(transcript)
        form = self.form(state)
        intent = understanding.intent.code
        spec = self.intents.get(intent)
        summary = summarise(
            spec.summary if spec is not None else default_summary(),
            spec.name if spec is not None else intent,
            form,
            state.risk,
            self.flag_names,
            speech.code if speech is not None else understanding.normalised.dialect,
            scenario_note=self.scenario_notes.get(state.scenario or "", ""),
            needs_repeat=state.tentative,
            out_of_scope=intent == OUT_OF_SCOPE,
        )
        return Case(
            case_id=new_case_id(),
            created_at=datetime.now(SHANGHAI).isoformat(timespec="seconds"),
            customer_id=customer_id,
            scenario=state.scenario,
            audio_seconds=audio_seconds,
            transcript=tuple(transcript),
            understanding=understanding,
            form=form,
            summary=summary,
            timings_ms=dict(timings_ms),
            needs_repeat=state.tentative,
            read_back=self.read_back(state),
            disconnected=disconnected,
            handoff_reason="disconnected" if disconnected else handoff_reason,
            speech_dialect=speech,
        )
