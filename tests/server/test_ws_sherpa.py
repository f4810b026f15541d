"""A sherpa-onnx Wu recogniser plugged into the real server by configuration alone (issue 9 item 5).

``frontdesk serve`` in a child process with only two environment variables
(``FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE_KIND`` and ``…__SECOND_ENGINE``)
pointing at a tiny WeNet CTC export built by the test
(tests/voice_agent/tiny_wenet.py: random weights plus a fixed bias that
spells a Wu balance request). A Cantonese stand-in caller (espeak-ng ``yue``,
which Whisper base cannot read) is then understood through the second engine
instead of being handed over blind; with a corrupt model the server still
starts, logs why, and the same caller gets the dialect hand-over.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.sync.client import connect

from tests.server.server_process import ServerProcess, queue, recv_until, running, stream, token

from ..voice_agent.speech_standins import CANTONESE, espeak, have_espeak
from ..voice_agent.tiny_wenet import WU_SCRIPT, build_wenet_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng"),
]

ENGINE = "sherpa-onnx-wenet:wu-tiny"


def _server(tmp_path: Path, model: Path) -> tuple[ServerProcess, str]:
    url = f"sqlite:///{tmp_path / 'frontdesk.db'}"
    env = {
        "FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE_KIND": "sherpa-onnx-wenet",
        "FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE": str(model),
    }
    return ServerProcess(tmp_path / "data", url, env_extra=env), url


def _call_one_turn(server: ServerProcess) -> list[dict[str, Any]]:
    """Greeting, one Cantonese turn (then the microphone's silence), the answer; hang up."""
    samples = espeak(CANTONESE[0], "yue")
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes() + bytes(3 * 32000)
    with connect(server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"token": token("demo-elderly-01")}))
        events = recv_until(ws, {"prompt"})  # the greeting
        stream(ws, pcm)
        events += recv_until(ws, {"prompt", "case"})
    return events


def _stored_case(url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while not (items := queue(url)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(items) == 1, items
    return dict(items[0]["case"])


def test_a_dialect_caller_is_understood_through_the_configured_sherpa_engine(
    tmp_path: Path,
) -> None:
    model = build_wenet_dir(tmp_path / "wu-tiny", sorted(set(WU_SCRIPT)), script=WU_SCRIPT)
    server, url = _server(tmp_path, model)
    with running(server):
        events = _call_one_turn(server)
        last = events[-1]
        # Understood: the call goes on (or ends) without the blind dialect hand-over.
        assert last.get("reason") != "dialect_speech", events
        case = _stored_case(url)
    turn = case["transcript"][0]
    assert turn["engine"] == ENGINE, case["transcript"]
    assert turn["text"].startswith("阿拉要查")
    assert "多少钱" in turn["normalized_text"]
    assert case["intent"]["code"] == "balance_inquiry"
    assert case["dialect"]["source"] == "speech"  # still a Shanghainese teller's case
    assert "second engine" not in server.log()


def test_a_corrupt_sherpa_model_is_logged_and_the_caller_is_handed_over(tmp_path: Path) -> None:
    model = build_wenet_dir(tmp_path / "wu-tiny", sorted(set(WU_SCRIPT)), script=WU_SCRIPT)
    data = (model / "model.onnx").read_bytes()
    (model / "model.onnx").write_bytes(data[: len(data) // 3])
    server, url = _server(tmp_path, model)
    with running(server):
        log = server.log()
        assert "second engine" in log and "did not load" in log and "Protobuf parsing" in log
        events = _call_one_turn(server)
        assert events[-1]["type"] == "case" and events[-1]["reason"] == "dialect_speech", events
        case = _stored_case(url)
    assert case["handoff_reason"] == "dialect_speech"
    assert all("engine" not in t for t in case["transcript"])
