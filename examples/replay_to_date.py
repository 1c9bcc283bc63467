"""Replay the 2025 Russia-Ukraine talks to one day and print where things stood.

Shows :func:`negstate.state_at`: each party's positions, the proposals still open,
what each side had released in prisoner exchanges, and the deadlines still running
on that day, as the log knows it now.

Run from anywhere::

    python examples/replay_to_date.py               # 1 June 2025
    python examples/replay_to_date.py --at 2025-07-31
    python examples/replay_to_date.py --log my_talks.jsonl --at 2025-03-01
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import negstate
from negstate import NegotiationState, Position

LOG = Path(__file__).parent / "ukraine_russia_2025" / "talks.jsonl"


def describe_position(position: Position) -> str:
    """One line: the issue, the stance, the terms, and whose word it is."""
    terms = position.terms.describe() or position.text
    line = f"{position.issue}: {position.stance} {terms}"
    if position.claimed_by is not None:
        line += f" (according to {position.claimed_by})"
    if position.disputed:
        line += " [disputed]"
    return line


def print_state(state: NegotiationState) -> None:
    """Print positions, open proposals, exchange totals and active deadlines."""
    print("Positions")
    for party in sorted({party for party, _ in state.positions}):
        print(f"  {party}")
        for _, position in sorted(state.positions_of(party).items()):
            print(f"    {describe_position(position)}")

    print("\nOpen proposals")
    proposals = list(state.open_proposals())
    for proposal in proposals:
        addressees = ", ".join(proposal.addressees)
        print(
            f"  {proposal.id}: {proposal.proposer} to {addressees} on {proposal.issue}"
        )
        print(f"    {proposal.terms.describe()}")
    if not proposals:
        print("  none")

    print("\nExchange totals (people released so far)")
    for (party, category), total in sorted(state.exchanges.items()):
        swaps = "1 swap" if total.releases == 1 else f"{total.releases} swaps"
        print(f"  {party} released {category}: {total}, in {swaps}")
    if not state.exchanges:
        print("  none")

    print("\nActive deadlines")
    deadlines = list(state.active_deadlines())
    for deadline in deadlines:
        against = ", ".join(deadline.against)
        print(f"  {deadline.by} to {against}: {deadline.demand}")
        print(f"    expires {deadline.expires.describe()}, or {deadline.consequence}")
    if not deadlines:
        print("  none")


def main(argv: list[str] | None = None) -> int:
    """Replay the log to ``--at`` and print the state on that day."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=LOG, help="the event log to read")
    parser.add_argument("--at", default="2025-06-01", help="the day (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    try:
        with negstate.open_log(args.log, read_only=True) as log:
            state = negstate.state_at(log, on=args.at)
    except negstate.NegstateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.log.name} on {args.at}: {len(state.events)} events count by then\n")
    print_state(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
