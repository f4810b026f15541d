"""A short soak (issue 10): a few callers for ~30 s over loopback, some hanging up
mid-word, some sending garbage frames, more callers than ``max_calls``.

Every call ends in the queue exactly once (a busy caller books a callback),
no write-ahead row is left, and the server's descriptors and threads are
back where they were (benchmarks/bench_soak.py runs the long version).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_soak.py"
_spec = importlib.util.spec_from_file_location("bench_soak", _BENCH)
assert _spec is not None and _spec.loader is not None
bench_soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_soak)


def test_short_soak_loses_no_call_and_leaks_nothing(tmp_path: Path) -> None:
    result = bench_soak.run(callers=3, seconds=30, max_calls=2, data=tmp_path)
    assert result["calls"] >= 6, result
    assert set(result["kinds"]) == {"normal", "hangup", "garbage"}, result
    assert result["missing"] == [], result
    assert result["duplicated"] == [], result
    assert result["live_calls_left"] == 0, result
    assert result["fds"]["after"] <= result["fds"]["baseline"] + 4, result
    assert result["threads"]["after"] <= result["threads"]["baseline"] + 4, result
    assert result["rss_mb"]["after"] <= result["rss_mb"]["baseline"] * 1.25, result
