"""Plain records of a negotiation, ready for pandas, polars, csv or a spreadsheet.

``to_rows(log, "positions")`` gives a list of dictionaries whose values are only
``str``, ``int``, ``float``, ``bool`` or ``None``, so a user can write
``pandas.DataFrame(to_rows(log, "proposals"))`` without negstate depending on either
library.  Lists (parties, categories) are joined with ``"; "``; days are ISO text;
fuzzy dates come as their EDTF text plus their ``*_earliest``/``*_latest`` days.

Kinds (see :data:`KINDS`): ``events``, ``positions``, ``proposals``,
``meeting_proposals``, ``meetings``, ``agreements``, ``swaps`` (one row per
release), ``exchanges``, ``deadlines`` and ``figures`` (one row per claim).

:func:`summarize` gives the one-line summary of an event that tables, reports and
exports show.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, Final, TextIO, TypeAlias

import cattrs

from negstate.dates import FuzzyDate
from negstate.errors import LogFormatError, NegstateError
from negstate.events import (
    AgreementReached,
    DeadlineSet,
    Event,
    EventCorrected,
    EventRetracted,
    EventsMerged,
    FigureReported,
    MeetingHeld,
    MeetingProposed,
    PositionStated,
    ProposalAccepted,
    ProposalMade,
    ProposalRejected,
    ProposalWithdrawn,
    SwapCompleted,
)
from negstate.log import EventLog
from negstate.reducers import BUILTIN_EVENTS
from negstate.registry import EventRegistry
from negstate.replay import EventSource, Timeline, build_timeline
from negstate.serialization import decode_event, encode_event
from negstate.state import NegotiationState, Reading
from negstate.values import Quantity, Release, Source

__all__ = [
    "EVENT_CSV_COLUMNS",
    "KINDS",
    "POSITION_CSV_COLUMNS",
    "Cell",
    "Row",
    "RowSource",
    "columns_of",
    "read_events_csv",
    "summarize",
    "to_rows",
    "write_events_csv",
    "write_positions_csv",
]

Cell: TypeAlias = str | int | float | bool | None
"""A value in a row: plain data every table library understands."""

Row: TypeAlias = dict[str, Cell]
"""One record: column name to plain value."""

LIST_SEPARATOR: Final = "; "
"""How lists of parties, categories or titles are joined into one cell."""


# -- summaries -------------------------------------------------------------------------


def _parties(parties: Iterable[str]) -> str:
    return ", ".join(parties)


def _terms(text: str) -> str:
    return f": {text}" if text else ""


def _release(release: Release) -> str:
    count = "an unreported number of" if release.count is None else f"{release.count:,}"
    target = f" to {release.to}" if release.to else ""
    return f"{release.by} released {count} {release.category}{target}"


def _summarize_position(event: PositionStated) -> str:
    said = event.terms.describe() or event.text
    words = f" - {said}" if said else ""
    return f"{event.party} on {event.issue}: {event.stance.value}{words}"


def _summarize_proposal(event: ProposalMade) -> str:
    counter = f" (counters {event.counters})" if event.counters else ""
    return (
        f"{event.proposer} proposes to {_parties(event.addressees)} on "
        f"{event.issue}{counter}{_terms(event.terms.describe())}"
    )


def _summarize_meeting_proposed(event: MeetingProposed) -> str:
    window = f" ({event.window.describe()})" if event.window else ""
    place = f" in {event.place}" if event.place else ""
    others = _parties(event.addressees)
    level = event.level.replace("_", " ")
    return f"{event.proposer} proposes a {level} meeting with {others}{place}{window}"


def _summarize_meeting_held(event: MeetingHeld) -> str:
    place = f" in {event.place}" if event.place else ""
    mediated = f", mediated by {_parties(event.mediators)}" if event.mediators else ""
    medium = event.medium.replace("_", " ")
    return (
        f"{_parties(event.participants)} meet ({event.level}, {medium}){place}"
        f"{mediated}{_terms(event.outcome)}"
    )


def _summarize_deadline(event: DeadlineSet) -> str:
    return (
        f"{event.by} gives {_parties(event.against)} until "
        f"{event.expires.describe()}: {event.demand}, or {event.consequence}"
    )


def _summarize_figure(event: FigureReported) -> str:
    return f"{event.claimed_by}: {event.subject} = {event.value} {event.unit}"


def _summarize_accepted(event: ProposalAccepted) -> str:
    conditions = f" if {'; '.join(event.conditions)}" if event.conditions else ""
    return f"{event.by} accepts {event.proposal}{conditions}"


def _summarize_rejected(event: ProposalRejected) -> str:
    return f"{event.by} rejects {event.proposal}{_terms(event.reason)}"


def _summarize_withdrawn(event: ProposalWithdrawn) -> str:
    return f"{event.by} withdraws {event.proposal}{_terms(event.reason)}"


def _summarize_swap(event: SwapCompleted) -> str:
    return "; ".join(_release(release) for release in event.releases)


def _summarize_agreement(event: AgreementReached) -> str:
    return (
        f"{_parties(event.parties)} agree on {event.issue}"
        f"{_terms(event.terms.describe())}"
    )


def _summarize_correction(event: EventCorrected) -> str:
    return f"corrects {event.target}"


def _summarize_retraction(event: EventRetracted) -> str:
    return f"retracts {event.target}{_terms(event.reason)}"


def _summarize_merge(event: EventsMerged) -> str:
    return f"merges {_parties(event.duplicates)} into {event.kept}"


_SUMMARIES: Final[dict[type[Event], Callable[[Any], str]]] = {
    PositionStated: _summarize_position,
    ProposalMade: _summarize_proposal,
    ProposalAccepted: _summarize_accepted,
    ProposalRejected: _summarize_rejected,
    ProposalWithdrawn: _summarize_withdrawn,
    SwapCompleted: _summarize_swap,
    MeetingProposed: _summarize_meeting_proposed,
    MeetingHeld: _summarize_meeting_held,
    AgreementReached: _summarize_agreement,
    DeadlineSet: _summarize_deadline,
    FigureReported: _summarize_figure,
    EventCorrected: _summarize_correction,
    EventRetracted: _summarize_retraction,
    EventsMerged: _summarize_merge,
}


def summarize(event: Event) -> str:
    """One line that says what ``event`` records, in the words of negotiators.

    User-defined event types get their type name and actors.
    """
    for kind in type(event).__mro__:
        describe = _SUMMARIES.get(kind)
        if describe is not None:
            return describe(event)
    actors = f" ({_parties(event.actors)})" if event.actors else ""
    return f"{type(event).__name__}{actors}"


# -- cells -----------------------------------------------------------------------------


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _span(prefix: str, span: FuzzyDate | None) -> Row:
    """A fuzzy date as three cells: EDTF text, earliest and latest day."""
    if span is None:
        return {prefix: None, f"{prefix}_earliest": None, f"{prefix}_latest": None}
    return {
        prefix: str(span),
        f"{prefix}_earliest": _day(span.earliest),
        f"{prefix}_latest": _day(span.latest),
    }


def _joined(items: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(items)


def _quantity(prefix: str, quantity: Quantity | None) -> Row:
    if quantity is None:
        return {f"{prefix}_at_least": None, f"{prefix}_at_most": None}
    return {
        f"{prefix}_at_least": quantity.at_least,
        f"{prefix}_at_most": quantity.at_most,
    }


def _sources(sources: tuple[Source, ...]) -> Row:
    return {
        "sources": len(sources),
        "source_titles": _joined(s.title for s in sources),
        "source_outlets": _joined(s.outlet for s in sources if s.outlet),
        "source_urls": _joined(s.url for s in sources if s.url),
    }


# -- kinds -----------------------------------------------------------------------------


def _event_rows(timeline: Timeline, log: EventLog | None) -> list[Row]:
    records = {} if log is None else {r.event.id: r for r in log}
    rows: list[Row] = []
    for index, event in enumerate(timeline.events):
        record = records.get(event.id)
        rows.append(
            {
                "id": event.id,
                "type": type(event).__name__,
                **_span("occurred", event.occurred),
                "when": event.occurred.describe(),
                **_span("narrowed", timeline.span_of(index)),
                "actors": _joined(event.actors),
                "claimed_by": event.claimed_by,
                "summary": summarize(event),
                "note": event.note or None,
                **_sources(event.sources),
                "seq": None if record is None else record.seq,
                "recorded_at": None
                if record is None
                else record.recorded_at.isoformat(),
            }
        )
    return rows


def _position_rows(state: NegotiationState) -> list[Row]:
    rows: list[Row] = []
    for (party, issue), position in sorted(state.positions.items()):
        rows.append(
            {
                "as_of": _day(state.as_of),
                "party": party,
                "issue": issue,
                "stance": position.stance.value,
                "terms": position.terms.describe(),
                "text": position.text,
                **_span("since", position.since),
                "claimed_by": position.claimed_by,
                "disputed": position.disputed,
                "event": position.event,
                "basis": position.basis,
            }
        )
    return rows


def _proposal_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "id": proposal.id,
            "proposer": proposal.proposer,
            "addressees": _joined(proposal.addressees),
            "issue": proposal.issue,
            "terms": proposal.terms.describe(),
            **_span("made", proposal.made),
            "status": proposal.status.value,
            "accepted_by": _joined(sorted(proposal.accepted_by)),
            "rejected_by": _joined(sorted(proposal.rejected_by)),
            "countered_by": _joined(sorted(proposal.countered_by)),
            "mediators": _joined(proposal.mediators),
            "counters": proposal.counters,
            "withdrawn": proposal.withdrawn,
            "superseded_by": proposal.superseded_by,
        }
        for proposal in state.proposals.values()
    ]


def _meeting_proposal_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "id": meeting.id,
            "proposer": meeting.proposer,
            "participants": _joined(meeting.participants),
            "level": meeting.level,
            "place": meeting.place,
            **_span("window", meeting.window),
            **_span("proposed", meeting.proposed),
            "status": meeting.status.value,
            "held": meeting.held,
            "withdrawn": meeting.withdrawn,
        }
        for meeting in state.meeting_proposals.values()
    ]


def _meeting_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "id": meeting.id,
            **_span("occurred", meeting.occurred),
            "participants": _joined(meeting.participants),
            "level": meeting.level,
            "place": meeting.place,
            "medium": meeting.medium,
            "mediators": _joined(meeting.mediators),
            **_quantity("duration_minutes", meeting.duration_minutes),
            "agenda": _joined(meeting.agenda),
            "outcome": meeting.outcome,
            "proposal": meeting.proposal,
        }
        for meeting in state.meetings.values()
    ]


def _agreement_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "id": agreement.id,
            "parties": _joined(agreement.parties),
            "issue": agreement.issue,
            "terms": agreement.terms.describe(),
            **_quantity("quantity", agreement.terms.quantity),
            **_span("reached", agreement.reached),
            "mediators": _joined(agreement.mediators),
            "proposal": agreement.proposal,
            "meeting": agreement.meeting,
        }
        for agreement in state.agreements.values()
    ]


def _swap_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "swap": swap.id,
            **_span("occurred", swap.occurred),
            "by": release.by,
            "to": release.to,
            "category": release.category,
            "count": release.count,
            "agreement": swap.agreement,
            "mediators": _joined(swap.mediators),
            "claimed_by": swap.claimed_by,
        }
        for swap in state.swaps
        for release in swap.releases
    ]


def _exchange_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "party": total.party,
            "category": total.category,
            "count": total.count,
            "releases": total.releases,
            "unreported": total.unreported,
            "exact": total.is_exact,
        }
        for _, total in sorted(state.exchanges.items())
    ]


def _deadline_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "id": deadline.id,
            "by": deadline.by,
            "against": _joined(deadline.against),
            "demand": deadline.demand,
            "consequence": deadline.consequence,
            **_span("set_on", deadline.set_on),
            **_span("expires", deadline.expires),
            "status": deadline.status.value,
            "replaced_by": deadline.replaced_by,
        }
        for deadline in state.deadlines.values()
    ]


def _figure_rows(state: NegotiationState) -> list[Row]:
    return [
        {
            "as_of": _day(state.as_of),
            "subject": figure.subject,
            "unit": figure.unit,
            "claimant": claim.claimant,
            "value": str(claim.value),
            **_quantity("value", claim.value),
            **_span("occurred", claim.occurred),
            "event": claim.event,
            "disputed": figure.disputed,
        }
        for figure in state.figures.values()
        for claim in figure.claims
    ]


_STATE_KINDS: Final[dict[str, Callable[[NegotiationState], list[Row]]]] = {
    "positions": _position_rows,
    "proposals": _proposal_rows,
    "meeting_proposals": _meeting_proposal_rows,
    "meetings": _meeting_rows,
    "agreements": _agreement_rows,
    "swaps": _swap_rows,
    "exchanges": _exchange_rows,
    "deadlines": _deadline_rows,
    "figures": _figure_rows,
}

KINDS: Final = ("events", *_STATE_KINDS)
"""Every kind of record :func:`to_rows` gives."""

RowSource: TypeAlias = NegotiationState | EventSource | Iterable[Event]
"""What :func:`to_rows` reads: a state, a log (anything with a timeline) or events."""


def _timeline_of(source: EventSource | Iterable[Event]) -> Timeline:
    if isinstance(source, EventSource):
        return source.timeline()
    return build_timeline(source)


def _state_of(
    source: RowSource, at: date | str | None, reading: Reading
) -> NegotiationState:
    if isinstance(source, NegotiationState):
        return source
    return _timeline_of(source).state_at(at, reading=reading)


def _events_of_state(state: NegotiationState) -> Timeline:
    return build_timeline(state.events.values())


def to_rows(
    source: RowSource,
    kind: str,
    *,
    at: date | str | None = None,
    reading: Reading = Reading.SURELY,
) -> list[Row]:
    """Plain records of ``kind`` (one of :data:`KINDS`) from a state, log or events.

    From a log or events, state kinds are read from the state on day ``at`` (after
    every event when ``None``), ``reading`` the fuzzy dates that way; ``events`` are
    in valid-time order, with their sequence number and recording time when the
    source is a log.  From a state, ``at`` is ignored: the state has its own day.
    """
    if kind == "events":
        if isinstance(source, NegotiationState):
            return _event_rows(_events_of_state(source), None)
        log = source if isinstance(source, EventLog) else None
        return _event_rows(_timeline_of(source), log)
    build = _STATE_KINDS.get(kind)
    if build is None:
        raise NegstateError(
            f"no such kind of record: {kind!r}",
            hint=f"use one of {', '.join(KINDS)}",
        )
    return build(_state_of(source, at, reading))


def columns_of(rows: Iterable[Mapping[str, Cell]]) -> list[str]:
    """Every column that appears in ``rows``, in order of first appearance."""
    found: dict[str, None] = {}
    for row in rows:
        found.update(dict.fromkeys(row))
    return list(found)


# -- CSV -------------------------------------------------------------------------------

EVENT_CSV_COLUMNS: Final = (
    "id",
    "type",
    "occurred",
    "claimed_by",
    "note",
    "sources",
    "fields",
    "when",
    "actors",
    "summary",
)
"""Columns of the event CSV.

``id``, ``type`` (the event's tag), ``occurred`` (EDTF text), ``claimed_by`` and
``note`` are the envelope; ``sources`` is a JSON array of the reports (``title``,
``outlet``, ``published``, ``url``, ``quote``) and ``fields`` a JSON object of the
type's own fields, both as the JSON Lines form writes them.  ``when``, ``actors``
and ``summary`` are for people and ignored when the CSV is read back.
"""

_ENVELOPE: Final = ("type", "id", "occurred", "sources", "note", "claimed_by")


def write_events_csv(
    events: Iterable[Event], stream: TextIO, converter: cattrs.Converter
) -> None:
    """Write ``events`` as the event CSV (see :data:`EVENT_CSV_COLUMNS`)."""
    writer = csv.DictWriter(stream, fieldnames=EVENT_CSV_COLUMNS)
    writer.writeheader()
    for event in events:
        encoded = encode_event(event, converter)
        own = {k: v for k, v in encoded.items() if k not in _ENVELOPE}
        writer.writerow(
            {
                "id": event.id,
                "type": encoded["type"],
                "occurred": str(event.occurred),
                "claimed_by": event.claimed_by or "",
                "note": event.note,
                "sources": json.dumps(encoded["sources"], ensure_ascii=False),
                "fields": json.dumps(own, ensure_ascii=False, sort_keys=True),
                "when": event.occurred.describe(),
                "actors": _joined(event.actors),
                "summary": summarize(event),
            }
        )


def _json_cell(row: Mapping[str, str], column: str, where: str) -> object:
    text = row.get(column) or ""
    if not text.strip():
        return [] if column == "sources" else {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LogFormatError(
            f"column {column!r} is not JSON ({exc.msg})",
            where=where,
            hint="write it as export --format csv does, e.g. "
            + ('[{"title": "..."}]' if column == "sources" else '{"party": "UA"}'),
        ) from None


def _raw_event(row: Mapping[str, str], where: str) -> dict[str, object]:
    fields = _json_cell(row, "fields", where)
    if not isinstance(fields, dict):
        raise LogFormatError(
            "column 'fields' must hold a JSON object",
            where=where,
            hint="write the event's own fields as {...}",
        )
    raw: dict[str, object] = {
        **fields,
        "type": row.get("type") or "",
        "id": row.get("id") or "",
        "occurred": row.get("occurred") or "",
        "sources": _json_cell(row, "sources", where),
    }
    for column in ("note", "claimed_by"):
        if row.get(column):
            raw[column] = row[column]
    return raw


def read_events_csv(
    text: str,
    name: str,
    converter: cattrs.Converter,
    registry: EventRegistry = BUILTIN_EVENTS,
) -> list[Event]:
    """Read the event CSV back; a bad row raises LogFormatError naming ``name:line``."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [
        c
        for c in ("id", "type", "occurred", "sources")
        if c not in (reader.fieldnames or ())
    ]
    if missing:
        raise LogFormatError(
            f"the header lacks the column(s) {', '.join(missing)}",
            where=f"{name}:1",
            hint=f"an event CSV has the columns {', '.join(EVENT_CSV_COLUMNS)}",
        )
    events: list[Event] = []
    line = reader.line_num + 1
    for row in reader:
        where = f"{name}:{line}"
        events.append(
            decode_event(_raw_event(row, where), converter, registry, where=where)
        )
        line = reader.line_num + 1
    return events


POSITION_CSV_COLUMNS: Final = (
    "day",
    "party",
    "issue",
    "stance",
    "terms",
    "text",
    "since",
    "claimed_by",
    "disputed",
    "event",
    "basis",
)
"""Columns of the positions CSV: one row per party, issue and day."""


def write_positions_csv(
    timeline: Timeline, days: Iterable[date], stream: TextIO
) -> int:
    """Write every party's position on each of ``days`` (see POSITION_CSV_COLUMNS).

    Returns how many rows were written.
    """
    writer = csv.DictWriter(
        stream, fieldnames=POSITION_CSV_COLUMNS, extrasaction="ignore"
    )
    writer.writeheader()
    written = 0
    for day in days:
        for row in to_rows(timeline.state_at(day), "positions"):
            writer.writerow({**row, "day": row["as_of"]})
            written += 1
    return written
