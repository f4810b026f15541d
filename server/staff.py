"""The admin's view of staff accounts: who they are, what they speak, when last seen.

The console's 员工 tab reads this to show every account and to let an admin
change the languages a teller serves callers in (the change itself is
``server.routing.set_languages``, audited there). Last login comes from the
audit log and last activity from live sessions, so every server sharing
the database shows the same; nothing here is cached.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth import LANGUAGES, LOGIN_OK
from server.db import AuditEntry, AuthSession, User, utcnow
from server.repository import audit_json, iso

#: What the console shows for each code of ``server.auth.LANGUAGES`` (the code if missing).
LANGUAGE_NAMES = {"mandarin": "普通话", "shanghainese": "上海话"}
#: Audit actions that change a staff account, shown beside the list.
ACCOUNT_ACTIONS = ("user.languages",)
#: How many recent account changes the list carries.
RECENT_CHANGES = 20


def supported_languages() -> list[dict[str, str]]:
    """Every language a member of staff may serve in, with its Chinese name."""
    return [{"code": code, "name": LANGUAGE_NAMES.get(code, code)} for code in LANGUAGES]


def staff_accounts(session: Session, idle_minutes: float | None) -> list[dict[str, Any]]:
    """Every account: name, role, languages, last login, last activity, online now.

    Args:
        session: database session.
        idle_minutes: a session unused this long no longer counts as online
            (None: any unexpired session does), as for logins and routing.
    """
    now = utcnow()
    logins = dict(
        session.execute(
            select(AuditEntry.actor, func.max(AuditEntry.at))
            .where(AuditEntry.action == LOGIN_OK)
            .group_by(AuditEntry.actor)
        ).all()
    )
    seen = dict(
        session.execute(
            select(AuthSession.user_id, func.max(AuthSession.last_seen_at))
            .where(AuthSession.expires_at > now)
            .group_by(AuthSession.user_id)
        ).all()
    )
    idle_since = None if idle_minutes is None else now - dt.timedelta(minutes=idle_minutes)
    rows = session.execute(
        select(User.id, User.username, User.role, User.languages, User.created_at).order_by(
            User.username
        )
    )
    accounts = []
    for user_id, username, role, languages, created_at in rows:
        last_seen = seen.get(user_id)
        accounts.append(
            {
                "username": username,
                "role": role,
                "languages": list(languages or ()),
                "created_at": iso(created_at),
                "last_login_at": iso(logins.get(username[:64])),
                "last_seen_at": iso(last_seen),
                "online": last_seen is not None and (idle_since is None or last_seen > idle_since),
            }
        )
    return accounts


def recent_account_changes(session: Session, limit: int = RECENT_CHANGES) -> list[dict[str, Any]]:
    """The latest audited changes to staff accounts, newest first."""
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(ACCOUNT_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [audit_json(r) for r in rows]
