"""The JSON events a live call sends to the customer's page (contract.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TranscriptEvent:
    """What was heard in one turn; ``unclear`` turns are asked again."""

    text: str
    normalized_text: str
    unclear: bool

    def to_json(self) -> dict[str, Any]:
        """``{"type": "transcript", "text", "normalized_text", "unclear"}``."""
        return {
            "type": "transcript",
            "text": self.text,
            "normalized_text": self.normalized_text,
            "unclear": self.unclear,
        }


@dataclass(frozen=True)
class PromptEvent:
    """A short question (or a repeat of the last one)."""

    text: str
    reason: str = ""
    slot: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"type": "prompt", "text"}`` plus the dialogue's reason and the slot asked for."""
        return {"type": "prompt", "text": self.text, "reason": self.reason, "slot": self.slot}


@dataclass(frozen=True)
class ConfirmEvent:
    """A read-back of the form, waiting for 对 / 不对."""

    text: str
    form: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"type": "confirm", "text", "form"}``."""
        return {"type": "confirm", "text": self.text, "form": self.form}


@dataclass(frozen=True)
class CaseEvent:
    """The handoff: the case is in the tellers' queue."""

    text: str
    reason: str
    case: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """``{"type": "case", "case"}`` plus the sentence said and why."""
        return {"type": "case", "text": self.text, "reason": self.reason, "case": self.case}


@dataclass(frozen=True)
class ErrorEvent:
    """Something the client did wrong, or the call could not go on."""

    message: str

    def to_json(self) -> dict[str, Any]:
        """``{"type": "error", "message"}``."""
        return {"type": "error", "message": self.message}


LiveEvent = TranscriptEvent | PromptEvent | ConfirmEvent | CaseEvent | ErrorEvent
