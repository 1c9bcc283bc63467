"""The checkpoint index of an SQLite log, kept in the database next to the records.

:meth:`negstate.EventLog.save_index` writes the valid-time order and every
record's versions (see :mod:`negstate.index`) to tables of the log's database,
stamped with the log's head.  While the head is unchanged, a fresh process answers
"the state on day D" from these tables: a lookup for the day's position, then one
indexed query per record it reads, decoding only the events behind those records.
Any append makes the stamp stale and queries fall back to replaying the log until
the index is saved again.

Only the built-in record tables are kept; a log whose states hold user-defined
custom records is always replayed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Final, overload

from negstate.events import Event
from negstate.index import TABLES, ReplayIndex
from negstate.state import NegotiationState, Reading, state_from_tables

__all__ = ["load_index_state", "save_index"]

FORMAT: Final = "2"

_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS negstate_index_meta "
        "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_order (position INTEGER PRIMARY KEY, "
        "event_id TEXT NOT NULL, latest INTEGER NOT NULL)"
    ),
    (
        "CREATE INDEX IF NOT EXISTS negstate_order_latest ON negstate_order "
        "(latest, position)"
    ),
    ("CREATE INDEX IF NOT EXISTS negstate_order_event ON negstate_order (event_id)"),
    (
        "CREATE TABLE IF NOT EXISTS negstate_versions (tbl TEXT NOT NULL, key TEXT "
        "NOT NULL, position INTEGER NOT NULL, entry TEXT NOT NULL, "
        "PRIMARY KEY (tbl, key, position)) WITHOUT ROWID"
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
        "CREATE TABLE IF NOT EXISTS negstate_revised (event_id TEXT PRIMARY KEY, "
        "event TEXT NOT NULL)"
    ),
)
_TABLES_KEPT: Final = (
    "negstate_order",
    "negstate_versions",
    "negstate_keys",
    "negstate_swaps",
    "negstate_revised",
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


# -- writing --------------------------------------------------------------------------


def save_index(
    db: sqlite3.Connection,
    index: ReplayIndex,
    order: Sequence[Event],
    latest: Sequence[int],
    head: tuple[int, str],
    *,
    revised: Mapping[str, str],
) -> bool:
    """Write the index into ``db`` (inside the caller's transaction).

    ``revised`` holds, as JSON text by id, the events of ``order`` that revisions
    changed: their records hold them as first written.  Returns False (and writes
    nothing) when the state holds records a user reducer made, which these tables
    do not keep.
    """
    if index.custom_histories:
        return False
    rows: list[tuple[str, str, int, str]] = []
    keys: list[tuple[str, int, str]] = []
    try:
        for table in TABLES:
            history = index.histories[table]
            for key, (positions, entries) in history.versions.items():
                text = _key_text(key)
                keys.append((table, positions[0], text))
                # One event may write a key twice (a swap with two releases of
                # one category): the last write at a position is its version.
                last = dict(zip(positions, entries, strict=True))
                rows.extend(
                    (table, text, position, _entry_json(table, entry))
                    for position, entry in last.items()
                )
    except TypeError:
        return False
    for statement in _SCHEMA:
        db.execute(statement)
    for table in (*_TABLES_KEPT, "negstate_index_meta"):
        db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    db.executemany(
        "INSERT INTO negstate_order VALUES (?, ?, ?)",
        ((n, event.id, latest[n]) for n, event in enumerate(order)),
    )
    db.executemany("INSERT INTO negstate_versions VALUES (?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO negstate_keys VALUES (?, ?, ?)", keys)
    db.executemany(
        "INSERT INTO negstate_swaps VALUES (?, ?)",
        zip(
            index.swap_positions, (event.id for event in index.draft.swaps), strict=True
        ),
    )
    db.executemany("INSERT INTO negstate_revised VALUES (?, ?)", revised.items())
    db.executemany(
        "INSERT INTO negstate_index_meta VALUES (?, ?)",
        [
            ("format", FORMAT),
            ("head_seq", str(head[0])),
            ("head_hash", head[1]),
            ("length", str(len(order))),
        ],
    )
    return True


# -- reading --------------------------------------------------------------------------


def _meta(db: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(db.execute("SELECT key, value FROM negstate_index_meta").fetchall())
    except sqlite3.OperationalError:
        return {}


class _Stored(Mapping[Any, Any]):
    """One table of the saved index as it stood after ``end`` events."""

    def __init__(
        self,
        db: sqlite3.Connection,
        table: str,
        end: int,
        events: Mapping[str, Event],
    ) -> None:
        self._db, self._table, self._end, self._events = db, table, end, events
        self._keys: list[Any] | None = None

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401
        row = self._db.execute(
            "SELECT entry FROM negstate_versions WHERE tbl = ? AND key = ? AND "
            "position < ? ORDER BY position DESC LIMIT 1",
            (self._table, _key_text(key), self._end),
        ).fetchone()
        if row is None:
            raise KeyError(key)
        return _entry_from_json(self._table, row[0], self._events)

    def _all_keys(self) -> list[Any]:
        if self._keys is None:
            rows = self._db.execute(
                "SELECT key FROM negstate_keys WHERE tbl = ? AND first < ? "
                "ORDER BY first, key",
                (self._table, self._end),
            )
            self._keys = [_key_from_text(self._table, row[0]) for row in rows]
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
        self, db: sqlite3.Connection, end: int, events: Mapping[str, Event]
    ) -> None:
        rows = db.execute(
            "SELECT event_id FROM negstate_swaps WHERE position < ? ORDER BY position",
            (end,),
        ).fetchall()
        self._ids = [row[0] for row in rows]
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


class _StoredEvents(Mapping[str, Event]):
    """The events of the first ``end`` positions, read from the records on demand."""

    def __init__(
        self,
        db: sqlite3.Connection,
        end: int,
        decode: Callable[[str, str | None], Event],
    ) -> None:
        self._db, self._end, self._decode = db, end, decode
        self._found: dict[str, Event] = {}

    def __getitem__(self, event_id: str) -> Event:
        found = self._found.get(event_id)
        if found is None:
            row = self._db.execute(
                "SELECT position FROM negstate_order WHERE event_id = ?", (event_id,)
            ).fetchone()
            if row is None or row[0] >= self._end:
                raise KeyError(event_id)
            revised = self._db.execute(
                "SELECT event FROM negstate_revised WHERE event_id = ?", (event_id,)
            ).fetchone()
            found = self._found[event_id] = self._decode(
                event_id, None if revised is None else revised[0]
            )
        return found

    def __iter__(self) -> Iterator[str]:
        rows = self._db.execute(
            "SELECT event_id FROM negstate_order WHERE position < ? ORDER BY position",
            (self._end,),
        )
        return (row[0] for row in rows)

    def __len__(self) -> int:
        return self._end


class _StoredTables:
    """The saved index's tables after ``end`` events (the Tables protocol)."""

    def __init__(
        self, db: sqlite3.Connection, end: int, events: Mapping[str, Event]
    ) -> None:
        self.positions = _Stored(db, "positions", end, events)
        self.proposals = _Stored(db, "proposals", end, events)
        self.meeting_proposals = _Stored(db, "meeting_proposals", end, events)
        self.meetings = _Stored(db, "meetings", end, events)
        self.agreements = _Stored(db, "agreements", end, events)
        self.deadlines = _Stored(db, "deadlines", end, events)
        self.exchanges = _Stored(db, "exchanges", end, events)
        self.figures = _Stored(db, "figures", end, events)
        self.swaps = _StoredSwaps(db, end, events)
        self.custom: Mapping[str, Mapping[str, Any]] = {}


def load_index_state(
    db: sqlite3.Connection,
    head: tuple[int, str],
    day: date | None,
    decode: Callable[[str, str | None], Event],
) -> NegotiationState | None:
    """The state on ``day`` from the saved index, or None if it is missing or stale.

    ``decode`` gives one event by id: from the log's records, or from the JSON text
    of its revised form when the index keeps one.
    """
    meta = _meta(db)
    if (
        meta.get("format") != FORMAT
        or meta.get("head_seq") != str(head[0])
        or meta.get("head_hash") != head[1]
    ):
        return None
    length = int(meta["length"])
    if day is None:
        end = length
    else:
        row = db.execute(
            "SELECT position FROM negstate_order WHERE latest > ? "
            "ORDER BY latest, position LIMIT 1",
            (day.toordinal(),),
        ).fetchone()
        end = length if row is None else int(row[0])
    events = _StoredEvents(db, end, decode)
    return state_from_tables(
        _StoredTables(db, end, events), events, as_of=day, reading=Reading.SURELY
    )
