"""The append-only event log, the same for every storage backend.

:class:`EventLog` does everything a log must do whatever holds its bytes: it numbers
and time-stamps records, chains their hashes, refuses an event that cannot fold onto
what the log holds (leaving the storage untouched), treats a re-recorded identical
event as a no-op, detects a concurrent writer with ``expected_seq``, and hands
replay a cached :class:`~negstate.replay.Timeline`.  A :class:`Storage` only keeps
records: in memory (:class:`MemoryStorage`), in a JSON Lines file or in SQLite
(see :mod:`negstate.stores`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import warnings
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol, Self

import attrs
import cattrs

from negstate._fastdecode import FastDecoder
from negstate._fastencode import FastEncoder
from negstate._gc import paused_gc
from negstate._snapshot import (
    Snapshot,
    UnusableSnapshot,
    kept_fold_agrees,
    read_snapshot,
    write_snapshot,
)
from negstate.errors import (
    ConcurrencyError,
    DuplicateEventError,
    IndexUnreadableError,
    IntegrityError,
    LogFormatError,
    NegstateError,
    locate,
)
from negstate.events import Event
from negstate.records import (
    GENESIS,
    BulkRecords,
    Record,
    StoredRecord,
    canonical_event,
    check_bulk,
    check_chain,
    decode_record,
    encode_record,
)
from negstate.reducers import BUILTIN_EVENTS
from negstate.registry import EventRegistry
from negstate.replay import Timeline, build_timeline, day_of, moment_of
from negstate.serialization import (
    SCHEMA_VERSION,
    decode_event,
    encode_event,
    moment_text,
    shared_converter,
)
from negstate.state import NegotiationState
from negstate.stores.checkpoints import SavedOrder
from negstate.stores.jsonl import JsonLinesStorage, sync_folder
from negstate.stores.sqlite import SqliteStorage

__all__ = [
    "EventLog",
    "MemoryStorage",
    "Storage",
    "VerifyReport",
    "open_log",
    "utc_now",
    "verify_log",
]

SQLITE_SUFFIXES: Final = (".sqlite", ".sqlite3", ".db")
"""File suffixes that open an SQLite log; any other suffix opens JSON Lines."""
_LOAD_CHUNK: Final = 10_000
"""Records decoded together when a log loads."""


def utc_now() -> datetime:
    """The current time in UTC (the default clock of a log)."""
    return datetime.now(UTC)


class Storage(Protocol):
    """Where a log keeps its records; the log itself does the rest.

    ``write`` must be atomic for the whole sequence and durable when it returns;
    ``writing`` must exclude other writers (other processes too) for its duration.
    """

    @property
    def location(self) -> str:
        """The path, or ``:memory:``, for messages."""
        ...

    def count(self) -> int:
        """How many records are stored."""
        ...

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRecord]:
        """Stored records with ``start <= seq < stop``, in sequence order."""
        ...

    def read_bulk(self, start: int, stop: int, previous_hash: str) -> BulkRecords:
        """Records ``start <= seq < stop`` as raw parts, for fast loading.

        Hashes and chain are checked; raises IntegrityError where one is broken.
        """
        ...

    def read_fresh(self) -> Iterator[StoredRecord]:
        """Every record as stored right now, bypassing any index or cache.

        Used by :meth:`EventLog.verify`; a damaged record raises IntegrityError.
        """
        ...

    def write(self, records: Sequence[StoredRecord], events: Sequence[Event]) -> None:
        """Store ``records`` (whose events are ``events``) atomically and durably."""
        ...

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Hold the write lock (excluding writers in other processes too)."""
        ...

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Hold a read lock, so no half-written record is ever seen."""
        ...

    def place(self, record: StoredRecord) -> str:
        """Where ``record`` is, for messages: ``path:line`` or ``path: record N``."""
        ...

    def select_occurred(self, first: int, last: int) -> Iterator[int] | None:
        """Sequence numbers of records whose event may have occurred in a span.

        ``first`` and ``last`` are day ordinals.  A backend that cannot answer
        without decoding returns ``None``.
        """
        ...

    def sync(self) -> None:
        """Make every written record durable (for logs opened without fsync)."""
        ...

    def close(self) -> None:
        """Release files and locks."""
        ...


class MemoryStorage:
    """Records kept in a list: the storage of a log that lives and dies in memory."""

    def __init__(self) -> None:
        self._records: list[StoredRecord] = []

    @property
    def location(self) -> str:
        """Always ``:memory:``."""
        return ":memory:"

    def count(self) -> int:
        """How many records are held."""
        return len(self._records)

    def read(self, start: int = 1, stop: int | None = None) -> Iterator[StoredRecord]:
        """Records with ``start <= seq < stop``."""
        end = len(self._records) if stop is None else min(stop - 1, len(self._records))
        return iter(self._records[max(start, 1) - 1 : end])

    def read_fresh(self) -> Iterator[StoredRecord]:
        """Every record held."""
        return iter(list(self._records))

    def read_bulk(self, start: int, stop: int, previous_hash: str) -> BulkRecords:
        """Records ``start <= seq < stop``, checked like any other backend's."""
        records = list(self.read(start, stop))
        return check_bulk(
            [record.body.encode() for record in records],
            [record.hash.encode() for record in records],
            first_seq=max(start, 1),
            previous_hash=previous_hash,
            place=lambda seq: f":memory:: record {seq}",
        )

    def write(self, records: Sequence[StoredRecord], events: Sequence[Event]) -> None:  # noqa: ARG002
        """Keep ``records``."""
        self._records.extend(records)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to lock in memory."""
        return contextlib.nullcontext()

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to lock in memory."""
        return contextlib.nullcontext()

    def place(self, record: StoredRecord) -> str:
        """``:memory:: record N``."""
        return f":memory:: record {record.seq}"

    def select_occurred(self, first: int, last: int) -> Iterator[int] | None:  # noqa: ARG002
        """Memory has no index; the log filters decoded events instead."""
        return None

    def sync(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        """Nothing to release."""


@attrs.frozen(kw_only=True)
class VerifyReport:
    """What :meth:`EventLog.verify` found: records checked and the first problem."""

    location: str
    records: int
    problem: NegstateError | None = None
    snapshot_records: int = 0
    """How many records the snapshot kept with the index stands for, each found
    equal to its record (0: no snapshot that loads would read)."""

    @property
    def ok(self) -> bool:
        """True when every record is intact and in order."""
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is None:
            found = f"{self.location}: {self.records} record(s), hash chain intact"
            if self.snapshot_records:
                found += (
                    f"; the snapshot of the first {self.snapshot_records} matches them"
                )
            return found
        return (
            f"{self.location}: broken after {self.records} good record(s): "
            f"{self.problem}"
        )


class EventLog:
    """An append-only log of events, kept by a :class:`Storage` (memory by default).

    Appending assigns the next sequence number and the recording time; nothing is
    ever edited in place.  Every public method returns immutable values.  Use
    :func:`negstate.open_log` for a log kept in a file.
    """

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        registry: EventRegistry = BUILTIN_EVENTS,
        converter: cattrs.Converter | None = None,
        clock: Callable[[], datetime] = utc_now,
        read_only: bool = False,
    ) -> None:
        self._storage: Storage = MemoryStorage() if storage is None else storage
        self._read_only = read_only
        self._registry = registry
        self._given_converter = converter
        self._clock = clock
        self._count = 0
        self._tail: StoredRecord | None = None
        self._events: list[Event] | None = None
        self._recorded: list[datetime] | None = None
        self._ids: dict[str, int] | None = None
        self._timelines: dict[datetime | None, Timeline] = {}
        # True while events are held as a snapshot or an append gave them, which
        # may differ from what the records decode to (an int for a float field).
        self._events_as_given = False
        self._closed = False
        with self._storage.reading():
            self._catch_up()

    # -- context management -------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the storage; the log cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._storage.close()

    @property
    def location(self) -> str:
        """Where the records are kept (a path, or ``:memory:``)."""
        return self._storage.location

    @property
    def registry(self) -> EventRegistry:
        """The event types this log reads and writes."""
        return self._registry

    @functools.cached_property
    def _converter(self) -> cattrs.Converter:
        # Built when first needed: a load from a snapshot decodes no record.
        return self._given_converter or shared_converter(self._registry)

    @functools.cached_property
    def _fast(self) -> FastDecoder:
        return FastDecoder(self._registry, self._converter)

    @functools.cached_property
    def _canonical(self) -> Callable[[Event], str]:
        """Writes an event's canonical JSON: generated code, unless given one."""
        if self._given_converter is None:
            return FastEncoder(self._registry, self._converter).canonical
        return functools.partial(canonical_event, converter=self._given_converter)

    # -- reading ------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Follow records other writers appended since this log last looked.

        New records are chain-checked against the known tail; their events are
        decoded only if this log has decoded its events already.
        """
        if self._closed:
            raise NegstateError(
                "the log is closed", where=self.location, hint="open it again"
            )
        stored_count = self._storage.count()
        if stored_count == self._count:
            return
        if self._tail is None and self._count == 0 and self._events is None:
            # Opening: trust the storage's own framing; verify() walks the chain.
            if stored_count:
                self._tail = next(self._storage.read(stored_count, stored_count + 1))
            self._count = stored_count
            return
        previous_hash = GENESIS if self._tail is None else self._tail.hash
        if self._events is not None:
            self._load(self._count + 1, stored_count + 1, previous_hash)
        else:
            self._storage.read_bulk(self._count + 1, stored_count + 1, previous_hash)
        self._tail = next(self._storage.read(stored_count, stored_count + 1))
        self._count = stored_count
        self._timelines.clear()

    def _load(self, start: int, stop: int, previous_hash: str) -> None:
        """Decode records ``start <= seq < stop`` and keep their events.

        Hashes and chain are checked in bulk; the checked records are decoded by
        the fast decoder, and anything it does not expect is decoded again strictly
        so that an error names the record and field.  Records are read in chunks
        so that only one chunk's raw data is held at a time.
        """
        with paused_gc():
            for first in range(start, stop, _LOAD_CHUNK):
                previous_hash = self._load_chunk(
                    first, min(stop, first + _LOAD_CHUNK), previous_hash
                )

    def _load_chunk(self, start: int, stop: int, previous_hash: str) -> str:
        bulk = self._storage.read_bulk(start, stop, previous_hash)
        events = self._events
        recorded = self._recorded
        assert events is not None  # noqa: S101 - called once loading started
        assert recorded is not None  # noqa: S101 - called once loading started
        first = len(events)
        with paused_gc():
            try:
                raws: list[Any] = json.loads(b"[" + b",".join(bulk.events) + b"]")
            except ValueError:
                raws = [None] * len(bulk.events)
            decode = self._fast.decode
            moments: dict[str, datetime] = {}
            for offset, (raw, version, when) in enumerate(
                zip(raws, bulk.schema_versions, bulk.recorded_at, strict=True)
            ):
                event = None
                if raw is not None and version == SCHEMA_VERSION:
                    try:
                        event = decode(raw)
                    except Exception:  # noqa: BLE001 - the strict decoder reports it
                        event = None
                if event is None:
                    event = self._strict(start + offset).event
                moment = moments.get(when)
                if moment is None:
                    moment = moments[when] = datetime.fromisoformat(when)
                events.append(event)
                recorded.append(moment)
        if self._ids is not None:
            # Records other writers appended: ids known once must stay known.
            self._ids.update((events[n].id, n) for n in range(first, len(events)))
        return bulk.last_hash

    def _load_snapshot(self) -> Snapshot | None:
        """Take the events of a saved snapshot of this log's first records."""
        snapshot = self._stored_snapshot(self._count)
        if snapshot is None:
            return None
        assert self._events is not None  # noqa: S101 - called once loading started
        assert self._recorded is not None  # noqa: S101 - called once loading started
        self._events.extend(snapshot.events)
        self._recorded.extend(snapshot.recorded)
        return snapshot

    def _stored_snapshot(self, count: int) -> Snapshot | None:
        """The saved snapshot, if it stands for the first of ``count`` records.

        It does when the record it is stamped with is the stored record of that
        number, whose hash covers every record before it.  An unusable snapshot
        is passed over (None): the records are read instead.
        """
        parts = getattr(self._storage, "snapshot_parts", None)
        if parts is None:
            return None

        def current(seq: int, last_hash: str) -> bool:
            if not 0 < seq <= count:
                return False
            return next(self._storage.read(seq, seq + 1)).hash == last_hash

        try:
            with paused_gc():
                return read_snapshot(parts(), self._registry, current)
        except UnusableSnapshot:
            return None

    def _take_timeline(self, snapshot: Snapshot) -> None:
        """Keep the snapshot's timeline, with the newer records' events after it.

        Newer events that sort before the snapshot's last one (late reports) are
        placed in a copy of its order.  When one narrows the dates of an event in
        it or revises another, the timeline is built anew when first asked for.
        """
        if snapshot.timeline is None:
            return
        assert self._events is not None  # noqa: S101 - loaded by now
        with paused_gc():
            timeline = snapshot.timeline.followed_by(self._events[snapshot.seq :])
        if timeline is not None:
            self._timelines[None] = timeline

    def _positions(self) -> dict[str, int]:
        """Each event's place in recording order (built when first needed)."""
        if self._ids is None:
            self._ids = {event.id: n for n, event in enumerate(self._all())}
        return self._ids

    def _strict(self, seq: int) -> Record:
        """Decode record ``seq`` with every check, for its precise error."""
        return self._decode(next(self._storage.read(seq, seq + 1)))

    def _all(self, *, from_records: bool = False) -> list[Event]:
        """Every event, decoded once and then kept up to date by appends.

        With ``from_records``, events a snapshot or an append gave are read again
        from the records, as what an index and its snapshot are written from.
        """
        if from_records and self._events_as_given:
            self._events = self._recorded = self._ids = None
            self._timelines.clear()
        if self._events is None:
            self._events, self._recorded, self._ids = [], [], None
            self._events_as_given = False
            try:
                with self._storage.reading():
                    snapshot = None if from_records else self._load_snapshot()
                    if snapshot is None:
                        self._load(1, self._count + 1, GENESIS)
                    else:
                        self._events_as_given = True
                        self._load(snapshot.seq + 1, self._count + 1, snapshot.hash)
                        self._take_timeline(snapshot)
            except BaseException:
                self._events = self._recorded = None
                self._ids = None
                self._timelines.clear()
                raise
        return self._events

    def refresh(self) -> None:
        """Pick up records that other processes appended."""
        with self._storage.reading():
            self._catch_up()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Read one version of the log while inside: other writers wait or are unseen.

        States read from a saved index (:meth:`saved_state_at`) fetch their records
        as they are used; read and use them inside this block, so that an append
        by another process cannot change what they read.
        """
        with self._storage.reading():
            self._catch_up()
            yield

    def __len__(self) -> int:
        return self._count

    @property
    def last_seq(self) -> int:
        """The sequence number of the last record (0 for an empty log)."""
        return self._count

    def records(
        self,
        start: int = 1,
        stop: int | None = None,
        *,
        occurred_from: date | str | None = None,
        occurred_to: date | str | None = None,
    ) -> Iterator[Record]:
        """Records with ``start <= seq < stop``, in sequence order.

        ``occurred_from``/``occurred_to`` keep only events that may have occurred in
        that span of days (their fuzzy date overlaps it).  A log that has not
        decoded its events decodes only the records asked for, and a backend with
        an index on dates (SQLite) picks them without decoding the others.
        """
        low = None if occurred_from is None else day_of(occurred_from)
        high = None if occurred_to is None else day_of(occurred_to)
        end = self._count + 1 if stop is None else min(stop, self._count + 1)
        return iter(self._read_records(max(start, 1), end, low, high))

    def _read_records(
        self, start: int, end: int, low: date | None, high: date | None
    ) -> list[Record]:
        found: list[Record] = []
        events = self._events
        with self._storage.reading():
            wanted = None
            if low is not None or high is not None:
                if events is not None:
                    wanted = {
                        seq
                        for seq in range(start, end)
                        if _overlaps(events[seq - 1], low, high)
                    }
                else:
                    picked = self._storage.select_occurred(
                        0 if low is None else low.toordinal(),
                        date.max.toordinal() if high is None else high.toordinal(),
                    )
                    wanted = None if picked is None else set(picked)
            for stored in self._storage.read(start, end):
                if wanted is not None and stored.seq not in wanted:
                    continue
                if events is not None and stored.seq <= len(events):
                    record = _record(stored, events[stored.seq - 1])
                else:
                    record = self._decode(stored)
                if _overlaps(record.event, low, high):
                    found.append(record)
        return found

    def _decode(self, stored: StoredRecord) -> Record:
        where = self._storage.place(stored)
        return decode_record(stored, self._converter, self._registry, where=where)

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def events(self) -> Iterator[Event]:
        """Every event, in the order recorded."""
        return iter(tuple(self._all()))

    def recorded_at(self) -> Sequence[datetime]:
        """When each record was appended, in sequence order (record n at n - 1)."""
        self._all()
        assert self._recorded is not None  # noqa: S101 - loaded by _all
        return tuple(self._recorded)

    def get(self, event_id: str) -> Record | None:
        """The record of ``event_id``, or ``None``."""
        events = self._all()
        position = self._positions().get(event_id)
        if position is None:
            return None
        with self._storage.reading():
            stored = next(self._storage.read(position + 1, position + 2))
        return _record(stored, events[position])

    def timeline(self, known_at: datetime | date | str | None = None) -> Timeline:
        """The log's events in valid-time order (those recorded by ``known_at``)."""
        known_at = moment_of(known_at)
        self._all()  # a snapshot may bring the timeline with the events
        assert self._recorded is not None  # noqa: S101 - loaded by _all
        if known_at is not None and bisect_right(self._recorded, known_at) == len(
            self._recorded
        ):
            known_at = None  # everything was known by then: the whole log's timeline
        cached = self._timelines.get(known_at)
        if cached is None:
            with paused_gc():
                cached = self._build_timeline(known_at)
        return cached

    def _build_timeline(self, known_at: datetime | None) -> Timeline:
        events: Iterable[Event] = self._all()
        if known_at is not None:
            assert self._recorded is not None  # noqa: S101 - loaded by _all
            count = bisect_right(self._recorded, known_at)
            events = self._all()[:count]
        timeline = build_timeline(events, self._registry)
        if len(self._timelines) > 8:  # noqa: PLR2004 - a small cache is enough
            self._timelines.clear()
        self._timelines[known_at] = timeline
        return timeline

    # -- writing ------------------------------------------------------------------

    def append(self, event: Event, expected_seq: int | None = None) -> Record:
        """Append one event and return its record (see :meth:`append_many`)."""
        return self.append_many([event], expected_seq=expected_seq)[0]

    def append_many(
        self, events: Iterable[Event], expected_seq: int | None = None
    ) -> tuple[Record, ...]:
        """Append ``events`` as one atomic batch and return their records.

        An event whose id the log holds with identical content is not written again;
        its stored record is returned.  The same id with other content raises
        DuplicateEventError.  The batch must fold onto what the log holds, or nothing
        is written.  With ``expected_seq`` (the last sequence number the caller saw),
        a log that another writer has moved on raises ConcurrencyError.
        """
        if self._read_only:
            raise NegstateError(
                "the log was opened read-only",
                where=self.location,
                hint="open it without read_only=True to append",
            )
        batch = list(events)
        for event in batch:
            if not isinstance(event, Event):
                raise NegstateError(
                    f"can only append events, got {type(event).__name__}",
                    where=self.location,
                    hint="build an event such as negstate.ProposalMade(...)",
                )
        with self._storage.writing():
            self._catch_up()
            if expected_seq is not None and expected_seq != self.last_seq:
                raise ConcurrencyError(
                    f"expected the log to end at record {expected_seq}, but it ends at "
                    f"record {self.last_seq}",
                    where=self.location,
                    hint="another writer appended; refresh, re-check and retry",
                )
            onto_index = self._append_onto_saved_index(batch)
            if onto_index is None:
                fresh = self._new_events(batch)
                if not fresh:
                    found = [self.get(event.id) for event in batch]
                    return tuple(record for record in found if record is not None)
                timeline, stored = self._checked_and_written(fresh)
        # Only once the storage has committed does this log count the records.
        if onto_index is not None:
            fresh, stored, known, warned = onto_index
            if fresh:
                known.update(self._remember(fresh, stored))
                self._extend_cached_timeline(fresh)
            # Given only now, so that an error raised for a warning finds the
            # records counted.
            for warning in warned:
                warnings.warn(warning.message, stacklevel=2)
            return tuple(known[event.id] for event in batch)
        written = self._remember(fresh, stored)
        self._timelines = {None: timeline}
        found = [written.get(event.id) or self.get(event.id) for event in batch]
        return tuple(record for record in found if record is not None)

    def _new_events(self, batch: list[Event]) -> list[Event]:
        fresh: dict[str, Event] = {}
        events = self._all()
        for event in batch:
            position = self._positions().get(event.id)
            earlier = fresh.get(event.id) if position is None else events[position]
            if earlier is None:
                fresh[event.id] = event
            elif earlier != event:
                raise self._held_otherwise(
                    event, None if position is None else position + 1
                )
        return list(fresh.values())

    def _extend_cached_timeline(self, fresh: list[Event]) -> None:
        """Keep the cached timeline of a warm log for events written already."""
        current = self._timelines.get(None)
        self._timelines.clear()
        if current is None:
            return
        # The records are committed and the index has checked their fold: they
        # are placed (and folded only into a copy of a built checkpoint index).
        # A cache that cannot follow is dropped, and the next query builds the
        # timeline afresh.
        with contextlib.suppress(Exception):
            placed = current.followed_by(fresh, new_ids=True)
            if placed is not None:
                self._timelines[None] = placed

    def _split_by_records(
        self,
        batch: list[Event],
        record_of: Callable[[str], StoredRecord | None],
    ) -> tuple[list[Event], dict[str, Record]]:
        """The new events of ``batch``, and the records of those the log holds.

        Ids are looked up one by one; the same id with other content raises.
        """
        fresh: dict[str, Event] = {}
        known: dict[str, Record] = {}
        for event in batch:
            if event.id in fresh:
                if fresh[event.id] != event:
                    raise self._held_otherwise(event, None)
                continue
            record = known.get(event.id)
            if record is None:
                stored = record_of(event.id)
                if stored is None:
                    fresh[event.id] = event
                    continue
                record = known[event.id] = self._decode(stored)
                if record.event.id != event.id:
                    raise self._misplaced(event.id, record.seq, record.event.id)
            if record.event != event:
                raise self._held_otherwise(event, record.seq)
        return list(fresh.values()), known

    def _held_otherwise(self, event: Event, seq: int | None) -> DuplicateEventError:
        """The error for ``event`` whose id record ``seq`` (or the batch) holds."""
        where = (
            f"{self.location}: this batch"
            if seq is None
            else f"{self.location}: record {seq}"
        )
        return DuplicateEventError(
            f"the log holds a different event with this id ({where})",
            where=locate(event_id=event.id),
            hint="give the new event another id, or record a correction",
        )

    def _append_onto_saved_index(
        self, batch: list[Event]
    ) -> (
        tuple[
            list[Event],
            list[StoredRecord],
            dict[str, Record],
            list[warnings.WarningMessage],
        ]
        | None
    ):
        """Append ``batch`` checked against the saved index, without a replay.

        Used when the storage keeps a current checkpoint index: ids are checked
        against the records by lookup, the batch is folded onto the index's end
        state, and the index grows in the same transaction, so it stays current.
        Returns the new events, their stored records, the records of events the
        log held already and the warnings the index gave, or None when the batch
        needs a replay (a revision, a late report that lands too far back or
        narrows the dates of an indexed event, an index that is missing or stale,
        user-defined event types).
        """
        current = getattr(self._storage, "index_is_current", None)
        plan = getattr(self._storage, "plan_index_extension", None)
        extend = getattr(self._storage, "write_index_extension", None)
        record_of = getattr(self._storage, "record_of", None)
        if (
            current is None
            or plan is None
            or extend is None
            or record_of is None
            or self._registry is not BUILTIN_EVENTS
            or not current(self._head())
        ):
            return None
        try:
            new, known = self._split_by_records(batch, record_of)
            if not new:
                return [], [], known, []
            if any(
                type(event) in self._registry.revisers
                or self._registry.kind_of(type(event)) is None
                for event in new
            ):
                return None  # the replay applies revisions and names unknown types
            extension = plan(self._head(), new, self._event_by_id, self._registry)
        except IndexUnreadableError:
            return None  # the index is gone; the replay checks the batch
        if extension is None:
            return None
        rows = self._write(new)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            extend(
                extension,
                (rows[-1].seq, rows[-1].hash),
                [(event.id, row.seq) for event, row in zip(new, rows, strict=True)],
            )
        return new, rows, known, warned

    def _checked_and_written(
        self, fresh: list[Event]
    ) -> tuple[Timeline, list[StoredRecord]]:
        """Check that ``fresh`` folds onto the log, then write it.

        If the write fails, the cached timeline forgets the events the check
        placed after it, so that the next append can extend it again.
        """
        timeline = self._check_folds(fresh)
        try:
            return timeline, self._write(fresh)
        except BaseException:
            current = self._timelines.get(None)
            if current is not None:
                current.forget_later()
            raise

    def _check_folds(self, fresh: list[Event]) -> Timeline:
        """The timeline of the log plus ``fresh``, or the fold's error.

        New events that all come after everything in valid time are folded onto
        the cached timeline (its checkpoint index, or the state after every event
        its snapshot kept); late reports are placed in a copy of its order (see
        :meth:`Timeline.extended`); revisions and the rest rebuild it.
        """
        current = self._timelines.get(None)
        if current is not None:
            extended = current.extended(fresh, new_ids=True)
            if extended is not None:
                return extended
        timeline = build_timeline([*self.events(), *fresh], self._registry)
        timeline.state_at()
        return timeline

    def _write(self, fresh: list[Event]) -> list[StoredRecord]:
        now = self._clock()
        if now.tzinfo is None:
            raise NegstateError(
                "the log's clock returned a time without a time zone",
                where=self.location,
                hint="pass a clock that returns aware UTC datetimes",
            )
        last = self._last_recorded()
        if last is not None and now < last:
            now = last
        prev = GENESIS if self._tail is None else self._tail.hash
        stored: list[StoredRecord] = []
        when = moment_text(now)
        for offset, event in enumerate(fresh):
            row = encode_record(
                seq=self._count + offset + 1,
                recorded_at=when,
                event_json=self._canonical(event),
                prev=prev,
                batch_left=len(fresh) - offset - 1,
            )
            stored.append(row)
            prev = row.hash
        self._storage.write(stored, fresh)
        return stored

    def _last_recorded(self) -> datetime | None:
        """When the last record was appended (None for an empty log)."""
        if self._recorded:
            return self._recorded[-1]
        if self._tail is None:
            return None
        return _moment(self._tail, self._storage.place)

    def _remember(
        self, fresh: list[Event], stored: list[StoredRecord]
    ) -> dict[str, Record]:
        """Count records the storage has committed; their records by event id.

        Their events join the decoded ones if this log has decoded its events.
        """
        recorded_at = datetime.fromisoformat(stored[0].recorded_at)
        written: dict[str, Record] = {}
        for event, row in zip(fresh, stored, strict=True):
            if self._events is not None and self._recorded is not None:
                if self._ids is not None:
                    self._ids[event.id] = len(self._events)
                self._events.append(event)
                self._recorded.append(recorded_at)
                self._events_as_given = True
            written[event.id] = _record(row, event, recorded_at)
        self._tail = stored[-1]
        self._count = stored[-1].seq
        return written

    # -- the saved checkpoint index ------------------------------------------------

    def save_index(self) -> bool:
        """Keep the checkpoint index, for queries that need no replay.

        An SQLite log keeps it in its database, a JSON Lines log in ``<log>.index``
        beside it (a cache, used only while it matches the log).  A fresh process
        can then answer :meth:`saved_state_at` without replaying the log.  Appends
        of built-in events keep the index current (and are checked on it without
        a replay) when they sort after everything indexed, or among its last
        events (a late report; see ``checkpoints.REFOLD_LIMIT``); a revision, or
        a report further back, makes it stale until it is saved again.  Returns
        whether the index was kept (False for logs kept in memory, and for logs
        whose states hold records of user-defined reducers).
        """
        if self._read_only or not hasattr(self._storage, "save_index"):
            return False
        with self._storage.writing():
            self._catch_up()
            return self._save_index_into(self._storage)

    def _save_index_into(self, storage: Storage) -> bool:
        """Save the checkpoint index into ``storage``, which holds these records."""
        save = getattr(storage, "save_index", None)
        if save is None:
            return False
        self._all(from_records=True)
        timeline = self.timeline()
        index = timeline.checkpoint_index()
        order = SavedOrder(
            events=timeline.events,
            latest=timeline.latest,
            earliest=timeline.earliest,
            depth=timeline.depth,
        )
        assert self._recorded is not None  # noqa: S101 - loaded by timeline()
        with paused_gc():
            snapshot = write_snapshot(
                self._all(),
                self._recorded,
                timeline,
                self._registry,
                self._head(),
                folded=index.draft if len(index) == len(timeline) else None,
            )
        kept: bool = save(
            index,
            order,
            self._head(),
            self._revised_texts(timeline),
            timeline.revised_by,
            record_ids=[event.id for event in self._all()],
            snapshot=snapshot,
        )
        return kept

    def copy_to(
        self, destination: str | os.PathLike[str], *, save_index: bool = False
    ) -> int:
        """Copy every record into a new log at ``destination``; return how many.

        Records are copied as stored, with their sequence numbers, recording times
        and hashes, so the copy verifies, ends at the same head and answers every
        question (``known_at`` included) as this log does.  The suffix of
        ``destination`` picks its backend: this turns a JSON Lines log into an
        SQLite one and back.  With ``save_index`` the copy also keeps its
        checkpoint index.

        Every record's hash and the chain are checked before the copy is written.
        The copy is written under a temporary name and takes ``destination``'s name
        only when complete, so a failed or interrupted copy leaves nothing there.
        Raises NegstateError if something already exists at ``destination``.
        """
        target = Path(destination)
        if target.exists():
            raise NegstateError(
                "something already exists at the copy's path",
                where=str(target),
                hint="choose a new path: a copy never replaces a file",
            )
        if not target.parent.is_dir():
            raise NegstateError(
                f"the folder {target.parent} does not exist",
                where=str(target),
                hint="create the folder first",
            )
        for side in _side_files(target):
            if side.exists():
                raise NegstateError(
                    f"{side.name} exists beside the copy's path, and the copy would "
                    "read or replace it",
                    where=str(target),
                    hint="remove it if its log was deleted, or choose a new path",
                )
        temporary = target.with_name(
            f".{target.stem}.{secrets.token_hex(8)}.copy{target.suffix}"
        )
        with self._storage.reading():
            self._catch_up()
            events = self._all()
            try:
                copy = _storage_for(temporary, fsync=False, lock_timeout=30.0)
                try:
                    with copy.writing():
                        self._copy_records(events, copy)
                    if save_index and not self._save_index_into(copy):
                        raise NegstateError(
                            "the copy cannot keep a checkpoint index: the log's "
                            "states hold records of user-defined reducers",
                            where=str(target),
                            hint="copy without the index; queries replay the copy",
                        )
                    copy.sync()
                finally:
                    copy.close()
                _claim(temporary, target)
            finally:
                _remove_log_files(temporary)
        return self._count

    def _copy_records(self, events: list[Event], copy: Storage) -> None:
        """Write every record, as stored, to the empty storage ``copy``."""
        previous = GENESIS
        for first in range(1, self._count + 1, _LOAD_CHUNK):
            stop = min(self._count + 1, first + _LOAD_CHUNK)
            records = list(self._storage.read(first, stop))
            for seq, record in enumerate(records, start=first):
                if record.seq != seq or record.prev != previous:
                    raise IntegrityError(
                        f"record {record.seq} is not record {seq} of the chain",
                        where=self._storage.place(record),
                        hint="run 'negstate verify' on the log; nothing was copied",
                    )
                previous = record.hash
            copy.write(records, events[first - 1 : stop - 1])

    def _revised_texts(self, timeline: Timeline) -> dict[str, str]:
        """The events that revisions changed, as JSON text by id.

        A saved index reads events from their records; these it must keep itself.
        Besides the events revisions name, merges change the events that referred
        to a merged duplicate, so every event is compared with its record.
        """
        if not timeline.revisions:
            return {}
        events, positions = self._all(), self._positions()
        revised: dict[str, str] = {}
        for event in timeline.events:
            stored = events[positions[event.id]]
            if stored is not event and stored != event:
                encoded = encode_event(event, self._converter)
                revised[event.id] = json.dumps(encoded, sort_keys=True)
        return revised

    def saved_state_at(self, on: date | str | None = None) -> NegotiationState | None:
        """The state on day ``on`` read from the saved checkpoint index, or None.

        None when the backend keeps no index or the index is older than the log's
        last record.  The state reads its records from this open log as they are
        used: use it before closing the log (after, it raises IndexChangedError).
        It counts the events that surely
        happened by the day (``Reading.SURELY``), as known now.  Two states
        read while the log is unchanged are diffed by :func:`negstate.diff` reading
        only the records written between their days.  An append through this log
        that places a late report among the indexed events, or saving the index
        again, rewrites what such states read: used after it, they raise
        IndexChangedError; read them again.
        """
        load = getattr(self._storage, "index_state", None)
        if load is None:
            return None
        with self._storage.reading():
            self._catch_up()
        state: NegotiationState | None = load(
            self._head(), None if on is None else day_of(on), self._event_by_id
        )
        return state

    def _head(self) -> tuple[int, str]:
        return (self._count, GENESIS if self._tail is None else self._tail.hash)

    def _event_by_id(self, event_id: str, revised: str | None) -> Event:
        if revised is not None:
            return decode_event(
                json.loads(revised),
                self._converter,
                self._registry,
                where=f"{self.location}: saved index",
            )
        record_of = getattr(self._storage, "record_of", None)
        stored = None if record_of is None else record_of(event_id)
        if stored is None:
            raise LogFormatError(
                f"the saved index names event {event_id!r}, which the log lacks",
                where=self.location,
                hint="save the index again with negstate index",
            )
        event: Event | None = None
        if stored.schema_version == SCHEMA_VERSION:
            # read() checked the record's hash: the fast decoder may trust it.
            with contextlib.suppress(Exception):
                event = self._fast.decode(json.loads(stored.event_text()))
        if event is None:
            event = self._decode(stored).event
        if event.id != event_id:
            raise self._misplaced(event_id, stored.seq, event.id)
        return event

    def _misplaced(self, event_id: str, seq: int, held: str) -> NegstateError:
        """The error for a saved index that looked ``event_id`` up in record ``seq``.

        ``held`` is the id the record holds.

        A storage that keeps its index apart drops it (IndexUnreadableError).
        """
        misplaced = getattr(self._storage, "misplaced", None)
        if misplaced is not None:
            error: NegstateError = misplaced(event_id, seq)
            return error
        return LogFormatError(
            f"the saved index places event {event_id!r} in record {seq}, which "
            f"holds {held!r}",
            where=self.location,
            hint="save the index again with negstate index",
        )

    def sync(self) -> None:
        """Make every appended record durable (for logs opened with ``fsync=False``)."""
        self._storage.sync()

    # -- integrity ----------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Walk the stored records and report the first broken, missing or altered one.

        Reads the storage afresh: it checks the bytes, not what this log has cached.
        """
        checked = 0
        previous: StoredRecord | None = None
        try:
            with self._storage.reading():
                snapshot = self._stored_snapshot(self._storage.count())
                events: list[Event] = []
                for stored in self._storage.read_fresh():
                    where = self._storage.place(stored)
                    check_chain(previous, stored, where=where)
                    record = decode_record(
                        stored, self._converter, self._registry, where=where
                    )
                    if snapshot is not None and record.seq <= snapshot.seq:
                        self._check_snapshot(snapshot, record)
                        events.append(record.event)
                    previous = stored
                    checked += 1
                if snapshot is not None:
                    self._check_snapshot_order(snapshot, events)
        except NegstateError as problem:
            return VerifyReport(
                location=self.location, records=checked, problem=problem
            )
        return VerifyReport(
            location=self.location,
            records=checked,
            snapshot_records=0 if snapshot is None else snapshot.seq,
        )

    def _check_snapshot(self, snapshot: Snapshot, record: Record) -> None:
        """Raise IntegrityError if the snapshot differs from ``record``."""
        index = record.seq - 1
        if (
            snapshot.events[index] != record.event
            or snapshot.recorded[index] != record.recorded_at
        ):
            raise self._snapshot_differs(f"from record {record.seq}")

    def _check_snapshot_order(self, snapshot: Snapshot, events: list[Event]) -> None:
        """Raise IntegrityError if the snapshot's timeline is not its events' own."""
        if snapshot.timeline is None:
            return
        with paused_gc():
            built = build_timeline(events, self._registry)
        kept = snapshot.timeline
        if (
            list(kept.events) != list(built.events)
            or list(kept.latest) != list(built.latest)
            or list(kept.earliest) != list(built.earliest)
            or list(kept.depth) != list(built.depth)
            or dict(kept.revisions) != dict(built.revisions)
            or dict(kept.revised_by) != dict(built.revised_by)
        ):
            raise self._snapshot_differs("in the valid-time order of the records")
        if not kept_fold_agrees(kept):
            raise self._snapshot_differs("in the state it keeps after every event")

    def _snapshot_differs(self, how: str) -> IntegrityError:
        return IntegrityError(
            f"the snapshot of decoded events kept with the checkpoint index differs "
            f"{how}; loads would read it instead of the records",
            where=self.location,
            hint="run 'negstate index' on the log to write the index and its "
            "snapshot again",
        )


def _record(
    stored: StoredRecord, event: Event, recorded_at: datetime | None = None
) -> Record:
    """A record from its stored form and its already decoded event."""
    return Record(
        seq=stored.seq,
        recorded_at=recorded_at or datetime.fromisoformat(stored.recorded_at),
        event=event,
        prev=stored.prev,
        hash=stored.hash,
        schema_version=stored.schema_version,
        batch_left=stored.batch_left,
    )


def _moment(stored: StoredRecord, place: Callable[[StoredRecord], str]) -> datetime:
    try:
        return datetime.fromisoformat(stored.recorded_at)
    except ValueError as exc:
        raise LogFormatError(
            f"record {stored.seq} has a bad recorded_at {stored.recorded_at!r}",
            where=place(stored),
            hint="restore the line from a backup or git",
        ) from exc


def _overlaps(event: Event, low: date | None, high: date | None) -> bool:
    span = event.occurred
    if low is not None and span.latest is not None and span.latest < low:
        return False
    return not (high is not None and span.earliest is not None and span.earliest > high)


def _storage_for(
    path: Path, *, fsync: bool, lock_timeout: float, repair: bool = True
) -> Storage:
    if path.suffix.lower() in SQLITE_SUFFIXES:
        return SqliteStorage(
            path, fsync=fsync, lock_timeout=lock_timeout, read_only=not repair
        )
    return JsonLinesStorage(path, fsync=fsync, lock_timeout=lock_timeout, repair=repair)


def _claim(temporary: Path, target: Path) -> None:
    """Give a finished copy ``target``'s name, unless something took it meanwhile.

    The log takes its name first: a log briefly without its head file is read as
    one without an anchor, while a head without its log would be another's.
    """
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise NegstateError(
            "something appeared at the copy's path while copying",
            where=str(target),
            hint="choose a new path: a copy never replaces a file",
        ) from None
    except OSError as exc:
        raise NegstateError(
            f"cannot give the copy its name ({exc.strerror})",
            where=str(target),
            hint="copy to a folder on a file system with hard links",
        ) from exc
    for kept, destination in zip(
        JsonLinesStorage.kept_files(temporary),
        JsonLinesStorage.kept_files(target),
        strict=True,
    ):
        if kept.exists():
            kept.replace(destination)
    sync_folder(target.parent)


def _side_files(path: Path) -> tuple[Path, ...]:
    """The files either backend keeps, or may leave, beside a log at ``path``."""
    return (*JsonLinesStorage.side_files(path), *SqliteStorage.side_files(path))


def _remove_log_files(path: Path) -> None:
    """Remove a log file and the files its backend keeps beside it."""
    for name in (path, *_side_files(path)):
        name.unlink(missing_ok=True)


def open_log(
    path: str | Path,
    *,
    registry: EventRegistry = BUILTIN_EVENTS,
    fsync: bool = True,
    create: bool = True,
    read_only: bool = False,
    lock_timeout: float = 30.0,
    clock: Callable[[], datetime] = utc_now,
) -> EventLog:
    """Open (or create) the log at ``path``; the suffix picks the backend.

    ``.sqlite``, ``.sqlite3`` and ``.db`` open SQLite; anything else (``.jsonl`` by
    convention) JSON Lines.  Every append is fsync'ed before it returns; for a bulk
    import pass ``fsync=False`` and call :meth:`EventLog.sync` at the end.  With
    ``create=False`` a missing file is an error.  With ``read_only=True`` the log
    is never changed: appends are refused and a write cut short by a crash is left
    where it is (and not read) instead of being moved aside.
    """
    location = Path(path)
    if (read_only or not create) and not location.exists():
        raise NegstateError(
            "no log at this path",
            where=str(location),
            hint="check the path, or create the log with negstate init",
        )
    storage = _storage_for(
        location, fsync=fsync, lock_timeout=lock_timeout, repair=not read_only
    )
    try:
        return EventLog(storage, registry=registry, clock=clock, read_only=read_only)
    except BaseException:
        storage.close()
        raise


def verify_log(
    path: str | Path, *, registry: EventRegistry = BUILTIN_EVENTS
) -> VerifyReport:
    """Check the log at ``path`` without changing it.

    Checks every record's hash, the chain, the head and that every event can be
    read.  A torn last write is reported, not repaired.
    """
    location = Path(path)
    if not location.exists():
        raise NegstateError(
            "no log at this path", where=str(location), hint="check the path"
        )
    try:
        storage = _storage_for(location, fsync=False, lock_timeout=30.0, repair=False)
    except NegstateError as problem:
        return VerifyReport(location=str(location), records=0, problem=problem)
    try:
        log = EventLog(storage, registry=registry)
    except NegstateError as problem:
        storage.close()
        return VerifyReport(location=str(location), records=0, problem=problem)
    with log:
        return log.verify()
