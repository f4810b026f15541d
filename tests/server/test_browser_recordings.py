"""The console plays a dialect case's turns beside the transcript (issue 9), in Chromium.

No Whisper here: the case is built with real Opus turn recordings
(voice_agent.recording) and stored as the pipeline would store it; the
browser logs in as a Shanghainese-speaking teller, sees the case marked in
the queue, opens it and plays the second turn. The playback is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.app import create_app
from server.auth import create_user
from server.repository import audit_trail, save_case
from voice_agent.service import FrontDesk
from voice_agent.settings import ServerSettings, Settings

from ..live_server import LiveServer, serve
from .browser_support import CHROMIUM, launch_chromium, screenshot_path
from .conftest import PASSWORD
from .test_dialect_routing import dialect_case

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt install chromium"),
]


@pytest.fixture()
def live(tmp_path: Path, frontdesk: FrontDesk) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "data",
        server=ServerSettings(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", create_demo_accounts=False
        ),
    )
    with serve(create_app(settings, frontdesk)) as server:
        with server.app.state.sessions() as session:
            create_user(session, "zhou", "teller", PASSWORD, ["mandarin", "shanghainese"])
            save_case(session, dialect_case("c_browser", minutes_ago=0.5))
        yield server


def test_teller_plays_each_turn_beside_the_transcript(live: LiveServer) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw, ["--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page(base_url=live.url, locale="zh-CN")
            page.goto("/console")
            page.fill("#login-username", "zhou")
            page.fill("#login-password", PASSWORD)
            page.click("#login-form button[type=submit]")
            row = page.locator("tr.case-row[data-case-id='c_browser']")
            row.wait_for()
            assert "上海话" in row.inner_text()  # marked in the queue
            row.click()
            page.wait_for_selector("#detail .transcript audio.turn-audio")
            players = page.locator("#detail .transcript li audio.turn-audio")
            assert players.count() == 2  # one per turn, inside the turn's line
            assert "方言语音" in page.locator("#detail .transcript li").first.inner_text()
            assert page.locator("#dialect-speech").is_visible()
            played = page.evaluate(
                """async () => {
                    const a = document.querySelectorAll('#detail audio.turn-audio')[1];
                    a.muted = true;
                    await a.play();
                    await new Promise((r) => setTimeout(r, 300));
                    return {duration: a.duration, time: a.currentTime, error: a.error};
                }"""
            )
            page.screenshot(path=screenshot_path("dialect-case-recordings"))
        finally:
            browser.close()
    assert played["error"] is None
    assert 0.8 < played["duration"] < 1.3  # the one-second turn, decoded by Chromium
    assert played["time"] > 0
    with live.app.state.sessions() as session:
        trail = audit_trail(session, "c_browser")
    plays = [a for a in trail if a["action"] == "recording.played"]
    assert plays and all(a["actor"] == "zhou" for a in plays)
    assert {a["after"]["turn"] for a in plays} == {1}
