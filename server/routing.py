"""Which teller sees which case: dialect cases go first to tellers who speak it.

A case whose audio was judged dialect speech (``dialect.source == "speech"``,
e.g. a Shanghainese caller the Mandarin recogniser cannot read) is shown
first only to tellers whose ``languages`` include that dialect. If none of
them is logged in once the case has waited ``speech_dialect.route_wait_s``,
every teller sees it: a caller must never wait for a teller who is not
there. Supervisors and admins always see the whole queue. The decision is
made on every queue read from the shared database (sessions and cases), so
it holds across several servers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth import LANGUAGES, StaffUser, check_languages
from server.db import AuditEntry, AuthSession, User, utcnow
from server.errors import InvalidChoiceError, NotFoundError

#: Roles that see every case whatever its dialect.
OVERSEERS = ("supervisor", "admin")


def case_dialect(data: Mapping[str, Any]) -> str | None:
    """The dialect a case needs a teller for: a ``source: speech`` dialect, else None."""
    dialect = data.get("dialect") or {}
    if dialect.get("source") == "speech" and dialect.get("code") not in (None, "mandarin"):
        return str(dialect["code"])
    return None


def logged_in_languages(session: Session, idle_minutes: float | None) -> set[str]:
    """Languages spoken by tellers with a live session right now."""
    now = utcnow()
    query = (
        select(User.languages)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.expires_at > now, User.role.in_(("teller", "supervisor")))
    )
    if idle_minutes is not None:
        query = query.where(AuthSession.last_seen_at > now - dt.timedelta(minutes=idle_minutes))
    spoken: set[str] = set()
    for languages in session.scalars(query):
        spoken.update(languages or ())
    return spoken


def route_queue(
    session: Session,
    items: Sequence[dict[str, Any]],
    user: StaffUser,
    *,
    wait_s: float,
    idle_minutes: float | None,
) -> list[dict[str, Any]]:
    """The queue as ``user`` sees it; each dialect case says how it was routed.

    Each item with a dialect gets ``routing``: ``speaker`` (shown to
    tellers who speak it), ``everyone`` (waited ``wait_s`` with none of
    them logged in). Items the user may not see yet are left out.
    """
    spoken: set[str] | None = None
    out = []
    for item in items:
        dialect = item.get("dialect")
        if not dialect:
            out.append(item)
            continue
        if spoken is None:
            spoken = logged_in_languages(session, idle_minutes)
        waited = item.get("waiting_seconds", 0) >= wait_s
        routing = "everyone" if waited and dialect not in spoken else "speaker"
        visible = user.role in OVERSEERS or dialect in user.languages or routing == "everyone"
        if visible:
            out.append({**item, "routing": routing})
    return out


def staff_languages(session: Session) -> list[dict[str, Any]]:
    """Every staff account's name, role and languages (for the admin)."""
    rows = session.execute(select(User.username, User.role, User.languages).order_by(User.username))
    return [{"username": u, "role": r, "languages": list(langs or ())} for u, r, langs in rows]


def set_languages(
    session: Session, username: str, languages: Sequence[str], *, actor: str
) -> dict[str, Any]:
    """Change the languages a member of staff serves callers in (audited, committed).

    Raises:
        NotFoundError: no such account.
        InvalidChoiceError: an unknown language (the message lists the valid ones)
            or none at all.
    """
    langs = check_languages(list(languages))
    if not langs:
        raise InvalidChoiceError(f"give at least one language; valid: {', '.join(LANGUAGES)}")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    before = list(user.languages or ())
    user.languages = list(langs)
    session.add(
        AuditEntry(
            actor=actor[:64],
            action="user.languages",
            before={"username": username, "languages": before},
            after={"username": username, "languages": list(langs)},
            at=utcnow(),
        )
    )
    session.commit()
    return {"username": user.username, "role": user.role, "languages": list(langs)}
