"""Dialect callers (issue 9): turn recordings for staff, tellers' languages for admins."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from server.deps import AdminDep, DbDep, DbIntPath, TellerDep, UnicodeJSONResponse
from server.recordings import play_recording, recording_turns
from server.routing import set_languages, staff_languages
from server.schemas import STAFF, RecordingTurns, UserAnswer, UserList, binary, errors

router = APIRouter(prefix="/api")


class LanguagesBody(BaseModel):
    """The languages a member of staff serves callers in."""

    languages: list[str] = Field(max_length=8)


@router.get("/cases/{case_id}/recordings", response_model=RecordingTurns, responses=errors(*STAFF))
def list_recordings(case_id: str, db: DbDep, user: TellerDep) -> UnicodeJSONResponse:
    """The turns of a case that still have audio (deleted after the retention days)."""
    return UnicodeJSONResponse({"case_id": case_id, "turns": recording_turns(db, case_id)})


@router.get(
    "/cases/{case_id}/recordings/{turn}",
    response_class=Response,
    responses={
        **binary("audio/ogg", description="The turn's audio (OGG/Opus)"),
        **errors(*STAFF, 404),
    },
)
def get_recording(case_id: str, turn: DbIntPath, db: DbDep, user: TellerDep) -> Response:
    """One turn's audio (OGG/Opus); staff only, and every playback is audited."""
    data, mime = play_recording(db, case_id, turn, actor=user.username)
    return Response(
        content=data,
        media_type=mime,
        headers={"Cache-Control": "no-store, private"},
    )


@router.get("/admin/users", response_model=UserList, responses=errors(*STAFF))
def list_users(db: DbDep, admin: AdminDep) -> UnicodeJSONResponse:
    """Every staff account with its role and languages."""
    return UnicodeJSONResponse({"users": staff_languages(db)})


@router.patch("/admin/users/{username}", response_model=UserAnswer, responses=errors(*STAFF, 404))
def patch_user(
    username: str, body: LanguagesBody, db: DbDep, admin: AdminDep
) -> UnicodeJSONResponse:
    """Change the languages a member of staff serves callers in (audited)."""
    return UnicodeJSONResponse(
        {"user": set_languages(db, username, body.languages, actor=admin.username)}
    )
