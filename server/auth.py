"""Staff accounts, password hashing and login sessions.

Passwords are hashed with scrypt (stdlib) and a per-user salt and compared in
constant time. Session tokens are random; only their SHA-256 is stored, so a
copy of the database does not let anyone log in. Sessions live in the
database, so any server sharing it accepts them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import ROLES, AuthSession, User, utcnow
from server.errors import AuthError, InvalidChoiceError

# scrypt cost: 16 MiB and ~0.1 s per check on the (busy, 2-core) development machine.
_N, _R, _P = 2**14, 8, 1
_DUMMY_HASH = ""  # set lazily: a hash to check against when the user is unknown

DEMO_ACCOUNTS_FILE = "demo-accounts.txt"


@dataclass(frozen=True)
class StaffUser:
    """The logged-in user as routes see it."""

    username: str
    role: str

    def to_json(self) -> dict[str, str]:
        """The ``user`` object of /api/login and /api/me."""
        return {"username": self.username, "role": self.role}


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Hash ``password`` as ``scrypt$n$r$p$salt$hash`` (hex), with a fresh salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, username: str, role: str, password: str) -> StaffUser:
    """Add a staff account and commit.

    Raises:
        InvalidChoiceError: ``role`` is not teller, product or admin, or the
            username is empty or taken.
    """
    if role not in ROLES:
        raise InvalidChoiceError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    if not username.strip():
        raise InvalidChoiceError("username must not be empty")
    if len(password) < 8:
        raise InvalidChoiceError("password must have at least 8 characters")
    session.add(User(username=username, role=role, password_hash=hash_password(password)))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise InvalidChoiceError(f"username {username!r} is already taken") from exc
    return StaffUser(username=username, role=role)


def authenticate(session: Session, username: str, password: str) -> StaffUser:
    """Check credentials.

    Raises:
        AuthError: unknown user or wrong password (one message for both, and
            the same work for both, so neither reveals which usernames exist).
    """
    global _DUMMY_HASH
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        verify_password(password, _DUMMY_HASH)
        raise AuthError("wrong username or password")
    if not verify_password(password, user.password_hash):
        raise AuthError("wrong username or password")
    return StaffUser(username=user.username, role=user.role)


def open_session(session: Session, username: str, hours: float) -> str:
    """Start a session for ``username``; returns the token (shown once, never stored)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AuthError(f"no user {username!r}")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    # Expired sessions are swept here rather than by a background job, so no
    # server has to be "the one" that cleans up.
    session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
    session.commit()
    return token


def session_user(session: Session, token: str) -> StaffUser:
    """The user a token belongs to.

    Raises:
        AuthError: unknown or expired token.
    """
    row = session.execute(
        select(User.username, User.role, AuthSession.expires_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == _token_hash(token))
    ).first()
    if row is None or row.expires_at < utcnow():
        raise AuthError("not logged in or the session has expired; log in again")
    return StaffUser(username=row.username, role=row.role)


def close_session(session: Session, token: str) -> None:
    """End the session of ``token`` (logging out twice is fine)."""
    session.execute(delete(AuthSession).where(AuthSession.token_hash == _token_hash(token)))
    session.commit()


def ensure_demo_accounts(session: Session, data_dir: Path) -> dict[str, str] | None:
    """Create teller/product/admin accounts with random passwords on first start.

    Only when the database has no users at all. The passwords are returned
    (the caller prints them once) and written to ``data_dir/demo-accounts.txt``
    readable by the owner only. Returns None when accounts already existed
    (or another server sharing the database created them first).
    """
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    passwords = {role: secrets.token_urlsafe(12) for role in ROLES}
    for role, password in passwords.items():
        session.add(User(username=role, role=role, password_hash=hash_password(password)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEMO_ACCOUNTS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# Front Desk demo accounts (username role password)\n")
        for role, password in passwords.items():
            f.write(f"{role} {role} {password}\n")
    os.chmod(path, 0o600)
    return passwords
