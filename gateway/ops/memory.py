"""The process's memory: give freed memory back to the system.

glibc's malloc raises its mmap threshold after a large block is freed (up to 32 MB), and its trim threshold
with it, so the memory of later medium-sized temporaries (a batch of lines, a long post's sentences) stays
in the heap after they are freed: about 10 MB of a mixed-language ``gateway scan``'s peak (``bench/
detection.py --mixed``). A fixed threshold keeps those blocks mapped on their own and returned when freed.
"""

from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter; setting it turns the dynamic threshold off
_THRESHOLD = 128 * 1024  # glibc's own starting value


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold; False where the C library has no ``mallopt`` (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return mallopt(_M_MMAP_THRESHOLD, _THRESHOLD) == 1
