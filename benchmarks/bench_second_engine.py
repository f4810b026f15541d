"""What the second engine costs per dialect turn: CTranslate2 Whisper vs sherpa-onnx WeNet CTC.

No Wu model can be downloaded here, so each kind is measured on a stand-in of
the right size and architecture, on the same dialect turns in one run
(espeak-ng ``yue`` reading the Cantonese and Wu sentences of
tests/voice_agent/speech_standins.py, the turns the desk judges dialect):

* ``ctranslate2-whisper``: the bundled Whisper base (int8) plugged in as the
  second engine: the cost of a base-size Whisper fine-tune (Whisper-medium-Wu
  would cost several times more). Its decode length, and so its cost, depends
  on what it outputs on this audio.
* ``sherpa-onnx-wenet``: a randomly initialised WeNet-size CTC model built
  here (tests/voice_agent/tiny_wenet.py: WeNet's conv 4x subsampling, 12
  transformer layers of width 512, 8 heads, FFN 2048, 5538 outputs, the
  WenetSpeech U2++ sizes, without the conformer's convolution modules, so a
  lower bound), exported fp32 and quantised int8 as WeNet's own export script
  does. A CTC decode is one forward pass whatever the weights, so random
  weights cost what trained ones do.

Each turn is run through ``FrontDesk.transcribe_span`` (Whisper, the dialect
judgement, the Opus recording, then the re-read) with no second engine and
with each engine, in rotating order; the second engine's own decode time is
taken from its result.

Usage::

    .venv/bin/python benchmarks/bench_second_engine.py [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import describe_machine, percentile  # noqa: E402

from models.whisper_assets import resolve_asr_model  # noqa: E402
from tests.voice_agent.speech_standins import CANTONESE, WU_TEXT, espeak  # noqa: E402
from tests.voice_agent.tiny_wenet import build_wenet_dir  # noqa: E402
from voice_agent.asr import AsrEngine  # noqa: E402
from voice_agent.second_engine import load_second_engine  # noqa: E402
from voice_agent.service import FrontDesk, build_frontdesk  # noqa: E402
from voice_agent.settings import Settings, SpeechDialectSettings  # noqa: E402

#: WenetSpeech U2++ conformer sizes (output 512, 12 blocks, 8 heads, FFN 2048).
WENET_WIDTH, WENET_LAYERS, WENET_VOCAB = 512, 12, 5538


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def wenet_dirs(root: Path) -> dict[str, Path]:
    """A WeNet-size random CTC export, fp32 and int8, each in its own directory."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    symbols = [chr(0x4E00 + i) for i in range(WENET_VOCAB - 3)]
    fp32 = build_wenet_dir(
        root / "wenet-size-fp32", symbols, width=WENET_WIDTH, layers=WENET_LAYERS
    )
    int8 = root / "wenet-size-int8"
    int8.mkdir()
    (int8 / "tokens.txt").write_bytes((fp32 / "tokens.txt").read_bytes())
    quantize_dynamic(
        model_input=str(fp32 / "model.onnx"),
        model_output=str(int8 / "model.int8.onnx"),
        op_types_to_quantize=["MatMul"],
        weight_type=QuantType.QInt8,
    )
    return {"sherpa-wenet-int8": int8, "sherpa-wenet-fp32": fp32}


def load_engines(settings: Settings, dirs: dict[str, Path]) -> tuple[dict[str, AsrEngine], dict]:
    """Each second engine through the product's own loader, with its load time and RSS."""
    configs = {
        "ct2-whisper-base": SpeechDialectSettings(
            second_engine=str(resolve_asr_model("base", settings.model_cache_dir))
        ),
        **{
            name: SpeechDialectSettings(
                second_engine=str(d), second_engine_kind="sherpa-onnx-wenet"
            )
            for name, d in dirs.items()
        },
    }
    engines: dict[str, AsrEngine] = {}
    facts: dict[str, dict[str, float]] = {}
    for name, cfg in configs.items():
        rss0, t0 = _rss_mb(), time.perf_counter()
        engine = load_second_engine(settings.model_copy(update={"speech_dialect": cfg}))
        assert engine is not None, name
        facts[name] = {
            "load_s": round(time.perf_counter() - t0, 2),
            "rss_added_mb": round(_rss_mb() - rss0, 1),
        }
        engines[name] = engine
        print(json.dumps({name: facts[name]}), flush=True)
    return engines, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here")
    args = parser.parse_args()
    machine = describe_machine()
    print(machine, flush=True)
    settings = Settings()
    desk = build_frontdesk(settings, load_asr=True)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        dirs = wenet_dirs(Path(tmp))
        print(f"built the WeNet-size models in {time.perf_counter() - t0:.0f} s", flush=True)
        engines, facts = load_engines(settings, dirs)
    desks: dict[str, FrontDesk] = {"none": desk}
    for name, engine in engines.items():
        desks[name] = desk.with_second_engine(engine)
    turns = [espeak(t, "yue") for t in (*CANTONESE, *WU_TEXT)]
    names = list(desks)
    turn_ms: dict[str, list[float]] = {n: [] for n in names}
    second_ms: dict[str, list[float]] = {n: [] for n in names if n != "none"}
    outcomes: dict[str, dict[str, int]] = {n: {} for n in names if n != "none"}
    dialect_turns, audio_s = 0, []
    for i, samples in enumerate(turns):
        duration = len(samples) / 16000
        first = desk.transcribe_span(samples, 0.0, duration)  # warm, and: is it a dialect turn?
        if not (first.speech_dialect and first.speech_dialect.is_dialect):
            continue
        dialect_turns += 1
        audio_s.append(duration)
        for name in names[i % len(names) :] + names[: i % len(names)]:
            second = desks[name].second_asr
            t0 = time.perf_counter()
            seg = desks[name].transcribe_span(samples, 0.0, duration)
            turn_ms[name].append((time.perf_counter() - t0) * 1000)
            if second is not None:
                t1 = time.perf_counter()
                second.transcribe(samples)
                second_ms[name].append((time.perf_counter() - t1) * 1000)
                assert seg.speech_dialect is not None
                outcome = str(seg.speech_dialect.evidence.get("second_engine_outcome"))
                outcomes[name][outcome.split(":")[0]] = (
                    outcomes[name].get(outcome.split(":")[0], 0) + 1
                )
    result = {
        "machine": machine,
        "load_average_end": round(psutil.getloadavg()[0], 1),
        "turns": len(turns),
        "dialect_turns": dialect_turns,
        "audio_s_median": round(statistics.median(audio_s), 2),
        "engines": facts,
        "turn_ms": {
            n: {"p50": round(statistics.median(v)), "p90": round(percentile(v, 0.9))}
            for n, v in turn_ms.items()
        },
        "second_engine_ms": {
            n: {"p50": round(statistics.median(v)), "p90": round(percentile(v, 0.9))}
            for n, v in second_ms.items()
        },
        "outcomes": outcomes,
    }
    print(json.dumps(result, ensure_ascii=False, indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")


if __name__ == "__main__":
    main()
