"""Compare what the record said about a day then with what it says now.

Shows the second axis of time, ``known_at``: the log keeps when each event was
recorded, so ``negstate.state_at(log, on=DAY, known_at=WHEN)`` replays only what
had been recorded by WHEN, corrections and merges included.  The script prints one
day as known at two recording times, the diff between the two, and the revisions
that explain each change.  By default: 27 June 2025, as recorded by the end of
27 June, against the whole log, in which article 004 (23 July) has bounded how long
the first two Istanbul rounds lasted.

Run from anywhere::

    python examples/as_known_on.py
    python examples/as_known_on.py --at 2025-07-31 --known-from 2025-06-27
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import negstate
from negstate import ChangeKind, Diff, NegotiationState, Timeline

LOG = Path(__file__).parent / "ukraine_russia_2025" / "talks.jsonl"


def end_of(day: str | None) -> datetime | None:
    """The last moment of ``day`` in UTC (``None``: everything recorded)."""
    if day is None:
        return None
    return datetime.combine(date.fromisoformat(day), time.max, tzinfo=UTC)


def label(known_at: str | None) -> str:
    """How to name a recording time in the output."""
    return "now" if known_at is None else f"at the end of {known_at}"


def overview(timeline: Timeline, state: NegotiationState) -> str:
    """How many events were on record, and how many had surely happened by the day."""
    return (
        f"{len(timeline)} events on record, {len(state.events)} of them "
        f"surely by {state.as_of}"
    )


def print_changes(changes: Diff, before: Timeline, after: Timeline) -> None:
    """Print each change with the revisions recorded between the two times."""
    print(f"\n{len(changes)} change(s) to the record of that day:")
    for change in changes:
        if change.kind is ChangeKind.CHANGED:
            print(f"  {change}")
        else:
            print(f"  {'+' if change.kind is ChangeKind.ADDED else '-'} {change.path}")
        for event_id in change.events:
            new = set(after.revised_by.get(event_id, ())) - set(
                before.revised_by.get(event_id, ())
            )
            for revision_id in sorted(new):
                kind = type(after.revisions[revision_id]).__name__
                print(f"      because of {revision_id} ({kind})")


def main(argv: list[str] | None = None) -> int:
    """Replay ``--at`` as known at two recording times and print the difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=LOG, help="the event log to read")
    parser.add_argument("--at", default="2025-06-27", help="the day asked about")
    parser.add_argument(
        "--known-from", default="2025-06-27", help="the earlier recording day"
    )
    parser.add_argument(
        "--known-to", help="the later recording day (default: the whole log)"
    )
    args = parser.parse_args(argv)
    try:
        with negstate.open_log(args.log, read_only=True) as log:
            before = log.timeline(known_at=end_of(args.known_from))
            after = log.timeline(known_at=end_of(args.known_to))
            then, now = before.state_at(args.at), after.state_at(args.at)
            print(f"{args.log.name} on {args.at}")
            print(f"  as recorded {label(args.known_from)}: {overview(before, then)}")
            print(f"  as recorded {label(args.known_to)}: {overview(after, now)}")
            print_changes(negstate.diff(then, now), before, after)
    except (negstate.NegstateError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
