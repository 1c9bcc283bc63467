"""negstate's benchmarks: medians and ratios against peers measured in the same run.

For each size (events in a synthetic log, see ``synthetic.py``) it measures:

- durable appends to a JSON Lines and an SQLite log: one event per fsync'ed call,
  and batches of 1,000;
- cold open + load + fold of the whole log from each backend, in a fresh process,
  from the records and from the snapshot a saved index keeps (also after 1,000
  appends since the save), and the same with the ``eventsourcing`` library
  replaying one aggregate holding the same events from its SQLite store, also
  in a fresh process;
- the in-memory fold of decoded events, against a minimal dict fold over the
  same records decoded to plain dicts (the floor), the two taken in turns;
- ``state_at`` on random days (warm), and ``diff`` between random days, days a
  day apart and days 30 days apart;
- peak resident memory of a fresh process that loads and folds the log;
- ``save_index`` on each backend, the snapshot of decoded events included;
- the ``negstate state LOG --at DAY`` and ``negstate diff LOG --from D1 --to D2``
  commands and the append of one event, each as a fresh process, replaying the
  SQLite log and then with its saved index.

Usage::

    python -m pip install -e '.[bench]'
    python benchmarks/bench.py --sizes 10000,100000,1000000 [--repeat 5]

Results print as a table and are written as JSON next to this script
(``results-<size>.json``, or in the folder given with ``--results``).  The
machine is noisy: every figure is a median.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import ISSUES, PARTIES, START, batches, synthetic_events

import negstate as ns
from negstate.replay import Timeline, build_timeline
from negstate.serialization import encode_event

HERE = Path(__file__).parent


def median_time(action: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``action`` in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long a setup step took."""
    started = time.perf_counter()
    yield
    print(f"  ({label}: {time.perf_counter() - started:.1f} s)", flush=True)


# -- the floor: a minimal dict fold ---------------------------------------------------


def dict_fold(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold pre-decoded records into dicts: the least work any fold must do."""
    positions: dict[tuple[str, str], Any] = {}
    proposals: dict[str, Any] = {}
    totals: dict[tuple[str, str], int] = {}
    other: dict[str, Any] = {}
    for record in records:
        kind = record["type"]
        if kind == "PositionStated":
            positions[record["party"], record["issue"]] = record
        elif kind == "ProposalMade":
            proposals[record["id"]] = [record]
        elif kind in {"ProposalAccepted", "ProposalRejected", "ProposalWithdrawn"}:
            proposals[record["proposal"]].append(record)
        elif kind == "SwapCompleted":
            for release in record["releases"]:
                key = (release["by"], release["category"])
                totals[key] = totals.get(key, 0) + release.get("count", 0)
        else:
            other[record["id"]] = record
    return {"positions": positions, "proposals": proposals, "totals": totals}


# -- the peer: eventsourcing --------------------------------------------------------


@functools.cache
def _negotiation_class() -> Any:  # noqa: ANN401 - an eventsourcing aggregate class
    """The peer's aggregate: one negotiation holding every event.

    Defined once: eventsourcing registers each aggregate class by name.
    """
    from eventsourcing.domain import Aggregate  # noqa: PLC0415

    class Negotiation(Aggregate):
        """One aggregate holding every event, as a log of one negotiation would."""

        def __init__(self) -> None:
            self.positions: dict[tuple[str, str], str] = {}
            self.proposals: dict[str, list[str]] = {}
            self.totals: dict[tuple[str, str], int] = {}
            self.other: dict[str, str] = {}

        class Recorded(Aggregate.Event):
            """A negstate event's JSON record."""

            record: dict[str, Any]

            def apply(self, aggregate: Aggregate) -> None:
                negotiation: Any = aggregate
                record = self.record
                kind = record["type"]
                if kind == "PositionStated":
                    negotiation.positions[record["party"], record["issue"]] = record[
                        "id"
                    ]
                elif kind == "ProposalMade":
                    negotiation.proposals[record["id"]] = [record["id"]]
                elif kind in {
                    "ProposalAccepted",
                    "ProposalRejected",
                    "ProposalWithdrawn",
                }:
                    negotiation.proposals[record["proposal"]].append(record["id"])
                elif kind == "SwapCompleted":
                    for release in record["releases"]:
                        key = (release["by"], release["category"])
                        negotiation.totals[key] = negotiation.totals.get(
                            key, 0
                        ) + release.get("count", 0)
                else:
                    negotiation.other[record["id"]] = kind

    return Negotiation


def eventsourcing_store(events: list[ns.Event], folder: Path) -> Callable[[], float]:
    """Store ``events`` as one eventsourcing aggregate in SQLite.

    Returns a replay: the seconds a fresh process takes to get the aggregate back.
    """
    from eventsourcing.application import Application  # noqa: PLC0415
    from eventsourcing.utils import get_topic  # noqa: PLC0415

    Negotiation = _negotiation_class()  # noqa: N806 - a class
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(folder / "eventsourcing.sqlite"),
    }
    application = Application(env=env)
    negotiation = Negotiation()
    converter = ns.make_converter()
    ordered = build_timeline(events).events
    for chunk in batches(list(ordered), 20_000):
        for event in chunk:
            negotiation.trigger_event(
                Negotiation.Recorded, record=encode_event(event, converter)
            )
        application.save(negotiation)
    aggregate_id = negotiation.id
    script = (
        "import sys, time, uuid\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from eventsourcing.application import Application\n"
        "from eventsourcing.utils import register_topic\n"
        "import bench\n"
        "negotiation = bench._negotiation_class()\n"
        # The stored topics name this script's module as it ran here.
        f"register_topic({get_topic(Negotiation)!r}, negotiation)\n"
        f"register_topic({get_topic(Negotiation.Created)!r}, negotiation.Created)\n"
        f"register_topic({get_topic(Negotiation.Recorded)!r}, negotiation.Recorded)\n"
        f"application = Application(env={env!r})\n"
        "started = time.perf_counter()\n"
        f"found = application.repository.get(uuid.UUID({str(aggregate_id)!r}))\n"
        "print(time.perf_counter() - started)\n"
        # The aggregate's own creation is one more event.
        f"assert found.version == {len(events) + 1}, found.version\n"
    )

    def replay() -> float:
        return _child_figure(script)

    return replay


# -- measurements ---------------------------------------------------------------------


def write_log(path: Path, events: list[ns.Event]) -> float:
    """Bulk-import ``events`` (no fsync per batch, one sync at the end); seconds."""
    started = time.perf_counter()
    with ns.open_log(path, fsync=False) as log:
        for batch in batches(events, 100_000):
            log.append_many(batch)
        log.sync()
    return time.perf_counter() - started


def appends(path: Path, events: list[ns.Event], repeat: int) -> tuple[float, float]:
    """Median ms of one durable append, and events/s of durable batches of 1,000."""
    last_day = max(e.occurred.latest for e in events if e.occurred.latest is not None)
    source = ns.Source(title="Benchmark wire")

    def later(number: int) -> ns.Event:
        return ns.PositionStated(
            id=f"late-append-{path.suffix}-{number}",
            occurred=last_day + timedelta(days=1 + number),
            sources=source,
            party="P00",
            issue="issue_00",
            stance="demands",
        )

    single: list[float] = []
    with ns.open_log(path) as log:
        ns.state_at(log)
        for number in range(max(repeat * 10, 50)):
            started = time.perf_counter()
            log.append(later(number))
            single.append(time.perf_counter() - started)
        batched: list[float] = []
        for round_number in range(repeat):
            batch = [later(10_000 + round_number * 1000 + n) for n in range(1000)]
            started = time.perf_counter()
            log.append_many(batch)
            batched.append(time.perf_counter() - started)
    return statistics.median(single) * 1e3, 1000 / statistics.median(batched)


def _child_figure(script: str, *args: str) -> float:
    """Run ``script`` in a fresh Python process; the number it prints last."""
    output = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode:
        raise RuntimeError(output.stderr)
    return float(output.stdout.split()[-1])


def cold_load(path: Path) -> float:
    """Seconds for a fresh process to open the log, decode it and fold the state.

    A fresh process, as a user's would be: in this one, which holds the generated
    events, every pass of the garbage collector would also walk them.  The time
    starts after ``import negstate``.
    """
    return _child_figure(
        "import sys, time\n"
        "import negstate as ns\n"
        "started = time.perf_counter()\n"
        "with ns.open_log(sys.argv[1]) as log:\n"
        "    ns.state_at(log)\n"
        "print(time.perf_counter() - started)\n",
        str(path),
    )


def peak_memory(path: Path, *, dated: bool = False) -> float:
    """Peak resident MB of a fresh process that loads and folds the log.

    Read from ``VmHWM``: ``ru_maxrss`` of a child starts at its parent's peak on
    Linux, and this process holds the generated events.  With ``dated`` the process
    also builds the checkpoint index (a ``state_at`` on a day).
    """
    script = (
        "import sys, negstate as ns\n"
        "log = ns.open_log(sys.argv[1])\n"
        "state = ns.state_at(log)\n"
        + ("state = ns.state_at(log, on='2020-01-01')\n" if dated else "")
        + "print(next(int(line.split()[1]) for line in open('/proc/self/status')"
        " if line.startswith('VmHWM')) / 1024)\n"
    )
    return _child_figure(script, str(path))


def cli_state(path: Path, day: date) -> float | None:
    """Seconds for ``negstate state LOG --at DAY`` as a fresh process."""
    return cli_seconds("state", str(path), "--at", day.isoformat())


def cli_diff(path: Path, first: date, last: date) -> float | None:
    """Seconds for ``negstate diff LOG --from FIRST --to LAST`` as a fresh process."""
    return cli_seconds(
        "diff", str(path), "--from", first.isoformat(), "--to", last.isoformat()
    )


def cli_seconds(*argv: str) -> float | None:
    """Seconds for ``negstate ARGV`` as a fresh process.

    None when the command fails (its error is printed).
    """
    command = [sys.executable, "-m", "negstate", *argv]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        print(f"  (CLI failed: {result.stderr.strip()[:200]})")
        return None
    return time.perf_counter() - started


def random_days(rng: random.Random, count: int) -> list[date]:
    """Days spread over the synthetic logs' ten years."""
    return [START + timedelta(days=rng.randrange(3650)) for _ in range(count)]


def measure(size: int, repeat: int, folder: Path, *, peer: bool) -> dict[str, float]:
    """Every figure for one log size."""
    print(f"\n== {size:,} events ==", flush=True)
    with timed("generate"):
        events = synthetic_events(size)
    jsonl, sqlite = folder / f"log-{size}.jsonl", folder / f"log-{size}.sqlite"
    figures = storage_figures(events, jsonl, sqlite, repeat)
    figures.update(fold_figures(events, repeat))
    days = random_days(random.Random(size), 201)
    figures.update(replay_figures(build_timeline(events), days))
    with timed("durable appends"):
        for name, path in (("jsonl", jsonl), ("sqlite", sqlite)):
            one, many = appends(path, events, repeat)
            figures[f"durable append, one event {name} (ms)"] = one
            figures[f"durable append, batches of 1,000 {name} (events/s)"] = many
    figures.update(cli_figures(sqlite, days[0]))
    figures.update(indexed_json_lines_figures(jsonl, days[0]))
    figures.update(snapshot_figures(jsonl, sqlite, repeat))
    if peer:
        with timed("eventsourcing store"):
            replay = eventsourcing_store(events, folder)
        rate = size / statistics.median(replay() for _ in range(max(1, repeat // 2)))
        figures["eventsourcing replay from sqlite (events/s)"] = rate
        ours = max(
            figures["cold load + fold jsonl (events/s)"],
            figures["cold load + fold sqlite (events/s)"],
        )
        figures["negstate cold load / eventsourcing replay (x)"] = ours / rate
        ours = max(
            figures["cold load + fold jsonl, snapshot (events/s)"],
            figures["cold load + fold sqlite, snapshot (events/s)"],
        )
        figures["negstate cold load from the snapshot / eventsourcing (x)"] = (
            ours / rate
        )
    return figures


def snapshot_figures(jsonl: Path, sqlite: Path, repeat: int) -> dict[str, float]:
    """Cold load + fold of each backend right after its index is saved.

    The index keeps a snapshot of the decoded events, which the load reads
    instead of the records.
    """
    figures: dict[str, float] = {}
    with timed("snapshots"):
        for name, path in (("jsonl", jsonl), ("sqlite", sqlite)):
            with ns.open_log(path) as log:
                started = time.perf_counter()
                log.save_index()
                figures[f"save_index {name}, snapshot included (s)"] = (
                    time.perf_counter() - started
                )
                size = len(log)
            seconds = statistics.median(
                cold_load(path) for _ in range(max(1, repeat // 2))
            )
            figures[f"cold load + fold {name}, snapshot (events/s)"] = size / seconds
    figures["peak RSS load + fold sqlite, snapshot (MB)"] = peak_memory(sqlite)
    with timed("snapshots, 1,000 appends since"):
        size = append_news(sqlite, 1000)
        seconds = statistics.median(
            cold_load(sqlite) for _ in range(max(1, repeat // 2))
        )
        figures["cold load + fold sqlite, snapshot + 1,000 since (events/s)"] = (
            size / seconds
        )
        figures["peak RSS load + fold sqlite, snapshot + 1,000 since (MB)"] = (
            peak_memory(sqlite)
        )
    return figures


def append_news(path: Path, count: int) -> int:
    """Append ``count`` events dated after everything; the log's size after."""
    with ns.open_log(path) as log:
        log.append_many(
            ns.PositionStated(
                id=f"news-{number}",
                occurred=date(9001, 1, 1) + timedelta(days=number),
                sources=ns.Source(title="Benchmark wire"),
                party=PARTIES[number % len(PARTIES)],
                issue=ISSUES[number % len(ISSUES)],
                stance="supports" if number % 2 else "opposes",
            )
            for number in range(count)
        )
        return len(log)


def storage_figures(
    events: list[ns.Event], jsonl: Path, sqlite: Path, repeat: int
) -> dict[str, float]:
    """Bulk import, cold load and peak memory for both backends."""
    size = len(events)
    figures: dict[str, float] = {}
    with timed("bulk import"):
        figures["bulk import jsonl (events/s)"] = size / write_log(jsonl, events)
        figures["bulk import sqlite (events/s)"] = size / write_log(sqlite, events)
    for name, path in (("jsonl", jsonl), ("sqlite", sqlite)):
        seconds = statistics.median(cold_load(path) for _ in range(max(1, repeat // 2)))
        figures[f"cold load + fold {name} (events/s)"] = size / seconds
    figures["peak RSS load + fold sqlite (MB)"] = peak_memory(sqlite)
    figures["peak RSS load + fold + index sqlite (MB)"] = peak_memory(
        sqlite, dated=True
    )
    return figures


def fold_figures(events: list[ns.Event], repeat: int) -> dict[str, float]:
    """The in-memory fold against the dict-fold floor, on the same records."""
    ordered = list(build_timeline(events).events)
    converter = ns.make_converter()
    records = [encode_event(event, converter) for event in ordered]
    # Taken in turns, so that a slow spell of the machine weighs on both.
    folds, floors = [], []
    for _ in range(repeat):
        folds.append(median_time(lambda: ns.fold(ordered), 1))
        floors.append(median_time(lambda: dict_fold(records), 1))
    return {
        "in-memory fold (events/s)": len(events) / statistics.median(folds),
        "dict fold floor (events/s)": len(events) / statistics.median(floors),
        "fold / floor (x)": statistics.median(
            fold / floor for fold, floor in zip(folds, floors, strict=True)
        ),
    }


def replay_figures(timeline: Timeline, days: list[date]) -> dict[str, float]:
    """state_at on random days and diffs between days, on a warm timeline."""
    timeline.state_at()
    figures = {
        "state_at warm (ms)": statistics.median(
            _timed_ms(lambda d=d: timeline.state_at(d)) for d in days
        ),
        "state_at + one party's positions (ms)": statistics.median(
            _timed_ms(lambda d=d: timeline.state_at(d).positions_of("P03"))
            for d in days
        ),
    }
    random_pairs = list(zip(days[:40], days[40:80], strict=True))
    for label, pairs, focus in (
        ("diff, random days", random_pairs, None),
        ("diff, a day apart", [(d, d + timedelta(days=1)) for d in days[:40]], None),
        ("diff, 30 days apart", [(d, d + timedelta(days=30)) for d in days[:40]], None),
        ("diff under positions/P03, random days", random_pairs, "positions/P03"),
        ("diff under proposals, random days", random_pairs, "proposals"),
    ):
        sizes: list[int] = []
        times: list[float] = []
        for first, second in pairs:
            started = time.perf_counter()
            changes = ns.diff(
                timeline.state_at(first), timeline.state_at(second), under=focus
            )
            times.append((time.perf_counter() - started) * 1e3)
            sizes.append(len(changes))
        figures[f"{label} (ms)"] = statistics.median(times)
        figures[f"{label} (changes)"] = statistics.median(sizes)
    return figures


def fresh_append(path: Path, number: int, *, late: bool = False) -> float:
    """Seconds for a fresh process to open the log, append one event and close it.

    The event is dated after everything the benchmark wrote, so a saved index can
    take it at its end; a ``late`` one is dated on the last of those days with an
    id that sorts before the day's last event, so it lands inside the order.  The
    time starts after ``import negstate``.
    """
    event_id = f"aaa-late-{number}" if late else f"fresh-append-{number}"
    day = "9000-01-06" if late else f"9000-01-{number + 1:02d}"
    return _child_figure(
        "import sys, time\n"
        "import negstate as ns\n"
        "started = time.perf_counter()\n"
        "with ns.open_log(sys.argv[1]) as log:\n"
        "    log.append(ns.PositionStated(id=sys.argv[2], occurred=sys.argv[3],\n"
        "        sources=ns.Source(title='Benchmark wire'), party='P00',\n"
        "        issue='issue_00', stance='supports'))\n"
        "print(time.perf_counter() - started)\n",
        str(path),
        event_id,
        day,
    )


def cli_figures(sqlite: Path, day: date) -> dict[str, float]:
    """``negstate state``, ``diff`` and one append as fresh processes.

    First replaying the log, then with the saved index, which the appends (dated
    after everything, then late reports of the last day) keep current.
    """
    figures: dict[str, float] = {}
    month = (day, day + timedelta(days=30))
    replayed = cli_state(sqlite, day)
    if replayed is not None:
        figures["negstate state --at, fresh process, sqlite (s)"] = replayed
    replayed = cli_diff(sqlite, *month)
    if replayed is not None:
        figures["negstate diff, 30 days apart, fresh process, sqlite (s)"] = replayed
    figures["append one event, fresh process, sqlite (s)"] = fresh_append(sqlite, 0)
    with ns.open_log(sqlite) as log:
        log.save_index()
    indexed = cli_state(sqlite, day)
    if indexed is not None:
        figures["negstate state --at, fresh process, saved index (s)"] = indexed
    at = day.isoformat()
    with ns.open_log(sqlite, read_only=True) as log:
        state = log.saved_state_at(day)
        party, issue = min(state.positions) if state and state.positions else ("", "")
    commands = [
        ("state --at --party", ("state", str(sqlite), "--at", at, "--party", "P03"))
    ]
    if party:
        path = f"positions/{party}/{issue}"
        commands.append(("explain", ("explain", str(sqlite), path, "--at", at)))
    for label, argv in commands:
        indexed = cli_seconds(*argv)
        if indexed is not None:
            figures[f"negstate {label}, fresh process, saved index (s)"] = indexed
    for label, days in (("1 day", (day, day + timedelta(days=1))), ("30 days", month)):
        indexed = cli_diff(sqlite, *days)
        if indexed is not None:
            figures[f"negstate diff, {label} apart, fresh process, saved index (s)"] = (
                indexed
            )
    figures["append one event, fresh process, saved index (s)"] = statistics.median(
        fresh_append(sqlite, number) for number in range(1, 6)
    )
    figures["append one late report, fresh process, saved index (s)"] = (
        statistics.median(
            fresh_append(sqlite, number, late=True) for number in range(1, 6)
        )
    )
    figures["append, fresh process: replay / saved index (x)"] = (
        figures["append one event, fresh process, sqlite (s)"]
        / figures["append one event, fresh process, saved index (s)"]
    )
    with ns.open_log(sqlite, read_only=True) as log:
        figures["saved index still current after the appends (1 = yes)"] = float(
            log.saved_state_at() is not None
        )
    return figures


def indexed_json_lines_figures(jsonl: Path, day: date) -> dict[str, float]:
    """The fresh-process figures of a JSON Lines log with its index beside it."""
    with ns.open_log(jsonl) as log:
        log.save_index()
    figures: dict[str, float] = {
        "open a JSON Lines log and count it, fresh process, index (s)": _child_figure(
            "import sys, time\n"
            "import negstate as ns\n"
            "started = time.perf_counter()\n"
            "with ns.open_log(sys.argv[1], read_only=True) as log:\n"
            "    len(log)\n"
            "print(time.perf_counter() - started)\n",
            str(jsonl),
        )
    }
    indexed = cli_state(jsonl, day)
    if indexed is not None:
        figures["negstate state --at, fresh process, jsonl + index (s)"] = indexed
    indexed = cli_diff(jsonl, day, day + timedelta(days=30))
    if indexed is not None:
        figures["negstate diff, 30 days apart, fresh process, jsonl + index (s)"] = (
            indexed
        )
    figures["append one event, fresh process, jsonl + index (s)"] = statistics.median(
        fresh_append(jsonl, number) for number in range(1, 6)
    )
    with ns.open_log(jsonl, read_only=True) as log:
        figures["jsonl index still current after the appends (1 = yes)"] = float(
            log.saved_state_at() is not None
        )
    return figures


def _timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1e3


def main() -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-peer", action="store_true", help="skip eventsourcing")
    parser.add_argument(
        "--results", type=Path, default=HERE, help="folder for results-<size>.json"
    )
    options = parser.parse_args()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        for size in (int(s) for s in options.sizes.split(",")):
            results[size] = measure(
                size, options.repeat, Path(name), peer=not options.no_peer
            )
            (options.results / f"results-{size}.json").write_text(
                json.dumps(results[size], indent=2)
            )
    sizes = list(results)
    width = max(len(label) for figures in results.values() for label in figures)
    print("\n" + "figure".ljust(width) + "".join(f"{s:>14,}" for s in sizes))
    for label in results[sizes[0]]:
        row = "".join(f"{results[s].get(label, float('nan')):>14,.2f}" for s in sizes)
        print(label.ljust(width) + row)
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
