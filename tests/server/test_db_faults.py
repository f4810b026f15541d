"""Database faults (issue 10): PostgreSQL restarted under live calls.

The real server (a child process) runs on its own throwaway cluster. With a
call at its read-back (checkpointed) and a teller watching the queue's live
updates, PostgreSQL is stopped: a new call still runs to its case, the first
caller hangs up, both cases go to the spool and, once the outage outlasts
``server.db_retry_s``, an ERROR alert is logged. PostgreSQL starts again:
both cases reach the queue exactly once, the write-ahead row is gone, and
the same event stream reports the change.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from server.db import LiveCallRow
from tests.server.pg_cluster import PgCluster, require_postgres
from tests.server.server_process import (
    SILENCE,
    ServerProcess,
    database,
    pcm_of,
    queue,
    recv_until,
    running,
    stream,
    teller_headers,
    token,
)
from voice_agent.recording import decode_opus


@pytest.fixture()
def cluster() -> Iterator[PgCluster]:
    require_postgres()
    pg = PgCluster()
    yield pg
    pg.destroy()


def _watch_queue(url: str, headers: dict[str, str], events: list[str]) -> threading.Thread:
    """Collect ``queue`` events of ``GET /api/cases/events`` in a thread."""

    def run() -> None:
        try:
            with httpx.stream("GET", f"{url}/api/cases/events", headers=headers, timeout=None) as r:
                for line in r.iter_lines():
                    if line.startswith("data:"):
                        events.append(line)
        except httpx.HTTPError:
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_postgres_restart_during_calls_loses_nothing(tmp_path: Path, cluster: PgCluster) -> None:
    server = ServerProcess(
        tmp_path / "data",
        cluster.url,
        env_extra={
            "FRONTDESK_SERVER__LIVE_SWEEP_S": "0.5",
            "FRONTDESK_SERVER__DB_RETRY_S": "2",
        },
    )
    with running(server):
        headers = teller_headers(server)
        updates: list[str] = []
        _watch_queue(server.url, headers, updates)
        _wait(lambda: updates, 20, "the first queue event")

        with connect(server.ws_url, open_timeout=10) as first:
            first.send(json.dumps({"token": token("demo-elderly-01")}))
            recv_until(first, {"prompt"})
            stream(first, pcm_of("transfer_50k") + SILENCE)
            assert recv_until(first, {"confirm", "case"})[-1]["type"] == "confirm"
            with database(cluster.url) as session:
                assert session.query(LiveCallRow).count() == 1  # written ahead

            cluster.stop()
            # A new call during the outage runs to its handoff as usual.
            with connect(server.ws_url, open_timeout=10) as second:
                second.send(json.dumps({"token": token("demo-elderly-02")}))
                recv_until(second, {"prompt"})
                stream(second, pcm_of("balance") + SILENCE)
                handoff = recv_until(second, {"case"})[-1]
                assert handoff["case"]["intent"]["code"] == "balance_inquiry"
        # The first caller hung up during the outage.
        spool = server.data_dir / "spool"
        _wait(lambda: len(list(spool.glob("case-*.json"))) == 2, 60, "two spooled cases")
        _wait(lambda: "ALERT" in server.log(), 30, "the ERROR alert")
        seen_before_restart = len(updates)

        cluster.start()
        _wait(lambda: len(queue(cluster.url)) == 2, 60, "both cases in the queue")
        items = queue(cluster.url)
        assert sorted(i["customer_id"] for i in items) == ["demo-elderly-01", "demo-elderly-02"]
        assert len({i["case_id"] for i in items}) == 2
        first_case = next(i["case"] for i in items if i["customer_id"] == "demo-elderly-01")
        assert first_case["form"]["fields"]["amount"]["value"] == 50000
        assert first_case["disconnected"] is True
        with database(cluster.url) as session:
            assert session.query(LiveCallRow).count() == 0
        _wait(lambda: not list(spool.glob("case-*.json")), 10, "an empty spool")
        # Each case's turns are playable by staff: the second call's audio
        # existed only in the spool during the outage (issue 9).
        for item in items:
            turns = len(item["case"]["transcript"])
            assert turns >= 1
            for turn in range(turns):
                r = httpx.get(
                    f"{server.url}/api/cases/{item['case_id']}/recordings/{turn}", headers=headers
                )
                assert r.status_code == 200, (item["customer_id"], turn, r.text)
                assert r.headers["content-type"] == "audio/ogg"
                assert len(decode_opus(r.content)) > 16_000 // 2  # at least half a second
        # The teller's live updates resumed on the same stream.
        _wait(lambda: len(updates) > seen_before_restart, 20, "a queue event after the restart")
        log = server.log()
        assert "ERROR" in log and "NOT in the tellers' queue" in log
        assert "RESOLVED" in log
