"""Request dependencies: database session, logged-in user, role checks, service
keys, FrontDesk.

Used as ``Annotated`` aliases (``DbDep``, ``TellerDep`` ...) so each route's
signature says what it needs. They raise domain errors; app.py maps those to
HTTP statuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from intents.catalog import Catalog
from server.auth import StaffUser, session_user
from server.errors import AuthError, ForbiddenError, NotReadyError, TooManyRequestsError
from server.ratelimit import RateLimiter
from server.service_keys import ServiceCaller, service_caller

if TYPE_CHECKING:
    # Only for types: importing the service loads the whole speech stack.
    from voice_agent.service import FrontDesk

SESSION_COOKIE = "fd_session"
#: Integer columns are 32-bit on PostgreSQL (and SQLite refuses past 64 bits): a larger
#: number in a path is a 422, not a database error (a 500).
DbIntPath = Annotated[int, Path(ge=0, le=2**31 - 1)]


class UnicodeJSONResponse(JSONResponse):
    """JSON with Chinese characters unescaped (contract.md), UTF-8."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` without ASCII escaping."""
        return json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8")


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, closed afterwards (rolled back if not committed)."""
    with request.app.state.sessions() as session:
        yield session


DbDep = Annotated[Session, Depends(get_db)]


def request_token(request: Request) -> str | None:
    """The session token from ``Authorization: Bearer`` or the ``fd_session`` cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def current_user(request: Request, db: DbDep) -> StaffUser:
    """The logged-in user.

    Raises:
        AuthError: no token, or an unknown, expired or idle one.
    """
    token = request_token(request)
    if token is None:
        raise AuthError("not logged in: log in first (POST /api/login)")
    idle = request.app.state.settings.server.session_idle_minutes
    return session_user(db, token, idle_minutes=idle)


CurrentUser = Annotated[StaffUser, Depends(current_user)]


def require(*roles: str) -> Callable[[StaffUser], StaffUser]:
    """A dependency admitting ``roles`` and admins."""

    def check(user: CurrentUser) -> StaffUser:
        if user.role not in (*roles, "admin"):
            # Admins pass every check, so they are named too (AdminDep names only them).
            needed = " or ".join((*roles, "admin"))
            raise ForbiddenError(f"this needs the {needed} role; you are logged in as {user.role}")
        return user

    return check


#: Supervisors work the queue too (and alone may decide escalations).
TellerDep = Annotated[StaffUser, Depends(require("teller", "supervisor"))]
ProductDep = Annotated[StaffUser, Depends(require("product"))]
AdminDep = Annotated[StaffUser, Depends(require())]


def current_service(request: Request, db: DbDep) -> ServiceCaller:
    """The bank system calling, from ``Authorization: Bearer KEY``.

    Raises:
        AuthError: no key, or an unknown or revoked one.
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("a service key is required: Authorization: Bearer KEY")
    return service_caller(db, value.strip())


ServiceDep = Annotated[ServiceCaller, Depends(current_service)]


def client_ip(request: Request) -> str:
    """The peer address (the rate limits' key)."""
    return request.client.host if request.client else "unknown"


def limit(request: Request, limiter: RateLimiter, what: str) -> None:
    """Count one request of this client against ``limiter``.

    Raises:
        TooManyRequestsError: over the limit, with the seconds to wait.
    """
    wait = limiter.hit(client_ip(request))
    if wait:
        raise TooManyRequestsError(f"too many {what} from this address", retry_after=wait)


def get_frontdesk(request: Request) -> FrontDesk:
    """The loaded FrontDesk.

    Raises:
        NotReadyError: models still loading, or loading failed (says why).
    """
    state = request.app.state
    if state.frontdesk is None:
        if state.load_error:
            raise NotReadyError(f"models failed to load: {state.load_error}")
        raise NotReadyError("models are still loading; try again shortly (GET /healthz)")
    frontdesk: FrontDesk = state.frontdesk
    return frontdesk


FrontDeskDep = Annotated["FrontDesk", Depends(get_frontdesk)]


def get_catalog(request: Request) -> Catalog:
    """The intent catalog the server shows and validates against."""
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
