"""Login, logout, who-am-I and passwords for staff (tellers, supervisors, product, admins).

The session token travels only in an HttpOnly, SameSite=Strict cookie
(``Secure`` unless ``server.secure_cookies`` is off), never in a response
body, so page scripts cannot read it. API clients send the cookie's value
as ``Authorization: Bearer``. Logins, failures, throttled attempts and
logouts are audited; failures throttle per account (server.auth) and per
address (here).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from server.auth import (
    change_password,
    close_session,
    login,
    open_session,
    revoke_sessions,
    session_owner,
)
from server.deps import (
    SESSION_COOKIE,
    AdminDep,
    CurrentUser,
    DbDep,
    UnicodeJSONResponse,
    client_ip,
    limit,
    request_token,
)
from server.repository import append_audit
from server.schemas import STAFF, RevokedSessions, StatusMessage, UserAnswer, errors

router = APIRouter(prefix="/api")


class LoginBody(BaseModel):
    """Credentials."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class PasswordBody(BaseModel):
    """A password change: the current password and the new one (≥ 12 characters)."""

    old_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


def _clear_cookie(request: Request, response: UnicodeJSONResponse) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.server.secure_cookies,
    )


@router.post("/login", response_model=UserAnswer, responses=errors(401, 422, 429))
def login_route(body: LoginBody, request: Request, db: DbDep) -> UnicodeJSONResponse:
    """Check credentials and set the session cookie; the body holds only the user.

    429 with ``Retry-After`` after too many failures for the account (right
    password or not) or too many attempts from one address.
    """
    server = request.app.state.settings.server
    limit(request, request.app.state.limits["login"], "login attempts")
    user = login(
        db,
        body.username,
        body.password,
        client=client_ip(request),
        failures=server.login_failures_per_account,
        window_minutes=server.login_lockout_minutes,
    )
    token = open_session(db, user.username, server.session_hours)
    response = UnicodeJSONResponse({"user": user.to_json()})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(server.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=server.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout", response_model=StatusMessage)
def logout(request: Request, db: DbDep) -> UnicodeJSONResponse:
    """End the session (if any), audit it, and clear the cookie."""
    token = request_token(request)
    if token:
        owner = session_owner(db, token)
        close_session(db, token)
        if owner is not None:
            append_audit(db, actor=owner, action="auth.logout", reason=f"from {client_ip(request)}")
            db.commit()
    response = UnicodeJSONResponse({"status": "logged out"})
    _clear_cookie(request, response)
    return response


@router.get("/me", response_model=UserAnswer, responses=errors(401))
def me(user: CurrentUser) -> UnicodeJSONResponse:
    """The logged-in user (401 when not logged in)."""
    return UnicodeJSONResponse({"user": user.to_json()})


@router.post("/password", response_model=StatusMessage, responses=errors(401, 422, 429))
def password(
    body: PasswordBody, request: Request, db: DbDep, user: CurrentUser
) -> UnicodeJSONResponse:
    """Change one's own password; every session of the user ends (log in again)."""
    limit(request, request.app.state.limits["login"], "login attempts")
    change_password(db, user.username, body.old_password, body.new_password)
    response = UnicodeJSONResponse({"status": "password changed; log in again"})
    _clear_cookie(request, response)
    return response


@router.post("/sessions/revoke", response_model=RevokedSessions, responses=errors(401))
def revoke_own(request: Request, db: DbDep, user: CurrentUser) -> UnicodeJSONResponse:
    """Log out everywhere: end every session of the logged-in user."""
    count = revoke_sessions(db, user.username, actor=user.username)
    response = UnicodeJSONResponse({"revoked": count})
    _clear_cookie(request, response)
    return response


@router.post(
    "/users/{username}/sessions/revoke",
    response_model=RevokedSessions,
    responses=errors(*STAFF),
)
def revoke_user(username: str, db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """An admin ends every session of ``username`` (a lost laptop, a leaver)."""
    return UnicodeJSONResponse({"revoked": revoke_sessions(db, username, actor=admin.username)})
