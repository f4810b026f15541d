"""Service routes: understand a sentence, take an uploaded call recording.

No staff login: these are called by the bank's own systems (mobile app
back end) and the customer page.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from models.errors import InputError
from server.deps import FrontDeskDep, UnicodeJSONResponse
from server.errors import InvalidChoiceError
from server.repository import save_case
from voice_agent.dialogue import SCENARIO_CODES

router = APIRouter(prefix="/api")

#: contract.md: why the mobile app sent the customer here.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


class UnderstandBody(BaseModel):
    """A sentence to understand, and whose profile to weigh it against."""

    text: str
    customer_id: str | None = None


def understand_text(frontdesk: FrontDeskDep, body: UnderstandBody) -> UnicodeJSONResponse:
    """Shared by /api/understand and the product console's /api/catalog/try."""
    if not body.text.strip():
        raise InputError("empty text: give a sentence to understand")
    understanding = frontdesk.understand(body.text, customer_id=body.customer_id)
    return UnicodeJSONResponse(understanding.to_json())


@router.post("/understand")
def understand(body: UnderstandBody, frontdesk: FrontDeskDep) -> UnicodeJSONResponse:
    """Text → Understanding (contract.md)."""
    return understand_text(frontdesk, body)


@router.post("/calls", status_code=201)
async def upload_call(
    request: Request,
    frontdesk: FrontDeskDep,
    file: UploadFile,
    customer_id: str | None = Form(default=None),
    scenario: str | None = Form(default=None),
) -> UnicodeJSONResponse:
    """A recorded call → a Case, stored and queued for tellers (201).

    Unreadable audio is a 400 naming the problem; nothing is stored then.
    """
    scenario = scenario or None
    if scenario is not None and scenario not in SCENARIO_CODES:
        raise InvalidChoiceError(
            f"unknown scenario {scenario!r}; valid scenarios: {', '.join(SCENARIO_CODES)}"
        )
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"upload larger than {MAX_UPLOAD_BYTES // 2**20} MiB refused")
    if not data:
        raise InputError(f"uploaded file {file.filename!r} is empty")
    # Decoding, VAD and Whisper are seconds of CPU: keep them off the event loop.
    case = await asyncio.to_thread(frontdesk.handle_audio, data, customer_id or None, scenario)

    def store() -> None:
        with request.app.state.sessions() as session:
            save_case(session, case)

    await run_in_threadpool(store)
    return UnicodeJSONResponse(case.to_json(), status_code=201)
