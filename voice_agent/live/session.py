"""One call's state: turns heard, dialogue state, and the teller's case.

Free of pipecat on purpose: the pipeline's processor hands it each
recognised turn, and the route hands it the end of the call, so the rules
about what is saved (and when) are in one place.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from models.errors import InputError
from voice_agent.case import Case, Form, HandoffReason, TranscriptSegment, is_handoff_reason
from voice_agent.casebuilder import new_case_id
from voice_agent.dialogue import DialogueEvent
from voice_agent.live.events import (
    CaseEvent,
    ConfirmEvent,
    LiveEvent,
    PromptEvent,
    TranscriptEvent,
)

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk

log = logging.getLogger(__name__)

SendEvent = Callable[[LiveEvent], Awaitable[None]]
SaveCase = Callable[[Case], None]
#: Stores, after every finished turn, the case the call would become if the
#: server died now (status ``interrupted``): the write-ahead of issue 10.
Checkpoint = Callable[[Case], None]


@dataclass(frozen=True)
class CallStart:
    """The client's first frame: who is calling and why the app sent them."""

    customer_id: str | None = None
    scenario: str | None = None


def parse_call_start(text: str, valid_scenarios: Collection[str]) -> CallStart:
    """Parse and check the first JSON text frame of a call.

    Args:
        text: the frame.
        valid_scenarios: the scenario codes the catalog declares
            (``FrontDesk.scenarios``).

    Raises:
        InputError: not a JSON object, wrong types, or an unknown scenario
            (the message lists the valid ones).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"first frame must be a JSON object: {e.msg} at {e.pos}") from e
    if not isinstance(data, dict):
        raise InputError(
            'first frame must be a JSON object like {"customer_id": "...", "scenario": "..."}'
        )
    customer_id = data.get("customer_id")
    scenario = data.get("scenario")
    if customer_id is not None and not isinstance(customer_id, str):
        raise InputError("customer_id must be a string or absent")
    valid = [s for s in valid_scenarios if s is not None]
    if scenario is not None and scenario not in valid:
        raise InputError(f"unknown scenario {scenario!r} (valid: {', '.join(valid)}, or none)")
    return CallStart(customer_id=customer_id or None, scenario=scenario)


@dataclass(frozen=True)
class RecognisedTurn:
    """One VAD-cut turn as ASR heard it, with how long recognition took."""

    segment: TranscriptSegment
    asr_ms: int


class CallSession:
    """Runs the dialogue over a call's turns and hands the case over.

    Args:
        frontdesk: the loaded system (understander, catalog, case builder).
        save_case: stores a finished case in the tellers' queue.
        send: delivers an event to the customer's page; failures (the page
            went away) are logged, never raised, so the case is still saved.
        start: customer id and scenario from the first frame.
        checkpoint: called after every finished turn, before the reply is
            said, with the case so far; a failure is logged and the call goes on.
    """

    def __init__(
        self,
        frontdesk: FrontDesk,
        save_case: SaveCase,
        send: SendEvent,
        start: CallStart,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.frontdesk = frontdesk
        self.checkpoint = checkpoint
        # Fixed at the start, so every checkpoint and the final case are one case.
        self.case_id = new_case_id()
        self.save_case = save_case
        self._send = send
        self.start = start
        self.dialogue = frontdesk.dialogue_for(start.customer_id)
        opening = self.dialogue.start(start.scenario)
        self.state = opening.state
        self.greeting = opening.event
        self.segments: list[TranscriptSegment] = []
        self.timings_ms: dict[str, int] = {"asr": 0, "understand": 0}
        self.audio_seconds = 0.0
        self.disconnected = False
        self.confirmed_form: Form | None = None
        self.case: Case | None = None
        self.handed_over = asyncio.Event()

    async def open(self) -> None:
        """Greet the caller."""
        await self.emit(PromptEvent(self.greeting.text, self.greeting.reason))

    async def emit(self, event: LiveEvent) -> None:
        """Send ``event``; a closed page must not lose the case."""
        try:
            await self._send(event)
        except Exception as e:
            log.info("live call: could not send %s: %s", type(event).__name__, e)

    async def on_turn(self, turn: RecognisedTurn) -> None:
        """Handle one recognised turn: transcript, understanding, next utterance."""
        if self.case is not None:
            return  # the call is the teller's now; later speech is in the audio only
        seg = turn.segment
        self.segments.append(seg)
        self.timings_ms["asr"] += turn.asr_ms
        await self.emit(TranscriptEvent(seg.text, seg.normalized_text, seg.unclear))
        t0 = time.perf_counter()
        step = await asyncio.to_thread(
            self.frontdesk.hear, self.dialogue, self.state, seg, self.start.customer_id
        )
        self.timings_ms["understand"] += round((time.perf_counter() - t0) * 1000)
        self.state = step.state
        if step.event.kind != "case":  # a handoff saves the case itself, at once
            await asyncio.to_thread(self._write_ahead)
        await self._say(step.event)

    def _write_ahead(self) -> None:
        if self.checkpoint is None or self.case is not None:
            return
        try:
            snapshot = self._project("system_interrupted")
            self.checkpoint(replace(snapshot, status="interrupted"))
        except Exception:  # the call goes on; the final save still happens
            log.warning("live call %s: checkpoint failed", self.case_id, exc_info=True)

    async def _say(self, event: DialogueEvent) -> None:
        if event.kind == "prompt":
            await self.emit(PromptEvent(event.text, event.reason, event.slot))
        elif event.kind == "confirm":
            form = self.frontdesk.case_builder.form(self.state)
            self.confirmed_form = form
            await self.emit(ConfirmEvent(event.text, form.to_json()))
        else:
            reason = event.reason if is_handoff_reason(event.reason) else "complete"
            case = await asyncio.to_thread(self.close_case, reason)
            await self.emit(CaseEvent(event.text, event.reason, case.to_json() if case else {}))

    def close_case(self, reason: HandoffReason = "complete") -> Case | None:
        """Project the dialogue's state into the case and save it (once).

        None when the caller said nothing. The case's form is the form of the
        last read-back: both are :meth:`CaseBuilder.form` of the same state.
        Blocking (storage): call it in a thread.
        """
        if self.case is not None:
            return self.case
        if not self.segments:
            return None
        case = self._project(reason)
        self.save_case(case)
        self.case = case
        self.handed_over.set()
        return case

    def _project(self, reason: HandoffReason) -> Case:
        case = self.frontdesk.case_builder.project(
            self.state,
            self.segments,
            self.start.customer_id,
            self.audio_seconds,
            {**self.timings_ms, "turns": len(self.segments)},
            disconnected=self.disconnected,
            handoff_reason=reason,
        )
        return replace(case, case_id=self.case_id)
