"""The sherpa-onnx slot for a Wu recogniser (issue 9 item 5), tiny WeNet models built here.

No weights come from anywhere: tests/voice_agent/tiny_wenet.py exports a
randomly initialised WeNet-style CTC model with torch.onnx.export and the
metadata sherpa-onnx's WeNet CTC loader reads. One of them carries a fixed
"script" bias so that sherpa-onnx's real fbank, ONNX Runtime and greedy CTC
search produce a Wu sentence on any audio: the stand-in for a trained Wu
model. The desk is the real one (``build_frontdesk``: Whisper base, Silero,
the dialect judgement) on espeak-ng ``yue`` speech, the dialect stand-in.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest
import soundfile as sf
from pydantic import ValidationError

from models.errors import ModelError
from models.sherpa_wenet import verify_wenet_dir
from server.cli import run
from voice_agent.second_engine import load_second_engine
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings, SpeechDialectSettings
from voice_agent.sherpa_engine import SherpaWenetEngine

from .speech_standins import CANTONESE, espeak, have_espeak
from .tiny_wenet import WU_SCRIPT, build_wenet_dir

pytestmark = pytest.mark.slow

SHERPA: Final = "sherpa-onnx-wenet"
#: The tiny model's output symbols: the Wu sentence's characters and a few more.
SYMBOLS = sorted(set(WU_SCRIPT + "侬好钞票多少钱"))


def _sherpa_settings(directory: Path, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        speech_dialect=SpeechDialectSettings(
            second_engine=str(directory), second_engine_kind=SHERPA
        ),
    )


@pytest.fixture(scope="module")
def wu_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wenet_dir(tmp_path_factory.mktemp("sherpa") / "wu-tiny", SYMBOLS, script=WU_SCRIPT)


@pytest.fixture(scope="module")
def desk(wu_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    return build_frontdesk(_sherpa_settings(wu_tiny, tmp_path_factory.mktemp("sherpa-desk")))


def _broken_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_check_sherpa_verifies_a_wenet_export_and_prints_the_settings(wu_tiny: Path) -> None:
    out = io.StringIO()
    assert run(["models", "check-sherpa", str(wu_tiny)], Settings(), out) == 0
    text = out.getvalue()
    assert f"{len(SYMBOLS) + 3} symbols, subsampling 4" in text
    assert "FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE_KIND=sherpa-onnx-wenet" in text
    assert f"FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE={wu_tiny.resolve()}" in text


def _no_tokens(d: Path) -> None:
    (d / "tokens.txt").unlink()


def _corrupt_onnx(d: Path) -> None:
    data = (d / "model.onnx").read_bytes()
    (d / "model.onnx").write_bytes(data[: len(data) // 3])


def _no_blank(d: Path) -> None:
    lines = (d / "tokens.txt").read_text(encoding="utf-8").splitlines()
    (d / "tokens.txt").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")


def _short_tokens(d: Path) -> None:
    lines = (d / "tokens.txt").read_text(encoding="utf-8").splitlines()
    (d / "tokens.txt").write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("breakage", "says"),
    [
        (_no_tokens, r"has no tokens\.txt"),
        (_corrupt_onnx, r"could not load it as a WeNet CTC model .*Protobuf parsing failed"),
        (_no_blank, r"no blank symbol"),
        (_short_tokens, r"outputs but tokens\.txt has ids only up to 4"),
    ],
    ids=["missing-tokens", "corrupt-onnx", "no-blank", "tokens-of-another-model"],
)
def test_a_broken_directory_is_refused_with_the_reason(
    wu_tiny: Path, tmp_path: Path, breakage: object, says: str
) -> None:
    broken = _broken_copy(wu_tiny, tmp_path / "broken")
    breakage(broken)  # type: ignore[operator]
    with pytest.raises(ModelError, match=says):
        verify_wenet_dir(broken)


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ({"model_type": "wenet_ctc", "subsampling_factor": "4"}, r"metadata lacks vocab_size"),
        # Present but invalid: sherpa-onnx itself ends the process (_Exit) on this.
        (
            {"vocab_size": "-5", "subsampling_factor": "4"},
            r"exit 255\): .*Invalid value -5 for 'vocab_size'",
        ),
    ],
    ids=["metadata-missing", "metadata-invalid"],
)
def test_metadata_sherpa_would_exit_on_is_caught_in_the_child(
    tmp_path: Path, metadata: dict[str, str], says: str
) -> None:
    model = build_wenet_dir(tmp_path / "m", SYMBOLS, metadata=metadata)
    with pytest.raises(ModelError, match=says):
        verify_wenet_dir(model)
    # Loaded in this process, the second case would have killed pytest itself.
    assert load_second_engine(_sherpa_settings(model, tmp_path / "data")) is None


def test_settings_refuse_a_missing_directory_and_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such directory"):
        SpeechDialectSettings(second_engine=str(tmp_path / "nope"), second_engine_kind=SHERPA)
    with pytest.raises(ValidationError, match="'ctranslate2-whisper' or 'sherpa-onnx-wenet'"):
        SpeechDialectSettings(second_engine=str(tmp_path), second_engine_kind="kaldi")  # type: ignore[arg-type]


def test_frontdesk_refuses_to_start_on_a_missing_second_engine_directory(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FRONTDESK_DATA_DIR": str(tmp_path / "data"),
        "FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE_KIND": SHERPA,
        "FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE": str(tmp_path / "wu-model-typo"),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "frontdesk"), "understand", "你好"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("frontdesk: invalid setting speech_dialect:")
    assert "wu-model-typo" in lines[0] and "no such directory" in lines[0]


def test_the_engine_reads_through_sherpa_onnx_and_names_itself(wu_tiny: Path) -> None:
    engine = SherpaWenetEngine.load(wu_tiny)
    assert engine.name == f"{SHERPA}:wu-tiny"
    result = engine.transcribe(espeak(CANTONESE[1], "yue"))
    assert result.text == WU_SCRIPT and not result.unclear
    assert result.options["engine"] == SHERPA
    assert result.options["vocab_size"] == len(SYMBOLS) + 3
    silence = engine.transcribe(espeak(CANTONESE[1], "yue")[:0])
    assert silence.unclear and silence.reason == "empty"


def _wav(samples: object) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng")
def test_a_dialect_recording_is_reread_by_sherpa_and_understood(desk: FrontDesk) -> None:
    assert desk.second_asr is not None and desk.second_asr.name == f"{SHERPA}:wu-tiny"
    case = desk.handle_audio(_wav(espeak(CANTONESE[0], "yue")))
    out = case.to_json()
    turns = out["transcript"]
    assert turns and all(t["engine"] == f"{SHERPA}:wu-tiny" for t in turns)
    assert turns[0]["text"].startswith("阿拉要查")  # what sherpa-onnx decoded
    assert "多少钱" in turns[0]["normalized_text"]  # 几钿 through the dialect normaliser
    judged = case.transcript[0].speech_dialect
    assert judged is not None and judged.evidence["second_engine_outcome"] == "read"
    assert out["intent"]["code"] == "balance_inquiry"  # understood, not a blind hand-over
    assert out["handoff_reason"] == "recording"
    assert out["dialect"]["source"] == "speech"  # still routed to a Shanghainese teller


@pytest.mark.skipif(not have_espeak(), reason="apt package espeak-ng")
def test_a_broken_sherpa_directory_degrades_to_the_dialect_handover(
    desk: FrontDesk, wu_tiny: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = _broken_copy(wu_tiny, tmp_path / "wu-broken")
    _corrupt_onnx(broken)
    settings = _sherpa_settings(broken, tmp_path / "data")  # exists: passes the settings
    with caplog.at_level(logging.ERROR, logger="voice_agent.second_engine"):
        second = load_second_engine(settings)
    assert second is None
    [record] = [r for r in caplog.records if r.name == "voice_agent.second_engine"]
    assert "wu-broken" in record.getMessage() and "Protobuf parsing failed" in record.getMessage()
    assert "dialect turns hand over to a teller" in record.getMessage()
    broken_desk = desk.with_second_engine(second)
    case = broken_desk.handle_audio(_wav(espeak(CANTONESE[0], "yue")))
    out = case.to_json()
    assert out["handoff_reason"] == "dialect_speech"
    assert out["dialect"]["source"] == "speech"
    assert all("engine" not in t for t in out["transcript"])
    assert all(
        s.speech_dialect is not None and "second_engine" not in s.speech_dialect.evidence
        for s in case.transcript
    )
