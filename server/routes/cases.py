"""The teller's queue: list, read, correct and decide cases; live queue events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from server.deps import CatalogDep, DbDep, TellerDep, UnicodeJSONResponse
from server.repository import (
    DECISIONS,
    correct_case,
    decide_case,
    list_queue,
    open_case,
    queue_version,
)
from server.routing import route_queue
from server.schemas import STAFF, CaseDetail, Queue, errors

router = APIRouter(prefix="/api/cases")

#: How often the event stream looks at the database. Polling the shared
#: database (not an in-process signal) is what makes events reach tellers
#: connected to any of several servers.
POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0


class CorrectionBody(BaseModel):
    """A teller's correction: the right intent and/or form field values."""

    intent: str | None = None
    fields: dict[str, Any] | None = None
    reason: str | None = None


class DecisionBody(BaseModel):
    """Accept, reject or escalate; a reason is required to reject or escalate."""

    # A closed set in the schema; the repository's check names the valid ones in its 422.
    decision: str = Field(json_schema_extra={"enum": list(DECISIONS)})
    reason: str | None = None


@router.get("", response_model=Queue, responses=errors(*STAFF))
def list_cases(
    request: Request,
    db: DbDep,
    user: TellerDep,
    catalog: CatalogDep,
    status: Literal["open", "all"] = "open",
) -> UnicodeJSONResponse:
    """Open cases (``?status=all``: every case), risky first, then longest waiting.

    A dialect case shows first only to tellers who speak the dialect
    (server.routing), then to everyone if none of them is logged in.
    """
    names = {spec.code: spec.name for spec in catalog}
    cases = list_queue(db, names, include_closed=status == "all")
    settings = request.app.state.settings
    cases = route_queue(
        db,
        cases,
        user,
        wait_s=settings.speech_dialect.route_wait_s,
        idle_minutes=settings.server.session_idle_minutes,
    )
    return UnicodeJSONResponse({"cases": cases})


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `queue` events and keep-alives",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **errors(*STAFF),
    },
)
async def queue_events(request: Request, user: TellerDep) -> StreamingResponse:
    """Server-Sent Events: a ``queue`` event whenever any case is added or changes.

    The first event comes at once (the console loads the queue on it); the
    page refetches ``GET /api/cases`` on each event.
    """
    sessions = request.app.state.sessions

    def version() -> str:
        with sessions() as session:
            return queue_version(session)

    async def stream() -> AsyncIterator[str]:
        last: str | None = None
        quiet = 0.0
        while not await request.is_disconnected():
            current: str | None = last
            # The database restarting must not end the stream: resume when it is back.
            with contextlib.suppress(SQLAlchemyError):
                current = await run_in_threadpool(version)
            if current != last:
                last, quiet = current, 0.0
                yield f"event: queue\ndata: {json.dumps({'version': current})}\n\n"
            elif quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": keepalive\n\n"
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{case_id}", response_model=CaseDetail, responses=errors(*STAFF, 404))
def get_case(case_id: str, db: DbDep, user: TellerDep) -> UnicodeJSONResponse:
    """The full case (account unmasked), its status, audit trail and decision.

    Opening a case is audited: who looked at which customer's case, when.
    """
    return UnicodeJSONResponse(open_case(db, case_id, actor=user.username))


@router.patch("/{case_id}", response_model=CaseDetail, responses=errors(*STAFF, 404, 409))
def patch_case(
    case_id: str, body: CorrectionBody, db: DbDep, user: TellerDep, catalog: CatalogDep
) -> UnicodeJSONResponse:
    """Correct the intent and/or form fields; audited, and queued as a correction.

    409 once the case is accepted or rejected: decided cases are frozen.
    """
    required = {spec.code: spec.required for spec in catalog}
    detail = correct_case(
        db,
        case_id,
        actor=user.username,
        required_by_intent=required,
        intent=body.intent,
        fields=body.fields,
        reason=body.reason,
    )
    return UnicodeJSONResponse(detail)


@router.post("/{case_id}/decision", response_model=CaseDetail, responses=errors(*STAFF, 404, 409))
def decide(case_id: str, body: DecisionBody, db: DbDep, user: TellerDep) -> UnicodeJSONResponse:
    """Accept, reject or escalate the case (audited), under the maker–checker rules.

    An escalated case is decided by a supervisor who did not escalate it;
    accepting a high-risk case needs a reason and a teller who did not
    change its amount or payee (403 otherwise).
    """
    detail = decide_case(
        db,
        case_id,
        actor=user.username,
        role=user.role,
        decision=body.decision,
        reason=body.reason,
    )
    return UnicodeJSONResponse(detail)
