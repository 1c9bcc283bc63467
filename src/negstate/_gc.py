"""Pausing the cyclic garbage collector around bulk steps."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Final

__all__ = ["BULK_OBJECTS", "collections_of_new_objects", "paused_gc"]

BULK_OBJECTS: Final = 20_000
"""Objects a paused step must leave behind to skip the young generations."""


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk step allocates many objects.

    Folds, decodes and diffs build no reference cycles, and the collector's passes
    over the ever-growing young generation cost more than the work itself.  The
    previous setting is restored afterwards, even on error.

    When the step leaves more than :data:`BULK_OBJECTS` new objects behind (a
    loaded log, a diff's changes), they are moved straight to the oldest
    generation: otherwise the first collection after the pause walks every one of
    them, and each later young collection the survivors again, which cost a
    quarter of a large diff.  This is skipped while the program keeps objects
    frozen itself (:func:`gc.freeze`), whose frozen set it must not touch.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > BULK_OBJECTS and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@contextlib.contextmanager
def collections_of_new_objects() -> Iterator[None]:
    """Let a full collection inside the block walk only the objects made in it.

    Building a cattrs converter runs :func:`gc.collect`, which walks everything
    the process holds: 1.4 s beside a million loaded events.  cattrs collects so
    that class objects attrs replaced drop out of ``__subclasses__()``; negstate
    names the event classes itself, so nothing depends on that collection.  The
    objects already alive are set aside (:func:`gc.freeze`) for the block and
    moved to the oldest generation afterwards, both constant-time in CPython
    3.11 to 3.13.  A program that froze objects before the block is left as it
    is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
