"""The C allocator of a process that runs for days: the wall.

What the wall allocates and frees all day is mostly large and short-lived: the arrays
of an extract opened every few seconds (megabytes each, on a new thread each time),
decoded tiles, scenes and chart data. glibc's defaults suit short programs: up to
eight heaps per core, one per thread that happens to contend, and a threshold for
``mmap`` that rises to the largest block ever freed (up to 32 MB), after which such
blocks come from the heaps, are freed into them and leave holes that later
allocations only partly fill. The resident memory then ratchets up with every reload
without a single live object more (the soak saw about 20 MB an hour).

``tune_for_long_run`` fixes the threshold (large blocks are mapped and given back to
the system when freed) and caps the number of heaps; ``trim`` hands the free pages
inside the heaps back. Both do nothing where the C library is not glibc (macOS,
Windows, musl): there the functions are missing and False is returned.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENA_MAX = 2
"""Heaps for the whole process: the GUI thread and the workers share two."""
MMAP_THRESHOLD = 512 * 1024
"""Blocks from this size up are mapped on their own (a decoded 256 px tile is 256 kB)."""
TRIM_THRESHOLD = 4 * 1024 * 1024
"""Free memory at the top of a heap above this goes back to the system at once."""


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    except (OSError, AttributeError):  # not glibc
        return None
    return libc


def tune_for_long_run() -> bool:
    """Set the allocator for a long unattended run; True if the C library took the
    settings. Call it first thing: glibc fixes its limit on heaps the first time more
    than eight threads have contended, and a cap set after that is ignored."""
    libc = _glibc()
    if libc is None:
        return False
    ok = True
    for param, value in ((M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                         (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                         (M_ARENA_MAX, ARENA_MAX)):
        ok = bool(libc.mallopt(param, value)) and ok
    return ok


def trim() -> bool:
    """Give the free pages of every heap back to the system; True if some were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
