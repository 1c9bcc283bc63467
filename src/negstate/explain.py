"""Provenance: which events, and which reports, produced a piece of state.

``explain(state, "exchanges/UA/prisoners_of_war")`` is the ``git blame`` of a
negotiation: the events behind the value, in valid-time order, each with its
sources.  Folding just those events (and the events they refer to) gives the same
value again, and dropping any one of them changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from negstate.errors import NegstateError
from negstate.events import Event
from negstate.state import NegotiationState, SwapView
from negstate.values import Source

__all__ = ["Explanation", "explain", "resolve"]

SECTIONS = (
    "positions",
    "proposals",
    "meeting_proposals",
    "meetings",
    "agreements",
    "deadlines",
    "swaps",
    "exchanges",
    "figures",
    "custom",
)
"""The first part of every state path."""


@attrs.frozen(kw_only=True)
class Explanation:
    """The record at a path, the events behind it and their sources."""

    path: str
    """The record's path (a field named after it is dropped)."""
    record: Any
    events: tuple[Event, ...]
    revised_by: Mapping[str, tuple[Event, ...]] = attrs.field(factory=dict)
    """For each event that later reports revised, the revisions applied to it."""

    @property
    def event_ids(self) -> tuple[str, ...]:
        """The ids of :attr:`events`."""
        return tuple(event.id for event in self.events)

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every report behind the record, once each, in the events' order."""
        found: list[Source] = []
        for event in self.events:
            found.extend(s for s in event.sources if s not in found)
        for revisions in self.revised_by.values():
            for revision in revisions:
                found.extend(s for s in revision.sources if s not in found)
        return tuple(found)

    def __str__(self) -> str:
        lines = [f"{self.path}: {len(self.events)} event(s)"]
        width = max((len(e.occurred.describe()) for e in self.events), default=0)
        for event in self.events:
            when = event.occurred.describe()
            lines.append(f"  {when:<{width}}  {event.id} ({type(event).__name__})")
            lines.extend(f"      {cited}" for cited in _citations(event.sources))
            for revision in self.revised_by.get(event.id, ()):
                lines.append(
                    f"      revised by {revision.id} ({type(revision).__name__})"
                )
                lines.extend(
                    f"        {cited}" for cited in _citations(revision.sources)
                )
        return "\n".join(lines)


def _citations(sources: tuple[Source, ...]) -> list[str]:
    """Each report once, though an event may quote it more than once."""
    return list(dict.fromkeys(source.cite() for source in sources))


def resolve(state: NegotiationState, path: str) -> tuple[str, Any]:
    """The record a path names and the record's own path; raise if there is none.

    A path may name a field after the record (``proposals/p1/status``); the record
    is returned.
    """
    section, _, rest = path.strip("/").partition("/")
    parts = rest.split("/") if rest else []
    record: Any = None
    used = 0
    if section in {"positions", "exchanges"} and len(parts) >= 2:  # noqa: PLR2004
        table = state.positions if section == "positions" else state.exchanges
        record, used = table.get((parts[0], parts[1])), 2
    elif section == "swaps" and parts:
        swaps = state.swaps
        record = (
            swaps.find(parts[0])
            if isinstance(swaps, SwapView)
            else next((s for s in swaps if s.id == parts[0]), None)
        )
        used = 1
    elif section == "figures" and parts:
        for size in range(len(parts), 0, -1):
            record = state.figures.get("/".join(parts[:size]))
            if record is not None:
                used = size
                break
    elif section == "custom" and len(parts) >= 2:  # noqa: PLR2004
        record, used = state.custom.get(parts[0], {}).get(parts[1]), 2
    elif section in SECTIONS and parts:
        record, used = getattr(state, section).get(parts[0]), 1
    if record is None:
        raise NegstateError(
            f"the state holds nothing at {path!r}",
            hint="paths look like positions/RU/ceasefire, proposals/<id>, "
            "exchanges/UA/prisoners_of_war, figures/<subject>; sections are "
            + ", ".join(SECTIONS),
        )
    return "/".join([section, *parts[:used]]), record


def _event_ids(
    state: NegotiationState,
    section: str,
    path: str,
    record: Any,  # noqa: ANN401 - any record of the state
) -> list[str]:
    if section == "exchanges":
        party, category = path.split("/")[1:3]
        return [
            swap.id
            for swap in state.swaps
            if any(r.by == party and r.category == category for r in swap.releases)
        ]
    events = getattr(record, "events", ())
    return list(events) if isinstance(events, tuple) else []


@runtime_checkable
class _Narrowing(Protocol):
    """A saved checkpoint index, which finds a party's records by their tags."""

    def narrowed(
        self, state: NegotiationState, *, party: str | None, issue: str | None
    ) -> NegotiationState: ...


def _with_party_records(state: NegotiationState, party: str) -> NegotiationState:
    """For a state read from a saved index, the state narrowed to ``party``.

    Explaining an exchange total walks the state's swaps; the index finds the
    party's without reading the others.
    """
    origin = state.origin
    if isinstance(origin, tuple) and origin and isinstance(origin[0], _Narrowing):
        return origin[0].narrowed(state, party=party, issue=None)
    return state


@runtime_checkable
class _Placed(Protocol):
    """A checkpoint index's events (in memory or saved), which know their places."""

    def position(self, event_id: str) -> int | None: ...


def _in_fold_order(events: Mapping[str, Event], wanted: set[str]) -> tuple[Event, ...]:
    """The ``wanted`` events a state holds, in the order they were folded.

    Events that know their places are read only if wanted; other states' events
    are walked in order.
    """
    if not isinstance(events, _Placed):
        return tuple(event for event in events.values() if event.id in wanted)
    placed = sorted(
        (position, event_id)
        for event_id in wanted
        if (position := events.position(event_id)) is not None
    )
    return tuple(events[event_id] for _, event_id in placed)


def explain(
    state: NegotiationState,
    path: str,
    *,
    revisions: Mapping[str, Event] | None = None,
    revised_by: Mapping[str, tuple[str, ...]] | None = None,
) -> Explanation:
    """The events, in valid-time order, that produced the record at ``path``.

    The corrections and merges behind each event come with it: those the state was
    replayed with, or those of a timeline's ``revisions`` and ``revised_by`` when
    they are given.  From a state read from a saved index, an exchange total is
    explained from the swaps the index tags with its party, without reading the
    others.  A user-defined record in ``custom`` is explained by its
    ``events`` attribute, if it has one.
    """
    record_path, record = resolve(state, path)
    section = record_path.split("/")[0]
    if section == "exchanges":
        state = _with_party_records(state, record_path.split("/")[1])
    wanted = set(_event_ids(state, section, record_path, record))
    ordered = _in_fold_order(state.events, wanted)
    revisions_of: dict[str, tuple[Event, ...]] = {
        event.id: state.revised_by[event.id]
        for event in ordered
        if event.id in state.revised_by
    }
    if revisions is not None and revised_by is not None:
        for event in ordered:
            found = tuple(
                revisions[r] for r in revised_by.get(event.id, ()) if r in revisions
            )
            if found:
                revisions_of[event.id] = found
    return Explanation(
        path=record_path, record=record, events=ordered, revised_by=revisions_of
    )
