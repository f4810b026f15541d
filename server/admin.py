"""Command-line hooks for administrators (wired into ``frontdesk`` by server.cli).

They open the configured database themselves (migrating it first), so they
work before any server has started.
"""

from __future__ import annotations

import secrets
from typing import Any

from server.auth import create_user
from server.db import make_engine, make_sessionmaker, migrate
from server.repository import accepted_corrections
from voice_agent.settings import Settings


def add_user(settings: Settings, username: str, role: str, password: str | None = None) -> str:
    """``frontdesk users add``: create a staff account.

    Args:
        settings: where the database is.
        username: the login name.
        role: teller, product or admin.
        password: the password; None generates a random one.

    Returns:
        The password (print it once; it is stored only as a hash).

    Raises:
        InvalidChoiceError: unknown role, taken username or too short a password.
    """
    password = password or secrets.token_urlsafe(12)
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            create_user(session, username, role, password)
    finally:
        engine.dispose()
    return password


def load_accepted_corrections(settings: Settings) -> list[dict[str, Any]]:
    """``frontdesk intents train``: tellers' corrections that product staff accepted."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            return accepted_corrections(session)
    finally:
        engine.dispose()
