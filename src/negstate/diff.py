"""What changed between two states: a list of changes at stable paths.

Paths name a record of the state the same way everywhere (``positions/RU/ceasefire``,
``proposals/us-ceasefire``, ``exchanges/UA/prisoners_of_war``), so a change can be
looked up, filtered and explained.  A record appears as ``added``, ``removed`` or
``changed``; a changed one lists the ``fields`` that differ.  Each change carries the
ids of the events behind it, and its values are plain JSON data, so a diff prints,
serializes and compares easily.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from enum import StrEnum
from typing import Any

import attrs
import cattrs

from negstate._gc import paused_gc
from negstate.errors import NegstateError
from negstate.events import Event
from negstate.explain import SECTIONS
from negstate.index import PrefixEvents
from negstate.state import NegotiationState, Reading, Swap, SwapView
from negstate.values import Release, Source

__all__ = ["Change", "ChangeKind", "Diff", "diff", "focus_stem", "state_paths"]


class ChangeKind(StrEnum):
    """Whether a path appeared, disappeared or took another value."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"

    @property
    def inverse(self) -> ChangeKind:
        """The kind of the same change read backwards."""
        if self is ChangeKind.ADDED:
            return ChangeKind.REMOVED
        if self is ChangeKind.REMOVED:
            return ChangeKind.ADDED
        return self


_MARKS = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.CHANGED: "~"}
_PROVENANCE = frozenset({"event", "basis", "since", "events"})
"""Fields that say where a value came from; the text shows them only if alone."""


def _brief(value: Any, limit: int = 100) -> str:  # noqa: ANN401 - JSON data
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@attrs.frozen(kw_only=True)
class Change:
    """One difference at a path, with the events that caused it.

    ``before`` and ``after`` are plain JSON values; ``events`` are in valid-time order.
    """

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None
    events: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    """For a changed record, the names of the fields that differ."""
    sources: tuple[Source, ...] = ()
    """The reports behind :attr:`events`, once each."""

    def inverse(self) -> Change:
        """The same change read from the later state to the earlier one."""
        return Change(
            path=self.path,
            kind=self.kind.inverse,
            before=self.after,
            after=self.before,
            events=self.events,
            fields=self.fields,
            sources=self.sources,
        )

    def __str__(self) -> str:
        cause = f"  [{', '.join(self.events)}]" if self.events else ""
        if self.kind is not ChangeKind.CHANGED:
            value = self.after if self.kind is ChangeKind.ADDED else self.before
            return f"{_MARKS[self.kind]} {self.path}: {_brief(value)}{cause}"
        if not isinstance(self.before, dict) or not isinstance(self.after, dict):
            return (
                f"~ {self.path}: {_brief(self.before)} -> {_brief(self.after)}{cause}"
            )
        shown = [f for f in self.fields if f not in _PROVENANCE] or list(self.fields)
        parts = [
            f"{name}: {_brief(self.before.get(name), 60)} -> "
            f"{_brief(self.after.get(name), 60)}"
            for name in shown
        ]
        return f"~ {self.path}: {'; '.join(parts)}{cause}"


@attrs.frozen(kw_only=True)
class Diff:
    """The changes from the state ``before`` (its day) to the state ``after``."""

    before: date | None
    after: date | None
    changes: tuple[Change, ...] = ()

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def under(self, prefix: str) -> Diff:
        """Only the changes at ``prefix`` or below it (``positions/RU``)."""
        stem = prefix.rstrip("/")
        return attrs.evolve(
            self, changes=tuple(c for c in self.changes if _at_or_below(c.path, stem))
        )

    def inverse(self) -> Diff:
        """The diff read backwards: ``diff(b, a) == diff(a, b).inverse()``."""
        return Diff(
            before=self.after,
            after=self.before,
            changes=tuple(change.inverse() for change in self.changes),
        )

    def __str__(self) -> str:
        span = f"{_day(self.before)} -> {_day(self.after)}"
        if not self.changes:
            return f"No changes ({span})"
        lines = [f"{len(self.changes)} change(s) ({span})"]
        lines += [str(change) for change in self.changes]
        return "\n".join(lines)


def _day(day: date | None) -> str:
    return "end of log" if day is None else day.isoformat()


def _default_converter() -> cattrs.Converter:
    from negstate.serialization import shared_converter  # noqa: PLC0415

    return shared_converter(omit_defaults=False)


def state_paths(state: NegotiationState) -> dict[str, Any]:
    """Every record of ``state`` keyed by its path (``positions/RU/ceasefire``...)."""
    found: dict[str, Any] = {}
    for section, records in _tables(state).items():
        for key in records:
            found[f"{section}/{_path_key(key)}"] = records[key]
    return found


class _SwapsById(Mapping[str, Swap]):
    """A state's swaps from position ``start`` on, by id, building only those read."""

    def __init__(self, swaps: Sequence[Swap], start: int = 0) -> None:
        self._swaps = swaps
        self._entries = swaps.entries if isinstance(swaps, SwapView) else swaps
        self._start = start
        self._position: dict[str, int] | None = None

    def _positions(self) -> dict[str, int]:
        if self._position is None:
            entries = self._entries
            self._position = {
                entries[n].id: n for n in range(self._start, len(entries))
            }
        return self._position

    def __getitem__(self, key: str) -> Swap:
        return self._swaps[self._positions()[key]]

    def releases(self, key: str) -> tuple[Release, ...] | None:
        """The releases of swap ``key``, without building its record; None if absent."""
        position = self._positions().get(key)
        return None if position is None else self._entries[position].releases

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions())

    def __len__(self) -> int:
        return len(self._entries) - self._start


def _tables(state: NegotiationState) -> dict[str, Mapping[Any, Any]]:
    return {
        "positions": state.positions,
        "proposals": state.proposals,
        "meeting_proposals": state.meeting_proposals,
        "meetings": state.meetings,
        "agreements": state.agreements,
        "deadlines": state.deadlines,
        "swaps": _SwapsById(state.swaps),
        "exchanges": state.exchanges,
        "figures": state.figures,
        **{f"custom/{name}": records for name, records in sorted(state.custom.items())},
    }


def _swaps_between(
    before: NegotiationState, after: NegotiationState
) -> tuple[_SwapsById, _SwapsById]:
    """The swaps only one of two states holds, by id, for states of one index.

    Such states hold prefixes of one list of swaps, so the swaps past the shorter
    prefix are all that differ; the others need not be looked up.
    """
    old, new = before.swaps, after.swaps
    if len(old) <= len(new):
        return _SwapsById(old, len(old)), _SwapsById(new, len(old))
    return _SwapsById(old, len(new)), _SwapsById(new, len(new))


def _path_key(key: Any) -> str:  # noqa: ANN401 - a table key
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _record_events(record: object) -> tuple[str, ...]:
    events = getattr(record, "events", ())
    return tuple(events) if isinstance(events, tuple) else ()


class _Known(Mapping[str, Event]):
    """The events of either state, without copying them."""

    def __init__(self, first: Mapping[str, Event], second: Mapping[str, Event]) -> None:
        self._first, self._second = first, second

    def __getitem__(self, key: str) -> Event:
        found = self._first.get(key)
        return self._second[key] if found is None else found

    def get(self, key: str, default: Any = None) -> Any:  # noqa: ANN401
        """The event ``key`` from either state, or ``default``."""
        found = self._first.get(key)
        return self._second.get(key, default) if found is None else found

    def __iter__(self) -> Iterator[str]:
        yield from self._first
        yield from (key for key in self._second if key not in self._first)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _either(
    first: Mapping[str, Event], second: Mapping[str, Event]
) -> Mapping[str, Event]:
    """The events of either state: one lookup when one holds the other's."""
    if isinstance(first, PrefixEvents):
        covering = first.covering(second)
        if covering is not None:
            return covering
    return _Known(first, second)


def _candidates(
    before: NegotiationState, after: NegotiationState, sections: AbstractSet[str]
) -> dict[str, set[Any]] | None:
    """The keys of ``sections`` that may differ, if both states share an index.

    The index is a timeline's (:class:`~negstate.index.ReplayIndex`) or a saved one
    (:class:`~negstate.stores.checkpoints.SavedIndex`).  ``None`` means every key
    must be compared.
    """
    first, second = before.origin, after.origin
    if not (
        isinstance(first, tuple)
        and isinstance(second, tuple)
        and first[0] is second[0]
        and before.reading is Reading.SURELY
        and after.reading is Reading.SURELY
    ):
        return None
    index = first[0]
    low, high = sorted((first[1], second[1]))
    found = {
        name: index.changed(name, low, high)
        for name in _TABLE_NAMES
        if name in sections
    }
    if sections & {"swaps", "exchanges"}:
        found["swaps"] = index.swap_ids_between(low, high)
    for name in before.custom.keys() | after.custom.keys():
        if f"custom/{name}" in sections:
            found[f"custom/{name}"] = index.changed(name, low, high)
    if before.as_of != after.as_of:
        days = sorted(
            (d for d in (before.as_of, after.as_of) if d is not None),
        )
        if len(days) < 2:  # noqa: PLR2004 - one state is "after everything"
            return None
        for name in ("deadlines", "meeting_proposals"):
            if name in found:
                found[name] |= index.dated(name, days[0], days[1])
    return found


_TABLE_NAMES = (
    "positions",
    "proposals",
    "meeting_proposals",
    "meetings",
    "agreements",
    "deadlines",
    "exchanges",
    "figures",
)


def diff(
    before: NegotiationState,
    after: NegotiationState,
    *,
    converter: cattrs.Converter | None = None,
    under: str | None = None,
) -> Diff:
    """The changes that turn ``before`` into ``after``.

    ``diff(s, s)`` is empty and ``diff(b, a)`` is ``diff(a, b).inverse()``.  Two
    states read from the same log are compared only where events between them
    wrote, so a diff costs what changed, not the size of the states.

    ``under`` keeps only the changes at that path or below it
    (``positions/RU``, ``proposals``): the diff equals
    ``diff(before, after).under(path)``, but records elsewhere are never
    compared, so a focused diff between days years apart costs what changed
    under the path.  A path that starts with no section raises NegstateError.
    """
    plain = (converter or _default_converter()).unstructure
    stem = None if under is None else focus_stem(under)
    with paused_gc():
        changes = _changes(before, after, plain, stem)
    return Diff(before=before.as_of, after=after.as_of, changes=changes)


def _within(section: str, stem: str | None) -> str | None:
    """The key path prefix kept in ``section`` ("": every key), or None to skip it.

    ``stem`` is the path a diff is focused on (None: every path).
    """
    if stem is None or _at_or_below(section, stem):
        return ""
    if stem.startswith(section + "/"):
        return stem[len(section) + 1 :]
    return None


def focus_stem(under: str) -> str:
    """The path a diff is focused on, without trailing slashes.

    Raises NegstateError when it starts with no section of a state (``position/RU``
    for ``positions/RU``), rather than letting the diff come back empty.
    """
    stem = under.rstrip("/")
    if stem.split("/", 1)[0] not in SECTIONS:
        raise NegstateError(
            f"{under!r} starts with no section of a state",
            where="diff under",
            hint="start the path with one of " + ", ".join(SECTIONS),
        )
    return stem


def _at_or_below(path: str, stem: str) -> bool:
    return path == stem or path.startswith(stem + "/")


def _kept(keys: Iterable[Any], prefix: str) -> Iterable[Any]:
    """The keys whose path is ``prefix`` or lies below it (all keys for "")."""
    if not prefix:
        return keys
    return [key for key in keys if _at_or_below(_path_key(key), prefix)]


def _changes(
    before: NegotiationState,
    after: NegotiationState,
    plain: Callable[[Any], Any],
    stem: str | None,
) -> tuple[Change, ...]:
    known = _either(after.events, before.events)
    old_tables, new_tables = _tables(before), _tables(after)
    wanted = {
        section: prefix
        for section in old_tables.keys() | new_tables.keys()
        if (prefix := _within(section, stem)) is not None
    }
    candidates = _candidates(before, after, wanted.keys())
    old_swaps, new_swaps = (
        (_SwapsById(before.swaps), _SwapsById(after.swaps))
        if candidates is None
        else _swaps_between(before, after)
    )
    old_tables["swaps"], new_tables["swaps"] = old_swaps, new_swaps
    exchange_events = (
        _exchange_events(old_swaps, new_swaps, candidates)
        if "exchanges" in wanted
        else {}
    )
    changes: list[Change] = []
    for section in sorted(wanted):
        old = old_tables.get(section, {})
        new = new_tables.get(section, {})
        keys = (
            (old.keys() | new.keys())
            if candidates is None
            else candidates.get(section, set())
        )
        for key in sorted(_kept(keys, wanted[section]), key=_path_key):
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if section == "exchanges":
                causes = exchange_events.get(key, set())
            else:
                was_events = set(_record_events(was))
                now_events = set(_record_events(now))
                causes = (was_events ^ now_events) or (was_events | now_events)
            found = _in_time_order(causes, known)
            revisions = _revisions_between(before, after, found)
            events = (*(event_id for event_id, _ in found), *(r.id for r in revisions))
            changes.append(
                Change(
                    path=f"{section}/{_path_key(key)}",
                    kind=ChangeKind.ADDED
                    if was is None
                    else ChangeKind.REMOVED
                    if now is None
                    else ChangeKind.CHANGED,
                    before=None if was is None else plain(was),
                    after=None if now is None else plain(now),
                    events=events,
                    fields=_changed_fields(was, now),
                    sources=_sources_of(found, revisions),
                )
            )
    return tuple(changes)


def _in_time_order(
    ids: set[str], known: Mapping[str, Event]
) -> list[tuple[str, Event | None]]:
    """Event ids with their events, in the order they happened (unknown ids first)."""
    if len(ids) == 1:
        (event_id,) = ids
        return [(event_id, known.get(event_id))]
    found = [(event_id, known.get(event_id)) for event_id in ids]
    found.sort(key=_happened)
    return found


def _happened(item: tuple[str, Event | None]) -> tuple[int, int, str]:
    event_id, event = item
    if event is None:
        return (0, 0, event_id)
    span = event.occurred
    return (span.last_ordinal, span.first_ordinal, event_id)


def _sources_of(
    found: list[tuple[str, Event | None]], revisions: tuple[Event, ...] = ()
) -> tuple[Source, ...]:
    """The reports behind the events found and the revisions, once each."""
    if len(found) == 1 and not revisions and found[0][1] is not None:
        # Most changes rest on one event with one report: nothing to hash.
        sources = found[0][1].sources
        if len(sources) == 1:
            return sources
    unique: dict[Source, None] = {}
    for _, event in found:
        if event is not None:
            unique.update(dict.fromkeys(event.sources))
    for revision in revisions:
        unique.update(dict.fromkeys(revision.sources))
    return tuple(unique)


def _revisions_between(
    before: NegotiationState,
    after: NegotiationState,
    causes: list[tuple[str, Event | None]],
) -> tuple[Event, ...]:
    """Revisions of a change's events that only one of the states was replayed with.

    A correction recorded between two knowledge times is such a revision.  They
    come in the order of the events they revise (``causes``, in time order), each
    event's by id.
    """
    if not before.revised_by and not after.revised_by:
        return ()
    found: dict[str, Event] = {}
    for event_id, _ in causes:
        old = {r.id: r for r in before.revised_by.get(event_id, ())}
        new = {r.id: r for r in after.revised_by.get(event_id, ())}
        for revision_id in sorted(old.keys() ^ new.keys()):
            found[revision_id] = old.get(revision_id) or new[revision_id]
    return tuple(found.values())


def _changed_fields(was: Any, now: Any) -> tuple[str, ...]:  # noqa: ANN401
    if type(was) is not type(now) or not attrs.has(type(was)):
        return ()
    return tuple(
        field.name
        for field in attrs.fields(type(was))
        if getattr(was, field.name) != getattr(now, field.name)
    )


def _exchange_events(
    before: _SwapsById,
    after: _SwapsById,
    candidates: dict[str, set[Any]] | None,
) -> dict[tuple[str, str], set[str]]:
    """For each (party, category) total, the swaps in one state but not the other."""
    if candidates is None:
        differing = before.keys() ^ after.keys()
    else:
        differing = candidates["swaps"]
    causes: dict[tuple[str, str], set[str]] = {}
    for swap_id in differing:
        releases = after.releases(swap_id) or before.releases(swap_id) or ()
        for release in releases:
            causes.setdefault((release.by, release.category), set()).add(swap_id)
    return causes
