"""Product staff: the intent catalog, a try-a-sentence box, corrections, evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from intents.catalog import IntentDraft
from server.catalog_store import catalog_json, intent_json, load_editable
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
from server.errors import NotFoundError
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
    CatalogIntent,
    CatalogView,
    CorrectionList,
    EvalReport,
    IntentList,
    ReviewedCorrection,
    Understanding,
    binary,
    errors,
)

router = APIRouter(prefix="/api")

EVAL_DIR = "eval"


class ExampleBody(BaseModel):
    """One example sentence to add to an intent."""

    text: str


class IntentBody(BaseModel):
    """A new intent from the product console (the catalog file's keys)."""

    code: str
    name: str
    description: str
    examples: list[str]
    slots: list[str] = []
    required: list[list[str]] = []
    prompts: dict[str, str] = {}
    readback: list[str | list[str]] | None = None
    summary: list[str | list[str]] | None = None


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


@router.get("/catalog", response_model=CatalogView, responses=errors(*STAFF))
def get_catalog(user: ProductDep, catalog: CatalogDep) -> UnicodeJSONResponse:
    """Every intent with its slots, required groups and examples."""
    return UnicodeJSONResponse(catalog_json(catalog))


@router.post("/catalog/try", response_model=Understanding, responses=errors(*STAFF, 400, 413, 503))
def try_sentence(
    body: UnderstandBody, request: Request, user: ProductDep, frontdesk: FrontDeskDep
) -> UnicodeJSONResponse:
    """What the current model makes of a sentence (with the words that drove it)."""
    return understand_text(request, frontdesk, body)


@router.post(
    "/catalog/intents",
    status_code=201,
    response_model=CatalogIntent,
    responses=errors(*STAFF, 400, 409),
)
def add_intent(
    body: IntentBody, request: Request, db: DbDep, user: ProductDep
) -> UnicodeJSONResponse:
    """Add an intent to the editable catalog (validated like a file; audited).

    It gets prompts for its missing slots, a read-back and a summary from
    its templates (or the defaults), and reaches the classifier at the next
    ``frontdesk intents train``.
    """
    state = request.app.state
    catalog = load_editable(state.settings)
    spec = catalog.add_intent(
        IntentDraft(
            code=body.code.strip(),
            name=body.name.strip(),
            description=body.description.strip(),
            examples=tuple(body.examples),
            slots=tuple(body.slots),
            required=tuple(tuple(g) for g in body.required if g),
            prompts=body.prompts,
            readback=list(body.readback) if body.readback is not None else None,
            summary=list(body.summary) if body.summary is not None else None,
        )
    )
    state.catalog = catalog
    append_audit(
        db,
        actor=user.username,
        action="catalog.intent_added",
        after={"intent": spec.code, "file": str(spec.path)},
    )
    db.commit()
    return UnicodeJSONResponse(intent_json(spec), status_code=201)


@router.post(
    "/catalog/{code}/examples",
    status_code=201,
    response_model=AddedExample,
    responses=errors(*STAFF, 400, 404, 409),
)
def add_example(
    code: str, body: ExampleBody, request: Request, db: DbDep, user: ProductDep
) -> UnicodeJSONResponse:
    """Add an example to the editable catalog (audited).

    It reaches the classifier at the next ``frontdesk intents train``.
    """
    state = request.app.state
    catalog = load_editable(state.settings)
    path = catalog.add_example(code, body.text)
    state.catalog = catalog
    append_audit(
        db,
        actor=user.username,
        action="catalog.example_added",
        after={"intent": code, "text": body.text.strip(), "file": str(path)},
    )
    db.commit()
    spec = catalog.spec(code)
    return UnicodeJSONResponse(
        {"intent": code, "file": str(path), "examples": [ex.text for ex in spec.examples]},
        status_code=201,
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
