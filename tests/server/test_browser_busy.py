"""The customer page when every line is taken: the wait is said, a callback is one press.

A demo server with ``max_calls`` 1 runs the real FrontDesk (Whisper, VAD);
a first caller holds the only line over the WebSocket; the page, in
Debian's Chromium with a fake microphone, calls, hears it is busy, presses
请柜员给我回电, and the teller's queue then holds a ``callback_requested``
case for the demo customer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from websockets.sync.client import connect

from server.app import create_app
from server.auth import create_user
from server.call_tokens import mint, scenario_codes
from tests.live_server import LiveServer, serve
from tests.server.browser_support import (
    AUDIO_DIR,
    launch_chromium,
    screenshot_path,
    wav_with_silence,
)
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    return build_frontdesk(Settings(data_dir=tmp_path_factory.mktemp("fd-data")))


@pytest.fixture(scope="module")
def live(frontdesk: FrontDesk, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("busy-data"),
        server=ServerSettings(demo=True, max_calls=1, secure_cookies=False),
    )
    app = create_app(settings, frontdesk)
    with serve(app) as server:
        with app.state.sessions() as session:
            create_user(session, "t-busy", "teller", PASSWORD)
        yield server


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def test_a_busy_caller_books_a_callback_from_the_page(
    live: LiveServer, playwright_session: Playwright, tmp_path: Path
) -> None:
    state = live.app.state
    token, _ = mint(state.call_token_secret, "walk-in-07", None, 300, scenario_codes(state.catalog))
    wav = wav_with_silence(AUDIO_DIR / "balance.wav", tmp_path / "mic.wav")
    browser = launch_chromium(
        playwright_session,
        (
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav.resolve()}",
            "--autoplay-policy=no-user-gesture-required",
        ),
    )
    # The first caller takes the only line and keeps it (silence, so the
    # idle limit does not end the call while the page is loading).
    with connect(f"{live.ws_url}/ws/call", open_timeout=10) as first:
        first.send(json.dumps({"token": token}))
        assert json.loads(first.recv(timeout=60))["type"] == "prompt"
        stop = threading.Event()

        def keep_line() -> None:
            while not stop.wait(0.5):
                first.send(bytes(16_000))  # 0.5 s of 16 kHz s16le silence

        holder = threading.Thread(target=keep_line, daemon=True)
        holder.start()
        try:
            page = browser.new_context(
                base_url=live.url, locale="zh-CN", permissions=["microphone"]
            ).new_page()
            page.goto("/")
            page.click("#call")
            try:
                page.wait_for_selector("#callback:not([hidden])", timeout=60_000)
            except Exception:
                page.screenshot(path=screenshot_path("call-busy-failed"), full_page=True)
                raise AssertionError(
                    [page.inner_text(s) for s in ("#state", "#system", "#error", "#heard")]
                ) from None
            assert "忙" in page.inner_text("#state")
            assert page.inner_text("#system")  # the wait, said and shown
            page.screenshot(path=screenshot_path("call-busy"), full_page=True)
            page.click("#callback")
            page.wait_for_selector("#state:has-text('回电')")
            page.wait_for_selector("#callback", state="hidden")
        finally:
            stop.set()
            holder.join(timeout=5)
            browser.close()

    with httpx.Client(base_url=live.url, timeout=30) as api:
        r = api.post("/api/login", json={"username": "t-busy", "password": PASSWORD})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        booked: list[dict[str, object]] = []
        while not booked and time.monotonic() < deadline:
            cases = api.get("/api/cases", params={"status": "all"}).json()["cases"]
            for item in cases:
                detail = api.get(f"/api/cases/{item['case_id']}").json()["case"]
                if detail["handoff_reason"] == "callback_requested":
                    booked.append(detail)
            time.sleep(0.5)
    assert booked, "the callback the page asked for is not in the queue"
    assert booked[0]["customer_id"] == state.settings.server.demo_customer_id
