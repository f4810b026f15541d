"""Several servers on one database share sessions, the queue and its events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.auth import create_user
from server.repository import save_case
from tests.live_server import serve
from tests.server.builders import make_case
from tests.server.conftest import PASSWORD, session_token
from voice_agent.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk


def _settings(tmp_path: Path, name: str, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / name,
        server=ServerSettings(database_url=db_url, create_demo_accounts=True),
    )


def test_two_servers_share_one_queue(tmp_path: Path, db_url: str, frontdesk: FrontDesk) -> None:
    app_a = create_app(_settings(tmp_path, "a", db_url), frontdesk)
    app_b = create_app(_settings(tmp_path, "b", db_url), frontdesk)
    with TestClient(app_a) as a, TestClient(app_b) as b:
        # Demo accounts are created once, by whichever server started first.
        assert (tmp_path / "a" / "demo-accounts.txt").exists()
        assert not (tmp_path / "b" / "demo-accounts.txt").exists()
        with app_a.state.sessions() as session:
            create_user(session, "wang", "teller", PASSWORD)
        r = a.post("/api/login", json={"username": "wang", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {session_token(r)}"}
        with app_a.state.sessions() as session:
            save_case(session, make_case("c_a_low", risk_level="low", risk_score=0.2))
        with app_b.state.sessions() as session:
            save_case(session, make_case("c_b_high", risk_level="high", risk_score=0.9))
        # A session opened on server A works on server B, and both see one queue.
        for client in (a, b):
            cases = client.get("/api/cases", headers=headers).json()["cases"]
            assert [c["case_id"] for c in cases] == ["c_b_high", "c_a_low"]
        decided = b.post(
            "/api/cases/c_b_high/decision",
            json={"decision": "reject", "reason": "疑似安全账户诈骗"},
            headers=headers,
        )
        assert decided.status_code == 200
        assert [c["case_id"] for c in a.get("/api/cases", headers=headers).json()["cases"]] == [
            "c_a_low"
        ]
        assert a.get("/api/cases/c_b_high", headers=headers).json()["status"] == "rejected"


@pytest.fixture()
def live_server(tmp_path: Path, db_url: str, frontdesk: FrontDesk) -> Iterator[tuple[str, FastAPI]]:
    """The app under uvicorn on a free port: the event stream needs a real server."""
    app = create_app(_settings(tmp_path, "live", db_url), frontdesk)
    with serve(app) as live:
        yield live.url, app


def _next_event(lines: Iterator[str]) -> dict[str, str]:
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in event:
                return event
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        event[key] = value.strip()
    raise AssertionError("event stream ended")


def test_event_stream_announces_cases_saved_by_another_server(
    live_server: tuple[str, FastAPI], db_url: str, tmp_path: Path, frontdesk: FrontDesk
) -> None:
    base, app = live_server
    with app.state.sessions() as session:
        create_user(session, "li", "teller", PASSWORD)
    token = httpx.post(f"{base}/api/login", json={"username": "li", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {session_token(token)}"}
    assert httpx.get(f"{base}/api/cases/events").status_code == 401
    other = create_app(_settings(tmp_path, "other", db_url), frontdesk)
    with (
        httpx.stream("GET", f"{base}/api/cases/events", headers=headers, timeout=30) as stream,
        TestClient(other),
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        first = _next_event(lines)
        assert first["event"] == "queue"
        with other.state.sessions() as session:
            save_case(session, make_case("c_new", risk_level="medium", risk_score=0.5))
        second = _next_event(lines)
        assert second["event"] == "queue"
        assert json.loads(second["data"])["version"] != json.loads(first["data"])["version"]
