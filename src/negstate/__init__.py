"""negstate: the state of a negotiation as an append-only log of typed events.

Record what happens as sourced events, fold them into each party's positions,
proposals, exchanges, meetings, agreements and deadlines, replay the state to any
day, diff two days and trace every piece of state to the reports behind it.
"""

from __future__ import annotations

from typing import Any

from negstate.dates import FuzzyDate
from negstate.diff import Change, ChangeKind, Diff, diff
from negstate.errors import (
    ConcurrencyError,
    DateConflictError,
    DuplicateEventError,
    FoldError,
    FuzzyDateError,
    ImpossibleEventError,
    IndexChangedError,
    IndexDroppedWarning,
    IndexUnreadableError,
    IntegrityError,
    InvalidEventError,
    LogFormatError,
    LogLockedError,
    NegstateError,
    NegstateWarning,
    RegistryError,
    TornTailWarning,
    UnknownReferenceError,
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
    reference,
)
from negstate.explain import Explanation, explain
from negstate.log import EventLog, VerifyReport, open_log, verify_log
from negstate.records import Record
from negstate.reducers import BUILTIN_EVENTS, fold
from negstate.registry import EventRegistry
from negstate.replay import Timeline, build_timeline, state_at
from negstate.serialization import (
    SCHEMA_VERSION,
    configure_converter,
    make_converter,
)
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
)
from negstate.values import Quantity, Release, Source, Stance, Terms

__all__ = [
    "BUILTIN_EVENTS",
    "SCHEMA_VERSION",
    "Agreement",
    "AgreementReached",
    "Change",
    "ChangeKind",
    "Claim",
    "ConcurrencyError",
    "DateConflictError",
    "Deadline",
    "DeadlineSet",
    "DeadlineStatus",
    "Diff",
    "DuplicateEventError",
    "Event",
    "EventCorrected",
    "EventLog",
    "EventRegistry",
    "EventRetracted",
    "EventsMerged",
    "ExchangeTotal",
    "Explanation",
    "Figure",
    "FigureReported",
    "FoldError",
    "FuzzyDate",
    "FuzzyDateError",
    "ImpossibleEventError",
    "IndexChangedError",
    "IndexDroppedWarning",
    "IndexUnreadableError",
    "IntegrityError",
    "InvalidEventError",
    "LogFormatError",
    "LogLockedError",
    "Meeting",
    "MeetingHeld",
    "MeetingProposal",
    "MeetingProposed",
    "MeetingStatus",
    "NegotiationState",
    "NegstateError",
    "NegstateWarning",
    "Position",
    "PositionStated",
    "Proposal",
    "ProposalAccepted",
    "ProposalMade",
    "ProposalRejected",
    "ProposalStatus",
    "ProposalWithdrawn",
    "Quantity",
    "Reading",
    "Record",
    "RegistryError",
    "Release",
    "Response",
    "ResponseKind",
    "Source",
    "Stance",
    "StateDraft",
    "Swap",
    "SwapCompleted",
    "Terms",
    "Timeline",
    "TornTailWarning",
    "UnknownReferenceError",
    "VerifyReport",
    "build_timeline",
    "configure_converter",
    "diff",
    "explain",
    "fold",
    "make_converter",
    "open_log",
    "reference",
    "state_at",
    "verify_log",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - module attributes are any type
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415

        return version("negstate")
    raise AttributeError(f"module 'negstate' has no attribute {name!r}")
