"""The catalog in the database over real HTTP: versions, per-intent revisions, 409s.

Product users edit with If-Match (the intent's revision they saw); an edit
made on an old revision of the same intent is refused with what changed,
never stored over the other user's edit. Edits of different intents do not
conflict, even when they arrive at the same moment.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from intents.store import ModelMeta
from server import intent_models
from server.app import create_app
from tests.server.conftest import Live
from voice_agent.service import FrontDesk
from voice_agent.settings import ServerSettings, Settings


def _catalog(live: Live, headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{live.url}/api/catalog", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _intent(catalog: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in catalog["intents"] if i["code"] == code)


def _fields(intent: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "description", "slots", "required", "prompts", "readback", "summary")
    return {k: intent[k] for k in keys} | {"examples": intent["examples"]}


def test_stale_edit_gets_409_with_what_changed_and_stores_nothing(live: Live) -> None:
    alice = live.staff("alice", "product")
    bob = live.staff("bob", "product")
    seen = _catalog(live, bob)
    assert seen["version"] == 1 and seen["updated_by"] == "seed"
    transfer = _intent(seen, "transfer")
    base = transfer["revision"]
    assert base == 1

    # Alice renames the intent, editing the revision she saw.
    renamed = {**_fields(transfer), "name": "转账汇款（含跨行）"}
    r = httpx.put(
        f"{live.url}/api/catalog/intents/transfer",
        json=renamed,
        headers={**alice, "If-Match": f'"{base}"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["revision"] == 2
    assert r.headers["etag"] == '"2"'

    # Bob, still on revision 1, adds an example: refused, with what changed.
    sentence = "帮我给闺女汇点生活费"
    r = httpx.post(
        f"{live.url}/api/catalog/transfer/examples",
        json={"text": sentence},
        headers={**bob, "If-Match": f'"{base}"'},
    )
    assert r.status_code == 409, r.text
    stale = r.json()
    assert stale["intent"] == "transfer"
    assert (stale["base_revision"], stale["revision"], stale["version"]) == (1, 2, 2)
    assert stale["changed"] == ["name"]
    assert stale["current"]["name"] == "转账汇款（含跨行）"
    assert "reload" in stale["error"]
    now = _catalog(live, bob)
    assert now["version"] == 2
    assert sentence not in _intent(now, "transfer")["examples"]
    assert _intent(now, "transfer")["name"] == "转账汇款（含跨行）"

    # Reloaded, Bob redoes it on revision 2: stored, Alice's name kept.
    r = httpx.post(
        f"{live.url}/api/catalog/transfer/examples",
        json={"text": sentence},
        headers={**bob, "If-Match": '"2"'},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["revision"], r.json()["version"]) == (3, 3)
    after = _intent(_catalog(live, alice), "transfer")
    assert sentence in after["examples"] and after["name"] == "转账汇款（含跨行）"

    # Alice's own view of card_loss is old (revision 1) but nobody changed
    # card_loss: editing a different intent does not conflict.
    r = httpx.post(
        f"{live.url}/api/catalog/card_loss/examples",
        json={"text": "我老伴的存折好像落在菜场了"},
        headers={**alice, "If-Match": '"1"'},
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 4
    actions = [a for _, a in live.audit() if a.startswith("catalog.")]
    assert actions == ["catalog.intent_edited", "catalog.example_added", "catalog.example_added"]


def test_edits_need_a_revision(live: Live) -> None:
    product = live.staff("carol", "product")
    url = f"{live.url}/api/catalog/balance_inquiry/examples"
    r = httpx.post(url, json={"text": "卡里还剩多少"}, headers=product)
    assert r.status_code == 428
    assert "If-Match" in r.json()["error"]
    r = httpx.post(url, json={"text": "卡里还剩多少"}, headers={**product, "If-Match": "latest"})
    assert r.status_code == 400
    assert _catalog(live, product)["version"] == 1
    r = httpx.put(
        f"{live.url}/api/catalog/intents/no_such_intent",
        json={"name": "x", "description": "y", "examples": ["z"]},
        headers={**product, "If-Match": '"1"'},
    )
    assert r.status_code == 422 and "transfer" in r.json()["error"]


def test_simultaneous_edits_of_different_intents_all_land(live: Live) -> None:
    product = live.staff("dave", "product")
    codes = ["balance_inquiry", "card_loss", "password_reset", "pension_inquiry", "time_deposit"]
    sentences = {
        "balance_inquiry": "想问问我卡上余额还有多少",
        "card_loss": "社保卡掉在公交车上了",
        "password_reset": "取款密码想不起来了咋整",
        "pension_inquiry": "这个月退休金到账没有",
        "time_deposit": "三年定期现在利息多少",
    }

    def add(code: str) -> httpx.Response:
        return httpx.post(
            f"{live.url}/api/catalog/{code}/examples",
            json={"text": sentences[code]},
            headers={**product, "If-Match": '"1"'},
            timeout=60,
        )

    with ThreadPoolExecutor(len(codes)) as pool:
        responses = list(pool.map(add, codes))
    assert [r.status_code for r in responses] == [201] * len(codes), [r.text for r in responses]
    assert sorted(r.json()["version"] for r in responses) == [2, 3, 4, 5, 6]
    final = _catalog(live, product)
    assert final["version"] == 6
    for code in codes:
        assert sentences[code] in _intent(final, code)["examples"]


def test_another_server_on_the_database_serves_the_edit(
    live: Live, tmp_path: Path, frontdesk: FrontDesk
) -> None:
    """In-process twin of tests/server/test_catalog_two_servers.py (quick)."""
    product = live.staff("erin", "product")
    assert live.settings.server.database_url is not None
    other = Settings(
        data_dir=tmp_path / "other",
        server=ServerSettings(database_url=live.settings.server.database_url, catalog_poll_s=0.2),
    )
    with TestClient(create_app(other, frontdesk)) as b:
        assert b.app.state.catalog.codes == live.app.state.catalog.codes  # type: ignore[attr-defined]
        bill = {
            "code": "bill_payment",
            "name": "生活缴费",
            "description": "客户要交水电煤气费。",
            "examples": ["我要交电费", "帮我交一下煤气费"],
        }
        r = httpx.post(f"{live.url}/api/catalog/intents", json=bill, headers=product)
        assert r.status_code == 201, r.text
        # B's poller swaps the new version in, without a request to B.
        state = b.app.state  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while "bill_payment" not in state.catalog.intents and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "bill_payment" in state.catalog.intents
        assert "bill_payment" in state.frontdesk.catalog.intents
        assert state.catalog_current.version == 2


def test_a_call_keeps_its_catalog_and_an_unloadable_model_is_not_swapped_in(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    state = live.app.state
    product = live.staff("fay", "product")
    in_call = state.frontdesk  # what a call that started now holds
    r = httpx.post(
        f"{live.url}/api/catalog/card_loss/examples",
        json={"text": "存折被我孙子拿去玩丢了"},
        headers={**product, "If-Match": '"1"'},
    )
    assert r.status_code == 201, r.text
    # New calls get the new version; the call in progress finishes on its own.
    assert state.frontdesk is not in_call
    sentence = "存折被我孙子拿去玩丢了"
    assert sentence in [e.text for e in state.frontdesk.catalog.spec("card_loss").examples]
    assert sentence not in [e.text for e in in_call.catalog.spec("card_loss").examples]

    # The database names a model whose weights this server does not have.
    serving = state.frontdesk
    meta = ModelMeta("v0099", "sparse", "0" * 64, 1, 0, created_at="2026-11-29T10:00:00+00:00")
    with state.sessions() as session:
        intent_models.record(session, meta, current=True)
        assert intent_models.current_version(session) == "v0099"
    watcher = state.catalog_watcher
    with caplog.at_level(logging.ERROR, logger="server.catalog"):
        assert watcher.poll(state) is False
        assert watcher.poll(state) is False
    assert state.frontdesk is serving  # keeps understanding with the model it has
    errors = [r.getMessage() for r in caplog.records if "v0099" in r.getMessage()]
    assert len(errors) == 1 and "intent_model_dir" in errors[0]
    assert (
        httpx.post(
            f"{live.url}/api/catalog/try", json={"text": "我的卡丢了"}, headers=product
        ).status_code
        == 200
    )
