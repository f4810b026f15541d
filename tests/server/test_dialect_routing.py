"""Dialect callers on the server (issue 9): routing by tellers' languages, turn
recordings for staff only (audited), languages editable by admin, retention.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from server.app import create_app
from server.auth import create_user
from server.cli import run
from server.recordings import recording_turns
from server.repository import case_detail, save_case
from voice_agent.case import Case
from voice_agent.recording import encode_opus
from voice_agent.service import FrontDesk
from voice_agent.settings import Settings, SpeechDialectSettings
from voice_agent.speech_dialect import SpeechDialect

from .builders import make_case
from .conftest import PASSWORD, session_token

WAIT_S = 60.0
Staff = Callable[..., dict[str, str]]


def dialect_case(case_id: str, minutes_ago: float) -> Case:
    """A case whose audio was judged Shanghainese speech, with two recorded turns."""
    base = make_case(case_id, minutes_ago=minutes_ago)
    judged = SpeechDialect(True, "shanghainese", 0.8, 0.05, "th")
    tone = (0.2 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 220)).astype(np.float32)
    turns = tuple(
        dataclasses.replace(seg, speech_dialect=judged, audio=encode_opus(tone))
        for seg in (base.transcript[0], dataclasses.replace(base.transcript[0], start=4.0, end=5.0))
    )
    return dataclasses.replace(
        base, transcript=turns, speech_dialect=judged, handoff_reason="dialect_speech"
    )


@pytest.fixture()
def app(app_settings: Settings, frontdesk: FrontDesk) -> Iterator[TestClient]:
    settings = app_settings.model_copy(
        update={"speech_dialect": SpeechDialectSettings(route_wait_s=WAIT_S)}
    )
    with TestClient(create_app(settings, frontdesk)) as c:
        yield c


@pytest.fixture()
def staff(app: TestClient) -> Callable[..., dict[str, str]]:
    def log_in(
        name: str, role: str = "teller", languages: tuple[str, ...] = ("mandarin",)
    ) -> dict[str, str]:
        with app.app.state.sessions() as session:  # type: ignore[attr-defined]
            create_user(session, name, role, PASSWORD, list(languages))
        r = app.post("/api/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        app.cookies.clear()
        return {"Authorization": f"Bearer {session_token(r)}"}

    return log_in


def _store(app: TestClient, case: Case) -> None:
    with app.app.state.sessions() as session:  # type: ignore[attr-defined]
        save_case(session, case)


def _queue(app: TestClient, headers: dict[str, str]) -> dict[str, dict]:
    r = app.get("/api/cases", headers=headers)
    assert r.status_code == 200, r.text
    return {c["case_id"]: c for c in r.json()["cases"]}


def test_dialect_case_goes_first_to_tellers_who_speak_it(app: TestClient, staff: Staff) -> None:
    wu = staff("zhou", languages=("mandarin", "shanghainese"))
    mandarin = staff("li")
    _store(app, dialect_case("c_new", minutes_ago=0.1))
    _store(app, dialect_case("c_old", minutes_ago=10))  # waited, but zhou is logged in
    _store(app, make_case("c_plain"))
    seen_by_wu = _queue(app, wu)
    assert set(seen_by_wu) == {"c_new", "c_old", "c_plain"}
    assert seen_by_wu["c_new"]["dialect"] == "shanghainese"
    assert seen_by_wu["c_new"]["routing"] == "speaker"
    assert seen_by_wu["c_plain"]["dialect"] is None
    assert set(_queue(app, mandarin)) == {"c_plain"}
    supervisor = staff("boss", role="supervisor")
    assert set(_queue(app, supervisor)) == {"c_new", "c_old", "c_plain"}


def test_dialect_case_reaches_everyone_when_no_speaker_is_logged_in_after_the_wait(
    app: TestClient, staff: Staff
) -> None:
    mandarin = staff("li")
    _store(app, dialect_case("c_new", minutes_ago=0.1))
    _store(app, dialect_case("c_old", minutes_ago=WAIT_S / 60 + 1))
    seen = _queue(app, mandarin)
    assert set(seen) == {"c_old"}
    assert seen["c_old"]["routing"] == "everyone"


def test_recordings_play_for_staff_only_and_every_playback_is_audited(
    app: TestClient, staff: Staff
) -> None:
    teller = staff("zhou", languages=("shanghainese",))
    product = staff("pm", role="product")
    _store(app, dialect_case("c_rec", minutes_ago=1))
    listing = app.get("/api/cases/c_rec/recordings", headers=teller).json()
    assert listing["turns"] == [0, 1]
    r = app.get("/api/cases/c_rec/recordings/1", headers=teller)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("audio/ogg")
    assert r.content[:4] == b"OggS"
    assert "no-store" in r.headers["cache-control"]
    assert app.get("/api/cases/c_rec/recordings/1").status_code == 401
    assert app.get("/api/cases/c_rec/recordings/1", headers=product).status_code == 403
    assert app.get("/api/cases/c_rec/recordings/7", headers=teller).status_code == 404
    audit = app.get("/api/cases/c_rec", headers=teller).json()["audit"]
    played = [a for a in audit if a["action"] == "recording.played"]
    assert len(played) == 1 and played[0]["actor"] == "zhou"
    case = app.get("/api/cases/c_rec", headers=teller).json()["case"]
    assert case["dialect"]["source"] == "speech"
    assert [t["has_audio"] for t in case["transcript"]] == [True, True]


def test_admin_edits_languages_and_tellers_cannot(app: TestClient, staff: Staff) -> None:
    admin = staff("root", role="admin")
    teller = staff("li")
    r = app.patch(
        "/api/admin/users/li", json={"languages": ["mandarin", "shanghainese"]}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["user"]["languages"] == ["mandarin", "shanghainese"]
    users = {u["username"]: u for u in app.get("/api/admin/users", headers=admin).json()["users"]}
    assert users["li"]["languages"] == ["mandarin", "shanghainese"]
    bad = app.patch("/api/admin/users/li", json={"languages": ["klingon"]}, headers=admin)
    assert bad.status_code in (400, 422) and "shanghainese" in bad.text
    denied = app.patch("/api/admin/users/li", json={"languages": ["mandarin"]}, headers=teller)
    assert denied.status_code == 403
    # The change counts at once: li now sees dialect cases.
    _store(app, dialect_case("c_wu", minutes_ago=0.1))
    assert "c_wu" in _queue(app, teller)


def test_purge_deletes_old_recordings_never_the_case(
    app_settings: Settings, app: TestClient
) -> None:
    _store(app, dialect_case("c_purge", minutes_ago=1))
    out = io.StringIO()
    assert run(["recordings", "purge", "--days", "1"], app_settings, out) == 0
    assert "deleted 0 recordings" in out.getvalue()
    out = io.StringIO()
    assert run(["recordings", "purge", "--days", "0"], app_settings, out) == 0
    assert "deleted 2 recordings of 1 cases" in out.getvalue()
    with app.app.state.sessions() as session:  # type: ignore[attr-defined]
        assert recording_turns(session, "c_purge") == []
        detail = case_detail(session, "c_purge")
    assert detail["case"]["handoff_reason"] == "dialect_speech"  # the case stays
    assert any(a["action"] == "recording.purged" for a in detail["audit"])


def test_users_languages_command(app_settings: Settings, app: TestClient) -> None:
    out = io.StringIO()
    argv = ["users", "add", "wang", "teller", "--password-stdin"]
    stdin, sys.stdin = sys.stdin, io.StringIO(PASSWORD + "\n")
    try:
        assert run(argv, app_settings, out) == 0
    finally:
        sys.stdin = stdin
    assert run(["users", "languages", "wang", "shanghainese"], app_settings, out) == 0
    assert "wang serves shanghainese" in out.getvalue()


def test_a_live_call_saved_through_the_write_ahead_store_keeps_its_recordings(
    app: TestClient, staff: Staff
) -> None:
    teller = staff("zhou", languages=("shanghainese",))
    store = app.app.state.live_store  # type: ignore[attr-defined]
    case = dialect_case("c_live", minutes_ago=0.2)
    store.save(case)
    store.save(case)  # a second save of the same case must not fail on its recordings
    assert app.get("/api/cases/c_live/recordings", headers=teller).json()["turns"] == [0, 1]
