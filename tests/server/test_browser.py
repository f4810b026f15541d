"""The customer page and the staff console, driven in Chromium.

A real server (real FrontDesk with Whisper, fresh SQLite, ``--demo`` mode)
runs in a thread; cases come in through ``POST /api/calls`` with a service
key and the speech fixtures (or through the page's microphone, fed from a
fixture, with the call token the demo page mints), and every check on
screen is compared with what the API says about the same case. Every page
runs under the server's Content-Security-Policy: a violation fails the
test. Screenshots of each step go to test-artifacts/.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest

from server.app import create_app
from server.service_keys import add_service_key
from tests.live_server import LiveServer, serve
from tests.server.browser_support import (
    AUDIO_DIR,
    CHROMIUM,
    demo_passwords,
    fixture_labels,
    launch_chromium,
    screenshot_path,
    wav_with_silence,
)
from tests.server.conftest import session_token
from voice_agent.settings import ServerSettings, Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium"
    ),
]

CUSTOMER = "demo-elderly-01"
#: Generous: the shared CI machine runs Whisper on two busy cores.
SLOW_MS = 90_000


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-data")


@pytest.fixture(scope="module")
def live(data_dir: Path) -> Iterator[LiveServer]:
    """The whole server, models included (Whisper, classifier): built once per module."""
    from voice_agent.service import build_frontdesk

    settings = Settings(data_dir=data_dir, server=ServerSettings(demo=True))
    frontdesk = build_frontdesk(settings, load_asr=True)
    with serve(create_app(settings, frontdesk)) as server:
        yield server


@pytest.fixture(scope="module")
def passwords(live: LiveServer, data_dir: Path) -> dict[str, str]:
    return demo_passwords(data_dir)


@pytest.fixture(scope="module")
def playwright_session() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def chromium(playwright_session: Playwright) -> Iterator[Browser]:
    browser = launch_chromium(playwright_session)
    yield browser
    browser.close()


def watch_csp(page: Page, violations: list[str]) -> Page:
    """Collect the page's Content-Security-Policy violations (Chromium logs each)."""
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return page


@pytest.fixture()
def new_page(chromium: Browser, live: LiveServer) -> Iterator[Callable[..., Page]]:
    """Pages in fresh contexts (own cookies), closed after the test; no CSP violation allowed."""
    contexts = []
    violations: list[str] = []

    def make(**options: Any) -> Page:
        context = chromium.new_context(base_url=live.url, locale="zh-CN", **options)
        contexts.append(context)
        return watch_csp(context.new_page(), violations)

    yield make
    for context in contexts:
        context.close()
    assert violations == [], "the pages broke their own Content-Security-Policy"


@contextmanager
def api_client(live: LiveServer, username: str, password: str) -> Iterator[httpx.Client]:
    """An API client logged in as ``username`` (Bearer token, no cookie)."""
    with httpx.Client(base_url=live.url, timeout=120) as client:
        r = client.post("/api/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        client.headers["Authorization"] = f"Bearer {session_token(r)}"
        client.cookies.clear()
        yield client


def upload(live: LiveServer, name: str, passwords: dict[str, str]) -> dict[str, Any]:
    """POST a fixture to /api/calls with a service key; the full Case, as a teller sees it.

    The uploading service gets only the customer view back; the test reads
    the whole case through the teller API to compare with the console.
    """
    with live.app.state.sessions() as session:
        key = add_service_key(session, f"upload-{name}-{time.monotonic_ns()}")
    with (AUDIO_DIR / name).open("rb") as f:
        r = httpx.post(
            f"{live.url}/api/calls",
            files={"file": (name, f)},
            data={"customer_id": CUSTOMER},
            headers={"Authorization": f"Bearer {key}"},
            timeout=300,
        )
    assert r.status_code == 201, r.text
    assert "risk" not in r.json()
    with api_client(live, "teller", passwords["teller"]) as api:
        case: dict[str, Any] = api.get(f"/api/cases/{r.json()['case_id']}").json()["case"]
    return case


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/console")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#who:has-text('" + username + "')")


def shown(page: Page, selector: str) -> Locator:
    """The element(s) at ``selector``, once one is visible."""
    locator = page.locator(selector)
    locator.first.wait_for()
    return locator


def font_px(page: Page, selector: str) -> float:
    return float(page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)"))


# ---- (a) the customer page ----------------------------------------------


def test_customer_page_has_one_big_call_button(new_page: Callable[..., Page]) -> None:
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/")
    button = page.get_by_role("button", name="呼叫")
    assert button.inner_text().strip() == "呼叫"
    box = button.bounding_box()
    assert box is not None and box["width"] >= 0.4 * 390
    assert font_px(page, "#call") >= 24
    assert page.inner_text("#state") == "准备好了"
    assert page.get_attribute("#system", "aria-live") == "polite"
    # Every piece of text the caller can see is at least 24 px.
    sizes = page.eval_on_selector_all(
        "body *",
        """els => els
            .filter(e => e.offsetParent !== null && [...e.childNodes].some(
                n => n.nodeType === 3 && n.textContent.trim()))
            .map(e => [e.id || e.tagName, parseFloat(getComputedStyle(e).fontSize)])""",
    )
    assert sizes, "no visible text found"
    assert [s for s in sizes if s[1] < 24] == []
    page.screenshot(path=screenshot_path("customer-page"), full_page=True)


def test_customer_page_says_so_when_the_microphone_is_refused(
    new_page: Callable[..., Page],
) -> None:
    # No microphone permission granted: Chromium refuses getUserMedia.
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/")
    page.click("#call")
    alert = shown(page, "#error:not([hidden])")
    assert "麦克风" in alert.inner_text()
    assert page.inner_text("#call").strip() == "呼叫"
    assert font_px(page, "#error") >= 24
    page.screenshot(path=screenshot_path("customer-mic-refused"), full_page=True)


def test_without_demo_the_page_needs_a_token_from_the_banks_app(
    live: LiveServer, chromium: Browser, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "real")  # a real deployment: no --demo
    with serve(create_app(settings, live.app.state.frontdesk)) as real:
        context = chromium.new_context(base_url=real.url, locale="zh-CN")
        violations: list[str] = []
        try:
            page = watch_csp(context.new_page(), violations)
            page.goto("/")
            page.click("#call")
            alert = shown(page, "#error:not([hidden])")
            assert "手机银行" in alert.inner_text()
            # The app's token is taken out of the address bar at once.
            page.goto("/?token=abc.def&scenario=password_locked")
            page.wait_for_url(lambda url: "token" not in url)
            assert page.url.endswith("/?scenario=password_locked")
        finally:
            context.close()
        assert violations == []


WORKLET_RUN = """async ([rate, freq]) => {
    const ctx = new OfflineAudioContext(1, rate, rate);  // one second
    await ctx.audioWorklet.addModule('/static/pcm-worklet.js');
    const node = new AudioWorkletNode(ctx, 'pcm-downsampler',
        {processorOptions: {targetRate: 16000, chunkMs: 20}});
    const chunks = [];
    node.port.onmessage = (m) => chunks.push(Array.from(new Int16Array(m.data.pcm)));
    const tone = new OscillatorNode(ctx, {frequency: freq});
    tone.connect(new GainNode(ctx, {gain: 0.5})).connect(node);
    node.connect(ctx.destination);
    tone.start();
    await ctx.startRendering();
    await new Promise((r) => setTimeout(r, 300));  // let the last messages arrive
    return chunks;
}"""


@pytest.mark.parametrize("rate", [44100, 48000])
def test_worklet_sends_16khz_pcm_in_20ms_chunks_without_aliasing(
    new_page: Callable[..., Page], rate: int
) -> None:
    page = new_page()
    page.goto("/")

    def rms(freq: int) -> tuple[set[int], int, float]:
        chunks = page.evaluate(WORKLET_RUN, [rate, freq])
        samples = np.concatenate([np.asarray(c, dtype=np.float64) for c in chunks]) / 32768
        settled = samples[800:]  # past the filter's start-up
        return {len(c) for c in chunks}, len(chunks), float(np.sqrt(np.mean(settled**2)))

    sizes, count, speech_band = rms(1000)
    assert sizes == {320}  # 20 ms at 16 kHz
    assert count == 50  # one second of audio
    assert speech_band == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    # 12 kHz is above 16 kHz's Nyquist: unfiltered, it would fold back to 4 kHz.
    _, _, folded = rms(12000)
    assert folded < 0.01 * speech_band


# ---- (b) a teller works a case --------------------------------------------


def test_teller_corrects_and_accepts_an_uploaded_call(
    live: LiveServer, passwords: dict[str, str], new_page: Callable[..., Page]
) -> None:
    label = fixture_labels()["fraud_safe_account.ogg"]
    case = upload(live, "fraud_safe_account.ogg", passwords)
    case_id = case["case_id"]
    assert case["risk"]["flags"], "the fixture's fraud cues should raise at least one flag"

    page = new_page(viewport={"width": 1440, "height": 1000})
    page.goto("/console")
    page.wait_for_selector("#login-form")
    page.screenshot(path=screenshot_path("teller-1-login"))
    log_in(page, "teller", passwords["teller"])

    row = shown(page, f"tr.case-row[data-case-id='{case_id}']")
    risk_text = {"high": "高", "medium": "中", "low": "低", "none": "无"}[case["risk"]["level"]]
    assert risk_text in row.inner_text()
    page.screenshot(path=screenshot_path("teller-2-queue"))

    row.click()
    page.wait_for_selector("#detail .transcript")
    originals = page.locator("#detail .transcript .orig").all_inner_texts()
    for segment in case["transcript"]:
        assert any(segment["text"] in line for line in originals)
    mandarin = page.locator("#detail .transcript .mand").all_inner_texts()
    for segment in case["transcript"]:
        assert any(segment["normalized_text"] in line for line in mandarin)
    shown_flags = page.locator("#detail .flags li").evaluate_all(
        "els => els.map(e => e.dataset.code)"
    )
    assert shown_flags == [f["code"] for f in case["risk"]["flags"]]
    assert set(label["fraud_flags"]) & set(shown_flags), (label["fraud_flags"], shown_flags)
    evidence = [f["evidence"] for f in case["risk"]["flags"] if f["category"] == "fraud"]
    marked = page.locator("#detail .transcript mark.ev-fraud").all_inner_texts()
    # Overlapping evidence is marked once, by its longest piece.
    assert all(any(e in m for m in marked) for e in evidence), (evidence, marked)
    assert "录音上传" in page.inner_text("#handoff-reason")  # uploaded via /api/calls
    # The scam's parts in the customer's words, and which part is still missing.
    fraud = case["risk"]["fraud"]
    parts = page.locator("#fraud-structure dd[data-part]").evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.dataset.part, e.className]))"
    )
    for part in ("pretext", "ask", "pressure"):
        assert parts[part] == ("heard" if fraud[part] else "missing"), (part, parts, fraud)
    page.screenshot(path=screenshot_path("teller-3-case"), full_page=True)

    # The teller fills in the amount the customer confirms on the phone.
    corrected = (label["amount"] or 0) + 20_000
    if page.locator("#field-amount").count() == 0:
        page.select_option("#detail .form-actions select", "amount")
    page.fill("#field-amount", str(corrected))
    page.fill("#correction-reason", "客户电话确认金额")
    page.click("#save-correction")
    page.wait_for_selector("#detail .form-message:has-text('已保存更正')")
    assert page.input_value("#field-amount") == str(corrected)
    assert page.inner_text("tr.field-row[data-slot='amount'] .source") == "柜员"
    page.screenshot(path=screenshot_path("teller-4-corrected"), full_page=True)

    page.fill("#decision-reason", "已与客户核实，非诈骗")
    checker = "teller"
    if case["risk"]["level"] == "high":
        # Maker–checker: who changed the amount of a high-risk case may not accept it.
        page.click("#decide-accept")
        refusal = shown(page, "#detail .decision-message:has-text('amount')")
        assert "another teller or a supervisor" in refusal.inner_text()
        page.screenshot(path=screenshot_path("teller-5-refused"), full_page=True)
        checker = "supervisor"
        page = new_page(viewport={"width": 1440, "height": 1000})
        log_in(page, checker, passwords[checker])
        page.click(f"tr.case-row[data-case-id='{case_id}']")
        page.wait_for_selector("#decide-accept")
        page.fill("#decision-reason", "已与客户核实，非诈骗")
    page.click("#decide-accept")
    page.wait_for_selector("#decision-result")
    page.screenshot(path=screenshot_path("teller-5-accepted"), full_page=True)
    # Accepted cases leave the open queue.
    page.wait_for_selector(f"tr.case-row[data-case-id='{case_id}']", state="detached")

    with api_client(live, "teller", passwords["teller"]) as api:
        detail = api.get(f"/api/cases/{case_id}").json()
    assert detail["status"] == "accepted"
    assert detail["case"]["form"]["fields"]["amount"]["value"] == corrected
    assert detail["case"]["form"]["fields"]["amount"]["source"] == "teller"
    actions = {a["action"]: a for a in detail["audit"]}
    assert actions["case.corrected"]["actor"] == "teller"
    assert actions["case.corrected"]["reason"] == "客户电话确认金额"
    assert actions["case.accept"]["reason"] == "已与客户核实，非诈骗"
    assert actions["case.accept"]["actor"] == checker


def test_reject_needs_a_reason(
    live: LiveServer, passwords: dict[str, str], new_page: Callable[..., Page]
) -> None:
    case_id = upload(live, "balance.wav", passwords)["case_id"]
    page = new_page(viewport={"width": 1440, "height": 1000})
    log_in(page, "teller", passwords["teller"])
    page.click(f"tr.case-row[data-case-id='{case_id}']")
    page.wait_for_selector("#decide-reject")
    page.click("#decide-reject")
    assert "理由" in page.inner_text("#detail .decision-message")
    with api_client(live, "teller", passwords["teller"]) as api:
        assert api.get(f"/api/cases/{case_id}").json()["status"] == "open"


# ---- (c) product staff ----------------------------------------------------


def test_product_tries_a_sentence_and_accepts_a_correction(
    live: LiveServer, passwords: dict[str, str], new_page: Callable[..., Page]
) -> None:
    label = fixture_labels()["fraud_loan_fee.wav"]
    case = upload(live, "fraud_loan_fee.wav", passwords)
    with api_client(live, "teller", passwords["teller"]) as teller:
        r = teller.patch(
            f"/api/cases/{case['case_id']}",
            json={"fields": {"payee_relation": "女儿"}, "reason": "客户说明"},
        )
        assert r.status_code == 200, r.text
    with api_client(live, "product", passwords["product"]) as product_api:
        expected = product_api.post("/api/catalog/try", json={"text": label["script"]}).json()

    page = new_page(viewport={"width": 1440, "height": 1000})
    log_in(page, "product", passwords["product"])
    # Product staff see the product tabs, not the teller queue.
    assert page.locator("[role=tab][data-view=queue]").is_hidden()

    page.click("[role=tab][data-view=try]")
    page.fill("#try-text", label["script"])
    page.click("#try-form button[type=submit]")
    intent = shown(page, "#try-intent")
    assert intent.get_attribute("data-intent") == expected["intent"]["code"]
    drivers = page.locator("#try-normalized mark.driver").all_inner_texts()
    assert set(drivers) <= set(expected["intent"]["drivers"])
    page.screenshot(path=screenshot_path("product-1-try"), full_page=True)

    page.click("[role=tab][data-view=catalog]")
    page.wait_for_selector(".intent-card[data-intent='transfer']")
    page.screenshot(path=screenshot_path("product-2-catalog"))

    page.click("[role=tab][data-view=corrections]")
    row = shown(page, f"tr.correction-row[data-case-id='{case['case_id']}']")
    assert "女儿" in row.inner_text()
    page.screenshot(path=screenshot_path("product-3-inbox"), full_page=True)
    correction_id = row.get_attribute("data-id")
    row.locator("button.accept").click()
    page.wait_for_selector(f"tr.correction-row[data-id='{correction_id}'].reviewed")

    with api_client(live, "product", passwords["product"]) as product:
        accepted = product.get("/api/corrections", params={"status": "accepted"}).json()
    assert str(correction_id) in {str(c["id"]) for c in accepted["corrections"]}

    page.click("[role=tab][data-view=eval]")
    page.wait_for_selector("#eval p")
    page.screenshot(path=screenshot_path("product-4-eval"))


# ---- (d) the fake microphone, end to end ----------------------------------


def test_a_call_through_the_microphone_reaches_the_queue(
    live: LiveServer,
    passwords: dict[str, str],
    playwright_session: Playwright,
    chromium: Browser,
    tmp_path: Path,
) -> None:
    wav = wav_with_silence(AUDIO_DIR / "balance.wav", tmp_path / "mic.wav")
    mic_browser = launch_chromium(
        playwright_session,
        (
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav.resolve()}",
            "--autoplay-policy=no-user-gesture-required",
        ),
    )
    try:
        context = mic_browser.new_context(
            base_url=live.url, locale="zh-CN", permissions=["microphone"]
        )
        violations: list[str] = []
        page = watch_csp(context.new_page(), violations)
        # A demo server: the page mints a call token for the demo customer itself.
        page.goto("/")
        page.click("#call")
        page.wait_for_selector("#state[data-state=listening]")
        # Selectors, not wait_for_function: evaluating a string would need
        # 'unsafe-eval', which the page's CSP (rightly) refuses.
        page.wait_for_selector("#system:not(:empty)")  # the greeting
        page.wait_for_selector("#heard:not(:empty)", timeout=SLOW_MS)
        heard = page.inner_text("#heard").removeprefix("您说：")
        page.screenshot(path=screenshot_path("call-1-heard"), full_page=True)
        if page.get_attribute("#call", "aria-pressed") == "true":
            page.click("#call")  # hang up
        page.wait_for_selector("#call[aria-pressed=false]")
        page.screenshot(path=screenshot_path("call-2-ended"), full_page=True)
        assert violations == [], "the call page broke its own Content-Security-Policy"
    finally:
        mic_browser.close()

    # The case is saved once what was said is transcribed.
    with api_client(live, "teller", passwords["teller"]) as api:
        case: dict[str, Any] | None = None
        deadline = time.monotonic() + SLOW_MS / 1000
        while case is None and time.monotonic() < deadline:
            listed = api.get("/api/cases", params={"status": "all"}).json()["cases"]
            ids = [c["case_id"] for c in listed if c["customer_id"] == CUSTOMER]
            for case_id in ids:
                found = api.get(f"/api/cases/{case_id}").json()["case"]
                if heard in "".join(s["text"] for s in found["transcript"]):
                    case = found
            if case is None:
                time.sleep(1)
    assert case is not None, f"no case with the heard text {heard!r}"

    teller_context = chromium.new_context(base_url=live.url, locale="zh-CN")
    try:
        page = teller_context.new_page()
        page.set_viewport_size({"width": 1440, "height": 1000})
        log_in(page, "teller", passwords["teller"])
        page.wait_for_selector(f"tr.case-row[data-case-id='{case['case_id']}']")
        page.screenshot(path=screenshot_path("call-3-queue"))
    finally:
        teller_context.close()
