"""The HTTP API against its own schema, on SQLite and PostgreSQL (issue 10 item 5, issue 11).

``/openapi.json`` (``server.api_docs`` on) describes what every route
answers, errors included; the closed code sets in server.schemas match
where they are defined; and a schemathesis fuzz, generated from that
schema and sent as every kind of caller (nobody, a service key, each role),
finds no 5xx other than a documented 503 and no answer that breaks its
documented status, media type or schema. The app runs once per database
(a SQLite file, then a database on the test PostgreSQL server), since a
500 can hide in one dialect only. Half the generated requests that name a
case name a real one (plain, high-risk, dialect, decided, corrected), so
full cases are checked too, not only 404s.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_args

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import server.routes
from server import schemas
from server.app import create_app
from server.auth import create_user
from server.customer_view import case_view
from server.db import CORRECTION_STATUSES, ROLES
from server.masking import mask_account
from server.repository import DECISIONS, save_case
from server.service_keys import add_service_key
from tests.server.builders import make_case
from tests.server.conftest import PASSWORD, fresh_database, session_token
from voice_agent.case import TranscriptSegment
from voice_agent.risk.types import CATEGORIES, FRAUD_PARTS, RISK_LEVELS
from voice_agent.service import FrontDesk
from voice_agent.settings import ServerSettings, Settings
from voice_agent.speech_dialect import SpeechDialect

IDENTITIES = ("nobody", "service", *ROLES)
#: Usernames no fuzzed path parameter will hit by chance (an admin revoking their sessions).
USERS = {role: f"schema-{role}-7c1e" for role in ROLES}
CASE_IDS = ("c_schema_plain", "c_schema_high", "c_schema_dialect", "c_schema_decided")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Operations that end the caller's session: fuzzed without credentials only,
#: or the identity would be "nobody" for the rest of the run.
ANONYMOUS_ONLY = {("POST", "/api/logout"), ("POST", "/api/sessions/revoke")}
#: An endless Server-Sent Events stream: described, not fuzzed.
NOT_FUZZED = {("GET", "/api/cases/events")}
#: Generated requests per operation, each sent as every identity (~50 s on two busy
#: cores); set FRONTDESK_FUZZ_EXAMPLES=60 for a deeper hunt before a release.
EXAMPLES_PER_OPERATION = int(os.environ.get("FRONTDESK_FUZZ_EXAMPLES", "10"))


@dataclass
class Api:
    """The started app, its client, its schema and each identity's headers."""

    app: FastAPI
    client: TestClient
    schema: Any
    headers: dict[str, dict[str, str]]


def _seed_cases(app: FastAPI) -> None:
    dialect = SpeechDialect(True, "shanghainese", 0.91, 0.42, "ja")
    plain = make_case(CASE_IDS[0])
    segment = dataclasses.replace(
        plain.transcript[0], speech_dialect=dialect, engine="wu-test", audio=b"OggS" + bytes(60)
    )
    cases = [
        plain,
        make_case(CASE_IDS[1], risk_level="high", risk_score=0.92, account="6222021234567890123"),
        dataclasses.replace(
            make_case(CASE_IDS[2], intent="balance_inquiry", amount=None, customer_id=None),
            transcript=(segment, TranscriptSegment(3.5, 4.0, "嗯", "嗯", unclear=True)),
            speech_dialect=dialect,
            handoff_reason="dialect_speech",
        ),
        make_case(CASE_IDS[3], risk_level="medium", risk_score=0.5),
    ]
    with app.state.sessions() as session:
        for case in cases:
            save_case(session, case)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per kind for the whole module: the fuzz is the slow part."""
    with fresh_database(request, tmp_path_factory.mktemp("schema-db")) as url:
        yield url


@pytest.fixture(scope="module")
def api(
    frontdesk: FrontDesk, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The app with its docs on, seeded cases, a correction, an eval report, and logins."""
    root = tmp_path_factory.mktemp("schema")
    app_settings = Settings(
        data_dir=root / "data",
        server=ServerSettings(
            database_url=database_url, api_docs=True, login_per_ip_per_minute=100_000
        ),
    )
    report = app_settings.data_dir / "eval"
    report.mkdir(parents=True)
    (report / "report.json").write_text(json.dumps({"accuracy": 0.93, "intents": {}}))
    (report / "report.html").write_text("<html><body>eval</body></html>")
    app = create_app(app_settings, frontdesk)
    with TestClient(app) as client:
        headers: dict[str, dict[str, str]] = {"nobody": {}}
        with app.state.sessions() as session:
            key = add_service_key(session, "schema-fuzz-key-7c1e")
            headers["service"] = {"Authorization": f"Bearer {key}"}
            for role, username in USERS.items():
                create_user(session, username, role, PASSWORD)
        for role, username in USERS.items():
            r = client.post("/api/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            headers[role] = {"Authorization": f"Bearer {session_token(r)}"}
            client.cookies.clear()
        _seed_cases(app)
        teller = headers["teller"]
        r = client.patch(
            f"/api/cases/{CASE_IDS[0]}",
            json={"fields": {"amount": 30000, "payee_account": "6222029876543210987"}},
            headers=teller,
        )
        assert r.status_code == 200, r.text
        r = client.post(
            f"/api/cases/{CASE_IDS[3]}/decision",
            json={"decision": "escalate", "reason": "金额与客户以往不符"},
            headers=teller,
        )
        assert r.status_code == 200, r.text
        yield Api(app, client, schemathesis.openapi.from_asgi("/openapi.json", app), headers)


def _schema_routes() -> list[tuple[str, str]]:
    """Every HTTP route of every module in server/routes (a new module counts too)."""
    modules = [
        importlib.import_module(f"server.routes.{info.name}")
        for info in pkgutil.iter_modules(server.routes.__path__)
    ]
    return sorted(
        (method, route.path)
        for module in modules
        for route in module.router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods or ()
    )


def _json_schema(response: dict[str, Any]) -> Any:
    """The schema of a documented JSON answer (``application/json; charset=utf-8``)."""
    content = response.get("content", {})
    media = [m for m in content if m.startswith("application/json")]
    return content[media[0]].get("schema") if media else None


def _is_error_body(spec: dict[str, Any], schema: Any) -> bool:
    """``schema`` is a named model with a required string ``error`` (ErrorBody's line)."""
    ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
    if not ref.startswith("#/components/schemas/"):
        return False
    model = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    error = model.get("properties", {}).get("error", {})
    return error.get("type") == "string" and "error" in model.get("required", [])


def test_openapi_describes_every_response(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    routes = _schema_routes()
    assert len(routes) >= 30, routes
    undescribed = []
    for method, path in routes:
        operation = spec["paths"][path][method.lower()]
        responses = operation["responses"]
        success = [s for s in responses if s.startswith("2")]
        if not success:
            undescribed.append(f"{method} {path}: no 2xx")
        for status in success:
            for media, body in responses[status].get("content", {}).items():
                if not body.get("schema"):
                    undescribed.append(f"{method} {path} {status} {media}: empty schema")
        # Errors are ours ({"error": ...}), never FastAPI's default {"detail": ...}:
        # ErrorBody, or a model that has its required "error" line and says more
        # (StaleEdit: a 409 with the current intent).
        for status, body in responses.items():
            if status[0] in "45" and path != "/healthz":
                schema = _json_schema(body)
                if not _is_error_body(spec, schema):
                    undescribed.append(f"{method} {path} {status}: {schema}")
    assert not undescribed, "\n".join(undescribed)
    # JSON answers name their model (a $ref), not a bare "any object".
    ok = spec["paths"]["/api/cases/{case_id}"]["get"]["responses"]["200"]
    assert _json_schema(ok) == {"$ref": "#/components/schemas/CaseDetail"}
    case = spec["components"]["schemas"]["Case"]
    assert case["properties"]["status"]["enum"] == list(get_args(schemas.CaseStatus))
    assert "handoff_reason" in case["properties"]
    assert spec["components"]["schemas"]["CustomerCase"]["additionalProperties"] is False


def test_closed_code_sets_match_their_definitions() -> None:
    assert get_args(schemas.RiskLevel) == RISK_LEVELS
    assert get_args(schemas.RiskCategory) == CATEGORIES
    assert get_args(schemas.FraudPart) == FRAUD_PARTS
    assert get_args(schemas.Decision) == tuple(DECISIONS)
    assert get_args(schemas.Role) == ROLES
    assert get_args(schemas.CorrectionStatus) == CORRECTION_STATUSES


def test_the_customer_view_is_exactly_its_model() -> None:
    case = make_case("c_view", risk_level="high", risk_score=0.9, account="6222021234567890123")
    view = case_view(case.to_json(), {"transfer": "转账汇款"})
    model = schemas.CustomerCase.model_validate(view)  # extra="forbid": no risk, no flags
    assert model.form.fields["payee_account"].value == mask_account("6222021234567890123")
    assert model.model_dump() == view


def test_out_of_range_path_values_are_client_errors(api: Api) -> None:
    """Found by the fuzz: each of these was a 500 (a database or file-system error)."""
    product, teller = api.headers["product"], api.headers["teller"]
    review = {"decision": "accept"}
    r = api.client.post(f"/api/corrections/{2**70}/review", json=review, headers=product)
    assert r.status_code == 422, r.text
    r = api.client.get(f"/api/cases/{CASE_IDS[0]}/recordings/{2**70}", headers=teller)
    assert r.status_code == 422, r.text
    for name in ("a" * 300, "a%00b"):
        r = api.client.get(f"/api/eval/latest/{name}", headers=product)
        assert r.status_code == 404, r.text
        assert "error" in r.json()


def _strategy(operation: Any) -> Any:
    generated = operation.as_strategy()
    names = {p.name for p in operation.path_parameters}
    if "case_id" not in names:
        return generated
    pinned = [
        operation.as_strategy(path_parameters={"case_id": case_id, **extra})
        for case_id in CASE_IDS
        for extra in ([{"turn": 0}] if "turn" in names else [{}])
    ]
    return st.one_of(generated, *pinned)


def test_fuzzed_requests_from_every_caller_get_documented_answers(api: Api) -> None:
    operations = [result.ok() for result in api.schema.get_all_operations()]
    assert len(operations) >= 30, [op.label for op in operations]
    problems: list[str] = []
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        if key in NOT_FUZZED:
            continue
        identities = ("nobody",) if key in ANONYMOUS_ONLY else IDENTITIES
        fuzz_operation(api, operation, identities, problems)
    assert not problems, f"{len(problems)} bad answers:\n\n" + "\n\n".join(problems[:15])


def fuzz_operation(
    api: Api, operation: Any, identities: tuple[str, ...], problems: list[str]
) -> None:
    """Send ``EXAMPLES_PER_OPERATION`` generated requests as each identity; collect failures."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # report failures, do not shrink them
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation))
    def fuzz(case: Any) -> None:
        for identity in identities:
            headers = {**(case.headers or {}), **api.headers[identity]}
            title = f"{identity}: {case.method} {case.formatted_path}"
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the test client re-raises what would be a 500
                problems.append(f"{title}\nraised {exc!r}"[:1500])
                continue
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except schemathesis.errors.FailureGroup as failures:
                problems.append(f"{title}\n{failures}"[:1500])

    fuzz()
