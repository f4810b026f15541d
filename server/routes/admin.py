"""Admin routes: the bank systems' service keys (list, add, revoke) and the staff list.

The same as ``frontdesk service-keys`` for an admin without shell access;
every change is audited with the admin's name. The staff list feeds the
console's 员工 tab (languages are changed with ``PATCH /api/admin/users/NAME``,
server.routes.dialect); reading it is audited too, since it says who is
logged in.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from server.deps import AdminDep, DbDep, UnicodeJSONResponse
from server.repository import append_audit
from server.schemas import (
    STAFF,
    NewServiceKey,
    RevokedKey,
    ServiceKeyList,
    StaffOverview,
    errors,
)
from server.service_keys import add_service_key, list_service_keys, revoke_service_key
from server.staff import recent_account_changes, staff_accounts, supported_languages

router = APIRouter(prefix="/api/admin")


class KeyBody(BaseModel):
    """The new key's name (the system that will hold it)."""

    name: str = Field(max_length=64)


@router.get("/service-keys", response_model=ServiceKeyList, responses=errors(*STAFF))
def list_keys(db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Every key's name, prefix and whether it is revoked (never the key)."""
    return UnicodeJSONResponse({"service_keys": list_service_keys(db)})


@router.post(
    "/service-keys", status_code=201, response_model=NewServiceKey, responses=errors(*STAFF)
)
def add_key(body: KeyBody, db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Create a key; the answer is the only time it is shown."""
    key = add_service_key(db, body.name, actor=admin.username)
    return UnicodeJSONResponse({"name": body.name.strip(), "key": key}, status_code=201)


@router.post(
    "/service-keys/{name}/revoke", response_model=RevokedKey, responses=errors(*STAFF, 404)
)
def revoke_key(name: str, db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Revoke a key at once, on every server sharing the database."""
    revoke_service_key(db, name, actor=admin.username)
    return UnicodeJSONResponse({"name": name, "revoked": True})


@router.get("/staff", response_model=StaffOverview, responses=errors(*STAFF))
def list_staff(request: Request, db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Every staff account, the languages one may be given, and recent account changes.

    Each account has its role, languages, last login and last activity. The
    read itself is audited (``staff.listed``): it shows who is logged in.
    """
    idle = request.app.state.settings.server.session_idle_minutes
    answer = {
        "languages": supported_languages(),
        "staff": staff_accounts(db, idle),
        "changes": recent_account_changes(db),
    }
    append_audit(db, actor=admin.username, action="staff.listed")
    db.commit()
    return UnicodeJSONResponse(answer)
