"""Liveness for load balancers: ok only once the models are loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request

from server.deps import UnicodeJSONResponse
from server.schemas import Health

router = APIRouter()


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Loading, or loading failed"}},
)
def healthz(request: Request) -> UnicodeJSONResponse:
    """``{"status": "ok"}`` once models are loaded; 503 while loading or after a failure."""
    state = request.app.state
    if state.frontdesk is not None:
        return UnicodeJSONResponse({"status": "ok"})
    if state.load_error:
        return UnicodeJSONResponse({"status": "error", "error": state.load_error}, 503)
    return UnicodeJSONResponse({"status": "loading"}, 503)
