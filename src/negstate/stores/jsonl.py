"""A log kept in a JSON Lines file: one record a line, readable and diff-friendly.

The first line is a header that marks the file as a negstate log; record ``n`` is
on line ``n + 1``.  Writers hold an exclusive ``fcntl`` lock on the file and write a
whole batch with one ``write`` followed by ``fsync``; readers hold a shared lock, so
they never see a half-written line.

A crash can still cut the last write short.  Whoever next takes the write lock (or
opens the log) finds the cut: a last line without its newline, with bad JSON or a
bad hash, or records of a batch whose last record never arrived.  Those bytes were
never acknowledged, so they are moved to a side file next to the log
(``<log>.torn-<time>``) with a :class:`~negstate.errors.TornTailWarning`.  A bad
record anywhere before that is never repaired: it raises
:class:`~negstate.errors.IntegrityError` naming ``path:line``.

A hash chain cannot tell a log whose last lines were deleted from a shorter log, so
after every append the last record's number and hash go to ``<log>.head``.  Verify
reports a log shorter than its head; keep the head file next to the log (commit it
with the log).

The log may also keep its checkpoint index in ``<log>.index`` (see
:mod:`negstate.stores.side_index`), a cache that need not be committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import warnings
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from itertools import accumulate, islice
from pathlib import Path
from typing import Final

from negstate.errors import (
    IndexUnreadableError,
    IntegrityError,
    LogFormatError,
    LogLockedError,
    NegstateError,
    TornTailWarning,
)
from negstate.events import Event
from negstate.index import ReplayIndex
from negstate.records import (
    BulkRecords,
    StoredRecord,
    check_bulk,
    parse_line,
    split_line,
    stored_line,
)
from negstate.registry import EventRegistry
from negstate.state import NegotiationState
from negstate.stores.checkpoints import IndexExtension, SavedOrder
from negstate.stores.side_index import SideIndex

__all__ = ["HEADER", "JsonLinesStorage", "sync_folder"]

HEADER: Final = b'{"negstate":"event-log","format":1}\n'
"""The first line of every negstate JSON Lines log."""


class JsonLinesStorage:
    """Records in a JSON Lines file, created with its header when missing.

    With ``repair=False`` (used by :func:`negstate.verify_log`) a torn tail is left
    in place for :meth:`read_fresh` to report.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: bool = True,
        lock_timeout: float = 30.0,
        repair: bool = True,
    ) -> None:
        self._path = Path(path)
        self._fsync = fsync
        self._lock_timeout = lock_timeout
        self._offsets = array("q")
        self._end = len(HEADER)
        self._held: int | None = None
        # Records up to this one were placed by the index file, not by a scan.
        self._placed_by_index = 0
        self._side = SideIndex(self._path, read_only=not repair, fsync=fsync)
        self._fd = self._open()
        try:
            with self._locked(fcntl.LOCK_EX if repair else fcntl.LOCK_SH):
                self._check_header()
                self._resume_from_index()
                self._scan(repair=repair)
        except BaseException:
            self._side.close()
            os.close(self._fd)
            raise

    # -- files and locks ------------------------------------------------------------

    def _open(self) -> int:
        if not self._path.exists():
            self._create()
        try:
            return os.open(self._path, os.O_RDWR | os.O_APPEND)
        except OSError as exc:
            raise NegstateError(
                f"cannot open the log ({exc.strerror})",
                where=str(self._path),
                hint="check the path and its permissions",
            ) from exc

    def _create(self) -> None:
        """Create the file with its header atomically (a rename of a synced file)."""
        directory = self._path.parent
        if not directory.is_dir():
            raise NegstateError(
                f"the folder {directory} does not exist",
                where=str(self._path),
                hint="create the folder first",
            )
        # A head or index file without its log belongs to a deleted log, not to this.
        self.head_path.unlink(missing_ok=True)
        self._side.remove()
        temporary = directory / f".{self._path.name}.{os.getpid()}.new"
        with temporary.open("wb") as handle:
            handle.write(HEADER)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, self._path)
        except FileExistsError:
            pass  # another process created it first; use theirs
        finally:
            temporary.unlink()
        sync_folder(directory)

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        if self._held is not None:
            # Already locked by this storage: flock would silently convert the lock.
            assert mode == fcntl.LOCK_SH or self._held == fcntl.LOCK_EX  # noqa: S101
            yield
            return
        deadline = time.monotonic() + self._lock_timeout
        while True:
            try:
                fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LogLockedError(
                        f"another process has held the log for {self._lock_timeout:g}s",
                        where=str(self._path),
                        hint="wait for the other writer to finish, then retry",
                    ) from None
                time.sleep(0.001)
        self._held = mode
        try:
            yield
        finally:
            self._held = None
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """The exclusive lock; on taking it, repair a tail another writer left torn."""
        return self._write_lock()

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        with self._locked(fcntl.LOCK_EX):
            if os.fstat(self._fd).st_size != self._end:
                self._scan(repair=True)
            yield

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """The shared lock: no writer is half-way through a line while it is held."""
        return self._locked(fcntl.LOCK_SH)

    # -- scanning -------------------------------------------------------------------

    def _check_header(self) -> None:
        start = os.pread(self._fd, len(HEADER), 0)
        if start != HEADER:
            raise LogFormatError(
                "not a negstate log (its first line is not the negstate header)",
                where=f"{self._path}:1",
                hint="open a file written by negstate, or a new path to start a log",
            )

    def _resume_from_index(self) -> None:
        """Take the line offsets from the index file, if its last record is here.

        The stamped record must be whole and where the index says, with the hash
        it says: the chain then fixes every record before it, and reading them
        checks their hashes and links anyway.  Anything else scans the file.
        """
        stamp = self._side.line_stamp()
        if stamp is None:
            return
        seq, digest, end, offsets = stamp
        start = offsets[-1]
        if offsets[0] != len(HEADER) or not start < end <= os.fstat(self._fd).st_size:
            return
        line = os.pread(self._fd, end - start, start)
        if not line.endswith(b"\n"):
            return
        try:
            record = parse_line(
                line[:-1].decode("utf-8"), where=str(self._path), line=seq + 1
            )
        except (UnicodeDecodeError, NegstateError):
            return
        if record.seq == seq and record.hash == digest and not record.batch_left:
            self._offsets, self._end = offsets, end
            self._placed_by_index = seq

    def _scan(self, *, repair: bool) -> None:
        """Index whole records after the known end; move a torn tail aside if asked.

        Without ``repair`` (a reader) a torn tail is left alone and not indexed.
        """
        size = os.fstat(self._fd).st_size
        if size <= self._end:
            if size < self._end:
                raise IntegrityError(
                    f"the file shrank from {self._end} to {size} bytes while open",
                    where=str(self._path),
                    hint="something outside negstate truncated it; restore it",
                )
            return
        tail = os.pread(self._fd, size - self._end, self._end)
        pieces = tail.split(b"\n")
        good = _whole_batches_at_end(pieces, self._path, len(self._offsets) + 2)
        starts = _line_starts(pieces, good, self._end)
        kept = starts[-1] - self._end
        if kept < len(tail) and repair:
            self._move_aside(tail[kept:], self._end + kept)
        self._offsets.extend(starts[:-1])
        self._end = starts[-1]

    def read_fresh(self) -> Iterator[StoredRecord]:
        """Every record as the file holds it now, ignoring the index.

        Any damaged line, the last one included, raises IntegrityError; nothing is
        repaired.
        """
        self._check_header()
        size = os.fstat(self._fd).st_size
        content = os.pread(self._fd, size - len(HEADER), len(HEADER))
        last: StoredRecord | None = None
        for record in _frame(
            _split_lines(content), self._path, 2, allow_torn_last=False
        ):
            assert record is not None  # noqa: S101 - allow_torn_last=False
            last = record
            yield record
        if last is not None and last.batch_left:
            raise IntegrityError(
                f"record {last.seq} belongs to a batch whose end is missing "
                "(a write cut short)",
                where=f"{self._path}:{last.seq + 1}",
                hint="opening the log for writing moves the unfinished batch aside",
            )
        self._check_head(last)

    def _move_aside(self, torn: bytes, offset: int) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        side = self._path.with_name(f"{self._path.name}.torn-{stamp}")
        with side.open("wb") as handle:
            handle.write(torn)
            handle.flush()
            os.fsync(handle.fileno())
        os.ftruncate(self._fd, offset)
        os.fsync(self._fd)
        warnings.warn(
            TornTailWarning(
                f"{self._path}: the last write was cut short (a crash?); "
                f"moved {len(torn)} unacknowledged byte(s) to {side.name}"
            ),
            stacklevel=4,
        )

    # -- the Storage interface ---------------------------------------------------------

    @property
    def location(self) -> str:
        """The file's path."""
        return str(self._path)

    def count(self) -> int:
        """How many whole records the file holds (reading other writers' appends)."""
        self._scan(repair=False)
        return len(self._offsets)

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRecord]:
        """Records with ``start <= seq < stop``, each checked against its own hash."""
        total = len(self._offsets)
        first = max(start, 1)
        last = total if stop is None else min(stop - 1, total)
        if first > last:
            return
        begin = self._offsets[first - 1]
        end = self._offsets[last] if last < total else self._end
        chunk = os.pread(self._fd, end - begin, begin)
        lines = chunk.decode("utf-8", errors="surrogateescape").split("\n")
        for index, text in enumerate(lines[: last - first + 1]):
            seq = first + index
            where = f"{self._path}:{seq + 1}"
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise IntegrityError(
                    "the line is not valid UTF-8",
                    where=where,
                    hint="restore the log from a backup or git",
                ) from exc
            record = parse_line(text, where=where, line=seq + 1)
            if record.seq != seq and seq <= self._placed_by_index:
                raise IntegrityError(
                    f"the line holds record {record.seq} where record {seq} belongs",
                    where=where,
                    hint="run 'negstate verify'; if the log verifies, delete "
                    f"{self._side.path.name}, which placed the line",
                )
            yield record

    @property
    def head_path(self) -> Path:
        """The file that anchors the chain's last record (``<log>.head``)."""
        return self.head_path_of(self._path)

    @staticmethod
    def head_path_of(path: Path) -> Path:
        """The head file of the log at ``path``."""
        return path.with_name(f"{path.name}.head")

    @staticmethod
    def side_files(path: Path) -> tuple[Path, ...]:
        """The files kept beside the log at ``path``: its head and index files."""
        head = JsonLinesStorage.head_path_of(path)
        return head, head.with_name(f".{head.name}.new"), *SideIndex.side_files(path)

    @staticmethod
    def kept_files(path: Path) -> tuple[Path, ...]:
        """The files that belong with the log at ``path`` when it is renamed."""
        return JsonLinesStorage.head_path_of(path), SideIndex.path_of(path)

    def _write_head(self, record: StoredRecord) -> None:
        """Replace the head file; it may lag after a crash, never run ahead."""
        # Written under the write lock, so one name serves every writer.
        temporary = self.side_files(self._path)[1]
        temporary.write_text(f'{{"seq":{record.seq},"hash":"{record.hash}"}}\n')
        temporary.replace(self.head_path)

    def _check_head(self, last: StoredRecord | None) -> None:
        """Raise IntegrityError if the head file names records the log lacks."""
        try:
            head = json.loads(self.head_path.read_text())
            seq, digest = int(head["seq"]), str(head["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # no readable anchor: nothing to compare against
        count = 0 if last is None else last.seq
        if seq > count:
            raise IntegrityError(
                f"the log ends at record {count} but its head file says record {seq} "
                "was written: records at the end are missing",
                where=str(self._path),
                hint="restore the log from a backup or git",
            )
        if last is not None and seq == last.seq and digest != last.hash:
            raise IntegrityError(
                f"record {seq} does not match the hash in the head file",
                where=f"{self._path}:{seq + 1}",
                hint="restore the log from a backup or git",
            )

    def read_bulk(self, start: int, stop: int, previous_hash: str) -> BulkRecords:
        """Records ``start <= seq < stop`` checked in bulk (hashes and chain)."""
        total = len(self._offsets)
        first, last = max(start, 1), min(stop - 1, total)
        if first > last:
            return BulkRecords([], [], [], previous_hash)
        begin = self._offsets[first - 1]
        end = self._offsets[last] if last < total else self._end
        lines = os.pread(self._fd, end - begin, begin).split(b"\n")[: last - first + 1]
        bodies: list[bytes] = []
        hashes: list[bytes] = []
        for offset, line in enumerate(lines):
            parts = split_line(line)
            if parts is None:
                raise IntegrityError(
                    "not a negstate record (its frame of seq, times, hashes is broken)",
                    where=f"{self._path}:{first + offset + 1}",
                    hint="restore the line from a backup or git; run 'negstate verify'",
                )
            bodies.append(parts[0])
            hashes.append(parts[1])
        return check_bulk(
            bodies,
            hashes,
            first_seq=first,
            previous_hash=previous_hash,
            place=lambda seq: f"{self._path}:{seq + 1}",
        )

    def write(self, records: Sequence[StoredRecord], events: Sequence[Event]) -> None:  # noqa: ARG002
        """Append the lines with one write, then fsync (unless opened without)."""
        lines = [stored_line(record).encode("utf-8") for record in records]
        payload = b"".join(lines)
        view = memoryview(payload)
        written = 0
        while written < len(payload):
            written += os.write(self._fd, view[written:])
        if self._fsync:
            os.fsync(self._fd)
        starts = array("q", accumulate(map(len, lines), initial=self._end))
        self._offsets.extend(starts[:-1])
        self._end = starts[-1]
        self._write_head(records[-1])

    def place(self, record: StoredRecord) -> str:
        """``path:line`` (the line the record was read from)."""
        line = record.seq + 1 if record.line is None else record.line
        return f"{self._path}:{line}"

    def select_occurred(self, first: int, last: int) -> Iterator[int] | None:  # noqa: ARG002
        """A text file has no index on dates: the log decodes and filters."""
        return None

    def sync(self) -> None:
        """Fsync the file and its index file."""
        os.fsync(self._fd)
        self._side.sync()

    def close(self) -> None:
        """Close the file and its index file."""
        self._side.close()
        with contextlib.suppress(OSError):
            os.close(self._fd)

    # -- the checkpoint index, kept in <log>.index ------------------------------------

    def save_index(
        self,
        index: ReplayIndex,
        order: SavedOrder,
        head: tuple[int, str],
        revised: Mapping[str, str],
        revised_by: Mapping[str, Sequence[str]],
        *,
        record_ids: Sequence[str],
        snapshot: Sequence[bytes] = (),
    ) -> bool:
        """Keep the checkpoint index and the snapshot in ``<log>.index``."""
        return self._side.save(
            index,
            order,
            head,
            revised=revised,
            revised_by=revised_by,
            record_ids=record_ids,
            offsets=self._offsets,
            end=self._end,
            snapshot=snapshot,
        )

    def snapshot_parts(self) -> Iterator[bytes]:
        """The parts of the decoded snapshot ``<log>.index`` keeps (none if none)."""
        return self._side.snapshot_parts()

    def index_is_current(self, head: tuple[int, str]) -> bool:
        """Whether the index file matches ``head`` (appends can then grow it)."""
        return self._side.is_current(head)

    def plan_index_extension(
        self,
        head: tuple[int, str],
        events: Sequence[Event],
        decode: Callable[[str, str | None], Event],
        registry: EventRegistry,
    ) -> IndexExtension | None:
        """Fold ``events`` onto the kept index, if it matches ``head``."""
        return self._side.plan(head, events, decode, registry)

    def write_index_extension(
        self,
        extension: IndexExtension,
        head: tuple[int, str],
        records: Sequence[tuple[str, int]],
    ) -> None:
        """Add a planned extension to the index file, after the lines are written."""
        self._side.extend(extension, head, records, self._offsets, self._end)

    def index_state(
        self,
        head: tuple[int, str],
        day: date | None,
        decode: Callable[[str, str | None], Event],
    ) -> NegotiationState | None:
        """The state on ``day`` from the index file, if it matches ``head``."""
        return self._side.state_at(head, day, decode)

    def record_of(self, event_id: str) -> StoredRecord | None:
        """The record of ``event_id`` as the index file places it, hash checked.

        Raises IndexUnreadableError (and drops the file) if the file cannot be
        read.  The caller checks that the record holds ``event_id``.
        """
        seq = self._side.seq_of(event_id)
        if seq is None or seq > len(self._offsets):
            return None
        return next(self.read(seq, seq + 1))

    def misplaced(self, event_id: str, seq: int) -> IndexUnreadableError:
        """The error for an index file that put ``event_id`` in record ``seq``.

        The file is dropped: queries and appends replay the log.
        """
        return self._side.misplaced(event_id, seq)


def _split_lines(content: bytes) -> list[bytes]:
    """Split into lines that keep their newline; a last line may lack it."""
    lines = content.split(b"\n")
    whole = [line + b"\n" for line in lines[:-1]]
    return [*whole, lines[-1]] if lines[-1] else whole


def _frame(
    lines: list[bytes], path: Path, first_line: int, *, allow_torn_last: bool
) -> list[StoredRecord | None]:
    """Parse each line's frame and hash; ``None`` stands for a torn last line."""
    records: list[StoredRecord | None] = []
    for index, raw in enumerate(lines):
        number = first_line + index
        where = f"{path}:{number}"
        try:
            if not raw.endswith(b"\n"):
                raise IntegrityError(
                    "the line has no newline (a write cut short)",
                    where=where,
                    hint="opening the log for writing moves it aside",
                )
            text = raw[:-1].decode("utf-8")
            records.append(parse_line(text, where=where, line=number))
        except UnicodeDecodeError as exc:
            if allow_torn_last and index == len(lines) - 1:
                records.append(None)
                continue
            raise IntegrityError(
                "the line is not valid UTF-8",
                where=where,
                hint="restore the log from a backup or git",
            ) from exc
        except NegstateError:
            if allow_torn_last and index == len(lines) - 1:
                records.append(None)
                continue
            raise
    return records


def _line_starts(pieces: list[bytes], count: int, first: int) -> array[int]:
    """Where each of the first ``count`` lines starts, and where the last one ends.

    ``pieces`` is text split at newlines and ``first`` the offset of its start.
    """
    lengths = map((1).__add__, map(len, islice(pieces, count)))
    return array("q", accumulate(lengths, initial=first))


def _whole_batches_at_end(pieces: list[bytes], path: Path, first_line: int) -> int:
    """How many leading lines are whole records of finished batches.

    ``pieces`` is text split at newlines: every piece but the last ended with one.
    Only the end is examined: a torn last line, and the records of a batch whose
    last record never arrived.  Damage further up is found when those records are
    read.
    """
    ended = len(pieces) - 1

    def line(index: int) -> bytes:
        return pieces[index] + b"\n" if index < ended else pieces[index]

    good = ended + 1 if pieces[-1] else ended
    if (
        good
        and _frame([line(good - 1)], path, first_line + good - 1, allow_torn_last=True)[
            0
        ]
        is None
    ):
        good -= 1
    position = good
    while position:
        record = _frame(
            [line(position - 1)],
            path,
            first_line + position - 1,
            allow_torn_last=False,
        )[0]
        assert record is not None  # noqa: S101 - allow_torn_last=False
        if record.batch_left == 0:
            return position
        position -= 1
    return 0


def sync_folder(directory: Path) -> None:
    """Fsync a folder so a new file's name survives a crash."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
