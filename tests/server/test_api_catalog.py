"""Product staff add an intent through the console's API: it gets prompts,
a read-back and a summary from its own catalog entry, without a code change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from dialects.types import MANDARIN, Normalised
from intents.types import IntentPrediction, Slots, SlotValue
from voice_agent.casebuilder import CaseBuilder
from voice_agent.dialogue import Dialogue, scenario_scripts
from voice_agent.risk.types import RiskAssessment
from voice_agent.understanding import Understanding

Login = Callable[[str], dict[str, str]]

BILL: dict[str, Any] = {
    "code": "bill_payment",
    "name": "生活缴费",
    "description": "客户要交水电煤气费。",
    "slots": ["amount"],
    "required": [["amount"]],
    "prompts": {"amount": "请问这次要交多少钱？"},
    "summary": ["要求缴纳生活费用", "{amount}"],
    "examples": ["我要交电费", "帮我交一下煤气费", "水费怎么交"],
}


def _said(text: str, intent: str, **slots: int | str) -> Understanding:
    values = tuple(SlotValue(k, v, str(v), 0, 1) for k, v in slots.items())
    return Understanding(
        normalised=Normalised(text, text, MANDARIN, 0.9),
        intent=IntentPrediction(intent, 0.9),
        slots=Slots(values),
        risk=RiskAssessment(),
    )


def test_added_intent_gets_prompt_readback_and_summary(client: TestClient, login: Login) -> None:
    product = login("product")
    r = client.post("/api/catalog/intents", json=BILL, headers=product)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["code"] == "bill_payment"
    # No read-back given: the default names the intent and each of its slots.
    assert body["readback"] == ["{name}", "金额{amount}"]
    listed = client.get("/api/catalog", headers=product).json()["intents"]
    assert "bill_payment" in [i["code"] for i in listed]

    # The server serves the new catalog version at once (no restart).
    catalog = client.app.state.catalog  # type: ignore[attr-defined]
    assert "bill_payment" in catalog.intents
    dialogue = Dialogue(catalog.intents, scenarios=scenario_scripts(catalog.scenarios))
    step = dialogue.step(dialogue.start().state, _said("我要交电费", "bill_payment"))
    assert step.event.text == "请问这次要交多少钱？"
    step = dialogue.step(step.state, _said("三百块", "bill_payment", amount=300))
    assert step.event.kind == "confirm"
    assert step.event.text == "跟您核对一下：生活缴费，金额叁佰元整。对吗？"
    builder = CaseBuilder(catalog.intents, {}, {})
    case = builder.project(step.state, (), None, 2.0, {})
    assert case.summary.startswith("客户来电要求缴纳生活费用300元。")
    assert case.form.fields["amount"].value == 300
    # The caller's view of the case repeats what they were asked to confirm.
    assert case.read_back == "生活缴费，金额叁佰元整。"


def test_bad_intent_is_refused_and_stores_nothing(client: TestClient, login: Login) -> None:
    product = login("product")
    before = client.get("/api/catalog", headers=product).json()
    bad = {**BILL, "readback": ["{name}", "{payee_name}"]}
    r = client.post("/api/catalog/intents", json=bad, headers=product)
    assert r.status_code == 422
    assert "unknown placeholder {payee_name}" in r.json()["error"]
    r = client.post("/api/catalog/intents", json={**BILL, "code": "transfer"}, headers=product)
    assert r.status_code == 422
    assert "already exists" in r.json()["error"]
    # An example another intent already has is refused too, naming where it is.
    clash = {**BILL, "examples": ["我的卡丢了"]}
    r = client.post("/api/catalog/intents", json=clash, headers=product)
    assert r.status_code == 422 and "card_loss" in r.json()["error"]
    after = client.get("/api/catalog", headers=product).json()
    assert after == before


def test_only_product_staff_add_intents(client: TestClient, login: Login) -> None:
    r = client.post("/api/catalog/intents", json=BILL, headers=login("teller"))
    assert r.status_code == 403
