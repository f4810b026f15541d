"""Admission control (issue 10): the caller beyond ``server.max_calls`` is told so.

Over the real WebSocket of a ``frontdesk serve`` child process with
``max_calls`` 1: the second caller gets exactly one ``busy`` event with the
expected wait and the callback offer; asking for a callback stores a case
the teller sees; declining stores nothing; the place frees when a call ends.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.call_desk import CallDesk
from tests.server.server_process import ServerProcess, queue, running, token


def _busy(ws_url: str, customer_id: str, reply: dict[str, object]) -> tuple[dict, int, str]:
    """Call, expect one busy event, send ``reply``; (event, close code, close reason)."""
    with connect(ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"token": token(customer_id, "transfer_over_limit")}))
        busy = json.loads(ws.recv(timeout=30))
        ws.send(json.dumps(reply))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None
    return busy, closed.value.rcvd.code, closed.value.rcvd.reason


def test_caller_beyond_max_calls_gets_busy_and_may_book_a_callback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'frontdesk.db'}"
    server = ServerProcess(tmp_path / "data", url, env_extra={"FRONTDESK_SERVER__MAX_CALLS": "1"})
    with running(server), connect(server.ws_url, open_timeout=10) as first:
        first.send(json.dumps({"token": token("demo-elderly-01")}))
        assert json.loads(first.recv(timeout=30))["type"] == "prompt"  # admitted

        busy, code, reason = _busy(server.ws_url, "demo-elderly-02", {"callback": True})
        assert busy["type"] == "busy"
        assert isinstance(busy["expected_wait_s"], int) and busy["expected_wait_s"] >= 5
        assert busy["callback"]["send"] == {"callback": True}
        assert "回电" in busy["text"]
        assert (code, reason) == (1013, "callback booked")

        _, code, reason = _busy(server.ws_url, "demo-elderly-03", {"callback": False})
        assert (code, reason) == (1013, "busy: call again later")

        items = queue(url)
        assert len(items) == 1, items
        case = items[0]["case"]
        assert case["customer_id"] == "demo-elderly-02"
        assert case["handoff_reason"] == "callback_requested"
        assert case["scenario"] == "transfer_over_limit"
        assert "回电" in case["summary"]

        first.close()  # hang up without a word: no case, and the place is free again
        deadline = time.monotonic() + 30
        while True:
            with connect(server.ws_url, open_timeout=10) as again:
                again.send(json.dumps({"token": token("demo-elderly-04")}))
                event = json.loads(again.recv(timeout=30))
            if event["type"] == "prompt" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert event["type"] == "prompt", event
        assert len(queue(url)) == 1


def test_expected_wait_counts_down_with_the_oldest_call() -> None:
    desk = CallDesk(max_calls=2, typical_call_s=60)
    assert desk.admit("a") and desk.admit("b") and not desk.admit("c")
    assert desk.expected_wait_s() == 60
    desk.active["a"] -= 42  # the oldest call has run 42 s
    assert desk.expected_wait_s() == 20  # 18 s, rounded up to 5 s
    desk.release("a")
    assert desk.admit("c")
    desk.draining.set()
    desk.release("b")
    assert not desk.admit("d")  # a draining desk takes no call
