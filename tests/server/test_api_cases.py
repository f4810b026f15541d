"""The teller's REST API: queue, detail, corrections, decisions (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from server.repository import save_case
from tests.server.builders import ACCOUNT, make_case
from voice_agent.case import Case

Login = Callable[[str], dict[str, str]]


def _store(client: TestClient, *cases: Case) -> None:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        for case in cases:
            save_case(session, case)


def test_queue_is_risky_first_then_longest_waiting(client: TestClient, login: Login) -> None:
    teller = login("teller")
    _store(
        client,
        make_case("c_old_none", minutes_ago=40),
        make_case("c_high", risk_level="high", risk_score=0.9, minutes_ago=1),
        make_case("c_low_old", risk_level="low", risk_score=0.3, minutes_ago=20),
        make_case("c_low_new", risk_level="low", risk_score=0.3, minutes_ago=2),
    )
    r = client.get("/api/cases", headers=teller)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    cases = r.json()["cases"]
    assert [c["case_id"] for c in cases] == ["c_high", "c_low_old", "c_low_new", "c_old_none"]
    assert cases[0]["intent_name"] == "转账汇款"
    assert "转账汇款".encode() in r.content  # Chinese unescaped
    expected_keys = {
        "case_id", "created_at", "waiting_seconds", "customer_id", "scenario", "intent",
        "intent_name", "risk_level", "risk_score", "flags", "summary", "amount",
        "payee_account", "status", "disconnected",
    }  # fmt: skip
    assert expected_keys <= set(cases[0])


def test_detail_shows_full_account_queue_masks_it(client: TestClient, login: Login) -> None:
    teller = login("teller")
    _store(client, make_case("c_acc", account=ACCOUNT))
    [item] = client.get("/api/cases", headers=teller).json()["cases"]
    assert item["payee_account"] == "**** 0123"
    detail = client.get("/api/cases/c_acc", headers=teller).json()
    assert detail["case"]["form"]["fields"]["payee_account"]["value"] == ACCOUNT
    assert detail["status"] == "open"
    assert detail["decision"] is None
    # Opening a case is audited: who looked at which customer's case.
    assert [(e["action"], e["actor"]) for e in detail["audit"]] == [
        ("case.created", "system"),
        ("case.opened", "teller"),
    ]
    r = client.get("/api/cases/c_nope", headers=teller)
    assert r.status_code == 404
    assert "c_nope" in r.json()["error"]


def test_patch_with_unknown_intent_lists_catalog_codes(client: TestClient, login: Login) -> None:
    teller = login("teller")
    _store(client, make_case("c_p"))
    r = client.patch("/api/cases/c_p", json={"intent": "wire_money"}, headers=teller)
    assert r.status_code == 422
    catalog_codes = list(client.app.state.catalog.codes)  # type: ignore[attr-defined]
    assert len(catalog_codes) >= 13
    for code in catalog_codes:
        assert code in r.json()["error"]
    r = client.patch("/api/cases/c_p", json={"fields": {"sum": 1}}, headers=teller)
    assert r.status_code == 422
    assert "payee_account" in r.json()["error"]
    r = client.patch("/api/cases/c_p", json={"fields": "amount=5"}, headers=teller)
    assert r.status_code == 422
    assert "fields" in r.json()["error"]


def test_patch_audits_and_creates_a_correction_product_reviews(
    client: TestClient, login: Login
) -> None:
    teller, product = login("teller"), login("product")
    _store(client, make_case("c_fix"))
    r = client.patch(
        "/api/cases/c_fix",
        json={"intent": "time_deposit", "fields": {"term_months": 12}, "reason": "客户要存定期"},
        headers=teller,
    )
    assert r.status_code == 200, r.text
    case = r.json()["case"]
    assert case["intent"]["code"] == "time_deposit"
    assert case["form"]["fields"]["term_months"]["source"] == "teller"
    assert case["form"]["missing"] == []
    audit = r.json()["audit"][-1]
    assert (audit["actor"], audit["action"], audit["reason"]) == (
        "teller",
        "case.corrected",
        "客户要存定期",
    )
    assert audit["before"]["intent"] == "transfer"
    assert audit["after"]["intent"] == "time_deposit"

    [pending] = client.get("/api/corrections", headers=product).json()["corrections"]
    assert (pending["case_id"], pending["intent"]) == ("c_fix", "time_deposit")
    assert pending["slots"]["term_months"] == 12
    r = client.post(
        f"/api/corrections/{pending['id']}/review", json={"decision": "accept"}, headers=product
    )
    assert r.json()["correction"]["status"] == "accepted"
    assert client.get("/api/corrections", headers=product).json()["corrections"] == []
    accepted = client.get("/api/corrections?status=accepted", headers=product).json()
    assert [c["reviewed_by"] for c in accepted["corrections"]] == ["product"]
    trail = client.get("/api/cases/c_fix", headers=teller).json()["audit"]
    assert trail[-2]["action"] == "correction.accept"
    assert trail[-2]["actor"] == "product"
    assert trail[-1]["action"] == "case.opened"


def test_decision_flow(client: TestClient, login: Login) -> None:
    teller = login("teller")
    _store(client, make_case("c_d", risk_level="high", risk_score=0.9))
    url = "/api/cases/c_d/decision"
    r = client.post(url, json={"decision": "reject"}, headers=teller)
    assert r.status_code == 422
    assert "reason is required" in r.json()["error"]
    r = client.post(url, json={"decision": "maybe", "reason": "x"}, headers=teller)
    assert r.status_code == 422
    assert "accept, reject, escalate" in r.json()["error"]
    r = client.post(url, json={"decision": "reject", "reason": "冒充公检法"}, headers=teller)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "rejected"
    assert body["decision"]["reason"] == "冒充公检法"
    assert body["audit"][-1]["after"] == {"status": "rejected"}
    assert client.post(url, json={"decision": "accept"}, headers=teller).status_code == 409
    assert client.get("/api/cases", headers=teller).json()["cases"] == []
    everything = client.get("/api/cases?status=all", headers=teller).json()["cases"]
    assert [c["status"] for c in everything] == ["rejected"]


def test_escalated_case_stays_queued_until_decided(client: TestClient, login: Login) -> None:
    teller, supervisor = login("teller"), login("supervisor")
    _store(client, make_case("c_esc", risk_level="high", risk_score=0.9))
    r = client.post(
        "/api/cases/c_esc/decision",
        json={"decision": "escalate", "reason": "疑似安全账户诈骗"},
        headers=teller,
    )
    assert r.status_code == 200, r.text
    [item] = client.get("/api/cases", headers=teller).json()["cases"]
    assert (item["case_id"], item["status"]) == ("c_esc", "escalated")
    r = client.post(
        "/api/cases/c_esc/decision",
        json={"decision": "reject", "reason": "诈骗"},
        headers=supervisor,
    )
    assert r.status_code == 200, r.text
    assert client.get("/api/cases", headers=teller).json()["cases"] == []


def test_intent_list_is_readable_by_tellers_but_not_anonymous(
    client: TestClient, login: Login
) -> None:
    assert client.get("/api/intents").status_code == 401
    r = client.get("/api/intents", headers=login("teller"))
    assert r.status_code == 200
    codes = {i["code"] for i in r.json()["intents"]}
    assert {"transfer", "card_loss", "out_of_scope"} <= codes
    assert "examples" not in r.json()["intents"][0]
