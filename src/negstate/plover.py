"""Exchange with the field's event data: PLOVER records, with CAMEO codes alongside.

PLOVER (the Political Language Ontology for Verifiable Event Records) codes an event
as a *category* (what), a *mode* (how) and a *context* (why), with source and
recipient actors.  :func:`to_plover` writes one PLOVER-style JSON record per
negstate event; :func:`from_plover` reads such records back.

Mapping (``issue`` picks the context and refines mode and CAMEO code, see below):

============================  ==========  ===========================  ===========
negstate event                PLOVER      mode                         CAMEO
============================  ==========  ===========================  ===========
ProposalMade (an offer)       AGREE       --                           03x by issue
ProposalAccepted              AGREE       --                           03x (036 for
                                                                       a meeting)
ProposalRejected              REJECT      by issue (``meet`` for a     12x (125 for
                                          meeting)                     a meeting)
ProposalWithdrawn             REJECT      as a rejection               12x
MeetingProposed               AGREE       -- (intent to meet)          036
MeetingHeld                   CONSULT     ``phone`` (phone, video,     041 / 044 /
                                          remote), ``third-party``     042
                                          (mediated), ``visit``
                                          (in person)
SwapCompleted                 RETREAT     ``release``                  0841
AgreementReached              SUPPORT     -- (finalize an agreement)   057
DeadlineSet                   THREATEN    ``restrict``, ``violence``   139
                                          or ``relations``, from the   (ultimatum)
                                          consequence
PositionStated supports       SUPPORT     --                           051
PositionStated offers,        AGREE       --                           03x by issue
conditional
PositionStated demands        DEMAND      by issue                     10x by issue
PositionStated opposes        REJECT      by issue                     12x by issue
PositionStated undecided,     (none)      ``has_event`` false          010
FigureReported
corrections, retractions,     (none)      ``has_event`` false          --
merges, user-defined types
============================  ==========  ===========================  ===========

By issue (context; mode of REJECT and DEMAND; CAMEO for AGREE, REJECT, DEMAND):

=========================================  ============  ======  ====  ====  ====
issue                                      context       mode    03x   12x   10x
=========================================  ============  ======  ====  ====  ====
ceasefire, energy_strikes                  military      yield   0356  1246  1056
prisoner_exchange, bodies_repatriation,    humanitarian  yield   0353  1243  1053
humanitarian
leaders_meeting, us_russia_summit          diplomatic    meet    036   125   106
peace_deal                                 diplomatic    meet    037   127   107
mediation                                  diplomatic    meet    038   126   108
sanctions                                  economic      --      0354  1244  100
territory                                  resource      yield   035   124   105
anything else                              diplomatic    --      030   120   100
=========================================  ============  ======  ====  ====  ====

Actors: ``source`` and ``recipient`` are lists of ``{"code", "actor_text"}``; the
code is the party's name unless ``actor_codes`` maps it (``{"UA": "UKR"}``), and
``actor_text`` is always the negstate party.  Reciprocal acts (meetings,
agreements, mutual swaps) list every side as source and no recipient, as the PLOVER
code book asks.

A record's fields: ``id``; ``date`` and, for a span, ``enddate`` (YYYY-MM-DD; an
open start gives the latest day as ``date``); ``source``; ``recipient``; ``event``
(a list of categories); ``mode``; ``context``; ``quad_code`` (1 verbal
cooperation, 2 material cooperation, 3 verbal conflict, 4 material conflict);
``has_event``; ``cameo`` (the CAMEO code); ``event_text`` (a one-line summary);
``comment`` (the analyst's note); ``cite_info`` (the first report: ``title``,
``publication`` for the outlet, ``published``, ``url``, ``citation``);
``coder`` and the extension ``negstate``: ``{"schema_version", "event"}``, the
whole event as negstate stores it, so a round trip gives equal events.

:func:`from_plover` rebuilds an event from the extension when there is one.  Records
coded elsewhere are rebuilt where the record says enough: CONSULT becomes a
MeetingHeld and RETREAT with mode ``release`` a SwapCompleted (of an unreported
number of prisoners), when ``cite_info`` names the report.  Every other record is
listed as a problem with its number and the reason; the rest still import.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final

import attrs
import cattrs

from negstate.errors import NegstateError
from negstate.events import (
    AgreementReached,
    DeadlineSet,
    Event,
    MeetingHeld,
    MeetingProposed,
    PositionStated,
    ProposalAccepted,
    ProposalMade,
    ProposalRejected,
    ProposalWithdrawn,
    SwapCompleted,
)
from negstate.reducers import BUILTIN_EVENTS
from negstate.registry import EventRegistry
from negstate.rows import summarize
from negstate.serialization import SCHEMA_VERSION, decode_event, encode_event, upcast
from negstate.values import Stance

__all__ = [
    "EXTENSION",
    "QUAD_CODES",
    "Coding",
    "PloverImport",
    "PloverProblem",
    "code_event",
    "from_plover",
    "read_plover",
    "to_plover",
]

EXTENSION: Final = "negstate"
"""The record field that carries the negstate event, for a lossless round trip."""

CODER: Final = "negstate"
"""What records say coded them (PLOVER's ``coder`` field)."""

QUAD_CODES: Final[Mapping[str, int]] = {
    **dict.fromkeys(("AGREE", "CONSULT", "SUPPORT", "CONCEDE"), 1),
    **dict.fromkeys(("COOPERATE", "AID", "RETREAT"), 2),
    **dict.fromkeys(("ACCUSE", "REJECT", "THREATEN", "DEMAND"), 3),
    **dict.fromkeys(("PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"), 4),
}
"""PLOVER categories by quad: 1 verbal and 2 material cooperation, 3 and 4 conflict."""


@attrs.frozen
class _IssueCoding:
    """How an issue shows in PLOVER and CAMEO."""

    context: str
    mode: str | None
    agree: str
    reject: str
    demand: str


_DEFAULT_ISSUE: Final = _IssueCoding("diplomatic", None, "030", "120", "100")
_MILITARY: Final = _IssueCoding("military", "yield", "0356", "1246", "1056")
_HUMANITARIAN: Final = _IssueCoding("humanitarian", "yield", "0353", "1243", "1053")
_MEETING: Final = _IssueCoding("diplomatic", "meet", "036", "125", "106")
_ISSUES: Final[Mapping[str, _IssueCoding]] = {
    "ceasefire": _MILITARY,
    "energy_strikes": _MILITARY,
    "prisoner_exchange": _HUMANITARIAN,
    "bodies_repatriation": _HUMANITARIAN,
    "humanitarian": _HUMANITARIAN,
    "leaders_meeting": _MEETING,
    "us_russia_summit": _MEETING,
    "peace_deal": _IssueCoding("diplomatic", "meet", "037", "127", "107"),
    "mediation": _IssueCoding("diplomatic", "meet", "038", "126", "108"),
    "sanctions": _IssueCoding("economic", None, "0354", "1244", "100"),
    "territory": _IssueCoding("resource", "yield", "035", "124", "105"),
}

_THREATS: Final = (
    ("restrict", ("sanction", "tariff", "embargo", "boycott", "blockade")),
    ("violence", ("force", "attack", "strike", "military", "offensive", "war")),
    ("relations", ("talks", "negotiat", "relations", "withdraw", "walk away")),
)
"""THREATEN modes by words in a deadline's consequence, first match wins."""

_REMOTE_MEDIA: Final = frozenset({"phone", "video", "remote"})


@attrs.frozen(kw_only=True)
class Coding:
    """An event's PLOVER category, mode and context, its actors and CAMEO code."""

    category: str | None
    mode: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    cameo: str | None = None
    source: tuple[str, ...] = ()
    recipient: tuple[str, ...] = ()


def _issue(issue: str | None) -> _IssueCoding:
    return _DEFAULT_ISSUE if issue is None else _ISSUES.get(issue, _DEFAULT_ISSUE)


def _modes(mode: str | None) -> tuple[str, ...]:
    return () if mode is None else (mode,)


def _others(parties: Iterable[str], *excluded: str) -> tuple[str, ...]:
    return tuple(party for party in parties if party not in excluded)


def _code_position(event: PositionStated) -> Coding:
    issue = _issue(event.issue)
    actors = {"source": (event.party,), "context": (issue.context,)}
    if event.stance is Stance.SUPPORTS:
        return Coding(category="SUPPORT", cameo="051", **actors)
    if event.stance in {Stance.OFFERS, Stance.CONDITIONAL}:
        return Coding(category="AGREE", cameo=issue.agree, **actors)
    if event.stance is Stance.DEMANDS:
        return Coding(
            category="DEMAND", mode=_modes(issue.mode), cameo=issue.demand, **actors
        )
    if event.stance is Stance.OPPOSES:
        return Coding(
            category="REJECT", mode=_modes(issue.mode), cameo=issue.reject, **actors
        )
    return Coding(category=None, cameo="010", **actors)


def _target(known: Mapping[str, Event], target: str) -> Event | None:
    return known.get(target)


def _answer_coding(
    event: ProposalAccepted | ProposalRejected | ProposalWithdrawn,
    known: Mapping[str, Event],
) -> Coding:
    target = _target(known, event.proposal)
    meeting = isinstance(target, MeetingProposed)
    issue = _MEETING if meeting else _issue(getattr(target, "issue", None))
    recipient: tuple[str, ...] = ()
    if isinstance(target, ProposalMade | MeetingProposed):
        answered = event.by != target.proposer
        recipient = (target.proposer,) if answered else target.addressees
    if isinstance(event, ProposalAccepted):
        return Coding(
            category="AGREE",
            context=(issue.context,),
            cameo=issue.agree,
            source=(event.by,),
            recipient=recipient,
        )
    return Coding(
        category="REJECT",
        mode=_modes(issue.mode),
        context=(issue.context,),
        cameo=issue.reject,
        source=(event.by,),
        recipient=recipient,
    )


def _code_proposal(event: ProposalMade) -> Coding:
    issue = _issue(event.issue)
    return Coding(
        category="AGREE",
        context=(issue.context,),
        cameo=issue.agree,
        source=(event.proposer,),
        recipient=event.addressees,
    )


def _code_swap(event: SwapCompleted) -> Coding:
    givers = tuple(dict.fromkeys(release.by for release in event.releases))
    takers = tuple(
        dict.fromkeys(release.to for release in event.releases if release.to)
    )
    mutual = set(takers) <= set(givers)
    return Coding(
        category="RETREAT",
        mode=("release",),
        context=("humanitarian",),
        cameo="0841",
        source=givers,
        recipient=() if mutual else _others(takers, *givers),
    )


def _code_meeting(event: MeetingHeld) -> Coding:
    if event.medium in _REMOTE_MEDIA:
        mode, cameo = ["phone"], "041"
    elif event.mediators:
        mode, cameo = ["third-party"], "044"
    else:
        mode, cameo = ["visit"], "042"
    if event.mediators and "third-party" not in mode:
        mode.append("third-party")
    return Coding(
        category="CONSULT",
        mode=tuple(mode),
        context=("diplomatic",),
        cameo=cameo,
        source=event.participants,
    )


def _code_meeting_proposed(event: MeetingProposed) -> Coding:
    return Coding(
        category="AGREE",
        context=("diplomatic",),
        cameo="036",
        source=(event.proposer,),
        recipient=event.addressees,
    )


def _code_agreement(event: AgreementReached) -> Coding:
    return Coding(
        category="SUPPORT",
        context=(_issue(event.issue).context,),
        cameo="057",
        source=event.parties,
    )


def _code_deadline(event: DeadlineSet) -> Coding:
    words = event.consequence.lower()
    mode = next(
        (name for name, keys in _THREATS if any(key in words for key in keys)), None
    )
    return Coding(
        category="THREATEN",
        mode=_modes(mode),
        context=("diplomatic",),
        cameo="139",
        source=(event.by,),
        recipient=event.against,
    )


def code_event(event: Event, known: Mapping[str, Event] | None = None) -> Coding:
    """The PLOVER coding of ``event`` (see the mapping in the module docstring).

    ``known`` holds the log's events by id, so answers are coded by what they
    answer (a rejected meeting is ``meet``, a rejected ceasefire ``yield``).
    """
    lookup = known or {}
    if isinstance(event, ProposalAccepted | ProposalRejected | ProposalWithdrawn):
        return _answer_coding(event, lookup)
    coders: tuple[tuple[type[Any], Any], ...] = (
        (PositionStated, _code_position),
        (ProposalMade, _code_proposal),
        (SwapCompleted, _code_swap),
        (MeetingHeld, _code_meeting),
        (MeetingProposed, _code_meeting_proposed),
        (AgreementReached, _code_agreement),
        (DeadlineSet, _code_deadline),
    )
    for kind, coder in coders:
        if isinstance(event, kind):
            coding: Coding = coder(event)
            return coding
    claimant = (event.claimed_by,) if event.claimed_by else ()
    return Coding(
        category=None,
        cameo="010" if claimant else None,
        source=claimant or event.actors,
    )


# -- export ---------------------------------------------------------------------------


def _actors(parties: Iterable[str], codes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"code": codes.get(p, p), "actor_text": p} for p in parties]


def _dates(event: Event) -> dict[str, str]:
    span = event.occurred
    first = span.earliest or span.latest
    dates = {"date": "" if first is None else first.isoformat()}
    if span.latest is not None and span.latest != first:
        dates["enddate"] = span.latest.isoformat()
    return dates


def _cite_info(event: Event) -> dict[str, str]:
    source = event.sources[0]
    info = {"title": source.title, "citation": source.cite()}
    if source.outlet:
        info["publication"] = source.outlet
    if source.published:
        info["published"] = source.published.isoformat()
    if source.url:
        info["url"] = source.url
    return info


def plover_record(
    event: Event,
    converter: cattrs.Converter,
    *,
    known: Mapping[str, Event] | None = None,
    actor_codes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One PLOVER record for ``event`` (fields in the module docstring)."""
    codes = actor_codes or {}
    coding = code_event(event, known)
    record: dict[str, Any] = {"id": event.id, **_dates(event)}
    record["source"] = _actors(coding.source, codes)
    if coding.recipient:
        record["recipient"] = _actors(coding.recipient, codes)
    record["event"] = [] if coding.category is None else [coding.category]
    record["has_event"] = coding.category is not None
    if coding.mode:
        record["mode"] = list(coding.mode)
    if coding.context:
        record["context"] = list(coding.context)
    if coding.category is not None:
        record["quad_code"] = QUAD_CODES[coding.category]
    if coding.cameo is not None:
        record["cameo"] = coding.cameo
    record["event_text"] = [summarize(event)]
    if event.note:
        record["comment"] = event.note
    record["cite_info"] = _cite_info(event)
    record["coder"] = CODER
    record[EXTENSION] = {
        "schema_version": SCHEMA_VERSION,
        "event": encode_event(event, converter),
    }
    return record


def to_plover(
    events: Iterable[Event],
    converter: cattrs.Converter,
    *,
    actor_codes: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One PLOVER record per event, in the order given."""
    listed = list(events)
    known = {event.id: event for event in listed}
    return [
        plover_record(event, converter, known=known, actor_codes=actor_codes)
        for event in listed
    ]


# -- import ---------------------------------------------------------------------------


@attrs.frozen
class PloverProblem:
    """A record that could not be imported: its number, its line and why."""

    record: int
    message: str
    line: int | None = None

    def __str__(self) -> str:
        line = f" (line {self.line})" if self.line is not None else ""
        return f"record {self.record}{line}: {self.message}"


@attrs.frozen
class PloverImport:
    """The events rebuilt from PLOVER records, and the records that were not."""

    events: tuple[Event, ...]
    problems: tuple[PloverProblem, ...] = ()


class _Unmappable(Exception):  # noqa: N818 - internal signal, not an error users see
    """A record that says too little to rebuild an event."""


def _from_extension(
    record: Mapping[str, Any], converter: cattrs.Converter, registry: EventRegistry
) -> Event:
    extension = record[EXTENSION]
    if not isinstance(extension, dict) or not isinstance(extension.get("event"), dict):
        raise _Unmappable(f"its {EXTENSION!r} field has no event object")
    version = extension.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int):
        raise _Unmappable("its schema_version is not a whole number")
    raw = upcast(dict(extension["event"]), version)
    event = decode_event(raw, converter, registry)
    if "id" in record and record["id"] != event.id:
        raise _Unmappable(
            f"its id {record['id']!r} differs from its negstate event's {event.id!r}"
        )
    return event


def _names(actors: object) -> list[str]:
    if not isinstance(actors, list):
        return []
    found = []
    for actor in actors:
        if isinstance(actor, dict):
            name = actor.get("actor_text") or actor.get("code")
            if isinstance(name, str) and name:
                found.append(name)
        elif isinstance(actor, str) and actor:
            found.append(actor)
    return list(dict.fromkeys(found))


def _occurred(record: Mapping[str, Any]) -> str:
    first = record.get("date")
    last = record.get("enddate") or first
    if not isinstance(first, str) or not isinstance(last, str):
        raise _Unmappable("it has no date (YYYY-MM-DD)")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise _Unmappable(f"its date {first!r}/{last!r} is not YYYY-MM-DD") from None
    return str(start) if start == end else f"{start}/{end}"


def _sources(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    info = record.get("cite_info")
    if not isinstance(info, dict) or not info.get("title"):
        raise _Unmappable(
            "its cite_info names no title; negstate needs the report an event rests on"
        )
    source: dict[str, Any] = {"title": info["title"]}
    for key, field in (("outlet", "publication"), ("url", "url")):
        if info.get(field):
            source[key] = info[field]
    if info.get("published"):
        source["published"] = info["published"]
    return [source]


def _categories(record: Mapping[str, Any]) -> list[str]:
    event = record.get("event")
    if isinstance(event, str):
        return [event]
    if isinstance(event, list):
        return [c for c in event if isinstance(c, str)]
    return []


def _modes_of(record: Mapping[str, Any]) -> list[str]:
    mode = record.get("mode")
    if isinstance(mode, str):
        return [mode]
    return [m for m in mode if isinstance(m, str)] if isinstance(mode, list) else []


def _foreign(record: Mapping[str, Any]) -> dict[str, Any]:
    """The raw negstate event for a record coded elsewhere, where that is possible."""
    categories = _categories(record)
    modes = _modes_of(record)
    givers = _names(record.get("source"))
    recipients = _names(record.get("recipient"))
    base = {"id": record.get("id"), "occurred": _occurred(record)}
    if "CONSULT" in categories:
        participants = list(dict.fromkeys([*givers, *recipients]))
        medium = "phone" if "phone" in modes else "in_person"
        return {
            **base,
            "type": "MeetingHeld",
            "participants": participants,
            "level": "unspecified",
            "medium": medium,
            "sources": _sources(record),
        }
    if "RETREAT" in categories and "release" in modes:
        to = recipients[0] if len(recipients) == 1 else None
        releases = [
            {"by": giver, "category": "prisoners", **({"to": to} if to else {})}
            for giver in givers
        ]
        return {
            **base,
            "type": "SwapCompleted",
            "releases": releases,
            "sources": _sources(record),
        }
    named = ", ".join(categories) or "no category"
    raise _Unmappable(
        f"PLOVER {named} cannot be rebuilt as a negstate event without its "
        f"{EXTENSION!r} field (the record does not say which proposal, issue or "
        "terms it concerns)"
    )


def _import_one(
    record: object, converter: cattrs.Converter, registry: EventRegistry
) -> Event:
    if not isinstance(record, dict):
        raise _Unmappable(f"it is a JSON {type(record).__name__}, not an object")
    if EXTENSION in record:
        return _from_extension(record, converter, registry)
    if not isinstance(record.get("id"), str):
        raise _Unmappable("it has no id")
    return decode_event(_foreign(record), converter, registry)


def from_plover(
    records: Iterable[object],
    converter: cattrs.Converter,
    *,
    registry: EventRegistry = BUILTIN_EVENTS,
) -> PloverImport:
    """Rebuild events from PLOVER records; list the ones that cannot be, and why.

    Records are numbered from 1 in the order given.
    """
    importer = _Importer(converter, registry)
    for number, record in enumerate(records, start=1):
        importer.take(record, number)
    return importer.result()


@attrs.frozen
class _Importer:
    """Rebuilds records one by one, keeping the events and the problems."""

    converter: cattrs.Converter
    registry: EventRegistry
    events: list[Event] = attrs.field(factory=list)
    problems: list[PloverProblem] = attrs.field(factory=list)

    def take(self, record: object, number: int, line: int | None = None) -> None:
        """Rebuild ``record`` (number ``number``), or note why it cannot be."""
        try:
            self.events.append(_import_one(record, self.converter, self.registry))
        except (_Unmappable, NegstateError) as exc:
            self.problems.append(
                PloverProblem(number, " ".join(str(exc).split()), line)
            )

    def result(self) -> PloverImport:
        """What was rebuilt and what was not."""
        return PloverImport(tuple(self.events), tuple(self.problems))


def read_plover(
    text: str,
    converter: cattrs.Converter,
    *,
    registry: EventRegistry = BUILTIN_EVENTS,
) -> PloverImport:
    """Rebuild events from PLOVER JSON Lines; a line that is not JSON is a problem.

    Records are numbered from 1 by their non-blank lines; each problem also names
    its line in the text.
    """
    importer = _Importer(converter, registry)
    lines = (
        (line, content)
        for line, content in enumerate(text.splitlines(), start=1)
        if content.strip()
    )
    for number, (line, content) in enumerate(lines, start=1):
        try:
            record = json.loads(content)
        except json.JSONDecodeError as exc:
            importer.problems.append(
                PloverProblem(number, f"bad JSON ({exc.msg})", line)
            )
            continue
        importer.take(record, number, line)
    return importer.result()
