"""``WS /ws/call``: the customer's live call (contract.md).

The route only moves bytes and JSON: the first text frame says who calls
and why (``{"customer_id"?, "scenario"?}``), then binary frames carry 16 kHz
mono signed 16-bit PCM, and the server answers with JSON events
(transcript, prompt, confirm, case, error). Everything else is
voice_agent.live: the pipecat pipeline, the dialogue and the case.

When the case is handed over the server closes the socket normally; when
the caller goes away first, what they said is still transcribed and saved
as a case marked ``disconnected``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from models.errors import InputError
from server.repository import save_case as store_case
from voice_agent.case import Case
from voice_agent.live import ErrorEvent, LiveCall, LiveEvent, parse_call_start

router = APIRouter()
log = logging.getLogger("server.ws")

#: RFC 6455 close codes used here.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # the client broke the protocol (bad first frame)
CLOSE_TRY_AGAIN = 1013  # models are still loading
#: How long a client may take to send its first frame.
HANDSHAKE_TIMEOUT_S = 10.0


def _case_saver(websocket: WebSocket) -> Callable[[Case], None]:
    """``app.state.save_case`` when the app provides one, else the case repository."""
    state = websocket.app.state
    saver = getattr(state, "save_case", None)
    if saver is not None:
        return saver

    def save(case: Case) -> None:
        with state.sessions() as session:
            store_case(session, case)

    return save


async def _send_json(websocket: WebSocket, payload: dict[str, Any]) -> None:
    # Chinese stays readable on the wire (contract: JSON is UTF-8, unescaped).
    await websocket.send_text(json.dumps(payload, ensure_ascii=False))


async def _refuse(websocket: WebSocket, message: str, code: int) -> None:
    await _send_json(websocket, ErrorEvent(message).to_json())
    await websocket.close(code=code, reason=message[:120])


@router.websocket("/ws/call")
async def call(websocket: WebSocket) -> None:
    """One live call, from handshake to handoff (or hang-up)."""
    await websocket.accept()
    frontdesk = getattr(websocket.app.state, "frontdesk", None)
    if frontdesk is None:
        await _refuse(websocket, "models are still loading; try again shortly", CLOSE_TRY_AGAIN)
        return
    try:
        first = await asyncio.wait_for(websocket.receive(), HANDSHAKE_TIMEOUT_S)
    except TimeoutError:
        await _refuse(websocket, "no start frame received", CLOSE_POLICY)
        return
    if first["type"] == "websocket.disconnect":
        return
    text = first.get("text")
    if text is None:
        await _refuse(
            websocket,
            'first frame must be JSON text {"customer_id"?, "scenario"?}, not audio',
            CLOSE_POLICY,
        )
        return
    try:
        start = parse_call_start(text)
    except InputError as e:
        await _refuse(websocket, str(e), CLOSE_POLICY)
        return

    async def send(event: LiveEvent) -> None:
        if websocket.application_state == WebSocketState.CONNECTED:
            await _send_json(websocket, event.to_json())

    live = LiveCall(frontdesk, _case_saver(websocket), send, start)
    await live.start()
    disconnected = await _pump_audio(websocket, live)
    await live.finish(disconnected=disconnected)
    if not disconnected and websocket.application_state == WebSocketState.CONNECTED:
        # The caller may hang up as the case is handed over: nothing is lost then.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code=CLOSE_NORMAL)


async def _pump_audio(websocket: WebSocket, live: LiveCall) -> bool:
    """Feed binary frames to the call until handoff; True when the caller left."""
    handed_over = asyncio.create_task(live.handed_over.wait())
    try:
        while True:
            receive = asyncio.create_task(websocket.receive())
            done, _ = await asyncio.wait(
                {receive, handed_over}, return_when=asyncio.FIRST_COMPLETED
            )
            if receive not in done:
                receive.cancel()
                return False
            message = receive.result()
            if message["type"] == "websocket.disconnect":
                return True
            if message.get("bytes") is not None:
                await live.feed(message["bytes"])
            else:
                await live.session.emit(ErrorEvent("after the start frame, send binary PCM frames"))
    except WebSocketDisconnect:
        return True
    finally:
        handed_over.cancel()
