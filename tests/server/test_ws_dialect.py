"""A Shanghainese-style caller over the real WebSocket (issue 9), end to end.

The caller is espeak-ng's Cantonese voice (a stand-in: Chinese that Whisper
base cannot read, see benchmarks/RESULTS.md). The first turn must end the
call with the slow dialect hand-over (never "please repeat"), the case must
be marked ``dialect_speech`` with ``dialect.source == "speech"``, reach a
Shanghainese-speaking teller's queue, and its turn recording must play.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from server.auth import create_user
from voice_agent.recording import decode_opus

from ..voice_agent.speech_standins import CANTONESE, espeak, have_espeak
from .conftest import PASSWORD, session_token
from .test_ws import Fixture, Server, call, frontdesk, server  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng"),
]


def test_dialect_caller_reaches_a_dialect_teller_on_the_first_turn(server: Server) -> None:  # noqa: F811
    samples = espeak(CANTONESE[0], "yue")
    # A microphone keeps sending after the words: 3 s of silence, so the turn
    # ends by the VAD (an unpunctuated turn waits for a longer pause), not by
    # the server's idle limit (which would mark the caller as gone).
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes() + bytes(3 * 32000)
    events = call(server, Fixture("yue", {}, pcm), realtime=False)
    prompts = [e for e in events if e["type"] == "prompt"]
    assert [p.get("reason") for p in prompts] == ["greeting"], events  # no "please repeat"
    last = events[-1]
    assert last["type"] == "case" and last["reason"] == "dialect_speech", events
    assert "上海话" in last["text"]
    case_id = last["case"]["case_id"]

    with TestClient(server.app) as client:
        with server.app.state.sessions() as session:
            create_user(session, "zhou", "teller", PASSWORD, ["mandarin", "shanghainese"])
            create_user(session, "li", "teller", PASSWORD, ["mandarin"])
        headers = {}
        for name in ("zhou", "li"):
            r = client.post("/api/login", json={"username": name, "password": PASSWORD})
            headers[name] = {"Authorization": f"Bearer {session_token(r)}"}
        client.cookies.clear()
        queue = client.get("/api/cases", headers=headers["zhou"]).json()["cases"]
        assert case_id in {c["case_id"] for c in queue}
        assert case_id not in {
            c["case_id"] for c in client.get("/api/cases", headers=headers["li"]).json()["cases"]
        }
        case = client.get(f"/api/cases/{case_id}", headers=headers["zhou"]).json()["case"]
        assert case["handoff_reason"] == "dialect_speech"
        assert not case["disconnected"]
        assert case["dialect"]["source"] == "speech"
        assert case["transcript"][0]["has_audio"]
        audio = client.get(f"/api/cases/{case_id}/recordings/0", headers=headers["zhou"])
        assert audio.status_code == 200
    heard = decode_opus(audio.content)
    turn = case["transcript"][0]
    # The audio the recogniser heard: the turn, plus the VAD's padding around it.
    assert turn["end"] - turn["start"] - 0.2 <= len(heard) / 16000 <= turn["end"] + 1.0
