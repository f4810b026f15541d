"""Service routes (/api/understand, /api/calls, /healthz) and the product routes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from intents.catalog import shipped_catalog_dir
from intents.taxonomy import INTENT_CODES

Login = Callable[[str], dict[str, str]]


def test_healthz_is_ok_once_models_are_loaded(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_understand_returns_the_contract_with_chinese_unescaped(
    client: TestClient, service: dict[str, str]
) -> None:
    r = client.post(
        "/api/understand", json={"text": "阿拉要汇五万块钞票拨阿拉儿子"}, headers=service
    )
    assert r.status_code == 200
    body = r.json()
    assert {"text", "normalized_text", "dialect", "intent", "slots", "risk"} <= set(body)
    assert body["text"] == "阿拉要汇五万块钞票拨阿拉儿子"
    assert body["intent"]["code"] in INTENT_CODES
    assert "阿拉".encode() in r.content


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b'{"text": "abc"', 422, "not valid JSON"),
        (b'{"customer_id": "x"}', 422, "missing field 'text'"),
        (b'{"text": 5}', 422, "field 'text'"),
        (b'{"text": "   "}', 400, "empty text"),
    ],
)
def test_bad_understand_requests_are_explained(
    client: TestClient, service: dict[str, str], content: bytes, status: int, message: str
) -> None:
    r = client.post(
        "/api/understand",
        content=content,
        headers={"Content-Type": "application/json", **service},
    )
    assert r.status_code == status
    assert message in r.json()["error"]


def test_unreadable_audio_is_a_400_and_nothing_is_queued(
    client: TestClient, login: Login, service: dict[str, str]
) -> None:
    r = client.post(
        "/api/calls",
        files={"file": ("call.wav", b"RIFF\x00\x00\x00\x00WAVE but no audio at all", "audio/wav")},
        data={"customer_id": "demo-elderly-01"},
        headers=service,
    )
    assert r.status_code == 400
    assert r.json()["error"]
    r = client.post(
        "/api/calls",
        files={"file": ("call.wav", b"x", "audio/wav")},
        data={"scenario": "lottery_win"},
        headers=service,
    )
    assert r.status_code == 422
    assert "password_locked" in r.json()["error"]
    teller = login("teller")
    assert client.get("/api/cases?status=all", headers=teller).json() == {"cases": []}


def test_catalog_lists_every_intent(client: TestClient, login: Login) -> None:
    body = client.get("/api/catalog", headers=login("product")).json()
    codes = [i["code"] for i in body["intents"]]
    assert set(INTENT_CODES) <= set(codes)
    transfer = next(i for i in body["intents"] if i["code"] == "transfer")
    assert transfer["name"] == "转账汇款"
    assert ["payee_account", "payee_name"] in transfer["required"]
    assert transfer["examples"]


def test_added_example_goes_to_the_database_catalog(client: TestClient, login: Login) -> None:
    product = login("product")
    shipped = (shipped_catalog_dir() / "balance_inquiry.yaml").read_text(encoding="utf-8")
    sentence = "阿拉想看看卡里还有几钿铜钿"
    seen = client.get("/api/catalog", headers=product).json()
    revision = next(i for i in seen["intents"] if i["code"] == "balance_inquiry")["revision"]
    r = client.post(
        "/api/catalog/balance_inquiry/examples",
        json={"text": sentence},
        headers={**product, "If-Match": f'"{revision}"'},
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == seen["version"] + 1
    assert r.json()["file"] == f"database:catalog@v{seen['version'] + 1}/balance_inquiry.yaml"
    # The shipped file is the seed, never edited; nothing is copied to the data dir.
    assert (shipped_catalog_dir() / "balance_inquiry.yaml").read_text(encoding="utf-8") == shipped
    settings = client.app.state.settings  # type: ignore[attr-defined]
    assert not (settings.data_dir / "catalog").exists()
    listed = client.get("/api/catalog", headers=product).json()["intents"]
    assert sentence in next(i for i in listed if i["code"] == "balance_inquiry")["examples"]
    r = client.post(
        "/api/catalog/no_such_intent/examples",
        json={"text": "你好"},
        headers={**product, "If-Match": '"1"'},
    )
    assert r.status_code == 422
    assert "transfer" in r.json()["error"]


def test_try_a_sentence(client: TestClient, login: Login) -> None:
    r = client.post("/api/catalog/try", json={"text": "我的卡丢了"}, headers=login("product"))
    assert r.status_code == 200
    assert r.json()["intent"]["code"] in INTENT_CODES


def test_latest_evaluation_report(client: TestClient, login: Login) -> None:
    product = login("product")
    r = client.get("/api/eval/latest", headers=product)
    assert r.status_code == 404
    assert "frontdesk intents eval" in r.json()["error"]
    out = client.app.state.settings.data_dir / "eval"  # type: ignore[attr-defined]
    out.mkdir(parents=True)
    (out / "report.json").write_text(json.dumps({"macro_f1": 0.91}), encoding="utf-8")
    (out / "report.html").write_text("<h1>报告</h1>", encoding="utf-8")
    r = client.get("/api/eval/latest", headers=product)
    assert r.json() == {"report": {"macro_f1": 0.91}, "html": "/api/eval/latest/report.html"}
    assert "报告" in client.get("/api/eval/latest/report.html", headers=product).text
    assert client.get("/api/eval/latest/..%2Fdemo.txt", headers=product).status_code == 404
