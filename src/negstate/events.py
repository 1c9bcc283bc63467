"""The typed events an analyst records: what was proposed, answered, swapped, met.

Every event is a frozen, keyword-only attrs class that shares the envelope of
:class:`Event`: a unique ``id``, when it ``occurred`` (a :class:`FuzzyDate`), the
``sources`` that report it, an optional ``note`` and, when the event is one side's
word rather than an established fact, who ``claimed_by``.  Fields are checked when
an event is built, so a bad event never reaches a log.

A field made with :func:`reference` holds the id of another event (the proposal a
rejection answers, the agreement a swap fulfils).  Replay always folds an event
after the events it refers to, and infers that a referred event happened no later
than the events that refer to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, ClassVar, Final

import attrs

from negstate._checks import (
    check_identifier,
    identifier,
    identifiers,
    invalid,
    non_empty,
    optional_identifier,
    optional_text,
    text,
    to_tuple,
)
from negstate.dates import FuzzyDate
from negstate.errors import InvalidEventError
from negstate.values import Quantity, Release, Source, Stance, Terms

__all__ = [
    "REFERENCE",
    "REVISION_TYPES",
    "AgreementReached",
    "DeadlineSet",
    "Event",
    "EventCorrected",
    "EventRetracted",
    "EventsMerged",
    "FigureReported",
    "MeetingHeld",
    "MeetingProposed",
    "PositionStated",
    "ProposalAccepted",
    "ProposalMade",
    "ProposalRejected",
    "ProposalWithdrawn",
    "SwapCompleted",
    "reference",
    "reference_fields",
    "to_fuzzy_date",
]

REFERENCE: Final = "negstate.reference"
"""Key in an attrs field's metadata that marks the field as an event reference."""


def reference(*, optional: bool = True) -> Any:  # noqa: ANN401 - attrs.field's own type
    """Declare a field that holds the id of another event.

    Replay uses these fields to fold an event after what it refers to; the fold
    raises :class:`~negstate.errors.UnknownReferenceError` when the id is unknown.
    """
    if optional:
        return attrs.field(
            default=None, validator=optional_identifier, metadata={REFERENCE: True}
        )
    return attrs.field(validator=identifier, metadata={REFERENCE: True})


_REFERENCE_FIELDS: dict[type, tuple[str, ...]] = {}


def reference_fields(event_type: type[Event]) -> tuple[str, ...]:
    """The names of ``event_type``'s fields declared with :func:`reference`."""
    found = _REFERENCE_FIELDS.get(event_type)
    if found is None:
        found = _REFERENCE_FIELDS[event_type] = tuple(
            field.name
            for field in attrs.fields(event_type)
            if field.metadata.get(REFERENCE, False)
        )
    return found


def to_fuzzy_date(value: FuzzyDate | date | str) -> FuzzyDate:
    """Accept a FuzzyDate, an exact ``datetime.date`` or text (``late May 2025``)."""
    if isinstance(value, FuzzyDate):
        return value
    if isinstance(value, str):
        return FuzzyDate.parse(value)
    if type(value) is date:
        return FuzzyDate(value, value)
    raise InvalidEventError(
        f"cannot use {value!r} as a date",
        field="occurred",
        hint="pass a FuzzyDate, a datetime.date or text such as 2025-05-16",
    )


def _to_stance(value: Stance | str) -> Stance:
    try:
        return Stance(value)
    except ValueError:
        raise InvalidEventError(
            f"{value!r} is not a stance",
            field="stance",
            hint=f"use one of {', '.join(s.value for s in Stance)}",
        ) from None


def _optional_fuzzy_date(value: FuzzyDate | date | str | None) -> FuzzyDate | None:
    return None if value is None else to_fuzzy_date(value)


def _to_sources(value: Source | Iterable[Source]) -> tuple[Source, ...]:
    if isinstance(value, Source):
        return (value,)
    return tuple(value)


def _check_sources(
    instance: Event, attribute: attrs.Attribute[tuple[Source, ...]], value: object
) -> None:
    if not isinstance(value, tuple) or not value:
        raise invalid(
            instance,
            attribute.name,
            "an event needs at least one source",
            "cite the report it comes from (outlet, title, date)",
        )
    for index, source in enumerate(value):
        if not isinstance(source, Source):
            raise invalid(
                instance,
                f"{attribute.name}[{index}]",
                f"expected a Source, got {type(source).__name__}",
                "build it with negstate.Source(title=..., outlet=...)",
            )


def _check_date(
    instance: Event, attribute: attrs.Attribute[FuzzyDate], value: object
) -> None:
    if not isinstance(value, FuzzyDate):
        raise invalid(
            instance, attribute.name, f"expected a FuzzyDate, got {value!r}", "fix it"
        )


def _instance_of(kind: type) -> Any:  # noqa: ANN401 - an attrs validator
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise invalid(
                instance,
                attribute.name,
                f"expected {kind.__name__}, got {type(value).__name__}",
                f"pass a {kind.__name__}",
            )

    return check


def _optional_instance_of(kind: type) -> Any:  # noqa: ANN401 - an attrs validator
    check = _instance_of(kind)

    def check_optional(
        instance: object, attribute: attrs.Attribute[Any], value: object
    ) -> None:
        if value is not None:
            check(instance, attribute, value)

    return check_optional


def _subject(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    """A figure's subject: identifiers joined by ``/`` (``children/deported``)."""
    if not isinstance(value, str) or not value:
        raise invalid(
            instance, attribute.name, "needs a subject", "name what is counted"
        )
    for part in value.split("/"):
        check_identifier(part, field=attribute.name, owner=instance)


def _parties(*, empty: bool = False) -> Any:  # noqa: ANN401 - attrs.field's own type
    validators: list[Any] = [identifiers] if empty else [identifiers, non_empty]
    return attrs.field(
        default=() if empty else attrs.NOTHING,
        converter=to_tuple,
        validator=validators,
    )


@attrs.frozen(kw_only=True)
class Event:
    """The envelope every event shares; subclass it (frozen, kw_only) for a new type.

    ``id`` is unique in a log; ``occurred`` is when it happened as precisely as known;
    ``sources`` are the reports it rests on (at least one); ``claimed_by`` names the
    party, mediator or outlet whose word it is when it is a claim, not a fact.
    """

    id: str = attrs.field(validator=identifier)
    occurred: FuzzyDate = attrs.field(converter=to_fuzzy_date, validator=_check_date)
    sources: tuple[Source, ...] = attrs.field(
        converter=_to_sources, validator=_check_sources
    )
    note: str = attrs.field(default="", validator=text)
    claimed_by: str | None = attrs.field(default=None, validator=optional_identifier)

    actor_fields: ClassVar[tuple[str, ...]] = ()
    """Names of the fields that hold the parties and actors involved."""

    @property
    def actors(self) -> tuple[str, ...]:
        """The parties, mediators and other actors this event involves, in order."""
        found: dict[str, None] = {}
        for name in self.actor_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                found[value] = None
            elif isinstance(value, tuple):
                found.update(dict.fromkeys(value))
        return tuple(found)

    @property
    def references(self) -> tuple[str, ...]:
        """The ids of the events this event refers to."""
        found: list[str] = []
        for name in reference_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, tuple):
                found.extend(value)
        return tuple(found)


@attrs.frozen(kw_only=True)
class PositionStated(Event):
    """A party says where it stands on an issue: a stance, terms and its own words."""

    party: str = attrs.field(validator=identifier)
    issue: str = attrs.field(validator=identifier)
    stance: Stance = attrs.field(converter=_to_stance)
    terms: Terms = attrs.field(factory=Terms, validator=_instance_of(Terms))
    text: str = attrs.field(default="", validator=text)

    actor_fields: ClassVar[tuple[str, ...]] = ("party",)


@attrs.frozen(kw_only=True)
class ProposalMade(Event):
    """A party puts terms on an issue to one or more addressees.

    ``counters`` is the proposal this one answers (its proposer must be an addressee
    of that one); ``supersedes`` is the proposer's own earlier proposal it replaces.
    """

    proposer: str = attrs.field(validator=identifier)
    addressees: tuple[str, ...] = _parties()
    issue: str = attrs.field(validator=identifier)
    terms: Terms = attrs.field(factory=Terms, validator=_instance_of(Terms))
    mediators: tuple[str, ...] = _parties(empty=True)
    counters: str | None = reference()
    supersedes: str | None = reference()

    actor_fields: ClassVar[tuple[str, ...]] = ("proposer", "addressees", "mediators")

    def __attrs_post_init__(self) -> None:
        if self.proposer in self.addressees:
            raise invalid(
                self,
                "addressees",
                f"the proposer {self.proposer!r} cannot address its own proposal",
                "list only the parties asked to answer",
            )
        for name in ("counters", "supersedes"):
            if getattr(self, name) == self.id:
                raise invalid(self, name, "refers to itself", "name another proposal")


@attrs.frozen(kw_only=True)
class ProposalAccepted(Event):
    """An addressee accepts a proposal (or a proposed meeting)."""

    proposal: str = reference(optional=False)
    by: str = attrs.field(validator=identifier)
    conditions: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    text: str = attrs.field(default="", validator=text)

    actor_fields: ClassVar[tuple[str, ...]] = ("by",)


@attrs.frozen(kw_only=True)
class ProposalRejected(Event):
    """An addressee rejects a proposal (or a proposed meeting), with its reason."""

    proposal: str = reference(optional=False)
    by: str = attrs.field(validator=identifier)
    reason: str = attrs.field(default="", validator=text)

    actor_fields: ClassVar[tuple[str, ...]] = ("by",)


@attrs.frozen(kw_only=True)
class ProposalWithdrawn(Event):
    """The proposer takes a proposal (or a proposed meeting) off the table."""

    proposal: str = reference(optional=False)
    by: str = attrs.field(validator=identifier)
    reason: str = attrs.field(default="", validator=text)

    actor_fields: ClassVar[tuple[str, ...]] = ("by",)


def _check_releases(
    instance: SwapCompleted,
    attribute: attrs.Attribute[tuple[Release, ...]],
    value: object,
) -> None:
    if not isinstance(value, tuple) or not value:
        raise invalid(
            instance,
            attribute.name,
            "a swap needs at least one release",
            "say who released how many of which category",
        )
    for index, release in enumerate(value):
        if not isinstance(release, Release):
            raise invalid(
                instance,
                f"{attribute.name}[{index}]",
                f"expected a Release, got {type(release).__name__}",
                "build it with negstate.Release(by=..., category=..., count=...)",
            )


def _to_releases(value: Iterable[Release]) -> tuple[Release, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class SwapCompleted(Event):
    """An exchange took place: who released how many of which category.

    ``agreement`` is the agreement it fulfils, if any.
    """

    releases: tuple[Release, ...] = attrs.field(
        converter=_to_releases, validator=_check_releases
    )
    agreement: str | None = reference()
    mediators: tuple[str, ...] = _parties(empty=True)

    @property
    def actors(self) -> tuple[str, ...]:
        """Releasing and receiving parties, then mediators."""
        found: dict[str, None] = {}
        for release in self.releases:
            found[release.by] = None
            if release.to is not None:
                found[release.to] = None
        found.update(dict.fromkeys(self.mediators))
        return tuple(found)


@attrs.frozen(kw_only=True)
class MeetingProposed(Event):
    """A party proposes that some parties meet: at what level, where and when.

    The participants other than the proposer are the ones asked to answer, with
    :class:`ProposalAccepted`, :class:`ProposalRejected` or, by the proposer,
    :class:`ProposalWithdrawn`.
    """

    proposer: str = attrs.field(validator=identifier)
    participants: tuple[str, ...] = _parties()
    level: str = attrs.field(validator=identifier)
    place: str | None = attrs.field(default=None, validator=optional_text)
    window: FuzzyDate | None = attrs.field(
        default=None,
        converter=_optional_fuzzy_date,
        validator=_optional_instance_of(FuzzyDate),
    )
    agenda: tuple[str, ...] = _parties(empty=True)

    actor_fields: ClassVar[tuple[str, ...]] = ("proposer", "participants")

    @property
    def addressees(self) -> tuple[str, ...]:
        """The participants asked to answer: everyone but the proposer."""
        return tuple(party for party in self.participants if party != self.proposer)

    def __attrs_post_init__(self) -> None:
        if not self.addressees:
            raise invalid(
                self,
                "participants",
                "a meeting needs a participant other than the proposer",
                "list the parties invited",
            )


@attrs.frozen(kw_only=True)
class MeetingHeld(Event):
    """A meeting or call took place: who, where, how long, with whom mediating.

    ``proposal`` is the :class:`MeetingProposed` it fulfils, if any.
    """

    participants: tuple[str, ...] = _parties()
    level: str = attrs.field(validator=identifier)
    place: str | None = attrs.field(default=None, validator=optional_text)
    medium: str = attrs.field(default="in_person", validator=identifier)
    mediators: tuple[str, ...] = _parties(empty=True)
    duration_minutes: Quantity | None = attrs.field(
        default=None, validator=_optional_instance_of(Quantity)
    )
    agenda: tuple[str, ...] = _parties(empty=True)
    outcome: str = attrs.field(default="", validator=text)
    proposal: str | None = reference()

    actor_fields: ClassVar[tuple[str, ...]] = ("participants", "mediators")


@attrs.frozen(kw_only=True)
class AgreementReached(Event):
    """Parties agree on terms for an issue, perhaps on a proposal or at a meeting."""

    parties: tuple[str, ...] = _parties()
    issue: str = attrs.field(validator=identifier)
    terms: Terms = attrs.field(factory=Terms, validator=_instance_of(Terms))
    mediators: tuple[str, ...] = _parties(empty=True)
    proposal: str | None = reference()
    meeting: str | None = reference()

    actor_fields: ClassVar[tuple[str, ...]] = ("parties", "mediators")

    def __attrs_post_init__(self) -> None:
        if len(self.parties) < 2:  # noqa: PLR2004
            raise invalid(
                self,
                "parties",
                "an agreement needs at least two parties",
                "list every party that agreed",
            )


@attrs.frozen(kw_only=True)
class DeadlineSet(Event):
    """A party gives others until ``expires`` to meet a demand, or else.

    ``replaces`` is an earlier deadline this one moves or sharpens.
    """

    by: str = attrs.field(validator=identifier)
    against: tuple[str, ...] = _parties()
    expires: FuzzyDate = attrs.field(converter=to_fuzzy_date, validator=_check_date)
    demand: str = attrs.field(validator=text)
    consequence: str = attrs.field(validator=text)
    replaces: str | None = reference()

    actor_fields: ClassVar[tuple[str, ...]] = ("by", "against")

    def __attrs_post_init__(self) -> None:
        if self.by in self.against:
            raise invalid(
                self,
                "against",
                f"{self.by!r} cannot set a deadline against itself",
                "list the parties the deadline is aimed at",
            )
        if (
            self.expires.latest is not None
            and self.occurred.earliest is not None
            and self.expires.latest < self.occurred.earliest
        ):
            raise invalid(
                self,
                "expires",
                f"expires ({self.expires}) before it was set ({self.occurred})",
                "check both dates",
            )


@attrs.frozen(kw_only=True)
class FigureReported(Event):
    """Someone puts a number on something: a count, an estimate, a list's length.

    ``subject`` names the thing counted with a path-like identifier
    (``children/deported``); ``claimed_by`` (required here) says whose figure it is.
    Figures on the same subject from different claimants are kept side by side and
    marked disputed when they differ; a claimant's later figure replaces its own
    earlier one.
    """

    subject: str = attrs.field(validator=_subject)
    value: Quantity = attrs.field(validator=_instance_of(Quantity))
    unit: str = attrs.field(default="people", validator=identifier)
    text: str = attrs.field(default="", validator=text)

    actor_fields: ClassVar[tuple[str, ...]] = ("claimed_by",)

    def __attrs_post_init__(self) -> None:
        if self.claimed_by is None:
            raise invalid(
                self,
                "claimed_by",
                "a reported figure needs a claimant",
                "name the party, mediator or outlet whose figure it is",
            )


@attrs.frozen(kw_only=True)
class EventCorrected(Event):
    """A later report corrects an event: ``replacement`` takes its place.

    The replacement carries the same id as the event it corrects (``target``).
    Replay uses the latest correction recorded by the time asked about
    (``known_at``); the log itself is never edited.
    """

    target: str = reference(optional=False)
    replacement: Event = attrs.field(validator=_instance_of(Event))

    def __attrs_post_init__(self) -> None:
        if self.replacement.id != self.target:
            raise invalid(
                self,
                "replacement",
                f"the replacement has id {self.replacement.id!r}, not the target's "
                f"{self.target!r}",
                "give the replacement the id of the event it corrects",
            )
        if isinstance(self.replacement, REVISION_TYPES):
            raise invalid(
                self,
                "replacement",
                "a correction cannot replace an event with a correction, retraction "
                "or merge",
                "correct the original event instead",
            )


@attrs.frozen(kw_only=True)
class EventRetracted(Event):
    """A recorded event turns out to be wrong or never to have happened.

    From when the retraction is known, the state is as if the event had never been
    recorded.
    """

    target: str = reference(optional=False)
    reason: str = attrs.field(default="", validator=text)


@attrs.frozen(kw_only=True)
class EventsMerged(Event):
    """Several recorded events are reports of one real-world event.

    ``kept`` stays, with the sources of the ``duplicates`` added to its own; the
    duplicates no longer count, and references to them now point at ``kept``.
    """

    kept: str = reference(optional=False)
    duplicates: tuple[str, ...] = attrs.field(
        converter=to_tuple,
        validator=[identifiers, non_empty],
        metadata={REFERENCE: True},
    )

    def __attrs_post_init__(self) -> None:
        if self.kept in self.duplicates:
            raise invalid(
                self,
                "duplicates",
                f"lists the kept event {self.kept!r} as its own duplicate",
                "list only the other reports",
            )


REVISION_TYPES: Final = (EventCorrected, EventRetracted, EventsMerged)
"""Event types that revise the record instead of describing the negotiation."""
