"""``WS /ws/call``: the customer's live call (contract.md).

The route moves bytes and JSON and guards the door: the first text frame
must carry a call token (``{"token": …}``, see server.call_tokens); the
customer and scenario come from the token only, never from the caller.
Without a valid token the caller gets one ``error`` event with
``"code": "unauthorized"`` and a 4401 close, and nothing else. Then binary
frames carry 16 kHz mono signed 16-bit PCM, and the server answers with
JSON events (transcript, prompt, confirm, case, error), each projected to
the customer view (server.customer_view) on its way out: no risk, flags,
profile facts or advice, accounts masked. Everything else is
voice_agent.live: the pipecat pipeline, the dialogue and the case.

Limits: handshakes per address per minute (``server.ws_per_ip_per_minute``),
a call with no frame for ``server.ws_idle_s`` is over (the caller is gone),
and no call outlasts ``server.ws_max_call_s`` of wall-clock time. The
``Origin`` check happens before the handshake (server.security).

When the case is handed over the server closes the socket normally; when
the caller goes away first, what they said is still transcribed and saved
as a case marked ``disconnected``.

No call lost (issue 10, server.call_desk and server.live_store): beyond
``server.max_calls`` the caller gets one ``busy`` event and may book a
callback; every finished turn is written ahead; on SIGTERM a call finishes
its turn, is saved as ``interrupted`` and the caller is told a teller will
call back (close 1012).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from models.errors import InputError
from server.call_desk import CLOSE_SERVICE_RESTART, DRAIN_TEXT, CallDesk, offer_callback
from server.call_tokens import CallGrant, verify
from server.customer_view import event_view
from server.errors import AuthError
from server.repository import save_case as store_case
from voice_agent.case import Case
from voice_agent.live import CallStart, ErrorEvent, LiveCall, LiveEvent, PromptEvent

router = APIRouter()
log = logging.getLogger("server.ws")

#: Close codes used here (RFC 6455 and the 4xxx application range).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008  # the client broke the protocol (bad first frame)
CLOSE_TRY_AGAIN = 1013  # models are still loading
CLOSE_UNAUTHORIZED = 4401  # no valid call token
CLOSE_IDLE = 4408  # nothing received for server.ws_idle_s
CLOSE_RATE_LIMITED = 4429  # too many calls from this address
#: How long a client may take to send its first frame.
HANDSHAKE_TIMEOUT_S = 10.0


def _case_saver(websocket: WebSocket) -> Callable[[Case], None]:
    """Where a finished call's case goes: the write-ahead store, else the case repository."""
    state = websocket.app.state
    store = getattr(state, "live_store", None)
    if store is not None:  # write-ahead: the case and the end of its live row, at once
        return store.save

    def save(case: Case) -> None:
        with state.sessions() as session:
            store_case(session, case)

    return save


async def _send_json(websocket: WebSocket, payload: dict[str, Any]) -> None:
    # Chinese stays readable on the wire (contract: JSON is UTF-8, unescaped).
    await websocket.send_text(json.dumps(payload, ensure_ascii=False))


async def _refuse(websocket: WebSocket, message: str, code: int, kind: str | None = None) -> None:
    event = ErrorEvent(message).to_json()
    if kind:
        event["code"] = kind
    await _send_json(websocket, event)
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(code=code, reason=message[:120])


async def _read_grant(websocket: WebSocket) -> CallGrant | None:
    """The first frame's call token, checked; None after refusing the caller."""
    try:
        first = await asyncio.wait_for(websocket.receive(), HANDSHAKE_TIMEOUT_S)
    except TimeoutError:
        await _refuse(websocket, "no start frame received", CLOSE_POLICY)
        return None
    if first["type"] == "websocket.disconnect":
        return None
    try:
        text = first.get("text")
        data = json.loads(text) if text is not None else None
        token = data.get("token") if isinstance(data, dict) else None
        return verify(websocket.app.state.call_token_secret, token)
    except (ValueError, AuthError):
        await _refuse(
            websocket,
            'a call token is required: first frame {"token": "…"}',
            CLOSE_UNAUTHORIZED,
            "unauthorized",
        )
        return None


def _intent_names(websocket: WebSocket) -> dict[str, str]:
    return {spec.code: spec.name for spec in websocket.app.state.catalog}


@router.websocket("/ws/call")
async def call(websocket: WebSocket) -> None:
    """One live call, from token check to handoff (or hang-up)."""
    server = websocket.app.state.settings.server
    await websocket.accept()
    peer = websocket.client.host if websocket.client else "unknown"
    wait = websocket.app.state.limits["call"].hit(peer)
    if wait:
        await _refuse(
            websocket,
            f"too many calls from this address; try again in {wait} s",
            CLOSE_RATE_LIMITED,
            "rate_limited",
        )
        return
    grant = await _read_grant(websocket)
    if grant is None:
        return
    frontdesk = getattr(websocket.app.state, "frontdesk", None)
    if frontdesk is None:
        await _refuse(websocket, "models are still loading; try again shortly", CLOSE_TRY_AGAIN)
        return
    names = _intent_names(websocket)
    desk: CallDesk = websocket.app.state.call_desk
    if desk.draining.is_set():
        await _refuse(
            websocket,
            "the server is restarting; please call again in a minute",
            CLOSE_SERVICE_RESTART,
            "shutting_down",
        )
        return
    call_id = f"{id(websocket):x}"
    if not desk.admit(call_id):
        await offer_callback(
            websocket,
            desk,
            frontdesk=frontdesk,
            customer_id=grant.customer_id,
            scenario=grant.scenario,
            save_case=_case_saver(websocket),
            reply_s=server.busy_reply_s,
        )
        return
    try:
        await _live_call(websocket, grant, frontdesk, names, desk)
    finally:
        desk.release(call_id)


async def _live_call(
    websocket: WebSocket, grant: CallGrant, frontdesk: Any, names: dict[str, str], desk: CallDesk
) -> None:
    server = websocket.app.state.settings.server
    store = getattr(websocket.app.state, "live_store", None)

    async def send(event: LiveEvent) -> None:
        if websocket.application_state == WebSocketState.CONNECTED:
            await _send_json(websocket, event_view(event.to_json(), names))

    try:
        live = LiveCall(
            frontdesk,
            _case_saver(websocket),
            send,
            CallStart(customer_id=grant.customer_id, scenario=grant.scenario),
            checkpoint=store.checkpoint if store is not None else None,
        )
    except InputError as e:  # a scenario the loaded dialogue does not know
        await _refuse(websocket, str(e), CLOSE_POLICY)
        return
    await live.start()
    deadline = time.monotonic() + server.ws_max_call_s
    outcome = await _pump_audio(
        websocket, live, idle_s=server.ws_idle_s, deadline=deadline, stop=desk.draining
    )
    if outcome == "draining":
        # Finish the turn in progress, save it as interrupted, then say so.
        await live.finish(disconnected=False, reason="system_interrupted")
        await live.session.emit(PromptEvent(DRAIN_TEXT, "system_interrupted"))
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code=CLOSE_SERVICE_RESTART, reason="server restarting")
        return
    if outcome == "too_long":
        await live.session.emit(ErrorEvent("call too long: handing over to a teller"))
    disconnected = outcome in ("caller_left", "idle")
    await live.finish(disconnected=disconnected)
    if websocket.application_state == WebSocketState.CONNECTED:
        code = CLOSE_IDLE if outcome == "idle" else CLOSE_NORMAL
        # The caller may hang up as the case is handed over: nothing is lost then.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code=code)


async def _pump_audio(
    websocket: WebSocket,
    live: LiveCall,
    *,
    idle_s: float,
    deadline: float,
    stop: asyncio.Event | None = None,
) -> str:
    """Feed binary frames to the call until it ends; says how.

    Returns:
        ``handed_over``, ``caller_left``, ``idle`` (no frame for ``idle_s``),
        ``too_long`` (past ``deadline``, a ``time.monotonic()`` value) or
        ``draining`` (``stop`` was set: the server is shutting down).
    """
    handed_over = asyncio.create_task(live.handed_over.wait())
    stopping = asyncio.create_task((stop or asyncio.Event()).wait())
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "too_long"
            if stopping.done():  # checked first: a caller streaming fast must not starve it
                return "draining"
            receive = asyncio.create_task(websocket.receive())
            done, _ = await asyncio.wait(
                {receive, handed_over, stopping},
                timeout=min(idle_s, left),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if receive not in done:
                receive.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await receive
                if handed_over in done:
                    return "handed_over"
                if stopping in done:
                    return "draining"
                return "too_long" if time.monotonic() >= deadline else "idle"
            message = receive.result()
            if message["type"] == "websocket.disconnect":
                return "caller_left"
            data = message.get("bytes")
            if data is not None and len(data) % 2:
                # Half a sample would shift every later sample by a byte: all noise after.
                dropped = f"a binary frame of {len(data)} bytes was dropped: whole samples only"
                await live.session.emit(ErrorEvent(dropped))
            elif data is not None:
                await live.feed(data)
            else:
                await live.session.emit(ErrorEvent("after the start frame, send binary PCM frames"))
    except WebSocketDisconnect:
        return "caller_left"
    finally:
        handed_over.cancel()
        stopping.cancel()
