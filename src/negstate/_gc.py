"""Pausing the cyclic garbage collector around bulk steps."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk step allocates many objects.

    Folds and decodes build no reference cycles, and the collector's passes over
    the ever-growing young generation cost more than the work itself.  The
    previous setting is restored afterwards, even on error.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
