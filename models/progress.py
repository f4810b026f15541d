"""How long work reports progress without depending on where it is shown.

Slow loops (evaluating hundreds of utterances, training, assembling a
model, handling many recordings) take a :data:`Track` and wrap their
iterable in it. The command line passes one that draws a terminal progress
bar (:func:`server.progress.terminal_track`); everything else (the server,
tests, libraries) gets :func:`no_progress`, so nothing is printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Track(Protocol):
    """Wrap ``items`` (``total`` of them, described as ``what``) to report progress."""

    def __call__(self, items: Iterable[T], *, total: int, what: str) -> Iterator[T]:
        """Yield ``items`` unchanged, reporting each as it is done."""
        ...


def no_progress(items: Iterable[T], *, total: int, what: str) -> Iterator[T]:
    """The silent :data:`Track`: yields ``items`` and reports nothing."""
    del total, what
    yield from items
