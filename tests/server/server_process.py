"""The real server as a child process (``frontdesk serve``), and a call client.

For tests that kill the process (SIGKILL, SIGTERM) and start it again on the
same data dir and database: what survives is what was on disk, nothing
else. Call tokens are minted here with the secret the server is given.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy.orm import Session

from server.auth import create_user
from server.call_tokens import mint
from server.db import make_engine, make_sessionmaker
from server.repository import case_detail, list_queue
from tests.server.conftest import PASSWORD, session_token
from tests.server.pg_cluster import free_port
from voice_agent.audio import decode_audio

AUDIO = Path(__file__).resolve().parent.parent / "data" / "audio"
CHUNK = 640  # 20 ms of 16 kHz s16le
SECRET = "test-secret-for-call-tokens-0123456789"
START_TIMEOUT_S = 420.0  # model loading on a loaded shared 2-core box
EVENT_TIMEOUT_S = 60.0
SCENARIOS = ("password_locked", "transfer_over_limit", "limit_adjustment")
SILENCE = bytes(16_000 * 2)  # one second of 16 kHz s16le: the end of a turn


def pcm_of(name: str) -> bytes:
    """A committed recording (tests/data/audio) as 16 kHz s16le PCM."""
    path = next(p for p in AUDIO.iterdir() if p.stem == name)
    audio = decode_audio(path, max_seconds=60)
    return (np.clip(audio.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def token(customer_id: str, scenario: str | None = None) -> str:
    """A call token the child server accepts."""
    value, _ = mint(SECRET.encode(), customer_id, scenario, 300, SCENARIOS)
    return value


@dataclass
class ServerProcess:
    """``frontdesk serve`` in a child process; restartable on the same data."""

    data_dir: Path
    database_url: str
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/call"

    def start(self, *, models: bool = True) -> None:
        """Start and wait until ``/healthz`` is ok (models loaded).

        ``models=False`` waits only for the port: recovery and the teller API
        run before the models are loaded (``/healthz`` says "loading").
        """
        env = {
            **os.environ,
            "FRONTDESK_DATA_DIR": str(self.data_dir),
            "FRONTDESK_SERVER__DATABASE_URL": self.database_url,
            "FRONTDESK_SERVER__CALL_TOKEN_SECRET": SECRET,
            **self.env_extra,
        }
        self.starts += 1
        self.log_path = self.data_dir.parent / f"server-{self.port}-{self.starts}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        frontdesk = Path(sys.executable).parent / "frontdesk"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(frontdesk), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited during start-up:\n{self.log()[-3000:]}")
            try:
                status = httpx.get(f"{self.url}/healthz", timeout=2).status_code
                if status == 200 or not models:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start in {START_TIMEOUT_S} s:\n{self.log()[-3000:]}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout_s: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout_s)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@contextmanager
def running(server: ServerProcess, *, models: bool = True) -> Iterator[ServerProcess]:
    server.start(models=models)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def database(url: str) -> Iterator[Session]:
    """A session on the server's database, read from the test process."""
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def teller_headers(server: ServerProcess, username: str = "teller") -> dict[str, str]:
    """Create a teller in the server's database and log in: the Bearer header to use."""
    with database(server.database_url) as session:
        create_user(session, username, "teller", PASSWORD)
    r = httpx.post(f"{server.url}/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {session_token(r)}"}


def queue(url: str) -> list[dict[str, Any]]:
    """The open teller queue, in queue order, each with its full case."""
    with database(url) as session:
        items = list_queue(session, {})
        return [{**i, "case": case_detail(session, i["case_id"])["case"]} for i in items]


def stream(ws: Any, pcm: bytes, *, realtime: bool = False) -> None:
    """Send PCM in 20 ms frames (paced like a microphone when ``realtime``)."""
    t0 = time.monotonic()
    for i, offset in enumerate(range(0, len(pcm), CHUNK)):
        ws.send(pcm[offset : offset + CHUNK])
        if realtime:
            delay = t0 + (i + 1) * 0.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def recv_until(ws: Any, kinds: set[str]) -> list[dict[str, Any]]:
    """Events up to and including the first of ``kinds``."""
    events: list[dict[str, Any]] = []
    while True:
        event = json.loads(ws.recv(timeout=EVENT_TIMEOUT_S))
        events.append(event)
        if event["type"] in kinds:
            return events
