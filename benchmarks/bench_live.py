"""Live calls under load: N simulated callers streaming in real time.

The server (create_app + uvicorn, one shared FrontDesk and Whisper) runs in
this process; the callers run in a child process (so their pacing does not
share the server's GIL), each streaming committed fixtures from
tests/data/audio as 20 ms PCM frames at real-time pace over loopback, one
call after another. For every call we record, on the caller's clock:

* end of speech → transcript event (VAD silence + queueing + ASR),
* end of speech → the reply (prompt / confirm / case),
* end of speech → case, for the calls whose first turn hands over.

"Falling behind" means the server cannot keep up with speech arriving in
real time: latency then grows from one call to the next (the ASR queue
builds up) instead of staying flat. We compare each caller's first and last
calls, and count turns that ASR gave up on (decode timeout → unclear).

Usage::

    .venv/bin/python benchmarks/bench_live.py [--callers 1 2 4 8] [--calls 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AUDIO = ROOT / "tests" / "data" / "audio"
CHUNK = 640  # 20 ms of 16 kHz s16le
TAIL_SILENCE_S = 1.5
#: The call-token secret the benchmark's server is given and its callers sign with.
BENCH_SECRET = "bench-live-call-token-secret-0123456789"
#: Intents whose first turn ends in a case (no form to fill in the catalog).
HANDOVER_AT_ONCE = frozenset(
    {
        "balance_inquiry",
        "transaction_history",
        "pension_inquiry",
        "mobile_banking_help",
        "speak_to_teller",
    }
)


def _fixtures() -> list[dict[str, Any]]:
    labels = [json.loads(x) for x in (AUDIO / "fixtures.jsonl").read_text().splitlines()]
    return [x for x in labels if x["kind"] == "speech"]


# -- the callers (child process) ----------------------------------------------


def _pcm(label: dict[str, Any]) -> bytes:
    import numpy as np

    from voice_agent.audio import decode_audio

    audio = decode_audio(AUDIO / label["file"], max_seconds=60)
    return (np.clip(audio.samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _token(customer_id: str) -> str:
    """A call token for the benchmark's server (its secret is ``BENCH_SECRET``)."""
    from server.call_tokens import mint

    value, _ = mint(BENCH_SECRET.encode(), customer_id, None, 3600, ())
    return value


async def _one_call(url: str, label: dict[str, Any], pcm: bytes, caller: str) -> dict[str, Any]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    out: dict[str, Any] = {"file": label["file"], "expected": label["intent"]}
    async with connect(url, open_timeout=30, max_size=None) as ws:
        await ws.send(json.dumps({"token": _token(caller)}))
        json.loads(await ws.recv())  # greeting
        audio = pcm + bytes(int(16_000 * TAIL_SILENCE_S) * 2)
        speech_end_chunk = int(label["speech_end_s"] * 16_000 * 2) // CHUNK
        events: list[tuple[float, dict[str, Any]]] = []

        async def reader() -> None:
            try:
                async for message in ws:
                    events.append((time.monotonic(), json.loads(message)))
            except ConnectionClosed:
                pass

        read_task = asyncio.create_task(reader())
        t0 = time.monotonic()
        end_of_speech = t0
        lateness: list[float] = []
        for i, offset in enumerate(range(0, len(audio), CHUNK)):
            due = t0 + i * 0.02
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            else:
                lateness.append(now - due)
            try:
                await ws.send(audio[offset : offset + CHUNK])
            except ConnectionClosed:
                break  # handed over: the server closed the call
            if i == speech_end_chunk:
                end_of_speech = time.monotonic()
        # Wait for the reply to the turn (or give up after 30 s), then hang up.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(e["type"] in ("prompt", "confirm", "case") for _, e in events):
                break
            await asyncio.sleep(0.02)
        await ws.close()
        read_task.cancel()
    for t, e in events:
        if e["type"] == "transcript" and "transcript_s" not in out:
            out["transcript_s"] = t - end_of_speech
            out["unclear"] = e["unclear"]
        elif e["type"] in ("prompt", "confirm", "case") and "reply_s" not in out:
            out["reply_s"] = t - end_of_speech
            out["reply"] = e["type"]
            if e["type"] == "case":
                out["case_s"] = t - end_of_speech
                out["intent"] = e["case"]["intent"]["code"]
    out["send_lag_max_s"] = max(lateness, default=0.0)
    return out


async def _caller(
    url: str, idx: int, calls: int, clips: list[tuple[dict[str, Any], bytes]]
) -> list[dict[str, Any]]:
    results = []
    for k in range(calls):
        label, pcm = clips[(idx * calls + k) % len(clips)]
        r = await _one_call(url, label, pcm, f"bench-{idx}-{k}")
        r.update(caller=idx, call=k)
        results.append(r)
    return results


def client_main(url: str, n: int, calls: int) -> None:
    """Run ``n`` concurrent callers, each making ``calls`` calls; print JSON."""
    labels = _fixtures()
    # A fixed mix, so every N (one caller too) sees requests that hand over
    # at once (→ case) alternating with ones that ask for more (→ prompt).
    random.Random(0).shuffle(labels)
    at_once = [x for x in labels if x["fraud"] or x["intent"] in HANDOVER_AT_ONCE]
    others = [x for x in labels if x not in at_once]
    labels = [x for pair in zip(at_once, others, strict=False) for x in pair]
    labels += at_once[len(others) :] + others[len(at_once) :]
    clips = [(label, _pcm(label)) for label in labels]

    async def run() -> list[dict[str, Any]]:
        per = await asyncio.gather(*(_caller(url, i, calls, clips) for i in range(n)))
        return [r for rs in per for r in rs]

    print(json.dumps(asyncio.run(run()), ensure_ascii=False))


# -- the server and the report (parent process) -------------------------------


def _start_server(data_dir: Path) -> tuple[str, Any]:
    import uvicorn
    from loguru import logger

    from server.app import create_app
    from voice_agent.service import build_frontdesk
    from voice_agent.settings import ServerSettings, Settings

    logger.remove()
    logger.add(sys.stderr, level="ERROR")  # pipecat logs every frame event at DEBUG
    # Admission control off (max_calls far above N): this measures what the
    # decoder keeps up with, which is how server.max_calls is sized.
    server_settings = ServerSettings(
        call_token_secret=BENCH_SECRET, max_calls=1000, ws_per_ip_per_minute=100_000
    )
    settings = Settings(data_dir=data_dir, server=server_settings)
    t0 = time.perf_counter()
    frontdesk = build_frontdesk(settings)
    print(f"FrontDesk loaded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    app = create_app(settings, frontdesk=frontdesk)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"ws://127.0.0.1:{port}/ws/call", server


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summarise(n: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Latency percentiles and whether the server kept up with ``n`` callers."""
    transcript = [r["transcript_s"] for r in results if "transcript_s" in r]
    reply = [r["reply_s"] for r in results if "reply_s" in r]
    case = [r["case_s"] for r in results if "case_s" in r]
    first = [r["reply_s"] for r in results if r["call"] == 0 and "reply_s" in r]
    last_call = max(r["call"] for r in results)
    last = [r["reply_s"] for r in results if r["call"] == last_call and "reply_s" in r]
    unclear = sum(1 for r in results if r.get("unclear"))
    missing = sum(1 for r in results if "reply_s" not in r)
    growth = statistics.median(last) - statistics.median(first) if first and last else 0.0
    return {
        "callers": n,
        "calls": len(results),
        "transcript_p50": _pct(transcript, 0.5),
        "transcript_p95": _pct(transcript, 0.95),
        "reply_p50": _pct(reply, 0.5),
        "reply_p95": _pct(reply, 0.95),
        "case_p50": _pct(case, 0.5),
        "case_p95": _pct(case, 0.95),
        "cases": len(case),
        "lag_growth_s": growth,
        "unclear_turns": unclear,
        "no_reply": missing,
        "load": os.getloadavg()[0],
    }


def keeps_up(row: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """Whether N callers are served about as well as one.

    Every turn answered, no turn lost to an ASR timeout (unclear), and the
    median reply no more than 1.5 times the single caller's: beyond that the
    ASR queue, not the speech, sets the pace. Absolute seconds are not the
    criterion because the shared machine's load moves them.
    """
    return (
        row["no_reply"] == 0
        and row["unclear_turns"] <= baseline["unclear_turns"] * row["calls"] / baseline["calls"]
        and row["reply_p50"] <= 1.5 * baseline["reply_p50"]
    )


def machine_facts() -> str:
    """CPU, cores and load, so figures are read against the machine that made them."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load[0]:.1f} at start"
    )


def main() -> int:
    """Run the benchmark for each N and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--calls", type=int, default=4, help="calls per caller, in sequence")
    parser.add_argument("--client", nargs=3, metavar=("URL", "N", "CALLS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client[0], int(args.client[1]), int(args.client[2]))
        return 0

    facts = machine_facts()
    url, _server = _start_server(Path(tempfile.mkdtemp(prefix="bench-live-")))
    rows: list[dict[str, Any]] = []
    for n in args.callers:
        proc = subprocess.run(
            [sys.executable, __file__, "--client", url, str(n), str(args.calls)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        results = json.loads(proc.stdout.strip().splitlines()[-1])
        for r in results:
            print(json.dumps(r, ensure_ascii=False), file=sys.stderr)
        row = summarise(n, results)
        row["kept_up"] = keeps_up(row, rows[0] if rows else row)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr)

    print(f"Machine: {facts}. {args.calls} calls per caller, fixtures at real-time pace.\n")
    print(
        "| callers | calls | EoS→transcript p50/p95 s | EoS→reply p50/p95 s "
        "| EoS→case p50/p95 s (n) | lag growth s | unclear | load avg | kept up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['callers']} | {r['calls']} | {r['transcript_p50']:.2f} / "
            f"{r['transcript_p95']:.2f} | {r['reply_p50']:.2f} / {r['reply_p95']:.2f} | "
            f"{r['case_p50']:.2f} / {r['case_p95']:.2f} ({r['cases']}) | "
            f"{r['lag_growth_s']:+.2f} | {r['unclear_turns']} | {r['load']:.1f} | "
            f"{'yes' if r['kept_up'] else 'no'} |"
        )
    kept = [r["callers"] for r in rows if r["kept_up"]]
    print(f"\nLargest N kept up with (baseline N={rows[0]['callers']}): {max(kept)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
