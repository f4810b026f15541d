"""Run the real app under uvicorn in a thread, on a port bound beforehand.

One helper for every test that needs a real socket (WebSocket calls, the
event stream, the browser): binding 127.0.0.1:0 before the thread starts
makes the port ours, as test-recipes.md advises.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL and the app (for its state and database)."""

    url: str
    app: FastAPI

    @property
    def ws_url(self) -> str:
        """The base URL with the WebSocket scheme."""
        return "ws" + self.url.removeprefix("http")


@contextmanager
def serve(app: FastAPI, *, start_timeout_s: float = 120.0) -> Iterator[LiveServer]:
    """Run ``app`` until the block ends; its lifespan has run when this yields."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server under test exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server under test did not start in {start_timeout_s} s")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
