"""Command-line hooks for administrators (wired into ``frontdesk`` by server.cli).

They open the configured database themselves (migrating it first), so they
work before any server has started.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from server.auth import create_user
from server.db import make_engine, make_sessionmaker, migrate
from server.recordings import purge_recordings
from server.repository import accepted_corrections
from server.routing import set_languages
from server.service_keys import add_service_key, list_service_keys, revoke_service_key
from voice_agent.settings import Settings


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def add_user(
    settings: Settings,
    username: str,
    role: str,
    password: str | None = None,
    languages: list[str] | None = None,
) -> str:
    """``frontdesk users add``: create a staff account.

    Args:
        settings: where the database is.
        username: the login name.
        role: teller, supervisor, product or admin.
        password: the password (>= 12 characters); None generates a random one.
        languages: languages served (default mandarin).

    Returns:
        The password (print it once; it is stored only as a hash).

    Raises:
        InvalidChoiceError: unknown role or language, taken username or too
            short a password.
    """
    password = password or secrets.token_urlsafe(15)
    with _session(settings) as session:
        create_user(session, username, role, password, languages or ["mandarin"])
    return password


def change_languages(settings: Settings, username: str, languages: list[str]) -> dict[str, Any]:
    """``frontdesk users languages``: set the languages a member of staff serves in."""
    with _session(settings) as session:
        return set_languages(session, username, languages, actor="cli")


def purge_recordings_older(settings: Settings, days: float) -> dict[str, Any]:
    """``frontdesk recordings purge``: delete turn recordings older than ``days``."""
    with _session(settings) as session:
        return purge_recordings(session, days)


def add_key(settings: Settings, name: str) -> str:
    """``frontdesk service-keys add``: a new key for a bank system (returned once)."""
    with _session(settings) as session:
        return add_service_key(session, name, actor="cli")


def revoke_key(settings: Settings, name: str) -> None:
    """``frontdesk service-keys revoke``."""
    with _session(settings) as session:
        revoke_service_key(session, name, actor="cli")


def list_keys(settings: Settings) -> list[dict[str, Any]]:
    """``frontdesk service-keys list``."""
    with _session(settings) as session:
        return list_service_keys(session)


def load_accepted_corrections(settings: Settings) -> list[dict[str, Any]]:
    """``frontdesk intents train``: tellers' corrections that product staff accepted."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            return accepted_corrections(session)
    finally:
        engine.dispose()
