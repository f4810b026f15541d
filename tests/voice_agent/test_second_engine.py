"""The slot for a real Wu recogniser (issue 9 item 5), with a tiny random Whisper built here.

No weights come from anywhere: the test builds a randomly initialised
Whisper (d_model 32, one layer each side) with transformers, with the
bundled Whisper base's tokenizer, converts it with ``frontdesk models
import-whisper`` (ct2-transformers-converter, int8, verified), and plugs it
in by configuration. A random model reads nothing, which is exactly the
"failing second engine" path: the dialect turn still hands over. The
"it read the turn" path uses a stand-in engine that returns Wu text.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelError
from models.import_whisper import import_whisper
from models.whisper_assets import ensure_whisper_base
from server.cli import run
from voice_agent.asr import AsrResult
from voice_agent.service import FrontDesk, build_frontdesk, load_second_engine
from voice_agent.settings import Settings, SpeechDialectSettings

from .speech_standins import CANTONESE, espeak, have_espeak

pytestmark = pytest.mark.slow


def _tiny_hf_whisper(target: Path) -> Path:
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    torch.manual_seed(0)
    config = WhisperConfig(
        vocab_size=51865,
        num_mel_bins=80,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        decoder_start_token_id=50258,
        bos_token_id=50257,
        eos_token_id=50257,
        pad_token_id=50257,
        begin_suppress_tokens=[220, 50257],
        suppress_tokens=[],
    )
    WhisperForConditionalGeneration(config).save_pretrained(target)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(target)
    base = ensure_whisper_base(Settings().model_cache_dir)
    shutil.copy(base / "tokenizer.json", target / "tokenizer.json")
    return target


@pytest.fixture(scope="module")
def tiny_ct2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("second-engine")
    hf = _tiny_hf_whisper(root / "hf")
    settings = Settings(cache_dir=root / "cache", data_dir=root / "data")
    out = io.StringIO()
    assert run(["models", "import-whisper", str(hf), "wu-tiny"], settings, out) == 0
    target = settings.model_cache_dir / "wu-tiny"
    assert f"FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE={target}" in out.getvalue()
    return target


@pytest.fixture(scope="module")
def desk(tiny_ct2: Path, tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("second-desk"),
        speech_dialect=SpeechDialectSettings(second_engine=str(tiny_ct2)),
    )
    return build_frontdesk(settings, load_asr=True)


def test_import_converts_quantises_and_verifies(tiny_ct2: Path) -> None:
    names = {p.name for p in tiny_ct2.iterdir()}
    assert {"model.bin", "config.json", "tokenizer.json", "preprocessor_config.json"} <= names
    # int8: one byte per weight (the 51865 x 32 embedding dominates), not four.
    assert (tiny_ct2 / "model.bin").stat().st_size < 51865 * 32 * 2


def test_import_refuses_what_is_not_a_whisper_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"config\.json"):
        import_whisper(tmp_path, "x", tmp_path / "models")
    with pytest.raises(ModelError, match="model name"):
        import_whisper(tmp_path, "../escape", tmp_path / "models")


def test_a_second_engine_that_does_not_load_is_left_out(tmp_path: Path) -> None:
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    settings = Settings(speech_dialect=SpeechDialectSettings(second_engine=str(broken)))
    assert load_second_engine(settings) is None


@pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng")
def test_dialect_turn_goes_to_the_second_engine_and_a_random_one_degrades_to_handover(
    desk: FrontDesk,
) -> None:
    assert desk.second_asr is not None and "wu-tiny" in desk.second_asr.name
    seg = desk.transcribe_span(espeak(CANTONESE[2], "yue"), 0.0, 2.0)
    judged = seg.speech_dialect
    assert judged is not None and judged.is_dialect
    assert judged.evidence["second_engine"] == desk.second_asr.name
    assert str(judged.evidence["second_engine_outcome"]).startswith("unclear")
    assert seg.engine is None
    dialogue = desk.dialogue_for(None)
    step = desk.hear(dialogue, dialogue.start().state, seg, None)
    assert step.event.reason == "dialect_speech"


class _WuEngine:
    """Stands in for a working Wu recogniser: it reads every turn as Wu text."""

    name = "whisper:wu-finetune:int8"

    def transcribe(self, samples: np.ndarray) -> AsrResult:
        return AsrResult("阿拉要查一下卡里还有几钿", (), -0.2, 0.01, False, None, 5)


class _BrokenEngine:
    name = "whisper:broken:int8"

    def transcribe(self, samples: np.ndarray) -> AsrResult:
        raise RuntimeError("CUDA out of memory")  # any fault of an optional engine


@pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng")
def test_a_turn_the_second_engine_reads_is_understood_and_names_its_engine(
    desk: FrontDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk, "second_asr", _WuEngine())
    samples = espeak(CANTONESE[0], "yue")
    seg = desk.transcribe_span(samples, 0.0, len(samples) / 16000)
    assert seg.engine == _WuEngine.name and not seg.unclear
    assert seg.text == "阿拉要查一下卡里还有几钿"
    assert "多少钱" in seg.normalized_text  # through the dialect normaliser
    dialogue = desk.dialogue_for(None)
    step = desk.hear(dialogue, dialogue.start().state, seg, None)
    assert step.event.reason != "dialect_speech"  # understood, not handed over blind
    assert step.state.prediction is not None
    assert step.state.prediction.code == "balance_inquiry"
    case = desk.case_builder.project(step.state, [seg], None, 3.0, {})
    out = case.to_json()
    assert out["transcript"][0]["engine"] == _WuEngine.name
    assert out["dialect"]["source"] == "speech"  # still routed to a Shanghainese teller


@pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng")
def test_a_second_engine_that_raises_degrades_to_the_handover(
    desk: FrontDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk, "second_asr", _BrokenEngine())
    seg = desk.transcribe_span(espeak(CANTONESE[3], "yue"), 0.0, 2.0)
    assert seg.speech_dialect is not None
    assert seg.speech_dialect.evidence["second_engine_outcome"] == "failed: RuntimeError"
    dialogue = desk.dialogue_for(None)
    step = desk.hear(dialogue, dialogue.start().state, replace(seg), None)
    assert step.event.reason == "dialect_speech"
