"""Helpers for the browser tests: a real server in a thread, Chromium, fixtures.

The server runs in-process under uvicorn on a socket bound to port 0 (so
the port is ours, never raced for), and Playwright drives Debian's
Chromium (``/usr/bin/chromium``); Playwright's own browser download is not
used, which keeps the tests offline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
#: test-recipes.md: flags that keep Debian's Chromium quiet and offline.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
REPO = Path(__file__).resolve().parents[2]
AUDIO_DIR = REPO / "tests" / "data" / "audio"
ARTIFACTS = REPO / "test-artifacts"


def launch_chromium(playwright: Playwright, extra_args: Sequence[str] = ()) -> Browser:
    """Debian's Chromium, headless, with the recipe's flags plus ``extra_args``."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args], headless=True
    )


def demo_passwords(data_dir: Path) -> dict[str, str]:
    """username → password from the server's ``demo-accounts.txt``."""
    passwords = {}
    for line in (data_dir / "demo-accounts.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            username, _role, password = line.split()
            passwords[username] = password
    return passwords


def fixture_labels() -> dict[str, dict[str, Any]]:
    """The speech fixtures' labels (tests/data/audio/fixtures.jsonl) by file name."""
    lines = (AUDIO_DIR / "fixtures.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["file"]: row for row in map(json.loads, filter(str.strip, lines))}


def wav_with_silence(source: Path, target: Path, silence_s: float = 1.0) -> Path:
    """Write ``source`` as 16-bit mono WAV with ``silence_s`` of silence appended.

    Chromium's fake microphone loops the file; the silence lets the VAD end
    each turn before the clip starts again.
    """
    samples, rate = sf.read(source, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    padded = np.concatenate([mono, np.zeros(int(rate * silence_s), dtype=np.float32)])
    sf.write(target, padded, rate, subtype="PCM_16")
    return target


def screenshot_path(name: str) -> str:
    """Where step ``name``'s screenshot goes (test-artifacts/, gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
