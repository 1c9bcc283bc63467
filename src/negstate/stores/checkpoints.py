"""The checkpoint index of an SQLite log, kept in the database next to the records.

:meth:`negstate.EventLog.save_index` writes the valid-time order and every
record's versions (see :mod:`negstate.index`) to tables of the log's database,
stamped with the log's head.  While the head is unchanged, a fresh process answers
"the state on day D" from these tables: a lookup for the day's position, then one
indexed query per record it reads, decoding only the events behind those records.
Two such states are diffed by reading only the records written between their
positions, found through an index of the versions by position.

An append whose events all sort after every indexed event (news of the latest
days) grows the index instead: the batch is folded onto the index's end state,
reading only the records it touches, and the new versions are written in the
append's transaction with the new stamp.  A late report among the last indexed
events is placed among them: those events are folded again with it, and their
rows replaced.  Any other append (a revision, a report further back, one that
narrows the dates of an indexed event) leaves the stamp stale, and queries fall
back to replaying the log until the index is saved again.

Only the built-in record tables are kept; a log whose states hold user-defined
custom records is always replayed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Final, overload

import attrs

from negstate.errors import IndexChangedError, NegstateError
from negstate.events import Event
from negstate.index import TABLES, RecordingList, ReplayIndex
from negstate.reducers import apply_events
from negstate.registry import EventRegistry
from negstate.replay import SortKey, sort_keys_of
from negstate.state import (
    PARTY_FIELDS,
    NegotiationState,
    Reading,
    StateDraft,
    state_from_tables,
)

__all__ = [
    "REFOLD_LIMIT",
    "IndexExtension",
    "ReadGuard",
    "SavedIndex",
    "SavedOrder",
    "index_is_current",
    "open_saved_index",
    "plan_extension",
    "save_index",
    "snapshot_parts",
    "write_extension",
]

FORMAT: Final = "5"

_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS negstate_index_meta "
        "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_order (position INTEGER PRIMARY KEY, "
        "event_id TEXT NOT NULL, latest INTEGER NOT NULL, earliest INTEGER NOT NULL, "
        "depth INTEGER NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_versions (tbl TEXT NOT NULL, key TEXT "
        "NOT NULL, position INTEGER NOT NULL, entry TEXT NOT NULL, "
        "PRIMARY KEY (tbl, key, position)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_dated (tbl TEXT NOT NULL, ends INTEGER "
        "NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, ends, key)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_keys (tbl TEXT NOT NULL, first INTEGER "
        "NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, first, key)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_swaps (position INTEGER NOT NULL, "
        "event_id TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_revisions (event_id TEXT NOT NULL, "
        "number INTEGER NOT NULL, revision_id TEXT NOT NULL, "
        "PRIMARY KEY (event_id, number)) WITHOUT ROWID"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_revised (event_id TEXT PRIMARY KEY, "
        "event TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_snapshot (part INTEGER PRIMARY KEY, "
        "data BLOB NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_tags (kind TEXT NOT NULL, name TEXT "
        "NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, "
        "PRIMARY KEY (kind, name, tbl, key)) WITHOUT ROWID"
    ),
)
_INDEXES: Final = (
    "CREATE INDEX negstate_order_latest ON negstate_order (latest, position)",
    "CREATE INDEX negstate_order_event ON negstate_order (event_id)",
    "CREATE INDEX negstate_versions_position ON negstate_versions (tbl, position)",
)
"""Built once the rows are in: sorting them once is far cheaper than placing each
row in indexes on ids and keys in no order (8 s of a 1M-event save)."""
_TABLES_KEPT: Final = (
    "negstate_order",
    "negstate_versions",
    "negstate_dated",
    "negstate_keys",
    "negstate_swaps",
    "negstate_revised",
    "negstate_revisions",
    "negstate_snapshot",
    "negstate_tags",
)


# -- entries to JSON and back -------------------------------------------------------


def _key_text(key: Any) -> str:  # noqa: ANN401 - a table key
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _entry_json(table: str, entry: Any) -> str:  # noqa: ANN401 - a draft entry
    """A draft entry as JSON, with events replaced by their ids."""
    if table == "positions":
        source, others = entry
        if not isinstance(source, Event) or not all(
            isinstance(o, Event) for o in others
        ):
            raise TypeError("a position set by a user reducer")
        return json.dumps([source.id, [other.id for other in others]])
    if table in {"proposals", "meeting_proposals"}:
        event, answers, closed_by, last = entry
        return json.dumps([event.id, [list(a) for a in answers], closed_by, last])
    if table in {"meetings", "agreements"}:
        return json.dumps(entry.id)
    if table == "deadlines":
        return json.dumps([entry[0].id, entry[1]])
    if table == "exchanges":
        return json.dumps(list(entry))
    unit, claims = entry
    return json.dumps([unit, [[claimant, event.id] for claimant, event in claims]])


def _entry_from_json(table: str, text: str, events: Mapping[str, Event]) -> Any:  # noqa: ANN401
    """The draft entry that :func:`_entry_json` wrote."""
    value = json.loads(text)
    if table == "positions":
        return (events[value[0]], tuple(events[o] for o in value[1]))
    if table in {"proposals", "meeting_proposals"}:
        return (events[value[0]], tuple(tuple(a) for a in value[1]), value[2], value[3])
    if table in {"meetings", "agreements"}:
        return events[value]
    if table == "deadlines":
        return (events[value[0]], value[1])
    if table == "exchanges":
        return tuple(value)
    return (value[0], tuple((claimant, events[event]) for claimant, event in value[1]))


def _key_from_text(table: str, text: str) -> Any:  # noqa: ANN401
    if table in {"positions", "exchanges"}:
        first, _, second = text.partition("/")
        return (first, second)
    return text


_TAGGED: Final = (*PARTY_FIELDS, "figures")
"""Tables whose records are found by party and issue through ``negstate_tags``;
positions and exchange totals carry the party (and issue) in their keys."""


def _tag_rows(
    table: str,
    key: Any,  # noqa: ANN401 - a table key
    entries: Iterable[Any],
) -> list[tuple[str, str, str, str]]:
    """Rows naming the parties and issue that the filters read in a key's record.

    They are exactly what the filters read, except for figures: a figure is
    tagged with every claimant any of its versions had.
    """
    tags: dict[tuple[str, str], None] = {}
    for entry in entries:
        if table == "figures":
            tags.update((("party", claimant), None) for claimant, _ in entry[1])
            continue
        # Answers name only event ids: the record's parties are its event's.
        event = entry if table in {"meetings", "agreements", "swaps"} else entry[0]
        tags.update(
            (("party", party), None) for party in _parties_filtered_by(table, event)
        )
        issue = getattr(event, "issue", None)
        if isinstance(issue, str):
            tags["issue", issue] = None
    text = _key_text(key)
    return [(kind, name, table, text) for kind, name in tags]


def _parties_filtered_by(table: str, event: Event) -> Iterator[str]:
    """The parties a filter finds in the record ``event`` makes in ``table``."""
    if table == "swaps":
        for release in getattr(event, "releases", ()):
            yield release.by
            if release.to is not None:
                yield release.to
        return
    for field in PARTY_FIELDS.get(table, ()):
        value = getattr(event, field, None)
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            yield from value


def _swap_tag_rows(swaps: Iterable[Event]) -> Iterator[tuple[str, str, str, str]]:
    """Tag rows of swaps, keyed by their ids."""
    return (row for swap in swaps for row in _tag_rows("swaps", swap.id, (swap,)))


_DATED: Final = {"deadlines": "expires", "meeting_proposals": "window"}
"""Tables whose records' status depends on the day asked about, and the field of
the entry's event that says until when."""


def _dated_row(table: str, key: Any, entry: Any) -> tuple[str, int, str] | None:  # noqa: ANN401
    """When a deadline expires or a proposed meeting's window ends, as a row."""
    field = _DATED.get(table)
    if field is None:
        return None
    span = getattr(entry[0], field)
    if span is None or span.latest is None:
        return None
    return (table, span.latest.toordinal(), _key_text(key))


# -- writing --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SavedOrder:
    """A timeline's valid-time order as the index keeps it.

    ``latest``, ``earliest`` and ``depth`` are each event's narrowed span (day
    ordinals) and depth in the reference graph: its sort key with its id.
    """

    events: Sequence[Event]
    latest: Sequence[int]
    earliest: Sequence[int]
    depth: Sequence[int]


def save_index(
    db: sqlite3.Connection,
    index: ReplayIndex,
    order: SavedOrder,
    head: tuple[int, str],
    *,
    revised: Mapping[str, str],
    revised_by: Mapping[str, Sequence[str]],
    snapshot: Sequence[bytes] = (),
) -> bool:
    """Write the index into ``db`` (inside the caller's transaction).

    ``revised`` holds, as JSON text by id, the events of ``order`` that revisions
    changed: their records hold them as first written.  ``revised_by`` names the
    revisions applied to each event, in the order they were applied.  ``snapshot``
    is the decoded log's snapshot, in parts (see ``negstate._snapshot``).  Returns
    False (and writes nothing) when the state holds records a user reducer made,
    which these tables do not keep.
    """
    if any(history.versions for history in index.custom_histories.values()):
        return False
    histories = [(table, index.histories[table].versions) for table in TABLES]
    # Rows are written as they are made, not gathered first: a savepoint undoes
    # what was written if an entry turns out not to be one these tables keep.
    db.execute("SAVEPOINT negstate_save_index")
    try:
        # Dropped, not emptied: an index of an older format has other columns.
        for table in (*_TABLES_KEPT, "negstate_index_meta"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in _SCHEMA:
            db.execute(statement)
        db.executemany(
            "INSERT INTO negstate_versions VALUES (?, ?, ?, ?)",
            (
                row
                for table, versions in histories
                for key, (positions, entries) in versions.items()
                for row in _version_rows(table, key, positions, entries)
            ),
        )
    except TypeError:
        db.execute("ROLLBACK TO negstate_save_index")
        db.execute("RELEASE negstate_save_index")
        return False
    db.execute("RELEASE negstate_save_index")
    db.executemany(
        "INSERT INTO negstate_keys VALUES (?, ?, ?)",
        (
            (table, positions[0], _key_text(key))
            for table, versions in histories
            for key, (positions, _) in versions.items()
        ),
    )
    db.executemany(
        "INSERT INTO negstate_dated VALUES (?, ?, ?)",
        (
            row
            for table, versions in histories
            for key, (_, entries) in versions.items()
            if (row := _dated_row(table, key, entries[-1])) is not None
        ),
    )
    db.executemany(
        "INSERT INTO negstate_order VALUES (?, ?, ?, ?, ?)",
        zip(
            range(len(order.events)),
            (event.id for event in order.events),
            order.latest,
            order.earliest,
            order.depth,
            strict=True,
        ),
    )
    db.executemany(
        "INSERT INTO negstate_swaps VALUES (?, ?)",
        zip(
            index.swap_positions, (event.id for event in index.draft.swaps), strict=True
        ),
    )
    db.executemany("INSERT INTO negstate_revised VALUES (?, ?)", revised.items())
    db.executemany(
        "INSERT INTO negstate_revisions VALUES (?, ?, ?)",
        (
            (event_id, number, revision_id)
            for event_id, revisions in revised_by.items()
            for number, revision_id in enumerate(revisions)
        ),
    )
    db.executemany("INSERT INTO negstate_snapshot VALUES (?, ?)", enumerate(snapshot))
    db.executemany(
        "INSERT OR IGNORE INTO negstate_tags VALUES (?, ?, ?, ?)",
        (
            row
            for table, versions in histories
            if table in _TAGGED
            for key, (_, entries) in versions.items()
            for row in _tag_rows(table, key, entries)
        ),
    )
    db.executemany(
        "INSERT OR IGNORE INTO negstate_tags VALUES (?, ?, ?, ?)",
        _swap_tag_rows(index.draft.swaps),
    )
    for statement in _INDEXES:
        db.execute(statement)
    db.executemany(
        "INSERT INTO negstate_index_meta VALUES (?, ?)",
        [
            ("format", FORMAT),
            ("head_seq", str(head[0])),
            ("head_hash", head[1]),
            ("length", str(len(order.events))),
        ],
    )
    return True


# -- reading --------------------------------------------------------------------------


def _meta(db: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(db.execute("SELECT key, value FROM negstate_index_meta").fetchall())
    except sqlite3.OperationalError:
        return {}


def snapshot_parts(db: sqlite3.Connection) -> Iterator[bytes]:
    """The parts of the snapshot kept in ``db``, in order (none if it keeps none)."""
    try:
        rows = db.execute("SELECT data FROM negstate_snapshot ORDER BY part")
    except sqlite3.Error:
        return iter(())
    return (row[0] for row in rows)


def index_is_current(db: sqlite3.Connection, head: tuple[int, str]) -> bool:
    """Whether ``db`` keeps an index of this format stamped with ``head``."""
    return _is_current(_meta(db), head)


def _is_current(meta: Mapping[str, str], head: tuple[int, str]) -> bool:
    return (
        meta.get("format") == FORMAT
        and meta.get("head_seq") == str(head[0])
        and meta.get("head_hash") == head[1]
    )


_Keep = Callable[[str], bool]
"""Whether a state narrowed by party or issue keeps the record at a key's text."""


class _Overlay(dict[Any, Any]):
    """A draft table over a read-only one: reads fall through, writes stay here.

    Each write is also listed with the fold position the clock shows.
    """

    __slots__ = ("_clock", "_saved", "_writes")

    def __init__(
        self,
        saved: Mapping[Any, Any],
        clock: list[int],
        writes: list[tuple[int, Any, Any]],
    ) -> None:
        super().__init__()
        self._saved, self._clock, self._writes = saved, clock, writes

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: ANN401
        """The entry at ``key``, written here or saved, or ``default``."""
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._saved.get(key, default)

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        return self._saved[key]

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._saved

    def __setitem__(self, key: Any, value: Any) -> None:  # noqa: ANN401
        self._writes.append((self._clock[0], key, value))
        dict.__setitem__(self, key, value)


class ReadGuard:
    """Whether states read from a saved index may go on reading it.

    An append that places a late report rewrites the index's rows from the
    report's place on, and saving the index again rewrites them all, so states
    read before would read rows of another order.  The store then retires the
    guard its states share, and hands later ones a new guard.  Closing the log,
    or dropping an index file kept beside it, retires it too.
    """

    __slots__ = ("retired", "where")

    def __init__(self, where: str = "") -> None:
        self.retired: str | None = None
        """Why states may no longer read, once they may not."""
        self.where = where

    def renewed(self) -> ReadGuard:
        """Retire this guard, and give the one for states read from now on."""
        self.retire(
            "before its rows were rewritten (an append placed a late report in "
            "it, or it was saved again)"
        )
        return ReadGuard(self.where)

    def retire(self, why: str) -> None:
        """Stop the states given this guard from reading, saying ``why``."""
        if self.retired is None:
            self.retired = why

    def reinstate(self) -> None:
        """Let its states read again: the rewrite that retired it was rolled back."""
        self.retired = None


class _Reader:
    """The connection a saved index's states read through, while it is current."""

    __slots__ = ("db", "guard")

    def __init__(self, db: sqlite3.Connection, guard: ReadGuard | None = None) -> None:
        self.db = db
        self.guard = ReadGuard() if guard is None else guard

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run a query, unless the guard was retired since it was given."""
        why = self.guard.retired
        if why is not None:
            raise IndexChangedError(
                f"this state was read from the saved index {why}",
                where=self.guard.where,
                hint="read the state again (saved_state_at), from an open log",
            )
        return self.db.execute(sql, parameters)


class _Stored(Mapping[Any, Any]):
    """One table of the saved index as it stood after ``end`` events.

    With ``keep``, only the keys it accepts (by their text) are in the table.
    """

    def __init__(
        self,
        reader: _Reader,
        table: str,
        end: int,
        events: Mapping[str, Event],
        keep: _Keep | None = None,
    ) -> None:
        self._reader, self._table, self._end, self._events = reader, table, end, events
        self._keep = keep
        self._keys: list[Any] | None = None

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401
        if self._keep is not None and not self._keep(_key_text(key)):
            raise KeyError(key)
        row = self._reader.execute(
            "SELECT entry FROM negstate_versions WHERE tbl = ? AND key = ? AND "
            "position < ? ORDER BY position DESC LIMIT 1",
            (self._table, _key_text(key), self._end),
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return _entry_from_json(self._table, row[0], self._events)

    def _all_keys(self) -> list[Any]:
        if self._keys is None:
            rows = self._reader.execute(
                "SELECT key FROM negstate_keys WHERE tbl = ? AND first < ? "
                "ORDER BY first, key",
                (self._table, self._end),
            )
            keep = self._keep
            self._keys = [
                _key_from_text(self._table, row[0])
                for row in rows
                if keep is None or keep(row[0])
            ]
        return self._keys

    def __iter__(self) -> Iterator[Any]:
        return iter(self._all_keys())

    def __len__(self) -> int:
        return len(self._all_keys())

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True


class _StoredSwaps(Sequence[Event]):
    """The swap events of the saved index folded before ``end``."""

    def __init__(
        self,
        reader: _Reader,
        end: int,
        events: Mapping[str, Event],
        keep: _Keep | None = None,
    ) -> None:
        rows = reader.execute(
            "SELECT event_id FROM negstate_swaps WHERE position < ? ORDER BY position",
            (end,),
        ).fetchall()
        self._ids = [row[0] for row in rows if keep is None or keep(row[0])]
        self._events = events

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        if isinstance(index, slice):
            return [self._events[i] for i in self._ids[index]]
        return self._events[self._ids[index]]

    def __len__(self) -> int:
        return len(self._ids)

    def index_of(self, event_id: str) -> int | None:
        """Where the swap ``event_id`` stands in this sequence, reading no event."""
        try:
            return self._ids.index(event_id)
        except ValueError:
            return None


class _StoredEvents(Mapping[str, Event]):
    """The events of the first ``end`` positions, read from the records on demand.

    ``found`` keeps the events read, with their positions; states of one saved
    index share it.
    """

    def __init__(
        self,
        reader: _Reader,
        end: int,
        decode: Callable[[str, str | None], Event],
        found: dict[str, tuple[int, Event]] | None = None,
    ) -> None:
        self._reader, self._end, self._decode = reader, end, decode
        self._found: dict[str, tuple[int, Event]] = {} if found is None else found

    def __getitem__(self, event_id: str) -> Event:
        found = self._read(event_id)
        if found is None or found[0] >= self._end:
            raise KeyError(event_id)
        return found[1]

    def position(self, event_id: str) -> int | None:
        """Where ``event_id`` stands in the fold order, or None if it is not here."""
        found = self._read(event_id)
        return None if found is None or found[0] >= self._end else found[0]

    def _read(self, event_id: str) -> tuple[int, Event] | None:
        found = self._found.get(event_id)
        if found is None:
            row = self._reader.execute(
                "SELECT position, event FROM negstate_order LEFT JOIN negstate_revised "
                "USING (event_id) WHERE event_id = ?",
                (event_id,),
            ).fetchone()
            if row is None:
                return None
            event = self._decode(event_id, row[1])
            found = self._found[event_id] = (int(row[0]), event)
        return found

    def __iter__(self) -> Iterator[str]:
        rows = self._reader.execute(
            "SELECT event_id FROM negstate_order WHERE position < ? ORDER BY position",
            (self._end,),
        )
        return (row[0] for row in rows)

    def __len__(self) -> int:
        return self._end


class _StoredTables:
    """The saved index's tables after ``end`` events (the Tables protocol).

    ``keep`` narrows tables by name to the keys it accepts.
    """

    def __init__(
        self,
        reader: _Reader,
        end: int,
        events: Mapping[str, Event],
        keep: Mapping[str, _Keep] = MappingProxyType({}),
    ) -> None:
        def stored(table: str) -> _Stored:
            return _Stored(reader, table, end, events, keep.get(table))

        self.positions = stored("positions")
        self.proposals = stored("proposals")
        self.meeting_proposals = stored("meeting_proposals")
        self.meetings = stored("meetings")
        self.agreements = stored("agreements")
        self.deadlines = stored("deadlines")
        self.exchanges = stored("exchanges")
        self.figures = stored("figures")
        self.swaps = _StoredSwaps(reader, end, events, keep.get("swaps"))
        self.custom: Mapping[str, Mapping[str, Any]] = {}


class SavedIndex:
    """The saved index of one log head, shared by the states read from it.

    Two states read from one SavedIndex are diffed as two states of one timeline
    are: :func:`negstate.diff` compares only the records written between their
    positions (:meth:`changed`, :meth:`dated`, :meth:`swap_ids_between`).
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        head: tuple[int, str],
        length: int,
        decode: Callable[[str, str | None], Event],
        guard: ReadGuard | None = None,
    ) -> None:
        self.head, self.decode = head, decode
        self._reader, self._length = _Reader(db, guard), length
        self._events: dict[str, tuple[int, Event]] = {}
        self._revisions: dict[str, tuple[Event, ...]] | None = None

    def state_at(self, day: date | None) -> NegotiationState:
        """The state on ``day`` (after every event for None), read surely."""
        if day is None:
            end = self._length
        else:
            row = self._reader.execute(
                "SELECT position FROM negstate_order WHERE latest > ? "
                "ORDER BY latest, position LIMIT 1",
                (day.toordinal(),),
            ).fetchone()
            end = self._length if row is None else int(row[0])
        return self._state(day, end)

    def narrowed(
        self, state: NegotiationState, *, party: str | None, issue: str | None
    ) -> NegotiationState:
        """``state`` (read from this index) narrowed to a party's and issue's records.

        The state holds the records that involve ``party`` (if given) as
        :func:`negstate.cli.filter_state` reads it, and in the tables that have an
        issue those on ``issue`` (if given), found through the index's tags
        without reading the others.  Figures are the exception: a figure is kept
        if any of its versions had the party as a claimant, so check them.  The
        narrowed state no longer stands for the state at its position, so it
        carries no origin.
        """
        origin = state.origin
        owner: object = origin[0] if isinstance(origin, tuple) else None
        if owner is not self or not isinstance(origin, tuple):
            raise NegstateError(
                "the state was not read from this saved index",
                hint="narrow a state that this index's state_at returned",
            )
        keep: dict[str, _Keep] = {}
        if party is not None:
            tagged = self._tagged("party", party)
            for table in (*_TAGGED, "swaps"):
                keep[table] = tagged.get(table, set()).__contains__
            keep["positions"] = keep["exchanges"] = _starting(party + "/")
        if issue is not None:
            tagged = self._tagged("issue", issue)
            for table in ("proposals", "agreements"):
                keep[table] = _both(
                    keep.get(table), tagged.get(table, set()).__contains__
                )
            keep["positions"] = _both(keep.get("positions"), _ending("/" + issue))
        # Not the state at its position any more: diffs must compare it in full.
        narrowed = self._state(state.as_of, int(origin[1]), keep)
        return attrs.evolve(narrowed, origin=None)

    def _tagged(self, kind: str, name: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        rows = self._reader.execute(
            "SELECT tbl, key FROM negstate_tags WHERE kind = ? AND name = ?",
            (kind, name),
        )
        for table, key in rows:
            found.setdefault(table, set()).add(key)
        return found

    def _state(
        self,
        day: date | None,
        end: int,
        keep: Mapping[str, _Keep] = MappingProxyType({}),
    ) -> NegotiationState:
        events = _StoredEvents(self._reader, end, self.decode, self._events)
        state = state_from_tables(
            _StoredTables(self._reader, end, events, keep),
            events,
            as_of=day,
            reading=Reading.SURELY,
            origin=(self, end),
        )
        revised_by = self._revised_by()
        if not revised_by:
            return state
        return attrs.evolve(
            state,
            revised_by=MappingProxyType(
                {
                    event_id: revisions
                    for event_id, revisions in revised_by.items()
                    if event_id in events
                }
            ),
        )

    def _revised_by(self) -> dict[str, tuple[Event, ...]]:
        """The revisions applied to each event, as a replay lists them."""
        if self._revisions is None:
            by_event: dict[str, list[Event]] = {}
            rows = self._reader.execute(
                "SELECT event_id, revision_id FROM negstate_revisions "
                "ORDER BY event_id, number"
            ).fetchall()
            for event_id, revision_id in rows:
                revision = self.decode(revision_id, None)
                by_event.setdefault(event_id, []).append(revision)
            self._revisions = {key: tuple(value) for key, value in by_event.items()}
        return self._revisions

    def changed(self, table: str, start: int, stop: int) -> set[Any]:
        """Keys of ``table`` written at positions ``start <= p < stop``."""
        rows = self._reader.execute(
            "SELECT key FROM negstate_versions WHERE tbl = ? AND position >= ? "
            "AND position < ?",
            (table, start, stop),
        )
        return {_key_from_text(table, row[0]) for row in rows}

    def dated(self, table: str, first: date, last: date) -> set[Any]:
        """Deadlines or proposed meetings ending from ``first`` to ``last``.

        Their status may differ between the two days.
        """
        rows = self._reader.execute(
            "SELECT key FROM negstate_dated WHERE tbl = ? AND ends >= ? AND ends <= ?",
            (table, first.toordinal(), last.toordinal()),
        )
        return {_key_from_text(table, row[0]) for row in rows}

    def swap_ids_between(self, start: int, stop: int) -> set[str]:
        """The ids of the swaps folded at positions ``start <= p < stop``."""
        rows = self._reader.execute(
            "SELECT event_id FROM negstate_swaps WHERE position >= ? AND position < ?",
            (start, stop),
        )
        return {row[0] for row in rows}


def _starting(prefix: str) -> _Keep:
    return lambda text: text.startswith(prefix)


def _ending(suffix: str) -> _Keep:
    return lambda text: text.endswith(suffix)


def _both(first: _Keep | None, second: _Keep) -> _Keep:
    if first is None:
        return second
    return lambda text: first(text) and second(text)


def open_saved_index(
    db: sqlite3.Connection,
    head: tuple[int, str],
    decode: Callable[[str, str | None], Event],
    known: SavedIndex | None = None,
    guard: ReadGuard | None = None,
) -> SavedIndex | None:
    """The saved index of ``head``, or None if it is missing or stale.

    ``known`` is returned again while it still matches, so that states read one
    after the other share it.  ``decode`` gives one event by id: from the log's
    records, or from the JSON text of its revised form when the index keeps one.
    States read from it stop reading once ``guard`` is retired.
    """
    meta = _meta(db)
    if not _is_current(meta, head):
        return None
    if known is not None and known.head == head and known.decode == decode:
        return known
    return SavedIndex(db, head, int(meta["length"]), decode, guard)


# -- growing at the end -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class IndexExtension:
    """The rows that fold new events onto a saved index.

    Those from position ``start`` on replace the index's rows from there: the
    ``refolded`` events it held from there were folded again with the new ones
    (none when every new event sorts after the index's last one).
    """

    order: list[tuple[int, str, int, int, int]]
    versions: list[tuple[str, str, int, str]]
    keys: list[tuple[str, int, str]]
    dated: list[tuple[str, int, str]]
    swaps: list[tuple[int, str]]
    tags: list[tuple[str, str, str, str]]
    length: int
    start: int
    refolded: int


REFOLD_LIMIT: Final = 50_000
"""The most indexed events an append folds again to place a late report among
them.  A report that lands further back leaves the index stale: the log is
replayed, and the index saved anew, as for a revision."""


def plan_extension(
    db: sqlite3.Connection,
    head: tuple[int, str],
    events: Sequence[Event],
    decode: Callable[[str, str | None], Event],
    registry: EventRegistry,
) -> IndexExtension | None:
    """Fold ``events`` into the saved index and return the rows that change.

    Events that sort after every indexed event are folded onto the index's end
    state.  A late report that sorts among the last :data:`REFOLD_LIMIT` indexed
    events is placed among them: the indexed events from its place on are folded
    again with the new ones onto the state before that place, and their rows are
    replaced.  The fold reads only the records it touches from the saved tables,
    so checking a batch costs what the batch reads and what it folds again, not
    the length of the log.

    Returns None when the index does not match ``head``, when placing an event
    would move another (it narrows the dates of an event it refers to, or refers
    to no indexed event), or when it lands further back: the caller then replays
    the log.  Raises the fold's error if an event cannot happen, also when an
    indexed event folded again no longer can.

    Revisions the index applied need no care here: every event they removed or
    merged away is absent from the order, so a new event referring to one is
    left to the replay, and new ids were checked against every record.
    """
    meta = _meta(db)
    if not _is_current(meta, head):
        return None
    ordered = sort_keys_of(events, lambda event_id: _placed(db, event_id))
    if not ordered:
        return None
    length = int(meta["length"])
    start = _place_of(db, ordered[0][0], length)
    if length - start > REFOLD_LIMIT:
        return None
    found: dict[str, tuple[int, Event]] = {}
    if start < length:
        held = _StoredEvents(_Reader(db), length, decode, found)
        rows = db.execute(
            "SELECT latest, earliest, depth, event_id FROM negstate_order "
            "WHERE position >= ? ORDER BY position",
            (start,),
        )
        ordered.extend(
            ((int(latest), int(earliest), int(depth), event_id), held[event_id])
            for latest, earliest, depth, event_id in rows
        )
        ordered.sort(key=itemgetter(0))
    # The entries before ``start`` refer only to events before it.
    reader = _Reader(db)
    events_read = _StoredEvents(reader, start, decode, found)
    # The saved swaps are never read: a fold only appends to them.
    saved = {name: _Stored(reader, name, start, events_read) for name in TABLES}
    clock = [start]
    writes: dict[str, list[tuple[int, Any, Any]]] = {name: [] for name in TABLES}
    draft = StateDraft()
    for name in TABLES:
        setattr(draft, name, _Overlay(saved[name], clock, writes[name]))
    swaps = RecordingList(clock)
    draft.swaps = swaps

    def advance(_: Event) -> None:
        clock[0] += 1

    apply_events(
        draft, [event for _, event in ordered], registry, unique=True, applied=advance
    )
    try:
        versions, keys, dated, tags = _written_rows(saved, writes)
    except TypeError:
        return None
    tags.extend(_swap_tag_rows(swaps))
    return IndexExtension(
        order=[
            (start + n, event.id, latest, earliest, depth)
            for n, ((latest, earliest, depth, _), event) in enumerate(ordered)
        ],
        versions=versions,
        keys=keys,
        dated=dated,
        swaps=list(zip(swaps.positions, (swap.id for swap in swaps), strict=True)),
        tags=tags,
        length=start + len(ordered),
        start=start,
        refolded=length - start,
    )


def _place_of(db: sqlite3.Connection, key: SortKey, length: int) -> int:
    """The position of the first indexed event that sorts after ``key``."""
    last = db.execute(
        "SELECT latest, earliest, depth, event_id FROM negstate_order "
        "ORDER BY position DESC LIMIT 1"
    ).fetchone()
    if last is None or (int(last[0]), int(last[1]), int(last[2]), last[3]) < key:
        return length  # news of the latest days: no need to walk the last day
    rows = db.execute(
        "SELECT position, latest, earliest, depth, event_id FROM negstate_order "
        "WHERE latest >= ? ORDER BY latest, position",
        (key[0],),
    )
    for position, latest, earliest, depth, event_id in rows:
        if (int(latest), int(earliest), int(depth), event_id) > key:
            return int(position)
    return length


def _placed(db: sqlite3.Connection, event_id: str) -> tuple[int, int, int] | None:
    row = db.execute(
        "SELECT latest, earliest, depth FROM negstate_order WHERE event_id = ?",
        (event_id,),
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]))


def _written_rows(
    saved: Mapping[str, _Stored], writes: Mapping[str, list[tuple[int, Any, Any]]]
) -> tuple[
    list[tuple[str, str, int, str]],
    list[tuple[str, int, str]],
    list[tuple[str, int, str]],
    list[tuple[str, str, str, str]],
]:
    """Versions, new keys, dated ends and tags of a fold's writes, as saved."""
    versions: list[tuple[str, str, int, str]] = []
    keys: list[tuple[str, int, str]] = []
    dated: list[tuple[str, int, str]] = []
    tags: list[tuple[str, str, str, str]] = []
    for table, written in writes.items():
        by_key: dict[Any, tuple[list[int], list[Any]]] = {}
        for position, key, entry in written:
            positions, entries = by_key.setdefault(key, ([], []))
            positions.append(position)
            entries.append(entry)
        for key, (positions, entries) in by_key.items():
            versions.extend(_version_rows(table, key, positions, entries))
            if key not in saved[table]:
                keys.append((table, positions[0], _key_text(key)))
            ends = _dated_row(table, key, entries[-1])
            if ends is not None:
                dated.append(ends)
            if table in _TAGGED:
                tags.extend(_tag_rows(table, key, entries))
    return versions, keys, dated, tags


def _version_rows(
    table: str,
    key: Any,  # noqa: ANN401 - a table key
    positions: Sequence[int],
    entries: Sequence[Any],
) -> Iterator[tuple[str, str, int, str]]:
    """The rows of one key's versions, written at ``positions``.

    One event may write a key twice (a swap with two releases of one category):
    the last write at a position is its version.
    """
    text = _key_text(key)
    last = dict(zip(positions, entries, strict=True))
    return (
        (table, text, position, _entry_json(table, entry))
        for position, entry in last.items()
    )


def write_extension(
    db: sqlite3.Connection, extension: IndexExtension, head: tuple[int, str]
) -> None:
    """Add the rows of ``extension`` and stamp the index with the new ``head``.

    The rows an extension folded again replace those from its start on.  Dated
    ends and tags stay: each key's are fixed by the event that made it, or, for a
    figure's claimants, only ever gain by folding an event more.
    """
    if extension.refolded:
        start = extension.start
        db.execute("DELETE FROM negstate_order WHERE position >= ?", (start,))
        for table in TABLES:
            db.execute(
                "DELETE FROM negstate_versions WHERE tbl = ? AND position >= ?",
                (table, start),
            )
            db.execute(
                "DELETE FROM negstate_keys WHERE tbl = ? AND first >= ?",
                (table, start),
            )
        db.execute("DELETE FROM negstate_swaps WHERE position >= ?", (start,))
    db.executemany("INSERT INTO negstate_order VALUES (?, ?, ?, ?, ?)", extension.order)
    db.executemany(
        "INSERT INTO negstate_versions VALUES (?, ?, ?, ?)", extension.versions
    )
    db.executemany("INSERT INTO negstate_keys VALUES (?, ?, ?)", extension.keys)
    # A deadline written again keeps its expiry: its row is there already.
    db.executemany(
        "INSERT OR IGNORE INTO negstate_dated VALUES (?, ?, ?)", extension.dated
    )
    db.executemany("INSERT INTO negstate_swaps VALUES (?, ?)", extension.swaps)
    db.executemany(
        "INSERT OR IGNORE INTO negstate_tags VALUES (?, ?, ?, ?)", extension.tags
    )
    db.executemany(
        "INSERT OR REPLACE INTO negstate_index_meta VALUES (?, ?)",
        [
            ("head_seq", str(head[0])),
            ("head_hash", head[1]),
            ("length", str(extension.length)),
        ],
    )
