"""glibc malloc settings for an ingest, so the memory it frees is used again rather than kept.

An ingest runs Lance's, Arrow's, TensorFlow's and gensim's threads one stage after another, each
allocating and freeing hundreds of MB. glibc's malloc gives each new thread that contends for it an
arena of its own (up to 8 per core) and serves blocks of up to 32 MB from those arenas once such a
block has been freed (its mmap threshold rises with every large free): freed memory then stays in
the arena it came from, where the next stage's threads often cannot use it, and the process grows
with every stage by what the stage before it freed. Measured on `catalog rebuild` of a 100k-photo
database (benchmarks/README.md, "Memory an ingest frees"): its peak was 833-875 MB with glibc's
defaults, 645 MB with these settings (630-675 across the thresholds tried), for ~7% more CPU time
(the system time of mapping and unmapping the large blocks).

So `ingest()` and `rebuild()` set, before their threads start:
- at most ARENAS arenas (M_ARENA_MAX): freed blocks are found by the next stage's threads;
- MMAP_THRESHOLD (M_MMAP_THRESHOLD): blocks of 256 KB and more (Arrow buffers, Lance pages, batches
  of vectors) are mapped on their own and given back to the system when freed. Setting it also
  stops glibc from raising it.

Only where the C library is glibc (`mallopt` is glibc's), and never over the user's own settings
(MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, or GLIBC_TUNABLES in the environment). The settings
are the process's: a program that calls `Catalog.ingest` keeps them after it returns.
"""

from __future__ import annotations

import ctypes
import os
import platform

# mallopt's parameter numbers (glibc's malloc.h).
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

ARENAS = 2
MMAP_THRESHOLD = 256 * 1024

_SETTINGS = {
    M_ARENA_MAX: ("MALLOC_ARENA_MAX", ARENAS),
    M_MMAP_THRESHOLD: ("MALLOC_MMAP_THRESHOLD_", MMAP_THRESHOLD),
}


def reuse_freed_memory() -> dict[str, int]:
    """Apply the settings above that the user has not set; the ones applied, by their variable name."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or "GLIBC_TUNABLES" in os.environ:
        return {}
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return {}
    applied = {}
    for parameter, (variable, value) in _SETTINGS.items():
        if variable not in os.environ and mallopt(parameter, value) == 1:  # mallopt returns 1 on success
            applied[variable] = value
    return applied
