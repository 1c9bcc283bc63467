"""One plain function per built-in event type, the dispatch table and ``fold``.

A reducer checks that its event can happen in the state it meets and raises a
:class:`~negstate.errors.FoldError` naming the event when it cannot; only then does
it write to the draft.  :func:`fold` looks each event's reducer up in a registry's
table: one dictionary lookup per event, no ``isinstance`` chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from negstate._gc import paused_gc
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
from negstate.registry import EventRegistry
from negstate.revisions import correct, merge, retract
from negstate.state import (
    _ACCEPTED,
    _COUNTERED,
    _REJECTED,
    Answer,
    NegotiationState,
    ProposalStatus,
    Reading,
    StateDraft,
    answers_status,
    set_position,
)

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


_NO_RELEASES = (0, 0, 0)

# -- proposals ------------------------------------------------------------------------


def _with_answer(answers: tuple[Answer, ...], answer: Answer) -> tuple[Answer, ...]:
    """The party's answer replaces its earlier one, but a counter keeps a rejection.

    Countering and rejecting give a rejection in either order, so reports of both
    never depend on which one is dated first.
    """
    party = answer[0]
    for index, earlier in enumerate(answers):
        if earlier[0] == party:
            if earlier[1] == _REJECTED and answer[1] == _COUNTERED:
                return answers
            return (*answers[:index], *answers[index + 1 :], answer)
    return (*answers, answer)


def _unknown(event: Event, target: str, what: str) -> UnknownReferenceError:
    return UnknownReferenceError(
        f"refers to {what} {target!r}, which the log does not hold",
        event_id=event.id,
        hint="record it first, or fix the id",
    )


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
    draft: StateDraft, event: Event, target: str, by: str, kind: str
) -> ProposalMade | None:
    """Record ``by``'s answer to a proposal or a proposed meeting.

    Returns the proposal's event when the target is a proposal.
    """
    answer = (by, kind, event.id)
    entry = draft.proposals.get(target)
    table = draft.proposals
    if entry is None:
        entry = draft.meeting_proposals.get(target)
        table = draft.meeting_proposals
        if entry is None:
            raise UnknownReferenceError(
                f"answers {target!r}, which is neither a proposal nor a proposed "
                "meeting in the log",
                event_id=event.id,
                hint="record the proposal first, or fix the id",
            )
    proposal, answers, withdrawn, last = entry
    if (
        withdrawn is not None
        or by == proposal.proposer
        or by not in proposal.addressees
    ):
        _check_answer(
            event,
            target=target,
            by=by,
            proposer=proposal.proposer,
            addressees=proposal.addressees,
            withdrawn=withdrawn,
        )
    table[target] = (proposal, _with_answer(answers, answer), withdrawn, last)
    return proposal if table is draft.proposals else None


def _countered(draft: StateDraft, event: ProposalMade, target: str) -> Any:  # noqa: ANN401
    """The entry of the proposal ``event`` counters, checked like an answer."""
    countered = draft.proposals.get(target)
    if countered is None:
        raise _unknown(event, target, "proposal")
    _check_answer(
        event,
        target=target,
        by=event.proposer,
        proposer=countered[0].proposer,
        addressees=countered[0].addressees,
        withdrawn=countered[2],
    )
    return countered


def _superseded(draft: StateDraft, event: ProposalMade, target: str) -> Any:  # noqa: ANN401
    """The entry of the proposal ``event`` supersedes: the proposer's, still live."""
    superseded = draft.proposals.get(target)
    if superseded is None:
        raise _unknown(event, target, "proposal")
    if superseded[0].proposer != event.proposer:
        raise ImpossibleEventError(
            f"supersedes {target!r}, which {superseded[0].proposer!r} made, not "
            f"{event.proposer!r}",
            event_id=event.id,
            hint="a party can only supersede its own proposals; use counters=",
        )
    if superseded[2] is not None or superseded[3] is not None:
        state = "withdrawn" if superseded[2] is not None else "superseded"
        raise ImpossibleEventError(
            f"supersedes {target!r}, which is already {state}",
            event_id=event.id,
            hint="supersede the newest version of the proposal",
        )
    return superseded


def proposal_made(draft: StateDraft, event: ProposalMade) -> None:
    """Open a proposal; mark what it counters or supersedes; the proposer backs it."""
    proposals = draft.proposals
    if event.counters is not None or event.supersedes is not None:
        countered = superseded = None
        if event.counters is not None:
            countered = _countered(draft, event, event.counters)
        if event.supersedes is not None:
            superseded = _superseded(draft, event, event.supersedes)
        if countered is not None:
            proposal, answers, withdrawn, superseded_by = countered
            proposals[proposal.id] = (
                proposal,
                _with_answer(answers, (event.proposer, _COUNTERED, event.id)),
                withdrawn,
                superseded_by,
            )
        if superseded is not None:
            proposal, answers, withdrawn, _ = superseded
            proposals[proposal.id] = (proposal, answers, withdrawn, event.id)
    proposals[event.id] = (event, (), None, None)
    if event.claimed_by is None:
        draft.positions[event.proposer, event.issue] = (event, ())
    else:
        set_position(draft, event, event.proposer, event.issue, event.claimed_by)


def proposal_accepted(draft: StateDraft, event: ProposalAccepted) -> None:
    """Record an acceptance; for a proposal, the acceptor now backs its terms."""
    proposal = _answer(draft, event, event.proposal, event.by, _ACCEPTED)
    if proposal is not None:
        if event.claimed_by is None:
            draft.positions[event.by, proposal.issue] = (event, ())
        else:
            set_position(draft, event, event.by, proposal.issue, event.claimed_by)


def proposal_rejected(draft: StateDraft, event: ProposalRejected) -> None:
    """Record a rejection (it does not set a position: see :class:`Position`)."""
    _answer(draft, event, event.proposal, event.by, _REJECTED)


def proposal_withdrawn(draft: StateDraft, event: ProposalWithdrawn) -> None:
    """The proposer withdraws a proposal or a proposed meeting."""
    table = draft.proposals
    entry = table.get(event.proposal)
    if entry is None:
        table = draft.meeting_proposals
        entry = table.get(event.proposal)
    if entry is None:
        raise UnknownReferenceError(
            f"withdraws {event.proposal!r}, which is neither a proposal nor a "
            "proposed meeting in the log",
            event_id=event.id,
            hint="record the proposal first, or fix the id",
        )
    target, answers, withdrawn, last = entry
    if event.by != target.proposer:
        raise ImpossibleEventError(
            f"{event.by!r} withdraws {target.id!r}, which {target.proposer!r} made",
            event_id=event.id,
            hint="only the proposer can withdraw; an addressee rejects instead",
        )
    if withdrawn is not None:
        raise ImpossibleEventError(
            f"withdraws {target.id!r} a second time (first by {withdrawn!r})",
            event_id=event.id,
            hint="drop the repeated withdrawal",
        )
    if table is draft.proposals:
        if (
            answers_status(
                target.addressees, answers, withdrawn=None, superseded_by=last
            )
            is ProposalStatus.ACCEPTED
        ):
            raise ImpossibleEventError(
                f"withdraws {target.id!r}, which every addressee has accepted",
                event_id=event.id,
                hint="record the reversal as a new PositionStated or ProposalMade",
            )
    elif last is not None:
        raise ImpossibleEventError(
            f"withdraws meeting {target.id!r}, which was held ({last!r})",
            event_id=event.id,
            hint="a meeting that took place cannot be withdrawn",
        )
    table[target.id] = (target, answers, event.id, last)


# -- positions, swaps, meetings, agreements, deadlines ---------------------------


def position_stated(draft: StateDraft, event: PositionStated) -> None:
    """The party's position on the issue becomes the stated one."""
    if event.claimed_by is None:
        draft.positions[event.party, event.issue] = (event, ())
    else:
        set_position(draft, event, event.party, event.issue, event.claimed_by)


def swap_completed(draft: StateDraft, event: SwapCompleted) -> None:
    """Add the swap and its releases to each releasing party's totals."""
    if event.agreement is not None and event.agreement not in draft.agreements:
        raise UnknownReferenceError(
            f"fulfils agreement {event.agreement!r}, which the log does not hold",
            event_id=event.id,
            hint="record the AgreementReached first, or fix the id",
        )
    draft.swaps.append(event)
    exchanges = draft.exchanges
    for release in event.releases:
        key = (release.by, release.category)
        count = release.count
        total = exchanges.get(key, _NO_RELEASES)
        if count is None:
            exchanges[key] = (total[0], total[1] + 1, total[2] + 1)
        else:
            exchanges[key] = (total[0] + count, total[1] + 1, total[2])


def meeting_proposed(draft: StateDraft, event: MeetingProposed) -> None:
    """Open a proposed meeting."""
    draft.meeting_proposals[event.id] = (event, (), None, None)


def meeting_held(draft: StateDraft, event: MeetingHeld) -> None:
    """Record a meeting; a proposed meeting it fulfils becomes held."""
    if event.proposal is not None:
        entry = draft.meeting_proposals.get(event.proposal)
        if entry is None:
            raise UnknownReferenceError(
                f"fulfils meeting proposal {event.proposal!r}, which the log does "
                "not hold",
                event_id=event.id,
                hint="record the MeetingProposed first, or fix the id",
            )
        proposed, answers, withdrawn, held = entry
        if withdrawn is not None:
            raise ImpossibleEventError(
                f"fulfils {proposed.id!r}, which event {withdrawn!r} withdrew",
                event_id=event.id,
                hint="record the meeting without proposal=, or check the dates",
            )
        if held is not None:
            raise ImpossibleEventError(
                f"fulfils {proposed.id!r}, which event {held!r} already did",
                event_id=event.id,
                hint="a proposed meeting is held once; drop proposal= from one of them",
            )
        draft.meeting_proposals[proposed.id] = (proposed, answers, None, event.id)
    draft.meetings[event.id] = event


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
    draft.agreements[event.id] = event


def deadline_set(draft: StateDraft, event: DeadlineSet) -> None:
    """Start a deadline; one it replaces stops running."""
    if event.replaces is not None:
        entry = draft.deadlines.get(event.replaces)
        if entry is None:
            raise UnknownReferenceError(
                f"replaces deadline {event.replaces!r}, which the log does not hold",
                event_id=event.id,
                hint="record the first DeadlineSet, or fix the id",
            )
        old, replaced_by = entry
        if old.by != event.by:
            raise ImpossibleEventError(
                f"replaces {old.id!r}, which {old.by!r} set, not {event.by!r}",
                event_id=event.id,
                hint="only the party that set a deadline can move it",
            )
        if replaced_by is not None:
            raise ImpossibleEventError(
                f"replaces {old.id!r}, which {replaced_by!r} replaced already",
                event_id=event.id,
                hint="replace the newest deadline",
            )
        draft.deadlines[old.id] = (old, event.id)
    draft.deadlines[event.id] = (event, None)


def figure_reported(draft: StateDraft, event: FigureReported) -> None:
    """Add the claimant's figure; it replaces only that claimant's earlier one."""
    claimant = event.claimed_by
    entry = draft.figures.get(event.subject)
    if entry is None:
        draft.figures[event.subject] = (event.unit, ((claimant, event),))
        return
    unit, claims = entry
    if unit != event.unit:
        raise ImpossibleEventError(
            f"counts {event.subject!r} in {event.unit!r}, but earlier figures count "
            f"it in {unit!r}",
            event_id=event.id,
            hint="use one unit per subject, or another subject",
        )
    kept = tuple(claim for claim in claims if claim[0] != claimant)
    draft.figures[event.subject] = (unit, (*kept, (claimant, event)))


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
    .with_revision(EventCorrected, correct)
    .with_revision(EventRetracted, retract)
    .with_revision(EventsMerged, merge)
)
"""The registry of the built-in event types; extend it with ``with_event``."""


# -- the fold -----------------------------------------------------------------------


def apply_events(
    draft: StateDraft,
    events: Iterable[Event],
    registry: EventRegistry,
    *,
    applied: Callable[[Event], None] | None = None,
    unique: bool = False,
) -> None:
    """Apply ``events`` to ``draft`` in the order given.

    An event whose id the draft holds already is skipped when it is identical (a
    report recorded twice) and refused with DuplicateEventError when it differs.
    ``applied`` is called after each event that changed the draft.  With
    ``unique`` (a timeline's events, whose ids are known to differ) the draft does
    not keep its own map of events by id: the caller provides one.
    """
    if unique:
        _apply_unique(draft, events, registry, applied)
        return
    seen = draft.events
    already = seen.get
    reducer_of = dict(registry.reducers).get
    with paused_gc():
        for event in events:
            event_id = event.id
            previous = already(event_id)
            if previous is not None:
                if previous == event:
                    continue
                raise DuplicateEventError(
                    "recorded twice with different content",
                    where=locate(event_id=event_id),
                    hint="give the new event another id, or record an EventCorrected",
                )
            reducer = reducer_of(event.__class__)
            if reducer is None:
                raise _unfoldable(event, registry)
            reducer(draft, event)
            seen[event_id] = event
            if applied is not None:
                applied(event)


def _apply_unique(
    draft: StateDraft,
    events: Iterable[Event],
    registry: EventRegistry,
    applied: Callable[[Event], None] | None,
) -> None:
    reducer_of = dict(registry.reducers).get
    with paused_gc():
        for event in events:
            reducer = reducer_of(event.__class__)
            if reducer is None:
                raise _unfoldable(event, registry)
            reducer(draft, event)
            if applied is not None:
                applied(event)


def _unfoldable(event: Event, registry: EventRegistry) -> RegistryError:
    kind = type(event)
    if kind in registry.revisers:
        return RegistryError(
            f"{kind.__name__} is a revision: replay applies it",
            where=locate(event_id=event.id),
            hint="pass it to state_at or a log, not to fold",
        )
    return RegistryError(
        f"no reducer for event type {kind.__name__}",
        where=locate(event_id=event.id),
        hint="register the type with EventRegistry.with_event",
    )


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
    return draft.freeze(as_of=as_of, reading=Reading(reading))
