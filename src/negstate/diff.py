"""What changed between two states: a list of changes at stable paths.

Paths name a record of the state the same way everywhere (``positions/RU/ceasefire``,
``proposals/us-ceasefire``, ``exchanges/UA/prisoners_of_war``), so a change can be
looked up, filtered and explained.  A record appears as ``added``, ``removed`` or
``changed``; a changed one lists the ``fields`` that differ.  Each change carries the
ids of the events behind it, and its values are plain JSON data, so a diff prints,
serializes and compares easily.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

import attrs
import cattrs

from negstate.events import Event
from negstate.state import NegotiationState, Swap

__all__ = ["Change", "ChangeKind", "Diff", "diff", "state_paths"]


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

    def inverse(self) -> Change:
        """The same change read from the later state to the earlier one."""
        return Change(
            path=self.path,
            kind=self.kind.inverse,
            before=self.after,
            after=self.before,
            events=self.events,
            fields=self.fields,
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
            self,
            changes=tuple(
                c
                for c in self.changes
                if c.path == stem or c.path.startswith(stem + "/")
            ),
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


@functools.cache
def _default_converter() -> cattrs.Converter:
    from negstate.serialization import make_converter  # noqa: PLC0415

    return make_converter(omit_defaults=False)


def state_paths(state: NegotiationState) -> dict[str, Any]:
    """Every record of ``state`` keyed by its path (``positions/RU/ceasefire``...)."""
    found: dict[str, Any] = {}
    for section, records in _sections(state).items():
        for key, record in records.items():
            found[f"{section}/{key}"] = record
    return found


def _sections(state: NegotiationState) -> dict[str, Mapping[str, Any]]:
    return {
        "positions": {f"{p}/{i}": v for (p, i), v in state.positions.items()},
        "proposals": state.proposals,
        "meeting_proposals": state.meeting_proposals,
        "meetings": state.meetings,
        "agreements": state.agreements,
        "deadlines": state.deadlines,
        "swaps": {swap.id: swap for swap in state.swaps},
        "exchanges": {f"{p}/{c}": v for (p, c), v in state.exchanges.items()},
        "figures": state.figures,
        **{f"custom/{name}": records for name, records in sorted(state.custom.items())},
    }


def _record_events(record: object) -> tuple[str, ...]:
    events = getattr(record, "events", ())
    return tuple(events) if isinstance(events, tuple) else ()


def diff(
    before: NegotiationState,
    after: NegotiationState,
    *,
    converter: cattrs.Converter | None = None,
) -> Diff:
    """The changes that turn ``before`` into ``after``.

    ``diff(s, s)`` is empty and ``diff(b, a)`` is ``diff(a, b).inverse()``.
    """
    plain = (converter or _default_converter()).unstructure
    known: dict[str, Event] = {**before.events, **after.events}

    def in_time_order(ids: set[str]) -> tuple[str, ...]:
        def key(event_id: str) -> tuple[int, int, str]:
            event = known.get(event_id)
            if event is None:
                return (0, 0, event_id)
            span = event.occurred
            high = span.latest.toordinal() if span.latest else 10**8
            low = span.earliest.toordinal() if span.earliest else 0
            return (high, low, event_id)

        return tuple(sorted(ids, key=key))

    exchange_events = _exchange_events(before.swaps, after.swaps)
    changes: list[Change] = []
    old_sections, new_sections = _sections(before), _sections(after)
    for section in sorted(old_sections.keys() | new_sections.keys()):
        old = old_sections.get(section, {})
        new = new_sections.get(section, {})
        for key in sorted(old.keys() | new.keys()):
            path = f"{section}/{key}"
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if section == "exchanges":
                causes = exchange_events.get(key, set())
            else:
                was_events = set(_record_events(was))
                now_events = set(_record_events(now))
                causes = (was_events ^ now_events) or (was_events | now_events)
            events = in_time_order(causes)
            if was is None:
                changes.append(
                    Change(
                        path=path,
                        kind=ChangeKind.ADDED,
                        after=plain(now),
                        events=events,
                    )
                )
            elif now is None:
                changes.append(
                    Change(
                        path=path,
                        kind=ChangeKind.REMOVED,
                        before=plain(was),
                        events=events,
                    )
                )
            else:
                changes.append(
                    Change(
                        path=path,
                        kind=ChangeKind.CHANGED,
                        before=plain(was),
                        after=plain(now),
                        events=events,
                        fields=_changed_fields(was, now),
                    )
                )
    return Diff(before=before.as_of, after=after.as_of, changes=tuple(changes))


def _changed_fields(was: object, now: object) -> tuple[str, ...]:
    if type(was) is not type(now) or not attrs.has(type(was)):
        return ()
    return tuple(
        field.name
        for field in attrs.fields(type(was))
        if getattr(was, field.name) != getattr(now, field.name)
    )


def _exchange_events(
    before: tuple[Swap, ...], after: tuple[Swap, ...]
) -> dict[str, set[str]]:
    """For each ``party/category`` total, the swaps in one state but not the other."""
    old_ids = {swap.id for swap in before}
    new_ids = {swap.id for swap in after}
    causes: dict[str, set[str]] = {}
    for swap in (*before, *after):
        if (swap.id in old_ids) != (swap.id in new_ids):
            for release in swap.releases:
                causes.setdefault(f"{release.by}/{release.category}", set()).add(
                    swap.id
                )
    return causes
