"""``create_app``: the FastAPI application and its start-up.

Start-up migrates the database, creates the demo accounts on first start
(``--demo`` only), and loads the models in a background thread, so ``/healthz`` can say
"loading" (503) instead of the port staying closed for the seconds it takes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.errors import ConfigError, FrontDeskError, InputError, ModelError
from server import ws
from server.auth import DEMO_ACCOUNTS_FILE, ensure_demo_accounts
from server.call_desk import CallDesk
from server.call_tokens import load_secret
from server.catalog_watch import CatalogWatcher
from server.db import make_engine, make_sessionmaker, migrate
from server.deps import UnicodeJSONResponse
from server.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidChoiceError,
    NotFoundError,
    NotReadyError,
    PayloadTooLargeError,
    PreconditionRequiredError,
    TooManyRequestsError,
    UnsupportedMediaError,
)
from server.live_store import LiveCallStore
from server.masking import install_log_masking
from server.ratelimit import RateLimiter
from server.routes import admin, auth, calls, cases, catalog, dialect, health
from server.security import BodyLimitMiddleware, SecurityMiddleware
from voice_agent.settings import Settings

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk

log = logging.getLogger("server")

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Every JSON body is small (a 2,000-character text is at most 8 KB of UTF-8).
JSON_BODY_BYTES = 256 * 1024
#: Multipart framing and form fields around an uploaded recording.
UPLOAD_OVERHEAD_BYTES = 64 * 1024

# Most specific first: the first matching class decides the status.
_STATUS: tuple[tuple[type[FrontDeskError], int], ...] = (
    (TooManyRequestsError, 429),
    (PayloadTooLargeError, 413),
    (UnsupportedMediaError, 415),
    (AuthError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (PreconditionRequiredError, 428),
    (InvalidChoiceError, 422),
    (ConfigError, 422),
    (NotReadyError, 503),
    (ModelError, 503),
    (InputError, 400),
    (FrontDeskError, 400),
)


def _status_for(exc: FrontDeskError) -> int:
    return next(status for cls, status in _STATUS if isinstance(exc, cls))


def _validation_message(exc: RequestValidationError) -> str:
    """One readable line for the first problem (the full list goes in ``details``)."""
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        kind = err.get("type", "")
        if kind == "json_invalid":
            problems.append("request body is not valid JSON")
        elif kind == "missing":
            problems.append(f"missing field {'.'.join(loc)!r}")
        elif loc:
            problems.append(f"field {'.'.join(loc)!r}: {err.get('msg', 'invalid')}")
        else:
            problems.append(str(err.get("msg", "invalid request")))
    return "; ".join(problems) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    async def domain_error(request: Request, exc: Exception) -> UnicodeJSONResponse:
        assert isinstance(exc, FrontDeskError)
        status = _status_for(exc)
        if status >= 500 and not isinstance(exc, NotReadyError):
            log.warning("%s %s: %s", request.method, request.url.path, exc)
        headers = None
        if isinstance(exc, TooManyRequestsError):
            headers = {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, AuthError):
            headers = {"WWW-Authenticate": "Bearer"}
        return UnicodeJSONResponse({"error": str(exc)}, status_code=status, headers=headers)

    async def http_error(request: Request, exc: Exception) -> UnicodeJSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return UnicodeJSONResponse(
            {"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    async def validation_error(request: Request, exc: Exception) -> UnicodeJSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return UnicodeJSONResponse(
            {"error": _validation_message(exc), "details": details}, status_code=422
        )

    app.add_exception_handler(FrontDeskError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _announce_demo_accounts(passwords: dict[str, str], path: Path) -> None:
    # Where, never what: output ends up in logs, the passwords must not.
    print(
        f"Front Desk demo accounts ({', '.join(passwords)}) created; "
        f"their passwords are in {path} (readable by you only)",
        flush=True,
    )


def _load_frontdesk(settings: Settings) -> FrontDesk:
    from voice_agent.service import build_frontdesk

    return build_frontdesk(settings)


async def _load_in_background(app: FastAPI, settings: Settings, watcher: CatalogWatcher) -> None:
    try:
        frontdesk = await asyncio.to_thread(_load_frontdesk, settings)
        frontdesk = await asyncio.to_thread(watcher.adopt, app.state, frontdesk)
    except Exception as exc:  # any failure must show in /healthz, not vanish in a task
        log.exception("loading the models failed")
        app.state.load_error = f"{type(exc).__name__}: {exc}"
        return
    app.state.frontdesk = frontdesk
    log.info("models loaded; /healthz is ok")


async def _follow_catalog(app: FastAPI, watcher: CatalogWatcher, every_s: float) -> None:
    """Swap in the database's newer catalog or intent model (see server.catalog_watch)."""
    refused = ""
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_in_threadpool(watcher.poll, app.state)
        except ConfigError as exc:  # a stored version this release refuses: keep the old one
            if str(exc) != refused:  # once per problem, not every poll
                refused = str(exc)
                log.error("catalog check: keeping v%s: %s", watcher.loaded.catalog_version, exc)
        except Exception as exc:  # a database outage (alerted by the live store): retry
            log.info("catalog check: %s", exc)


def _live_store(sessions: Any, settings: Settings) -> LiveCallStore:
    return LiveCallStore(
        sessions,
        settings.data_dir,
        alert_after_s=settings.server.db_retry_s,
        stale_s=settings.server.live_call_stale_s,
    )


def _flush_quietly(store: LiveCallStore) -> None:
    try:
        store.flush()
    except Exception:  # the spool stays; the next start-up stores it
        log.warning("could not flush the spool at shutdown", exc_info=True)


async def _sweep(store: LiveCallStore, every_s: float) -> None:
    """Replay spooled writes, heartbeat our calls, recover dead servers' calls."""
    rounds = 0
    while True:
        await asyncio.sleep(every_s)
        rounds += 1
        try:
            await run_in_threadpool(store.flush)
            await run_in_threadpool(store.heartbeat)
            if rounds * every_s >= store.stale_s / 2:
                rounds = 0
                await run_in_threadpool(store.recover)
        except Exception as exc:  # a database outage: try again next round
            log.info("live-call sweep: %s", exc)


def _install_pages(app: FastAPI) -> None:
    def page(name: str) -> Any:
        def serve() -> FileResponse:
            path = STATIC_DIR / name
            if not path.is_file():
                raise NotFoundError(f"page {name} is missing from {STATIC_DIR}")
            return FileResponse(path, media_type="text/html; charset=utf-8")

        return serve

    app.add_api_route("/", page("index.html"), methods=["GET"], include_in_schema=False)
    app.add_api_route("/console", page("console.html"), methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")


def create_app(settings: Settings, frontdesk: FrontDesk | None = None) -> FastAPI:
    """Build the Front Desk web application.

    Args:
        settings: the configuration (database URL, data dir, models).
        frontdesk: an already built FrontDesk (tests, or a CLI that built one);
            None loads one from ``settings`` in the background at start-up.

    Returns:
        The app; start-up work happens in its lifespan (run it under uvicorn
        or ``with TestClient(app)``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_masking()
        engine = make_engine(settings.database_url)
        await run_in_threadpool(migrate, engine)
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        # Calls a dead process left behind become interrupted cases before any new call.
        store = _live_store(app.state.sessions, settings)
        await run_in_threadpool(store.recover)
        app.state.live_store = store
        sweeper = asyncio.create_task(_sweep(store, settings.server.live_sweep_s))
        if settings.server.create_demo_accounts or settings.server.demo:
            with app.state.sessions() as session:
                passwords = await run_in_threadpool(
                    ensure_demo_accounts, session, settings.data_dir
                )
            if passwords:
                _announce_demo_accounts(passwords, settings.data_dir / DEMO_ACCOUNTS_FILE)
        app.state.load_error = None
        # The catalog (seeded from the YAML files on a new database) is quick to
        # load and lets tellers work the queue while the models load.
        watcher = CatalogWatcher(app.state.sessions, settings)
        await run_in_threadpool(watcher.start, app.state)
        app.state.catalog_watcher = watcher
        loader: asyncio.Task[None] | None = None
        if frontdesk is not None:
            app.state.frontdesk = await run_in_threadpool(watcher.adopt, app.state, frontdesk)
        else:
            app.state.frontdesk = None
            loader = asyncio.create_task(_load_in_background(app, settings, watcher))
        follower = asyncio.create_task(
            _follow_catalog(app, watcher, settings.server.catalog_poll_s)
        )
        try:
            yield
        finally:
            if loader is not None and not loader.done():
                loader.cancel()
            follower.cancel()
            sweeper.cancel()
            await run_in_threadpool(_flush_quietly, store)
            engine.dispose()

    docs = settings.server.api_docs
    app = FastAPI(
        title="Front Desk",
        default_response_class=UnicodeJSONResponse,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.frontdesk = frontdesk
    app.state.load_error = None
    app.state.call_token_secret = load_secret(settings)
    app.state.call_desk = CallDesk(settings.server.max_calls, settings.server.typical_call_s)
    app.state.limits = {
        "login": RateLimiter(settings.server.login_per_ip_per_minute),
        "call": RateLimiter(settings.server.ws_per_ip_per_minute),
    }
    app.add_middleware(
        BodyLimitMiddleware,
        default_bytes=JSON_BODY_BYTES,
        limits={"/api/calls": settings.server.max_upload_bytes + UPLOAD_OVERHEAD_BYTES},
    )
    # Added last, so it runs first: a cross-site request is refused before its body is read.
    app.add_middleware(SecurityMiddleware, allowed_origins=settings.server.allowed_origins)
    _install_error_handlers(app)
    for module in (health, auth, admin, calls, cases, catalog, dialect, ws):
        app.include_router(module.router)
    _install_pages(app)
    return app
