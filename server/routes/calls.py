"""Service routes: understand a sentence, take an uploaded call, mint call tokens.

Called by the bank's own systems (the mobile app's back end) with a service
key (``Authorization: Bearer KEY``). An uploaded call gets the customer
view back (server.customer_view), never the risk assessment. In demo mode
(``frontdesk serve --demo``) the customer page may also mint a token for
the demo customer, and only for them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from models.errors import InputError
from server.call_tokens import expires_iso, mint, scenario_codes
from server.customer_view import case_view
from server.deps import FrontDeskDep, ServiceDep, UnicodeJSONResponse, limit
from server.errors import (
    InvalidChoiceError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaError,
)
from server.repository import save_case
from server.schemas import SERVICE, CallToken, CustomerCase, Understanding, errors

router = APIRouter(prefix="/api")


class UnderstandBody(BaseModel):
    """A sentence to understand, and whose profile to weigh it against."""

    text: str
    customer_id: str | None = None


class CallTokenBody(BaseModel):
    """Whom a call token is for, why the app sent them, and for how long."""

    customer_id: str
    scenario: str | None = None
    ttl_s: int | None = None


class DemoTokenBody(BaseModel):
    """The demo page's scenario (from its URL), if any."""

    scenario: str | None = None


def understand_text(
    request: Request, frontdesk: FrontDeskDep, body: UnderstandBody
) -> UnicodeJSONResponse:
    """Shared by /api/understand and the product console's /api/catalog/try."""
    if not body.text.strip():
        raise InputError("empty text: give a sentence to understand")
    most = request.app.state.settings.server.max_text_chars
    if len(body.text) > most:
        raise PayloadTooLargeError(f"text longer than {most} characters refused")
    understanding = frontdesk.understand(body.text, customer_id=body.customer_id)
    return UnicodeJSONResponse(understanding.to_json())


@router.post("/understand", response_model=Understanding, responses=errors(*SERVICE, 400, 413, 503))
def understand(
    body: UnderstandBody, request: Request, frontdesk: FrontDeskDep, service: ServiceDep
) -> UnicodeJSONResponse:
    """Text → Understanding (contract.md); for the bank's systems only."""
    return understand_text(request, frontdesk, body)


#: Leading bytes of the audio formats the decoder is meant to read.
def audio_format(head: bytes) -> str | None:
    """``wav``, ``flac``, ``ogg`` or ``mp3`` from the file's first bytes; None otherwise."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _check_scenario(request: Request, scenario: str | None) -> str | None:
    scenario = scenario or None
    valid = scenario_codes(request.app.state.catalog)
    if scenario is not None and scenario not in valid:
        raise InvalidChoiceError(
            f"unknown scenario {scenario!r}; valid scenarios: {', '.join(valid)}"
        )
    return scenario


def _intent_names(request: Request) -> dict[str, str]:
    return {spec.code: spec.name for spec in request.app.state.catalog}


@router.post(
    "/calls",
    status_code=201,
    response_model=CustomerCase,
    responses=errors(*SERVICE, 400, 413, 415, 503),
)
async def upload_call(
    request: Request,
    frontdesk: FrontDeskDep,
    service: ServiceDep,
    file: UploadFile,
    customer_id: str | None = Form(default=None, max_length=128),
    scenario: str | None = Form(default=None),
) -> UnicodeJSONResponse:
    """A recorded call → a Case, stored and queued for tellers (201).

    The body's size is capped while it streams in (server.security), before
    anything is spooled past the limit. Answers the customer view. Audio
    that is not wav, flac, ogg or mp3 is a 415; unreadable audio a 400.
    Nothing is stored then.
    """
    scenario = _check_scenario(request, scenario)
    most = request.app.state.settings.server.max_upload_bytes
    data = await file.read(most + 1)
    if len(data) > most:
        raise PayloadTooLargeError(f"upload larger than {most // 2**20} MiB refused")
    if not data:
        raise InputError(f"uploaded file {file.filename!r} is empty")
    if audio_format(data[:16]) is None:
        raise UnsupportedMediaError(
            f"uploaded file {file.filename!r} is not audio Front Desk accepts: "
            "wav, flac, ogg or mp3"
        )
    # Decoding, VAD and Whisper are seconds of CPU: keep them off the event loop.
    case = await asyncio.to_thread(frontdesk.handle_audio, data, customer_id or None, scenario)

    def store() -> None:
        with request.app.state.sessions() as session:
            save_case(session, case)

    await run_in_threadpool(store)
    return UnicodeJSONResponse(case_view(case.to_json(), _intent_names(request)), status_code=201)


def _token_json(request: Request, customer_id: str, scenario: str | None, ttl_s: int) -> Any:
    server = request.app.state.settings.server
    token, grant = mint(
        request.app.state.call_token_secret,
        customer_id,
        scenario,
        ttl_s,
        scenario_codes(request.app.state.catalog),
        max_ttl_s=server.call_token_max_ttl_s,
    )
    return {"token": token, "expires_at": expires_iso(grant)}


@router.post("/call-tokens", status_code=201, response_model=CallToken, responses=errors(*SERVICE))
def call_token(body: CallTokenBody, request: Request, service: ServiceDep) -> UnicodeJSONResponse:
    """A short-lived token for one customer's live call (the bank's back end asks)."""
    ttl = body.ttl_s or request.app.state.settings.server.call_token_ttl_s
    payload = _token_json(request, body.customer_id, body.scenario, ttl)
    return UnicodeJSONResponse(payload, status_code=201)


@router.post(
    "/demo/call-token",
    status_code=201,
    response_model=CallToken,
    responses=errors(404, 422, 429),
)
def demo_call_token(body: DemoTokenBody, request: Request) -> UnicodeJSONResponse:
    """Demo mode only: a token for the demo customer, so the page works in one click.

    404 unless the server runs with ``--demo``; rate-limited per address.
    """
    server = request.app.state.settings.server
    if not server.demo:
        raise NotFoundError("no demo here: the customer page needs ?token= from the bank's app")
    limit(request, request.app.state.limits["call"], "call tokens")
    payload = _token_json(
        request,
        server.demo_customer_id,
        _check_scenario(request, body.scenario),
        server.call_token_ttl_s,
    )
    return UnicodeJSONResponse(payload, status_code=201)
