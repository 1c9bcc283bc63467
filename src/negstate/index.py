"""The checkpoint index: every record's versions along the valid-time order.

Folding a timeline once with recording tables keeps, for every entry of every
table, the fold positions at which it changed and its value from each.  The state
after the first ``p`` events is then a set of views that answer each lookup with a
bisect in that entry's versions, so ``state_at`` costs a bisect for the day and
nothing more until records are read, however long the log.

Full copies of the state every K events would cost K times less folding but the
state's size in memory per checkpoint; with a record per event the version lists
cost about one pointer and one position per change instead.

The index only grows at its end: new events that sort after every folded event are
folded on in place, and states built before can never see them (their views stop
at their own position).  A report that lands earlier in valid time makes a new
order, which gets a copy of the index up to the report's place
(:meth:`ReplayIndex.carried_to`) and folds the events from there on.  The two
share the lists of versions of every entry the new events do not write; each
copies an entry's lists before changing them, so states read from either never
change.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from itertools import islice
from typing import Any, Final, overload

from negstate._gc import paused_gc
from negstate.events import Event
from negstate.reducers import apply_events
from negstate.registry import EventRegistry
from negstate.state import (
    _ABSENT,
    NegotiationState,
    Reading,
    StateDraft,
    state_from_tables,
)

__all__ = [
    "TABLES",
    "PrefixEvents",
    "RecordingList",
    "ReplayIndex",
    "build_index",
]


class _History:
    """The versions of one table's entries, by fold position."""

    __slots__ = (
        "change_keys",
        "change_positions",
        "created",
        "first",
        "order",
        "owned",
        "versions",
    )

    def __init__(self) -> None:
        self.versions: dict[Any, tuple[list[int], list[Any]]] = {}
        self.order: list[Any] = []
        self.first: list[int] = []
        self.change_positions: list[int] = []
        self.change_keys: list[Any] = []
        self.owned: set[Any] | None = None
        """The keys whose version lists are this history's own, when it shares
        the others' with a history it was copied from or to (None: it owns all)."""
        self.created = 0
        """The fold position at which a custom collection was first asked for."""

    def copied_before(self, start: int, written: set[Any]) -> _History:
        """A new history of the versions written before fold position ``start``.

        ``written`` holds the keys written from ``start`` on.

        It shares the version lists of the keys written only before ``start``
        with this one; the tables of both copy a key's lists before they change
        them (see :class:`_SharingTable`).
        """
        copy = _History()
        copy.created = self.created
        kept = bisect_left(self.first, start)
        copy.order = self.order[:kept]
        copy.first = self.first[:kept]
        changes = bisect_left(self.change_positions, start)
        copy.change_positions = self.change_positions[:changes]
        copy.change_keys = self.change_keys[:changes]
        versions = copy.versions = self.versions.copy()
        owned = copy.owned = set()
        for key in written:
            positions, values = versions[key]
            cut = bisect_left(positions, start)
            if cut:
                versions[key] = (positions[:cut], values[:cut])
                owned.add(key)
            else:
                del versions[key]
        return copy

    def own(self, key: Any) -> None:  # noqa: ANN401
        """Copy ``key``'s version lists if they are shared, before they change."""
        owned = self.owned
        if owned is not None and key not in owned:
            found = self.versions.get(key)
            if found is not None:
                self.versions[key] = (found[0][:], found[1][:])
            owned.add(key)

    def keys_changed(self, start: int, stop: int | None = None) -> set[Any]:
        """Keys written at fold positions ``start <= p < stop`` (no ``stop``: on)."""
        low = bisect_left(self.change_positions, start)
        if stop is None:
            return set(self.change_keys[low:])
        high = bisect_left(self.change_positions, stop)
        return set(self.change_keys[low:high])


class _RecordingTable(dict[Any, Any]):
    """A draft table that also records each write in its history."""

    __slots__ = ("clock", "history")

    def __init__(self, history: _History, clock: list[int]) -> None:
        super().__init__()
        self.history = history
        self.clock = clock

    def __setitem__(self, key: Any, value: Any) -> None:  # noqa: ANN401
        position = self.clock[0]
        history = self.history
        versions = history.versions.get(key)
        if versions is None:
            history.versions[key] = ([position], [value])
            history.order.append(key)
            history.first.append(position)
        else:
            versions[0].append(position)
            versions[1].append(value)
        history.change_positions.append(position)
        history.change_keys.append(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:  # noqa: ANN401
        raise TypeError("draft tables never forget an entry")

    def shares(self, kept: set[Any]) -> None:
        """Copy a key's version lists before changing them from now on.

        A copy of this table's history shares every list but those of ``kept``.
        """
        history = self.history
        history.owned = kept if history.owned is None else history.owned & kept
        self.__class__ = _SharingTable

    def rewind(self, position: int) -> None:
        """Forget every write at ``position`` or later."""
        history = self.history
        while history.change_positions and history.change_positions[-1] >= position:
            history.change_positions.pop()
            key = history.change_keys.pop()
            positions, values = history.versions[key]
            positions.pop()
            values.pop()
            if positions:
                dict.__setitem__(self, key, values[-1])
            else:
                del history.versions[key]
                history.order.pop()
                history.first.pop()
                dict.__delitem__(self, key)


class _SharingTable(_RecordingTable):
    """A recording table whose history shares version lists with another's.

    A key's lists are copied before its first write or rewind here, so that the
    history it shares them with never sees the change.
    """

    __slots__ = ()

    @classmethod
    def copied_before(
        cls, table: _RecordingTable, start: int, clock: list[int]
    ) -> _SharingTable:
        """``table``'s entries as they stood before fold position ``start``.

        The two share the version lists of the entries not written from
        ``start`` on, and both copy them before changing them.
        """
        changed = table.history.keys_changed(start)
        history = table.history.copied_before(start, changed)
        copy = cls(history, clock)
        dict.update(copy, table)
        versions = history.versions
        for key in changed:
            found = versions.get(key)
            if found is None:  # first written from ``start`` on: last in the table
                dict.__delitem__(copy, key)
            else:
                dict.__setitem__(copy, key, found[1][-1])
        table.shares(changed)
        return copy

    def __setitem__(self, key: Any, value: Any) -> None:  # noqa: ANN401
        self.history.own(key)
        super().__setitem__(key, value)

    def rewind(self, position: int) -> None:
        """Forget every write at ``position`` or later."""
        history = self.history
        for key in history.keys_changed(position):
            history.own(key)
        super().rewind(position)


class RecordingList(list[Any]):
    """The draft's swaps, each with the fold position it was added at."""

    __slots__ = ("clock", "positions")

    def __init__(self, clock: list[int]) -> None:
        super().__init__()
        self.clock = clock
        self.positions: list[int] = []

    def append(self, value: Any) -> None:  # noqa: ANN401
        """Add ``value`` at the fold position the clock shows."""
        self.positions.append(self.clock[0])
        super().append(value)

    def rewind(self, position: int) -> None:
        """Forget every swap added at ``position`` or later."""
        while self.positions and self.positions[-1] >= position:
            self.positions.pop()
            self.pop()

    def copied_before(self, start: int, clock: list[int]) -> RecordingList:
        """A new list of the swaps added before fold position ``start``."""
        copy = RecordingList(clock)
        cut = bisect_left(self.positions, start)
        copy.positions = self.positions[:cut]
        list.extend(copy, self[:cut])
        return copy


class _Versioned(Mapping[Any, Any]):
    """A table as it stood after the first ``end`` events."""

    __slots__ = ("_end", "_history")

    def __init__(self, history: _History, end: int) -> None:
        self._history = history
        self._end = end

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401
        found = self.get(key, _ABSENT)
        if found is _ABSENT:
            raise KeyError(key)
        return found

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: ANN401
        """The entry at ``key``, or ``default``."""
        versions = self._history.versions.get(key)
        if versions is not None:
            found = bisect_left(versions[0], self._end)
            if found:
                return versions[1][found - 1]
        return default

    def __contains__(self, key: object) -> bool:
        versions = self._history.versions.get(key)
        return versions is not None and versions[0][0] < self._end

    def __len__(self) -> int:
        return bisect_left(self._history.first, self._end)

    def __iter__(self) -> Iterator[Any]:
        return islice(self._history.order, len(self))


class _Prefix(Sequence[Any]):
    """The first ``length`` items of a list that may grow later."""

    __slots__ = ("_items", "_length")

    def __init__(self, items: list[Any], length: int) -> None:
        self._items = items
        self._length = length

    @overload
    def __getitem__(self, index: int) -> Any: ...  # noqa: ANN401

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._items[: self._length][index]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        return self._items[index]

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[Any]:
        return islice(self._items, self._length)


class PrefixEvents(Mapping[str, Event]):
    """The first ``end`` events of an order, by id, in their order."""

    __slots__ = ("_end", "_events", "_position_of")

    def __init__(
        self, events: Sequence[Event], position_of: Mapping[str, int], end: int
    ) -> None:
        self._events = events
        self._position_of = position_of
        self._end = end

    def __getitem__(self, event_id: str) -> Event:
        found: Event | object = self.get(event_id, _ABSENT)
        if found is _ABSENT:
            raise KeyError(event_id)
        return found  # type: ignore[return-value]

    def get(self, event_id: str, default: Any = None) -> Any:  # noqa: ANN401
        """The event ``event_id``, or ``default``."""
        position = self._position_of.get(event_id)
        if position is None or position >= self._end:
            return default
        return self._events[position]

    def __contains__(self, event_id: object) -> bool:
        position = self._position_of.get(event_id)  # type: ignore[call-overload]
        return position is not None and position < self._end

    def position(self, event_id: str) -> int | None:
        """Where ``event_id`` stands in the fold order, or None if it is not here."""
        position = self._position_of.get(event_id)
        return position if position is not None and position < self._end else None

    def __len__(self) -> int:
        return self._end

    def __iter__(self) -> Iterator[str]:
        return (event.id for event in islice(self._events, self._end))

    def covering(self, other: Mapping[str, Event]) -> PrefixEvents | None:
        """The longer of this and ``other`` when both are prefixes of one order.

        It holds every event either holds; ``None`` if ``other`` is not such a
        prefix.
        """
        if not isinstance(other, PrefixEvents):
            return None
        if other._events is not self._events:  # noqa: SLF001 - the same class
            return None
        return self if self._end >= len(other) else other

    def grow(self, _event: Event) -> None:
        """Take in one more event of the order (while a fold goes through it)."""
        self._end += 1

    def shorten(self, end: int) -> None:
        """Hold only the first ``end`` events (a fold through the order was undone)."""
        self._end = min(self._end, end)


class _Tables:
    """All of a draft's tables as they stood after the first ``end`` events."""

    __slots__ = (
        "agreements",
        "custom",
        "deadlines",
        "exchanges",
        "figures",
        "meeting_proposals",
        "meetings",
        "positions",
        "proposals",
        "swaps",
    )

    def __init__(self, index: ReplayIndex, end: int) -> None:
        histories = index.histories
        self.positions: Mapping[Any, Any] = _Versioned(histories["positions"], end)
        self.proposals: Mapping[Any, Any] = _Versioned(histories["proposals"], end)
        self.meeting_proposals: Mapping[Any, Any] = _Versioned(
            histories["meeting_proposals"], end
        )
        self.meetings: Mapping[Any, Any] = _Versioned(histories["meetings"], end)
        self.agreements: Mapping[Any, Any] = _Versioned(histories["agreements"], end)
        self.deadlines: Mapping[Any, Any] = _Versioned(histories["deadlines"], end)
        self.exchanges: Mapping[Any, Any] = _Versioned(histories["exchanges"], end)
        self.figures: Mapping[Any, Any] = _Versioned(histories["figures"], end)
        self.swaps: Sequence[Any] = _Prefix(
            index.draft.swaps, bisect_left(index.swap_positions, end)
        )
        self.custom: Mapping[str, Mapping[str, Any]] = {
            name: _Versioned(history, end)
            for name, history in index.custom_histories.items()
            if bisect_left(history.first, end)
        }


def _recording_table(
    histories: dict[str, _History], clock: list[int], name: str
) -> dict[str, Any]:
    """A new custom collection's draft table, recording into ``histories``."""
    history = histories.get(name)
    if history is None:
        history = histories[name] = _History()
        history.created = clock[0]
    return _RecordingTable(history, clock)


TABLES: Final = (
    "positions",
    "proposals",
    "meeting_proposals",
    "meetings",
    "agreements",
    "deadlines",
    "exchanges",
    "figures",
)


class ReplayIndex:
    """A fold of events in valid-time order that remembers every version.

    ``extend`` folds more events on (they must come after every event folded so
    far); ``state(end, ...)`` is the state after the first ``end`` events.
    """

    def __init__(
        self,
        registry: EventRegistry,
        events: list[Event] | None = None,
        position_of: dict[str, int] | None = None,
        *,
        folded: int = 0,
    ) -> None:
        """An empty index, keeping its own order or sharing an order's.

        Given ``events`` and ``position_of``, the index reads them and the order
        grows them itself; the index then only counts what it folded, from
        ``folded`` (when the caller fills its tables with the fold of the
        events before).
        """
        self.registry = registry
        self.clock = [folded]
        self.histories = {name: _History() for name in TABLES}
        self.custom_histories: dict[str, _History] = {}
        self.events: list[Event] = [] if events is None else events
        self.position_of: dict[str, int] = {} if position_of is None else position_of
        self._length = folded
        draft = StateDraft()
        for name in TABLES:
            setattr(draft, name, _RecordingTable(self.histories[name], self.clock))
        draft.swaps = RecordingList(self.clock)
        # Not a bound method: the draft would refer back to the index, and the
        # cycle would keep every event alive until the collector's next full pass.
        draft.table_factory = functools.partial(
            _recording_table, self.custom_histories, self.clock
        )
        # None while the index keeps its own order.
        self._folded: PrefixEvents | None = None
        if events is not None:
            # An order's events are unique: the draft reads them from the order
            # instead of keeping a map of a million ids of its own.
            self._folded = PrefixEvents(self.events, self.position_of, folded)
            draft.events = self._folded  # type: ignore[assignment] # read-only by reducers
        self.draft = draft
        self._dated: dict[str, tuple[int, list[tuple[int, Any]]]] = {}

    @property
    def swap_positions(self) -> list[int]:
        """The fold position of each swap."""
        swaps = self.draft.swaps
        assert isinstance(swaps, RecordingList)  # noqa: S101 - set in __init__
        return swaps.positions

    def __len__(self) -> int:
        return self._length

    def extend(self, events: Iterable[Event]) -> None:
        """Fold ``events`` on, in the order given; on error undo them and re-raise.

        An index that shares an order folds the order's next events, placed in it
        already: it reads them back from the order by id.
        """
        start = self._length
        self.clock[0] = start
        try:
            folded = self._folded
            if folded is None:
                apply_events(self.draft, events, self.registry, applied=self._applied)
            else:

                def applied_in_order(event: Event) -> None:
                    self._length += 1
                    self.clock[0] = self._length
                    folded.grow(event)

                apply_events(
                    self.draft,
                    events,
                    self.registry,
                    applied=applied_in_order,
                    unique=True,
                )
        except BaseException:
            self.rewind(start)
            raise

    def _applied(self, event: Event) -> None:
        self.position_of[event.id] = self._length
        self.events.append(event)
        self._length += 1
        self.clock[0] = self._length

    def rewind(self, position: int) -> None:
        """Forget every event from fold position ``position`` on."""
        for name in TABLES:
            table = getattr(self.draft, name)
            table.rewind(position)
        for name, table in list(self.draft.custom.items()):
            if isinstance(table, _RecordingTable):
                if table.history.created >= position:
                    # Asked for by a forgotten event: a rebuild asks for it later.
                    del self.draft.custom[name]
                    self.custom_histories.pop(name, None)
                else:
                    table.rewind(position)
        swaps = self.draft.swaps
        assert isinstance(swaps, RecordingList)  # noqa: S101 - set in __init__
        swaps.rewind(position)
        if self._folded is not None:
            self._folded.shorten(position)
        else:
            draft_events = self.draft.events
            while len(draft_events) > position:
                draft_events.popitem()
            while len(self.events) > position:
                del self.position_of[self.events.pop().id]
        self._length = min(self._length, position)
        self._dated.clear()

    def carried_to(
        self, events: list[Event], position_of: dict[str, int], start: int
    ) -> ReplayIndex:
        """A copy of this index up to fold position ``start``, for another order.

        ``events`` and ``position_of`` are the other order's, whose first
        ``start`` events are this one's (a late report was placed after them).
        The two indexes share the lists of versions of every entry not written
        from ``start`` on, and each copies an entry's lists before it changes
        them, so states read from either never change.  The caller folds the
        other order's events from ``start`` on.
        """
        with paused_gc():
            return self._copied_before(start, events, position_of)

    def _copied_before(
        self, start: int, events: list[Event], position_of: dict[str, int]
    ) -> ReplayIndex:
        """A new index for another order, with this one's versions before ``start``."""
        carried = ReplayIndex(self.registry, events, position_of, folded=start)
        clock = carried.clock
        draft = carried.draft
        for name in TABLES:
            table = _SharingTable.copied_before(getattr(self.draft, name), start, clock)
            carried.histories[name] = table.history
            setattr(draft, name, table)
        for name, found in self.draft.custom.items():
            # Asked for before ``start``: a rebuild has it there, if empty.
            if isinstance(found, _RecordingTable) and found.history.created < start:
                table = _SharingTable.copied_before(found, start, clock)
                # Filled in place: the draft's table factory records into it.
                carried.custom_histories[name] = table.history
                draft.custom[name] = table
        swaps = self.draft.swaps
        assert isinstance(swaps, RecordingList)  # noqa: S101 - set in __init__
        draft.swaps = swaps.copied_before(start, clock)
        return carried

    def state(
        self, end: int, *, as_of: date | None, reading: Reading = Reading.SURELY
    ) -> NegotiationState:
        """The state after the first ``end`` events, as of ``as_of``."""
        return state_from_tables(
            _Tables(self, end),
            PrefixEvents(self.events, self.position_of, end),
            as_of=as_of,
            reading=reading,
            origin=(self, end),
        )

    def changed(self, table: str, start: int, stop: int) -> set[Any]:
        """Keys of ``table`` (or a custom collection) written in ``[start, stop)``."""
        history = self.histories.get(table) or self.custom_histories.get(table)
        return set() if history is None else history.keys_changed(start, stop)

    def dated(self, table: str, first: date, last: date) -> set[Any]:
        """Deadlines or proposed meetings whose status may change between two days.

        Those whose expiry (or window) ends on a day from ``first`` up to ``last``.
        """
        cached = self._dated.get(table)
        if cached is None or cached[0] != self._length:
            ends = []
            for key, entry in dict.items(getattr(self.draft, table)):
                span = entry[0].expires if table == "deadlines" else entry[0].window
                if span is not None and span.latest is not None:
                    ends.append((span.latest.toordinal(), key))
            ends.sort()
            cached = self._dated[table] = (self._length, ends)
        ends = cached[1]
        low = bisect_left(ends, (first.toordinal(),))
        high = bisect_left(ends, (last.toordinal() + 1,))
        return {key for _, key in ends[low:high]}

    def swap_ids_between(self, start: int, stop: int) -> set[str]:
        """The ids of the swaps folded at positions ``start <= p < stop``."""
        positions = self.swap_positions
        low, high = bisect_left(positions, start), bisect_left(positions, stop)
        return {event.id for event in self.draft.swaps[low:high]}


def build_index(events: Iterable[Event], registry: EventRegistry) -> ReplayIndex:
    """Fold ``events`` (in valid-time order) into a new index."""
    index = ReplayIndex(registry)
    index.extend(events)
    return index
