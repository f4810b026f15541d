"""Staff accounts, password hashing and login sessions.

Passwords are hashed with scrypt (stdlib) and a per-user salt and compared in
constant time. Session tokens are random; only their SHA-256 is stored, so a
copy of the database does not let anyone log in. Sessions live in the
database, so any server sharing it accepts them; one unused for
``session_idle_minutes`` ends.

Failed logins are audit entries, and the audit log is also what throttles
them: five failures for one account within fifteen minutes lock it for the
rest of that window, on every server sharing the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db import ROLES, AuditEntry, AuthSession, User, utcnow
from server.errors import AuthError, InvalidChoiceError, TooManyRequestsError

# scrypt cost: 16 MiB and ~0.1 s per check on the (busy, 2-core) development machine.
_N, _R, _P = 2**14, 8, 1
_DUMMY_HASH = ""  # set lazily: a hash to check against when the user is unknown

DEMO_ACCOUNTS_FILE = "demo-accounts.txt"
MIN_PASSWORD_CHARS = 12
LANGUAGES = ("mandarin", "shanghainese")
#: Audit actions of the staff side (the throttle counts LOGIN_FAILED).
LOGIN_OK, LOGIN_FAILED, LOGIN_THROTTLED = "auth.login", "auth.login_failed", "auth.login_throttled"
#: How often a session's last use is written (not on every request).
_TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class StaffUser:
    """The logged-in user as routes see it."""

    username: str
    role: str
    languages: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``user`` object of /api/login and /api/me."""
        return {"username": self.username, "role": self.role, "languages": list(self.languages)}


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


def check_password_rules(password: str) -> None:
    """Raises InvalidChoiceError when ``password`` is too short to be a staff password."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidChoiceError(f"password must have at least {MIN_PASSWORD_CHARS} characters")


def check_languages(languages: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate language codes; the message lists the valid ones."""
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        raise InvalidChoiceError(
            f"unknown language {', '.join(map(repr, unknown))}; valid: {', '.join(LANGUAGES)}"
        )
    return tuple(dict.fromkeys(languages))


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    languages: tuple[str, ...] | list[str] = ("mandarin",),
) -> StaffUser:
    """Add a staff account and commit.

    Args:
        session: database session.
        username: the login name.
        role: teller, supervisor, product or admin.
        password: at least 12 characters.
        languages: the languages the member of staff serves callers in.

    Raises:
        InvalidChoiceError: unknown role or language, an empty or taken
            username, or too short a password.
    """
    if role not in ROLES:
        raise InvalidChoiceError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    if not username.strip():
        raise InvalidChoiceError("username must not be empty")
    check_password_rules(password)
    langs = check_languages(languages)
    session.add(
        User(
            username=username,
            role=role,
            password_hash=hash_password(password),
            languages=list(langs),
        )
    )
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise InvalidChoiceError(f"username {username!r} is already taken") from exc
    return StaffUser(username=username, role=role, languages=langs)


def _audit(session: Session, actor: str, action: str, reason: str | None = None) -> None:
    session.add(AuditEntry(actor=actor[:64], action=action, reason=reason, at=utcnow()))


def login_retry_after(
    session: Session, username: str, *, failures: int, window_minutes: float
) -> int:
    """Seconds until ``username`` may try again (0: not locked).

    Counted from the audit log, so every server sharing the database agrees.
    """
    since = utcnow() - dt.timedelta(minutes=window_minutes)
    times = session.scalars(
        select(AuditEntry.at)
        .where(
            AuditEntry.actor == username[:64],
            AuditEntry.action == LOGIN_FAILED,
            AuditEntry.at >= since,
        )
        .order_by(AuditEntry.at.desc())
        .limit(failures)
    ).all()
    if len(times) < failures:
        return 0
    # Locked until the oldest of the last ``failures`` leaves the window.
    unlock = times[-1] + dt.timedelta(minutes=window_minutes)
    return max(1, int((unlock - utcnow()).total_seconds()) + 1)


def login(
    session: Session,
    username: str,
    password: str,
    *,
    client: str,
    failures: int = 5,
    window_minutes: float = 15.0,
) -> StaffUser:
    """Check credentials with throttling, and audit the attempt (committed).

    Raises:
        TooManyRequestsError: ``failures`` failed logins for this account
            within ``window_minutes``; the password is not even checked.
        AuthError: unknown user or wrong password.
    """
    retry = login_retry_after(session, username, failures=failures, window_minutes=window_minutes)
    if retry:
        _audit(session, username, LOGIN_THROTTLED, f"from {client}")
        session.commit()
        raise TooManyRequestsError(
            "too many failed logins for this account; try again later", retry_after=retry
        )
    try:
        user = authenticate(session, username, password)
    except AuthError:
        _audit(session, username, LOGIN_FAILED, f"from {client}")
        session.commit()
        raise
    _audit(session, username, LOGIN_OK, f"from {client}")
    session.commit()
    return user


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
    return StaffUser(username=user.username, role=user.role, languages=tuple(user.languages or ()))


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
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    # Expired sessions are swept here rather than by a background job, so no
    # server has to be "the one" that cleans up.
    session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
    session.commit()
    return token


def session_user(session: Session, token: str, idle_minutes: float | None = None) -> StaffUser:
    """The user a token belongs to; marks the session as used.

    Args:
        session: database session.
        token: the session token (cookie or Bearer).
        idle_minutes: a session unused this long has ended (None: no idle limit).

    Raises:
        AuthError: unknown, expired or idle token.
    """
    token_hash = _token_hash(token)
    row = session.execute(
        select(
            User.username,
            User.role,
            User.languages,
            AuthSession.expires_at,
            AuthSession.last_seen_at,
        )
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == token_hash)
    ).first()
    now = utcnow()
    idle = (
        idle_minutes is not None
        and row is not None
        and (row.last_seen_at + dt.timedelta(minutes=idle_minutes) < now)
    )
    if row is None or row.expires_at < now or idle:
        if idle:
            session.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash))
            session.commit()
        raise AuthError("not logged in or the session has expired; log in again")
    if now - row.last_seen_at > _TOUCH_EVERY:
        session.execute(
            update(AuthSession).where(AuthSession.token_hash == token_hash).values(last_seen_at=now)
        )
        session.commit()
    return StaffUser(username=row.username, role=row.role, languages=tuple(row.languages or ()))


def session_owner(session: Session, token: str) -> str | None:
    """The username of a session token, or None (for auditing a logout)."""
    return session.scalar(
        select(User.username)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == _token_hash(token))
    )


def revoke_sessions(session: Session, username: str, *, actor: str) -> int:
    """End every session of ``username`` (audited, committed); returns how many.

    Raises:
        InvalidChoiceError: no such user.
    """
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise InvalidChoiceError(f"no user {username!r}")
    count = session.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user_id)
    )
    session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    _audit(session, actor, "auth.sessions_revoked", f"{count} session(s) of {username}")
    session.commit()
    return int(count or 0)


def change_password(session: Session, username: str, old: str, new: str) -> None:
    """Change a password after checking the old one; every session of the user ends.

    Raises:
        AuthError: the old password is wrong.
        InvalidChoiceError: the new one is too short or the same as the old one.
    """
    authenticate(session, username, old)
    check_password_rules(new)
    if new == old:
        raise InvalidChoiceError("the new password must differ from the old one")
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None  # authenticate found it
    user.password_hash = hash_password(new)
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    _audit(session, username, "auth.password_changed")
    session.commit()


def close_session(session: Session, token: str) -> None:
    """End the session of ``token`` (logging out twice is fine)."""
    session.execute(delete(AuthSession).where(AuthSession.token_hash == _token_hash(token)))
    session.commit()


def ensure_demo_accounts(session: Session, data_dir: Path) -> dict[str, str] | None:
    """Create one account per role with random passwords on first start (``--demo`` only).

    Only when the database has no users at all. The passwords are returned
    (the caller prints them once) and written to ``data_dir/demo-accounts.txt``
    readable by the owner only. Returns None when accounts already existed
    (or another server sharing the database created them first).
    """
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    passwords = {role: secrets.token_urlsafe(15) for role in ROLES}
    for role, password in passwords.items():
        session.add(
            User(
                username=role,
                role=role,
                password_hash=hash_password(password),
                languages=list(LANGUAGES),
            )
        )
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
