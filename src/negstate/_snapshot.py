"""A log's decoded events, kept as a binary snapshot beside its checkpoint index.

Loading a log reads and checks every record, parses its JSON, builds its event and
sorts the events into valid-time order: about 20 µs an event in pure Python.  Saving
the index also saves what that produced.  Every event is flattened into a tuple of
strings and numbers in which each distinct value (a source, terms, a date) is stored
once and named by its number; the recording times and the valid-time order go with
them.  It is written with :mod:`marshal`, which reads plain containers back in C and
never runs code, and rebuilt by constructors generated per class that set the fields
directly, as the fast decoder does for records whose hash was checked.

When the checkpoint index was saved after folding every event, the tables of
that fold go with the order, each event named by its number, so the state after
every event is read back instead of folded again.

The snapshot is a cache stamped with the last record it holds.  A log that has grown
since then takes its events from the snapshot and decodes only the newer records.
Every part carries a CRC-32 checksum, checked before it is unmarshalled.  Anything
unexpected (another format, another negstate version or event registry, an event
class whose fields have changed, damaged bytes) raises :class:`UnusableSnapshot`,
and the log is read from its records instead.
"""

from __future__ import annotations

import functools
import inspect
import marshal
import sys
import typing
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from enum import Enum
from itertools import islice
from operator import attrgetter
from types import MappingProxyType, MemberDescriptorType
from typing import Any, Final

import attrs

from negstate._version import __version__
from negstate.dates import OPEN_END, FuzzyDate
from negstate.events import Event
from negstate.index import TABLES
from negstate.registry import EventRegistry
from negstate.replay import Timeline, timeline_from_parts
from negstate.state import StateDraft

__all__ = [
    "Snapshot",
    "UnusableSnapshot",
    "kept_fold_agrees",
    "read_snapshot",
    "write_snapshot",
]

FORMAT: Final = "negstate-snapshot-2"
_PART_SIZE: Final = 20_000
"""Values per marshalled part: only one part's plain tuples are held at a time."""

# Entries of the value table are tuples whose first item says what they hold: a
# tuple of values, a fuzzy date (by its ordinals and text), a day (by its ordinal),
# or an instance of the class numbered ``first - _FIRST_CLASS`` in the header.
_TUPLE: Final = 0
_FUZZY: Final = 1
_DAY: Final = 2
_FIRST_CLASS: Final = 3
_HEADER_ITEMS: Final = 9
_KEY_VERSION: Final = 2
"""The marshal version of the keys equal values are found by: it writes no
back-references, so equal values give equal bytes."""
_SCALARS: Final = frozenset({str, int, bool, float, type(None)})

Build = Callable[[tuple[Any, ...]], Any]
_ID: Final = attrgetter("id")


class UnusableSnapshot(Exception):  # noqa: N818 - a signal to read the records instead
    """The snapshot cannot stand for the log's records; read the records."""


@attrs.frozen
class Snapshot:
    """What a snapshot holds: the first ``seq`` events, as loading them would give."""

    seq: int
    hash: str
    """The hash of record ``seq``: the snapshot stands for records 1 to ``seq``."""
    events: list[Event]
    recorded: list[datetime]
    timeline: Timeline | None
    """The valid-time order of these events, when it was saved with them; with the
    tables of its whole fold when they were saved too."""


def write_snapshot(
    events: Sequence[Event],
    recorded: Sequence[datetime],
    timeline: Timeline | None,
    registry: EventRegistry,
    head: tuple[int, str],
    *,
    folded: StateDraft | None = None,
) -> list[bytes]:
    """The snapshot of a log whose records 1 to ``head[0]`` hold ``events``.

    ``folded`` is the draft a fold of every event of ``timeline`` wrote; its
    tables are kept when they hold only what built-in reducers write.  Returns
    the parts, in order; an empty list when an event holds a field of a type the
    snapshot cannot keep (such logs are read from their records).
    """
    encoder = _Encoder(registry)
    try:
        # The timeline's events first, so that a load builds them in the order a
        # fold visits them: neighbours in the fold are neighbours in memory.
        order = (
            b""
            if timeline is None
            else array("q", map(encoder.value, timeline.events)).tobytes()
        )
        recording = array("q", map(encoder.value, events)).tobytes()
        revisions = (
            ()
            if timeline is None
            else tuple(
                (event_id, encoder.value(revision))
                for event_id, revision in timeline.revisions.items()
            )
        )
        parts = encoder.parts()
    except _Unsupported:
        return []
    finally:
        encoder.release()
    fold = None if timeline is None or folded is None else _kept(folded, timeline)
    moments: dict[datetime, int] = {}
    moment_texts: list[str] = []
    for moment in recorded:
        if moment not in moments:
            moments[moment] = len(moment_texts)
            moment_texts.append(moment.isoformat())
    times = array("q", (moments[moment] for moment in recorded)).tobytes()
    saved_timeline = None
    if timeline is not None:
        saved_timeline = (
            order,
            array("q", timeline.latest).tobytes(),
            array("q", timeline.earliest).tobytes(),
            array("q", timeline.depth).tobytes(),
            revisions,
            tuple(timeline.revised_by.items()),
            fold,
        )
    try:
        parts.append(
            marshal.dumps((recording, tuple(moment_texts), times, saved_timeline))
        )
    except ValueError:  # an id of a subclass of str, which marshal refuses
        return []
    header = (
        FORMAT,
        head[0],
        head[1],
        sys.byteorder,
        array("q").itemsize,
        tuple(_schema_of(cls) for cls in encoder.classes),
        _schema_of(FuzzyDate),
        _signature_of(registry),
        tuple(map(zlib.crc32, parts)),
    )
    packed = marshal.dumps(header)
    return [zlib.crc32(packed).to_bytes(4, "big") + packed, *parts]


def _header(first_part: bytes) -> tuple[Any, ...]:
    """The header, once checked against the checksum written before it.

    Damaged bytes can make ``marshal`` reserve memory for a list far longer than
    the data, so nothing is unmarshalled before its checksum matches.
    """
    checksum, packed = first_part[:4], first_part[4:]
    if int.from_bytes(checksum, "big") != zlib.crc32(packed):
        raise UnusableSnapshot("the header is damaged")
    header = _loads(packed)
    if not (
        isinstance(header, tuple)
        and len(header) == _HEADER_ITEMS
        and header[0] == FORMAT
        and type(header[1]) is int
        and type(header[2]) is str
    ):
        raise UnusableSnapshot("not a snapshot of this format")
    return header


def read_snapshot(
    parts: Iterable[bytes],
    registry: EventRegistry,
    current: Callable[[int, str], bool],
) -> Snapshot:
    """The events ``parts`` hold, if ``current(seq, hash)`` accepts their stamp.

    Raises UnusableSnapshot when the stamp is refused or anything is unexpected.
    """
    try:
        snapshot, fold = _read(iter(parts), registry, current)
        # Read once the value table and the last part's arrays are let go:
        # holding them too raised the peak of a load of a million events by
        # about 60 MB.
        if fold is not None and snapshot.timeline is not None:
            snapshot.timeline.keep_fold(functools.partial(_fold_from, fold))
    except UnusableSnapshot:
        raise
    except Exception as exc:
        # A cache: whatever fails, the records are read instead.
        raise UnusableSnapshot(f"damaged ({exc!r})") from exc
    return snapshot


def _read(
    pieces: Iterator[bytes],
    registry: EventRegistry,
    current: Callable[[int, str], bool],
) -> tuple[Snapshot, tuple[bytes, ...] | None]:
    first = next(pieces, None)
    if type(first) is not bytes:
        raise UnusableSnapshot("no snapshot")
    header = _header(first)
    seq, last_hash = header[1], header[2]
    if not current(seq, last_hash):
        raise UnusableSnapshot("the snapshot belongs to other records")
    if header[3] != sys.byteorder or header[4] != array("q").itemsize:
        raise UnusableSnapshot("written on a machine of another byte order")
    if header[6] != _schema_of(FuzzyDate) or header[7] != _signature_of(registry):
        raise UnusableSnapshot("written by another negstate or event registry")
    values: list[Any] = []
    builders = _Builders(registry, values).for_header(header[5])
    checked = _checked(pieces, header[8])
    return _rebuild(checked, builders, values, registry, stamp=(seq, last_hash))


def _checked(pieces: Iterator[bytes], checksums: Sequence[int]) -> Iterator[bytes]:
    """The parts, each checked against its checksum, and no more than were written."""
    count = 0
    for piece, checksum in zip(pieces, checksums, strict=False):
        if type(piece) is not bytes or zlib.crc32(piece) != checksum:
            raise UnusableSnapshot(f"part {count + 1} is damaged")
        count += 1
        yield piece
    if count != len(checksums) or next(pieces, None) is not None:
        raise UnusableSnapshot("parts are missing or added")


def _rebuild(
    pieces: Iterator[bytes],
    builders: Sequence[Build],
    values: list[Any],
    registry: EventRegistry,
    *,
    stamp: tuple[int, str],
) -> tuple[Snapshot, tuple[bytes, ...] | None]:
    append = values.append
    tail: Any = None
    for piece in pieces:
        loaded = _loads(piece)
        if type(loaded[0]) is not tuple:  # the last part: lists, not values
            tail = loaded
            break
        for entry in loaded:
            append(builders[entry[0]](entry))
    if tail is None or next(pieces, None) is not None:
        raise UnusableSnapshot("parts are missing or added")
    return _from_tail(tail, values, registry, stamp)


def _from_tail(
    tail: Any,  # noqa: ANN401 - plain containers
    values: list[Any],
    registry: EventRegistry,
    stamp: tuple[int, str],
) -> tuple[Snapshot, tuple[bytes, ...] | None]:
    """The snapshot the last part describes, and the fold kept with it, if any."""
    seq, last_hash = stamp
    recording, moment_texts, times, saved_timeline = tail
    events = list(map(values.__getitem__, _numbers(recording)))
    moments = [datetime.fromisoformat(text) for text in moment_texts]
    recorded = list(map(moments.__getitem__, _numbers(times)))
    if len(events) != seq or len(recorded) != seq:
        raise UnusableSnapshot("the snapshot does not hold as many events as records")
    if saved_timeline is None:
        return Snapshot(seq, last_hash, events, recorded, None), None
    order, latest, earliest, depth, revisions, revised_by, fold = saved_timeline
    timeline = timeline_from_parts(
        events=list(map(values.__getitem__, _numbers(order))),
        latest=_numbers(latest),
        earliest=_numbers(earliest),
        depth=_numbers(depth),
        registry=registry,
        revisions=MappingProxyType(
            {event_id: values[number] for event_id, number in revisions}
        ),
        revised_by=MappingProxyType(dict(revised_by)),
    )
    return Snapshot(seq, last_hash, events, recorded, timeline), fold


def _loads(part: bytes) -> Any:  # noqa: ANN401 - plain containers
    try:
        return marshal.loads(part)  # noqa: S302 - plain containers; never runs code
    except (EOFError, ValueError, TypeError, MemoryError) as exc:
        raise UnusableSnapshot(f"damaged ({exc!r})") from exc


def _numbers(packed: bytes) -> array[int]:
    numbers = array("q")
    numbers.frombytes(packed)
    return numbers


# -- the tables of a whole fold --------------------------------------------------------


def _flat_fold(folded: StateDraft, order: Sequence[Event]) -> tuple[bytes, ...] | None:
    """The built-in tables ``folded`` holds, events and their ids as numbers.

    Every event of the tables, and every event id they hold (a table's keys, the
    answers, the withdrawals, what superseded or replaced an entry), is kept as
    its event's position in ``order``, so a load shares the order's events and
    their own id strings instead of holding a second copy of each.  Each table
    is marshalled on its own, so a load holds only one table's plain tuples at a
    time.  None when the tables hold anything else (a user reducer's collections
    or positions): such a log's state is folded on load.
    """
    positions = {id(event): position for position, event in enumerate(order)}
    numbers = {event.id: position for position, event in enumerate(order)}

    def number(source: Any) -> int:  # noqa: ANN401 - an entry's item
        found = positions.get(id(source))
        if found is None:  # not an event of the order: a user's Position, say
            raise _Unsupported(source)
        return found

    def keyed(key: str, event: Any) -> int:  # noqa: ANN401 - an entry's item
        found = number(event)
        if key != event.id:
            raise _Unsupported(key)
        return found

    def named(event_id: str | None) -> int:
        return -1 if event_id is None else numbers[event_id]

    def answered(table: dict[str, Any]) -> tuple[Any, ...]:
        # The answers of all entries in a row, in columns, and how many each has.
        made = array("q", (keyed(key, entry[0]) for key, entry in table.items()))
        answers = [answer for entry in table.values() for answer in entry[1]]
        return (
            made.tobytes(),
            array("q", (len(entry[1]) for entry in table.values())).tobytes(),
            tuple(by for by, _, _ in answers),
            tuple(kind for _, kind, _ in answers),
            array("q", (named(event_id) for _, _, event_id in answers)).tobytes(),
            settled(table, 2, 3),
        )

    def settled(table: dict[str, Any], *items: int) -> tuple[Any, ...]:
        # Few entries are withdrawn, superseded or replaced: only those are kept.
        return tuple(
            (index, *(named(entry[item]) for item in items))
            for index, entry in enumerate(table.values())
            if any(entry[item] is not None for item in items)
        )

    if folded.custom:
        return None
    try:
        flat: list[Any] = [
            tuple(
                (party, issue, number(source), tuple(map(number, others)))
                for (party, issue), (source, others) in folded.positions.items()
            ),
            answered(folded.proposals),
            answered(folded.meeting_proposals),
            array("q", (keyed(*item) for item in folded.meetings.items())).tobytes(),
            array("q", (keyed(*item) for item in folded.agreements.items())).tobytes(),
            (
                array(
                    "q",
                    (keyed(key, entry[0]) for key, entry in folded.deadlines.items()),
                ).tobytes(),
                settled(folded.deadlines, 1),
            ),
            array("q", map(number, folded.swaps)).tobytes(),
            tuple(folded.exchanges.items()),
            tuple(
                (
                    key,
                    unit,
                    tuple((claimant, number(claim)) for claimant, claim in claims),
                )
                for key, (unit, claims) in folded.figures.items()
            ),
        ]
        return tuple(marshal.dumps(table) for table in flat)
    except (_Unsupported, KeyError, IndexError, TypeError, ValueError):
        return None


def _fold_from(fold: tuple[bytes, ...], order: Sequence[Event]) -> StateDraft:
    """The draft whose tables ``_flat_fold`` flattened, in their order."""
    (
        positions,
        proposals,
        meeting_proposals,
        meetings,
        agreements,
        deadlines,
        swaps,
        exchanges,
        figures,
    ) = fold
    at = order.__getitem__
    draft = StateDraft()
    draft.positions = {
        (party, issue): (at(source), tuple(map(at, others)))
        for party, issue, source, others in _loads(positions)
    }
    draft.proposals = _answered(_loads(proposals), order)
    draft.meeting_proposals = _answered(_loads(meeting_proposals), order)
    draft.meetings = {event.id: event for event in map(at, _numbers(_loads(meetings)))}
    draft.agreements = {
        event.id: event for event in map(at, _numbers(_loads(agreements)))
    }
    set_by, replaced = _loads(deadlines)
    draft.deadlines = _settled(
        {event.id: (event, None) for event in map(at, _numbers(set_by))},
        replaced,
        order,
    )
    draft.swaps = list(map(at, _numbers(_loads(swaps))))
    draft.exchanges = dict(_loads(exchanges))
    draft.figures = {
        key: (unit, tuple((claimant, at(number)) for claimant, number in claims))
        for key, unit, claims in _loads(figures)
    }
    return draft


def _answered(flat: tuple[Any, ...], order: Sequence[Event]) -> dict[str, Any]:
    """A table of proposals (or proposed meetings) and their answers."""
    made, counts, parties, kinds, answerers, settled = flat
    at = order.__getitem__
    answers = zip(parties, kinds, map(_ID, map(at, _numbers(answerers))), strict=True)
    table = {
        event.id: (event, tuple(islice(answers, count)) if count else (), None, None)
        for event, count in zip(map(at, _numbers(made)), _numbers(counts), strict=True)
    }
    if next(answers, None) is not None:
        raise UnusableSnapshot("answers left over")
    return _settled(table, settled, order)


def _settled(
    table: dict[str, Any], settled: tuple[Any, ...], order: Sequence[Event]
) -> dict[str, Any]:
    """``table`` with the entries ``settled`` names ending in the ids it gives.

    Each item of ``settled`` is an entry's index, then the positions of the events
    whose ids end that entry (-1 for None).
    """
    keys = list(table) if settled else []
    for index, *positions in settled:
        key = keys[index]
        kept = table[key][: -len(positions)]
        table[key] = (*kept, *(_id_at(order, position) for position in positions))
    return table


def _id_at(order: Sequence[Event], position: int) -> str | None:
    """The id of the event at ``position``; None for -1."""
    return None if position < 0 else order[position].id


def _kept(folded: StateDraft, timeline: Timeline) -> tuple[bytes, ...] | None:
    """The flattened tables of ``folded``, if they read back as they are."""
    order = timeline.events
    fold = _flat_fold(folded, order)
    # A user reducer may have written entries of other shapes into the built-in
    # tables (a list for a tuple, say): such tables are not kept.
    if fold is None or not _same_tables(_fold_from(fold, order), folded):
        return None
    return fold


def kept_fold_agrees(timeline: Timeline) -> bool:
    """Whether the fold kept with ``timeline`` is its events' fold (True if none is)."""
    kept = timeline.kept_fold()
    return kept is None or _same_tables(kept, timeline.folded_draft())


def _same_tables(kept: StateDraft, folded: StateDraft) -> bool:
    """Whether the two drafts' tables hold equal entries in the same order."""
    return (
        not folded.custom
        and list(kept.swaps) == list(folded.swaps)
        and all(
            list(getattr(kept, name).items()) == list(getattr(folded, name).items())
            for name in TABLES
        )
    )


# -- the classes a snapshot may hold ---------------------------------------------------


class _Unsupported(Exception):  # noqa: N818 - caught inside this module
    """A value of a type the snapshot does not keep."""


def _name_of(named: type | Callable[..., Any]) -> str:
    return f"{named.__module__}.{named.__qualname__}"


def _schema_of(cls: type) -> tuple[str, tuple[tuple[str, str, bool], ...]]:
    """A class's name and fields: a snapshot is read only by the same classes."""
    fields = attrs.fields(attrs.resolve_types(cls))
    return _name_of(cls), tuple((f.name, str(f.type), f.init) for f in fields)


def _signature_of(registry: EventRegistry) -> tuple[Any, ...]:
    """What shapes a saved order besides the classes' fields.

    That is the library's version and the registry's tags and revisers.
    """
    kinds = sorted(
        (
            kind.tag,
            _name_of(kind.event_type),
            None if kind.reviser is None else _name_of(kind.reviser),
        )
        for kind in registry
    )
    return (__version__, tuple(kinds))


def _classes_of(registry: EventRegistry) -> dict[str, type]:
    """Every attrs class the registry's events can hold, by qualified name."""
    found: dict[str, type] = {}
    waiting: list[Any] = list(registry.event_types)
    while waiting:
        annotation = waiting.pop()
        if isinstance(annotation, type) and attrs.has(annotation):
            name = _name_of(annotation)
            if name in found:
                continue
            found[name] = annotation
            waiting.extend(
                f.type for f in attrs.fields(attrs.resolve_types(annotation))
            )
        else:
            waiting.extend(typing.get_args(annotation))
    return found


def _kind_of(annotation: Any) -> tuple[str, Any]:  # noqa: ANN401 - a type form
    """How a field of this type is kept: ``plain``, ``enum``, ``value``, ``values``.

    ``plain`` values are stored as they are; ``enum`` members by their value;
    ``value`` as the number of an entry of the value table, and ``values`` (a tuple
    of such) as the number of a tuple entry.  ``optional`` wraps one of these.
    """
    if annotation in _SCALARS:
        return "plain", None
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if all(type(member.value) in _SCALARS for member in annotation):
            return "enum", annotation
        raise _Unsupported(annotation)
    if annotation in {FuzzyDate, date, Event} or (
        isinstance(annotation, type) and attrs.has(annotation)
    ):
        return "value", None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
        item, _ = _kind_of(args[0])
        if item == "plain":
            return "plain", None
        if item == "value":
            return "values", None
        raise _Unsupported(annotation)
    if origin in {typing.Union, _UnionType} and type(None) in args and len(args) == 2:  # noqa: PLR2004
        inner = next(arg for arg in args if arg is not type(None))
        kind = _kind_of(inner)
        return kind if kind[0] == "plain" else ("optional", kind)
    raise _Unsupported(annotation)


_UnionType = type(int | None)


class _Encoder:
    """Flattens events into the value table, each distinct value stored once.

    Entries are marshalled a part at a time as they are added, so the table's
    tuples are never all held at once.
    """

    def __init__(self, registry: EventRegistry) -> None:
        self.classes: list[type] = []
        self._parts: list[bytes] = []
        self._pending: list[tuple[Any, ...]] = []
        self._count = 0
        self._known = set(_classes_of(registry).values())
        self._flatteners: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
        self._by_content: dict[bytes, int] = {}
        self._by_identity: dict[int, int] = {}

    def value(self, value: Any) -> int:  # noqa: ANN401 - any kept value
        """The number of ``value``'s entry in the table, adding it if new.

        Values are found by identity first (the events hold them all the while),
        then by content; events only by identity, since they are unique by id.
        """
        found = self._by_identity.get(id(value))
        if found is not None:
            return found
        cls = type(value)
        if cls is FuzzyDate:
            found = self._entry(
                (_FUZZY, value.first_ordinal, value.last_ordinal, str(value))
            )
        elif cls is date:
            found = self._entry((_DAY, value.toordinal()))
        else:
            flatten = self._flatteners.get(cls) or self._flattener_of(cls)
            entry = flatten(value)  # adds the values it holds first
            found = self._add(entry) if isinstance(value, Event) else self._entry(entry)
        self._by_identity[id(value)] = found
        return found

    def values(self, items: tuple[Any, ...]) -> int:
        """The number of the entry of a tuple of values, adding it if new."""
        found = self._by_identity.get(id(items))
        if found is None:
            found = self._entry((_TUPLE, *map(self.value, items)))
            self._by_identity[id(items)] = found
        return found

    def parts(self) -> list[bytes]:
        """The marshalled parts of the table, in order."""
        self._flush()
        return self._parts

    def release(self) -> None:
        """Drop the tables of values seen.

        The generated flatteners refer back to the encoder, so it is freed only by
        a collection, which a paused collector may not run for a long time.
        """
        self._parts, self._pending, self._flatteners = [], [], {}
        self._by_content, self._by_identity = {}, {}

    def _add(self, entry: tuple[Any, ...]) -> int:
        number = self._count
        self._count += 1
        self._pending.append(entry)
        if len(self._pending) == _PART_SIZE:
            self._flush()
        return number

    def _flush(self) -> None:
        if not self._pending:
            return
        try:
            self._parts.append(marshal.dumps(tuple(self._pending)))
        except ValueError as exc:  # a subclass of str or int, which marshal refuses
            raise _Unsupported(exc) from exc
        self._pending = []

    def _entry(self, entry: tuple[Any, ...]) -> int:
        # Keyed by the bytes, not the tuple: 0.0 == -0.0 and 1 == 1.0 == True.
        try:
            key = marshal.dumps(entry, _KEY_VERSION)
        except ValueError as exc:  # a subclass of str or int, which marshal refuses
            raise _Unsupported(entry) from exc
        found = self._by_content.get(key)
        if found is None:
            found = self._by_content[key] = self._add(entry)
        return found

    def _flattener_of(self, cls: type) -> Callable[[Any], tuple[Any, ...]]:
        """A function from a ``cls`` instance to its entry, generated per class."""
        if cls not in self._known:
            raise _Unsupported(cls)
        number = _FIRST_CLASS + len(self.classes)
        names: dict[str, Any] = {"value": self.value, "values": self.values}
        items = [str(number)]
        for field in attrs.fields(attrs.resolve_types(cls)):
            if not field.init:
                if field.default is attrs.NOTHING:
                    raise _Unsupported(cls)
                continue
            items.append(_encoding(_kind_of(field.type), f"item.{field.name}"))
        exec(  # noqa: S102 - generated from attrs fields
            f"def flatten(item):\n    return ({', '.join(items)},)", names
        )
        flatten: Callable[[Any], tuple[Any, ...]] = names["flatten"]
        self.classes.append(cls)
        self._flatteners[cls] = flatten
        return flatten


def _encoding(kind: tuple[str, Any], item: str) -> str:
    """Python code that flattens a field kept as ``kind`` from expression ``item``."""
    name, detail = kind
    if name == "plain":
        return item
    if name == "enum":
        return f"{item}.value"
    if name in {"value", "values"}:
        return f"{name}({item})"
    return f"(None if {item} is None else {_encoding(detail, item)})"


_new = object.__new__
_set = object.__setattr__
_day = date.fromordinal


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """A function that sets field ``name`` of a ``cls`` instance.

    A slot's own setter skips the attribute lookup of ``object.__setattr__``: a
    third faster to build an event of twelve fields.
    """
    slot = inspect.getattr_static(cls, name, None)
    if isinstance(slot, MemberDescriptorType):
        setter: Callable[[Any, Any], None] = slot.__set__
        return setter
    return lambda obj, value: _set(obj, name, value)


_set_earliest = _slot_setter(FuzzyDate, "earliest")
_set_latest = _slot_setter(FuzzyDate, "latest")
_set_first = _slot_setter(FuzzyDate, "first_ordinal")
_set_last = _slot_setter(FuzzyDate, "last_ordinal")
_set_text = _slot_setter(FuzzyDate, "_text")


def _fuzzy_date(entry: tuple[Any, ...]) -> FuzzyDate:
    """A fuzzy date from its day ordinals and text, as its constructor sets them."""
    _, first, last, text = entry
    built: FuzzyDate = _new(FuzzyDate)
    _set_earliest(built, None if first == 0 else _day(first))
    _set_latest(built, None if last == OPEN_END else _day(last))
    _set_first(built, first)
    _set_last(built, last)
    _set_text(built, text)
    return built


class _Builders:
    """Constructors for the header's classes that set fields without checks."""

    def __init__(self, registry: EventRegistry, values: list[Any]) -> None:
        self._known = _classes_of(registry)
        self._values = values

    def for_header(self, schemas: Any) -> list[Build]:  # noqa: ANN401 - from marshal
        values = self._values
        value_at = values.__getitem__

        def values_tuple(entry: tuple[Any, ...]) -> tuple[Any, ...]:
            if len(entry) == 2:  # noqa: PLR2004 - most tuples name one source
                return (values[entry[1]],)
            return tuple(map(value_at, entry[1:]))

        builders: list[Build] = [
            values_tuple,
            _fuzzy_date,
            lambda entry: _day(entry[1]),
        ]
        for name, fields in schemas:
            cls = self._known.get(name)
            if cls is None or _schema_of(cls) != (name, fields):
                raise UnusableSnapshot(f"the fields of {name} have changed")
            builders.append(self._builder(cls))
        return builders

    def _builder(self, cls: type) -> Build:
        names: dict[str, Any] = {"_new": _new, "cls": cls, "values": self._values}
        lines = ["def build(entry):", "    obj = _new(cls)"]
        position = 1
        for field in attrs.fields(attrs.resolve_types(cls)):
            if field.init:
                value = _snippet(_kind_of(field.type), f"entry[{position}]", names)
                position += 1
            elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                names[f"default_{field.name}"] = field.default.factory
                value = f"default_{field.name}()"
            else:
                names[f"default_{field.name}"] = field.default
                value = f"default_{field.name}"
            names[f"set_{field.name}"] = _slot_setter(cls, field.name)
            lines.append(f"    set_{field.name}(obj, {value})")
        lines.append("    return obj")
        exec("\n".join(lines), names)  # noqa: S102 - generated from attrs fields
        # Taken out of its own globals: the cycle would keep ``values``, every
        # event of the log, alive until the collector's next full pass.
        built: Build = names.pop("build")
        return built


def _snippet(kind: tuple[str, Any], item: str, names: dict[str, Any]) -> str:
    """Python code that rebuilds a field kept as ``kind`` from expression ``item``."""
    name, detail = kind
    if name == "plain":
        return item
    if name == "enum":
        members = f"members_{len(names)}"
        names[members] = {member.value: member for member in detail}
        return f"{members}[{item}]"
    if name in {"value", "values"}:
        return f"values[{item}]"
    return f"(None if {item} is None else {_snippet(detail, item, names)})"
