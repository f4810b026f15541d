"""Product staff: the intent catalog, a try-a-sentence box, corrections, evaluation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from intents.catalog import Catalog, IntentDraft
from models.errors import InputError
from server import catalog_store
from server.catalog_store import CatalogVersion
from server.db import CORRECTION_STATUSES
from server.deps import (
    CatalogDep,
    CurrentUser,
    DbDep,
    DbIntPath,
    FrontDeskDep,
    ProductDep,
    UnicodeJSONResponse,
)
from server.errors import NotFoundError, PreconditionRequiredError
from server.repository import (
    append_audit,
    list_corrections,
    masked_correction,
    review_correction,
)
from server.routes.calls import UnderstandBody, understand_text
from server.schemas import (
    STAFF,
    AddedExample,
    CatalogView,
    CorrectionList,
    EditedIntent,
    EvalReport,
    IntentList,
    ReviewedCorrection,
    StaleEdit,
    Understanding,
    binary,
    errors,
)

router = APIRouter(prefix="/api")

EVAL_DIR = "eval"


class ExampleBody(BaseModel):
    """One example sentence to add to an intent."""

    text: str


class IntentFields(BaseModel):
    """An intent's editable fields (the catalog file's keys but its code and scenarios)."""

    name: str
    description: str
    examples: list[str]
    slots: list[str] = []
    required: list[list[str]] = []
    prompts: dict[str, str] = {}
    readback: list[str | list[str]] | None = None
    summary: list[str | list[str]] | None = None


class IntentBody(IntentFields):
    """A new intent from the product console (the catalog file's keys)."""

    code: str


class ReviewBody(BaseModel):
    """A product reviewer's verdict on a teller's correction."""

    decision: str = Field(json_schema_extra={"enum": ["accept", "reject"]})


@router.get("/intents", response_model=IntentList, responses=errors(401))
def list_intents(user: CurrentUser, catalog: CatalogDep) -> UnicodeJSONResponse:
    """Intent codes, names and slots for any staff member.

    Tellers need them to correct a case's intent, including intents product
    staff added to the catalog, but not the examples (product's business).
    """
    return UnicodeJSONResponse(
        {
            "intents": [
                {"code": s.code, "name": s.name, "slots": list(s.slots)}
                for s in catalog.intents.values()
            ]
        }
    )


def _current(request: Request, db: Session) -> CatalogVersion:
    """The database's newest catalog; this server starts serving it if it was behind."""
    state = request.app.state
    served: CatalogVersion = state.catalog_current
    if catalog_store.head(db) == served.version:  # one query when nothing changed
        return served
    current = catalog_store.ensure_catalog(db, state.settings)
    state.catalog_watcher.apply(state, current)
    return current


@router.get("/catalog", response_model=CatalogView, responses=errors(*STAFF))
def get_catalog(request: Request, db: DbDep, user: ProductDep) -> UnicodeJSONResponse:
    """The catalog version every server uses, each intent with its revision and examples.

    Read from the database on each request, so an edit made on another
    server shows at once.
    """
    return UnicodeJSONResponse(catalog_store.catalog_json(_current(request, db)))


@router.post("/catalog/try", response_model=Understanding, responses=errors(*STAFF, 400, 413, 503))
def try_sentence(
    body: UnderstandBody, request: Request, user: ProductDep, frontdesk: FrontDeskDep
) -> UnicodeJSONResponse:
    """What the current model makes of a sentence (with the words that drove it)."""
    return understand_text(request, frontdesk, body)


IfMatch = Annotated[
    str | None,
    Header(
        description='The revision of the intent the edit was made on, e.g. "7" '
        "(its `revision` in GET /api/catalog).",
    ),
]

#: 409 when the intent changed since the user saw it.
_STALE: dict[int | str, dict[str, Any]] = {
    409: {"model": StaleEdit, "description": "The intent changed since that revision"}
}


def _base_revision(if_match: str | None, code: str) -> int:
    """The revision an ``If-Match`` header names (``"7"``, ``7`` or ``W/"7"``)."""
    if if_match is None:
        raise PreconditionRequiredError(
            f"editing intent {code!r} needs If-Match: the revision you saw "
            "(its `revision` in GET /api/catalog), so no one else's edit is overwritten"
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 9:
        raise InputError(f'If-Match {if_match!r} is not a revision: send the number, e.g. "7"')
    return int(value)


def _stale(exc: catalog_store.StaleEditError) -> UnicodeJSONResponse:
    current = exc.current
    revision = current.revisions.get(exc.code, 0)
    return UnicodeJSONResponse(
        {
            "error": str(exc),
            "intent": exc.code,
            "base_revision": exc.base_revision,
            "revision": revision,
            "version": current.version,
            "changed": list(exc.changed),
            "current": catalog_store.intent_json(current.catalog.spec(exc.code), revision),
        },
        status_code=409,
        headers={"ETag": f'"{revision}"'},
    )


def _edit(
    request: Request,
    db: Session,
    change: Callable[[Catalog], Catalog],
    *,
    author: str,
    note: str,
    code: str | None = None,
    base_revision: int | None = None,
) -> CatalogVersion:
    state = request.app.state
    current = catalog_store.edit(
        db,
        state.settings,
        change,
        author=author,
        note=note,
        code=code,
        base_revision=base_revision,
    )
    state.catalog_watcher.apply(state, current)
    return current


def _edited_intent(current: CatalogVersion, code: str, status: int) -> UnicodeJSONResponse:
    revision = current.revisions[code]
    body = catalog_store.intent_json(current.catalog.spec(code), revision)
    return UnicodeJSONResponse(
        {**body, "version": current.version},
        status_code=status,
        headers={"ETag": f'"{revision}"'},
    )


def _draft(code: str, body: IntentFields, scenarios: dict[str, Any] | None) -> IntentDraft:
    return IntentDraft(
        code=code,
        name=body.name.strip(),
        description=body.description.strip(),
        examples=tuple(body.examples),
        slots=tuple(body.slots),
        required=tuple(tuple(g) for g in body.required if g),
        prompts=body.prompts,
        readback=list(body.readback) if body.readback is not None else None,
        summary=list(body.summary) if body.summary is not None else None,
        scenarios=scenarios,
    )


@router.post(
    "/catalog/intents",
    status_code=201,
    response_model=EditedIntent,
    responses=errors(*STAFF, 400, 409),
)
def add_intent(
    body: IntentBody, request: Request, db: DbDep, user: ProductDep
) -> UnicodeJSONResponse:
    """Add an intent as the next catalog version (validated like a file; audited).

    A new intent needs no If-Match: it is validated against the newest
    catalog when it is stored (a code someone just took is refused). It gets
    prompts for its missing slots, a read-back and a summary from its
    templates (or the defaults); every server serves it within
    ``server.catalog_poll_s``, and the classifier learns it at the next
    ``frontdesk intents train``.
    """
    code = body.code.strip()
    draft = _draft(code, body, None)
    current = _edit(
        request,
        db,
        lambda catalog: catalog.with_intent(draft),
        author=user.username,
        note=f"intent {code} added",
    )
    append_audit(
        db,
        actor=user.username,
        action="catalog.intent_added",
        after={"intent": code, "version": current.version},
    )
    db.commit()
    return _edited_intent(current, code, 201)


@router.put(
    "/catalog/intents/{code}",
    response_model=EditedIntent,
    responses={**errors(*STAFF, 400, 428), **_STALE},
)
def edit_intent(
    code: str,
    body: IntentFields,
    request: Request,
    db: DbDep,
    user: ProductDep,
    if_match: IfMatch = None,
) -> UnicodeJSONResponse:
    """Replace an intent's fields (its scenarios are kept); audited.

    Needs ``If-Match`` with the revision the user edited. When someone else
    changed the intent since, nothing is stored: 409 with the current
    intent, its revision and the fields that changed (reload and redo).
    """
    base = _base_revision(if_match, code)
    try:
        current = _edit(
            request,
            db,
            lambda catalog: catalog.with_intent(
                _draft(code, body, _scenarios(catalog, code)), replace=True
            ),
            author=user.username,
            note=f"intent {code} edited",
            code=code,
            base_revision=base,
        )
    except catalog_store.StaleEditError as exc:
        return _stale(exc)
    append_audit(
        db,
        actor=user.username,
        action="catalog.intent_edited",
        before={"intent": code, "revision": base},
        after={"intent": code, "version": current.version},
    )
    db.commit()
    return _edited_intent(current, code, 200)


def _scenarios(catalog: Catalog, code: str) -> dict[str, Any]:
    spec = catalog.spec(code)
    return {
        sc.code: {
            "greeting": sc.greeting,
            **({"also_expected": list(sc.also_expected)} if sc.also_expected else {}),
            **({"teller_note": sc.teller_note} if sc.teller_note else {}),
        }
        for sc in spec.scenarios.values()
    }


@router.post(
    "/catalog/{code}/examples",
    status_code=201,
    response_model=AddedExample,
    responses={**errors(*STAFF, 400, 404, 428), **_STALE},
)
def add_example(
    code: str,
    body: ExampleBody,
    request: Request,
    db: DbDep,
    user: ProductDep,
    if_match: IfMatch = None,
) -> UnicodeJSONResponse:
    """Add an example to an intent as the next catalog version (audited).

    Needs ``If-Match`` with the intent's revision the user saw (409 when it
    changed since). It reaches the classifier at the next ``frontdesk
    intents train``.
    """
    base = _base_revision(if_match, code)
    try:
        current = _edit(
            request,
            db,
            lambda catalog: catalog.with_example(code, body.text),
            author=user.username,
            note=f"example added to {code}",
            code=code,
            base_revision=base,
        )
    except catalog_store.StaleEditError as exc:
        return _stale(exc)
    spec = current.catalog.spec(code)
    revision = current.revisions[code]
    append_audit(
        db,
        actor=user.username,
        action="catalog.example_added",
        after={"intent": code, "text": body.text.strip(), "version": current.version},
    )
    db.commit()
    return UnicodeJSONResponse(
        {
            "intent": code,
            "file": str(spec.path),
            "examples": [ex.text for ex in spec.examples],
            "revision": revision,
            "version": current.version,
        },
        status_code=201,
        headers={"ETag": f'"{revision}"'},
    )


@router.get("/corrections", response_model=CorrectionList, responses=errors(*STAFF))
def corrections(
    db: DbDep,
    user: ProductDep,
    status: Annotated[
        str, Query(json_schema_extra={"enum": [*CORRECTION_STATUSES, "all"]})
    ] = "pending",
) -> UnicodeJSONResponse:
    """Tellers' corrections with ``status`` (pending, accepted, rejected or all).

    Product staff see transcripts and accounts masked: they judge wording,
    not customers.
    """
    return UnicodeJSONResponse(
        {"corrections": list_corrections(db, None if status == "all" else status, masked=True)}
    )


@router.post(
    "/corrections/{correction_id}/review",
    response_model=ReviewedCorrection,
    responses=errors(*STAFF, 404, 409),
)
def review(
    correction_id: DbIntPath, body: ReviewBody, db: DbDep, user: ProductDep
) -> UnicodeJSONResponse:
    """Accept (feeds the next training run) or reject a correction."""
    return UnicodeJSONResponse(
        {
            "correction": masked_correction(
                review_correction(db, correction_id, actor=user.username, decision=body.decision)
            )
        }
    )


def _eval_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir) / EVAL_DIR


@router.get("/eval/latest", response_model=EvalReport, responses=errors(*STAFF, 404))
def latest_eval(request: Request, user: ProductDep) -> UnicodeJSONResponse:
    """The latest ``frontdesk intents eval`` report (JSON, with a link to its HTML)."""
    directory = _eval_dir(request)
    path = directory / "report.json"
    if not path.is_file():
        raise NotFoundError(
            f"no evaluation report in {directory}; run `frontdesk intents eval --out {directory}`"
        )
    report = json.loads(path.read_text(encoding="utf-8"))
    html = (directory / "report.html").is_file()
    return UnicodeJSONResponse(
        {"report": report, "html": "/api/eval/latest/report.html" if html else None}
    )


@router.get(
    "/eval/latest/{name}",
    response_class=FileResponse,
    responses={
        **binary(
            "text/html",
            "image/png",
            "image/svg+xml",
            "application/json",
            description="A file of the report",
        ),
        **errors(*STAFF, 404),
    },
)
def latest_eval_file(name: str, request: Request, user: ProductDep) -> FileResponse:
    """A file of the latest report (its HTML page and the images it shows)."""
    directory = _eval_dir(request).resolve()
    try:
        path = (directory / name).resolve()
        found = path.parent == directory and path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL
        found = False
    if not found:
        raise NotFoundError(f"no file {name!r} in the evaluation report {directory}")
    return FileResponse(path)
