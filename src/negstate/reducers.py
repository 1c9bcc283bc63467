"""One plain function per built-in event type, the dispatch table and ``fold``.

A reducer checks that its event can happen in the state it meets and raises a
:class:`~negstate.errors.FoldError` naming the event when it cannot; only then does
it write to the draft.  :func:`fold` looks each event's reducer up in a registry's
table: one dictionary lookup per event, no ``isinstance`` chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import attrs

from negstate.errors import (
    DuplicateEventError,
    ImpossibleEventError,
    RegistryError,
    UnknownReferenceError,
    locate,
)
from negstate.events import (
    AgreementReached,
    DeadlineSet,
    Event,
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
from negstate.registry import EventRegistry
from negstate.state import (
    Agreement,
    Claim,
    Deadline,
    DeadlineStatus,
    ExchangeTotal,
    Figure,
    Meeting,
    MeetingProposal,
    MeetingStatus,
    NegotiationState,
    Position,
    Proposal,
    ProposalStatus,
    Reading,
    Response,
    ResponseKind,
    StateDraft,
    Swap,
    meeting_status,
    proposal_status,
)
from negstate.values import Stance

__all__ = [
    "BUILTIN_EVENTS",
    "agreement_reached",
    "apply_events",
    "deadline_set",
    "figure_reported",
    "fold",
    "meeting_held",
    "meeting_proposed",
    "position_stated",
    "proposal_accepted",
    "proposal_made",
    "proposal_rejected",
    "proposal_withdrawn",
    "swap_completed",
]


# -- proposals ------------------------------------------------------------------------


def _with_response(
    responses: tuple[Response, ...], response: Response
) -> tuple[Response, ...]:
    """The party's answer replaces its earlier one, but a counter keeps a rejection.

    Countering and rejecting give a rejection in either order, so reports of both
    never depend on which one is dated first.
    """
    for earlier in responses:
        if (
            earlier.party == response.party
            and earlier.kind is ResponseKind.REJECTED
            and response.kind is ResponseKind.COUNTERED
        ):
            return responses
    kept = tuple(r for r in responses if r.party != response.party)
    return (*kept, response)


def _find_proposal(draft: StateDraft, event: Event, target: str) -> Proposal:
    proposal = draft.proposals.get(target)
    if proposal is None:
        raise UnknownReferenceError(
            f"refers to proposal {target!r}, which the log does not hold",
            event_id=event.id,
            hint="record the proposal first, or fix the id",
        )
    return proposal


def _check_answer(
    event: Event,
    *,
    target: str,
    by: str,
    proposer: str,
    addressees: tuple[str, ...],
    withdrawn: str | None,
) -> None:
    if withdrawn is not None:
        raise ImpossibleEventError(
            f"answers {target!r}, which event {withdrawn!r} withdrew",
            event_id=event.id,
            hint="a withdrawn proposal cannot be answered; check the dates or ids",
        )
    if by == proposer:
        raise ImpossibleEventError(
            f"{by!r} answers its own proposal {target!r}",
            event_id=event.id,
            hint="only addressees answer; record a PositionStated instead",
        )
    if by not in addressees:
        raise ImpossibleEventError(
            f"{by!r} is not an addressee of {target!r} (addressees: "
            f"{', '.join(addressees)})",
            event_id=event.id,
            hint="add the party to the proposal's addressees, or record a "
            "PositionStated",
        )


def _answer(
    draft: StateDraft, event: Event, target: str, by: str, kind: ResponseKind
) -> None:
    """Record ``by``'s answer to a proposal or a proposed meeting."""
    response = Response(party=by, kind=kind, event=event.id)
    proposal = draft.proposals.get(target)
    if proposal is not None:
        _check_answer(
            event,
            target=target,
            by=by,
            proposer=proposal.proposer,
            addressees=proposal.addressees,
            withdrawn=proposal.withdrawn,
        )
        responses = _with_response(proposal.responses, response)
        draft.proposals[target] = attrs.evolve(
            proposal,
            responses=responses,
            status=proposal_status(
                proposal.addressees,
                responses,
                withdrawn=None,
                superseded_by=proposal.superseded_by,
            ),
        )
        return
    meeting = draft.meeting_proposals.get(target)
    if meeting is None:
        raise UnknownReferenceError(
            f"answers {target!r}, which is neither a proposal nor a proposed meeting "
            "in the log",
            event_id=event.id,
            hint="record the proposal first, or fix the id",
        )
    invited = tuple(p for p in meeting.participants if p != meeting.proposer)
    _check_answer(
        event,
        target=target,
        by=by,
        proposer=meeting.proposer,
        addressees=invited,
        withdrawn=meeting.withdrawn,
    )
    responses = _with_response(meeting.responses, response)
    status = (
        MeetingStatus.HELD
        if meeting.held is not None
        else meeting_status(meeting, responses)
    )
    draft.meeting_proposals[target] = attrs.evolve(
        meeting, responses=responses, status=status
    )


def proposal_made(draft: StateDraft, event: ProposalMade) -> None:
    """Open a proposal; mark what it counters or supersedes; the proposer backs it."""
    countered = None
    if event.counters is not None:
        countered = _find_proposal(draft, event, event.counters)
        _check_answer(
            event,
            target=countered.id,
            by=event.proposer,
            proposer=countered.proposer,
            addressees=countered.addressees,
            withdrawn=countered.withdrawn,
        )
    superseded = None
    if event.supersedes is not None:
        superseded = _find_proposal(draft, event, event.supersedes)
        if superseded.proposer != event.proposer:
            raise ImpossibleEventError(
                f"supersedes {superseded.id!r}, which {superseded.proposer!r} made, "
                f"not {event.proposer!r}",
                event_id=event.id,
                hint="a party can only supersede its own proposals; use counters=",
            )
        if superseded.superseded_by is not None or superseded.withdrawn is not None:
            raise ImpossibleEventError(
                f"supersedes {superseded.id!r}, which is already "
                f"{superseded.status.value}",
                event_id=event.id,
                hint="supersede the newest version of the proposal",
            )
    if countered is not None:
        responses = _with_response(
            countered.responses,
            Response(party=event.proposer, kind=ResponseKind.COUNTERED, event=event.id),
        )
        draft.proposals[countered.id] = attrs.evolve(
            countered,
            responses=responses,
            status=proposal_status(
                countered.addressees,
                responses,
                withdrawn=None,
                superseded_by=countered.superseded_by,
            ),
        )
    if superseded is not None:
        draft.proposals[superseded.id] = attrs.evolve(
            superseded, superseded_by=event.id, status=ProposalStatus.SUPERSEDED
        )
    draft.proposals[event.id] = Proposal(
        id=event.id,
        proposer=event.proposer,
        addressees=event.addressees,
        issue=event.issue,
        terms=event.terms,
        made=event.occurred,
        mediators=event.mediators,
        counters=event.counters,
    )
    draft.positions[event.proposer, event.issue] = Position(
        party=event.proposer,
        issue=event.issue,
        stance=Stance.SUPPORTS,
        terms=event.terms,
        text=event.terms.text,
        since=event.occurred,
        event=event.id,
        claimed_by=event.claimed_by,
    )


def proposal_accepted(draft: StateDraft, event: ProposalAccepted) -> None:
    """Record an acceptance; for a proposal, the acceptor now backs its terms."""
    _answer(draft, event, event.proposal, event.by, ResponseKind.ACCEPTED)
    proposal = draft.proposals.get(event.proposal)
    if proposal is not None:
        draft.positions[event.by, proposal.issue] = Position(
            party=event.by,
            issue=proposal.issue,
            stance=Stance.CONDITIONAL if event.conditions else Stance.SUPPORTS,
            terms=attrs.evolve(
                proposal.terms,
                conditions=(*proposal.terms.conditions, *event.conditions),
            )
            if event.conditions
            else proposal.terms,
            text=event.text or proposal.terms.text,
            since=event.occurred,
            event=event.id,
            basis=proposal.id,
            claimed_by=event.claimed_by,
        )


def proposal_rejected(draft: StateDraft, event: ProposalRejected) -> None:
    """Record a rejection (it does not set a position: see :class:`Position`)."""
    _answer(draft, event, event.proposal, event.by, ResponseKind.REJECTED)


def proposal_withdrawn(draft: StateDraft, event: ProposalWithdrawn) -> None:
    """The proposer withdraws a proposal or a proposed meeting."""
    proposal = draft.proposals.get(event.proposal)
    target = (
        proposal
        if proposal is not None
        else draft.meeting_proposals.get(event.proposal)
    )
    if target is None:
        raise UnknownReferenceError(
            f"withdraws {event.proposal!r}, which is neither a proposal nor a "
            "proposed meeting in the log",
            event_id=event.id,
            hint="record the proposal first, or fix the id",
        )
    if event.by != target.proposer:
        raise ImpossibleEventError(
            f"{event.by!r} withdraws {target.id!r}, which {target.proposer!r} made",
            event_id=event.id,
            hint="only the proposer can withdraw; an addressee rejects instead",
        )
    if target.withdrawn is not None:
        raise ImpossibleEventError(
            f"withdraws {target.id!r} a second time (first by {target.withdrawn!r})",
            event_id=event.id,
            hint="drop the repeated withdrawal",
        )
    if isinstance(target, Proposal):
        if target.status is ProposalStatus.ACCEPTED:
            raise ImpossibleEventError(
                f"withdraws {target.id!r}, which every addressee has accepted",
                event_id=event.id,
                hint="record the reversal as a new PositionStated or ProposalMade",
            )
        draft.proposals[target.id] = attrs.evolve(
            target, withdrawn=event.id, status=ProposalStatus.WITHDRAWN
        )
        return
    if target.held is not None:
        raise ImpossibleEventError(
            f"withdraws meeting {target.id!r}, which was held ({target.held!r})",
            event_id=event.id,
            hint="a meeting that took place cannot be withdrawn",
        )
    draft.meeting_proposals[target.id] = attrs.evolve(
        target, withdrawn=event.id, status=MeetingStatus.WITHDRAWN
    )


# -- positions, swaps, meetings, agreements, deadlines ---------------------------


def position_stated(draft: StateDraft, event: PositionStated) -> None:
    """The party's position on the issue becomes the stated one."""
    draft.positions[event.party, event.issue] = Position(
        party=event.party,
        issue=event.issue,
        stance=event.stance,
        terms=event.terms,
        text=event.text,
        since=event.occurred,
        event=event.id,
        claimed_by=event.claimed_by,
    )


def swap_completed(draft: StateDraft, event: SwapCompleted) -> None:
    """Add the swap and its releases to each releasing party's totals."""
    if event.agreement is not None and event.agreement not in draft.agreements:
        raise UnknownReferenceError(
            f"fulfils agreement {event.agreement!r}, which the log does not hold",
            event_id=event.id,
            hint="record the AgreementReached first, or fix the id",
        )
    draft.swaps.append(
        Swap(
            id=event.id,
            occurred=event.occurred,
            releases=event.releases,
            agreement=event.agreement,
            mediators=event.mediators,
            claimed_by=event.claimed_by,
        )
    )
    exchanges = draft.exchanges
    for release in event.releases:
        key = (release.by, release.category)
        total = exchanges.get(key)
        known = release.count or 0
        unknown = release.count is None
        if total is None:
            exchanges[key] = ExchangeTotal(
                party=release.by,
                category=release.category,
                count=known,
                releases=1,
                unreported=int(unknown),
            )
        else:
            exchanges[key] = ExchangeTotal(
                party=release.by,
                category=release.category,
                count=total.count + known,
                releases=total.releases + 1,
                unreported=total.unreported + unknown,
            )


def meeting_proposed(draft: StateDraft, event: MeetingProposed) -> None:
    """Open a proposed meeting."""
    draft.meeting_proposals[event.id] = MeetingProposal(
        id=event.id,
        proposer=event.proposer,
        participants=event.participants,
        level=event.level,
        place=event.place,
        window=event.window,
        agenda=event.agenda,
        proposed=event.occurred,
    )


def meeting_held(draft: StateDraft, event: MeetingHeld) -> None:
    """Record a meeting; a proposed meeting it fulfils becomes held."""
    proposed = None
    if event.proposal is not None:
        proposed = draft.meeting_proposals.get(event.proposal)
        if proposed is None:
            raise UnknownReferenceError(
                f"fulfils meeting proposal {event.proposal!r}, which the log does "
                "not hold",
                event_id=event.id,
                hint="record the MeetingProposed first, or fix the id",
            )
        if proposed.withdrawn is not None:
            raise ImpossibleEventError(
                f"fulfils {proposed.id!r}, which event {proposed.withdrawn!r} withdrew",
                event_id=event.id,
                hint="record the meeting without proposal=, or check the dates",
            )
        if proposed.held is not None:
            raise ImpossibleEventError(
                f"fulfils {proposed.id!r}, which event {proposed.held!r} already did",
                event_id=event.id,
                hint="a proposed meeting is held once; drop proposal= from one of them",
            )
    if proposed is not None:
        draft.meeting_proposals[proposed.id] = attrs.evolve(
            proposed, held=event.id, status=MeetingStatus.HELD
        )
    draft.meetings[event.id] = Meeting(
        id=event.id,
        occurred=event.occurred,
        participants=event.participants,
        level=event.level,
        place=event.place,
        medium=event.medium,
        mediators=event.mediators,
        duration_minutes=event.duration_minutes,
        agenda=event.agenda,
        outcome=event.outcome,
        proposal=event.proposal,
    )


def agreement_reached(draft: StateDraft, event: AgreementReached) -> None:
    """Record an agreement, checking the proposal and meeting it names."""
    if (
        event.proposal is not None
        and event.proposal not in draft.proposals
        and event.proposal not in draft.meeting_proposals
    ):
        raise UnknownReferenceError(
            f"rests on proposal {event.proposal!r}, which the log does not hold",
            event_id=event.id,
            hint="record the proposal first, or fix the id",
        )
    if event.meeting is not None and event.meeting not in draft.meetings:
        raise UnknownReferenceError(
            f"was reached at meeting {event.meeting!r}, which the log does not hold",
            event_id=event.id,
            hint="record the MeetingHeld first, or fix the id",
        )
    draft.agreements[event.id] = Agreement(
        id=event.id,
        parties=event.parties,
        issue=event.issue,
        terms=event.terms,
        reached=event.occurred,
        mediators=event.mediators,
        proposal=event.proposal,
        meeting=event.meeting,
    )


def deadline_set(draft: StateDraft, event: DeadlineSet) -> None:
    """Start a deadline; one it replaces stops running."""
    if event.replaces is not None:
        old = draft.deadlines.get(event.replaces)
        if old is None:
            raise UnknownReferenceError(
                f"replaces deadline {event.replaces!r}, which the log does not hold",
                event_id=event.id,
                hint="record the first DeadlineSet, or fix the id",
            )
        if old.by != event.by:
            raise ImpossibleEventError(
                f"replaces {old.id!r}, which {old.by!r} set, not {event.by!r}",
                event_id=event.id,
                hint="only the party that set a deadline can move it",
            )
        if old.replaced_by is not None:
            raise ImpossibleEventError(
                f"replaces {old.id!r}, which {old.replaced_by!r} replaced already",
                event_id=event.id,
                hint="replace the newest deadline",
            )
        draft.deadlines[old.id] = attrs.evolve(
            old, replaced_by=event.id, status=DeadlineStatus.REPLACED
        )
    draft.deadlines[event.id] = Deadline(
        id=event.id,
        by=event.by,
        against=event.against,
        demand=event.demand,
        consequence=event.consequence,
        set_on=event.occurred,
        expires=event.expires,
    )


def figure_reported(draft: StateDraft, event: FigureReported) -> None:
    """Add the claimant's figure; it replaces only that claimant's earlier one."""
    claimant = event.claimed_by
    assert claimant is not None  # noqa: S101 - FigureReported requires a claimant
    figure = draft.figures.get(event.subject)
    claim = Claim(
        claimant=claimant, value=event.value, event=event.id, occurred=event.occurred
    )
    if figure is None:
        draft.figures[event.subject] = Figure(
            subject=event.subject, unit=event.unit, claims=(claim,)
        )
        return
    if figure.unit != event.unit:
        raise ImpossibleEventError(
            f"counts {event.subject!r} in {event.unit!r}, but earlier figures count "
            f"it in {figure.unit!r}",
            event_id=event.id,
            hint="use one unit per subject, or another subject",
        )
    kept = tuple(c for c in figure.claims if c.claimant != claimant)
    draft.figures[event.subject] = attrs.evolve(figure, claims=(*kept, claim))


BUILTIN_EVENTS = (
    EventRegistry()
    .with_event(PositionStated, position_stated)
    .with_event(ProposalMade, proposal_made)
    .with_event(ProposalAccepted, proposal_accepted)
    .with_event(ProposalRejected, proposal_rejected)
    .with_event(ProposalWithdrawn, proposal_withdrawn)
    .with_event(SwapCompleted, swap_completed)
    .with_event(MeetingProposed, meeting_proposed)
    .with_event(MeetingHeld, meeting_held)
    .with_event(AgreementReached, agreement_reached)
    .with_event(DeadlineSet, deadline_set)
    .with_event(FigureReported, figure_reported)
)
"""The registry of the built-in event types; extend it with ``with_event``."""


# -- the fold -----------------------------------------------------------------------


def apply_events(
    draft: StateDraft, events: Iterable[Event], registry: EventRegistry
) -> None:
    """Apply ``events`` to ``draft`` in the order given.

    An event whose id the draft holds already is skipped when it is identical (a
    report recorded twice) and refused with DuplicateEventError when it differs.
    """
    reducers = registry.reducers
    seen = draft.events
    for event in events:
        previous = seen.get(event.id)
        if previous is not None:
            if previous == event:
                continue
            raise DuplicateEventError(
                "recorded twice with different content",
                where=locate(event_id=event.id),
                hint="give the new event another id, or record an EventCorrected",
            )
        reducer = reducers.get(type(event))
        if reducer is None:
            raise RegistryError(
                f"no reducer for event type {type(event).__name__}",
                where=locate(event_id=event.id),
                hint="register the type with EventRegistry.with_event",
            )
        reducer(draft, event)
        seen[event.id] = event


def fold(
    events: Iterable[Event],
    *,
    start: NegotiationState | None = None,
    as_of: date | None = None,
    reading: Reading = Reading.SURELY,
    registry: EventRegistry = BUILTIN_EVENTS,
) -> NegotiationState:
    """Fold ``events``, in the order given, into a state (onto ``start`` if given).

    ``fold(b, start=fold(a))`` equals ``fold([*a, *b])``.  To get the state on a day
    from events in any order, use :func:`negstate.state_at`, which puts them in
    valid-time order first.
    """
    draft = StateDraft() if start is None else start.thaw()
    apply_events(draft, events, registry)
    return draft.freeze(as_of=as_of, reading=reading)
