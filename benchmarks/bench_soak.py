"""Soak: N concurrent simulated callers over loopback for a bounded time (issue 10).

The real server (``frontdesk serve``, a child process, SQLite in a temporary
data dir) takes calls from N callers in this process. Each caller loops
until the time is up, one call after another, each call a fresh customer
id, streaming committed recordings (tests/data/audio) at real-time pace:

* ``normal``: the whole sentence, then hangs up after the reply;
* ``hangup``: hangs up two thirds of the way through the sentence (mid-word);
* ``garbage``: a junk text frame, an odd-sized binary frame and 0.3 s of
  noise first, then the sentence, then hangs up after the reply.

A caller turned away ``busy`` (beyond ``server.max_calls``) books a callback,
so every call should end in the queue exactly once. Meanwhile the server's
RSS, open file descriptors and threads are sampled; at the end, after the
calls drain, nothing may be left in ``live_calls`` and the descriptors and
threads must be back where they were after warm-up.

Usage::

    .venv/bin/python benchmarks/bench_soak.py [--callers 20] [--seconds 180] [--max-calls 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import psutil  # noqa: E402
from machine import describe_machine  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidStatus  # noqa: E402

from server.db import LiveCallRow  # noqa: E402
from tests.server.server_process import (  # noqa: E402
    CHUNK,
    ServerProcess,
    database,
    pcm_of,
    token,
)

FIXTURES = ("balance", "card_loss", "transfer_50k", "pension", "teller", "history_month")
KINDS = ("normal", "hangup", "garbage")


async def _stream(ws: Any, pcm: bytes) -> None:
    t0 = time.monotonic()
    for i, offset in enumerate(range(0, len(pcm), CHUNK)):
        await ws.send(pcm[offset : offset + CHUNK])
        delay = t0 + (i + 1) * 0.02 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def _reply(ws: Any, timeout_s: float = 60.0) -> list[str]:
    """Event types until a reply (prompt/confirm/case) after a transcript, or close."""
    kinds: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            event = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        except (ConnectionClosed, TimeoutError):
            break
        kinds.append(event["type"])
        if event["type"] in ("prompt", "confirm", "case") and "transcript" in kinds:
            break
    return kinds


async def one_call(url: str, customer_id: str, kind: str, pcm: bytes) -> str:
    """One call; its outcome: ``answered``, ``handed_over`` (while still speaking),
    ``hung_up``, ``callback`` or ``failed``."""
    try:
        async with connect(url, open_timeout=30, max_size=None) as ws:
            await ws.send(json.dumps({"token": token(customer_id)}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if first["type"] == "busy":
                await ws.send(json.dumps({"callback": True}))
                await asyncio.wait_for(ws.wait_closed(), 30)
                return "callback"
            if kind == "hangup":
                await _stream(ws, pcm[: len(pcm) * 2 // 3])
                return "hung_up"
            if kind == "garbage":
                await ws.send("not a frame")
                await ws.send(b"\x01\x02\x03")
                noise = bytes(random.getrandbits(8) for _ in range(16_000 * 2 * 3 // 10))
                await _stream(ws, noise)
            await _stream(ws, pcm + bytes(16_000 * 2))
            kinds = await _reply(ws)
            return "answered" if "transcript" in kinds else "failed"
    except ConnectionClosedOK:
        return "handed_over"  # the server handed over (1000) while the caller still spoke
    except (OSError, ConnectionClosed, InvalidStatus, TimeoutError) as exc:
        print(f"  call {customer_id} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return "failed"


async def caller(url: str, n: int, until: float, pcms: dict[str, bytes]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    i = 0
    await asyncio.sleep(n * 0.37)  # callers do not all dial in the same 20 ms
    while time.monotonic() < until:
        kind = KINDS[(n + i) % len(KINDS)]
        fixture = FIXTURES[(n * 7 + i) % len(FIXTURES)]
        customer_id = f"soak-{n}-{i}"
        outcome = await one_call(url, customer_id, kind, pcms[fixture])
        calls.append({"customer_id": customer_id, "kind": kind, "outcome": outcome})
        i += 1
        # A caller told "busy" who booked a callback does not redial at once.
        await asyncio.sleep(5.0 if outcome == "callback" else 0.2)
    return calls


def _sample(proc: psutil.Process) -> dict[str, float]:
    return {
        "rss_mb": proc.memory_info().rss / 2**20,
        "fds": float(proc.num_fds()),
        "threads": float(proc.num_threads()),
    }


async def soak(
    server: ServerProcess, callers: int, seconds: float, max_calls: int
) -> dict[str, Any]:
    pcms = {name: pcm_of(name) for name in FIXTURES}
    assert server.proc is not None
    proc = psutil.Process(server.proc.pid)
    # Warm-up: two rounds of max_calls concurrent calls, so pools (threads,
    # database connections) and lazily built things exist before the baseline.
    for round_ in range(2):
        await asyncio.gather(
            *(
                one_call(server.ws_url, f"soak-warmup-{round_}-{k}", "normal", pcms["balance"])
                for k in range(max_calls)
            )
        )
    await asyncio.sleep(2)
    baseline = _sample(proc)
    samples: list[dict[str, float]] = []
    until = time.monotonic() + seconds
    load_before = os.getloadavg()[0]

    async def sampler() -> None:
        while time.monotonic() < until:
            samples.append(_sample(proc))
            await asyncio.sleep(2)

    sampling = asyncio.create_task(sampler())
    results = await asyncio.gather(*(caller(server.ws_url, n, until, pcms) for n in range(callers)))
    await sampling
    load_during = os.getloadavg()[0]
    calls = [c for per_caller in results for c in per_caller]
    # Hung-up calls finish in the background: wait until every case is stored.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with database(server.database_url) as session:
            live = session.query(LiveCallRow).count()
        if live == 0:
            break
        await asyncio.sleep(1)
    await asyncio.sleep(3)
    after = _sample(proc)
    with database(server.database_url) as session:
        from server.db import CaseRow

        rows = session.query(CaseRow.customer_id).all()
        live_left = session.query(LiveCallRow).count()
    per_customer = Counter(r[0] for r in rows)
    missing = [
        f"{c['customer_id']} ({c['kind']}, {c['outcome']})"
        for c in calls
        if per_customer[c["customer_id"]] == 0
    ]
    duplicated = [c["customer_id"] for c in calls if per_customer[c["customer_id"]] > 1]
    third = max(1, len(samples) // 3)
    rss_first = statistics.median(s["rss_mb"] for s in samples[:third])
    rss_last = statistics.median(s["rss_mb"] for s in samples[-third:])
    rss_middle = statistics.median(s["rss_mb"] for s in samples[third:-third] or samples)
    return {
        "callers": callers,
        "seconds": seconds,
        "calls": len(calls),
        "outcomes": dict(Counter(c["outcome"] for c in calls)),
        "kinds": dict(Counter(c["kind"] for c in calls)),
        "missing": missing,
        "duplicated": duplicated,
        "live_calls_left": live_left,
        "rss_mb": {"baseline": baseline["rss_mb"], "first_third": rss_first,
                   "middle_third": rss_middle, "last_third": rss_last, "after": after["rss_mb"],
                   "max": max(s["rss_mb"] for s in samples)},
        "fds": {"baseline": baseline["fds"], "max": max(s["fds"] for s in samples),
                "after": after["fds"]},
        "threads": {"baseline": baseline["threads"],
                    "max": max(s["threads"] for s in samples), "after": after["threads"]},
        "load_avg": {"before": load_before, "end": load_during},
    }  # fmt: skip


def run(callers: int, seconds: float, max_calls: int, data: Path | None = None) -> dict[str, Any]:
    """Start a server, soak it, stop it; the figures as a dict."""
    root = data or Path(tempfile.mkdtemp(prefix="frontdesk-soak-"))
    server = ServerProcess(
        root / "data",
        f"sqlite:///{root / 'frontdesk.db'}",
        env_extra={
            "FRONTDESK_SERVER__MAX_CALLS": str(max_calls),
            "FRONTDESK_SERVER__WS_PER_IP_PER_MINUTE": "100000",
            "FRONTDESK_SERVER__BUSY_REPLY_S": "10",
        },
    )
    server.start()
    try:
        return asyncio.run(soak(server, callers, seconds, max_calls))
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--max-calls", type=int, default=4)
    args = parser.parse_args()
    print(describe_machine())
    result = run(args.callers, args.seconds, args.max_calls)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = not result["missing"] and not result["duplicated"] and not result["live_calls_left"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
