"""Turning events, states and diffs into JSON-ready data and back, with cattrs.

negstate never touches cattrs' global converter: :func:`make_converter` builds one
and :func:`configure_converter` teaches an existing one.  Events are a tagged union
on the ``type`` field, so any registered event type, built-in or user-defined, can
be read back from a record.  Dates are ISO text, fuzzy dates their EDTF text, and
fields left at their default are omitted to keep records short.

Stored records carry a ``schema_version``.  An older record is brought up to date by
:data:`UPCASTERS` (one function per version step on the raw dictionary) before it is
structured.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Final, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.gen import make_dict_unstructure_fn, override
from cattrs.strategies import configure_tagged_union, include_subclasses

from negstate._gc import collections_of_new_objects, paused_gc
from negstate.dates import FuzzyDate
from negstate.diff import Change, Diff
from negstate.errors import (
    FuzzyDateError,
    InvalidEventError,
    LogFormatError,
    NegstateError,
    locate,
)
from negstate.events import Event
from negstate.reducers import BUILTIN_EVENTS
from negstate.registry import EventRegistry
from negstate.state import (
    Agreement,
    Deadline,
    ExchangeTotal,
    Figure,
    Meeting,
    MeetingProposal,
    NegotiationState,
    Position,
    Proposal,
    Reading,
    StateDraft,
    Swap,
    answers_of,
)

__all__ = [
    "CANONICAL_JSON",
    "SCHEMA_VERSION",
    "UPCASTERS",
    "configure_converter",
    "decode_event",
    "encode_event",
    "make_converter",
    "shared_converter",
    "upcast",
]

CANONICAL_JSON: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
)
"""Writes canonical JSON text (sorted keys, no spaces, UTF-8 kept as is); built
once rather than on every call, as :func:`json.dumps` with options would."""

SCHEMA_VERSION: Final = 2
"""The version of the stored shape of events that this negstate writes."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 2 gave MeetingHeld a figure for its length and several mediators.

    Version 1 stored ``duration`` (whole minutes) and one ``mediator``; version 2
    stores ``duration_minutes`` as a quantity (reports say "a little over an hour")
    and ``mediators`` as a list (Istanbul rounds had more than one host).
    """
    if raw.get("type") != "MeetingHeld":
        return raw
    upgraded = dict(raw)
    if "duration" in upgraded:
        minutes = upgraded.pop("duration")
        if minutes is not None:
            upgraded["duration_minutes"] = {"at_least": minutes, "at_most": minutes}
    if "mediator" in upgraded:
        mediator = upgraded.pop("mediator")
        if mediator is not None:
            upgraded["mediators"] = [mediator]
    return upgraded


UPCASTERS: Final[dict[int, Upcaster]] = {1: _v1_to_v2}
"""``UPCASTERS[n]`` turns a version ``n`` raw event into a version ``n + 1`` one."""


def _fuzzy_from_text(value: object, _: type) -> FuzzyDate:
    if isinstance(value, FuzzyDate):
        return value
    if not isinstance(value, str):
        raise FuzzyDateError(
            f"expected fuzzy-date text, got {type(value).__name__}",
            hint="write the date as text such as 2025-05-16",
        )
    return FuzzyDate.parse(value)


def _day_from_text(value: object, _: type) -> date:
    if not isinstance(value, str):
        raise FuzzyDateError(
            f"expected a day as text, got {type(value).__name__}",
            hint="write it as YYYY-MM-DD",
        )
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FuzzyDateError(
            f"{value!r} is not a day", hint="write it as YYYY-MM-DD"
        ) from exc


def _moment_from_text(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise LogFormatError(
            f"expected a UTC time as text, got {type(value).__name__}",
            hint="write it as YYYY-MM-DDTHH:MM:SS.ffffffZ",
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LogFormatError(
            f"{value!r} is not a time", hint="write it as YYYY-MM-DDTHH:MM:SS.ffffffZ"
        ) from exc
    if moment.tzinfo is None:
        raise LogFormatError(
            f"{value!r} has no time zone", hint="record times in UTC with a Z"
        )
    return moment.astimezone(UTC)


def moment_text(moment: datetime) -> str:
    """ISO text of a UTC time, microseconds always shown, ``Z`` for UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _strict(kind: type) -> Callable[[object, type], Any]:
    """A structure hook that takes values of exactly ``kind`` and never coerces."""

    def structure(value: object, target: type) -> Any:  # noqa: ANN401 - any primitive
        if target is not kind and issubclass(target, Enum):
            # str and int hooks also receive StrEnum and IntEnum subclasses.
            return _enum_hook(target)(value, target)
        if type(value) is not kind:
            raise LogFormatError(
                f"expected {kind.__name__}, got {type(value).__name__} {value!r}",
                hint=f"write a JSON {_JSON_NAMES[kind]}",
            )
        return value

    return structure


_JSON_NAMES: Final = {str: "string", int: "integer", bool: "true/false"}


def _is_enum(kind: Any) -> bool:  # noqa: ANN401 - any type form
    return isinstance(kind, type) and issubclass(kind, Enum)


def _enum_hook(kind: type[Enum]) -> Callable[[object, type], Any]:
    def structure(value: object, _: type) -> Any:  # noqa: ANN401 - an enum member
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(str(member.value) for member in kind)
            raise LogFormatError(
                f"{value!r} is not a valid {kind.__name__}",
                hint=f"use one of {choices}",
            ) from None

    return structure


def _is_homogenous_tuple(kind: Any) -> bool:  # noqa: ANN401 - any type form
    args = get_args(kind)
    return get_origin(kind) is tuple and len(args) == 2 and args[1] is Ellipsis  # noqa: PLR2004


def _list_only_tuple(
    kind: Any,  # noqa: ANN401 - any type form
    converter: cattrs.Converter,
) -> Callable[[object, type], Any]:
    """Structure ``tuple[X, ...]`` from a JSON array only, never from a string."""
    structure_items = homogenous_tuple_structure_factory(kind, converter)

    def structure(value: object, _: type) -> Any:  # noqa: ANN401 - a tuple
        if not isinstance(value, list | tuple):
            raise LogFormatError(
                f"expected a list, got {type(value).__name__} {value!r}",
                hint="write a JSON array, even for a single item",
            )
        return structure_items(value, kind)

    return structure


def configure_converter(
    converter: cattrs.Converter, registry: EventRegistry = BUILTIN_EVENTS
) -> None:
    """Teach ``converter`` negstate's values, the events of ``registry`` and states."""
    for kind in _JSON_NAMES:
        converter.register_structure_hook(kind, _strict(kind))
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    converter.register_unstructure_hook_factory(
        _is_enum, lambda _: operator.attrgetter("value")
    )
    converter.register_structure_hook_factory(
        _is_homogenous_tuple, lambda kind: _list_only_tuple(kind, converter)
    )
    converter.register_unstructure_hook(FuzzyDate, str)
    converter.register_structure_hook(FuzzyDate, _fuzzy_from_text)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _day_from_text)
    converter.register_unstructure_hook(datetime, moment_text)
    converter.register_structure_hook(datetime, _moment_from_text)
    tags = {kind.event_type: kind.tag for kind in registry}

    def tag_of(event_type: type) -> str:
        # The union also holds the abstract Event base; decode_event never asks for it.
        return tags.get(event_type, event_type.__name__)

    with collections_of_new_objects():
        include_subclasses(
            Event,
            converter,
            subclasses=registry.event_types,
            union_strategy=functools.partial(
                configure_tagged_union, tag_name="type", tag_generator=tag_of
            ),
        )
    _configure_state(converter)
    _configure_change(converter)


def make_converter(
    registry: EventRegistry = BUILTIN_EVENTS, *, omit_defaults: bool = True
) -> cattrs.Converter:
    """A new converter for the events of ``registry``, states and diffs.

    Fields left at their default are omitted (unless ``omit_defaults`` is false) and
    unknown keys are refused.
    """
    converter = cattrs.Converter(omit_if_default=omit_defaults, forbid_extra_keys=True)
    configure_converter(converter, registry)
    return converter


_SHARED: dict[tuple[bool, tuple[tuple[type[Event], str], ...]], cattrs.Converter] = {}
_MOST_SHARED: Final = 16


def shared_converter(
    registry: EventRegistry = BUILTIN_EVENTS, *, omit_defaults: bool = True
) -> cattrs.Converter:
    """A converter as :func:`make_converter` builds, shared by everyone asking for it.

    Building a converter takes about 20 ms, and its hooks are generated as they
    are first used, so negstate builds one per set of event types and tags and
    reuses it.  Do not register hooks on it: use :func:`make_converter` for a
    converter of your own.
    """
    key = (omit_defaults, tuple((kind.event_type, kind.tag) for kind in registry))
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= _MOST_SHARED:
            _SHARED.clear()
        found = _SHARED[key] = make_converter(registry, omit_defaults=omit_defaults)
    return found


def _pairs_to_nested(
    mapping: Mapping[tuple[str, str], Any], unstructure: Callable[[Any], Any]
) -> dict[str, dict[str, Any]]:
    nested: dict[str, dict[str, Any]] = {}
    for (outer, inner), value in mapping.items():
        nested.setdefault(outer, {})[inner] = unstructure(value)
    return nested


def _configure_change(converter: cattrs.Converter) -> None:
    """Diffs: a change's ``before`` and ``after`` are copied, not dispatched on.

    They are JSON values already, and cattrs would look up a hook for every value
    inside them.  A diff is unstructured with the collector paused, as it is
    built: its many new dicts hold no cycles.
    """
    plain = converter.unstructure

    def copy(value: Any) -> Any:  # noqa: ANN401 - any JSON value
        kind = type(value)
        if kind is dict:
            return {key: copy(item) for key, item in value.items()}
        if kind is list:
            return [copy(item) for item in value]
        if kind in _JSON_SCALARS:
            return value
        return plain(value)

    # Factories, as cattrs' own hooks, are built on first use, so that they see
    # the hooks registered until then.
    converter.register_unstructure_hook_factory(
        lambda kind: kind is Change,
        lambda _: make_dict_unstructure_fn(
            Change,
            converter,
            _cattrs_omit_if_default=converter.omit_if_default,
            before=override(unstruct_hook=copy),
            after=override(unstruct_hook=copy),
        ),
    )

    def diff_hook(_: type) -> Callable[[Diff], dict[str, Any]]:
        plain_diff = make_dict_unstructure_fn(
            Diff, converter, _cattrs_omit_if_default=converter.omit_if_default
        )

        def unstructure_diff(value: Diff) -> dict[str, Any]:
            with paused_gc():
                return plain_diff(value)

        return unstructure_diff

    converter.register_unstructure_hook_factory(lambda kind: kind is Diff, diff_hook)


_JSON_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _configure_state(converter: cattrs.Converter) -> None:
    """States: tuple-keyed mappings become nested objects; events by id."""
    converter.register_unstructure_hook(
        NegotiationState, lambda state: _unstructure_state(state, converter)
    )
    converter.register_structure_hook(
        NegotiationState, lambda value, _: _structure_state(value, converter)
    )


def _unstructure_state(
    state: NegotiationState, converter: cattrs.Converter
) -> dict[str, Any]:
    plain = converter.unstructure

    def by_key(mapping: Mapping[str, Any]) -> dict[str, Any]:
        return {key: plain(value) for key, value in mapping.items()}

    # A large state's JSON form is many new dicts and no cycles.
    with paused_gc():
        return {
            "as_of": None if state.as_of is None else state.as_of.isoformat(),
            "reading": state.reading.value,
            "positions": _pairs_to_nested(state.positions, plain),
            "proposals": by_key(state.proposals),
            "meeting_proposals": by_key(state.meeting_proposals),
            "meetings": by_key(state.meetings),
            "agreements": by_key(state.agreements),
            "deadlines": by_key(state.deadlines),
            "swaps": [plain(swap) for swap in state.swaps],
            "exchanges": _pairs_to_nested(state.exchanges, plain),
            "figures": by_key(state.figures),
            "custom": {name: by_key(records) for name, records in state.custom.items()},
            "events": [plain(event, Event) for event in state.events.values()],
        }


def _structure_state(
    value: Mapping[str, Any], converter: cattrs.Converter
) -> NegotiationState:
    """Rebuild a state's draft entries from its records, then freeze it."""
    build = converter.structure
    events = [build(event, Event) for event in value["events"]]
    by_id = {event.id: event for event in events}
    draft = StateDraft()
    draft.events = by_id
    for party, issues in value["positions"].items():
        for issue, plain in issues.items():
            position = build(plain, Position)
            draft.positions[party, issue] = (
                attrs.evolve(position, others=()),
                position.others,
            )
    for key, plain in value["proposals"].items():
        proposal = build(plain, Proposal)
        draft.proposals[key] = (
            by_id[key],
            answers_of(proposal.responses),
            proposal.withdrawn,
            proposal.superseded_by,
        )
    for key, plain in value["meeting_proposals"].items():
        meeting = build(plain, MeetingProposal)
        draft.meeting_proposals[key] = (
            by_id[key],
            answers_of(meeting.responses),
            meeting.withdrawn,
            meeting.held,
        )
    draft.meetings = {
        k: by_id[build(v, Meeting).id] for k, v in value["meetings"].items()
    }
    draft.agreements = {
        k: by_id[build(v, Agreement).id] for k, v in value["agreements"].items()
    }
    draft.deadlines = {
        k: (by_id[k], build(v, Deadline).replaced_by)
        for k, v in value["deadlines"].items()
    }
    draft.swaps = [by_id[build(plain, Swap).id] for plain in value["swaps"]]
    _structure_tables(value, draft, converter, by_id)
    as_of = value["as_of"]
    return draft.freeze(
        as_of=None if as_of is None else date.fromisoformat(as_of),
        reading=Reading(value["reading"]),
    )


def _structure_tables(
    value: Mapping[str, Any],
    draft: StateDraft,
    converter: cattrs.Converter,
    by_id: Mapping[str, Event],
) -> None:
    """Exchange totals, figures and custom records of a structured state."""
    for party, categories in value["exchanges"].items():
        for category, plain in categories.items():
            total = converter.structure(plain, ExchangeTotal)
            draft.exchanges[party, category] = (
                total.count,
                total.releases,
                total.unreported,
            )
    for subject, plain in value["figures"].items():
        figure = converter.structure(plain, Figure)
        draft.figures[subject] = (
            figure.unit,
            tuple((claim.claimant, by_id[claim.event]) for claim in figure.claims),
        )
    draft.custom = {name: dict(records) for name, records in value["custom"].items()}


def upcast(raw: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring a raw event of schema ``version`` up to :data:`SCHEMA_VERSION`."""
    if version > SCHEMA_VERSION:
        raise LogFormatError(
            f"schema_version {version} is newer than this negstate reads "
            f"({SCHEMA_VERSION})",
            hint="upgrade negstate",
        )
    while version < SCHEMA_VERSION:
        step = UPCASTERS.get(version)
        if step is None:
            raise LogFormatError(
                f"no upcaster from schema_version {version}",
                hint="this record predates every version negstate can read",
            )
        raw = step(raw)
        version += 1
    return raw


def encode_event(event: Event, converter: cattrs.Converter) -> dict[str, Any]:
    """The JSON-ready form of ``event``, with its tag in ``type``."""
    encoded: dict[str, Any] = converter.unstructure(event, Event)
    return encoded


def decode_event(
    raw: object,
    converter: cattrs.Converter,
    registry: EventRegistry = BUILTIN_EVENTS,
    *,
    where: str = "",
) -> Event:
    """Build an event from its JSON-ready form, or raise LogFormatError saying where.

    ``where`` (such as ``log.jsonl:12``) is put in front of the place in the message.
    """
    if not isinstance(raw, dict):
        raise LogFormatError(
            f"an event must be a JSON object, got {type(raw).__name__}",
            where=where,
            hint="each record's event is an object with a 'type' field",
        )
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    place = ": ".join(p for p in (where, locate(event_id=event_id)) if p)
    tag = raw.get("type")
    if not isinstance(tag, str) or registry.kind_for_tag(tag) is None:
        known = ", ".join(sorted(registry.tags))
        raise LogFormatError(
            f"unknown event type {tag!r}",
            where=place,
            hint=f"use one of {known}, or register the type and pass its registry",
        )
    try:
        event: Event = converter.structure(raw, Event)
    except (NegstateError, cattrs.BaseValidationError) as exc:
        field, message, hint = _first_problem(exc)
        raise LogFormatError(
            message,
            where=": ".join(p for p in (place, locate(field=field or None)) if p),
            hint=hint,
        ) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LogFormatError(
            f"cannot build a {tag} ({type(exc).__name__}: {exc})",
            where=place,
            hint="check the record against the event type",
        ) from exc
    return event


def _leaves(exc: BaseException, path: str) -> Iterator[tuple[str, BaseException]]:
    """Walk cattrs' nested validation errors down to each failing field."""
    if isinstance(exc, cattrs.ClassValidationError):
        with_notes, without = exc.group_exceptions()
        for inner, note in with_notes:
            yield from _leaves(inner, f"{path}.{note.name}" if path else note.name)
        for inner in without:
            yield from _leaves(inner, path)
    elif isinstance(exc, cattrs.IterableValidationError):
        with_index, without = exc.group_exceptions()
        for inner, index_note in with_index:
            yield from _leaves(inner, f"{path}[{index_note.index}]")
        for inner in without:
            yield from _leaves(inner, path)
    else:
        yield path, exc


def _first_problem(exc: BaseException) -> tuple[str, str, str]:
    """The field path, message and hint of the first problem in ``exc``."""
    problems = list(_leaves(exc, ""))
    path, first = problems[0]
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    if isinstance(first, InvalidEventError) and first.field:
        path = f"{path}.{first.field}" if path else first.field
    if isinstance(first, NegstateError):
        return path, first.message + more, first.hint
    if isinstance(first, cattrs.ForbiddenExtraKeysError):
        extra = ", ".join(sorted(first.extra_fields))
        return (
            path,
            f"unexpected field(s) {extra}{more}",
            "remove them or fix their names",
        )
    if isinstance(first, KeyError):
        return path, f"required field missing{more}", "add the field"
    return (
        path,
        f"wrong type ({type(first).__name__}: {first}){more}",
        "check the field's type against the event type",
    )
