"""The product team's loop, end to end, on one data dir and one database.

A teller corrects a case's intent in the console API; product staff accept
the correction and add a catalog example; ``frontdesk intents check``,
``train`` and ``eval`` run as the product person would run them; the new
model has learned the correction and the console shows the new report.
"""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient

from server.app import create_app
from server.auth import create_user
from server.cli import run
from server.repository import save_case
from voice_agent.case import TranscriptSegment
from voice_agent.service import build_frontdesk
from voice_agent.settings import ServerSettings, Settings

PASSWORD = "product loop password"
SENTENCE = "敬老卡的乘车次数用完了怎么办"


def _cli(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), settings=settings, out=out)
    return code, out.getvalue()


def test_teller_correction_flows_into_the_next_model(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        server=ServerSettings(
            database_url=f"sqlite:///{tmp_path / 'fd.db'}", create_demo_accounts=False
        ),
    )
    desk = build_frontdesk(settings, load_asr=False)  # bootstraps model v0001
    before = desk.understand(SENTENCE).intent.code
    target = "card_activation" if before != "card_activation" else "speak_to_teller"
    case = desk.case_for(
        [
            TranscriptSegment(
                0.2, 2.5, SENTENCE, desk.normaliser.normalise(SENTENCE).normalized_text
            )
        ],
        customer_id="demo-elderly-01",
        scenario=None,
        audio_seconds=3.0,
    )

    with TestClient(create_app(settings, desk)) as client:
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            create_user(session, "t1", "teller", PASSWORD)
            create_user(session, "p1", "product", PASSWORD)
            save_case(session, case)

        def headers(user: str) -> dict[str, str]:
            r = client.post("/api/login", json={"username": user, "password": PASSWORD})
            client.cookies.clear()
            return {"Authorization": f"Bearer {r.cookies['fd_session']}"}

        teller, product = headers("t1"), headers("p1")
        r = client.patch(
            f"/api/cases/{case.case_id}",
            json={"intent": target, "reason": "客户要办的是别的业务"},
            headers=teller,
        )
        assert r.status_code == 200, r.text
        # Nothing is learned before review.
        assert (
            client.get("/api/corrections?status=accepted", headers=product).json()["corrections"]
            == []
        )
        [pending] = client.get("/api/corrections?status=pending", headers=product).json()[
            "corrections"
        ]
        assert pending["intent"] == target and SENTENCE in pending["text"]
        r = client.post(
            f"/api/corrections/{pending['id']}/review", json={"decision": "accept"}, headers=product
        )
        assert r.status_code == 200, r.text
        catalog = client.get("/api/catalog", headers=product).json()
        transfer = next(i for i in catalog["intents"] if i["code"] == "transfer")
        r = client.post(
            "/api/catalog/transfer/examples",
            json={"text": "麻烦帮我打笔钱给我外孙女读书用"},
            headers={**product, "If-Match": f'"{transfer["revision"]}"'},
        )
        assert r.status_code == 201, r.text

        code, out = _cli(settings, "intents", "check")
        assert code == 0 and out.startswith("OK: 13 intents"), out
        assert "(database catalog v2)" in out
        shipped = _cli(Settings(data_dir=tmp_path / "other"), "intents", "check")[1]
        assert out.split(" examples")[0] != shipped.split(" examples")[0]  # one example more

        code, out = _cli(settings, "intents", "train")
        assert code == 0 and out.startswith("ACCEPTED"), out
        assert "v0002" in out

        fresh = build_frontdesk(settings, load_asr=False)
        assert fresh.understand(SENTENCE).intent.code == target

        code, out = _cli(settings, "intents", "eval")
        assert code == 0 and "macro-F1" in out, out
        assert (settings.data_dir / "eval" / "report.html").is_file()
        r = client.get("/api/eval/latest", headers=product)
        assert r.status_code == 200, r.text
