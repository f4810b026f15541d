"""Dialect from the audio (issue 9): the judgement's gates, then real Whisper on stand-ins.

The stand-ins are made here (tests/voice_agent/speech_standins.py): espeak-ng's
Cantonese voice for "Chinese the recogniser cannot read", the Mandarin
fixtures degraded (8 kHz line, noise, fast, quiet, whispered) for "unclear
Mandarin that must not trip it". What they do and do not show is in
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from dialects.normaliser import DialectNormaliser
from voice_agent.recording import decode_opus, encode_opus
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings, SpeechDialectSettings
from voice_agent.speech_dialect import judge_speech

from .speech_standins import (
    CANTONESE,
    DEGRADATIONS,
    SAMPLE_RATE,
    espeak,
    have_espeak,
    mandarin_fixtures,
)

NOT_ZH = {"zh": 0.05, "th": 0.6, "ja": 0.2}
ZH = {"zh": 0.99, "ja": 0.005}


# -- the gates (no model) ------------------------------------------------------


def test_unreadable_speech_that_does_not_sound_mandarin_is_dialect() -> None:
    d = judge_speech(
        language_probs=NOT_ZH, avg_logprob=-0.8, no_speech_prob=0.02, unclear_reason="repetition"
    )
    assert d.is_dialect and d.code == "shanghainese" and d.source == "speech"
    assert 0.6 <= d.confidence <= 0.99
    assert d.to_json()["source"] == "speech" and d.to_json()["top_language"] == "th"


@pytest.mark.parametrize("reason", [None, "no_speech", "empty"])
def test_readable_or_empty_turns_are_never_dialect(reason: str | None) -> None:
    d = judge_speech(
        language_probs=NOT_ZH, avg_logprob=-0.8, no_speech_prob=0.02, unclear_reason=reason
    )
    assert not d.is_dialect and d.code == "mandarin"


def test_unclear_mandarin_is_not_dialect() -> None:
    # 8 kHz Mandarin is as unclear as Wu: only the language ID tells them apart.
    d = judge_speech(
        language_probs=ZH, avg_logprob=-1.2, no_speech_prob=0.02, unclear_reason="low_confidence"
    )
    assert not d.is_dialect and d.evidence["gate"] == "sounds_mandarin"


def test_a_timed_out_decode_is_judged_by_its_language_id() -> None:
    # A loop on unreadable speech can run into the decode timeout on a busy machine.
    args = {"avg_logprob": -10.0, "no_speech_prob": 1.0, "unclear_reason": "timeout"}
    assert judge_speech(language_probs=NOT_ZH, **args).is_dialect  # type: ignore[arg-type]
    assert not judge_speech(language_probs=ZH, **args).is_dialect  # type: ignore[arg-type]


def test_noise_and_missing_language_id_are_not_dialect() -> None:
    noise = judge_speech(
        language_probs=NOT_ZH, avg_logprob=-1.0, no_speech_prob=0.8, unclear_reason="repetition"
    )
    assert not noise.is_dialect and noise.evidence["gate"] == "not_speech"
    blind = judge_speech(
        language_probs={}, avg_logprob=-1.0, no_speech_prob=0.0, unclear_reason="repetition"
    )
    assert not blind.is_dialect


def test_wu_words_in_the_unreadable_text_add_confidence() -> None:
    args = {"language_probs": {"zh": 0.6}, "avg_logprob": -0.4, "no_speech_prob": 0.01}
    plain = judge_speech(unclear_reason="low_confidence", **args)  # type: ignore[arg-type]
    wu = DialectNormaliser.load().normalise("阿拉要几钿")
    assert wu.markers
    with_wu = judge_speech(
        unclear_reason="low_confidence",
        text_dialect=wu,
        **args,  # type: ignore[arg-type]
    )
    assert with_wu.confidence > plain.confidence


def test_disabled_and_configured_code() -> None:
    off = judge_speech(
        language_probs=NOT_ZH,
        avg_logprob=-0.8,
        no_speech_prob=0.0,
        unclear_reason="repetition",
        settings=SpeechDialectSettings(enabled=False),
    )
    assert not off.is_dialect
    wu = judge_speech(
        language_probs=NOT_ZH,
        avg_logprob=-0.8,
        no_speech_prob=0.0,
        unclear_reason="repetition",
        settings=SpeechDialectSettings(code="wu"),
    )
    assert wu.code == "wu"


def test_opus_round_trip_keeps_the_turn() -> None:
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    data = encode_opus(tone)
    assert data[:4] == b"OggS" and len(data) < 2 * 6000  # ~24 kbit/s, not 64 kB of PCM
    back = decode_opus(data)
    assert abs(len(back) - len(tone)) < 0.05 * SAMPLE_RATE
    assert 0.15 < float(np.sqrt(np.mean(back**2))) < 0.3


# -- real Whisper on stand-ins --------------------------------------------------

slow = pytest.mark.slow
needs_espeak = pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    return build_frontdesk(Settings(data_dir=tmp_path_factory.mktemp("dialect")), load_asr=True)


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return path


@slow
@needs_espeak
def test_cantonese_stand_in_turns_are_judged_dialect_speech(desk: FrontDesk) -> None:
    judged = [
        desk.transcribe_span(espeak(text, "yue"), 0.0, 1.0).speech_dialect for text in CANTONESE[:6]
    ]
    hits = [d for d in judged if d is not None and d.is_dialect]
    assert len(hits) >= 5, [d.evidence if d else None for d in judged]
    assert all(d.p_zh is not None and d.p_zh < 0.9 for d in hits)


@slow
def test_degraded_mandarin_is_never_judged_dialect_speech(desk: FrontDesk) -> None:
    fixtures = mandarin_fixtures()[::5]  # 5 clips, every intent family
    alarms = []
    for name, degrade in DEGRADATIONS.items():
        if name == "clean":
            continue
        for file, samples, _script in fixtures:
            seg = desk.transcribe_span(degrade(samples), 0.0, 1.0)
            if seg.speech_dialect is not None and seg.speech_dialect.is_dialect:
                alarms.append((file, name, seg.text, seg.speech_dialect.evidence))
    assert not alarms


@slow
@needs_espeak
def test_handle_marks_a_dialect_recording_and_keeps_each_turn_audio(
    desk: FrontDesk, tmp_path: Path
) -> None:
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    # The fraud sentence: a made-up alarm from unreadable words must not appear.
    speech = np.concatenate([espeak(CANTONESE[10], "yue"), gap, espeak(CANTONESE[1], "yue")])
    case = desk.handle_audio(_write_wav(tmp_path / "yue.wav", speech), customer_id="c1")
    out = case.to_json()
    assert out["handoff_reason"] == "dialect_speech"
    assert out["dialect"]["source"] == "speech"
    assert out["dialect"]["code"] == "shanghainese"
    assert out["intent"]["confidence"] <= 0.3
    assert not [f for f in out["risk"]["flags"] if f["category"] == "fraud"]
    assert "上海话" in out["summary"] or "方言" in out["summary"]
    assert all(seg["has_audio"] for seg in out["transcript"])
    first = case.transcript[0]
    assert first.audio is not None
    back = decode_opus(first.audio)
    assert abs(len(back) / SAMPLE_RATE - (first.end - first.start)) < 0.1


@slow
def test_handle_keeps_mandarin_recordings_as_they_were(desk: FrontDesk) -> None:
    audio = Path(__file__).resolve().parents[1] / "data" / "audio"
    case = desk.handle_audio(audio / "transfer_12k.wav")  # an 8 kHz phone recording
    out = case.to_json()
    assert out["handoff_reason"] == "recording"
    assert out["dialect"]["source"] == "text"
    assert out["intent"]["code"] == "transfer"


@slow
@needs_espeak
def test_a_decode_that_times_out_is_still_judged_by_language_id(
    desk: FrontDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On an overloaded machine a loop on unreadable speech hits the timeout.
    monkeypatch.setattr(desk.settings.asr, "decode_timeout_s", 0.01)
    seg = desk.transcribe_span(espeak(CANTONESE[0], "yue"), 0.0, 1.0)
    assert seg.unclear and seg.text == ""
    assert seg.speech_dialect is not None and seg.speech_dialect.is_dialect
    mandarin = mandarin_fixtures()[0][1]
    seg = desk.transcribe_span(mandarin, 0.0, 1.0)
    assert seg.speech_dialect is not None and not seg.speech_dialect.is_dialect
