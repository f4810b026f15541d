"""Run the app under uvicorn with a draining shutdown (issue 10).

On SIGTERM (or Ctrl-C) uvicorn would close every WebSocket at once. This
server first drains the call desk (server.call_desk): while the listener is
still open, new calls get a ``shutting_down`` error event instead of a
refused connection, calls in progress finish their turn, are saved as
``interrupted`` and told a teller will call back; then the normal
shutdown runs and the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("server")


class DrainingServer(uvicorn.Server):
    """``uvicorn.Server`` that drains live calls before closing connections."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, drain_s: float) -> None:
        super().__init__(config)
        self._app = app
        self._drain_s = drain_s
        self._loop: asyncio.AbstractEventLoop | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Refuse new calls from the moment the signal arrives, not a loop tick later."""
        desk = getattr(self._app.state, "call_desk", None)
        if desk is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(desk.draining.set)
        super().handle_exit(sig, frame)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's serve, remembering the loop for :meth:`handle_exit`."""
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Drain the calls, then uvicorn's own shutdown."""
        desk = getattr(self._app.state, "call_desk", None)
        if desk is not None and not self.force_exit:
            log.info("draining live calls (up to %.0f s)", self._drain_s)
            await desk.drain(self._drain_s)
        await super().shutdown(sockets)


def run(app: FastAPI, host: str, port: int, *, drain_s: float) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM/SIGINT, draining live calls.

    Front Desk's own loggers go to stderr with their level (an ``ERROR``
    line is what monitoring alerts on), unless logging is configured already.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s:  %(name)s: %(message)s")
    logging.getLogger("server").setLevel(logging.INFO)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="info", timeout_graceful_shutdown=10
    )
    DrainingServer(config, app, drain_s).run()
