"""The state of a negotiation on a given day, and the draft the reducers build it in.

:class:`NegotiationState` is immutable: every mapping in it is read-only and every
record is a frozen attrs class.  The reducers in :mod:`negstate.reducers` write into
a :class:`StateDraft` that :func:`negstate.fold` owns; when the fold is done the draft
is frozen into a state and never touched again, so folding stays pure from the
outside while each event costs a few dictionary operations, not a copy of the state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import attrs

from negstate.dates import FuzzyDate
from negstate.events import Event
from negstate.values import Quantity, Release, Stance, Terms

__all__ = [
    "Agreement",
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
    "Response",
    "ResponseKind",
    "StateDraft",
    "Swap",
    "meeting_status",
    "proposal_status",
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

    @property
    def events(self) -> tuple[str, ...]:
        """The ids of the events this position rests on."""
        return (self.event,) if self.basis is None else (self.basis, self.event)


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


def proposal_status(
    addressees: tuple[str, ...],
    responses: tuple[Response, ...],
    *,
    withdrawn: str | None,
    superseded_by: str | None,
) -> ProposalStatus:
    """The status that the proposer's and addressees' acts give a proposal."""
    if withdrawn is not None:
        return ProposalStatus.WITHDRAWN
    if superseded_by is not None:
        return ProposalStatus.SUPERSEDED
    kinds = {r.kind for r in responses}
    if ResponseKind.REJECTED in kinds:
        return ProposalStatus.REJECTED
    if ResponseKind.COUNTERED in kinds:
        return ProposalStatus.COUNTERED
    if len(responses) == len(addressees) and kinds == {ResponseKind.ACCEPTED}:
        return ProposalStatus.ACCEPTED
    return ProposalStatus.OPEN


def meeting_status(
    meeting: MeetingProposal, responses: tuple[Response, ...]
) -> MeetingStatus:
    """The status the answers give a proposed meeting that is not held or withdrawn."""
    kinds = {r.kind for r in responses}
    if ResponseKind.REJECTED in kinds:
        return MeetingStatus.DECLINED
    invited = len(meeting.participants) - (meeting.proposer in meeting.participants)
    if len(responses) == invited and kinds == {ResponseKind.ACCEPTED}:
        return MeetingStatus.AGREED
    return MeetingStatus.PROPOSED


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


def _frozen(mapping: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(mapping)


@attrs.frozen(kw_only=True, eq=True, hash=False)
class NegotiationState:
    """Everything a log says about a negotiation, as of one day.

    ``positions`` and ``exchanges`` are keyed by ``(party, issue)`` and
    ``(party, category)``; ``figures`` by subject; the other mappings by event id.
    ``events`` holds every event folded into this state, so any part of it can be
    traced to its sources.
    ``as_of`` is the day asked about (``None``: after everything in the log) and
    ``reading`` how fuzzy dates were read against it.
    """

    as_of: date | None = None
    reading: Reading = Reading.SURELY
    positions: Mapping[tuple[str, str], Position] = attrs.field(
        factory=lambda: _frozen({})
    )
    proposals: Mapping[str, Proposal] = attrs.field(factory=lambda: _frozen({}))
    meeting_proposals: Mapping[str, MeetingProposal] = attrs.field(
        factory=lambda: _frozen({})
    )
    meetings: Mapping[str, Meeting] = attrs.field(factory=lambda: _frozen({}))
    agreements: Mapping[str, Agreement] = attrs.field(factory=lambda: _frozen({}))
    deadlines: Mapping[str, Deadline] = attrs.field(factory=lambda: _frozen({}))
    swaps: tuple[Swap, ...] = ()
    exchanges: Mapping[tuple[str, str], ExchangeTotal] = attrs.field(
        factory=lambda: _frozen({})
    )
    figures: Mapping[str, Figure] = attrs.field(factory=lambda: _frozen({}))
    custom: Mapping[str, Mapping[str, Any]] = attrs.field(factory=lambda: _frozen({}))
    events: Mapping[str, Event] = attrs.field(factory=lambda: _frozen({}), repr=False)

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
            issue: position
            for (owner, issue), position in self.positions.items()
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
        draft = StateDraft()
        draft.positions = dict(self.positions)
        draft.proposals = dict(self.proposals)
        draft.meeting_proposals = dict(self.meeting_proposals)
        draft.meetings = dict(self.meetings)
        draft.agreements = dict(self.agreements)
        draft.deadlines = dict(self.deadlines)
        draft.swaps = list(self.swaps)
        draft.exchanges = dict(self.exchanges)
        draft.figures = dict(self.figures)
        draft.custom = {name: dict(records) for name, records in self.custom.items()}
        draft.events = dict(self.events)
        if self.as_of is not None:
            draft.unsettle()
        return draft


class StateDraft:
    """The mutable state a fold writes into; reducers receive it, never keep it.

    Every attribute mirrors the field of :class:`NegotiationState` with the same
    name.  A reducer for a user-defined event keeps its records in
    ``custom[collection][key]`` (values should be frozen attrs classes), and they show
    up in :attr:`NegotiationState.custom`, in diffs and in explanations.
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
    )

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], Position] = {}
        self.proposals: dict[str, Proposal] = {}
        self.meeting_proposals: dict[str, MeetingProposal] = {}
        self.meetings: dict[str, Meeting] = {}
        self.agreements: dict[str, Agreement] = {}
        self.deadlines: dict[str, Deadline] = {}
        self.swaps: list[Swap] = []
        self.exchanges: dict[tuple[str, str], ExchangeTotal] = {}
        self.figures: dict[str, Figure] = {}
        self.custom: dict[str, dict[str, Any]] = {}
        self.events: dict[str, Event] = {}

    def collection(self, name: str) -> dict[str, Any]:
        """The custom collection ``name``, created empty on first use."""
        found = self.custom.get(name)
        if found is None:
            found = self.custom[name] = {}
        return found

    def freeze(
        self, *, as_of: date | None = None, reading: Reading = Reading.SURELY
    ) -> NegotiationState:
        """Turn the draft into a state as of ``as_of`` (do not use the draft after).

        Time-dependent statuses (expired deadlines, lapsed meetings) are settled here,
        against ``as_of`` read the ``reading`` way.
        """
        if as_of is not None:
            self._settle(as_of, reading)
        return NegotiationState(
            as_of=as_of,
            reading=reading,
            positions=_frozen(self.positions),
            proposals=_frozen(self.proposals),
            meeting_proposals=_frozen(self.meeting_proposals),
            meetings=_frozen(self.meetings),
            agreements=_frozen(self.agreements),
            deadlines=_frozen(self.deadlines),
            swaps=tuple(self.swaps),
            exchanges=_frozen(self.exchanges),
            figures=_frozen(self.figures),
            custom=_frozen({k: _frozen(v) for k, v in self.custom.items()}),
            events=_frozen(self.events),
        )

    def unsettle(self) -> None:
        """Undo :meth:`freeze`'s dated statuses, to fold on from a dated state."""
        for key, deadline in self.deadlines.items():
            if deadline.status is DeadlineStatus.EXPIRED:
                self.deadlines[key] = attrs.evolve(
                    deadline, status=DeadlineStatus.ACTIVE
                )
        for key, meeting in self.meeting_proposals.items():
            if meeting.status is MeetingStatus.LAPSED:
                self.meeting_proposals[key] = attrs.evolve(
                    meeting, status=meeting_status(meeting, meeting.responses)
                )

    def _settle(self, as_of: date, reading: Reading) -> None:
        surely = reading is Reading.SURELY
        for key, deadline in self.deadlines.items():
            if deadline.status is DeadlineStatus.ACTIVE and _has_passed(
                deadline.expires, as_of, surely=surely
            ):
                self.deadlines[key] = attrs.evolve(
                    deadline, status=DeadlineStatus.EXPIRED
                )
        for key, meeting in self.meeting_proposals.items():
            if (
                meeting.status in {MeetingStatus.PROPOSED, MeetingStatus.AGREED}
                and meeting.window is not None
                and _has_passed(meeting.window, as_of, surely=surely)
            ):
                self.meeting_proposals[key] = attrs.evolve(
                    meeting, status=MeetingStatus.LAPSED
                )


def _has_passed(span: FuzzyDate, day: date, *, surely: bool) -> bool:
    """True when ``day`` is after the span: surely after its end, or after its start."""
    end = span.latest if surely else span.earliest
    if end is None:
        return not surely
    return day > end
