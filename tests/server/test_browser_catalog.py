"""The product console's catalog in Chromium: the version shown, and a clear
message (nothing overwritten) when someone else changed the intent first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from server.app import create_app
from server.auth import create_user
from tests.live_server import LiveServer, serve
from tests.server.browser_support import launch_chromium, screenshot_path
from tests.server.conftest import PASSWORD, session_token
from voice_agent.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

    from voice_agent.service import FrontDesk

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture()
def live(frontdesk: FrontDesk, tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(data_dir=tmp_path / "data", server=ServerSettings(secure_cookies=False))
    app = create_app(settings, frontdesk)
    with serve(app) as server:
        with app.state.sessions() as session:
            create_user(session, "pat", "product", PASSWORD)
            create_user(session, "bob", "product", PASSWORD)
        yield server


@pytest.fixture()
def playwright_session() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def _examples(live: LiveServer, code: str) -> list[str]:
    r = httpx.post(f"{live.url}/api/login", json={"username": "bob", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {session_token(r)}"}
    intents = httpx.get(f"{live.url}/api/catalog", headers=headers).json()["intents"]
    return list(next(i for i in intents if i["code"] == code)["examples"])


def test_console_shows_the_version_and_a_conflict(
    live: LiveServer, playwright_session: Playwright
) -> None:
    browser = launch_chromium(playwright_session)
    try:
        page = browser.new_context(base_url=live.url, locale="zh-CN").new_page()
        page.goto("/console")
        page.fill("#login-username", "pat")
        page.fill("#login-password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#who:has-text('pat')")
        page.click("[role=tab][data-view=catalog]")
        card = page.locator(".intent-card[data-intent='transfer']")
        card.wait_for()
        assert page.get_attribute("#catalog-version", "data-version") == "1"
        assert "目录版本 v1" in page.inner_text("#catalog-version")
        assert card.get_attribute("data-revision") == "1"

        # Bob adds an example to the same intent while Pat's page shows revision 1.
        r = httpx.post(f"{live.url}/api/login", json={"username": "bob", "password": PASSWORD})
        bob = {"Authorization": f"Bearer {session_token(r)}", "If-Match": '"1"'}
        r = httpx.post(
            f"{live.url}/api/catalog/transfer/examples",
            json={"text": "给我闺女转点钱过去"},
            headers=bob,
        )
        assert r.status_code == 201, r.text

        card.locator("summary").click()
        mine = "帮我给外孙汇一千块学费"
        card.locator("form.add-example input").fill(mine)
        card.locator("form.add-example button[type=submit]").click()
        conflict = card.locator(".note.conflict")
        conflict.wait_for()
        text = conflict.inner_text()
        assert "未保存" in text and "他人修改" in text and "例句" in text and "v2" in text
        assert "给我闺女转点钱过去" in card.locator("ul.examples").inner_text()
        assert card.get_attribute("data-revision") == "2"
        assert page.get_attribute("#catalog-version", "data-version") == "2"
        assert mine not in _examples(live, "transfer")  # nothing overwritten, nothing half-saved
        page.screenshot(path=screenshot_path("product-catalog-conflict"), full_page=True)

        # Redone on the reloaded intent, it is stored.
        card.locator("form.add-example button[type=submit]").click()
        page.wait_for_selector(".intent-card[data-intent='transfer'] .note:has-text('已添加')")
        assert page.get_attribute("#catalog-version", "data-version") == "3"
        examples = _examples(live, "transfer")
        assert mine in examples and "给我闺女转点钱过去" in examples
    finally:
        browser.close()
