"""Long commands draw progress on a terminal and stay quiet in a pipe.

``frontdesk intents eval`` runs as a real subprocess twice: once with its
standard error on a pseudo-terminal (a person watching), once with it on a
pipe (CI, scripts). Standard output carries the same report line both times.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

FRONTDESK = Path(sys.executable).parent / "frontdesk"


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FRONTDESK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "100"}


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed its end of the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_eval_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    parent, child = pty.openpty()
    # A terminal 100 columns wide (a fresh pseudo-terminal has none).
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [str(FRONTDESK), "intents", "eval", "--out", str(tmp_path / "report")],
        stdout=subprocess.PIPE,
        stderr=child,
        env=_env(tmp_path),
    )
    os.close(child)
    terminal = _read_all(parent).decode("utf-8", "replace")
    stdout, _ = proc.communicate(timeout=300)
    os.close(parent)
    assert proc.returncode == 0, terminal
    # done/total, a rate and the time left, as tqdm draws them
    assert "evaluating" in terminal
    assert "/s]" in terminal or "s/it]" in terminal, terminal
    lines = stdout.decode().splitlines()
    assert len(lines) == 1 and "macro-F1" in lines[0]


def test_eval_is_quiet_in_a_pipe(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(FRONTDESK), "intents", "eval", "--out", str(tmp_path / "report")],
        capture_output=True,
        env=_env(tmp_path),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"evaluating" not in proc.stderr
    assert b"\r" not in proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1 and "macro-F1" in lines[0]
