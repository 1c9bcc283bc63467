"""Replay the 2025 Russia-Ukraine talks to two days and show what changed between.

Run from anywhere: ``python examples/quickstart.py``.
"""

from __future__ import annotations

from pathlib import Path

import negstate

LOG = Path(__file__).parent / "ukraine_russia_2025" / "talks.jsonl"


def main() -> None:
    """Print each side's ceasefire position on two days and the diff between them."""
    with negstate.open_log(LOG) as log:
        june = negstate.state_at(log, on="2025-06-01")
        august = negstate.state_at(log, on="2025-08-01")

    print(f"{len(log)} events in {LOG.name}\n")
    for day, state in (("1 June 2025", june), ("1 August 2025", august)):
        print(f"Ceasefire positions on {day}:")
        for party in ("UA", "RU"):
            position = state.position(party, "ceasefire")
            if position is not None:
                print(f"  {party}: {position.stance} {position.terms.describe()}")
        print()

    changes = negstate.diff(june, august)
    print(f"What changed from 1 June to 1 August 2025 ({len(changes)} changes):")
    for change in changes.under("positions"):
        print(f"  {change}")
    for change in changes.under("exchanges"):
        print(f"  {change}")
    for change in changes.under("meetings"):
        print(f"  {change.path} [{', '.join(change.events)}]")


if __name__ == "__main__":
    main()
