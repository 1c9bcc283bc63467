"""The state of a negotiation on a given day, and the draft the reducers build it in.

:class:`NegotiationState` is immutable: every mapping in it is read-only and every
record is a frozen attrs class.  The reducers in :mod:`negstate.reducers` write into
a :class:`StateDraft` that :func:`negstate.fold` owns; when the fold is done the draft
is frozen into a state and never touched again, so folding stays pure from the
outside while each event costs a few dictionary operations, not a copy of the state.
The draft keeps compact entries (mostly the events themselves); a state builds its
records from them when they are first read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Protocol, overload

import attrs

from negstate.dates import FuzzyDate
from negstate.events import Event, PositionStated, ProposalMade
from negstate.values import Quantity, Release, Stance, Terms

__all__ = [
    "PARTY_FIELDS",
    "Agreement",
    "Answer",
    "Claim",
    "Deadline",
    "DeadlineStatus",
    "ExchangeTotal",
    "Figure",
    "Meeting",
    "MeetingProposal",
    "MeetingStatus",
    "NegotiationState",
    "Position",
    "Proposal",
    "ProposalStatus",
    "Reading",
    "RecordView",
    "Response",
    "ResponseKind",
    "StateDraft",
    "Swap",
    "SwapView",
    "Tables",
    "answers_of",
    "answers_status",
    "claimant_of",
    "party_of",
    "set_position",
    "state_from_tables",
]


class Reading(StrEnum):
    """How replay reads a fuzzy date against the day asked about.

    ``SURELY`` (the default) counts an event on day D once its latest possible day is
    on or before D: it has certainly happened.  ``POSSIBLY`` counts it once its
    earliest possible day is: it may have happened.
    """

    SURELY = "surely"
    POSSIBLY = "possibly"


class ResponseKind(StrEnum):
    """How an addressee answered a proposal."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COUNTERED = "countered"


class ProposalStatus(StrEnum):
    """Where a proposal stands, from the proposer's and the addressees' acts."""

    OPEN = "open"
    """No answer yet from some addressee, and none rejected or countered."""
    ACCEPTED = "accepted"
    """Every addressee accepted."""
    REJECTED = "rejected"
    """At least one addressee rejected it."""
    COUNTERED = "countered"
    """At least one addressee answered with a counter-proposal, none rejected."""
    WITHDRAWN = "withdrawn"
    """The proposer took it back."""
    SUPERSEDED = "superseded"
    """The proposer replaced it with a newer proposal."""


class MeetingStatus(StrEnum):
    """Where a proposed meeting stands on the state's day."""

    PROPOSED = "proposed"
    AGREED = "agreed"
    """Every invited participant accepted; not held yet."""
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    HELD = "held"
    LAPSED = "lapsed"
    """Its time window has passed and it was not held."""


class DeadlineStatus(StrEnum):
    """Whether a deadline still runs on the state's day."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REPLACED = "replaced"
    """A later deadline moved or sharpened it."""


@attrs.frozen(kw_only=True)
class Position:
    """A party's current position on an issue and the events behind it.

    Set by :class:`~negstate.events.PositionStated`, by the party's own
    :class:`~negstate.events.ProposalMade` (it supports its terms) and by its
    :class:`~negstate.events.ProposalAccepted` (it supports the proposal's terms);
    ``basis`` is then the proposal.  Rejections do not set a position: saying no to
    terms does not say what a party wants instead.

    A position may be someone else's claim about the party (``claimed_by``).  The
    latest word is the position; other claimants' words since the party last spoke
    for itself are kept in ``others`` and make the position ``disputed`` when they
    differ.  A claimant's later word replaces its own earlier one, and the party's
    own word replaces every claim about it.
    """

    party: str
    issue: str
    stance: Stance
    terms: Terms
    text: str
    since: FuzzyDate
    event: str
    basis: str | None = None
    claimed_by: str | None = None
    others: tuple[Position, ...] = ()

    @property
    def claimant(self) -> str:
        """Whose word this is: the claimant, or the party itself."""
        return self.party if self.claimed_by is None else self.claimed_by

    @property
    def disputed(self) -> bool:
        """True when another claimant's standing word differs from this one."""
        return any(
            (other.stance, other.terms) != (self.stance, self.terms)
            for other in self.others
        )

    @property
    def events(self) -> tuple[str, ...]:
        """The ids of the events this position and the standing claims rest on."""
        own = (self.event,) if self.basis is None else (self.basis, self.event)
        return own + tuple(e for other in self.others for e in other.events)


@attrs.frozen(kw_only=True)
class Response:
    """An addressee's latest answer to a proposal and the event that gave it."""

    party: str
    kind: ResponseKind
    event: str


def _responses_by(
    responses: tuple[Response, ...], kind: ResponseKind
) -> frozenset[str]:
    return frozenset(r.party for r in responses if r.kind is kind)


@attrs.frozen(kw_only=True)
class Proposal:
    """A proposal with its whole lifecycle and each addressee's latest answer."""

    id: str
    proposer: str
    addressees: tuple[str, ...]
    issue: str
    terms: Terms
    made: FuzzyDate
    mediators: tuple[str, ...] = ()
    counters: str | None = None
    responses: tuple[Response, ...] = ()
    withdrawn: str | None = None
    superseded_by: str | None = None
    status: ProposalStatus = ProposalStatus.OPEN

    @property
    def accepted_by(self) -> frozenset[str]:
        """Addressees whose latest answer is an acceptance."""
        return _responses_by(self.responses, ResponseKind.ACCEPTED)

    @property
    def rejected_by(self) -> frozenset[str]:
        """Addressees whose latest answer is a rejection."""
        return _responses_by(self.responses, ResponseKind.REJECTED)

    @property
    def countered_by(self) -> frozenset[str]:
        """Addressees whose latest answer is a counter-proposal."""
        return _responses_by(self.responses, ResponseKind.COUNTERED)

    def response_of(self, party: str) -> Response | None:
        """The latest answer of ``party``, if it answered."""
        for response in self.responses:
            if response.party == party:
                return response
        return None

    @property
    def events(self) -> tuple[str, ...]:
        """The proposal's own id and the ids of every event that changed it."""
        found = [self.id, *(r.event for r in self.responses)]
        found += [e for e in (self.withdrawn, self.superseded_by) if e is not None]
        return tuple(found)


@attrs.frozen(kw_only=True)
class MeetingProposal:
    """A proposed meeting, the answers to it and whether it happened."""

    id: str
    proposer: str
    participants: tuple[str, ...]
    level: str
    place: str | None
    window: FuzzyDate | None
    agenda: tuple[str, ...]
    proposed: FuzzyDate
    responses: tuple[Response, ...] = ()
    withdrawn: str | None = None
    held: str | None = None
    status: MeetingStatus = MeetingStatus.PROPOSED

    @property
    def events(self) -> tuple[str, ...]:
        """The proposal's own id and the ids of every event that changed it."""
        found = [self.id, *(r.event for r in self.responses)]
        found += [e for e in (self.withdrawn, self.held) if e is not None]
        return tuple(found)


@attrs.frozen(kw_only=True)
class Meeting:
    """A meeting or call that took place."""

    id: str
    occurred: FuzzyDate
    participants: tuple[str, ...]
    level: str
    place: str | None
    medium: str
    mediators: tuple[str, ...]
    duration_minutes: Quantity | None
    agenda: tuple[str, ...]
    outcome: str
    proposal: str | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The meeting's own event id."""
        return (self.id,)


@attrs.frozen(kw_only=True)
class Agreement:
    """Terms the parties agreed on."""

    id: str
    parties: tuple[str, ...]
    issue: str
    terms: Terms
    reached: FuzzyDate
    mediators: tuple[str, ...] = ()
    proposal: str | None = None
    meeting: str | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The agreement's own event id."""
        return (self.id,)


@attrs.frozen(kw_only=True)
class Swap:
    """One completed exchange."""

    id: str
    occurred: FuzzyDate
    releases: tuple[Release, ...]
    agreement: str | None = None
    mediators: tuple[str, ...] = ()
    claimed_by: str | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The swap's own event id."""
        return (self.id,)


@attrs.frozen(kw_only=True)
class ExchangeTotal:
    """How many people of a category a party has released, over all swaps.

    ``count`` sums the releases that gave a number; ``unreported`` counts releases
    whose size no report gave, so the true total is at least ``count``.
    """

    party: str
    category: str
    count: int = 0
    releases: int = 0
    unreported: int = 0

    @property
    def is_exact(self) -> bool:
        """True when every release behind the total gave a number."""
        return self.unreported == 0

    def __str__(self) -> str:
        if self.unreported:
            plural = "s" if self.unreported > 1 else ""
            return (
                f"{self.count:,}+ ({self.unreported} release{plural} without a figure)"
            )
        return f"{self.count:,}"


@attrs.frozen(kw_only=True)
class Deadline:
    """An ultimatum: who demands what of whom, by when, or else."""

    id: str
    by: str
    against: tuple[str, ...]
    demand: str
    consequence: str
    set_on: FuzzyDate
    expires: FuzzyDate
    replaced_by: str | None = None
    status: DeadlineStatus = DeadlineStatus.ACTIVE

    @property
    def events(self) -> tuple[str, ...]:
        """The deadline's own id and the deadline that replaced it."""
        return (self.id,) if self.replaced_by is None else (self.id, self.replaced_by)


@attrs.frozen(kw_only=True)
class Claim:
    """One claimant's figure for a subject, and the event that reported it."""

    claimant: str
    value: Quantity
    event: str
    occurred: FuzzyDate


@attrs.frozen(kw_only=True)
class Figure:
    """Every claimant's latest figure for one subject (``children/deported``).

    Nothing is overwritten across claimants: when their figures differ the figure is
    ``disputed`` and each claim keeps its claimant and event.
    """

    subject: str
    unit: str
    claims: tuple[Claim, ...] = ()

    @property
    def disputed(self) -> bool:
        """True when claimants give different values."""
        return len({claim.value for claim in self.claims}) > 1

    def claim_of(self, claimant: str) -> Claim | None:
        """The latest figure ``claimant`` gave, if any."""
        for claim in self.claims:
            if claim.claimant == claimant:
                return claim
        return None

    @property
    def events(self) -> tuple[str, ...]:
        """The events of the claims that stand."""
        return tuple(claim.event for claim in self.claims)


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


# -- compact entries ------------------------------------------------------------------


Answer = tuple[str, str, str]
"""An addressee's answer in a draft: (party, ResponseKind value, event id)."""

_ACCEPTED, _REJECTED, _COUNTERED = "accepted", "rejected", "countered"

PARTY_FIELDS: Final = MappingProxyType(
    {
        "proposals": ("proposer", "addressees", "mediators"),
        "meeting_proposals": ("proposer", "participants"),
        "meetings": ("participants", "mediators"),
        "agreements": ("parties", "mediators"),
        "deadlines": ("by", "against"),
    }
)
"""For each table of records made from one event, the fields that name the parties
a record involves; the record's event holds the same fields."""


def answers_status(
    addressees: tuple[str, ...],
    answers: tuple[Answer, ...],
    *,
    withdrawn: str | None,
    superseded_by: str | None,
) -> ProposalStatus:
    """The status that the proposer's and addressees' acts give a proposal."""
    if withdrawn is not None:
        return ProposalStatus.WITHDRAWN
    if superseded_by is not None:
        return ProposalStatus.SUPERSEDED
    kinds = {kind for _, kind, _ in answers}
    if _REJECTED in kinds:
        return ProposalStatus.REJECTED
    if _COUNTERED in kinds:
        return ProposalStatus.COUNTERED
    if len(answers) == len(addressees) and kinds == {_ACCEPTED}:
        return ProposalStatus.ACCEPTED
    return ProposalStatus.OPEN


def _responses(answers: tuple[Answer, ...]) -> tuple[Response, ...]:
    return tuple(
        Response(party=party, kind=ResponseKind(kind), event=event_id)
        for party, kind, event_id in answers
    )


def answers_of(responses: tuple[Response, ...]) -> tuple[Answer, ...]:
    """The draft form of a record's responses."""
    return tuple((r.party, r.kind.value, r.event) for r in responses)


def _has_passed(span: FuzzyDate | None, day: date | None, reading: Reading) -> bool:
    """True when ``day`` is after the span: surely after its end, or possibly."""
    if span is None or day is None:
        return False
    surely = reading is Reading.SURELY
    end = span.latest if surely else span.earliest
    if end is None:
        return not surely
    return day > end


class _Builder:
    """Builds a state's records from draft entries, as of the state's day."""

    __slots__ = ("as_of", "events", "reading")

    def __init__(
        self, events: Mapping[str, Event], as_of: date | None, reading: Reading
    ) -> None:
        self.events = events
        self.as_of = as_of
        self.reading = reading

    def position(self, entry: Any) -> Position:  # noqa: ANN401 - a draft entry
        if isinstance(entry, Position):
            return entry
        source, others = entry
        position = self._position_of(source)
        if others:
            position = attrs.evolve(
                position, others=tuple(self._position_of(o) for o in others)
            )
        return position

    def _position_of(self, source: Any) -> Position:  # noqa: ANN401
        if isinstance(source, Position):
            return source
        if isinstance(source, PositionStated):
            return Position(
                party=source.party,
                issue=source.issue,
                stance=source.stance,
                terms=source.terms,
                text=source.text,
                since=source.occurred,
                event=source.id,
                claimed_by=source.claimed_by,
            )
        if isinstance(source, ProposalMade):
            return Position(
                party=source.proposer,
                issue=source.issue,
                stance=Stance.SUPPORTS,
                terms=source.terms,
                text=source.terms.text,
                since=source.occurred,
                event=source.id,
                claimed_by=source.claimed_by,
            )
        proposal: Any = self.events[source.proposal]
        terms = proposal.terms
        if source.conditions:
            terms = attrs.evolve(
                terms, conditions=(*terms.conditions, *source.conditions)
            )
        return Position(
            party=source.by,
            issue=proposal.issue,
            stance=Stance.CONDITIONAL if source.conditions else Stance.SUPPORTS,
            terms=terms,
            text=source.text or proposal.terms.text,
            since=source.occurred,
            event=source.id,
            basis=proposal.id,
            claimed_by=source.claimed_by,
        )

    def proposal(self, entry: Any) -> Proposal:  # noqa: ANN401
        if isinstance(entry, Proposal):
            return entry
        event, answers, withdrawn, superseded_by = entry
        return Proposal(
            id=event.id,
            proposer=event.proposer,
            addressees=event.addressees,
            issue=event.issue,
            terms=event.terms,
            made=event.occurred,
            mediators=event.mediators,
            counters=event.counters,
            responses=_responses(answers),
            withdrawn=withdrawn,
            superseded_by=superseded_by,
            status=answers_status(
                event.addressees,
                answers,
                withdrawn=withdrawn,
                superseded_by=superseded_by,
            ),
        )

    def meeting_proposal(self, entry: Any) -> MeetingProposal:  # noqa: ANN401
        if isinstance(entry, MeetingProposal):
            record = entry
        else:
            event, answers, withdrawn, held = entry
            record = MeetingProposal(
                id=event.id,
                proposer=event.proposer,
                participants=event.participants,
                level=event.level,
                place=event.place,
                window=event.window,
                agenda=event.agenda,
                proposed=event.occurred,
                responses=_responses(answers),
                withdrawn=withdrawn,
                held=held,
                status=_meeting_status(event, answers, withdrawn, held),
            )
        # A window is the period the meeting was to fall in, not an uncertain day:
        # it passes after its last day whichever way dates are read.
        if record.status in {
            MeetingStatus.PROPOSED,
            MeetingStatus.AGREED,
        } and _has_passed(record.window, self.as_of, Reading.SURELY):
            record = attrs.evolve(record, status=MeetingStatus.LAPSED)
        return record

    def meeting(self, entry: Any) -> Meeting:  # noqa: ANN401
        if isinstance(entry, Meeting):
            return entry
        return Meeting(
            id=entry.id,
            occurred=entry.occurred,
            participants=entry.participants,
            level=entry.level,
            place=entry.place,
            medium=entry.medium,
            mediators=entry.mediators,
            duration_minutes=entry.duration_minutes,
            agenda=entry.agenda,
            outcome=entry.outcome,
            proposal=entry.proposal,
        )

    def agreement(self, entry: Any) -> Agreement:  # noqa: ANN401
        if isinstance(entry, Agreement):
            return entry
        return Agreement(
            id=entry.id,
            parties=entry.parties,
            issue=entry.issue,
            terms=entry.terms,
            reached=entry.occurred,
            mediators=entry.mediators,
            proposal=entry.proposal,
            meeting=entry.meeting,
        )

    def deadline(self, entry: Any) -> Deadline:  # noqa: ANN401
        if isinstance(entry, Deadline):
            record = entry
        else:
            event, replaced_by = entry
            record = Deadline(
                id=event.id,
                by=event.by,
                against=event.against,
                demand=event.demand,
                consequence=event.consequence,
                set_on=event.occurred,
                expires=event.expires,
                replaced_by=replaced_by,
                status=DeadlineStatus.ACTIVE
                if replaced_by is None
                else DeadlineStatus.REPLACED,
            )
        if record.status is DeadlineStatus.ACTIVE and _has_passed(
            record.expires, self.as_of, self.reading
        ):
            record = attrs.evolve(record, status=DeadlineStatus.EXPIRED)
        return record

    def exchange(self, key: tuple[str, str], entry: Any) -> ExchangeTotal:  # noqa: ANN401
        if isinstance(entry, ExchangeTotal):
            return entry
        count, releases, unreported = entry
        return ExchangeTotal(
            party=key[0],
            category=key[1],
            count=count,
            releases=releases,
            unreported=unreported,
        )

    def figure(self, subject: str, entry: Any) -> Figure:  # noqa: ANN401
        if isinstance(entry, Figure):
            return entry
        unit, claims = entry
        return Figure(
            subject=subject,
            unit=unit,
            claims=tuple(
                Claim(
                    claimant=claimant,
                    value=event.value,
                    event=event.id,
                    occurred=event.occurred,
                )
                for claimant, event in claims
            ),
        )

    def swap(self, entry: Any) -> Swap:  # noqa: ANN401
        if isinstance(entry, Swap):
            return entry
        return Swap(
            id=entry.id,
            occurred=entry.occurred,
            releases=entry.releases,
            agreement=entry.agreement,
            mediators=entry.mediators,
            claimed_by=entry.claimed_by,
        )


def _meeting_status(
    event: Any,  # noqa: ANN401 - a MeetingProposed
    answers: tuple[Answer, ...],
    withdrawn: str | None,
    held: str | None,
) -> MeetingStatus:
    if withdrawn is not None:
        return MeetingStatus.WITHDRAWN
    if held is not None:
        return MeetingStatus.HELD
    kinds = {kind for _, kind, _ in answers}
    if _REJECTED in kinds:
        return MeetingStatus.DECLINED
    invited = sum(1 for p in event.participants if p != event.proposer)
    if len(answers) == invited and kinds == {_ACCEPTED}:
        return MeetingStatus.AGREED
    return MeetingStatus.PROPOSED


_ABSENT: Final = object()
"""Stands for a key that a table lacks."""


class RecordView(Mapping[Any, Any]):
    """A read-only mapping that builds each record from its entry when first read."""

    __slots__ = ("_build", "_built", "_entries", "_keyed")

    def __init__(
        self,
        entries: Mapping[Any, Any],
        build: Callable[..., Any],
        *,
        keyed: bool = False,
    ) -> None:
        self._entries = entries
        self._build = build
        self._keyed = keyed
        self._built: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401 - any record
        found = self.get(key, _ABSENT)
        if found is _ABSENT:
            raise KeyError(key)
        return found

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: ANN401 - any record
        """The record at ``key``, or ``default`` (without raising and catching)."""
        built = self._built.get(key)
        if built is None:
            entry = self._entries.get(key, _ABSENT)
            if entry is _ABSENT:
                return default
            built = self._build(key, entry) if self._keyed else self._build(entry)
            self._built[key] = built
        return built

    def __iter__(self) -> Iterator[Any]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} records)"

    @property
    def entries(self) -> Mapping[Any, Any]:
        """The compact entries behind the records (for folding on)."""
        return self._entries


class SwapView(Sequence[Swap]):
    """A read-only sequence of swaps, built from their events when read."""

    __slots__ = ("_build", "_built", "_entries")

    def __init__(self, entries: Sequence[Any], build: Callable[[Any], Swap]) -> None:
        self._entries = entries
        self._build = build
        self._built: dict[int, Swap] = {}

    @overload
    def __getitem__(self, index: int) -> Swap: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Swap, ...]: ...

    def __getitem__(self, index: int | slice) -> Swap | tuple[Swap, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        if index < 0:
            index += len(self._entries)
        built = self._built.get(index)
        if built is None:
            built = self._built[index] = self._build(self._entries[index])
        return built

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(
            a == b for a, b in zip(self, other, strict=True)
        )

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} swaps)"

    @property
    def entries(self) -> Sequence[Any]:
        """The events behind the swaps (for folding on)."""
        return self._entries

    def find(self, swap_id: str) -> Swap | None:
        """The swap ``swap_id``, built alone; None if there is none.

        Entries that can say where an id stands (a saved index's) are asked;
        others are looked through by id without building their swaps.
        """
        index_of = getattr(self._entries, "index_of", None)
        if index_of is not None:
            position = index_of(swap_id)
        else:
            position = next(
                (n for n, entry in enumerate(self._entries) if entry.id == swap_id),
                None,
            )
        return None if position is None else self[position]


@attrs.frozen(kw_only=True, eq=True, hash=False)
class NegotiationState:
    """Everything a log says about a negotiation, as of one day.

    ``positions`` and ``exchanges`` are keyed by ``(party, issue)`` and
    ``(party, category)``; ``figures`` by subject; the other mappings by event id.
    ``events`` holds every event folded into this state, so any part of it can be
    traced to its sources.  ``as_of`` is the day asked about (``None``: after
    everything in the log) and ``reading`` how fuzzy dates were read against it.
    Records are built when first read; the state never changes.
    """

    as_of: date | None = None
    reading: Reading = Reading.SURELY
    positions: Mapping[tuple[str, str], Position] = attrs.field(factory=_empty)
    proposals: Mapping[str, Proposal] = attrs.field(factory=_empty)
    meeting_proposals: Mapping[str, MeetingProposal] = attrs.field(factory=_empty)
    meetings: Mapping[str, Meeting] = attrs.field(factory=_empty)
    agreements: Mapping[str, Agreement] = attrs.field(factory=_empty)
    deadlines: Mapping[str, Deadline] = attrs.field(factory=_empty)
    swaps: Sequence[Swap] = ()
    exchanges: Mapping[tuple[str, str], ExchangeTotal] = attrs.field(factory=_empty)
    figures: Mapping[str, Figure] = attrs.field(factory=_empty)
    custom: Mapping[str, Mapping[str, Any]] = attrs.field(factory=_empty)
    """User reducers' collections by name (see :meth:`StateDraft.collection`),
    each shown once it holds a record."""
    events: Mapping[str, Event] = attrs.field(factory=_empty, repr=False)
    revised_by: Mapping[str, tuple[Event, ...]] = attrs.field(
        factory=_empty, eq=False, repr=False
    )
    """For each event of this state that later reports revised, the corrections and
    merges applied to it (what :func:`negstate.explain` and :func:`negstate.diff`
    cite besides the event itself)."""
    origin: object = attrs.field(default=None, eq=False, repr=False)
    """The checkpoint index and position a state was read from, if any; it lets
    :func:`negstate.diff` compare only what changed between two such states and
    :func:`negstate.explain` read only what it cites.  A state made by changing
    such a state's records with ``attrs.evolve`` should set ``origin=None``: both
    answer for the index's state otherwise."""

    @property
    def parties(self) -> tuple[str, ...]:
        """Every party with a position or an exchange total, sorted."""
        found = {party for party, _ in self.positions} | {
            party for party, _ in self.exchanges
        }
        return tuple(sorted(found))

    def position(self, party: str, issue: str) -> Position | None:
        """The position of ``party`` on ``issue``, or ``None`` if it has none."""
        return self.positions.get((party, issue))

    def positions_of(self, party: str) -> dict[str, Position]:
        """All positions of ``party``, keyed by issue."""
        return {
            issue: self.positions[owner, issue]
            for owner, issue in self.positions
            if owner == party
        }

    def released(self, party: str, category: str) -> ExchangeTotal:
        """What ``party`` has released of ``category`` (zero when nothing yet)."""
        return self.exchanges.get(
            (party, category), ExchangeTotal(party=party, category=category)
        )

    def open_proposals(self) -> Iterator[Proposal]:
        """Proposals still awaiting an answer, in the order they were made."""
        return (p for p in self.proposals.values() if p.status is ProposalStatus.OPEN)

    def active_deadlines(self) -> Iterator[Deadline]:
        """Deadlines still running on the state's day."""
        return (d for d in self.deadlines.values() if d.status is DeadlineStatus.ACTIVE)

    def thaw(self) -> StateDraft:
        """A mutable copy to fold more events into (see :func:`negstate.fold`)."""
        draft = _with_tables_of(self)
        draft.events = dict(self.events)
        return draft


def _with_tables_of(source: NegotiationState | StateDraft) -> StateDraft:
    """A new draft whose tables are copies of ``source``'s (a state's or a draft's).

    Entries are immutable and shared; only the tables are new.
    """
    draft = StateDraft()
    draft.positions = dict(_entries_of(source.positions))
    draft.proposals = dict(_entries_of(source.proposals))
    draft.meeting_proposals = dict(_entries_of(source.meeting_proposals))
    draft.meetings = dict(_entries_of(source.meetings))
    draft.agreements = dict(_entries_of(source.agreements))
    draft.deadlines = dict(_entries_of(source.deadlines))
    swaps = source.swaps
    draft.swaps = list(swaps.entries if isinstance(swaps, SwapView) else swaps)
    draft.exchanges = dict(_entries_of(source.exchanges))
    draft.figures = dict(_entries_of(source.figures))
    draft.custom = {name: dict(records) for name, records in source.custom.items()}
    return draft


def _entries_of(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return mapping.entries if isinstance(mapping, RecordView) else mapping


class StateDraft:
    """The mutable state a fold writes into; reducers receive it, never keep it.

    While folding, the draft keeps each record as a compact, immutable *entry*:
    the event itself, or a small tuple of the event and what later events changed,
    so no record object is built per event.  A state builds its records from the
    entries when they are first read.  The built-in tables and their entries:

    - ``positions[(party, issue)]``: ``(source, others)``, where ``source`` is the
      event (or a :class:`Position`) that set it and ``others`` the standing words
      of other claimants;
    - ``proposals[id]``: ``(ProposalMade, answers, withdrawn_by, superseded_by)``;
    - ``meeting_proposals[id]``: ``(MeetingProposed, answers, withdrawn_by,
      held_by)``;
    - ``meetings[id]``, ``agreements[id]``: the event;
    - ``deadlines[id]``: ``(DeadlineSet, replaced_by)``;
    - ``exchanges[(party, category)]``: ``(count, releases, unreported)``;
    - ``figures[subject]``: ``(unit, ((claimant, FigureReported), ...))``;
    - ``swaps``: the SwapCompleted events in fold order;

    where an answer is ``(party, kind, event id)``.  These tables belong to the
    built-in reducers.  A reducer for a user-defined
    event keeps its records in :meth:`collection` (values should be frozen attrs
    classes with an ``events`` attribute naming the events behind them) and may set
    a party's position with :meth:`set_position`; both show up in states, diffs and
    explanations like the built-in records.
    """

    __slots__ = (
        "agreements",
        "custom",
        "deadlines",
        "events",
        "exchanges",
        "figures",
        "meeting_proposals",
        "meetings",
        "positions",
        "proposals",
        "swaps",
        "table_factory",
    )

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], Any] = {}
        self.proposals: dict[str, Any] = {}
        self.meeting_proposals: dict[str, Any] = {}
        self.meetings: dict[str, Any] = {}
        self.agreements: dict[str, Any] = {}
        self.deadlines: dict[str, Any] = {}
        self.swaps: list[Any] = []
        self.exchanges: dict[tuple[str, str], Any] = {}
        self.figures: dict[str, Any] = {}
        self.custom: dict[str, dict[str, Any]] = {}
        self.events: dict[str, Event] = {}
        self.table_factory: Callable[[str], dict[str, Any]] = _new_table

    def collection(self, name: str) -> dict[str, Any]:
        """The custom collection ``name``, created empty on first use.

        A state shows it once it holds a record, however the state was read.

        Replace a record to change it (``records[key] = attrs.evolve(...)``); never
        change a stored value in place, since earlier states may share it.
        """
        found = self.custom.get(name)
        if found is None:
            found = self.custom[name] = self.table_factory(name)
        return found

    def set_position(self, position: Position) -> None:
        """Make ``position`` the party's position on its issue (claims rule applies)."""
        set_position(self, position, position.party, position.issue, position.claimant)

    def copied(self) -> StateDraft:
        """A new draft with the same entries, to fold on without changing this one.

        Entries are immutable and shared; the tables are new.  The copy's
        ``events`` is this draft's (the caller gives it its own when it folds on).
        """
        draft = _with_tables_of(self)
        draft.events = self.events
        draft.table_factory = self.table_factory
        return draft

    def freeze(
        self, *, as_of: date | None = None, reading: Reading = Reading.SURELY
    ) -> NegotiationState:
        """Turn the draft into a state as of ``as_of`` (do not use the draft after).

        Statuses that depend on the day (expired deadlines, lapsed meetings) are
        worked out against ``as_of``, read the ``reading`` way.
        """
        return state_from_tables(self, self.events, as_of=as_of, reading=reading)


def _new_table(_name: str) -> dict[str, Any]:
    return {}


class Tables(Protocol):
    """The tables a state is built from: a draft, or a checkpoint index's view."""

    @property
    def positions(self) -> Mapping[tuple[str, str], Any]: ...  # noqa: D102
    @property
    def proposals(self) -> Mapping[str, Any]: ...  # noqa: D102
    @property
    def meeting_proposals(self) -> Mapping[str, Any]: ...  # noqa: D102
    @property
    def meetings(self) -> Mapping[str, Any]: ...  # noqa: D102
    @property
    def agreements(self) -> Mapping[str, Any]: ...  # noqa: D102
    @property
    def deadlines(self) -> Mapping[str, Any]: ...  # noqa: D102
    @property
    def swaps(self) -> Sequence[Any]: ...  # noqa: D102
    @property
    def exchanges(self) -> Mapping[tuple[str, str], Any]: ...  # noqa: D102
    @property
    def figures(self) -> Mapping[str, Any]: ...  # noqa: D102
    @property
    def custom(self) -> Mapping[str, Mapping[str, Any]]: ...  # noqa: D102


def state_from_tables(
    tables: Tables,
    events: Mapping[str, Event],
    *,
    as_of: date | None,
    reading: Reading,
    origin: object = None,
) -> NegotiationState:
    """A state whose records are built on first read from ``tables``' entries."""
    builder = _Builder(events, as_of, reading)
    return NegotiationState(
        as_of=as_of,
        reading=reading,
        positions=RecordView(tables.positions, builder.position),
        proposals=RecordView(tables.proposals, builder.proposal),
        meeting_proposals=RecordView(
            tables.meeting_proposals, builder.meeting_proposal
        ),
        meetings=RecordView(tables.meetings, builder.meeting),
        agreements=RecordView(tables.agreements, builder.agreement),
        deadlines=RecordView(tables.deadlines, builder.deadline),
        swaps=SwapView(tables.swaps, builder.swap),
        exchanges=RecordView(tables.exchanges, builder.exchange, keyed=True),
        figures=RecordView(tables.figures, builder.figure, keyed=True),
        custom=MappingProxyType(
            {
                name: MappingProxyType(records)
                for name, records in tables.custom.items()
                if records  # asked for but never written: as an index shows it
            }
        )
        if isinstance(tables.custom, dict)
        else tables.custom,
        events=MappingProxyType(events) if isinstance(events, dict) else events,
        origin=origin,
    )


def claimant_of(source: Any) -> str:  # noqa: ANN401 - an event or a Position
    """Whose word a position's source is."""
    if isinstance(source, Position):
        return source.claimant
    claimed_by: str | None = source.claimed_by
    if claimed_by is not None:
        return claimed_by
    return party_of(source)


def party_of(source: Any) -> str:  # noqa: ANN401 - an event or a Position
    """The party a position's source speaks about."""
    if isinstance(source, Position):
        return source.party
    if isinstance(source, PositionStated):
        return source.party
    if isinstance(source, ProposalMade):
        return source.proposer
    return str(source.by)


def set_position(
    draft: StateDraft,
    source: Any,  # noqa: ANN401 - an event or a Position
    party: str,
    issue: str,
    claimant: str,
) -> None:
    """Make ``source`` the current word on (party, issue), keeping other claimants'.

    The party's own word replaces every claim about it; a claimant's word replaces
    only that claimant's earlier one.
    """
    key = (party, issue)
    current = draft.positions.get(key)
    if current is None or claimant == party:
        draft.positions[key] = (source, ())
        return
    if isinstance(current, Position):
        standing = (attrs.evolve(current, others=()), *current.others)
    else:
        standing = (current[0], *current[1])
    others = tuple(s for s in standing if claimant_of(s) != claimant)
    draft.positions[key] = (source, others)
