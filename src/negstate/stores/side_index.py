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
An error while reading it (a damaged file) removes it too: queries and appends
then replay the log.  A file at that name that is not an SQLite database is
never removed; saving an index then names it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Final, TypeAlias

from negstate.errors import IndexDroppedWarning, IndexUnreadableError, NegstateError
from negstate.events import Event
from negstate.index import ReplayIndex
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

__all__ = ["LINES_FORMAT", "LineStamp", "SideIndex"]

LINES_FORMAT: Final = "1"
"""The format of the tables of line offsets and record ids."""

_CHUNK: Final = 4096
"""Line offsets are kept in blobs of this many, so an append rewrites one or two."""

_SQLITE_HEADER: Final = b"SQLite format 3\x00"

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
        self._guard = ReadGuard(str(self.path))
        self._dropped = False

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
        """The open file, or None when there is none (and ``create`` is off).

        Creating replaces a damaged index file, and refuses to touch another file.
        """
        if self._db is not None:
            return self._db
        if (self._dropped and self._read_only) or (
            not create and not self.path.exists()
        ):
            return None
        if create and not self._is_ours():
            raise NegstateError(
                "a file that is not a negstate checkpoint index is in the way",
                where=str(self.path),
                hint="move it away, then save the index again",
            )
        try:
            self._db = self._connect(create=create)
        except sqlite3.Error as exc:
            if not create:
                return None
            try:  # a damaged index file: start a new one
                self.remove()
                self._db = self._connect(create=True)
            except (OSError, sqlite3.Error):
                raise NegstateError(
                    f"cannot create the checkpoint index file ({exc})",
                    where=str(self.path),
                    hint="check that the log's folder is writable",
                ) from exc
        return self._db

    def _connect(self, *, create: bool) -> sqlite3.Connection:
        mode = "ro" if self._read_only else ("rwc" if create else "rw")
        db = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode={mode}",
            uri=True,
            timeout=30.0,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            if not self._read_only:
                db.execute(f"PRAGMA synchronous={'FULL' if self._fsync else 'OFF'}")
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def remove(self) -> None:
        """Remove the file and its journal, if the file is an index."""
        if self._is_ours():
            for name in self._files:
                name.unlink(missing_ok=True)

    def _is_ours(self) -> bool:
        """Whether the file is missing, empty, zeroed or an SQLite database."""
        try:
            with self.path.open("rb") as handle:
                start = handle.read(len(_SQLITE_HEADER))
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return start == _SQLITE_HEADER or not start.strip(b"\x00")

    def close(self, why: str = "before its log was closed") -> None:
        """Close the file if it is open; states read from it stop reading."""
        if self._db is not None:
            self._guard.retire(why)
            self._guard = ReadGuard(str(self.path))
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
    ) -> bool | None:
        """Run ``write`` in one transaction, kept if it returns True.

        An SQLite error drops the file with a warning (the log is written already)
        and returns None.
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
            return None
        finally:
            self._saved = None
        return done

    def misplaced(self, event_id: str, seq: int) -> IndexUnreadableError:
        """Drop a file that places ``event_id`` in another event's record."""
        return self._unreadable(
            f"it places event {event_id!r} in record {seq}, which holds another"
        )

    def _unreadable(self, problem: sqlite3.Error | str) -> IndexUnreadableError:
        """Drop a file that fails to read; the error for a caller that must know."""
        why = (
            problem if isinstance(problem, str) else f"it could not be read ({problem})"
        )
        self.drop(why)
        return IndexUnreadableError(
            f"{self._dropped_how} the checkpoint index kept beside the log, as {why}",
            where=str(self.path),
            hint="read again: the log is replayed until 'negstate index' saves one",
        )

    def drop(self, why: str) -> None:
        """Remove the file: queries replay the log until the index is saved again.

        A read-only log changes no file: it only stops using this one.
        """
        self.close("before the index file beside its log was dropped")
        self._dropped = True
        if not self._read_only:
            with contextlib.suppress(OSError):
                self.remove()
        warnings.warn(
            IndexDroppedWarning(
                f"{self.path}: {self._dropped_how} the checkpoint index kept beside "
                f"the log, as {why}; the log itself is unchanged. Run 'negstate "
                "index' on the log to keep a new one"
            ),
            stacklevel=6,
        )

    @property
    def _dropped_how(self) -> str:
        return "stopped using" if self._read_only else "removed"

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
        snapshot: Sequence[bytes] = (),
    ) -> bool:
        """Write the whole index for ``head``; False if it cannot keep these states.

        A damaged file is replaced; an SQLite error on a new file raises.
        """

        def write(db: sqlite3.Connection) -> bool:
            if not save_index(
                db,
                index,
                order,
                head,
                revised=revised,
                revised_by=revised_by,
                snapshot=snapshot,
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

        existed = self.path.exists()
        kept = self._write(write, create=True)
        if kept is None:  # the file was damaged and is gone: write a new one
            kept = self._write(write, create=True)
            if kept is None:
                raise NegstateError(
                    "cannot write the checkpoint index file",
                    where=str(self.path),
                    hint="check the disk and the folder's permissions, then retry",
                )
        if kept:
            self._guard = self._guard.renewed()
        if not kept and not existed:
            self.close("before the index file beside its log was removed")
            self.remove()
        return kept

    def extend(
        self,
        extension: IndexExtension,
        head: tuple[int, str],
        records: Sequence[tuple[str, int]],
        offsets: array[int],
        end: int,
    ) -> None:
        """Add an extension planned on this index, and the new records' places.

        States read before an extension that rewrote rows refuse to read on,
        once the rows are written.
        """

        def write(db: sqlite3.Connection) -> bool:
            first = records[0][1] - 1  # the first new record's line offset
            write_extension(db, extension, head)
            _write_offsets(db, offsets, first // _CHUNK)
            db.executemany("INSERT INTO negstate_records VALUES (?, ?)", records)
            _stamp_lines(db, end)
            return True

        if self._write(write, create=False) and extension.refolded:
            self._guard = self._guard.renewed()

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
        try:
            return plan_extension(db, head, events, decode, registry)
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from exc

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
        try:
            self._saved = open_saved_index(db, head, decode, self._saved, self._guard)
            return None if self._saved is None else self._saved.state_at(day)
        except sqlite3.Error as exc:
            self.drop(f"it could not be read ({exc})")
            return None

    def snapshot_parts(self) -> Iterator[bytes]:
        """The parts of the decoded snapshot the file keeps (none if none).

        Read as they are used; a read that fails makes the snapshot unusable, and
        the log is read from its records.
        """
        db = self._connection()
        return iter(()) if db is None else snapshot_parts(db)

    def seq_of(self, event_id: str) -> int | None:
        """The number of the record holding ``event_id``, as the file knows it."""
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute(
                "SELECT seq FROM negstate_records WHERE event_id = ?", (event_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from exc
        return None if row is None else int(row[0])

    def sync(self) -> None:
        """Fsync the file, if there is one."""
        with contextlib.suppress(FileNotFoundError):
            handle = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)


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
