"""No call lost (issue 10): the real server process killed mid-call, then restarted.

``frontdesk serve`` runs as a child process on a SQLite file or a throwaway
PostgreSQL database; a real recording is streamed over ``WS /ws/call`` with
a valid call token. SIGKILL after the read-back (an OOM kill, a node
failure): after a restart the call is at the top of the queue as an
``interrupted`` case holding everything up to the last finished turn.
SIGTERM: the call in progress finishes its turn, is saved, the caller is told
a teller will call back, a new caller is turned away with a clear event,
and the process exits.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.call_desk import DRAIN_TEXT
from server.db import LiveCallRow
from server.repository import save_case
from tests.server.builders import make_case
from tests.server.server_process import (
    SILENCE,
    ServerProcess,
    database,
    pcm_of,
    queue,
    recv_until,
    running,
    stream,
    teller_headers,
    token,
)
from voice_agent.recording import decode_opus


def _read_back_call(server: ServerProcess) -> Any:
    """Open a call for the known customer and stream 我想给我儿子转账五万块钱 to its read-back."""
    ws = connect(server.ws_url, open_timeout=10, legacy=True)
    ws.send(json.dumps({"token": token("demo-elderly-01")}))
    greeting = json.loads(ws.recv(timeout=30))
    assert greeting["type"] == "prompt", greeting
    stream(ws, pcm_of("transfer_50k") + SILENCE)
    events = recv_until(ws, {"confirm", "case"})
    assert events[-1]["type"] == "confirm", events
    return ws


def _teller_queue(server: ServerProcess) -> list[dict[str, Any]]:
    """``GET /api/cases`` as a logged-in teller of the restarted server."""
    r = httpx.get(f"{server.url}/api/cases", headers=teller_headers(server))
    assert r.status_code == 200, r.text
    cases: list[dict[str, Any]] = r.json()["cases"]
    return cases


def _assert_interrupted_transfer(case: dict[str, Any]) -> None:
    assert case["status"] == "interrupted"
    assert case["handoff_reason"] == "system_interrupted"
    assert case["customer_id"] == "demo-elderly-01"
    assert case["intent"]["code"] == "transfer"
    assert len(case["transcript"]) >= 1
    assert "五万" in case["transcript"][0]["text"] or "5万" in case["transcript"][0]["text"]
    fields = case["form"]["fields"]
    assert fields["amount"]["value"] == 50000
    assert fields["payee_account"]["source"] == "customer_profile"
    assert "伍万元整" in case["read_back"]


def _playable_turn(
    server: ServerProcess, headers: dict[str, str], case_id: str, turn: int, min_seconds: float
) -> None:
    """A teller fetches the turn's recording: OGG/Opus holding at least ``min_seconds``."""
    listed = httpx.get(f"{server.url}/api/cases/{case_id}/recordings", headers=headers)
    assert listed.status_code == 200, listed.text
    assert turn in listed.json()["turns"], listed.json()
    r = httpx.get(f"{server.url}/api/cases/{case_id}/recordings/{turn}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/ogg"
    assert r.content[:4] == b"OggS"
    assert len(decode_opus(r.content)) / 16_000 >= min_seconds


def _no_live_rows(url: str) -> None:
    with database(url) as session:
        assert session.query(LiveCallRow).count() == 0


def test_sigkill_after_the_read_back_leaves_an_interrupted_case_on_top(
    tmp_path: Path, db_url: str
) -> None:
    server = ServerProcess(tmp_path / "data", db_url)
    with running(server):
        with database(db_url) as session:  # a risky case already waiting
            save_case(session, make_case("c_risky", risk_level="high", risk_score=0.9))
        ws = _read_back_call(server)
        server.signal(signal.SIGKILL)
        assert server.wait() == -signal.SIGKILL
        ws.close()
    with running(server, models=False):  # recovery runs before the models load
        cases = _teller_queue(server)
        assert [c["status"] for c in cases] == ["interrupted", "open"], cases
        assert cases[1]["case_id"] == "c_risky"
        items = queue(db_url)
        assert len(items) == 2
        _assert_interrupted_transfer(items[0]["case"])
        # The turn finished before the kill is playable by staff (issue 9):
        # its audio was written ahead with the checkpoint.
        seconds = len(pcm_of("transfer_50k")) / 2 / 16_000
        headers = teller_headers(server, "listener")
        _playable_turn(server, headers, items[0]["case_id"], 0, min_seconds=seconds * 0.5)
        _no_live_rows(db_url)
        assert "recovered 1 call" in server.log()


def test_sigterm_drains_the_call_in_progress_and_turns_new_callers_away(
    tmp_path: Path, db_url: str
) -> None:
    server = ServerProcess(tmp_path / "data", db_url)
    with running(server):
        ws = _read_back_call(server)
        # A second caller is connected but has not started yet when SIGTERM comes.
        late = connect(server.ws_url, open_timeout=10, legacy=True)
        # The caller starts their next sentence; the server is told to stop mid-word.
        pcm = pcm_of("card_loss")
        stream(ws, pcm[: len(pcm) // 2], realtime=True)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)  # the signal is handled; the call in progress is still draining
        late.send(json.dumps({"token": token("demo-elderly-02")}))
        refused = json.loads(late.recv(timeout=30))
        assert refused["type"] == "error" and refused["code"] == "shutting_down", refused
        events: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                events.append(json.loads(ws.recv(timeout=60)))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert events[-1]["type"] == "prompt" and events[-1]["text"] == DRAIN_TEXT, events
        # The turn in progress was finished (transcribed) before the goodbye.
        assert any(e["type"] == "transcript" for e in events), events
        assert server.wait() in (0, -signal.SIGTERM)
        assert "draining live calls" in server.log()
    items = queue(db_url)
    assert len(items) == 1, items
    case = items[0]["case"]
    _assert_interrupted_transfer(case)
    assert len(case["transcript"]) == 2  # the read-back turn and the turn cut by the stop
    _no_live_rows(db_url)
    with running(server, models=False):  # a restart recovers nothing twice
        assert len(queue(db_url)) == 1
        # Both turns are playable: the first written ahead at its checkpoint,
        # the one cut by the stop stored with the case (and none twice).
        headers = teller_headers(server, "listener")
        _playable_turn(server, headers, case["case_id"], 0, min_seconds=1.0)
        _playable_turn(server, headers, case["case_id"], 1, min_seconds=0.3)
