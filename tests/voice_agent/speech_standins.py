"""Stand-in audio for the dialect-speech judgement, made here, not downloaded.

No Shanghainese recording can be fetched on these machines, so the tests and
``benchmarks/bench_dialect_speech.py`` build their sets from what Debian and
the repository have:

* dialect stand-ins (should be judged dialect speech): espeak-ng's ``yue``
  (Cantonese) voice reading Cantonese banking requests; the same voice
  reading the Shanghainese sentences of the text sets (Wu words in a
  non-Mandarin pronunciation); espeak-ng's ``hak`` (Hakka) voice reading
  romanised Hakka;
* look-alikes (must not be): the Mandarin fixtures in ``tests/data/audio``
  degraded as a phone line (8 kHz, 300–3400 Hz), noisy (5 dB SNR), fast
  (1.35×), quiet (−30 dB) and whispered (noise-excited LPC resynthesis:
  no voicing, the formants kept); and espeak-ng's robotic Mandarin
  (``cmn-latn-pinyin``), the control that separates "non-Mandarin" from
  "synthetic and strange".

What they do not show is said in benchmarks/RESULTS.md: none of this is a
Shanghainese speaker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from voice_agent.audio import decode_audio

SAMPLE_RATE = 16_000
AUDIO = Path(__file__).resolve().parents[1] / "data" / "audio"

#: Cantonese banking requests (what a Cantonese speaker would say).
CANTONESE = (
    "我想查下我張卡仲有幾多錢",
    "我要轉五萬蚊俾我個仔",
    "我張銀行卡唔見咗，要掛失",
    "我想開個一年嘅定期",
    "點樣用手機銀行轉數呀",
    "我想搵個真人同我講",
    "我想改我張卡嘅密碼",
    "我啲養老金幾時到呀",
    "我想將轉賬限額調高啲",
    "我本存摺爛咗，想補返本",
    "有個自稱警察嘅人叫我轉錢去安全賬戶",
    "我想睇下上個月用咗幾多錢",
)

#: Shanghainese sentences (Wu words), read by the Cantonese voice.
WU_TEXT = (
    "阿拉要汇五万块钞票拨阿拉儿子",
    "侬帮我看看卡里还有几钿",
    "阿拉张卡寻勿着了",
    "我想存一年定期，利息几钿",
    "覅搞了，我要寻人工",
    "伊讲是公安局个，叫我汇钞票",
    "阿拉退休工资到了伐",
    "我个密码忘记脱了",
)

#: Romanised Hakka (espeak-ng's hak voice cannot read characters).
HAKKA = (
    "ngai2 oi3 zon3 ng3 van5 kuai3 tshien2",
    "ngai2 ke3 ka1 m2 kien3 e3",
    "ngai2 siong3 tsha2 ha5 tshien2",
    "ngai2 oi3 tshim2 kui3 yen2",
)

#: Mandarin requests for espeak-ng's robotic Mandarin (the control).
MANDARIN = (
    "我想查一下卡里还有多少钱",
    "我要给我儿子转账五万块钱",
    "我的银行卡丢了，要挂失",
    "我想存一个一年的定期",
    "手机银行怎么转账",
    "我要找人工柜员",
    "我想改一下银行卡密码",
    "我的养老金什么时候到账",
)


@dataclass(frozen=True)
class Clip:
    """One labelled clip: 16 kHz mono float32 samples and what it stands for."""

    name: str
    samples: np.ndarray
    dialect: bool
    text: str = ""


def have_espeak() -> bool:
    """Whether espeak-ng is installed (apt package espeak-ng)."""
    return shutil.which("espeak-ng") is not None


def espeak(text: str, voice: str, speed: int = 150) -> np.ndarray:
    """Speak ``text`` with an espeak-ng voice; 16 kHz mono float32."""
    with tempfile.TemporaryDirectory() as tmp:
        # -w, not --stdout: a piped WAV header carries no length.
        path = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
            check=True,
            capture_output=True,
        )
        samples = decode_audio(path, max_seconds=60).samples
    return _pad(samples)


def _pad(samples: np.ndarray, lead_s: float = 0.3) -> np.ndarray:
    pad = np.zeros(int(lead_s * SAMPLE_RATE), dtype=np.float32)
    return np.concatenate([pad, samples.astype(np.float32), pad])


def _pinyin(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


def phone_line(x: np.ndarray) -> np.ndarray:
    """An 8 kHz telephone channel: 300–3400 Hz, resampled down and back up."""
    sos = signal.butter(6, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    narrow = signal.sosfilt(sos, x)
    down = signal.resample_poly(narrow, 1, 2)
    return signal.resample_poly(down, 2, 1).astype(np.float32)


def noisy(x: np.ndarray, snr_db: float = 5.0, seed: int = 7) -> np.ndarray:
    """Pink-ish noise at ``snr_db`` dB below the speech power."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(len(x))
    pink = signal.lfilter(
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
        white,
    )
    speech_power = float(np.mean(x[np.abs(x) > 0.01] ** 2)) if np.any(np.abs(x) > 0.01) else 1e-4
    pink *= np.sqrt(speech_power / (np.mean(pink**2) * 10 ** (snr_db / 10)))
    return np.clip(x + pink, -1, 1).astype(np.float32)


def fast(x: np.ndarray, factor: float = 1.35) -> np.ndarray:
    """Played ``factor`` times faster (pitch rises too, as on a sped-up tape)."""
    up, down = 20, round(20 * factor)
    return signal.resample_poly(x, up, down).astype(np.float32)


def quiet(x: np.ndarray, db: float = -30.0) -> np.ndarray:
    """``db`` dB quieter."""
    return (x * 10 ** (db / 20)).astype(np.float32)


def whispered(x: np.ndarray, order: int = 18, seed: int = 3) -> np.ndarray:
    """Noise-excited LPC resynthesis: the vocal tract kept, the voicing gone."""
    rng = np.random.default_rng(seed)
    frame, hop = 400, 200
    win = np.hanning(frame)
    out = np.zeros(len(x) + frame)
    for start in range(0, max(1, len(x) - frame), hop):
        seg = x[start : start + frame] * win
        energy = float(np.sqrt(np.mean(seg**2)))
        if energy < 1e-5:
            continue
        a = _lpc(seg, order)
        excitation = rng.standard_normal(frame)
        synth = signal.lfilter([1.0], a, excitation)
        synth *= energy / (np.sqrt(np.mean(synth**2)) + 1e-9)
        out[start : start + frame] += synth * win
    y = out[: len(x)]
    peak = float(np.max(np.abs(y))) or 1.0
    return (y / peak * min(0.5, float(np.max(np.abs(x))))).astype(np.float32)


def _lpc(seg: np.ndarray, order: int) -> np.ndarray:
    r = np.correlate(seg, seg, mode="full")[len(seg) - 1 : len(seg) + order]
    r[0] *= 1.0001
    from scipy.linalg import solve_toeplitz

    coef = solve_toeplitz(r[:order], -r[1 : order + 1])
    return np.concatenate([[1.0], coef])


DEGRADATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "clean": lambda x: x,
    "phone8k": phone_line,
    "noisy5db": noisy,
    "fast": fast,
    "quiet": quiet,
    "whispered": whispered,
}


def mandarin_fixtures(limit: int | None = None) -> list[tuple[str, np.ndarray, str]]:
    """The Mandarin speech fixtures (name, samples, script), Wu-text ones left out."""
    out = []
    for line in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines():
        lab = json.loads(line)
        if lab["kind"] != "speech" or lab["dialect"] != "mandarin":
            continue
        out.append((lab["file"], decode_audio(AUDIO / lab["file"], 60).samples, lab["script"]))
    return out[:limit] if limit else out


def stand_in_sets(mandarin_limit: int | None = None) -> Iterator[tuple[str, list[Clip]]]:
    """Every named set, dialect stand-ins first."""
    yield (
        "yue_cantonese",
        [Clip(f"yue{i}", espeak(t, "yue"), True, t) for i, t in enumerate(CANTONESE)],
    )
    yield (
        "yue_reads_wu_text",
        [Clip(f"yuewu{i}", espeak(t, "yue"), True, t) for i, t in enumerate(WU_TEXT)],
    )
    yield (
        "yue_cantonese_phone8k",
        [
            Clip(f"yue{i}-8k", phone_line(espeak(t, "yue")), True, t)
            for i, t in enumerate(CANTONESE)
        ],
    )
    yield "hak_hakka", [Clip(f"hak{i}", espeak(t, "hak"), True, t) for i, t in enumerate(HAKKA)]
    yield (
        "espeak_mandarin",
        [
            Clip(f"cmn{i}", espeak(_pinyin(t), "cmn-latn-pinyin"), False, t)
            for i, t in enumerate(MANDARIN)
        ],
    )
    fixtures = mandarin_fixtures(mandarin_limit)
    for name, degrade in DEGRADATIONS.items():
        yield (
            f"mandarin_{name}",
            [Clip(f"{f}-{name}", degrade(x), False, script) for f, x, script in fixtures],
        )
