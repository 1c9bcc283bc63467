"""Replay: put events in valid-time order and fold them up to any day.

Reports arrive late and out of order, so replay never uses the order events were
recorded in.  It orders the *set* of events by when they happened:

1. Every event's span of possible days is narrowed by its references: an event
   happened no earlier than what it refers to, and no later than anything that
   refers to it.  A rejection dated 12 March of a proposal dated "March" pins the
   proposal to 1-12 March.  An event dated before something it refers to could
   have happened raises :class:`~negstate.errors.DateConflictError`.
2. Events are sorted by latest possible day, then earliest possible day, then
   depth in the reference graph (what is referred to comes first), then id.

Revisions (corrections, retractions, merges) are applied first, in recording order;
see :mod:`negstate.revisions`.

On day D under :attr:`Reading.SURELY` (the default) the events that count are those
whose narrowed latest day is on or before D: a prefix of that order.  Under
:attr:`Reading.POSSIBLY` they are those whose narrowed earliest day is on or before
D, folded in the same order.  Either way an event never counts before what it
refers to.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any, Final, Protocol, runtime_checkable

import attrs

from negstate.dates import OPEN_END, FuzzyDate, parse_day
from negstate.errors import (
    DateConflictError,
    DuplicateEventError,
    FuzzyDateError,
    ImpossibleEventError,
    NegstateError,
    RegistryError,
    locate,
)
from negstate.events import Event
from negstate.index import PrefixEvents, ReplayIndex
from negstate.reducers import BUILTIN_EVENTS, apply_events, fold
from negstate.registry import EventRegistry
from negstate.revisions import apply_revisions
from negstate.state import NegotiationState, Reading, StateDraft, state_from_tables

__all__ = [
    "EventSource",
    "SortKey",
    "Timeline",
    "build_timeline",
    "day_of",
    "moment_of",
    "reading_of",
    "sort_keys_of",
    "state_at",
    "timeline_from_parts",
]

_OPEN_START: Final = 0
_event_id: Final = attrgetter("id")
_SCANS_BEFORE_LOOKUPS: Final = 3
_COPIES_BEFORE_INDEX: Final = 64


@runtime_checkable
class EventSource(Protocol):
    """Anything that can hand replay a :class:`Timeline` (every log can)."""

    def timeline(self, known_at: datetime | None = None) -> Timeline:
        """The events recorded by ``known_at`` (all if None), in valid-time order."""
        ...


def day_of(value: date | str) -> date:
    """Read the day a question is about: a ``date`` or text ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_day(value)
    raise FuzzyDateError(
        f"cannot use {value!r} as a day", hint="pass a datetime.date or YYYY-MM-DD"
    )


@attrs.define(eq=False)
class _Order:
    """The growing valid-time order that timelines are prefixes of.

    Lists only ever grow at their end, so a timeline (a length into them) never
    changes; the checkpoint index is built on first use and grows with them.
    """

    events: list[Event]
    latest: array[int]
    earliest: array[int]
    depth: array[int]
    registry: EventRegistry
    index: ReplayIndex | None = None
    _position_of: dict[str, int] | None = None
    whole_fold: tuple[int, StateDraft] | None = None
    """The draft a fold of the first events wrote, and how many it folded, when a
    snapshot kept it or a fold of every event was asked for: the state after
    them is read from it instead of folded."""
    fold_lent: bool = False
    """Whether the kept draft was given out (states read its tables): it is then
    copied before more events are folded onto it."""
    fold_copies: int = 0
    """How many times the kept draft was copied to fold more events onto it."""
    checkpoint: tuple[int, StateDraft] | None = None
    """A draft a fold of the first events wrote, and how many, kept where a late
    report was placed: the order the next one makes folds on from there instead
    of from the first event.  Never given out, and copied before folding on."""
    placed_late: tuple[tuple[int, StateDraft] | None, int] | None = None
    """For an order whose late reports were placed without a fold: the checkpoint
    of the order they were placed in, and their place, for the first fold of
    every event to go on from and keep a checkpoint of its own."""
    _scans: int = 0
    """How many times the events were scanned for ids (see :meth:`holds_any`)."""

    @property
    def position_of(self) -> dict[str, int]:
        """Each event's position in the order (built when first needed)."""
        if self._position_of is None:
            self._position_of = {e.id: n for n, e in enumerate(self.events)}
        return self._position_of

    @property
    def has_positions(self) -> bool:
        """Whether the positions by id were built."""
        return self._position_of is not None

    def positions_from(self, earlier: _Order, start: int) -> dict[str, int]:
        """Each event's position, from ``earlier``'s: its first ``start`` are ours."""
        position_of = earlier.position_of.copy()
        events = self.events
        for position in range(start, len(events)):
            position_of[events[position].id] = position
        self._position_of = position_of
        return position_of

    def holds_any(self, ids: set[str]) -> bool:
        """Whether an ordered event has one of ``ids``.

        The first few times, scans the events rather than build the positions by
        id, which costs six scans: a load that places the records after its
        snapshot may never need them, a process that goes on appending does.
        """
        if not ids:
            return False
        if self._position_of is None and self._scans < _SCANS_BEFORE_LOOKUPS:
            self._scans += 1
            return not ids.isdisjoint(map(_event_id, self.events))
        position_of = self.position_of
        return any(event_id in position_of for event_id in ids)

    def placed(self, event_id: str) -> tuple[int, int, int] | None:
        """The narrowed (latest, earliest, depth) of an ordered event, or None."""
        position = self.position_of.get(event_id)
        return None if position is None else self.key(position)[:3]

    def key(self, position: int) -> SortKey:
        """The sort key of the event at ``position``."""
        return (
            self.latest[position],
            self.earliest[position],
            self.depth[position],
            self.events[position].id,
        )

    def place(self, event: Event, latest: int, earliest: int, depth: int) -> None:
        """Put ``event`` at the end of the order."""
        if self._position_of is not None:
            self._position_of[event.id] = len(self.events)
        self.events.append(event)
        self.latest.append(latest)
        self.earliest.append(earliest)
        self.depth.append(depth)

    def cut(self, length: int) -> None:
        """Forget the events placed from ``length`` on (their fold failed)."""
        if self.whole_fold is not None and self.whole_fold[0] > length:
            self.whole_fold = None
        if self.index is not None and len(self.index) > length:
            self.index.rewind(length)
        if self._position_of is not None:
            for event in self.events[length:]:
                del self._position_of[event.id]
        del self.events[length:]
        del self.latest[length:]
        del self.earliest[length:]
        del self.depth[length:]

    def indexed(self, length: int) -> ReplayIndex:
        """The checkpoint index, folded at least up to ``length`` events."""
        if self.index is None:
            self.index = ReplayIndex(self.registry, self.events, self.position_of)
        if len(self.index) < length:
            self.index.extend(self.events[len(self.index) : length])
        return self.index


class _LazyPositions(Mapping[str, int]):
    """An order's positions by id, built only if something looks one up."""

    __slots__ = ("_order",)

    def __init__(self, order: _Order) -> None:
        self._order = order

    def __getitem__(self, event_id: str) -> int:
        return self._order.position_of[event_id]

    def get(self, event_id: str, default: Any = None) -> Any:  # noqa: ANN401
        """The position of ``event_id``, or ``default``."""
        return self._order.position_of.get(event_id, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._order.position_of)

    def __len__(self) -> int:
        return len(self._order.events)


@attrs.frozen(eq=False)
class Timeline:
    """A set of events in valid-time order, ready to be folded up to any day.

    ``events`` is the order; ``latest`` and ``earliest`` hold each event's narrowed
    span as day ordinals (open ends become 0 and a day past ``date.max``).  The
    state on a day is read from a checkpoint index (see :mod:`negstate.index`)
    built the first time it is needed.
    """

    _order: _Order = attrs.field(alias="order", repr=False)
    _length: int = attrs.field(alias="length")
    revisions: Mapping[str, Event] = attrs.field(
        factory=lambda: MappingProxyType({}), repr=False
    )
    """The revision events that were applied, by id."""
    revised_by: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=lambda: MappingProxyType({}), repr=False
    )
    """For each revised event id, the ids of the revisions that shaped it."""

    @property
    def events(self) -> Sequence[Event]:
        """The events in valid-time order."""
        return self._order.events[: self._length]

    @property
    def latest(self) -> Sequence[int]:
        """Each event's narrowed latest possible day, as an ordinal."""
        return self._order.latest[: self._length]

    @property
    def earliest(self) -> Sequence[int]:
        """Each event's narrowed earliest possible day, as an ordinal."""
        return self._order.earliest[: self._length]

    @property
    def depth(self) -> Sequence[int]:
        """Each event's depth in the reference graph (0: it refers to no event)."""
        return self._order.depth[: self._length]

    @property
    def registry(self) -> EventRegistry:
        """The event types the timeline folds with."""
        return self._order.registry

    def __len__(self) -> int:
        return self._length

    def span_of(self, index: int) -> FuzzyDate:
        """The narrowed span of the event at ``index`` in the order."""
        low, high = self._order.earliest[index], self._order.latest[index]
        return FuzzyDate(
            None if low == _OPEN_START else date.fromordinal(low),
            None if high == OPEN_END else date.fromordinal(high),
        )

    def count_by(self, on: date) -> int:
        """How many events have surely happened by day ``on`` (a prefix)."""
        return bisect_right(self._order.latest, on.toordinal(), 0, self._length)

    def counting(
        self, on: date | str | None = None, *, reading: Reading = Reading.SURELY
    ) -> list[Event]:
        """The events that count on day ``on`` (all of them when ``on`` is None)."""
        events = self._order.events
        reading = reading_of(reading)
        if on is None:
            return events[: self._length]
        day = day_of(on)
        surely = self.count_by(day)
        found = events[:surely]
        if reading is Reading.POSSIBLY:
            earliest = self._order.earliest
            ordinal = day.toordinal()
            found.extend(
                events[index]
                for index in range(surely, self._length)
                if earliest[index] <= ordinal
            )
        return found

    def state_at(
        self, on: date | str | None = None, *, reading: Reading = Reading.SURELY
    ) -> NegotiationState:
        """The state on day ``on``, read the ``reading`` way (``None``: after all)."""
        day = None if on is None else day_of(on)
        reading = reading_of(reading)
        if reading is Reading.POSSIBLY and day is not None:
            state = fold(
                self.counting(day, reading=reading),
                as_of=day,
                reading=reading,
                registry=self.registry,
            )
        elif day is None and self._order.index is None:
            # The whole log: the fold a snapshot kept, or a plain fold kept for
            # the next time, is cheaper than indexing.
            order = self._order
            state = state_from_tables(
                self._whole_draft(),
                PrefixEvents(order.events, _LazyPositions(order), self._length),
                as_of=None,
                reading=reading,
            )
        else:
            end = self._length if day is None else self.count_by(day)
            index = self._order.indexed(self._length)
            state = index.state(end, as_of=day, reading=reading)
        if not self.revised_by:
            return state
        return attrs.evolve(state, revised_by=self._revisions_of(state))

    def folded_draft(self) -> StateDraft:
        """A new draft that a fold of every event has written (read only)."""
        return self._folded_onto(StateDraft(), 0)

    def _folded_onto(
        self, draft: StateDraft, done: int, stop: int | None = None
    ) -> StateDraft:
        """``draft``, written by a fold of the first ``done`` events, with the rest.

        With ``stop``, only the events before it are folded on.
        """
        order = self._order
        folded = PrefixEvents(order.events, _LazyPositions(order), done)
        draft.events = folded  # type: ignore[assignment] # read-only by reducers
        apply_events(
            draft,
            order.events[done : self._length if stop is None else stop],
            self.registry,
            unique=True,
            applied=folded.grow,
        )
        # Read by reducers only: a draft the order keeps must not refer back to
        # it, or the order, every event included, outlives its log until a
        # collection.
        draft.events = {}
        return draft

    def keep_fold(self, read: Callable[[Sequence[Event]], StateDraft]) -> None:
        """Read the state after every event from the draft ``read`` gives.

        For a kept copy whose fold was kept with it: ``read`` is given the events
        in order and returns the draft their fold wrote, which must not change.
        """
        self._order.whole_fold = (self._length, read(self._order.events))
        self._order.fold_lent = False

    def kept_fold(self) -> StateDraft | None:
        """The draft a fold of every event wrote, if one is kept (read only).

        A snapshot keeps one, and so does the order once a state after every
        event was asked for.  When the order has grown past it (events recorded
        since, all sorting after it), the newer events are folded onto it first
        (see :meth:`_carried_fold`).
        """
        draft = self._carried_fold()
        if draft is not None:
            self._order.fold_lent = True
        return draft

    def _whole_draft(self) -> StateDraft:
        """The draft a fold of every event wrote: the kept one, or a new fold.

        A new fold is kept (as lent) unless a longer one is, so that asking again,
        or appending after, does not fold every event again.
        """
        kept = self.kept_fold()
        if kept is not None:
            return kept
        order = self._order
        placed = order.placed_late
        if placed is not None and self._length == len(order.events):
            order.placed_late = None
            self._fold_from_checkpoint(*placed)
            kept = self.kept_fold()
            assert kept is not None  # noqa: S101 - kept by the fold above
            return kept
        draft = self.folded_draft()
        if order.whole_fold is None:
            order.whole_fold, order.fold_lent = (self._length, draft), True
        return draft

    def _carried_fold(self) -> StateDraft | None:
        """The kept draft with the events placed after it folded on.

        Folded onto a copy if the draft was given out, in place otherwise (a
        process appending one event at a time would copy every table for each);
        the result is kept in its place.  A fold that fails in place leaves no
        kept draft: the state is then folded anew when asked for.
        """
        order = self._order
        whole_fold = order.whole_fold
        if whole_fold is None or whole_fold[0] > self._length:
            return None
        done, draft = whole_fold
        if done < self._length:
            if order.fold_lent:
                draft = draft.copied()
                order.fold_copies += 1
            else:
                order.whole_fold = None
            draft = self._folded_onto(draft, done)
            order.whole_fold, order.fold_lent = (self._length, draft), False
        return draft

    def _revisions_of(self, state: NegotiationState) -> Mapping[str, tuple[Event, ...]]:
        """The revisions applied to the events ``state`` folded."""
        events = state.events
        return MappingProxyType(
            {
                event_id: tuple(self.revisions[r] for r in revisions)
                for event_id, revisions in self.revised_by.items()
                if event_id in events
            }
        )

    def checkpoint_index(self) -> ReplayIndex:
        """The checkpoint index of this timeline (built on first use)."""
        return self._order.indexed(self._length)

    def extended(
        self, events: Iterable[Event], *, new_ids: bool = False
    ) -> Timeline | None:
        """This timeline with ``events`` folded on, or the fold's error.

        Events that all come after the order are placed at its end.  A late
        report, which sorts before its end, is placed in a copy of the order from
        its place on (see :meth:`_merged`), so that this timeline never changes.

        Returns ``None`` when an event is a revision, would narrow the dates of
        an event already in the order, refers to an event neither in the order
        nor listed before it in ``events``, or repeats an id (also one that a
        revision removed, or a revision's own): the caller then builds a new
        timeline.  The revisions this timeline applied carry over.  Raises the fold's
        error if an event cannot happen, also when an event of the order no
        longer can once a late report is placed before it; nothing is kept
        then.  With ``new_ids`` the caller vouches that the ids are distinct and
        new to the order (a log has looked them up among its records), which
        spares looking them up.

        Events placed at the end are folded onto the checkpoint index, or, while
        none is built, onto the state after every event if one is kept: building
        the index of a million events for a few new ones would take seconds.  A
        process that keeps reading states between appends makes each carry copy
        the tables (milliseconds at a million events), so after a few copies the
        index is built after all.
        """
        events = list(events)  # read more than once below
        ordered = self._keys_of(events)
        if ordered is None or (not new_ids and self._repeats_an_id(events)):
            return None
        if not self._after_end(ordered):
            return self._merged(ordered, checked=True)
        order = self._order
        carried = (
            order.index is None
            and order.whole_fold is not None
            and order.fold_copies < _COPIES_BEFORE_INDEX
        )
        index = None if carried else order.indexed(self._length)
        extended = self._placing(ordered)
        try:
            # Placed first: the folds read the events they fold from the order.
            if index is None:
                extended._carried_fold()  # noqa: SLF001 - a timeline of this order
            else:
                index.extend(event for _, event in ordered)
        except BaseException:
            order.cut(self._length)
            raise
        return extended

    def forget_later(self) -> None:
        """Forget the events placed after this timeline's end, and their folds.

        For events that :meth:`extended` took but that were never written: the
        timeline can then be extended again.
        """
        self._order.cut(self._length)

    def followed_by(
        self, events: Sequence[Event], *, new_ids: bool = False
    ) -> Timeline | None:
        """This timeline with ``events`` placed in it, or None as :meth:`extended`.

        For events already checked, such as records read back from a log: unlike
        :meth:`extended`, no fold runs to check them.  Only a late report
        placed before the end of a built checkpoint index is folded, into the
        new order's copy of the index, which raises the fold's error if any.
        """
        if not events:
            return self
        ordered = self._keys_of(events)
        if ordered is None or (not new_ids and self._repeats_an_id(events)):
            return None
        if not self._after_end(ordered):
            return self._merged(ordered, checked=False)
        return self._placing(ordered)

    def _repeats_an_id(self, events: Sequence[Event]) -> bool:
        """True if two of ``events`` share an id, or one has a known id.

        Known ids are an ordered event's, a removed one's, a revision's and any
        a revision refers to (such as a correction that a retraction cancelled,
        which was never applied).
        """
        ids = {event.id for event in events}
        return (
            len(ids) != len(events)
            or not ids.isdisjoint(self.revised_by)
            or not ids.isdisjoint(self.revisions)
            or self._order.holds_any(ids)
            or any(
                not ids.isdisjoint(revision.references)
                for revision in self.revisions.values()
            )
        )

    def _keys_of(self, events: Sequence[Event]) -> list[tuple[SortKey, Event]] | None:
        """The new events' sort keys, sorted, if they can be placed in this order.

        None for a revision: it changes events already placed.
        """
        order = self._order
        revisers = order.registry.revisers
        if self._length != len(order.events) or any(
            type(event) in revisers for event in events
        ):
            return None
        return sort_keys_of(events, order.placed)

    def _after_end(self, ordered: list[tuple[SortKey, Event]]) -> bool:
        """Whether events with these sorted keys all sort after this timeline."""
        return (
            not ordered
            or not self._length
            or ordered[0][0] > self._order.key(self._length - 1)
        )

    def _placing(self, ordered: list[tuple[SortKey, Event]]) -> Timeline:
        order = self._order
        for (latest, earliest, depth, _), event in ordered:
            order.place(event, latest, earliest, depth)
        return self._of(order)

    def _of(self, order: _Order) -> Timeline:
        """A timeline of all of ``order``, with the revisions this one applied."""
        return Timeline(
            order=order,
            length=len(order.events),
            revisions=self.revisions,
            revised_by=self.revised_by,
        )

    def _merged(
        self, ordered: list[tuple[SortKey, Event]], *, checked: bool
    ) -> Timeline:
        """A timeline of a new order: this one with late reports placed in it.

        The order is copied up to the first report's place (milliseconds for a
        million events), and the events after that place are merged with the
        reports.  When the checkpoint index is built, the new order gets a copy
        of it up to that place, which shares what did not change, and folds
        the events from there on, so that the next state on any day reads an
        index again.  Otherwise, with ``checked``, every event is folded (from
        the draft kept where the last report was placed, if it is not past this
        one's place) and the fold kept for the next state.  Raises the fold's
        error, leaving this timeline as it was.
        """
        order = self._order
        start = bisect_left(order.latest, ordered[0][0][0], 0, self._length)
        while start < self._length and order.key(start) < ordered[0][0]:
            start += 1
        tail = [(order.key(n), order.events[n]) for n in range(start, self._length)]
        tail.extend(ordered)
        tail.sort(key=itemgetter(0))  # two sorted runs: a merge
        events = order.events[:start]
        events.extend(event for _, event in tail)
        merged = _Order(
            events=events,
            latest=order.latest[:start] + array("q", (k[0] for k, _ in tail)),
            earliest=order.earliest[:start] + array("q", (k[1] for k, _ in tail)),
            depth=order.depth[:start] + array("q", (k[2] for k, _ in tail)),
            registry=order.registry,
        )
        timeline = self._of(merged)
        if order.has_positions:  # always so once an index is built
            merged.positions_from(order, start)
        index = order.index
        if index is not None and len(index) >= start:
            self._carry_index(merged, start)
        elif checked:
            timeline._fold_from_checkpoint(order.checkpoint, start)  # noqa: SLF001 - made here
        else:
            merged.placed_late = (order.checkpoint, start)
        return timeline

    def _fold_from_checkpoint(
        self, earlier: tuple[int, StateDraft] | None, start: int
    ) -> None:
        """Fold every event, and keep the fold and the draft before ``start``.

        For a new order whose first ``start`` events are those of the order that
        kept ``earlier``: the fold goes on from that checkpoint when it is not
        past ``start``, so that reports placed near the end, one batch after
        another, fold the events since the last report's place instead of all.
        """
        order = self._order
        if earlier is not None and earlier[0] <= start:
            done, draft = earlier[0], earlier[1].copied()
        else:
            done, draft = 0, StateDraft()
        draft = self._folded_onto(draft, done, start)
        order.checkpoint = (start, draft.copied())
        draft = self._folded_onto(draft, start)
        order.whole_fold, order.fold_lent = (self._length, draft), False

    def _carry_index(self, merged: _Order, start: int) -> None:
        """Give ``merged`` a copy of this order's index up to ``start``, folded on.

        The copy shares what did not change with this order's index (see
        :meth:`ReplayIndex.carried_to`), which stays as it was; if the fold
        raises, the copy is dropped.
        """
        index = self._order.index
        assert index is not None  # noqa: S101 - checked by the caller
        carried = index.carried_to(merged.events, merged.position_of, start)
        carried.extend(merged.events[start:])
        merged.index = carried


SortKey = tuple[int, int, int, str]
"""An event's place in valid-time order: (latest, earliest, depth, id)."""


def sort_keys_of(
    events: Iterable[Event],
    placed: Callable[[str], tuple[int, int, int] | None],
) -> list[tuple[SortKey, Event]] | None:
    """Sort keys for new events, in sorted order, if placing them moves no other.

    ``placed(id)`` is an already ordered event's narrowed (latest, earliest,
    depth), or None.  A new event may refer to placed events and to new events
    listed before it.  Returns ``None`` if one refers to any other event, or
    would narrow the span of an event it refers to: the order must then be
    rebuilt.  A new event's own span never narrows to nothing, as the events it
    refers to neither end after it nor begin after they end.
    """
    found: list[tuple[SortKey, Event]] = []
    new: dict[str, tuple[int, int, int]] = {}
    for event in events:
        span = event.occurred
        low, high = span.first_ordinal, span.last_ordinal
        depth = 0
        for target in event.references:
            known = new.get(target) or placed(target)
            if known is None:
                return None
            latest, earliest, level = known
            if high < latest:
                return None
            low = max(low, earliest)
            depth = max(depth, level + 1)
        new[event.id] = (high, low, depth)
        found.append(((high, low, depth, event.id), event))
    found.sort(key=itemgetter(0))
    return found


def _unique(events: Iterable[Event]) -> dict[str, Event]:
    by_id: dict[str, Event] = {}
    for event in events:
        previous = by_id.get(event.id)
        if previous is None:
            by_id[event.id] = event
        elif previous != event:
            raise DuplicateEventError(
                "recorded twice with different content",
                where=locate(event_id=event.id),
                hint="give the new event another id, or record an EventCorrected",
            )
    return by_id


def build_timeline(
    events: Iterable[Event], registry: EventRegistry = BUILTIN_EVENTS
) -> Timeline:
    """Put ``events`` in valid-time order (see the module docstring for the rule).

    Identical events recorded twice count once; the same id with other content
    raises DuplicateEventError.
    """
    revised = apply_revisions(_unique(events).values(), registry.revisers)
    ordered = revised.events
    count = len(ordered)
    named = _referred_ids(ordered, registry)
    # Only events something refers to need a position by id.
    referred = {target for targets in named.values() for target in targets}
    position = {event.id: n for n, event in enumerate(ordered) if event.id in referred}
    earliest = array("q", (event.occurred.first_ordinal for event in ordered))
    latest = array("q", (event.occurred.last_ordinal for event in ordered))
    refs = _references(named, position)
    del named
    depth = _depths(ordered, refs)
    if refs:
        by_depth = sorted(refs, key=depth.__getitem__)
        for referrer in by_depth:
            bound, cause = earliest[referrer], -1
            for target in refs[referrer]:
                if earliest[target] > bound:
                    bound, cause = earliest[target], target
            if bound > latest[referrer]:
                raise DateConflictError(
                    f"is dated {ordered[referrer].occurred} but refers to "
                    f"{ordered[cause].id!r}, which cannot have happened before "
                    f"{date.fromordinal(bound)}",
                    event_id=ordered[referrer].id,
                    hint="correct one of the two dates",
                )
            earliest[referrer] = bound
        for referrer in reversed(by_depth):
            bound = latest[referrer]
            for target in refs[referrer]:
                latest[target] = min(latest[target], bound)
    # A large log's peak memory is in the sorts below: let go of what they do not need.
    del position, refs, referred
    # Two stable sorts with C-level keys: by id, then by (latest, earliest, depth).
    ids = [event.id for event in ordered]
    packed = array(
        "q",
        (
            (latest[n] << _SHIFT_LATEST) | (earliest[n] << _SHIFT_EARLIEST) | depth[n]
            for n in range(count)
        ),
    )
    order = sorted(range(count), key=ids.__getitem__)
    del ids
    order.sort(key=packed.__getitem__)
    del packed
    return timeline_from_parts(
        events=[ordered[n] for n in order],
        latest=array("q", (latest[n] for n in order)),
        earliest=array("q", (earliest[n] for n in order)),
        depth=array("q", (depth[n] for n in order)),
        registry=registry,
        revisions=revised.revisions,
        revised_by=revised.revised_by,
    )


def timeline_from_parts(
    *,
    events: list[Event],
    latest: array[int],
    earliest: array[int],
    depth: array[int],
    registry: EventRegistry,
    revisions: Mapping[str, Event],
    revised_by: Mapping[str, tuple[str, ...]],
) -> Timeline:
    """A timeline from its parts: those :func:`build_timeline` sorts, or a kept copy."""
    count = len(events)
    if not len(latest) == len(earliest) == len(depth) == count:
        msg = "a timeline's parts must be of one length"
        raise ValueError(msg)
    return Timeline(
        order=_Order(
            events=events,
            latest=latest,
            earliest=earliest,
            depth=depth,
            registry=registry,
        ),
        length=count,
        revisions=revisions,
        revised_by=revised_by,
    )


_SHIFT_EARLIEST: Final = 18
_SHIFT_LATEST: Final = 40
"""Bit positions that pack (latest, earliest, depth) into one sortable 63-bit int;
day ordinals stay below 2**22 and reference depths below 2**18."""


def _referred_ids(
    ordered: Sequence[Event], registry: EventRegistry
) -> dict[int, list[str]]:
    """The ids each event refers to, by the event's position in ``ordered``."""
    fields_of: dict[type[Event], tuple[str, ...]] = {}
    found: dict[int, list[str]] = {}
    for index, event in enumerate(ordered):
        kind_type = type(event)
        names = fields_of.get(kind_type)
        if names is None:
            kind = registry.kind_of(kind_type)
            if kind is None:
                raise RegistryError(
                    f"event type {kind_type.__name__} is not registered",
                    where=locate(event_id=event.id),
                    hint="register it with EventRegistry.with_event",
                )
            names = fields_of[kind_type] = kind.references
        if not names:
            continue
        targets: list[str] = []
        for name in names:
            value = getattr(event, name)
            if isinstance(value, str):
                targets.append(value)
            elif isinstance(value, tuple):
                targets.extend(value)
        if targets:
            found[index] = targets
    return found


def _references(
    named: dict[int, list[str]], position: dict[str, int]
) -> dict[int, tuple[int, ...]]:
    """Each event's references to events in the set, as positions.

    References to unknown ids are left for the fold to report.
    """
    found: dict[int, tuple[int, ...]] = {}
    for index, targets in named.items():
        known = tuple(position[t] for t in targets if t in position)
        if known:
            found[index] = known
    return found


def _depths(ordered: Sequence[Event], refs: dict[int, tuple[int, ...]]) -> list[int]:
    """Each event's depth in the reference graph; a cycle is an error.

    References nearly always point to events listed earlier, so one pass in list
    order settles most depths; a depth-first search settles the rest.
    """
    depth = [0] * len(ordered)
    settled = [True] * len(ordered)
    for index in refs:
        settled[index] = False
    pending: list[int] = []
    for index, targets in refs.items():
        if all(t < index and settled[t] for t in targets):
            depth[index] = 1 + max(depth[t] for t in targets)
            settled[index] = True
        else:
            pending.append(index)
    for root in pending:
        if not settled[root]:
            _search_depth(root, ordered, refs, depth, settled)
    return depth


def _search_depth(
    root: int,
    ordered: Sequence[Event],
    refs: dict[int, tuple[int, ...]],
    depth: list[int],
    settled: list[bool],
) -> None:
    """Settle the depths below ``root`` by depth-first search; a cycle is an error."""
    visiting: set[int] = set()
    stack: list[tuple[int, int]] = [(root, 0)]
    while stack:
        index, next_ref = stack.pop()
        targets = refs.get(index, ())
        if next_ref == 0:
            visiting.add(index)
        if next_ref < len(targets):
            stack.append((index, next_ref + 1))
            target = targets[next_ref]
            if target in visiting:
                raise ImpossibleEventError(
                    f"refers back to itself through {ordered[target].id!r}",
                    event_id=ordered[index].id,
                    hint="a reference must point to an earlier event; fix the ids",
                )
            if not settled[target]:
                stack.append((target, 0))
            continue
        visiting.discard(index)
        depth[index] = 1 + max((depth[t] for t in targets), default=-1)
        settled[index] = True


def state_at(
    source: EventSource | Iterable[Event],
    on: date | str | None = None,
    *,
    reading: Reading = Reading.SURELY,
    known_at: datetime | str | None = None,
    registry: EventRegistry | None = None,
) -> NegotiationState:
    """The state of the negotiation on day ``on`` (``None``: after every event).

    ``source`` is a log or any iterable of events; the answer depends only on which
    events it holds, never on the order they were recorded in.  ``known_at`` (logs
    only) replays what the log held at that time: only records appended by then
    count, corrections and retractions included.
    """
    if isinstance(source, EventSource):
        timeline = source.timeline(known_at=moment_of(known_at))
    elif known_at is not None:
        raise NegstateError(
            "known_at needs a log: plain events carry no recording time",
            hint="open the log with negstate.open_log and pass it instead",
        )
    else:
        timeline = build_timeline(source, registry or BUILTIN_EVENTS)
    return timeline.state_at(on, reading=reading)


def reading_of(value: Reading | str) -> Reading:
    """A reading given as a Reading or as its text (``surely``, ``possibly``)."""
    try:
        return Reading(value)
    except ValueError:
        raise FuzzyDateError(
            f"{value!r} is not a reading", hint="use surely or possibly"
        ) from None


def moment_of(value: datetime | date | str | None) -> datetime | None:
    """Read a recording time: an aware datetime, a day (its end, UTC) or ISO text.

    A day means "as known at the end of that day": ``2025-07-01`` is
    2025-07-01T23:59:59.999999Z.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise FuzzyDateError(
                f"{value!r} has no time zone", hint="pass an aware datetime in UTC"
            )
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if len(text) == len("YYYY-MM-DD"):
            return moment_of(parse_day(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise FuzzyDateError(
                f"{value!r} is not a time",
                hint="write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment
    raise FuzzyDateError(
        f"cannot use {value!r} as a time", hint="pass a datetime or YYYY-MM-DD"
    )
