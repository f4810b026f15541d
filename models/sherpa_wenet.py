"""A sherpa-onnx WeNet CTC model directory: find its files, verify it in a child process.

The published Wu (Shanghainese) recognisers are WeNet checkpoints
(speech-notes.md); WeNet and sherpa-onnx export them as ``model.onnx`` (often
also ``model.int8.onnx``) plus ``tokens.txt``, and sherpa-onnx's
``OfflineRecognizer.from_wenet_ctc`` runs them on CPU.

Why a child process: sherpa-onnx's C++ loader does not raise on every bad
directory. Measured with sherpa-onnx 2.0.1: a missing ``tokens.txt``, a model
without the ``vocab_size``/``subsampling_factor`` metadata, or a tokens file
without a blank symbol end the *whole process* (``_Exit(-1)``); only an
unparseable ``.onnx`` raises ``RuntimeError``. A server must not die because
a bank misconfigured an optional engine, so a directory is first loaded and
run on one second of silence in a child Python (:func:`verify_wenet_dir`);
only a directory that passed is loaded in-process.

Run as ``python -m models.sherpa_wenet MODEL TOKENS THREADS`` it is that child:
it prints one JSON line describing the model and exits 0, or dies trying.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelError

#: Model files looked for, in order: the int8 export runs faster on CPU.
MODEL_FILES = ("model.int8.onnx", "model.onnx")
TOKENS_FILE = "tokens.txt"
#: Blank symbols sherpa-onnx's CTC decoder accepts (WeNet exports use ``<blank>``).
BLANK_SYMBOLS = ("<blk>", "<blank>", "<eps>")
#: Metadata keys sherpa-onnx's WeNet CTC loader reads (offline-wenet-ctc-model.cc).
REQUIRED_METADATA = ("vocab_size", "subsampling_factor")
SAMPLE_RATE = 16_000
FEATURE_DIM = 80


@dataclass(frozen=True)
class WenetCheck:
    """What a verified directory holds, as the child process found it.

    Attributes:
        directory: the model directory.
        model: the ``.onnx`` file used.
        tokens: the tokens file.
        vocab_size: the model's output size (its metadata; tokens.txt covers it).
        subsampling_factor: encoder frames per output frame (its metadata).
        load_ms: loading time in the child.
        decode_ms: decoding one second of silence in the child.
    """

    directory: Path
    model: Path
    tokens: Path
    vocab_size: int
    subsampling_factor: int
    load_ms: int
    decode_ms: int


def wenet_files(directory: Path) -> tuple[Path, Path]:
    """The model and tokens files of a WeNet CTC export directory.

    Raises:
        ModelError: not a directory, no ``model*.onnx`` or no ``tokens.txt``;
            the message names what is missing.
    """
    if not directory.is_dir():
        raise ModelError(f"{directory}: no such directory (a sherpa-onnx WeNet CTC export)")
    model = next((directory / f for f in MODEL_FILES if (directory / f).is_file()), None)
    if model is None:
        raise ModelError(f"{directory} has no {' or '.join(MODEL_FILES)}")
    tokens = directory / TOKENS_FILE
    if not tokens.is_file():
        raise ModelError(f"{directory} has no {TOKENS_FILE} (the model's output symbols)")
    return model, tokens


def read_tokens(tokens: Path) -> dict[int, str]:
    """``tokens.txt`` as id → symbol (lines ``SYMBOL ID``; a space symbol may be blank).

    Raises:
        ModelError: a line is not ``SYMBOL ID``, or no blank symbol is listed.
    """
    table: dict[int, str] = {}
    try:
        lines = tokens.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{tokens}: cannot read it as UTF-8 text: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        symbol, _, ident = line.rpartition(" ")
        if not ident.isdigit():
            raise ModelError(f"{tokens}:{n}: expected 'SYMBOL ID', got {line!r}")
        table[int(ident)] = symbol
    if not any(s in BLANK_SYMBOLS for s in table.values()):
        raise ModelError(f"{tokens} lists no blank symbol ({', '.join(BLANK_SYMBOLS)})")
    return table


def load_recognizer(model: Path, tokens: Path, threads: int) -> Any:
    """``sherpa_onnx.OfflineRecognizer`` for a WeNet CTC model (greedy CTC search).

    Call only on a directory :func:`verify_wenet_dir` passed: a bad one can
    end the process (see the module docstring).
    """
    try:
        import sherpa_onnx
    except ImportError as exc:
        raise ModelError("sherpa-onnx is not installed: pip install sherpa-onnx") from exc
    return sherpa_onnx.OfflineRecognizer.from_wenet_ctc(
        model=str(model),
        tokens=str(tokens),
        num_threads=threads,
        sample_rate=SAMPLE_RATE,
        feature_dim=FEATURE_DIM,
        decoding_method="greedy_search",
    )


def verify_wenet_dir(directory: Path, *, threads: int = 1, timeout_s: float = 300.0) -> WenetCheck:
    """Load a WeNet CTC directory in a child process and decode one second of silence.

    Args:
        directory: the export (``model.onnx`` or ``model.int8.onnx``, ``tokens.txt``).
        threads: ONNX Runtime threads for the child's decode.
        timeout_s: how long loading and decoding may take.

    Returns:
        What the child found (sizes, metadata, timings).

    Raises:
        ModelError: files missing, tokens malformed, or the child failed or
            died; the message carries sherpa-onnx's own last words.
    """
    model, tokens = wenet_files(directory)
    read_tokens(tokens)  # malformed lines and a missing blank are told here, clearly
    cmd = [sys.executable, "-m", "models.sherpa_wenet", str(model), str(tokens), str(threads)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ModelError(f"{directory}: loading took over {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        said = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        why = " | ".join(said[-3:]) or "no message"
        raise ModelError(
            f"{directory}: sherpa-onnx could not load it as a WeNet CTC model "
            f"(exit {done.returncode}): {why}"
        )
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise ModelError(f"{directory}: the check printed no report: {done.stdout!r}") from exc
    return WenetCheck(
        directory=directory,
        model=model,
        tokens=tokens,
        vocab_size=int(found["vocab_size"]),
        subsampling_factor=int(found["subsampling_factor"]),
        load_ms=int(found["load_ms"]),
        decode_ms=int(found["decode_ms"]),
    )


def _child(model: Path, tokens: Path, threads: int) -> dict[str, int]:
    """Load and decode silence; return the report (runs in the child process)."""
    import onnxruntime

    meta = onnxruntime.InferenceSession(
        str(model), providers=["CPUExecutionProvider"]
    ).get_modelmeta()
    missing = [k for k in REQUIRED_METADATA if k not in meta.custom_metadata_map]
    if missing:
        # sherpa-onnx would _Exit with a bare log line; say what an exporter must add.
        raise SystemExit(
            f"{model.name}: ONNX metadata lacks {', '.join(missing)} (WeNet CTC exports set "
            f"{', '.join(REQUIRED_METADATA)}; see sherpa-onnx scripts/wenet/export-onnx.py)"
        )
    vocab_size = int(meta.custom_metadata_map["vocab_size"])
    last = max(read_tokens(tokens))
    if last + 1 < vocab_size:
        # sherpa-onnx would look up symbols the table does not have.
        raise SystemExit(
            f"the model has {vocab_size} outputs but {tokens.name} has ids only up to "
            f"{last} (tokens.txt of another model?)"
        )
    t0 = time.perf_counter()
    recognizer = load_recognizer(model, tokens, threads)
    t1 = time.perf_counter()
    stream = recognizer.create_stream()
    stream.accept_waveform(SAMPLE_RATE, np.zeros(SAMPLE_RATE, dtype=np.float32))
    recognizer.decode_stream(stream)
    t2 = time.perf_counter()
    return {
        "vocab_size": vocab_size,
        "subsampling_factor": int(meta.custom_metadata_map["subsampling_factor"]),
        "load_ms": round((t1 - t0) * 1000),
        "decode_ms": round((t2 - t1) * 1000),
    }


if __name__ == "__main__":
    _model, _tokens, _threads = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(_child(_model, _tokens, _threads)), flush=True)
