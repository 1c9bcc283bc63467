"""Print what changed in the 2025 Russia-Ukraine talks between two days.

Shows :func:`negstate.diff`: the state on one day against the state on another, as
the log knows both now, grouped by section (positions, proposals, meetings, ...).
Each change names the events behind it.

Run from anywhere::

    python examples/diff_two_dates.py                # 1 June to 1 August 2025
    python examples/diff_two_dates.py --from 2025-06-27 --to 2025-07-31
"""

from __future__ import annotations

import argparse
import sys
from itertools import groupby
from pathlib import Path

import negstate
from negstate import Change, ChangeKind

LOG = Path(__file__).parent / "ukraine_russia_2025" / "talks.jsonl"

SECTIONS = {
    "positions": "Positions",
    "proposals": "Proposals",
    "meeting_proposals": "Proposed meetings",
    "meetings": "Meetings held",
    "agreements": "Agreements",
    "deadlines": "Deadlines",
    "swaps": "Swaps",
    "exchanges": "Exchange totals",
    "figures": "Figures",
}
MARKS = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.CHANGED: "~"}
PROVENANCE = {"event", "events", "basis", "since"}
"""Fields that only say which event a value came from."""


def section_of(change: Change) -> str:
    """The first part of the change's path: ``positions``, ``meetings``, ..."""
    return change.path.split("/", 1)[0]


def rank(change: Change) -> int:
    """Where the change's section comes in :data:`SECTIONS` (unknown ones last)."""
    order = list(SECTIONS)
    section = section_of(change)
    return order.index(section) if section in order else len(order)


def describe(change: Change) -> str:
    """One line: +/-/~, the record's key, the fields that changed, the events."""
    key = change.path.split("/", 1)[1]
    line = f"{MARKS[change.kind]} {key}"
    fields = [name for name in change.fields if name not in PROVENANCE]
    if fields:
        line += f" ({', '.join(fields)})"
    return f"{line}  <- {', '.join(change.events)}"


def main(argv: list[str] | None = None) -> int:
    """Diff the states on ``--from`` and ``--to`` and print the changes by section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=LOG, help="the event log to read")
    parser.add_argument(
        "--from", dest="start", default="2025-06-01", help="the earlier day"
    )
    parser.add_argument("--to", dest="end", default="2025-08-01", help="the later day")
    args = parser.parse_args(argv)
    try:
        with negstate.open_log(args.log, read_only=True) as log:
            changes = negstate.diff(
                negstate.state_at(log, on=args.start),
                negstate.state_at(log, on=args.end),
            )
    except negstate.NegstateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(changes)} changes in {args.log.name} from {args.start} to {args.end}")
    ordered = sorted(changes, key=rank)
    for section, group in groupby(ordered, key=section_of):
        in_section = list(group)
        print(f"\n{SECTIONS.get(section, section)} ({len(in_section)})")
        for change in in_section:
            print(f"  {describe(change)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
