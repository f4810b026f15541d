"""Give the memory a finished call used back to the operating system.

Measured (benchmarks/RESULTS.md, "Memory after many calls"): ``frontdesk
serve`` grew 3-5 MB of RSS per call and never shrank, yet after a full
garbage collection Python's own allocations (tracemalloc) had grown by
0.2 MB over the same calls, and ``gc.collect()`` plus one
``malloc_trim(0)`` took the server from 813 back to 715 MB, below where it
started. So nothing leaked for good; two things held the memory:

* A call's pipeline (pipecat processors, frames, tasks) is a web of
  reference cycles: it is freed only by a full collection, which the
  interpreter runs rarely once the models' half a million objects are in
  the oldest generation. Trimming alone did not help (3.2 MB/call).
* What is freed stays with glibc's heap (fragmented between small live
  allocations) instead of going back to the OS.

So after each call: collect, then trim. A full collection over the loaded
models took about 250 ms, holding the GIL (every call's audio waits); the
first release therefore freezes the objects alive then (models, caches:
``gc.freeze``), and later collections scan only what was made since (well
under a millisecond). Objects of another call in flight at that moment are
frozen too and never collected: a bounded, one-time cost of at most
``server.max_calls`` calls.

Other C libraries (musl, macOS) have no ``malloc_trim``: then only the
collection runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_freeze_once = threading.Lock()
_frozen = False


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        log.info("no malloc_trim in the C library (%s): freed memory stays with malloc", name)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Collect a finished call's cycles and return freed heap pages to the OS.

    Returns:
        True when malloc gave memory back.

    Blocking (a collection, then a walk of the heap under malloc's locks):
    call it in a worker thread after a call ends, not on the event loop.
    """
    global _frozen
    gc.collect()
    with _freeze_once:
        if not _frozen:
            gc.freeze()  # the models and caches: later collections skip them
            _frozen = True
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
