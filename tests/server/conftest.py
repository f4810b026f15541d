"""Server fixtures: a database per test (SQLite file and throwaway PostgreSQL),
one real text-only FrontDesk per session, apps with logged-in clients, and
service keys for the bank-system routes."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.app import create_app
from server.auth import create_user
from server.db import make_engine, make_sessionmaker, migrate
from server.deps import SESSION_COOKIE
from server.service_keys import add_service_key
from tests.live_server import serve
from tests.server.pg_cluster import PgCluster, require_postgres
from voice_agent.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from voice_agent.service import FrontDesk

PASSWORD = "correct horse battery"


def session_token(response: Any) -> str:
    """The session token a login set as its cookie (it is never in the body)."""
    token = response.cookies.get(SESSION_COOKIE)
    assert token, f"no {SESSION_COOKIE} cookie in {response.headers.get('set-cookie')!r}"
    return str(token)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL 15 cluster for the test session: (host, port)."""
    require_postgres()
    cluster = PgCluster()
    try:
        yield cluster.host, cluster.port
    finally:
        cluster.destroy()


@contextmanager
def fresh_database(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A new, empty database of kind ``request.param`` (``sqlite`` or ``postgresql``).

    A SQLite file in ``directory``, or a database of its own on the session's
    PostgreSQL server, dropped afterwards.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{directory / 'frontdesk.db'}"
        return
    host, port = request.getfixturevalue("postgres_server")
    name = f"t_{secrets.token_hex(6)}"
    admin = f"host={host} port={port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@{host}:{port}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, then a new PostgreSQL database."""
    with fresh_database(request, tmp_path) as url:
        yield url


@pytest.fixture()
def db(db_url: str) -> Iterator[Session]:
    """A migrated database session, for repository-level tests."""
    engine = make_engine(db_url)
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="session")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    """One real text-only FrontDesk for the whole session (no Whisper: saves CPU)."""
    from voice_agent.service import build_frontdesk  # loads the whole stack: only when used

    settings = Settings(data_dir=tmp_path_factory.mktemp("frontdesk-data"))
    return build_frontdesk(settings, load_asr=False)


@pytest.fixture()
def app_settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings for an app under test: its own data dir and database."""
    return Settings(
        data_dir=tmp_path / "data",
        server=ServerSettings(database_url=db_url, create_demo_accounts=False),
    )


@pytest.fixture()
def client(app_settings: Settings, frontdesk: FrontDesk) -> Iterator[TestClient]:
    """A started app (migrated, models given) with no one logged in."""
    with TestClient(create_app(app_settings, frontdesk)) as c:
        yield c


@pytest.fixture()
def login(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Create a user of ``role`` (named after it) and return Bearer headers."""

    def log_in(role: str) -> dict[str, str]:
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            create_user(session, role, role, PASSWORD)
        r = client.post("/api/login", json={"username": role, "password": PASSWORD})
        assert r.status_code == 200, r.text
        client.cookies.clear()  # each test picks its identity through headers
        return {"Authorization": f"Bearer {session_token(r)}"}

    return log_in


@pytest.fixture()
def service(client: TestClient) -> dict[str, str]:
    """Bearer headers with a fresh service key (the bank's mobile-app back end)."""
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        key = add_service_key(session, "mobile-app")
    return {"Authorization": f"Bearer {key}"}


# ---- a real server over HTTP (uvicorn in a thread) -------------------------------------


@dataclass(frozen=True)
class Live:
    """A running server, a service key for it, and its settings."""

    url: str
    app: FastAPI
    settings: Settings
    key: str

    @property
    def service(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def staff(self, username: str, role: str, password: str = PASSWORD) -> dict[str, str]:
        """Create a member of staff, log in over HTTP, return Bearer headers."""
        with self.app.state.sessions() as session:
            create_user(session, username, role, password)
        r = httpx.post(f"{self.url}/api/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {session_token(r)}"}

    def audit(self) -> list[tuple[str, str]]:
        with self.app.state.sessions() as session:
            rows = session.execute(text("SELECT actor, action FROM audit_log ORDER BY id"))
            return [(r[0], r[1]) for r in rows]


StartLive = Callable[..., Live]


@pytest.fixture()
def start_live(tmp_path: Path, db_url: str, frontdesk: FrontDesk) -> Iterator[StartLive]:
    """Start a real server with ``ServerSettings`` overrides (one per test is typical)."""
    started = 0
    with ExitStack() as stack:

        def start(**server: Any) -> Live:
            nonlocal started
            started += 1
            settings = Settings(
                data_dir=tmp_path / f"data{started}",
                server=ServerSettings(database_url=db_url, **server),
            )
            app = create_app(settings, frontdesk)
            live = stack.enter_context(serve(app))
            with app.state.sessions() as session:
                key = add_service_key(session, f"bank-app-{started}")
            return Live(live.url, app, settings, key)

        yield start


@pytest.fixture()
def live(start_live: StartLive) -> Live:
    """A real server on default settings (no demo), with a service key."""
    return start_live()
