"""The transcript guards on the text they judge (no model needed).

The loop and prompt-run cases are the two guard failures seen on real
Shanghainese speech (speech-notes.md, "Measured later"): the prompt echoed
as ``…普通话对话对话对话…`` and a one-character loop ``载载载…``. Each case
goes through :func:`judge`, the function the engine applies to every
transcript, with confidences that would otherwise pass, and with Whisper's
compression ratio computed as faster-whisper does (zlib over UTF-8), which
these short loops stay under.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from voice_agent.asr import AsrResult
from voice_agent.asr_guards import (
    MAX_COMPRESSION_RATIO,
    is_loop,
    is_prompt_echo,
    judge,
    repeated_runs,
)
from voice_agent.settings import BANKING_PROMPT, AsrSettings

SETTINGS = AsrSettings()
AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"
SCRIPTS = [
    json.loads(line)["script"]
    for line in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()
    if json.loads(line)["kind"] == "speech"
]
# Confident, clearly speech: only the content can make these unclear.
GOOD_LOGPROB = -0.15
GOOD_NO_SPEECH = 0.01


def compression_ratio(text: str) -> float:
    """faster-whisper's get_compression_ratio."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data))


def verdict(text: str) -> str | None:
    return judge(text, GOOD_LOGPROB, GOOD_NO_SPEECH, compression_ratio(text), SETTINGS)


@pytest.mark.parametrize(
    "text",
    [
        "我在上海话普通话对话对话对话对话对话",  # the run seen on Wu speech, short prefix
        "这是对话对话对话",
        "阿拉要转账转账转账",
        "余额，余额，余额，余额",
    ],
)
def test_a_run_of_one_prompt_term_is_a_prompt_echo(text: str) -> None:
    assert compression_ratio(text) <= MAX_COMPRESSION_RATIO  # the old guard let it through
    assert is_prompt_echo(text, BANKING_PROMPT)
    assert verdict(text) == "prompt_echo"


@pytest.mark.parametrize(
    "text",
    [
        "载载载载载载",
        "我要载载载载载载载载",
        "侬好，辣辣辣辣辣辣辣",
        "请问请问请问请问",
        "阿拉今朝去去去去去去",
        "卡号00000000000",
    ],
)
def test_short_loops_are_repetition(text: str) -> None:
    assert compression_ratio(text) <= MAX_COMPRESSION_RATIO  # the old guard let it through
    assert is_loop(text)
    assert verdict(text) == "repetition"


def test_a_long_loop_is_still_caught_by_the_compression_ratio() -> None:
    text = "载" * 40
    assert compression_ratio(text) > MAX_COMPRESSION_RATIO
    assert verdict(text) == "repetition"


@pytest.mark.parametrize(
    "text",
    [
        "对对对，我要转账",
        "谢谢谢谢，帮我查一下余额",
        "好好好，就转五千",
        "卡号尾号5555",
        "转账给我女儿，转账五千块",  # a term twice is a sentence, not a run
        "我想查查查一下余额",  # a stammer
        "妈妈的卡丢了",
    ],
)
def test_real_speech_with_repeats_passes(text: str) -> None:
    assert not is_loop(text)
    assert verdict(text) is None


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_fixture_script_passes_the_guards(script: str) -> None:
    assert verdict(script) is None


def test_repeated_runs_reports_units_once() -> None:
    runs = dict(repeated_runs("普通话对话对话对话"))
    assert runs["对话"] == 3
    assert "对话对话" not in runs  # a repetition of 对话, not a unit of its own


def test_the_engine_marks_a_looping_decode_unclear() -> None:
    """The guard runs inside the engine's result building, on the joined segment text."""
    from types import SimpleNamespace

    from voice_agent.asr import WhisperEngine

    engine = WhisperEngine.__new__(WhisperEngine)  # no model: only _result is exercised
    engine._settings = SETTINGS
    text = "阿拉想载载载载载载载"
    raw = [
        SimpleNamespace(
            start=0.0,
            end=2.0,
            text=text,
            tokens=list(range(12)),
            avg_logprob=GOOD_LOGPROB,
            no_speech_prob=GOOD_NO_SPEECH,
            compression_ratio=compression_ratio(text),
        )
    ]
    result = engine._result(raw, 10, {})
    assert isinstance(result, AsrResult)
    assert result.unclear
    assert result.reason == "repetition"
    assert result.text == text  # kept for the teller, never dropped
