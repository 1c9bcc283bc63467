"""Stored records: an event with its sequence number, recording time and hashes.

A record's canonical text is one JSON object with a fixed key order::

    {"seq":7,"recorded_at":"2026-01-02T03:04:05.000006Z","schema_version":2,
     "batch_left":0,"prev":"<sha256 of record 6>","event":{...sorted keys...}}

Its hash is the SHA-256 of those UTF-8 bytes.  A stored line is the canonical text
with ``,"hash":"<hex>"`` added as the last member, so checking a line needs no JSON
parsing: strip the hash, hash the rest, compare.  ``prev`` chains every record to the
one before (the first record's ``prev`` is 64 zeros), so an altered, missing,
repeated or reordered record breaks the chain at a place :func:`check_chain` names.

``batch_left`` says how many records of the same atomic batch follow; a batch cut
short by a crash is recognised by it and never half-applied.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import attrs
import cattrs

from negstate.errors import IntegrityError, LogFormatError, NegstateError
from negstate.events import Event
from negstate.registry import EventRegistry
from negstate.serialization import (
    CANONICAL_JSON,
    SCHEMA_VERSION,
    decode_event,
    encode_event,
    moment_text,
    upcast,
)

__all__ = [
    "GENESIS",
    "BulkRecords",
    "Record",
    "StoredRecord",
    "canonical_event",
    "check_bulk",
    "check_chain",
    "decode_record",
    "encode_record",
    "parse_line",
    "split_line",
]

GENESIS: Final = "0" * 64
"""The ``prev`` of a log's first record."""

_HEAD = re.compile(
    r'\{"seq":(\d+),"recorded_at":"([^"]+)","schema_version":(\d+),'
    r'"batch_left":(\d+),"prev":"([0-9a-f]{64})","event":'
)
_TAIL = re.compile(r',"hash":"([0-9a-f]{64})"\}')
_TAIL_LENGTH: Final = len(',"hash":""}') + 64
_HEAD_BYTES = re.compile(_HEAD.pattern.encode())
_TAIL_BYTES = re.compile(_TAIL.pattern.encode())


@attrs.frozen
class BulkRecords:
    """Many records checked at once, kept as the raw parts a loader needs."""

    recorded_at: list[str]
    schema_versions: list[int]
    events: list[bytes]
    """Each record's event as JSON bytes."""
    last_hash: str


def check_bulk(
    bodies: list[bytes],
    hashes: list[bytes],
    *,
    first_seq: int,
    previous_hash: str,
    place: Callable[[int], str],
) -> BulkRecords:
    """Check a run of records' hashes and chain without building an object each.

    ``bodies`` are canonical record bytes and ``hashes`` their stored hex digests;
    ``place(seq)`` names a record's place for the error.  Raises IntegrityError at
    the first record that is altered, out of order or off the chain.
    """
    recorded_at: list[str] = []
    versions: list[int] = []
    events: list[bytes] = []
    prev = previous_hash.encode()
    head_match = _HEAD_BYTES.match
    for offset, (body, digest) in enumerate(zip(bodies, hashes, strict=True)):
        seq = first_seq + offset
        head = head_match(body)
        if head is None:
            raise IntegrityError(
                "not a negstate record (its frame of seq, times, hashes is broken)",
                where=place(seq),
                hint="restore the line from a backup or git; run 'negstate verify'",
            )
        if hashlib.sha256(body).hexdigest().encode() != digest:
            raise IntegrityError(
                f"record {seq} was altered (its hash does not match its content)",
                where=place(seq),
                hint="restore the line from a backup or git; never edit a log by hand",
            )
        if int(head.group(1)) != seq or head.group(5) != prev:
            raise IntegrityError(
                f"record {int(head.group(1))} is not record {seq} of the chain "
                "(records missing, repeated, reordered or altered before it)",
                where=place(seq),
                hint="restore the log from a backup or git",
            )
        prev = digest
        recorded_at.append(head.group(2).decode())
        versions.append(int(head.group(3)))
        events.append(body[head.end() : -1])
    return BulkRecords(recorded_at, versions, events, prev.decode())


def split_line(line: bytes) -> tuple[bytes, bytes] | None:
    """A stored line's canonical body and hash digest, or None if not framed."""
    tail = (
        _TAIL_BYTES.fullmatch(line, len(line) - _TAIL_LENGTH)
        if len(line) > _TAIL_LENGTH
        else None
    )
    if tail is None:
        return None
    return line[: len(line) - _TAIL_LENGTH] + b"}", tail.group(1)


@attrs.frozen(kw_only=True)
class Record:
    """An event as the log holds it: its place, when it was recorded, its hashes."""

    seq: int
    recorded_at: datetime
    event: Event
    prev: str
    hash: str
    schema_version: int = SCHEMA_VERSION
    batch_left: int = 0


@attrs.frozen(kw_only=True)
class StoredRecord:
    """A record's canonical text as stored, before its event is decoded.

    ``line`` is its line in the file (``None`` where the backend has no lines).
    """

    seq: int
    recorded_at: str
    schema_version: int
    batch_left: int
    prev: str
    hash: str
    body: str
    line: int | None = None

    def event_text(self) -> str:
        """The JSON text of the event inside the body."""
        start = _HEAD.match(self.body)
        assert start is not None  # noqa: S101 - parse_line checked the head
        return self.body[start.end() : -1]


def canonical_event(event: Event, converter: cattrs.Converter) -> str:
    """The event's canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return CANONICAL_JSON.encode(encode_event(event, converter))


def encode_record(
    *,
    seq: int,
    recorded_at: datetime | str,
    event_json: str,
    prev: str,
    batch_left: int = 0,
    schema_version: int = SCHEMA_VERSION,
) -> StoredRecord:
    """Build the canonical text and hash of a new record.

    ``recorded_at`` may be given as its text (what :func:`moment_text` makes of
    it), which the records of a batch share.
    """
    when = recorded_at if isinstance(recorded_at, str) else moment_text(recorded_at)
    body = (
        f'{{"seq":{seq},"recorded_at":"{when}","schema_version":{schema_version},'
        f'"batch_left":{batch_left},"prev":"{prev}","event":{event_json}}}'
    )
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return StoredRecord(
        seq=seq,
        recorded_at=when,
        schema_version=schema_version,
        batch_left=batch_left,
        prev=prev,
        hash=digest,
        body=body,
    )


def stored_line(record: StoredRecord) -> str:
    """The line a text backend writes for ``record`` (with its newline)."""
    return f'{record.body[:-1]},"hash":"{record.hash}"}}\n'


def parse_line(text: str, *, where: str, line: int | None = None) -> StoredRecord:
    """Split a stored line into its parts and check its own hash.

    Raises IntegrityError when the line is not a well-formed record or its hash does
    not match its content.
    """
    tail = (
        _TAIL.fullmatch(text, len(text) - _TAIL_LENGTH)
        if len(text) > _TAIL_LENGTH
        else None
    )
    head = _HEAD.match(text)
    if tail is None or head is None:
        raise IntegrityError(
            "not a negstate record (its frame of seq, times, hashes is broken)",
            where=where,
            hint="restore the line from a backup or git; run 'negstate verify'",
        )
    body = text[: len(text) - _TAIL_LENGTH] + "}"
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if digest != tail.group(1):
        raise IntegrityError(
            f"record {head.group(1)} was altered (its hash does not match its content)",
            where=where,
            hint="restore the line from a backup or git; never edit a log by hand",
        )
    return StoredRecord(
        seq=int(head.group(1)),
        recorded_at=head.group(2),
        schema_version=int(head.group(3)),
        batch_left=int(head.group(4)),
        prev=head.group(5),
        hash=digest,
        body=body,
        line=line,
    )


def check_chain(
    previous: StoredRecord | None, record: StoredRecord, *, where: str
) -> None:
    """Raise IntegrityError unless ``record`` follows ``previous`` in the chain."""
    expected_seq = 1 if previous is None else previous.seq + 1
    expected_prev = GENESIS if previous is None else previous.hash
    if record.seq != expected_seq:
        problem = "missing" if record.seq > expected_seq else "repeated or reordered"
        raise IntegrityError(
            f"expected record {expected_seq} but found record {record.seq} "
            f"(records {problem})",
            where=where,
            hint="restore the log from a backup or git",
        )
    if record.prev != expected_prev:
        raise IntegrityError(
            f"record {record.seq} does not follow record {expected_seq - 1} "
            "(hash chain broken: a record before it was altered, removed or swapped)",
            where=where,
            hint="restore the log from a backup or git",
        )


def decode_record(
    stored: StoredRecord,
    converter: cattrs.Converter,
    registry: EventRegistry,
    *,
    where: str,
) -> Record:
    """Decode a stored record's event (upcasting older schema versions)."""
    try:
        raw: Any = json.loads(stored.event_text())
    except ValueError as exc:
        raise LogFormatError(
            f"record {stored.seq} holds malformed JSON ({exc})",
            where=where,
            hint="restore the line from a backup or git",
        ) from exc
    try:
        raw = upcast(raw, stored.schema_version)
        recorded_at = datetime.fromisoformat(stored.recorded_at)
    except NegstateError as exc:
        raise LogFormatError(exc.message, where=where, hint=exc.hint) from exc
    except ValueError as exc:
        raise LogFormatError(
            f"record {stored.seq} has a bad recorded_at {stored.recorded_at!r}",
            where=where,
            hint="restore the line from a backup or git",
        ) from exc
    event = decode_event(raw, converter, registry, where=where)
    return Record(
        seq=stored.seq,
        recorded_at=recorded_at,
        event=event,
        prev=stored.prev,
        hash=stored.hash,
        schema_version=stored.schema_version,
        batch_left=stored.batch_left,
    )
