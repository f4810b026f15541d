"""Logging in, sessions, roles (401 vs 403) and the demo accounts (TestClient).

The security rules of the staff side (throttling, audit, idle sessions,
passwords) are tested against a real server in test_staff_security.py.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

import server
from server.app import create_app
from server.auth import DEMO_ACCOUNTS_FILE
from tests.server.conftest import PASSWORD, session_token
from voice_agent.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk

Login = Callable[[str], dict[str, str]]

STAFF_ROUTES = ["/api/me", "/api/cases", "/api/catalog", "/api/corrections"]


@pytest.mark.parametrize("path", STAFF_ROUTES)
def test_staff_routes_need_a_login(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 401
    assert "log in" in r.json()["error"]
    r = client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("role", "allowed", "forbidden"),
    [
        ("teller", ["/api/cases"], ["/api/catalog", "/api/corrections"]),
        ("supervisor", ["/api/cases"], ["/api/catalog", "/api/corrections"]),
        ("product", ["/api/catalog", "/api/corrections"], ["/api/cases"]),
        ("admin", ["/api/cases", "/api/catalog", "/api/corrections"], []),
    ],
)
def test_roles_see_their_routes_only(
    client: TestClient, login: Login, role: str, allowed: list[str], forbidden: list[str]
) -> None:
    headers = login(role)
    for path in allowed:
        assert client.get(path, headers=headers).status_code == 200, path
    for path in forbidden:
        r = client.get(path, headers=headers)
        assert r.status_code == 403, path
        assert role in r.json()["error"]


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, login: Login
) -> None:
    login("teller")
    wrong = client.post("/api/login", json={"username": "teller", "password": "nope-nope-nope"})
    unknown = client.post("/api/login", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "wrong username or password"}
    assert "set-cookie" not in wrong.headers


def test_login_without_password_is_a_clear_422(client: TestClient) -> None:
    r = client.post("/api/login", json={"username": "teller"})
    assert r.status_code == 422
    assert r.json()["error"] == "missing field 'password'"


def test_cookie_session_and_logout(client: TestClient, login: Login) -> None:
    headers = login("teller")
    r = client.post("/api/login", json={"username": "teller", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert "fd_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "secure" in cookie.lower()  # Secure by default (server.secure_cookies)
    assert r.json() == {"user": {"username": "teller", "role": "teller", "languages": ["mandarin"]}}
    token = session_token(r)
    assert token not in r.text  # the token is in the HttpOnly cookie only
    # The cookie alone is a session (the console pages rely on it).
    me = client.get("/api/me", headers={"Cookie": f"fd_session={token}"}).json()
    assert me["user"]["username"] == "teller"
    assert client.post("/api/logout", headers={"Cookie": f"fd_session={token}"}).status_code == 200
    client.cookies.clear()
    assert client.get("/api/me", headers={"Cookie": f"fd_session={token}"}).status_code == 401
    # Logging out one session leaves the others alone.
    assert client.get("/api/me", headers=headers).status_code == 200


def test_no_demo_accounts_without_demo(tmp_path: Path, db_url: str, frontdesk: FrontDesk) -> None:
    settings = Settings(data_dir=tmp_path / "data", server=ServerSettings(database_url=db_url))
    with TestClient(create_app(settings, frontdesk)) as c:
        r = c.post("/api/login", json={"username": "admin", "password": "x" * 20})
        assert r.status_code == 401
    assert not (settings.data_dir / DEMO_ACCOUNTS_FILE).exists()


def test_demo_accounts_are_random_private_and_created_once(
    tmp_path: Path, db_url: str, frontdesk: FrontDesk, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        server=ServerSettings(database_url=db_url, demo=True),
    )
    with TestClient(create_app(settings, frontdesk)) as c:
        path = settings.data_dir / DEMO_ACCOUNTS_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        lines = [ln.split() for ln in path.read_text().splitlines() if not ln.startswith("#")]
        accounts = {name: (role, password) for name, role, password in lines}
        assert set(accounts) == {"teller", "supervisor", "product", "admin"}
        printed = capsys.readouterr().out
        assert str(path) in printed  # says where the passwords are ...
        for name, (role, password) in accounts.items():
            assert len(password) >= 12
            assert password not in printed  # ... never what they are
            r = c.post("/api/login", json={"username": name, "password": password})
            assert r.json()["user"]["role"] == role
    first = path.read_text()
    with TestClient(create_app(settings, frontdesk)):
        pass
    assert path.read_text() == first
    assert "password" not in capsys.readouterr().out
    passwords = [p for _, p in accounts.values()]
    assert len(set(passwords)) == 4
    source = "".join(p.read_text() for p in Path(server.__file__).parent.rglob("*.py"))
    assert not any(p in source for p in passwords)
