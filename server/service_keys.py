"""Service keys: the credential of the bank's own systems (mobile-app back end).

A key is shown once (``frontdesk service-keys add NAME``) and stored as its
SHA-256: the keys are 256 random bits, so a fast hash is enough, and a copy
of the database does not let anyone call the service routes. Revoking a key
(by an admin) stops it at once on every server sharing the database.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import AuditEntry, ServiceKey, utcnow
from server.errors import AuthError, InvalidChoiceError, NotFoundError

KEY_PREFIX = "fdsk_"


@dataclass(frozen=True)
class ServiceCaller:
    """The system a valid key belongs to, as routes see it."""

    name: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _audit(session: Session, actor: str, action: str, name: str) -> None:
    session.add(AuditEntry(actor=actor, action=action, after={"service_key": name}, at=utcnow()))


def add_service_key(session: Session, name: str, *, actor: str = "cli") -> str:
    """Create a key named ``name`` (committed, audited); returns the key, shown once.

    Raises:
        InvalidChoiceError: the name is empty, too long or taken.
    """
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidChoiceError("a service key needs a name of 1–64 characters")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ServiceKey(name=name, key_hash=_hash(key), prefix=key[:12], created_at=utcnow()))
    _audit(session, actor, "service_key.added", name)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise InvalidChoiceError(f"a service key named {name!r} already exists") from exc
    return key


def revoke_service_key(session: Session, name: str, *, actor: str = "cli") -> None:
    """Revoke the key named ``name`` (committed, audited; revoking twice is fine).

    Raises:
        NotFoundError: no key has that name.
    """
    row = session.scalar(select(ServiceKey).where(ServiceKey.name == name))
    if row is None:
        names = session.scalars(select(ServiceKey.name).order_by(ServiceKey.name)).all()
        raise NotFoundError(f"no service key {name!r}; keys: {', '.join(names) or 'none'}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        _audit(session, actor, "service_key.revoked", name)
        session.commit()


def list_service_keys(session: Session) -> list[dict[str, Any]]:
    """Every key's name, visible prefix and dates (never the key)."""
    rows = session.scalars(select(ServiceKey).order_by(ServiceKey.name))
    return [
        {
            "name": r.name,
            "prefix": r.prefix,
            "created_at": r.created_at.isoformat() + "Z",
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]


def service_caller(session: Session, key: str) -> ServiceCaller:
    """The system holding ``key``.

    Raises:
        AuthError: unknown or revoked key.
    """
    row = session.scalar(select(ServiceKey).where(ServiceKey.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None:
        raise AuthError("invalid or revoked service key")
    return ServiceCaller(name=row.name)
