"""The ``negstate`` command line: keep a negotiation log and ask it questions.

Commands (each has ``--help``)::

    negstate init LOG                      create an empty log
    negstate add LOG [FILE|-]              append events (JSON object, array or lines)
    negstate add LOG FORM --id ... ...     append one event built from flags
    negstate verify LOG                    check the hash chain and every record
    negstate index LOG                     keep the checkpoint index and a snapshot
    negstate copy LOG NEW_LOG [--index]    the same records in a new file or backend
    negstate state LOG --at DAY            positions, proposals, exchanges... on a day
    negstate diff LOG --from D1 --to D2    what changed between two days
    negstate diff LOG --at D --known-from T1 --known-to T2
                                           what later reports changed about a day
    negstate timeline LOG                  events in the order they happened
    negstate explain LOG PATH --at DAY     the events and reports behind a record
    negstate export LOG --format F         jsonl, csv (events or --positions), plover
    negstate import LOG FILE --format F    csv, plover or jsonl back into a log
    negstate report LOG --out FILE.html    one self-contained HTML report
    negstate plot LOG --out FILE.png       a timeline chart (needs negstate[plot])

``FORM`` is one of ``position``, ``proposal``, ``answer``, ``swap`` and ``meeting``;
``negstate add --help`` lists the flags each one takes.

Days are written ``YYYY-MM-DD``.  ``--known-at`` replays the log as it was at a
recording time: a day (its end, UTC) or an ISO date-time.  ``--registry
MODULE:ATTR`` (before the command) loads an :class:`~negstate.EventRegistry` for
user-defined event types.

Exit codes: 0 success; 1 a data or domain error (the message, one line on stderr
after ``negstate:``, names the file and line or the event and says what to do);
2 a usage error (argparse's message).

Output for people is aligned tables, coloured only when standard output is a
terminal and ``NO_COLOR`` is not set.  ``--json`` output is one JSON object whose
top-level keys are stable:

``state``
    ``log``, ``at``, ``known_at``, ``reading``, ``party``, ``issue`` (the question)
    and ``state``: the state unstructured by :func:`negstate.make_converter`
    (``as_of``, ``reading``, ``positions`` by party then issue, ``proposals``,
    ``meeting_proposals``, ``meetings``, ``agreements``, ``deadlines``, ``swaps``,
    ``exchanges`` by party then category, ``figures``, ``custom``, ``events``).
    ``--party``/``--issue`` leave out records that do not involve them.
``diff``
    ``log``, ``from``, ``to``, ``at``, ``known_from``, ``known_to``, ``known_at``,
    ``under`` and ``diff``: ``before``, ``after`` and ``changes`` (each ``path``,
    ``kind``, ``before``, ``after``, ``events``, ``fields``, ``sources``).
``timeline``
    ``log``, ``from``, ``to``, ``party``, ``known_at`` and ``events``: each
    ``id``, ``type``, ``occurred`` (EDTF), ``when`` (words), ``narrowed`` (the span
    replay inferred), ``actors``, ``claimed_by``, ``summary`` and ``event`` (the
    event as stored).
``explain``
    ``log``, ``at``, ``known_at``, ``path``, ``record``, ``events`` (as stored, in
    valid-time order), ``revised_by`` (event id to the revisions applied to it) and
    ``sources``.
``verify``
    ``log``, ``records``, ``ok`` and ``problem`` (a message or null).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, TextIO

import attrs
import cattrs

from negstate.diff import ChangeKind, Diff, diff, focus_stem
from negstate.errors import FuzzyDateError, LogFormatError, NegstateError, RegistryError
from negstate.events import Event
from negstate.explain import explain
from negstate.log import EventLog, open_log, verify_log
from negstate.reducers import BUILTIN_EVENTS
from negstate.registry import EventRegistry
from negstate.replay import Timeline, day_of, moment_of
from negstate.rows import (
    read_events_csv,
    summarize,
    write_events_csv,
    write_positions_csv,
)
from negstate.serialization import decode_event, encode_event, shared_converter
from negstate.state import PARTY_FIELDS, NegotiationState, Reading
from negstate.stores.checkpoints import REFOLD_LIMIT, SavedIndex
from negstate.stores.side_index import SideIndex
from negstate.tables import (
    Palette,
    describe_change,
    describe_plain,
    render_table,
    shorten,
    use_colour,
)
from negstate.values import Stance

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK: Final = 0
"""The command did what was asked."""
EXIT_ERROR: Final = 1
"""A data or domain error: bad input, a broken log, an impossible event."""
EXIT_USAGE: Final = 2
"""The command line itself was wrong (argparse's exit code)."""

FORMS: Final = ("position", "proposal", "answer", "swap", "meeting")
"""Event forms ``negstate add LOG FORM`` builds from flags."""

_FORM_TYPES: Final = {
    "position": "PositionStated",
    "proposal": "ProposalMade",
    "swap": "SwapCompleted",
    "meeting": "MeetingHeld",
}
_ANSWER_TYPES: Final = {
    "accept": "ProposalAccepted",
    "reject": "ProposalRejected",
    "withdraw": "ProposalWithdrawn",
}
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "position": ("party", "issue", "stance"),
    "proposal": ("proposer", "to", "issue"),
    "answer": ("proposal", "by", "answer"),
    "swap": ("release",),
    "meeting": ("participants", "level"),
}


# -- running a command -----------------------------------------------------------------


@attrs.frozen
class Context:
    """What every command needs: the registry, the streams and how to write."""

    registry: EventRegistry
    converter: cattrs.Converter
    out: TextIO
    err: TextIO
    palette: Palette
    progress: bool

    def print(self, text: str = "") -> None:
        """Write a line to standard output."""
        self.out.write(text + "\n")

    def emit_json(self, payload: object) -> None:
        """Write ``payload`` as indented JSON to standard output."""
        self.out.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")

    def heading(self, text: str) -> None:
        """A section title for people."""
        self.print(self.palette.paint(text, "bold"))


class Progress:
    """A counter on standard error for long imports (a terminal, or ``--progress``)."""

    def __init__(self, stream: TextIO, label: str, *, enabled: bool) -> None:
        self._stream = stream
        self._label = label
        self._enabled = enabled
        self._count = 0

    def step(self) -> None:
        """Count one more item; redraw every hundred."""
        self._count += 1
        if self._enabled and self._count % 100 == 0:
            self._stream.write(f"\r{self._label}: {self._count}")
            self._stream.flush()

    def done(self) -> None:
        """Show the final count and end the line."""
        if self._enabled:
            self._stream.write(f"\r{self._label}: {self._count} done\n")
            self._stream.flush()


def _problem(message: str, *, where: str = "", hint: str = "") -> NegstateError:
    return NegstateError(message, where=where, hint=hint)


def _day(value: str | None, option: str) -> date | None:
    """A command-line day, or an error naming the option."""
    if value is None:
        return None
    try:
        return day_of(value)
    except NegstateError as exc:
        raise FuzzyDateError(exc.message, where=option, hint=exc.hint) from None


def _moment(value: str | None, option: str) -> datetime | None:
    """A command-line recording time, or an error naming the option."""
    try:
        return moment_of(value)
    except NegstateError as exc:
        raise FuzzyDateError(exc.message, where=option, hint=exc.hint) from None


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def load_registry(spec: str) -> EventRegistry:
    """The :class:`EventRegistry` named ``MODULE:ATTR`` (the current folder first)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise RegistryError(
            f"--registry {spec!r} is not MODULE:ATTR",
            hint="name the module and the registry in it, e.g. mytypes:REGISTRY",
        )
    here = str(Path.cwd())
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(
            f"cannot import module {module_name!r} ({exc})",
            where="--registry",
            hint="check the module name and that it is importable from here",
        ) from None
    finally:
        if added:
            sys.path.remove(here)
    found = getattr(module, attribute, None)
    if not isinstance(found, EventRegistry):
        raise RegistryError(
            f"{spec} is {type(found).__name__}, not an EventRegistry",
            where="--registry",
            hint="point at a negstate.EventRegistry (BUILTIN_EVENTS.with_event(...))",
        )
    return found


@contextmanager
def _opened(
    ctx: Context, path: str, *, create: bool = False, writable: bool = False
) -> Iterator[EventLog]:
    """Open a log, read-only unless the command writes.

    A query never changes a file, not even a tail that a crashed writer left torn.
    """
    with open_log(
        path, registry=ctx.registry, create=create, read_only=not writable
    ) as log:
        yield log


@contextmanager
def _output(
    path: str | None, ctx: Context, *, newline: str | None = None
) -> Iterator[TextIO]:
    """Standard output, or the file at ``path`` (written whole or not at all)."""
    if path is None or path == "-":
        yield ctx.out
        return
    target = Path(path)
    temporary = target.with_name(f".{target.name}.partial")
    try:
        with temporary.open("w", encoding="utf-8", newline=newline) as handle:
            yield handle
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def _read_text(source: str) -> tuple[str, str]:
    """The text of a file or of standard input (``-``), and its name for messages."""
    if source == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(source).read_text(encoding="utf-8"), source
    except UnicodeDecodeError:
        raise _problem(
            "is not UTF-8 text", where=source, hint="save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise _problem(
            f"cannot read the file ({exc.strerror})",
            where=source,
            hint="check the path and its permissions",
        ) from None


# -- reading events from JSON ----------------------------------------------------------


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n\ufeff":
        index += 1
    return index


def _decode_at(
    decoder: json.JSONDecoder, text: str, index: int, name: str
) -> tuple[object, int]:
    """The JSON value at ``index``; an error names the line the value starts on."""
    try:
        return decoder.raw_decode(text, index)
    except json.JSONDecodeError as exc:
        start = _line_at(text, index)
        place = f"column {exc.colno}"
        if exc.lineno != start:
            place = f"line {exc.lineno}, {place}"
        raise LogFormatError(
            f"bad JSON ({exc.msg} at {place})",
            where=f"{name}:{start}",
            hint="fix the JSON of the event that starts on that line",
        ) from None


def json_values(text: str, name: str) -> Iterator[tuple[int, object]]:
    """Each JSON value in ``text`` with the line it starts on.

    ``text`` holds one object, a JSON array of objects, or objects one after the
    other (JSON Lines, or pretty-printed objects in a row).  A syntax error names
    ``name:line``.
    """
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if text.startswith("[", index):
        index = _skip_space(text, index + 1)
        while not text.startswith("]", index):
            line = _line_at(text, index)
            value, index = _decode_at(decoder, text, index, name)
            yield line, value
            index = _skip_space(text, index)
            if text.startswith(",", index):
                index = _skip_space(text, index + 1)
            elif not text.startswith("]", index):
                raise LogFormatError(
                    "expected ',' or ']' after an array item",
                    where=f"{name}:{_line_at(text, index)}",
                    hint="separate the events with commas and close the array",
                )
        index = _skip_space(text, index + 1)
        if index < len(text):
            raise LogFormatError(
                "text after the closing ']'",
                where=f"{name}:{_line_at(text, index)}",
                hint="give one array, or one event per line without brackets",
            )
        return
    while index < len(text):
        line = _line_at(text, index)
        value, index = _decode_at(decoder, text, index, name)
        yield line, value
        index = _skip_space(text, index)


def _decode_events(ctx: Context, text: str, name: str) -> list[Event]:
    progress = Progress(ctx.err, f"reading {name}", enabled=ctx.progress)
    events: list[Event] = []
    for line, raw in json_values(text, name):
        events.append(
            decode_event(raw, ctx.converter, ctx.registry, where=f"{name}:{line}")
        )
        progress.step()
    progress.done()
    return events


def _append(ctx: Context, log: EventLog, events: Sequence[Event], what: str) -> None:
    before = log.last_seq
    log.append_many(events)
    added = log.last_seq - before
    again = len(events) - added
    note = f" ({again} already in the log)" if again else ""
    ctx.print(f"added {added} event(s) from {what} to {log.location}{note}")


# -- commands --------------------------------------------------------------------------


def _cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    existed = Path(args.log).exists()
    with _opened(ctx, args.log, create=True, writable=True) as log:
        if existed:
            ctx.print(f"{log.location} is a negstate log already ({len(log)} records)")
        else:
            ctx.print(f"created an empty negstate log at {log.location}")
    return EXIT_OK


def _cmd_add(args: argparse.Namespace, ctx: Context) -> int:
    if args.what in FORMS:
        event = _event_from_flags(args, ctx)
        with _opened(ctx, args.log, writable=True) as log:
            _append(ctx, log, [event], "the command line")
        return EXIT_OK
    _refuse_form_flags(args)
    text, name = _read_text(args.what)
    events = _decode_events(ctx, text, name)
    if not events:
        raise _problem(
            "holds no events", where=name, hint="give JSON event objects to add"
        )
    with _opened(ctx, args.log, writable=True) as log:
        _append(ctx, log, events, name)
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, ctx: Context) -> int:
    report = verify_log(args.log, registry=ctx.registry)
    if args.json:
        ctx.emit_json(
            {
                "log": report.location,
                "records": report.records,
                "ok": report.ok,
                "problem": None if report.problem is None else str(report.problem),
            }
        )
    elif report.ok:
        ctx.print(str(report))
    if report.problem is not None:
        raise report.problem
    return EXIT_OK


def _cmd_index(args: argparse.Namespace, ctx: Context) -> int:
    with _opened(ctx, args.log, writable=True) as log:
        if not log.save_index():
            raise NegstateError(
                "this log keeps no checkpoint index",
                where=log.location,
                hint="only logs whose records are all built-in event types keep "
                "one; queries replay this log",
            )
        kept_in = SideIndex.path_of(Path(log.location))
        beside = f" in {kept_in.name}" if kept_in.exists() else ""
        ctx.print(
            f"{log.location}: checkpoint index kept for {len(log):,} records{beside}"
        )
    return EXIT_OK


def _cmd_copy(args: argparse.Namespace, ctx: Context) -> int:
    with _opened(ctx, args.log) as log:
        copied = log.copy_to(args.new_log, save_index=args.index)
    kept = " with its checkpoint index" if args.index else ""
    ctx.print(f"{args.new_log}: {copied:,} records copied from {args.log}{kept}")
    return EXIT_OK


def _cmd_state(args: argparse.Namespace, ctx: Context) -> int:
    at = _day(args.at, "--at")
    known_at = _moment(args.known_at, "--known-at")
    reading = Reading(args.reading)
    with _opened(ctx, args.log) as log, log.reading():
        state = None
        if known_at is None and reading is Reading.SURELY:
            state = log.saved_state_at(at)
        if state is None:
            state = log.timeline(known_at=known_at).state_at(at, reading=reading)
        return _show_state(
            args, ctx, log.location, state, at=at, known_at=known_at, reading=reading
        )


def _show_state(
    args: argparse.Namespace,
    ctx: Context,
    location: str,
    state: NegotiationState,
    *,
    at: date | None,
    known_at: datetime | None,
    reading: Reading,
) -> int:
    state = filter_state(state, party=args.party, issue=args.issue)
    if args.json:
        ctx.emit_json(
            {
                "log": location,
                "at": _iso(at),
                "known_at": _iso(known_at),
                "reading": reading.value,
                "party": args.party,
                "issue": args.issue,
                "state": ctx.converter.unstructure(state),
            }
        )
        return EXIT_OK
    known = f", as known at {args.known_at}" if known_at else ""
    ctx.heading(f"State of {location} on {at} (read {reading.value}{known})")
    _print_state(ctx, state, args.limit)
    return EXIT_OK


def _saved_index_of(state: NegotiationState) -> SavedIndex | None:
    """The saved index ``state`` was read from, if it was."""
    origin = state.origin
    if isinstance(origin, tuple) and origin and isinstance(origin[0], SavedIndex):
        return origin[0]
    return None


def _involves(party: str, *groups: Sequence[str] | str | None) -> bool:
    for group in groups:
        if group is None:
            continue
        if party == group if isinstance(group, str) else party in group:
            return True
    return False


def filter_state(
    state: NegotiationState, *, party: str | None, issue: str | None
) -> NegotiationState:
    """The state without records that do not involve ``party`` or ``issue``.

    ``issue`` narrows positions, proposals and agreements (the records that have an
    issue) and leaves the rest alone.
    """
    if party is None and issue is None:
        return state
    index = _saved_index_of(state)
    if index is not None:
        # The index's tags find these records without reading the others; only
        # a figure's may name a party its version on the day does not.
        narrowed = index.narrowed(state, party=party, issue=issue)
        if party is None:
            return narrowed
        return attrs.evolve(narrowed, figures=_claimed_figures(narrowed, party))
    changes: dict[str, Any] = {}
    if party is not None:
        changes = _party_filter(state, party)
    if issue is not None:
        positions = changes.get("positions", state.positions)
        proposals = changes.get("proposals", state.proposals)
        agreements = changes.get("agreements", state.agreements)
        changes["positions"] = {k: v for k, v in positions.items() if k[1] == issue}
        changes["proposals"] = {k: v for k, v in proposals.items() if v.issue == issue}
        changes["agreements"] = {
            k: v for k, v in agreements.items() if v.issue == issue
        }
    # A filtered state is not its index's state at a position: diffs compare it
    # in full, and a second filter reads what this one kept.
    return attrs.evolve(state, origin=None, **changes)


def _party_filter(state: NegotiationState, party: str) -> dict[str, Any]:
    return {
        "positions": {k: v for k, v in state.positions.items() if k[0] == party},
        **{
            table: {
                k: v
                for k, v in getattr(state, table).items()
                if _involves(party, *(getattr(v, field) for field in fields))
            }
            for table, fields in PARTY_FIELDS.items()
        },
        "swaps": tuple(
            s
            for s in state.swaps
            if any(_involves(party, r.by, r.to) for r in s.releases)
        ),
        "exchanges": {k: v for k, v in state.exchanges.items() if k[0] == party},
        "figures": _claimed_figures(state, party),
    }


def _claimed_figures(state: NegotiationState, party: str) -> dict[str, Any]:
    return {
        k: v
        for k, v in state.figures.items()
        if any(c.claimant == party for c in v.claims)
    }


def _answers(responses: Sequence[Any]) -> str:
    return ", ".join(f"{r.party} {r.kind.value}" for r in responses)


def _shown(
    records: Mapping[Any, Any], limit: int, *, recent: bool, hidden: list[int]
) -> list[Any]:
    """At most ``limit`` records (0: all), the most recent or the first by key.

    How many were left out is appended to ``hidden``.  Only the records shown are
    built, so a huge state prints at once.
    """
    keys = list(records) if recent else sorted(records)
    chosen = (
        keys
        if limit <= 0 or len(keys) <= limit
        else (keys[-limit:] if recent else keys[:limit])
    )
    hidden.append(len(keys) - len(chosen))
    return [records[key] for key in chosen]


def _print_state(ctx: Context, state: NegotiationState, limit: int = 0) -> None:
    hidden: list[int] = []
    sections: list[tuple[str, list[str], list[list[str]], list[str]]] = [
        (
            "Positions",
            ["PARTY", "ISSUE", "STANCE", "TERMS", "SINCE", "WHOSE WORD"],
            [
                [
                    p.party,
                    p.issue,
                    p.stance.value,
                    p.terms.describe() or p.text,
                    p.since.describe(),
                    (p.claimed_by or "own") + (" (disputed)" if p.disputed else ""),
                ]
                for p in _shown(state.positions, limit, recent=False, hidden=hidden)
            ],
            ["STANCE"],
        ),
        (
            "Proposals",
            ["ID", "PROPOSER", "TO", "ISSUE", "STATUS", "MADE", "ANSWERS"],
            [
                [
                    p.id,
                    p.proposer,
                    ", ".join(p.addressees),
                    p.issue,
                    p.status.value,
                    p.made.describe(),
                    _answers(p.responses),
                ]
                for p in _shown(state.proposals, limit, recent=True, hidden=hidden)
            ],
            ["STATUS"],
        ),
        (
            "Proposed meetings",
            ["ID", "PROPOSER", "PARTICIPANTS", "LEVEL", "STATUS", "WINDOW"],
            [
                [
                    m.id,
                    m.proposer,
                    ", ".join(m.participants),
                    m.level,
                    m.status.value,
                    "" if m.window is None else m.window.describe(),
                ]
                for m in _shown(
                    state.meeting_proposals, limit, recent=True, hidden=hidden
                )
            ],
            ["STATUS"],
        ),
        (
            "Meetings",
            ["WHEN", "PARTICIPANTS", "LEVEL", "MEDIUM", "PLACE", "ID"],
            [
                [
                    m.occurred.describe(),
                    ", ".join(m.participants)
                    + (f" (via {', '.join(m.mediators)})" if m.mediators else ""),
                    m.level,
                    m.medium,
                    m.place or "",
                    m.id,
                ]
                for m in _shown(state.meetings, limit, recent=True, hidden=hidden)
            ],
            [],
        ),
        (
            "Agreements",
            ["WHEN", "PARTIES", "ISSUE", "TERMS", "ID"],
            [
                [
                    a.reached.describe(),
                    ", ".join(a.parties),
                    a.issue,
                    a.terms.describe(),
                    a.id,
                ]
                for a in _shown(state.agreements, limit, recent=True, hidden=hidden)
            ],
            [],
        ),
        (
            "Exchanges (released so far)",
            ["PARTY", "CATEGORY", "RELEASED", "RELEASES"],
            [
                [t.party, t.category, str(t), str(t.releases)]
                for t in _shown(state.exchanges, limit, recent=False, hidden=hidden)
            ],
            [],
        ),
        (
            "Deadlines",
            ["BY", "AGAINST", "EXPIRES", "STATUS", "DEMAND", "OR ELSE"],
            [
                [
                    d.by,
                    ", ".join(d.against),
                    d.expires.describe(),
                    d.status.value,
                    d.demand,
                    d.consequence,
                ]
                for d in _shown(state.deadlines, limit, recent=True, hidden=hidden)
            ],
            ["STATUS"],
        ),
        (
            "Figures",
            ["SUBJECT", "CLAIMANT", "VALUE", "UNIT", "DISPUTED"],
            [
                [f.subject, c.claimant, str(c.value), f.unit, _yes(f.disputed)]
                for f in _shown(state.figures, limit, recent=True, hidden=hidden)
                for c in f.claims
            ],
            ["DISPUTED"],
        ),
    ]
    for (title, headers, rows, coloured), left_out in zip(
        sections, hidden, strict=True
    ):
        ctx.print()
        ctx.heading(title)
        ctx.print(render_table(headers, rows, palette=ctx.palette, coloured=coloured))
        if left_out:
            ctx.print(f"... and {left_out:,} more (use --limit 0 to show all)")
    for name, records in sorted(state.custom.items()):
        ctx.print()
        ctx.heading(f"{name} (user-defined)")
        ctx.print(render_table(["KEY"], [[key] for key in records]))


def _yes(flag: bool) -> str:
    return "disputed" if flag else ""


def _cmd_diff(args: argparse.Namespace, ctx: Context) -> int:
    by_days = args.from_day is not None or args.to_day is not None
    by_knowledge = args.known_from is not None or args.known_to is not None
    if by_days == by_knowledge or (
        by_days and (args.from_day is None or args.to_day is None)
    ):
        args.parser.error(
            "give --from and --to (two days), or --at with --known-from and "
            "--known-to (one day, two recording times)"
        )
    if by_knowledge and (
        args.at is None or args.known_from is None or args.known_to is None
    ):
        args.parser.error("a knowledge diff needs --at, --known-from and --known-to")
    if by_knowledge and args.known_at is not None:
        args.parser.error("--known-at goes with --from/--to, not with --known-from")
    if args.under is not None:
        focus_stem(args.under)  # a mistyped path fails before the log is read
    with _opened(ctx, args.log) as log, log.reading():
        # States read from a saved index read the log as the diff asks.
        before, after = _diff_states(args, log, by_days=by_days)
        changes = diff(before, after, converter=ctx.converter, under=args.under)
        location = log.location
    if args.json:
        ctx.emit_json(
            {
                "log": location,
                "from": args.from_day,
                "to": args.to_day,
                "at": args.at,
                "known_from": args.known_from,
                "known_to": args.known_to,
                "known_at": args.known_at,
                "under": args.under,
                "diff": ctx.converter.unstructure(changes),
            }
        )
        return EXIT_OK
    counted = f"{len(changes)} change(s)"
    if args.under is not None:
        counted += f" under {args.under}"
    if by_days:
        title = f"{counted} from {args.from_day} to {args.to_day}"
    else:
        title = (
            f"{counted} to {args.at} between what was known at "
            f"{args.known_from} and at {args.known_to}"
        )
    ctx.heading(title)
    _print_diff(ctx, changes)
    return EXIT_OK


def _diff_states(
    args: argparse.Namespace, log: EventLog, *, by_days: bool
) -> tuple[NegotiationState, NegotiationState]:
    """The two states a diff compares: two days, or one day known at two times."""
    if by_days:
        first, last = _day(args.from_day, "--from"), _day(args.to_day, "--to")
        known_at = _moment(args.known_at, "--known-at")
        if known_at is None:
            saved = log.saved_state_at(first), log.saved_state_at(last)
            if saved[0] is not None and saved[1] is not None:
                return saved[0], saved[1]
        timeline = log.timeline(known_at=known_at)
        return timeline.state_at(first), timeline.state_at(last)
    at = _day(args.at, "--at")
    earlier = log.timeline(known_at=_moment(args.known_from, "--known-from"))
    later = log.timeline(known_at=_moment(args.known_to, "--known-to"))
    return earlier.state_at(at), later.state_at(at)


_MARKS: Final = {
    ChangeKind.ADDED: "+",
    ChangeKind.REMOVED: "-",
    ChangeKind.CHANGED: "~",
}


def _print_diff(ctx: Context, changes: Diff) -> None:
    rows = [
        [_MARKS[c.kind], c.path, describe_change(c), ", ".join(c.events)]
        for c in changes
    ]
    ctx.print(
        render_table(
            ["", "PATH", "WHAT", "EVENTS"], rows, palette=ctx.palette, coloured=[""]
        )
    )


def _cmd_timeline(args: argparse.Namespace, ctx: Context) -> int:
    low = _day(args.from_day, "--from")
    high = _day(args.to_day, "--to")
    known_at = _moment(args.known_at, "--known-at")
    with _opened(ctx, args.log) as log:
        timeline = log.timeline(known_at=known_at)
        location = log.location
    entries = []
    for index, event in enumerate(timeline.events):
        span = timeline.span_of(index)
        if low is not None and span.latest is not None and span.latest < low:
            continue
        if high is not None and span.earliest is not None and span.earliest > high:
            continue
        if args.party is not None and args.party not in event.actors:
            continue
        entries.append((event, span))
    if args.json:
        ctx.emit_json(
            {
                "log": location,
                "from": _iso(low),
                "to": _iso(high),
                "party": args.party,
                "known_at": _iso(known_at),
                "events": [
                    {
                        "id": event.id,
                        "type": type(event).__name__,
                        "occurred": str(event.occurred),
                        "when": event.occurred.describe(),
                        "narrowed": str(span),
                        "actors": list(event.actors),
                        "claimed_by": event.claimed_by,
                        "summary": summarize(event),
                        "event": encode_event(event, ctx.converter),
                    }
                    for event, span in entries
                ],
            }
        )
        return EXIT_OK
    ctx.heading(f"{len(entries)} event(s) in {location}, in the order they happened")
    rows = [
        [
            event.occurred.describe(),
            type(event).__name__,
            ", ".join(event.actors),
            summarize(event),
            event.id,
        ]
        for event, _ in entries
    ]
    ctx.print(render_table(["WHEN", "TYPE", "ACTORS", "SUMMARY", "ID"], rows, limit=70))
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace, ctx: Context) -> int:
    at = _day(args.at, "--at")
    known_at = _moment(args.known_at, "--known-at")
    with _opened(ctx, args.log) as log, log.reading():
        # A state read from a saved index reads its records from the open log.
        return _show_explanation(args, ctx, log, at=at, known_at=known_at)


def _show_explanation(
    args: argparse.Namespace,
    ctx: Context,
    log: EventLog,
    *,
    at: date | None,
    known_at: datetime | None,
) -> int:
    location = log.location
    saved = None if known_at is not None else log.saved_state_at(at)
    if saved is not None:
        found = explain(saved, args.path)
    else:
        timeline = log.timeline(known_at=known_at)
        found = explain(
            timeline.state_at(at),
            args.path,
            revisions=timeline.revisions,
            revised_by=timeline.revised_by,
        )
    if args.json:
        ctx.emit_json(
            {
                "log": location,
                "at": _iso(at),
                "known_at": _iso(known_at),
                "path": found.path,
                "record": ctx.converter.unstructure(found.record),
                "events": [encode_event(e, ctx.converter) for e in found.events],
                "revised_by": {
                    event_id: [encode_event(r, ctx.converter) for r in revisions]
                    for event_id, revisions in found.revised_by.items()
                },
                "sources": [ctx.converter.unstructure(s) for s in found.sources],
            }
        )
        return EXIT_OK
    plain = ctx.converter.unstructure(found.record)
    ctx.heading(f"{found.path} on {at}: {describe_plain(plain)}")
    rows = [
        [e.occurred.describe(), e.id, type(e).__name__, summarize(e)]
        for e in found.events
    ]
    ctx.print(render_table(["WHEN", "EVENT", "TYPE", "SUMMARY"], rows))
    ctx.print()
    ctx.heading("Sources")
    for event in found.events:
        for source in event.sources:
            ctx.print(f"  {event.id}: {source.cite()}")
            if source.quote:
                ctx.print(f"      “{shorten(source.quote, 200)}”")
        for revision in found.revised_by.get(event.id, ()):
            ctx.print(f"  {event.id}: revised by {revision.id} ({summarize(revision)})")
    return EXIT_OK


def _export_days(args: argparse.Namespace, timeline: Timeline) -> list[date]:
    if args.days:
        days = [_day(text.strip(), "--days") for text in args.days.split(",")]
        return sorted({day for day in days if day is not None})
    found = {timeline.span_of(i).latest for i in range(len(timeline))}
    return sorted(day for day in found if day is not None)


def _cmd_export(args: argparse.Namespace, ctx: Context) -> int:
    if args.positions and args.format != "csv":
        args.parser.error("--positions goes with --format csv")
    if args.days and not args.positions:
        args.parser.error("--days goes with --positions")
    actor_codes = _actor_codes(args)
    with _opened(ctx, args.log) as log:
        events = list(log.events())
        timeline = log.timeline()
    newline = "" if args.format == "csv" else None
    what = f"{len(events)} event(s)"
    with _output(args.out, ctx, newline=newline) as stream:
        if args.format == "jsonl":
            for event in events:
                record = encode_event(event, ctx.converter)
                stream.write(json.dumps(record, ensure_ascii=False, sort_keys=True))
                stream.write("\n")
        elif args.format == "csv" and args.positions:
            rows = write_positions_csv(timeline, _export_days(args, timeline), stream)
            what = f"{rows} position row(s)"
        elif args.format == "csv":
            write_events_csv(events, stream, ctx.converter)
        else:
            from negstate.plover import to_plover  # noqa: PLC0415

            for record in to_plover(events, ctx.converter, actor_codes=actor_codes):
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    if args.out not in (None, "-"):
        ctx.err.write(f"wrote {what} as {args.format} to {args.out}\n")
    return EXIT_OK


def _actor_codes(args: argparse.Namespace) -> dict[str, str]:
    codes: dict[str, str] = {}
    for pair in args.actor_code or ():
        party, sep, code = pair.partition("=")
        if not sep or not party or not code:
            args.parser.error(f"--actor-code {pair!r} is not PARTY=CODE (UA=UKR)")
        codes[party.strip()] = code.strip()
    return codes


def _cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    text, name = _read_text(args.file)
    problems: list[str] = []
    if args.format == "jsonl":
        events = _decode_events(ctx, text, name)
    elif args.format == "csv":
        events = read_events_csv(text, name, ctx.converter, ctx.registry)
    else:
        from negstate.plover import read_plover  # noqa: PLC0415

        imported = read_plover(text, ctx.converter, registry=ctx.registry)
        events = list(imported.events)
        problems = [f"{name}: {problem}" for problem in imported.problems]
    if events:
        with _opened(ctx, args.log, writable=True) as log:
            _append(ctx, log, events, name)
    for problem in problems:
        ctx.err.write(f"negstate: {problem}\n")
    if problems:
        ctx.err.write(
            f"negstate: {len(problems)} record(s) of {name} could not be imported "
            "(see above); the others were\n"
        )
        return EXIT_ERROR
    if not events:
        raise _problem("holds no events", where=name, hint="check the file and format")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace, ctx: Context) -> int:
    from negstate.report import write_report  # noqa: PLC0415

    with _opened(ctx, args.log) as log:
        path = write_report(
            log,
            args.out,
            at=_day(args.at, "--at"),
            diff_from=_day(args.from_day, "--from"),
            diff_to=_day(args.to_day, "--to"),
            known_at=_moment(args.known_at, "--known-at"),
            title=args.title,
        )
    ctx.print(f"wrote the report to {path}")
    return EXIT_OK


def _cmd_plot(args: argparse.Namespace, ctx: Context) -> int:
    from negstate.plot import plot_timeline  # noqa: PLC0415

    with _opened(ctx, args.log) as log:
        path = plot_timeline(
            log,
            args.out,
            start=_day(args.from_day, "--from"),
            end=_day(args.to_day, "--to"),
            known_at=_moment(args.known_at, "--known-at"),
            title=args.title,
        )
    ctx.print(f"wrote the chart to {path}")
    return EXIT_OK


# -- building an event from flags ------------------------------------------------------


def _split(values: Sequence[str] | None) -> list[str]:
    """Repeated, comma-separated flag values as one list."""
    found: list[str] = []
    for value in values or ():
        found.extend(part.strip() for part in value.split(",") if part.strip())
    return found


def _quantity(text: str | None, option: str) -> dict[str, int] | None:
    """``N``, ``N-M``, ``N+`` (at least N) or ``..N`` (up to N) as a quantity."""
    if text is None:
        return None
    cleaned = text.replace(",", "").replace("_", "").strip()
    try:
        if cleaned.endswith("+"):
            return {"at_least": int(cleaned[:-1])}
        if cleaned.startswith(".."):
            return {"at_most": int(cleaned[2:])}
        if "-" in cleaned:
            low, high = cleaned.split("-", 1)
            return {"at_least": int(low), "at_most": int(high)}
        return {"at_least": int(cleaned), "at_most": int(cleaned)}
    except ValueError:
        raise _problem(
            f"{text!r} is not a figure",
            where=option,
            hint="write N, N-M (a range), N+ (at least N) or ..N (up to N)",
        ) from None


def _release(text: str) -> dict[str, object]:
    """``BY:CATEGORY[:COUNT[:TO]]`` as a release (COUNT may be empty or ``?``)."""
    parts = [part.strip() for part in text.split(":")]
    if len(parts) < 2 or len(parts) > 4:  # noqa: PLR2004
        raise _problem(
            f"{text!r} is not a release",
            where="--release",
            hint="write BY:CATEGORY[:COUNT[:TO]], e.g. RU:prisoners_of_war:1000:UA",
        )
    release: dict[str, object] = {"by": parts[0], "category": parts[1]}
    if len(parts) > 2 and parts[2] not in ("", "?"):  # noqa: PLR2004
        try:
            release["count"] = int(parts[2].replace(",", ""))
        except ValueError:
            raise _problem(
                f"{parts[2]!r} is not a number of people",
                where="--release",
                hint="write a whole number, or ? when no report gives one",
            ) from None
    if len(parts) > 3 and parts[3]:  # noqa: PLR2004
        release["to"] = parts[3]
    return release


def _source(args: argparse.Namespace) -> dict[str, object]:
    optional = {
        "outlet": args.source_outlet,
        "published": args.source_date,
        "url": args.source_url,
        "quote": args.source_quote,
    }
    given = {key: value for key, value in optional.items() if value is not None}
    return {"title": args.source_title, **given}


def _given(**values: object) -> dict[str, object]:
    """The keyword arguments that are not ``None``."""
    return {key: value for key, value in values.items() if value is not None}


def _terms(args: argparse.Namespace) -> dict[str, object]:
    terms: dict[str, object] = {}
    if args.scope:
        terms["scope"] = _split(args.scope)
    if args.categories:
        terms["categories"] = _split(args.categories)
    if args.conditions and args.what != "answer":
        terms["conditions"] = _split(args.conditions)
    for key, option, value in (
        ("quantity", "--quantity", args.quantity),
        ("duration_days", "--duration-days", args.duration_days),
    ):
        figure = _quantity(value, option)
        if figure is not None:
            terms[key] = figure
    if args.terms_text:
        terms["text"] = args.terms_text
    return terms


def _position_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {
        "party": args.party,
        "issue": args.issue,
        "stance": args.stance,
    }
    return {**fields, **_given(text=args.text)}


def _proposal_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {
        "proposer": args.proposer,
        "addressees": _split(args.to),
        "issue": args.issue,
    }
    return {**fields, **_given(counters=args.counters, supersedes=args.supersedes)}


def _answer_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {"proposal": args.proposal, "by": args.by}
    if args.answer == "accept":
        conditions = _split(args.conditions) or None
        return {**fields, **_given(conditions=conditions, text=args.text)}
    return {**fields, **_given(reason=args.reason)}


def _swap_fields(args: argparse.Namespace) -> dict[str, object]:
    releases = [_release(text) for text in args.release]
    return {"releases": releases, **_given(agreement=args.agreement)}


def _meeting_fields(args: argparse.Namespace) -> dict[str, object]:
    fields: dict[str, object] = {
        "participants": _split(args.participants),
        "level": args.level,
    }
    return {
        **fields,
        **_given(
            place=args.place,
            medium=args.medium,
            outcome=args.outcome,
            proposal=args.proposal,
            duration_minutes=_quantity(args.duration_minutes, "--duration-minutes"),
        ),
    }


_FORM_FIELDS: Final[dict[str, Callable[[argparse.Namespace], dict[str, object]]]] = {
    "position": _position_fields,
    "proposal": _proposal_fields,
    "answer": _answer_fields,
    "swap": _swap_fields,
    "meeting": _meeting_fields,
}


def _form_fields(args: argparse.Namespace) -> dict[str, object]:
    """The event's own fields, from the flags of its FORM."""
    fields = _FORM_FIELDS[args.what](args)
    if args.what in ("position", "proposal"):
        terms = _terms(args)
        if terms:
            fields["terms"] = terms
    if args.what in ("proposal", "swap", "meeting") and args.mediator:
        fields["mediators"] = _split(args.mediator)
    return fields


def _event_from_flags(args: argparse.Namespace, ctx: Context) -> Event:
    missing = [
        "--" + name.replace("_", "-")
        for name in ("id", "date", "source_title", *_REQUIRED[args.what])
        if not getattr(args, name)
    ]
    if missing:
        args.parser.error(f"add {args.what} needs {', '.join(missing)}")
    kind = (
        _ANSWER_TYPES[args.answer] if args.what == "answer" else _FORM_TYPES[args.what]
    )
    raw: dict[str, object] = {
        "type": kind,
        "id": args.id,
        "occurred": args.date,
        "sources": [_source(args)],
        **_form_fields(args),
    }
    if args.note:
        raw["note"] = args.note
    if args.claimed_by:
        raw["claimed_by"] = args.claimed_by
    return decode_event(raw, ctx.converter, ctx.registry, where="command line")


_FORM_FLAGS: Final = (
    "id",
    "date",
    "source_title",
    "source_outlet",
    "source_date",
    "source_url",
    "source_quote",
    "note",
    "claimed_by",
    "party",
    "issue",
    "stance",
    "text",
    "terms_text",
    "scope",
    "categories",
    "conditions",
    "quantity",
    "duration_days",
    "proposer",
    "to",
    "counters",
    "supersedes",
    "mediator",
    "proposal",
    "by",
    "answer",
    "reason",
    "release",
    "agreement",
    "participants",
    "level",
    "place",
    "medium",
    "outcome",
    "duration_minutes",
)


def _refuse_form_flags(args: argparse.Namespace) -> None:
    given = [name for name in _FORM_FLAGS if getattr(args, name) is not None]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        args.parser.error(
            f"{flags} build one event and need a FORM ({', '.join(FORMS)}), "
            f"not a file: negstate add LOG position --id ..."
        )


# -- the parser ------------------------------------------------------------------------


def _add_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", metavar="LOG", help="the log file (.jsonl or .sqlite)")


def _add_known_at(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--known-at",
        metavar="TIME",
        help="replay only what was recorded by TIME (YYYY-MM-DD = its end, UTC, or "
        "an ISO date-time)",
    )


def _add_json(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print {what} as one JSON object (keys documented in negstate.cli)",
    )


def _add_range(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--from", dest="from_day", metavar="DAY", help=f"{what} from")
    parser.add_argument("--to", dest="to_day", metavar="DAY", help=f"{what} to")


def _add_event_flags(parser: argparse.ArgumentParser) -> None:
    common = parser.add_argument_group(
        "every FORM", "the envelope and the report an event rests on"
    )
    common.add_argument("--id", help="the event's unique id (required)")
    common.add_argument(
        "--date", help="when it happened: 2025-05-16, 2025-05, 'late May 2025'"
    )
    common.add_argument("--source-title", help="the report's headline (required)")
    common.add_argument("--source-outlet", help="who published the report")
    common.add_argument("--source-date", help="the report's day, YYYY-MM-DD")
    common.add_argument("--source-url", help="where the report can be read")
    common.add_argument("--source-quote", help="the words that carry the claim")
    common.add_argument("--note", help="the analyst's note")
    common.add_argument("--claimed-by", help="whose word it is, when it is a claim")
    position = parser.add_argument_group(
        "position", "PositionStated: --party --issue --stance [--text] [terms]"
    )
    position.add_argument("--party", help="the party whose position it is")
    position.add_argument("--issue", help="the issue (position, proposal)")
    position.add_argument("--stance", choices=[s.value for s in Stance])
    position.add_argument("--text", help="the party's own words (position, answer)")
    terms = parser.add_argument_group(
        "terms", "what a position or proposal is about (position, proposal)"
    )
    terms.add_argument("--terms-text", help="the terms in words")
    terms.add_argument("--scope", action="append", help="domains: land,sea,air")
    terms.add_argument("--categories", action="append", help="kinds of people")
    terms.add_argument(
        "--conditions", action="append", help="conditions (also for answer accept)"
    )
    terms.add_argument("--quantity", help="how many: N, N-M, N+ or ..N")
    terms.add_argument("--duration-days", help="how long, in days: N, N-M, N+")
    proposal = parser.add_argument_group(
        "proposal", "ProposalMade: --proposer --to --issue [terms]"
    )
    proposal.add_argument("--proposer", help="the party that proposes")
    proposal.add_argument("--to", action="append", help="addressees: UA,RU")
    proposal.add_argument("--counters", help="the proposal this one answers")
    proposal.add_argument("--supersedes", help="the proposer's proposal it replaces")
    proposal.add_argument(
        "--mediator", action="append", help="mediators (proposal, swap, meeting)"
    )
    answer = parser.add_argument_group(
        "answer", "ProposalAccepted/Rejected/Withdrawn: --proposal --by --answer"
    )
    answer.add_argument(
        "--proposal", help="the proposal or proposed meeting (answer, meeting)"
    )
    answer.add_argument("--by", help="the party that answers")
    answer.add_argument("--answer", choices=sorted(_ANSWER_TYPES))
    answer.add_argument("--reason", help="why it was rejected or withdrawn")
    swap = parser.add_argument_group(
        "swap", "SwapCompleted: one --release per side [--agreement]"
    )
    swap.add_argument(
        "--release",
        action="append",
        metavar="BY:CATEGORY[:COUNT[:TO]]",
        help="e.g. RU:prisoners_of_war:84:UA (COUNT ? when unreported)",
    )
    swap.add_argument("--agreement", help="the agreement the swap fulfils")
    meeting = parser.add_argument_group(
        "meeting", "MeetingHeld: --participants --level [--place --medium ...]"
    )
    meeting.add_argument("--participants", action="append", help="UA,RU")
    meeting.add_argument("--level", help="leaders, ministers, delegations, ...")
    meeting.add_argument("--place", help="where it took place")
    meeting.add_argument("--medium", help="in_person (default), phone, video, remote")
    meeting.add_argument("--outcome", help="what came of it")
    meeting.add_argument("--duration-minutes", help="how long: N, N-M, N+")


def _command(
    commands: Any,  # noqa: ANN401 - argparse's private subparsers action
    name: str,
    handler: Callable[[argparse.Namespace, Context], int],
    summary: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description or summary,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler, parser=parser)
    return parser


def _build_add(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers
    parser = _command(
        commands,
        "add",
        _cmd_add,
        "append events to a log",
        "Append events to LOG as one atomic batch: from FILE (or - for standard "
        "input) holding one JSON event object, a JSON array of them or JSON Lines, "
        "each as 'negstate export --format jsonl' writes them; or one event built "
        "from flags with a FORM:\n\n"
        "  negstate add talks.jsonl position --id ua-ceasefire --date 2025-05-16 \\\n"
        "      --party UA --issue ceasefire --stance demands --terms-text "
        "'30 days' \\\n      --source-title 'Umerov on the talks'\n\n"
        "An event already in the log with the same content is skipped.",
    )
    _add_log(parser)
    parser.add_argument(
        "what",
        nargs="?",
        default="-",
        metavar="FILE|-|FORM",
        help=f"a file of events, - for standard input, or a FORM: {', '.join(FORMS)}",
    )
    _add_event_flags(parser)


def _build_queries(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers
    state = _command(
        commands, "state", _cmd_state, "the state of the negotiation on a day"
    )
    _add_log(state)
    state.add_argument("--at", required=True, metavar="DAY", help="the day asked about")
    _add_known_at(state)
    state.add_argument("--party", help="only records that involve this party")
    state.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="show at most N records a section, the most recent (0: all; "
        "--json always gives all)",
    )
    state.add_argument("--issue", help="only positions, proposals, agreements on it")
    state.add_argument(
        "--reading",
        choices=[r.value for r in Reading],
        default=Reading.SURELY.value,
        help="count events that surely (default) or possibly happened by the day",
    )
    _add_json(state, "the state")

    changes = _command(
        commands,
        "diff",
        _cmd_diff,
        "what changed between two days, or what later reports changed",
        "Either the changes from the state on --from to the state on --to, or, "
        "for one day (--at), the changes between what the log held at --known-from "
        "and what it held at --known-to.  An SQLite log with a current saved index "
        "(see 'negstate index') answers --from/--to without a replay.",
    )
    _add_log(changes)
    _add_range(changes, "compare the state")
    changes.add_argument(
        "--at", metavar="DAY", help="the day a knowledge diff is about"
    )
    changes.add_argument("--known-from", metavar="TIME", help="the earlier knowledge")
    changes.add_argument("--known-to", metavar="TIME", help="the later knowledge")
    changes.add_argument(
        "--under",
        metavar="PATH",
        help="only the changes at PATH or below it (positions/RU, proposals); "
        "other records are not compared",
    )
    _add_known_at(changes)
    _add_json(changes, "the diff")

    timeline = _command(
        commands, "timeline", _cmd_timeline, "events in the order they happened"
    )
    _add_log(timeline)
    _add_range(timeline, "events that may have happened")
    timeline.add_argument("--party", help="only events this party takes part in")
    _add_known_at(timeline)
    _add_json(timeline, "the events")

    why = _command(
        commands,
        "explain",
        _cmd_explain,
        "the events and reports behind a piece of state",
        "Which events, in the order they happened, produced the record at PATH on "
        "a day, with the reports behind each and the corrections applied to them.",
    )
    _add_log(why)
    why.add_argument(
        "path",
        metavar="PATH",
        help="positions/UA/ceasefire, proposals/ID, exchanges/UA/prisoners_of_war, ...",
    )
    why.add_argument("--at", required=True, metavar="DAY", help="the day asked about")
    _add_known_at(why)
    _add_json(why, "the explanation")


def _build_exchange(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers
    export = _command(
        commands,
        "export",
        _cmd_export,
        "write the log as JSON Lines, CSV or PLOVER records",
        "jsonl: the events, one per line, as 'negstate add' reads them.\n"
        "csv: one row per event (columns in negstate.rows); with --positions one "
        "row per party, issue and day.\n"
        "plover: one PLOVER JSON record per event (mapping in negstate.plover).",
    )
    _add_log(export)
    export.add_argument("--format", required=True, choices=["jsonl", "csv", "plover"])
    export.add_argument(
        "--positions",
        action="store_true",
        help="csv: each party's positions on every day an event happened",
    )
    export.add_argument(
        "--days", metavar="D1,D2", help="with --positions: only these days"
    )
    export.add_argument(
        "--actor-code",
        action="append",
        metavar="PARTY=CODE",
        help="plover: the actor code for a party (UA=UKR); repeat for each",
    )
    export.add_argument("--out", metavar="FILE", help="write here (default: stdout)")

    imports = _command(
        commands,
        "import",
        _cmd_import,
        "append events from a CSV, PLOVER or JSON Lines file",
        "csv reads what 'export --format csv' writes; plover reads PLOVER records, "
        "rebuilding events where the record holds enough (records that cannot be "
        "mapped are listed, one line each, and the command exits 1 after importing "
        "the others); jsonl is the same as 'negstate add'.",
    )
    _add_log(imports)
    imports.add_argument("file", metavar="FILE", help="the file, or - for stdin")
    imports.add_argument("--format", required=True, choices=["csv", "plover", "jsonl"])


def _build_views(commands: Any) -> None:  # noqa: ANN401 - argparse's subparsers
    report = _command(
        commands,
        "report",
        _cmd_report,
        "write one self-contained HTML report",
        "The timeline, positions on --at, proposals, exchanges, meetings, "
        "deadlines, disputed figures and the changes from --from to --to, each "
        "linked to its sources, in one HTML file that needs nothing else to open.",
    )
    _add_log(report)
    report.add_argument("--out", required=True, metavar="FILE", help="the HTML file")
    report.add_argument("--at", metavar="DAY", help="positions on this day (last)")
    _add_range(report, "the changes shown")
    _add_known_at(report)
    report.add_argument("--title", help="the report's title")

    plot = _command(
        commands,
        "plot",
        _cmd_plot,
        "draw the timeline as a PNG chart (needs negstate[plot])",
    )
    _add_log(plot)
    plot.add_argument("--out", required=True, metavar="FILE", help="the PNG file")
    _add_range(plot, "the days shown")
    _add_known_at(plot)
    plot.add_argument("--title", help="the chart's title")


def build_parser() -> argparse.ArgumentParser:
    """The ``negstate`` argument parser (also used by the docs' sphinx-argparse)."""
    parser = argparse.ArgumentParser(
        prog="negstate",
        description="Keep the state of a negotiation as an append-only log of typed, "
        "sourced events, and ask it what stood on any day, what changed and why.",
        epilog="Exit codes: 0 success, 1 a data or domain error, 2 a usage error.",
    )
    parser.add_argument(
        "--registry",
        metavar="MODULE:ATTR",
        help="an EventRegistry with user-defined event types, e.g. mytypes:REGISTRY",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show progress on stderr even when it is not a terminal",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    init = _command(commands, "init", _cmd_init, "create an empty log")
    _add_log(init)
    _build_add(commands)
    verify = _command(
        commands, "verify", _cmd_verify, "check a log's hash chain and records"
    )
    _add_log(verify)
    _add_json(verify, "the result")
    index = _command(
        commands,
        "index",
        _cmd_index,
        "keep a log's checkpoint index for fast queries",
        "Replay LOG once and keep its checkpoint index, so that 'negstate state' "
        "and 'negstate diff' answer without replaying the log.  An SQLite log "
        "keeps it in its database; a JSON Lines log keeps it in LOG.index beside "
        "it, a cache that need not be committed with the log.  Appends of "
        "built-in events keep it current, late reports among its last "
        f"{REFOLD_LIMIT:,} events included; "
        "after a revision, a report further back or one that changes the dates "
        "of an indexed event it is not used until you run this again.  It also keeps a "
        "snapshot of the decoded events, which later loads of the whole log read "
        "instead of the records; 'negstate verify' checks it against them.",
    )
    _add_log(index)
    copy = _command(
        commands,
        "copy",
        _cmd_copy,
        "copy a log's records, unchanged, into a new file",
        "Copy every record of LOG into a new log at NEW_LOG, with the same "
        "sequence numbers, recording times and hashes: the copy verifies and "
        "answers every question as LOG does.  NEW_LOG's suffix picks its backend, "
        "so this turns a JSON Lines log into an SQLite one and back.  With --index "
        "the copy also keeps its checkpoint index, for fast queries.  NEW_LOG "
        "must not exist; a copy that fails leaves nothing there.\n\n"
        "  negstate copy talks.jsonl talks.sqlite --index",
    )
    _add_log(copy)
    copy.add_argument("new_log", metavar="NEW_LOG", help="where the copy goes")
    copy.add_argument(
        "--index",
        action="store_true",
        help="keep the checkpoint index with the copy",
    )
    _build_queries(commands)
    _build_exchange(commands)
    _build_views(commands)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return f"negstate {version('negstate')}"
    except PackageNotFoundError:
        return "negstate (version unknown)"


def _context(args: argparse.Namespace, out: TextIO, err: TextIO) -> Context:
    registry = BUILTIN_EVENTS if args.registry is None else load_registry(args.registry)
    return Context(
        registry=registry,
        converter=shared_converter(registry),
        out=out,
        err=err,
        palette=Palette(enabled=use_colour(out)),
        progress=bool(args.progress) or err.isatty(),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); the exit code.

    A :class:`~negstate.NegstateError` becomes one line on stderr and exit code 1; a
    usage error is argparse's message and exit code 2.
    """
    try:
        return _run(argv)
    except SystemExit as exit_:
        if exit_.code is None:
            return EXIT_OK
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("negstate: interrupted\n")
        return 130


def _run(argv: list[str] | None) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        args = build_parser().parse_args(argv)
        ctx = _context(args, out, err)
        code: int = args.handler(args, ctx)
    except NegstateError as exc:
        err.write(f"negstate: {_one_line(str(exc))}\n")
        return EXIT_ERROR
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_ERROR
    except OSError as exc:
        err.write(f"negstate: {_os_problem(exc)}\n")
        return EXIT_ERROR
    return code


def _silence_stdout() -> None:
    """After the reader of a pipe went away, send what is left to /dev/null."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _os_problem(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc)
    return f"{where}{reason}; check the path and its permissions"


if __name__ == "__main__":  # pragma: no cover - python -m negstate.cli
    sys.exit(main())
