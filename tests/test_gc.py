from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from negstate._gc import BULK_OBJECTS, collections_of_new_objects, paused_gc
from negstate.serialization import make_converter


@pytest.fixture
def collector() -> Iterator[None]:
    """Each test starts from a clean, running collector and leaves one."""
    was_enabled = gc.isenabled()
    gc.enable()
    gc.collect()
    yield
    if not was_enabled:
        gc.disable()


def generation_of(item: object) -> int | None:
    """The collector's generation holding ``item`` (``None``: frozen or untracked)."""
    for generation in range(3):
        if any(found is item for found in gc.get_objects(generation=generation)):
            return generation
    return None


def bulk() -> list[list[int]]:
    """Twice as many new container objects as a bulk step must leave."""
    return [[n] for n in range(2 * BULK_OBJECTS)]


@pytest.mark.usefixtures("collector")
class TestPausedCollector:
    def test_pauses_and_restores(self) -> None:
        with paused_gc():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_restores_after_an_error(self) -> None:
        with pytest.raises(ZeroDivisionError), paused_gc():
            _ = 1 / 0
        assert gc.isenabled()

    def test_leaves_a_disabled_collector_disabled(self) -> None:
        gc.disable()
        try:
            with paused_gc():
                kept = bulk()
            assert not gc.isenabled()
            assert gc.get_count()[0] >= len(kept)
        finally:
            gc.enable()

    def test_bulk_objects_skip_the_young_generations(self) -> None:
        with paused_gc():
            kept = bulk()
        assert generation_of(kept[0]) == generation_of(kept[-1]) == 2
        assert gc.get_freeze_count() == 0

    def test_a_few_objects_stay_young(self) -> None:
        with paused_gc():
            kept = [[n] for n in range(500)]
        assert generation_of(kept[0]) == 0

    def test_objects_the_program_froze_stay_frozen(self) -> None:
        gc.freeze()
        try:
            frozen = gc.get_freeze_count()
            with paused_gc():
                kept = bulk()
            assert gc.get_freeze_count() == frozen
            assert generation_of(kept[-1]) in {0, 1}
        finally:
            gc.unfreeze()


class _Cycle:
    """An object that keeps itself alive until the collector finds it."""

    def __init__(self) -> None:
        self.itself = self


def unreachable_cycle() -> weakref.ref[_Cycle]:
    """A weak reference to a cycle only the collector can free."""
    return weakref.ref(_Cycle())


@pytest.mark.usefixtures("collector")
class TestCollectionsOfNewObjects:
    def test_a_collection_inside_walks_only_new_objects(self) -> None:
        gc.disable()
        try:
            old = unreachable_cycle()
            with collections_of_new_objects():
                new = unreachable_cycle()
                gc.collect()
                assert new() is None
                assert old() is not None
            assert gc.get_freeze_count() == 0
            gc.collect()
            assert old() is None
        finally:
            gc.enable()

    def test_building_a_converter_leaves_what_the_program_holds(self) -> None:
        # cattrs runs a full collection while it builds a converter: beside a
        # loaded log, that walked every event.
        gc.disable()
        try:
            old = unreachable_cycle()
            make_converter()
            assert old() is not None
        finally:
            gc.enable()

    def test_objects_the_program_froze_stay_frozen(self) -> None:
        gc.freeze()
        try:
            frozen = gc.get_freeze_count()
            with collections_of_new_objects():
                assert gc.get_freeze_count() == frozen
            assert gc.get_freeze_count() == frozen
        finally:
            gc.unfreeze()

    def test_restores_after_an_error(self) -> None:
        with pytest.raises(ZeroDivisionError), collections_of_new_objects():
            _ = 1 / 0
        assert gc.get_freeze_count() == 0
