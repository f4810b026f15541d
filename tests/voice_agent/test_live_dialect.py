"""A live call whose first turn is dialect speech (issue 9): no "please repeat", a
slow hand-over sentence, and a case routed as ``dialect_speech`` with the turn's audio.

The turn is built as the STT service hands it over (a TranscriptSegment with
the judgement and the Opus audio); the rest is the real call session, the
real dialogue and the real case builder on a text-only Front Desk.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from voice_agent.case import Case, TranscriptSegment
from voice_agent.live.events import CaseEvent, LiveEvent, PromptEvent
from voice_agent.live.session import CallSession, CallStart, RecognisedTurn
from voice_agent.recording import encode_opus
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings
from voice_agent.speech_dialect import SpeechDialect


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    data: Path = tmp_path_factory.mktemp("live-dialect")
    return build_frontdesk(Settings(data_dir=data), load_asr=False)


def _turn(text: str, judged: SpeechDialect | None, unclear: bool) -> RecognisedTurn:
    tone = (0.2 * np.sin(np.arange(8000) / 16000 * 2 * np.pi * 200)).astype(np.float32)
    seg = TranscriptSegment(
        0.0, 0.5, text, text, unclear=unclear, speech_dialect=judged, audio=encode_opus(tone)
    )
    return RecognisedTurn(segment=seg, asr_ms=300)


def _call(desk: FrontDesk, *turns: RecognisedTurn) -> tuple[list[LiveEvent], list[Case]]:
    events: list[LiveEvent] = []
    saved: list[Case] = []

    async def send(event: LiveEvent) -> None:
        events.append(event)

    async def go() -> None:
        session = CallSession(desk, saved.append, send, CallStart("demo-elderly-01"))
        await session.open()
        for turn in turns:
            await session.on_turn(turn)

    asyncio.run(go())
    return events, saved


def test_first_dialect_turn_hands_over_to_a_dialect_teller(desk: FrontDesk) -> None:
    judged = SpeechDialect(True, "shanghainese", 0.85, 0.03, "th")
    # The recogniser's guess holds a fraud word and a transfer: neither may count.
    events, saved = _call(desk, _turn("安全账户转账五万", judged, unclear=True))
    prompts = [e for e in events if isinstance(e, PromptEvent)]
    assert [p.reason for p in prompts] == ["greeting"]  # never "please repeat"
    final = events[-1]
    assert isinstance(final, CaseEvent) and final.reason == "dialect_speech"
    assert "上海话" in final.text
    (case,) = saved
    out = case.to_json()
    assert out["handoff_reason"] == "dialect_speech"
    assert out["dialect"] == {
        "code": "shanghainese",
        "source": "speech",
        "confidence": 0.85,
        "markers": [],
        "p_zh": 0.03,
        "top_language": "th",
    }
    assert out["intent"]["confidence"] <= 0.3
    assert not out["risk"]["flags"]
    assert out["transcript"][0]["has_audio"] and case.transcript[0].audio


def test_unclear_mandarin_is_asked_again_not_handed_to_a_dialect_teller(
    desk: FrontDesk,
) -> None:
    mandarin = SpeechDialect(False, "mandarin", 0.0, 0.99, "zh")
    events, saved = _call(desk, _turn("我要转", mandarin, unclear=True))
    assert isinstance(events[-1], PromptEvent) and events[-1].reason == "unclear"
    assert not saved


def test_a_recording_that_cannot_be_encoded_never_loses_the_turn(
    desk: FrontDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(samples: np.ndarray, *, bitrate: int) -> bytes:
        raise RuntimeError("libopus missing")

    monkeypatch.setattr("voice_agent.service.encode_opus", broken)
    assert desk.record(np.zeros(1600, dtype=np.float32)) is None
    monkeypatch.undo()
    assert desk.record(np.zeros(1600, dtype=np.float32))  # and it works again
