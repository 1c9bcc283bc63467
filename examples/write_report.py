"""Write the HTML report and the timeline chart of the 2025 Russia-Ukraine talks.

Shows :func:`negstate.report.write_report`, one self-contained HTML page (positions,
proposals, exchanges, meetings, deadlines, disputed figures, changes, every event
linked to its sources), and :func:`negstate.plot.plot_timeline`, a PNG chart of the
same timeline.  The chart needs matplotlib: ``pip install 'negstate[plot]'``.

Run from anywhere; the files go to ``--out-dir`` (default: the current folder)::

    python examples/write_report.py
    python examples/write_report.py --out-dir /tmp/talks --at 2025-07-31
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import negstate
from negstate.plot import plot_timeline
from negstate.report import write_report

LOG = Path(__file__).parent / "ukraine_russia_2025" / "talks.jsonl"


def main(argv: list[str] | None = None) -> int:
    """Write ``report.html`` and ``timeline.png`` into ``--out-dir``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=LOG, help="the event log to read")
    parser.add_argument(
        "--out-dir", type=Path, default=Path(), help="where to write the two files"
    )
    parser.add_argument(
        "--at", help="the day statuses are shown for (default: the last event's day)"
    )
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with negstate.open_log(args.log, read_only=True) as log:
            report = write_report(log, args.out_dir / "report.html", at=args.at)
            print(f"wrote {report} ({report.stat().st_size:,} bytes)")
            chart = plot_timeline(log, args.out_dir / "timeline.png", at=args.at)
            print(f"wrote {chart} ({chart.stat().st_size:,} bytes)")
    except negstate.NegstateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
