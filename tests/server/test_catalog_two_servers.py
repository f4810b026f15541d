"""Two real ``frontdesk serve`` processes on one PostgreSQL: an edit made through
one is used by the other, without a restart (issue 10 item 4).

Server A takes a new intent from a product user; server B's own catalog
(GET /api/intents answers from the catalog B serves, not the database)
has it within a few poll intervals. ``frontdesk intents train`` then trains
on the database's catalog into the shared model directory and records the
new model as current; B's understanding (POST /api/catalog/try) uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.auth import create_user
from tests.server.conftest import PASSWORD, session_token
from tests.server.server_process import SECRET, ServerProcess, database, running

POLL_S = 0.5
#: A few poll intervals, plus a loaded 2-core box.
SWAP_WITHIN_S = 15.0

BILL: dict[str, Any] = {
    "code": "bill_payment",
    "name": "生活缴费",
    "description": "客户要交水电煤气费。",
    "slots": ["amount"],
    "required": [["amount"]],
    "prompts": {"amount": "请问这次要交多少钱？"},
    "examples": [
        "我要交电费",
        "帮我交一下煤气费",
        "水费怎么交",
        "这个月的电费还没交",
        "我想缴一下水电费",
        "燃气费在哪里缴",
        "帮我把家里的电费交了",
        "物业费能在这里交吗",
    ],
}


def _until(probe: Callable[[], Any], within_s: float, what: str) -> float:
    """Seconds until ``probe()`` is true (printed: the figure docs/catalog.md quotes)."""
    start = time.monotonic()
    last: Any = None
    while time.monotonic() < start + within_s:
        last = probe()
        if last:
            waited = time.monotonic() - start
            print(f"{what}: {waited:.2f} s")
            return waited
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {within_s} s (last: {last!r})")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_edit_through_one_server_is_used_by_the_other(tmp_path: Path, db_url: str) -> None:
    env = {
        # The shared volume the trained weights live on; the database names the current one.
        "FRONTDESK_UNDERSTANDING__INTENT_MODEL_DIR": str(tmp_path / "intent-models"),
        "FRONTDESK_SERVER__CATALOG_POLL_S": str(POLL_S),
    }
    a = ServerProcess(tmp_path / "a", db_url, env_extra=env)
    b = ServerProcess(tmp_path / "b", db_url, env_extra=env)
    # A starts first: it seeds catalog v1 and trains model v0001 into the shared directory.
    with running(a), running(b):
        with database(db_url) as session:
            create_user(session, "pat", "product", PASSWORD)
        r = httpx.post(f"{a.url}/api/login", json={"username": "pat", "password": PASSWORD})
        product = {"Authorization": f"Bearer {session_token(r)}"}

        def b_codes() -> list[str]:
            return [
                i["code"]
                for i in httpx.get(f"{b.url}/api/intents", headers=product).json()["intents"]
            ]

        def b_understands(text: str) -> str:
            r = httpx.post(
                f"{b.url}/api/catalog/try", json={"text": text}, headers=product, timeout=30
            )
            assert r.status_code == 200, r.text
            return str(r.json()["intent"]["code"])

        assert "bill_payment" not in b_codes()
        assert b_understands("我要交电费") != "bill_payment"

        r = httpx.post(f"{a.url}/api/catalog/intents", json=BILL, headers=product)
        assert r.status_code == 201, r.text
        assert r.json()["version"] == 2
        _until(lambda: "bill_payment" in b_codes(), SWAP_WITHIN_S, "B serving catalog v2")
        catalog = httpx.get(f"{b.url}/api/catalog", headers=product).json()
        assert catalog["version"] == 2 and catalog["updated_by"] == "pat"

        # The product person trains on the database's catalog (any machine with the volume).
        trained = subprocess.run(
            [str(Path(sys.executable).parent / "frontdesk"), "intents", "train", "--force"],
            env={
                **os.environ,
                **env,
                "FRONTDESK_DATA_DIR": str(tmp_path / "trainer"),
                "FRONTDESK_SERVER__DATABASE_URL": db_url,
                "FRONTDESK_SERVER__CALL_TOKEN_SECRET": SECRET,
            },
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert trained.returncode == 0, trained.stderr
        assert "current model: v0002" in trained.stdout, trained.stdout
        _until(
            lambda: b_understands("我要交电费") == "bill_payment",
            SWAP_WITHIN_S,
            "B understanding with model v0002",
        )

        # A follows the same model: the database said which one is live.
        def a_understands(text: str) -> str:
            r = httpx.post(
                f"{a.url}/api/catalog/try", json={"text": text}, headers=product, timeout=30
            )
            return str(r.json()["intent"]["code"])

        _until(
            lambda: a_understands("帮我交一下煤气费") == "bill_payment",
            SWAP_WITHIN_S,
            "A understanding with model v0002",
        )
