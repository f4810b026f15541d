"""The trust boundary over real HTTP: service keys, call tokens, limits, headers, Origin.

Each test runs the real app under uvicorn (tests/live_server.py) on SQLite
and on PostgreSQL and talks to it with httpx, as the bank's systems and
browsers would. Every rule of issue 8 on this side has a test here that
fails without it; the staff side is in test_staff_security.py and the live
call in test_ws.py.
"""

from __future__ import annotations

import io
import socket
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import text

from server.call_tokens import load_secret, verify
from server.cli import run
from tests.server.conftest import PASSWORD, Live, StartLive

if TYPE_CHECKING:
    pass


# ---- service keys ---------------------------------------------------------------------

SERVICE_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("/api/understand", {"json": {"text": "我要转五万给我儿子", "customer_id": "demo-elderly-01"}}),
    ("/api/call-tokens", {"json": {"customer_id": "demo-elderly-01"}}),
    ("/api/calls", {"files": {"file": ("a.wav", b"RIFF\0\0\0\0WAVEfmt ", "audio/wav")}}),
]


@pytest.mark.parametrize(("path", "body"), SERVICE_CALLS)
def test_service_routes_refuse_callers_without_a_service_key(
    live: Live, path: str, body: dict[str, Any]
) -> None:
    teller = live.staff("wang", "teller")
    for headers in ({}, {"Authorization": "Bearer fdsk_made_up"}, teller):
        r = httpx.post(live.url + path, headers=headers, **body)
        assert r.status_code == 401, (headers, r.text)
        assert "service key" in r.json()["error"]
    assert live.audit()[-1][1] != "case.created"  # nothing was queued


def test_a_service_key_works_until_an_admin_revokes_it(live: Live) -> None:
    r = httpx.post(f"{live.url}/api/understand", json={"text": "我的卡丢了"}, headers=live.service)
    assert r.status_code == 200
    assert r.json()["intent"]["code"] == "card_loss"
    admin = live.staff("root", "admin")
    teller = live.staff("wang", "teller")
    names = httpx.get(f"{live.url}/api/admin/service-keys", headers=admin).json()
    [name] = [k["name"] for k in names["service_keys"]]
    assert live.key not in str(names)  # never shown again
    assert (
        httpx.post(f"{live.url}/api/admin/service-keys/{name}/revoke", headers=teller).status_code
        == 403
    )
    assert (
        httpx.post(f"{live.url}/api/admin/service-keys/{name}/revoke", headers=admin).status_code
        == 200
    )
    r = httpx.post(f"{live.url}/api/understand", json={"text": "我的卡丢了"}, headers=live.service)
    assert r.status_code == 401
    assert ("root", "service_key.revoked") in live.audit()


def test_cli_service_keys_are_shown_once_and_stored_hashed(live: Live) -> None:
    out = io.StringIO()
    assert run(["service-keys", "add", "core-banking"], live.settings, out) == 0
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("fdsk_") and len(key) > 40
    with live.app.state.sessions() as session:
        stored = session.execute(text("SELECT key_hash FROM service_keys")).scalars().all()
    assert key not in stored and all(len(h) == 64 for h in stored)
    headers = {"Authorization": f"Bearer {key}"}
    url, body = f"{live.url}/api/call-tokens", {"customer_id": "c-1"}
    assert httpx.post(url, json=body, headers=headers).status_code == 201
    assert run(["service-keys", "revoke", "core-banking"], live.settings, io.StringIO()) == 0
    assert httpx.post(url, json=body, headers=headers).status_code == 401


# ---- call tokens ----------------------------------------------------------------------


def test_call_tokens_are_bound_to_one_customer_and_short_lived(live: Live) -> None:
    url = f"{live.url}/api/call-tokens"
    r = httpx.post(
        url,
        json={"customer_id": "demo-elderly-01", "scenario": "password_locked", "ttl_s": 60},
        headers=live.service,
    )
    assert r.status_code == 201, r.text
    grant = verify(live.app.state.call_token_secret, r.json()["token"])
    assert (grant.customer_id, grant.scenario) == ("demo-elderly-01", "password_locked")
    assert 50 < grant.expires_at - time.time() <= 61
    assert r.json()["expires_at"].endswith("+00:00")
    bad = [
        {"customer_id": "x", "scenario": "lottery_win"},
        {"customer_id": "x", "ttl_s": 86_400},
        {"customer_id": " "},
    ]
    for body in bad:
        assert httpx.post(url, json=body, headers=live.service).status_code == 422, body
    # A token signed with another secret, or tampered with, is worthless.
    body, _, sig = r.json()["token"].partition(".")
    with pytest.raises(Exception, match="call token"):
        verify(b"another server's secret", r.json()["token"])
    with pytest.raises(Exception, match="call token"):
        verify(live.app.state.call_token_secret, body[:-2] + "xx." + sig)


def test_cli_call_token_uses_the_servers_secret(live: Live) -> None:
    out = io.StringIO()
    argv = ["call-token", "demo-elderly-01", "--scenario", "limit_adjustment", "--ttl", "120"]
    assert run(argv, live.settings, out) == 0
    grant = verify(load_secret(live.settings), out.getvalue().strip().splitlines()[-1])
    assert (grant.customer_id, grant.scenario) == ("demo-elderly-01", "limit_adjustment")


def test_only_a_demo_server_mints_tokens_for_the_page(start_live: StartLive) -> None:
    real = start_live()
    r = httpx.post(f"{real.url}/api/demo/call-token", json={})
    assert r.status_code == 404
    demo = start_live(demo=True, demo_customer_id="demo-elderly-01", ws_per_ip_per_minute=3)
    r = httpx.post(
        f"{demo.url}/api/demo/call-token",
        json={"customer_id": "victim-42", "scenario": "transfer_over_limit"},
    )
    assert r.status_code == 201, r.text
    grant = verify(demo.app.state.call_token_secret, r.json()["token"])
    # The page cannot choose the customer, only the scenario.
    assert (grant.customer_id, grant.scenario) == ("demo-elderly-01", "transfer_over_limit")
    codes = [httpx.post(f"{demo.url}/api/demo/call-token", json={}).status_code for _ in range(3)]
    assert codes[-1] == 429


# ---- limits ---------------------------------------------------------------------------


def test_text_longer_than_the_limit_is_refused(live: Live) -> None:
    url = f"{live.url}/api/understand"
    ok = httpx.post(url, json={"text": "转" * 2000}, headers=live.service)
    assert ok.status_code == 200
    r = httpx.post(url, json={"text": "转" * 2001}, headers=live.service)
    assert r.status_code == 413
    assert "2000" in r.json()["error"]


def test_uploads_are_capped_while_streaming_and_must_be_audio(start_live: StartLive) -> None:
    live = start_live(max_upload_bytes=64 * 1024)
    url = f"{live.url}/api/calls"
    big = b"RIFF\0\0\0\0WAVE" + bytes(600 * 1024)
    # Declared too large: refused before the body is read.
    r = httpx.post(url, files={"file": ("a.wav", big, "audio/wav")}, headers=live.service)
    assert r.status_code == 413
    # No length declared (chunked): counted as it streams. The body never
    # ends here, so an answer at all proves the server refused mid-stream,
    # without spooling the rest first.
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = (
            f"POST /api/calls HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {live.key}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        for payload in [part + b"RIFF\0\0\0\0WAVE", *[bytes(32 * 1024)] * 4]:
            sock.sendall(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Not one of the accepted formats (a PNG named .wav).
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    r = httpx.post(url, files={"file": ("a.wav", png, "audio/wav")}, headers=live.service)
    assert r.status_code == 415
    assert "wav, flac, ogg or mp3" in r.json()["error"]


# ---- headers and surface ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/console", "/healthz", "/api/me", "/static/call.js"])
def test_security_headers_everywhere(live: Live, path: str) -> None:
    r = httpx.get(live.url + path)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    if "json" in r.headers["content-type"]:
        assert r.headers["cache-control"] == "no-store"


def test_api_docs_are_off_unless_asked_for(start_live: StartLive) -> None:
    live = start_live()
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(live.url + path).status_code == 404, path
    docs = start_live(api_docs=True)
    assert httpx.get(docs.url + "/openapi.json").status_code == 200


def test_cross_site_posts_are_refused(live: Live) -> None:
    live.staff("wang", "teller")
    body = {"username": "wang", "password": PASSWORD}
    r = httpx.post(f"{live.url}/api/login", json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert "set-cookie" not in r.headers
    own = live.url  # the console's own origin
    assert (
        httpx.post(f"{live.url}/api/login", json=body, headers={"Origin": own}).status_code == 200
    )
    # Without Origin (the bank's systems, curl) it is not a browser: allowed.
    assert httpx.post(f"{live.url}/api/login", json=body).status_code == 200
