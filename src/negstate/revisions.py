"""Corrections, retractions and merges: how later reports revise the record.

The log is never edited.  A revision is an event like any other, and replay applies
the revisions it knows of *before* it orders and folds the rest:

- :class:`~negstate.events.EventRetracted` removes its target, as if it had never
  been recorded.  Retracting a correction or a merge undoes it.
- :class:`~negstate.events.EventCorrected` puts its replacement in the target's
  place; the latest correction of an event (in recording order) wins.
- :class:`~negstate.events.EventsMerged` drops the duplicates, adds their sources to
  the kept event and points references to a duplicate at the kept event.

Which revisions count is decided by recording time: replay "as known at T" sees only
the revisions recorded by T (see :func:`negstate.state_at`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from negstate.errors import ImpossibleEventError, UnknownReferenceError
from negstate.events import (
    Event,
    EventCorrected,
    EventRetracted,
    EventsMerged,
    reference_fields,
)

__all__ = [
    "Revised",
    "Reviser",
    "RevisionDraft",
    "apply_revisions",
    "correct",
    "merge",
    "retract",
]


Reviser = Callable[["RevisionDraft", Any], None]
"""Applies one revision event to the recorded events; raises a FoldError if it
cannot."""


class RevisionDraft:
    """The recorded events while revisions are applied to them, in recording order.

    ``events`` holds the events that still count, by id; ``revised_by`` the
    revision events that shaped each of them.
    """

    __slots__ = ("aliases", "events", "removed", "revised_by")

    def __init__(self, events: Mapping[str, Event]) -> None:
        self.events: dict[str, Event] = dict(events)
        self.revised_by: dict[str, list[str]] = {}
        self.removed: dict[str, str] = {}
        self.aliases: dict[str, str] = {}

    def target(self, revision: Event, target: str) -> Event:
        """The event ``revision`` revises, or a FoldError saying why there is none."""
        found = self.events.get(target)
        if found is not None:
            return found
        if target in self.removed:
            raise ImpossibleEventError(
                f"revises {target!r}, which {self.removed[target]!r} already removed",
                event_id=revision.id,
                hint="revise the event that remains, or retract the earlier revision",
            )
        raise UnknownReferenceError(
            f"revises {target!r}, which the log does not hold",
            event_id=revision.id,
            hint="record the event first, or fix the id",
        )

    def note(self, target: str, revision: Event) -> None:
        """Remember that ``revision`` shaped ``target``."""
        self.revised_by.setdefault(target, []).append(revision.id)


def retract(draft: RevisionDraft, event: EventRetracted) -> None:
    """Remove the target (a retracted revision was already set aside)."""
    draft.target(event, event.target)
    del draft.events[event.target]
    draft.removed[event.target] = event.id
    draft.note(event.target, event)


def correct(draft: RevisionDraft, event: EventCorrected) -> None:
    """Put the replacement in the target's place."""
    original = draft.target(event, event.target)
    if type(original) is not type(event.replacement):
        raise ImpossibleEventError(
            f"replaces a {type(original).__name__} with a "
            f"{type(event.replacement).__name__}",
            event_id=event.id,
            hint="retract the event and record the right one under a new id",
        )
    draft.events[event.target] = event.replacement
    draft.note(event.target, event)


def merge(draft: RevisionDraft, event: EventsMerged) -> None:
    """Drop the duplicates; the kept event takes their sources."""
    kept = draft.target(event, event.kept)
    duplicates = [draft.target(event, duplicate) for duplicate in event.duplicates]
    sources = list(kept.sources)
    for duplicate in duplicates:
        sources.extend(s for s in duplicate.sources if s not in sources)
        del draft.events[duplicate.id]
        draft.removed[duplicate.id] = event.id
        draft.aliases[duplicate.id] = kept.id
        draft.note(duplicate.id, event)
    draft.events[kept.id] = attrs.evolve(kept, sources=tuple(sources))
    draft.note(kept.id, event)


@attrs.frozen
class Revised:
    """The events that count once revisions are applied, and what revised them."""

    events: tuple[Event, ...]
    revisions: Mapping[str, Event]
    """Every revision event that was applied, by id."""
    revised_by: Mapping[str, tuple[str, ...]]
    """For each revised event id, the ids of the revisions that shaped it."""


def apply_revisions(
    events: Iterable[Event], revisers: Mapping[type[Event], Reviser]
) -> Revised:
    """Apply the revisions among ``events`` (in the order given) to the others.

    ``revisers`` maps each revision type to the function that applies it (a
    registry's ``revisers``).  Retractions of revisions are honoured first, so a
    retracted correction is never applied; then revisions apply in order.
    """
    listed = events if isinstance(events, list | tuple) else list(events)
    revisions = [event for event in listed if type(event) in revisers]
    if not revisions:
        return Revised(tuple(listed), MappingProxyType({}), MappingProxyType({}))
    plain = {event.id: event for event in listed if type(event) not in revisers}
    revision_ids = {revision.id for revision in revisions}
    cancelled: set[str] = set()
    for revision in reversed(revisions):
        if isinstance(revision, EventRetracted) and revision.id not in cancelled:
            cancelled.add(revision.target)
    draft = RevisionDraft(plain)
    applied: dict[str, Event] = {}
    for revision in revisions:
        if revision.id in cancelled:
            continue
        applied[revision.id] = revision
        if isinstance(revision, EventRetracted) and revision.target in revision_ids:
            continue  # it cancelled a revision above
        revisers[type(revision)](draft, revision)
    remaining = _redirect(draft.events, draft.aliases)
    return Revised(
        tuple(remaining),
        MappingProxyType(applied),
        MappingProxyType({k: tuple(v) for k, v in draft.revised_by.items()}),
    )


def _resolve(aliases: Mapping[str, str], event_id: str) -> str:
    seen = {event_id}
    while event_id in aliases:
        event_id = aliases[event_id]
        if event_id in seen:
            break
        seen.add(event_id)
    return event_id


def _redirect(events: Mapping[str, Event], aliases: Mapping[str, str]) -> list[Event]:
    """Point references to merged duplicates at the events that were kept."""
    if not aliases:
        return list(events.values())
    redirected: list[Event] = []
    for event in events.values():
        changes: dict[str, Any] = {}
        for name in reference_fields(type(event)):
            value = getattr(event, name)
            if isinstance(value, str) and value in aliases:
                changes[name] = _resolve(aliases, value)
            elif isinstance(value, tuple) and any(v in aliases for v in value):
                changes[name] = tuple(_resolve(aliases, v) for v in value)
        redirected.append(attrs.evolve(event, **changes) if changes else event)
    return redirected
