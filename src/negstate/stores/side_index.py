"""The checkpoint index of a JSON Lines log, kept in an SQLite file beside it.

A JSON Lines log stays plain text, fit for git; its checkpoint index goes to
``<log>.index``, an SQLite file holding the same tables an SQLite log keeps (see
:mod:`negstate.stores.checkpoints`) plus where each record's line starts and
which record holds each event id.  The file is a cache: it is stamped with the
log's head (last record's number and hash) and used only while it matches, so a
log appended without it, restored from git or replaced simply replays.

Opening a log with such a file reads the line offsets from it instead of
scanning the whole text, after checking that the stamped record sits where the
file says.  Saves and appends change it only under the log's write lock, after
the log's own lines are written: a crash in between leaves it stale, never
wrong.  Any SQLite error while writing it removes it, with an
:class:`~negstate.errors.IndexDroppedWarning`: the append itself has succeeded.
"""

from __future__ import annotations

import contextlib
import sqlite3
import warnings
from array import array
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Final, TypeAlias

from negstate.errors import IndexDroppedWarning, NegstateError
from negstate.events import Event
from negstate.index import ReplayIndex
from negstate.registry import EventRegistry
from negstate.state import NegotiationState
from negstate.stores.checkpoints import (
    IndexExtension,
    SavedIndex,
    SavedOrder,
    index_is_current,
    open_saved_index,
    plan_extension,
    save_index,
    write_extension,
)

__all__ = ["LINES_FORMAT", "LineStamp", "SideIndex"]

LINES_FORMAT: Final = "1"
"""The format of the tables of line offsets and record ids."""

_CHUNK: Final = 4096
"""Line offsets are kept in blobs of this many, so an append rewrites one or two."""

_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS negstate_lines (chunk INTEGER PRIMARY KEY, "
        "offsets BLOB NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS negstate_records (event_id TEXT PRIMARY KEY, "
        "seq INTEGER NOT NULL) WITHOUT ROWID"
    ),
)

LineStamp: TypeAlias = "tuple[int, str, int, array[int]]"
"""(last record's seq, its hash, where its line ends, where each line starts)."""


class SideIndex:
    """The ``<log>.index`` file of one JSON Lines log, opened when first needed."""

    def __init__(self, log: Path, *, read_only: bool, fsync: bool) -> None:
        self._files = self.side_files(log)
        self.path = self._files[0]
        self._read_only = read_only
        self._fsync = fsync
        self._db: sqlite3.Connection | None = None
        self._saved: SavedIndex | None = None

    @staticmethod
    def path_of(log: Path) -> Path:
        """The index file of the log at ``log``."""
        return log.with_name(f"{log.name}.index")

    @staticmethod
    def side_files(log: Path) -> tuple[Path, ...]:
        """The index file and the journal SQLite may leave beside it."""
        index = SideIndex.path_of(log)
        return index, index.with_name(f"{index.name}-journal")

    def _connection(self, *, create: bool = False) -> sqlite3.Connection | None:
        """The open file, or None when there is none (and ``create`` is off)."""
        if self._db is not None:
            return self._db
        if not create and not self.path.exists():
            return None
        mode = "ro" if self._read_only else ("rwc" if create else "rw")
        try:
            db = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode={mode}",
                uri=True,
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            if create:
                raise NegstateError(
                    f"cannot create the checkpoint index file ({exc})",
                    where=str(self.path),
                    hint="check that the log's folder is writable",
                ) from exc
            return None
        try:
            if not self._read_only:
                db.execute(f"PRAGMA synchronous={'FULL' if self._fsync else 'OFF'}")
        except sqlite3.Error:
            db.close()
            return None
        self._db = db
        return db

    def close(self) -> None:
        """Close the file if it is open."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._saved = None

    # -- opening the log -------------------------------------------------------------

    def line_stamp(self) -> LineStamp | None:
        """The line offsets kept, with the record they end at; None if unreadable.

        The caller checks the stamped record against the log before trusting them.
        """
        db = self._connection()
        if db is None:
            return None
        try:
            meta = dict(
                db.execute(
                    "SELECT key, value FROM negstate_index_meta WHERE key IN "
                    "('lines_format', 'head_seq', 'head_hash', 'lines_end')"
                ).fetchall()
            )
            if meta.get("lines_format") != LINES_FORMAT:
                return None
            offsets = array("q")
            for (blob,) in db.execute(
                "SELECT offsets FROM negstate_lines ORDER BY chunk"
            ):
                offsets.frombytes(blob)
            seq = int(meta["head_seq"])
            end = int(meta["lines_end"])
        except (sqlite3.Error, KeyError, ValueError):
            return None
        if seq < 1 or len(offsets) < seq:
            return None
        del offsets[seq:]
        return seq, meta["head_hash"], end, offsets

    # -- writing ---------------------------------------------------------------------

    def _write(
        self, write: Callable[[sqlite3.Connection], bool], *, create: bool
    ) -> bool:
        """Run ``write`` in one transaction, kept if it returns True.

        An SQLite error drops the file with a warning: the log is written already.
        """
        db = self._connection(create=create)
        if db is None:
            return False
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                done = write(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT" if done else "ROLLBACK")
        except sqlite3.Error as exc:
            self.drop(f"it could not be written ({exc})")
            return False
        finally:
            self._saved = None
        return done

    def drop(self, why: str) -> None:
        """Remove the file: queries replay the log until the index is saved again."""
        self.close()
        for name in self._files:
            with contextlib.suppress(OSError):
                name.unlink(missing_ok=True)
        warnings.warn(
            IndexDroppedWarning(
                f"{self.path}: removed the checkpoint index kept beside the log, as "
                f"{why}; the log itself is unchanged. Run 'negstate index' on the "
                "log to keep a new one"
            ),
            stacklevel=6,
        )

    def save(
        self,
        index: ReplayIndex,
        order: SavedOrder,
        head: tuple[int, str],
        *,
        revised: Mapping[str, str],
        revised_by: Mapping[str, Sequence[str]],
        record_ids: Sequence[str],
        offsets: array[int],
        end: int,
    ) -> bool:
        """Write the whole index for ``head``; False if it cannot keep these states."""

        def write(db: sqlite3.Connection) -> bool:
            if not save_index(
                db, index, order, head, revised=revised, revised_by=revised_by
            ):
                return False
            for table in ("negstate_lines", "negstate_records"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA:
                db.execute(statement)
            _write_offsets(db, offsets, 0)
            db.executemany(
                "INSERT INTO negstate_records VALUES (?, ?)",
                zip(record_ids, range(1, len(record_ids) + 1), strict=True),
            )
            _stamp_lines(db, end)
            return True

        return self._write(write, create=True)

    def extend(
        self,
        extension: IndexExtension,
        head: tuple[int, str],
        records: Sequence[tuple[str, int]],
        offsets: array[int],
        end: int,
    ) -> None:
        """Add an extension planned on this index, and the new records' places."""

        def write(db: sqlite3.Connection) -> bool:
            first = records[0][1] - 1  # the first new record's line offset
            write_extension(db, extension, head)
            _write_offsets(db, offsets, first // _CHUNK)
            db.executemany("INSERT INTO negstate_records VALUES (?, ?)", records)
            _stamp_lines(db, end)
            return True

        self._write(write, create=False)

    # -- reading ---------------------------------------------------------------------

    def is_current(self, head: tuple[int, str]) -> bool:
        """Whether the file keeps an index stamped with ``head``."""
        db = self._connection()
        if db is None:
            return False
        try:
            return index_is_current(db, head) and _has_lines(db)
        except sqlite3.Error:
            return False

    def plan(
        self,
        head: tuple[int, str],
        events: Sequence[Event],
        decode: Callable[[str, str | None], Event],
        registry: EventRegistry,
    ) -> IndexExtension | None:
        """Fold ``events`` onto the kept index (see ``checkpoints.plan_extension``)."""
        db = self._connection()
        if db is None or not self.is_current(head):
            return None
        return plan_extension(db, head, events, decode, registry)

    def state_at(
        self,
        head: tuple[int, str],
        day: date | None,
        decode: Callable[[str, str | None], Event],
    ) -> NegotiationState | None:
        """The state on ``day`` from the kept index, if it matches ``head``."""
        db = self._connection()
        if db is None or not self.is_current(head):
            self._saved = None
            return None
        self._saved = open_saved_index(db, head, decode, self._saved)
        return None if self._saved is None else self._saved.state_at(day)

    def seq_of(self, event_id: str) -> int | None:
        """The number of the record holding ``event_id``, as the file knows it."""
        db = self._connection()
        if db is None:
            return None
        row = db.execute(
            "SELECT seq FROM negstate_records WHERE event_id = ?", (event_id,)
        ).fetchone()
        return None if row is None else int(row[0])


def _has_lines(db: sqlite3.Connection) -> bool:
    row = db.execute(
        "SELECT value FROM negstate_index_meta WHERE key = 'lines_format'"
    ).fetchone()
    return row is not None and row[0] == LINES_FORMAT


def _write_offsets(db: sqlite3.Connection, offsets: array[int], first: int) -> None:
    """Write the chunks of ``offsets`` from chunk ``first`` on."""
    db.executemany(
        "INSERT OR REPLACE INTO negstate_lines VALUES (?, ?)",
        (
            (chunk, offsets[chunk * _CHUNK : (chunk + 1) * _CHUNK].tobytes())
            for chunk in range(first, (len(offsets) + _CHUNK - 1) // _CHUNK)
        ),
    )


def _stamp_lines(db: sqlite3.Connection, end: int) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO negstate_index_meta VALUES (?, ?)",
        [("lines_format", LINES_FORMAT), ("lines_end", str(end))],
    )
