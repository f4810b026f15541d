"""Admin routes: the bank systems' service keys (list, add, revoke).

The same as ``frontdesk service-keys`` for an admin without shell access;
every change is audited with the admin's name.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.deps import AdminDep, DbDep, UnicodeJSONResponse
from server.schemas import STAFF, NewServiceKey, RevokedKey, ServiceKeyList, errors
from server.service_keys import add_service_key, list_service_keys, revoke_service_key

router = APIRouter(prefix="/api/admin/service-keys")


class KeyBody(BaseModel):
    """The new key's name (the system that will hold it)."""

    name: str = Field(max_length=64)


@router.get("", response_model=ServiceKeyList, responses=errors(*STAFF))
def list_keys(db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Every key's name, prefix and whether it is revoked (never the key)."""
    return UnicodeJSONResponse({"service_keys": list_service_keys(db)})


@router.post("", status_code=201, response_model=NewServiceKey, responses=errors(*STAFF))
def add_key(body: KeyBody, db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Create a key; the answer is the only time it is shown."""
    key = add_service_key(db, body.name, actor=admin.username)
    return UnicodeJSONResponse({"name": body.name.strip(), "key": key}, status_code=201)


@router.post("/{name}/revoke", response_model=RevokedKey, responses=errors(*STAFF, 404))
def revoke_key(name: str, db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Revoke a key at once, on every server sharing the database."""
    revoke_service_key(db, name, actor=admin.username)
    return UnicodeJSONResponse({"name": name, "revoked": True})
