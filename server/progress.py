"""Progress bars for the command line: on a terminal, never in a pipe.

tqdm draws done/total, the rate and the time left on standard error, so
the Case and report lines on standard output stay machine-readable; when
standard error is not a terminal (CI logs, ``2>file``, a pipe) nothing is
drawn at all.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

from tqdm import tqdm

from models.progress import Track

T = TypeVar("T")


def terminal_track(stream: TextIO | None = None) -> Track:
    """A :data:`models.progress.Track` drawing on ``stream`` (stderr) when it is a terminal."""
    out = stream if stream is not None else sys.stderr
    quiet = not (hasattr(out, "isatty") and out.isatty())

    def track(items: Iterable[T], *, total: int, what: str) -> Iterator[T]:
        if quiet:
            yield from items
            return
        with tqdm(items, total=total, desc=what, file=out, dynamic_ncols=True, leave=True) as bar:
            yield from bar

    return track
