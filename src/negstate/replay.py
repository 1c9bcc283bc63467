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

On day D under :attr:`Reading.SURELY` (the default) the events that count are those
whose narrowed latest day is on or before D: a prefix of that order.  Under
:attr:`Reading.POSSIBLY` they are those whose narrowed earliest day is on or before
D, folded in the same order.  Either way an event never counts before what it
refers to.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Final, Protocol, runtime_checkable

import attrs

from negstate.dates import FuzzyDate, parse_day
from negstate.errors import (
    DateConflictError,
    DuplicateEventError,
    FuzzyDateError,
    ImpossibleEventError,
    RegistryError,
    locate,
)
from negstate.events import Event
from negstate.reducers import BUILTIN_EVENTS, fold
from negstate.registry import EventRegistry
from negstate.state import NegotiationState, Reading

__all__ = ["EventSource", "Timeline", "build_timeline", "day_of", "state_at"]

_OPEN_START: Final = 0
_OPEN_END: Final = date.max.toordinal() + 1


@runtime_checkable
class EventSource(Protocol):
    """Anything that can hand replay a :class:`Timeline` (every log can)."""

    def timeline(self) -> Timeline:
        """The log's events in valid-time order."""
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


@attrs.frozen(eq=False)
class Timeline:
    """A set of events in valid-time order, ready to be folded up to any day.

    ``events`` is the order; ``latest`` and ``earliest`` hold each event's narrowed
    span as day ordinals (open ends become 0 and a day past ``date.max``).
    """

    events: tuple[Event, ...]
    latest: Sequence[int] = attrs.field(repr=False)
    earliest: Sequence[int] = attrs.field(repr=False)
    registry: EventRegistry = attrs.field(default=BUILTIN_EVENTS, repr=False)

    def __len__(self) -> int:
        return len(self.events)

    def span_of(self, index: int) -> FuzzyDate:
        """The narrowed span of the event at ``index`` in the order."""
        low, high = self.earliest[index], self.latest[index]
        return FuzzyDate(
            None if low == _OPEN_START else date.fromordinal(low),
            None if high == _OPEN_END else date.fromordinal(high),
        )

    def counting(
        self, on: date | str | None = None, *, reading: Reading = Reading.SURELY
    ) -> list[Event]:
        """The events that count on day ``on`` (all of them when ``on`` is None)."""
        if on is None:
            return list(self.events)
        day = day_of(on).toordinal()
        surely = bisect_right(self.latest, day)
        found = list(self.events[:surely])
        if reading is Reading.POSSIBLY:
            earliest = self.earliest
            found.extend(
                event
                for index, event in enumerate(self.events[surely:], start=surely)
                if earliest[index] <= day
            )
        return found

    def state_at(
        self, on: date | str | None = None, *, reading: Reading = Reading.SURELY
    ) -> NegotiationState:
        """The state on day ``on``, read the ``reading`` way (``None``: after all)."""
        day = None if on is None else day_of(on)
        return fold(
            self.counting(day, reading=reading),
            as_of=day,
            reading=reading,
            registry=self.registry,
        )


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


def _references(
    by_id: dict[str, Event], registry: EventRegistry
) -> dict[str, tuple[str, ...]]:
    """Each event's references to events in the set (unknown ids are left to fold)."""
    fields_of: dict[type[Event], tuple[str, ...]] = {}
    found: dict[str, tuple[str, ...]] = {}
    for event_id, event in by_id.items():
        kind_type = type(event)
        names = fields_of.get(kind_type)
        if names is None:
            kind = registry.kind_of(kind_type)
            if kind is None:
                raise RegistryError(
                    f"event type {kind_type.__name__} is not registered",
                    where=locate(event_id=event_id),
                    hint="register it with EventRegistry.with_event",
                )
            names = fields_of[kind_type] = kind.references
        if names:
            targets: list[str] = []
            for name in names:
                value = getattr(event, name)
                if isinstance(value, tuple):
                    targets.extend(t for t in value if t in by_id)
                elif value is not None and value in by_id:
                    targets.append(value)
            if targets:
                found[event_id] = tuple(targets)
    return found


def _depths(
    by_id: dict[str, Event], refs: dict[str, tuple[str, ...]]
) -> dict[str, int]:
    """Each event's depth in the reference graph; a cycle is an error."""
    depth: dict[str, int] = {}
    visiting: set[str] = set()
    for root in refs:
        if root in depth:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            event_id, next_ref = stack.pop()
            targets = refs.get(event_id, ())
            if next_ref == 0:
                visiting.add(event_id)
            if next_ref < len(targets):
                stack.append((event_id, next_ref + 1))
                target = targets[next_ref]
                if target in visiting:
                    raise ImpossibleEventError(
                        f"refers back to itself through {target!r}",
                        event_id=event_id,
                        hint="a reference must point to an earlier event; fix the ids",
                    )
                if target not in depth:
                    stack.append((target, 0))
                continue
            visiting.discard(event_id)
            depth[event_id] = 1 + max((depth[t] for t in targets), default=-1)
    for event_id in by_id:
        depth.setdefault(event_id, 0)
    return depth


def build_timeline(
    events: Iterable[Event], registry: EventRegistry = BUILTIN_EVENTS
) -> Timeline:
    """Put ``events`` in valid-time order (see the module docstring for the rule).

    Identical events recorded twice count once; the same id with other content
    raises DuplicateEventError.
    """
    by_id = _unique(events)
    refs = _references(by_id, registry)
    depth = _depths(by_id, refs)
    earliest: dict[str, int] = {}
    latest: dict[str, int] = {}
    for event_id, event in by_id.items():
        span = event.occurred
        earliest[event_id] = (
            _OPEN_START if span.earliest is None else span.earliest.toordinal()
        )
        latest[event_id] = _OPEN_END if span.latest is None else span.latest.toordinal()
    if refs:
        by_depth = sorted(refs, key=depth.__getitem__)
        for event_id in by_depth:
            bound, cause = earliest[event_id], None
            for target in refs[event_id]:
                if earliest[target] > bound:
                    bound, cause = earliest[target], target
            if bound > latest[event_id]:
                raise DateConflictError(
                    f"is dated {by_id[event_id].occurred} but refers to {cause!r}, "
                    f"which cannot have happened before "
                    f"{date.fromordinal(bound)}",
                    event_id=event_id,
                    hint="correct one of the two dates",
                )
            earliest[event_id] = bound
        for event_id in reversed(by_depth):
            bound = latest[event_id]
            for target in refs[event_id]:
                latest[target] = min(latest[target], bound)
    order = sorted(
        by_id,
        key=lambda event_id: (
            latest[event_id],
            earliest[event_id],
            depth[event_id],
            event_id,
        ),
    )
    return Timeline(
        events=tuple(by_id[event_id] for event_id in order),
        latest=[latest[event_id] for event_id in order],
        earliest=[earliest[event_id] for event_id in order],
        registry=registry,
    )


def state_at(
    source: EventSource | Iterable[Event],
    on: date | str | None = None,
    *,
    reading: Reading = Reading.SURELY,
    registry: EventRegistry | None = None,
) -> NegotiationState:
    """The state of the negotiation on day ``on`` (``None``: after every event).

    ``source`` is a log or any iterable of events; the answer depends only on which
    events it holds, never on the order they were recorded in.
    """
    if isinstance(source, EventSource):
        timeline = source.timeline()
    else:
        timeline = build_timeline(source, registry or BUILTIN_EVENTS)
    return timeline.state_at(on, reading=reading)
