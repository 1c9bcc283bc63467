"""Trace one figure of the 2025 Russia-Ukraine talks back to its reports.

Shows :func:`negstate.explain`: the events behind a piece of state (a path such as
``exchanges/UA/prisoners_of_war``), each with its sources and their quotes, and the
corrections and merges that later reports made to those events.

Run from anywhere::

    python examples/explain_figure.py        # prisoners of war released by Ukraine
    python examples/explain_figure.py figures/children/sought_by_ukraine
    python examples/explain_figure.py meetings/2025-05-16-istanbul-round-1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import negstate
from negstate import EventLog, ExchangeTotal, Explanation, Figure, Meeting

LOG = Path(__file__).parent / "ukraine_russia_2025" / "talks.jsonl"
DEFAULT_PATH = "exchanges/UA/prisoners_of_war"


def summary(record: object) -> str:
    """A short account of the record at the path."""
    if isinstance(record, ExchangeTotal):
        swaps = "" if record.unreported else f" in {record.releases} release(s)"
        return f"{record.party} released {record}{swaps}"
    if isinstance(record, Figure):
        claims = "; ".join(f"{c.claimant} says {c.value}" for c in record.claims)
        return claims + (" (disputed)" if record.disputed else "")
    if isinstance(record, Meeting):
        minutes = record.duration_minutes
        length = "not reported" if minutes is None else f"{minutes} minutes"
        return f"held {record.occurred.describe()}; duration {length}"
    status = getattr(record, "status", None)
    name = type(record).__name__
    return name if status is None else f"{name}, {status}"


def explained(log: EventLog, path: str, at: str | None) -> Explanation:
    """Explain ``path`` on day ``at``, with the revisions the log has recorded."""
    timeline = log.timeline()
    return negstate.explain(
        timeline.state_at(at),
        path,
        revisions=timeline.revisions,
        revised_by=timeline.revised_by,
    )


def print_explanation(explanation: Explanation, log: EventLog) -> None:
    """Print each event with its sources and quotes, then its revisions."""
    for event in explanation.events:
        print(f"\n{event.occurred.describe()}: {event.id} ({type(event).__name__})")
        for source in event.sources:
            print(f"    {source.cite()}")
            if source.quote:
                print(f'      "{source.quote}"')
        for revision in explanation.revised_by.get(event.id, ()):
            record = log.get(revision.id)
            recorded = (
                "" if record is None else f", recorded {record.recorded_at:%Y-%m-%d}"
            )
            print(f"    revised by {revision.id} ({type(revision).__name__}{recorded})")
            if revision.note:
                print(f"      {revision.note}")


def main(argv: list[str] | None = None) -> int:
    """Explain ``path`` and print the events, sources and revisions behind it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", nargs="?", default=DEFAULT_PATH, help="a state path to explain"
    )
    parser.add_argument("--log", type=Path, default=LOG, help="the event log to read")
    parser.add_argument("--at", help="the day (YYYY-MM-DD); default: after every event")
    args = parser.parse_args(argv)
    try:
        with negstate.open_log(args.log, read_only=True) as log:
            explanation = explained(log, args.path, args.at)
            print(f"{explanation.path}: {summary(explanation.record)}")
            print(
                f"{len(explanation.events)} event(s) from "
                f"{len({s.title for s in explanation.sources})} report(s)"
            )
            print_explanation(explanation, log)
    except negstate.NegstateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
