"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_agent.settings import Settings

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data: committed audio fixtures and labelled text."""
    return DATA


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings on embedded defaults, but with state in a fresh temp dir.

    The model cache stays shared (assembling Whisper twice is slow and tests
    the same thing); everything a test writes goes under ``tmp_path``.
    """
    return Settings(data_dir=tmp_path / "data")
