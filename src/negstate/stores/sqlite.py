"""A log kept in SQLite (the standard library's ``sqlite3``), in WAL mode.

Each record is a row holding its canonical text and hash, with columns for the
event id (unique) and its span of possible days (indexed), so selections
by date need not decode every event.  Writers append inside ``BEGIN IMMEDIATE``
transactions, which SQLite serialises across processes; readers read inside a
transaction, so they see whole batches or nothing.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Final

from negstate.errors import (
    IntegrityError,
    LogFormatError,
    LogLockedError,
    NegstateError,
)
from negstate.events import Event
from negstate.index import ReplayIndex
from negstate.records import BulkRecords, StoredRecord, check_bulk, parse_line
from negstate.registry import EventRegistry
from negstate.state import NegotiationState
from negstate.stores.checkpoints import (
    IndexExtension,
    ReadGuard,
    SavedIndex,
    SavedOrder,
    index_is_current,
    open_saved_index,
    plan_extension,
    save_index,
    snapshot_parts,
    write_extension,
)

__all__ = ["FORMAT", "SqliteStorage"]

FORMAT: Final = "1"
"""The value of ``format`` in the ``negstate_meta`` table of a negstate log."""

_OPEN_END: Final = date.max.toordinal() + 1
_BUSY_WAIT: Final = 0.05
"""Seconds SQLite itself waits on a lock before negstate's own retry takes over."""

_SCHEMA: Final = """
CREATE TABLE negstate_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    occurred_earliest INTEGER NOT NULL,
    occurred_latest INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX records_occurred_latest ON records (occurred_latest);
CREATE INDEX records_occurred_earliest ON records (occurred_earliest);
"""


_SIDE_ENDINGS: Final = ("-wal", "-shm", "-journal")


class SqliteStorage:
    """Records in an SQLite database, created with its schema when missing."""

    def __init__(
        self,
        path: str | Path,
        *,
        fsync: bool = True,
        lock_timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        self._path = Path(path)
        self._saved: SavedIndex | None = None
        self._guard = ReadGuard(str(self._path))
        self._before_rewrite: tuple[ReadGuard, SavedIndex | None] | None = None
        """The guard and saved index of states read before the open transaction
        rewrote index rows: theirs again if it rolls back."""
        self._depth = 0
        self._lock_timeout = lock_timeout
        self._read_only = read_only
        try:
            self._db = sqlite3.connect(
                self._path,
                timeout=_BUSY_WAIT,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise NegstateError(
                f"cannot open the log ({exc})",
                where=str(self._path),
                hint="check the path and its permissions",
            ) from exc
        try:
            self._configure(fsync=fsync)
        except BaseException:
            self._db.close()
            raise

    def _configure(self, *, fsync: bool) -> None:
        try:
            if not self._read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            if not self._read_only and not self._has_meta():
                # Several processes may open a new log at once: create it under
                # the write lock, and only in a database that holds nothing else.
                with self._transaction("BEGIN IMMEDIATE"):
                    if not self._has_meta():
                        self._create_schema()
            found = self._db.execute(
                "SELECT value FROM negstate_meta WHERE key = 'format'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise LogFormatError(
                f"not a negstate log ({exc})",
                where=str(self._path),
                hint="open a file written by negstate, or a new path to start a log",
            ) from exc
        if found is None or found[0] != FORMAT:
            raise LogFormatError(
                "not a negstate log (format marker missing or unknown)",
                where=str(self._path),
                hint="open a file written by negstate, or a new path to start a log",
            )

    def _has_meta(self) -> bool:
        row = self._db.execute(
            "SELECT name FROM sqlite_master WHERE name = 'negstate_meta'"
        ).fetchone()
        return row is not None

    def _create_schema(self) -> None:
        others = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
        if others:
            raise LogFormatError(
                f"not a negstate log (it holds other tables: {others[0][0]}, ...)",
                where=str(self._path),
                hint="open a file written by negstate, or a new path to start a log",
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._db.execute("INSERT INTO negstate_meta VALUES ('format', ?)", (FORMAT,))

    def _begin(self, begin: str) -> None:
        """Start a transaction, retrying while another writer holds the lock.

        SQLite does not queue writers; short waits with jitter keep one writer from
        starving while others come and go, up to the lock timeout.
        """
        deadline = time.monotonic() + self._lock_timeout
        while True:
            try:
                self._db.execute(begin)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise LogLockedError(
                        f"another process holds the log ({exc})",
                        where=str(self._path),
                        hint="wait for the other writer to finish, then retry",
                    ) from exc
                time.sleep(random.uniform(0.001, 0.02))  # noqa: S311 - jitter
            else:
                return

    @contextlib.contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._begin(begin)
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            self._rows_rolled_back()
            raise
        self._depth = 0
        try:
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._db.execute("ROLLBACK")
            self._rows_rolled_back()
            raise LogLockedError(
                f"could not commit ({exc})",
                where=str(self._path),
                hint="retry the append",
            ) from exc
        except BaseException:  # not known to have committed: read nothing before
            self._before_rewrite = None
            raise
        self._before_rewrite = None

    def _rewriting_rows(self) -> None:
        """Stop states read so far from reading the index rows being rewritten.

        States read from now on get a new guard.  If the transaction rolls back,
        the rows are as they were: the states read before read on, and those read
        since (from rows that are gone) may not.
        """
        if self._before_rewrite is None:
            self._before_rewrite = (self._guard, self._saved)
            self._guard, self._saved = self._guard.renewed(), None

    def _rows_rolled_back(self) -> None:
        if self._before_rewrite is not None:
            self._guard.retire("before its rows were rolled back")
            self._guard, self._saved = self._before_rewrite
            self._guard.reinstate()
            self._before_rewrite = None

    # -- the Storage interface ---------------------------------------------------------

    @staticmethod
    def side_files(path: Path) -> tuple[Path, ...]:
        """The files SQLite keeps beside the database at ``path`` while in use."""
        return tuple(path.with_name(f"{path.name}{end}") for end in _SIDE_ENDINGS)

    @property
    def location(self) -> str:
        """The database's path."""
        return str(self._path)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """An immediate transaction: other writers wait until it commits."""
        return self._transaction("BEGIN IMMEDIATE")

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """A read transaction: a consistent snapshot of whole batches."""
        return self._transaction("BEGIN")

    def count(self) -> int:
        """How many records are stored."""
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()
        return int(row[0])

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRecord]:
        """Records with ``start <= seq < stop``, each checked against its hash."""
        end = _OPEN_END if stop is None else stop
        rows = self._db.execute(
            "SELECT seq, hash, body FROM records "
            "WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, end),
        )
        return (self._checked(seq, digest, body) for seq, digest, body in rows)

    def _checked(self, seq: int, digest: str, body: object) -> StoredRecord:
        """The record a row holds, checked against its hash and its place."""
        where = f"{self._path}: record {seq}"
        if not isinstance(body, str) or not body.endswith("}"):
            raise IntegrityError(
                "the stored body is damaged",
                where=where,
                hint="restore the database from a backup",
            )
        record = parse_line(f'{body[:-1]},"hash":"{digest}"}}', where=where)
        if record.seq != seq:
            raise IntegrityError(
                f"row {seq} holds record {record.seq}",
                where=where,
                hint="restore the database from a backup",
            )
        return record

    def read_bulk(self, start: int, stop: int, previous_hash: str) -> BulkRecords:
        """Records ``start <= seq < stop`` checked in bulk (hashes and chain)."""
        rows = self._db.execute(
            "SELECT hash, body FROM records WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, stop),
        ).fetchall()
        return check_bulk(
            [str(body).encode() for _, body in rows],
            [str(digest).encode() for digest, _ in rows],
            first_seq=max(start, 1),
            previous_hash=previous_hash,
            place=lambda seq: f"{self._path}: record {seq}",
        )

    def read_fresh(self) -> Iterator[StoredRecord]:
        """Every record as stored now, then a check against the stored head."""
        last: StoredRecord | None = None
        for record in self.read(1):
            last = record
            yield record
        row = self._db.execute(
            "SELECT value FROM negstate_meta WHERE key = 'head'"
        ).fetchone()
        if row is None:
            return
        seq_text, _, digest = str(row[0]).partition(" ")
        count = 0 if last is None else last.seq
        if int(seq_text) != count or (last is not None and digest != last.hash):
            raise IntegrityError(
                f"the log ends at record {count} but its head says record {seq_text} "
                "was written last: records are missing or replaced",
                where=str(self._path),
                hint="restore the database from a backup",
            )

    def write(self, records: Sequence[StoredRecord], events: Sequence[Event]) -> None:
        """Insert the rows (the enclosing transaction makes them atomic)."""
        rows = []
        for record, event in zip(records, events, strict=True):
            span = event.occurred
            rows.append(
                (
                    record.seq,
                    event.id,
                    0 if span.earliest is None else span.earliest.toordinal(),
                    _OPEN_END if span.latest is None else span.latest.toordinal(),
                    record.recorded_at,
                    record.hash,
                    record.body,
                )
            )
        self._db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        last = records[-1]
        self._db.execute(
            "INSERT OR REPLACE INTO negstate_meta VALUES ('head', ?)",
            (f"{last.seq} {last.hash}",),
        )

    def record_of(self, event_id: str) -> StoredRecord | None:
        """The stored record of ``event_id``, checked against its hash."""
        row = self._db.execute(
            "SELECT seq, hash, body FROM records WHERE event_id = ?", (event_id,)
        ).fetchone()
        return None if row is None else self._checked(*row)

    def save_index(
        self,
        index: ReplayIndex,
        order: SavedOrder,
        head: tuple[int, str],
        revised: Mapping[str, str],
        revised_by: Mapping[str, Sequence[str]],
        *,
        record_ids: Sequence[str],  # noqa: ARG002 - the records table has them
        snapshot: Sequence[bytes] = (),
    ) -> bool:
        """Keep the checkpoint index and the snapshot in the database.

        States read from the index before refuse to read on once it is kept.
        """
        with self._transaction("BEGIN IMMEDIATE"):
            kept = save_index(
                self._db,
                index,
                order,
                head,
                revised=revised,
                revised_by=revised_by,
                snapshot=snapshot,
            )
            if kept:
                self._rewriting_rows()
        return kept

    def snapshot_parts(self) -> Iterator[bytes]:
        """The parts of the decoded snapshot the database keeps (none if none)."""
        return snapshot_parts(self._db)

    def index_is_current(self, head: tuple[int, str]) -> bool:
        """Whether the kept index matches ``head`` (appends can then grow it)."""
        return index_is_current(self._db, head)

    def plan_index_extension(
        self,
        head: tuple[int, str],
        events: Sequence[Event],
        decode: Callable[[str, str | None], Event],
        registry: EventRegistry,
    ) -> IndexExtension | None:
        """Fold ``events`` onto the kept index, if it matches ``head`` (see there)."""
        return plan_extension(self._db, head, events, decode, registry)

    def write_index_extension(
        self,
        extension: IndexExtension,
        head: tuple[int, str],
        records: Sequence[tuple[str, int]],  # noqa: ARG002 - the records table has them
    ) -> None:
        """Add a planned extension to the kept index, inside the write transaction.

        States read before an extension that rewrote rows refuse to read on,
        unless the transaction rolls back.
        """
        write_extension(self._db, extension, head)
        if extension.refolded:
            self._rewriting_rows()

    def index_state(
        self,
        head: tuple[int, str],
        day: date | None,
        decode: Callable[[str, str | None], Event],
    ) -> NegotiationState | None:
        """The state on ``day`` from the kept index, if it matches ``head``.

        States read while the head stays the same share one :class:`SavedIndex`,
        so a diff between two of them reads only what changed between them.
        """
        self._saved = open_saved_index(self._db, head, decode, self._saved, self._guard)
        return None if self._saved is None else self._saved.state_at(day)

    def place(self, record: StoredRecord) -> str:
        """``path: record N``."""
        return f"{self._path}: record {record.seq}"

    def select_occurred(self, first: int, last: int) -> Iterator[int] | None:
        """Sequence numbers of events whose span of days overlaps ``first..last``."""
        rows = self._db.execute(
            "SELECT seq FROM records WHERE occurred_latest >= ? AND "
            "occurred_earliest <= ? ORDER BY seq",
            (first, last),
        )
        return (int(row[0]) for row in rows)

    def sync(self) -> None:
        """Checkpoint the write-ahead log into the database file."""
        self._db.execute("PRAGMA wal_checkpoint(FULL)")

    def close(self) -> None:
        """Close the connection and let go of the saved index read through it."""
        self._guard.retire("before its log was closed")
        self._db.close()
        self._saved = None
