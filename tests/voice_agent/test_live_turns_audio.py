"""Turn-taking on real audio: Silero VAD, the real engine, slow and fluent speakers.

Slow requests (tests/voice_agent/slow_speech.py: fixture phrases with
0.8–1.5 s pauses) must come out as one turn each; a fluent complete request
must end after the short pause. The audio is fed as fast as the pipeline
takes it: the end-of-turn decision is made on the audio clock and waits
for its guess, so pacing does not change it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import Frame, InputAudioRawFrame, TranscriptionFrame
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.tests.utils import run_test

from tests.voice_agent.slow_speech import build_slow_turns
from voice_agent.audio import decode_audio
from voice_agent.live.call import VadConfig
from voice_agent.live.stt import FrontDeskSTTService
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings

pytestmark = pytest.mark.slow

SR = 16_000
AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"
TAIL = np.zeros(int(2.6 * SR), dtype=np.float32)


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    return build_frontdesk(Settings(data_dir=tmp_path_factory.mktemp("data")))


def transcripts(frontdesk: FrontDesk, samples: np.ndarray) -> tuple[list[str], FrontDeskSTTService]:
    from pipecat.pipeline.pipeline import Pipeline

    live = VadConfig()
    stt = FrontDeskSTTService(
        frontdesk.transcribe_span,
        pause_secs=live.stop_secs,
        resume_secs=live.start_secs,
        policy=live.policy,
    )
    vad = VADProcessor(
        vad_analyzer=SileroVADAnalyzer(
            sample_rate=SR,
            params=VADParams(
                confidence=live.confidence,
                start_secs=live.start_secs,
                stop_secs=live.stop_secs,
                min_volume=live.min_volume,
            ),
        )
    )
    pcm = (np.clip(np.concatenate([samples, TAIL]), -1, 1) * 32767).astype("<i2").tobytes()
    frames: list[Frame] = [
        InputAudioRawFrame(audio=pcm[i : i + 640].ljust(640, b"\0"), sample_rate=SR, num_channels=1)
        for i in range(0, len(pcm), 640)
    ]
    down, _ = asyncio.run(run_test(Pipeline([vad, stt]), frames_to_send=frames))
    return [f.text for f in down if isinstance(f, TranscriptionFrame)], stt


SLOW = {t.name: t for t in build_slow_turns()}


@pytest.mark.parametrize(
    "name",
    ["transfer_50k_slow_A", "balance_slow_B", "transfer_30k_slow_C", "deposit_half_year_slow_B"],
)
def test_a_slow_pausing_request_is_one_turn(frontdesk: FrontDesk, name: str) -> None:
    turn = SLOW[name]
    assert min(turn.pauses_s) >= 0.8
    texts, stt = transcripts(frontdesk, turn.samples)
    assert len(texts) == 1, texts  # not cut after the first phrase
    assert stt.stats.speculations > 1  # guesses were made at the pauses...
    assert stt.stats.discarded >= 1  # ...and thrown away when the caller went on


def test_a_fluent_complete_request_ends_after_the_short_pause(frontdesk: FrontDesk) -> None:
    lab = next(
        json.loads(x)
        for x in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()
        if json.loads(x)["file"] == "pension.ogg"
    )
    texts, stt = transcripts(frontdesk, decode_audio(AUDIO / lab["file"], 60).samples)
    assert len(texts) == 1 and "养老金" in texts[0], texts
    ((silence, complete),) = stt.stats.ends
    assert complete
    assert silence < 0.8
