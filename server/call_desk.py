"""Admission control and draining for live calls (issue 10).

One server decodes a bounded number of calls in real time
(``server.max_calls``, sized from benchmarks/RESULTS.md); the next caller is
told so at once, with the expected wait, and may book a callback, instead
of every caller getting slower together. On SIGTERM the desk drains: new
calls are refused with a clear event, calls in progress finish the turn
they are in, are saved and told a teller will call back, then the process
exits (server.serving).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket, WebSocketDisconnect

from voice_agent.case import Case

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk

log = logging.getLogger("server.call_desk")

#: What a caller cut off by a server stop hears (then the socket closes 1012).
DRAIN_TEXT = "系统需要短暂维护，您刚才说的内容已经记下，柜员会尽快给您回电。"
BUSY_TEXT = "现在来电的客户较多，大约要等{wait}。需要的话，柜员可以给您回电。"
CALLBACK_SUMMARY = "线路繁忙时来电，客户选择由柜员回电（约需等待{wait}）。"
#: Close codes: 1012 service restart (draining), 1013 try again later (busy).
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    return f"{math.ceil(seconds / 60)}分钟"


class CallDesk:
    """Counts the live calls of this process, admits or refuses, and drains.

    Args:
        max_calls: calls taken at once.
        typical_call_s: assumed call length until calls have been timed.
    """

    def __init__(self, max_calls: int, typical_call_s: float = 60.0) -> None:
        self.max_calls = max_calls
        self.typical_call_s = typical_call_s
        self.active: dict[str, float] = {}
        self.draining = asyncio.Event()
        self._durations: deque[float] = deque(maxlen=50)

    def admit(self, call_id: str) -> bool:
        """Take the call if there is room (and the desk is not draining)."""
        if self.draining.is_set() or len(self.active) >= self.max_calls:
            return False
        self.active[call_id] = time.monotonic()
        return True

    def release(self, call_id: str) -> None:
        """The call is over (saved or not): free its place and time it."""
        started = self.active.pop(call_id, None)
        if started is not None:
            self._durations.append(time.monotonic() - started)

    def expected_wait_s(self) -> int:
        """Seconds until a place is likely free: a typical call minus the oldest call's age.

        A typical call is the median of the last 50 calls here (or
        ``typical_call_s`` before any); at least 5 s, rounded up to 5 s.
        """
        durations = sorted(self._durations)
        typical = durations[len(durations) // 2] if durations else self.typical_call_s
        now = time.monotonic()
        oldest = max((now - t for t in self.active.values()), default=0.0)
        return max(5, 5 * math.ceil(max(0.0, typical - oldest) / 5))

    async def drain(self, timeout_s: float) -> int:
        """Stop taking calls, ask calls in progress to finish, wait for them.

        Returns:
            How many calls were still running at the deadline.
        """
        self.draining.set()
        if self.active:
            log.warning("draining: %d live call(s) finishing their turn", len(self.active))
        deadline = time.monotonic() + timeout_s
        while self.active and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.active:
            log.error("drain deadline: %d call(s) still running", len(self.active))
        return len(self.active)


def callback_case(
    frontdesk: FrontDesk, customer_id: str, scenario: str | None, wait_s: int
) -> Case:
    """The case a busy caller's callback request becomes: who, why, when they called."""
    dialogue = frontdesk.dialogue_for(customer_id)
    state = dialogue.start(scenario).state
    case = frontdesk.case_builder.project(
        state, [], customer_id, 0.0, {}, handoff_reason="callback_requested"
    )
    return replace(case, summary=CALLBACK_SUMMARY.format(wait=_wait_words(wait_s)))


async def _first_text(websocket: WebSocket) -> str | None:
    """The caller's next text frame; audio still in flight from their microphone is skipped."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is not None:
            return str(message["text"])


async def offer_callback(
    websocket: WebSocket,
    desk: CallDesk,
    *,
    frontdesk: FrontDesk,
    customer_id: str,
    scenario: str | None,
    save_case: Any,
    reply_s: float,
) -> bool:
    """Tell a caller beyond ``max_calls`` the wait; book a callback if they ask.

    One ``busy`` event (``expected_wait_s``, ``text``, and ``callback``: what
    to send to book one), then the caller has ``reply_s`` to send
    ``{"callback": true}``; the socket then closes 1013 either way.

    Returns:
        Whether a callback case was stored.
    """
    wait = desk.expected_wait_s()
    event = {
        "type": "busy",
        "expected_wait_s": wait,
        "text": BUSY_TEXT.format(wait=_wait_words(wait)),
        "callback": {"send": {"callback": True}, "within_s": reply_s},
    }
    booked = False
    try:
        await websocket.send_text(json.dumps(event, ensure_ascii=False))
        text = await asyncio.wait_for(_first_text(websocket), reply_s)
        data = json.loads(text) if text else None
        if isinstance(data, dict) and data.get("callback") is True:
            case = callback_case(frontdesk, customer_id, scenario, wait)
            await asyncio.to_thread(save_case, case)
            booked = True
            log.info("busy: callback booked as case %s", case.case_id)
    except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError):
        pass
    reason = "callback booked" if booked else "busy: call again later"
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason=reason)
    return booked
