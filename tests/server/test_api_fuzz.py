"""A property-based fuzz of the whole HTTP API from its OpenAPI schema (issue 10).

schemathesis generates requests for every operation in ``/openapi.json``
(``server.api_docs`` on) and sends them as each kind of caller: nobody, a
service key, and a logged-in teller, supervisor, product and admin user.
Whatever the input, the server answers with a client error or success,
never a 500; a 503 only with its JSON ``error`` (the text-only FrontDesk
here cannot transcribe uploads).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from server.app import create_app
from server.auth import create_user
from server.service_keys import add_service_key
from tests.server.conftest import PASSWORD, session_token
from voice_agent.service import FrontDesk
from voice_agent.settings import ServerSettings, Settings

IDENTITIES = ("nobody", "service", "teller", "supervisor", "product", "admin")


@pytest.fixture(scope="module")
def api(frontdesk: FrontDesk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The started app with its docs on, and Bearer headers for each identity."""
    root = tmp_path_factory.mktemp("fuzz")
    app_settings = Settings(
        data_dir=root / "data",
        server=ServerSettings(
            database_url=f"sqlite:///{root / 'frontdesk.db'}",
            api_docs=True,
            login_per_ip_per_minute=100_000,
        ),
    )
    app = create_app(app_settings, frontdesk)
    with TestClient(app) as client:
        headers: dict[str, dict[str, str]] = {"nobody": {}}
        with app.state.sessions() as session:
            headers["service"] = {"Authorization": f"Bearer {add_service_key(session, 'fuzz')}"}
            for role in IDENTITIES[2:]:
                create_user(session, role, role, PASSWORD)
        for role in IDENTITIES[2:]:
            r = client.post("/api/login", json={"username": role, "password": PASSWORD})
            assert r.status_code == 200, r.text
            headers[role] = {"Authorization": f"Bearer {session_token(r)}"}
            client.cookies.clear()
        app.state.fuzz_headers = headers
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_input_from_any_caller_makes_the_api_fail(api: Any) -> None:
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    headers_by_identity = api.app.state.fuzz_headers
    for operation in operations:

        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            for identity, headers in headers_by_identity.items():
                if case.path == "/api/logout" and identity != "nobody":
                    continue  # logging a fuzz identity out would make the rest "nobody"
                response = case.call(headers={**(case.headers or {}), **headers})
                status = response.status_code
                detail = f"{identity}: {case.method} {case.formatted_path} -> {status}"
                assert status < 500 or (status == 503 and "error" in response.json()), (
                    f"{detail} {response.text[:300]}"
                )

        fuzz()
