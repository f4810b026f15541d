"""Login, logout and who-am-I for staff (tellers, product staff, admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from server.auth import authenticate, close_session, open_session
from server.deps import SESSION_COOKIE, CurrentUser, DbDep, UnicodeJSONResponse, request_token

router = APIRouter(prefix="/api")


class LoginBody(BaseModel):
    """Credentials."""

    username: str
    password: str


@router.post("/login")
def login(body: LoginBody, request: Request, db: DbDep) -> UnicodeJSONResponse:
    """Check credentials; answer the token and set it as an HttpOnly cookie.

    The cookie serves the console pages (SameSite=Strict keeps other sites
    from riding on it); the token in the body serves API clients (Bearer).
    """
    user = authenticate(db, body.username, body.password)
    hours = request.app.state.settings.server.session_hours
    token = open_session(db, user.username, hours)
    response = UnicodeJSONResponse({"user": user.to_json(), "token": token})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep) -> UnicodeJSONResponse:
    """End the session (if any) and clear the cookie."""
    token = request_token(request)
    if token:
        close_session(db, token)
    response = UnicodeJSONResponse({"status": "logged out"})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me")
def me(user: CurrentUser) -> UnicodeJSONResponse:
    """The logged-in user (401 when not logged in)."""
    return UnicodeJSONResponse({"user": user.to_json()})
