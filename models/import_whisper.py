"""``frontdesk models import-whisper``: a Hugging Face Whisper (e.g. a Wu fine-tune) → CTranslate2.

Whisper base cannot read Shanghainese; published Wu fine-tunes of Whisper
(speech-notes.md: Whisper-medium-Wu, CER 14 %) are Hugging Face checkpoints.
This wraps CTranslate2's own ``ct2-transformers-converter`` (installed with
ctranslate2): convert, quantise to int8, copy the tokenizer and feature
extractor files faster-whisper needs, then verify by loading the result and
decoding one second of silence. The directory it prints is what
``FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE`` takes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from models.errors import ModelError

#: Files faster-whisper reads besides model.bin/config.json, copied when present.
TOKENIZER_FILES = ("tokenizer.json", "preprocessor_config.json")
QUANTIZATIONS = ("int8", "int8_float32", "float16", "float32")


def converter_path() -> str:
    """The ``ct2-transformers-converter`` next to this Python, else on PATH."""
    local = Path(sys.executable).parent / "ct2-transformers-converter"
    if local.exists():
        return str(local)
    found = shutil.which("ct2-transformers-converter")
    if found is None:
        raise ModelError(
            "ct2-transformers-converter not found: pip install ctranslate2 transformers torch"
        )
    return found


def import_whisper(
    hf_dir: Path, name: str, models_dir: Path, *, quantization: str = "int8"
) -> Path:
    """Convert a Hugging Face Whisper directory into ``models_dir/NAME`` and verify it.

    Args:
        hf_dir: a local directory with ``config.json``, the weights and
            ``tokenizer.json`` (a ``save_pretrained`` of a Whisper model).
        name: the new model's directory name (letters, digits, ``-_.``).
        models_dir: where models live (``Settings.model_cache_dir``).
        quantization: CTranslate2 weight type; int8 is what runs fast on CPU.

    Returns:
        The converted, verified directory.

    Raises:
        ModelError: not a Whisper directory, the converter failed, or the
            result does not load and decode; the message says which.
    """
    if quantization not in QUANTIZATIONS:
        raise ModelError(f"quantization {quantization!r}; valid: {', '.join(QUANTIZATIONS)}")
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ModelError(f"model name {name!r}: use letters, digits, '-', '_' or '.'")
    if not (hf_dir / "config.json").is_file():
        raise ModelError(f"{hf_dir} has no config.json: give a Hugging Face Whisper directory")
    if not (hf_dir / "tokenizer.json").is_file():
        raise ModelError(f"{hf_dir} has no tokenizer.json (faster-whisper needs it)")
    out = models_dir / name
    copy = [f for f in TOKENIZER_FILES if (hf_dir / f).is_file()]
    cmd = [
        converter_path(),
        "--model",
        str(hf_dir),
        "--output_dir",
        str(out),
        "--quantization",
        quantization,
        "--force",
    ]
    if copy:
        cmd += ["--copy_files", *copy]
    models_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ModelError(f"ct2-transformers-converter failed on {hf_dir}: {last}")
    verify_whisper_dir(out)
    return out


def verify_whisper_dir(model_dir: Path) -> None:
    """Load a CTranslate2 Whisper directory and decode one second of silence.

    Raises:
        ModelError: it does not load or decode.
    """
    from faster_whisper import WhisperModel

    try:
        model = WhisperModel(str(model_dir.resolve()), device="cpu", compute_type="int8")
        segments, _info = model.transcribe(
            np.zeros(16_000, dtype=np.float32),
            language="zh",
            beam_size=1,
            max_new_tokens=4,
            without_timestamps=True,
            vad_filter=False,
        )
        list(segments)
    except Exception as exc:  # ctranslate2 raises many unrelated types
        raise ModelError(f"{model_dir} does not load as a Whisper model: {exc}") from exc
