"""The handoff case a teller receives (contract.md: Case)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard, get_args

from voice_agent.speech_dialect import SpeechDialect
from voice_agent.understanding import Understanding

CaseStatus = Literal["open", "escalated", "accepted", "rejected", "interrupted"]
"""Where a case stands in the tellers' queue (contract.md)."""

CASE_STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)

HandoffReason = Literal[
    "recording",
    "complete",
    "teller_request",
    "risk",
    "unclear_limit",
    "caller_hangup",
    "disconnected",
    "dialect_speech",
    "system_interrupted",
    "callback_requested",
]
"""Why a teller has the case (contract.md: handoff_reason)."""

HANDOFF_REASONS: tuple[HandoffReason, ...] = get_args(HandoffReason)

FieldSource = Literal["speech", "customer_profile", "teller"]
"""Where a form field's value came from (contract.md)."""


def is_handoff_reason(reason: str) -> TypeGuard[HandoffReason]:
    """Whether ``reason`` is one of :data:`HANDOFF_REASONS`."""
    return reason in HANDOFF_REASONS


@dataclass(frozen=True)
class TranscriptSegment:
    """One recognised turn, with its time in the recording."""

    start: float
    end: float
    text: str
    normalized_text: str
    unclear: bool = False
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    #: The dialect-speech judgement of the turn's audio (voice_agent.speech_dialect).
    speech_dialect: SpeechDialect | None = None
    #: The second engine whose text this is (a Wu recogniser), None for the main one.
    engine: str | None = None
    #: The turn's audio as Opus in OGG (voice_agent.recording); never in the JSON.
    audio: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class FormField:
    """One field of the transaction form and where its value came from."""

    value: int | str
    confidence: float
    source: FieldSource
    evidence: str = ""


@dataclass(frozen=True)
class Form:
    """The transaction form for the chosen intent, and what it still lacks."""

    type: str
    fields: dict[str, FormField] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The contract's ``form`` object."""
        return {
            "type": self.type,
            "fields": {
                k: {
                    "value": f.value,
                    "confidence": round(f.confidence, 3),
                    "source": f.source,
                    "evidence": f.evidence,
                }
                for k, f in self.fields.items()
            },
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class Case:
    """Everything a teller needs: the understanding plus transcript, form, summary.

    ``handoff_reason`` says why the teller has it: ``recording`` (an uploaded
    file), or from a live call ``complete`` (read back and confirmed),
    ``teller_request``, ``risk`` (a high-risk fraud cue), ``unclear_limit``,
    ``caller_hangup`` or ``disconnected``.
    """

    case_id: str
    created_at: str
    customer_id: str | None
    scenario: str | None
    audio_seconds: float
    transcript: tuple[TranscriptSegment, ...]
    understanding: Understanding
    form: Form
    summary: str
    timings_ms: dict[str, int]
    status: CaseStatus = "open"
    needs_repeat: bool = False
    read_back: str = ""
    disconnected: bool = False
    handoff_reason: HandoffReason = "recording"
    #: Set when the audio itself was judged dialect speech: the case's
    #: ``dialect`` is then this judgement (``source: speech``).
    speech_dialect: SpeechDialect | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's Case object: an Understanding plus the case fields."""
        out = self.understanding.to_json()
        if self.speech_dialect is not None and self.speech_dialect.is_dialect:
            out["dialect"] = self.speech_dialect.to_json()
        out.update(
            {
                "case_id": self.case_id,
                "created_at": self.created_at,
                "customer_id": self.customer_id,
                "scenario": self.scenario,
                "audio_seconds": round(self.audio_seconds, 2),
                "transcript": [
                    {
                        "start": round(s.start, 2),
                        "end": round(s.end, 2),
                        "text": s.text,
                        "normalized_text": s.normalized_text,
                        "unclear": s.unclear,
                        **(
                            {"dialect": s.speech_dialect.to_json()}
                            if s.speech_dialect is not None and s.speech_dialect.is_dialect
                            else {}
                        ),
                        **({"engine": s.engine} if s.engine else {}),
                        "has_audio": s.audio is not None,
                    }
                    for s in self.transcript
                ],
                "form": self.form.to_json(),
                "summary": self.summary,
                "timings_ms": dict(self.timings_ms),
                "status": self.status,
                "needs_repeat": self.needs_repeat,
                "read_back": self.read_back,
                "disconnected": self.disconnected,
                "handoff_reason": self.handoff_reason,
            }
        )
        return out
