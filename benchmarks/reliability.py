"""Reliability figures for negstate's durable logs (not part of the fast test suite).

Runs, for each backend (JSON Lines and SQLite):

- the crash loop: a writer appending in a loop is SIGKILLed at a random moment,
  the log is reopened and checked, ``--crashes`` times;
- the tamper loop: ``--mutations`` random changes to a copy of a log, each checked
  with ``verify_log``;
- the concurrency test at a larger size: ``--writers`` processes x ``--appends``
  appends with ``expected_seq`` and retry.

and prints the figures: crashes survived, acknowledged events lost, mutations
detected / tried, records stored / expected.  Usage::

    python benchmarks/reliability.py [--crashes 1000] [--mutations 10000]
        [--writers 8] [--appends 1000] [--seed 2025]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import negstate
from negstate.testing import concurrent_trial, crash_trial, tamper_trial, trial_event


def crash_loop(folder: Path, suffix: str, crashes: int, rng: random.Random) -> str:
    """Kill a writer ``crashes`` times; report survivals, losses and repairs."""
    path = folder / f"crash.{suffix}"
    survived = lost = repaired = acknowledged = 0
    problems: list[str] = []
    for number in range(crashes):
        outcome = crash_trial(path, rng=rng, prefix=f"c{number}")
        acknowledged += outcome.acknowledged
        lost += len(outcome.lost)
        repaired += outcome.repaired
        if outcome.verified and not outcome.lost and not outcome.problem:
            survived += 1
        elif outcome.problem:
            problems.append(outcome.problem)
    with negstate.open_log(path) as log:
        stored = len(log)
    lines = [
        f"crashes survived: {survived} / {crashes}",
        f"acknowledged appends: {acknowledged:,}; lost: {lost}; stored: {stored:,}",
        f"torn tails moved aside on reopening: {repaired}",
    ]
    lines += [f"problem: {p}" for p in problems[:5]]
    return "\n  ".join(lines)


def tamper_loop(folder: Path, suffix: str, mutations: int, rng: random.Random) -> str:
    """Make ``mutations`` random changes to copies of a log; count detections."""
    pristine = folder / f"pristine.{suffix}"
    with negstate.open_log(pristine) as log:
        log.append_many([trial_event(f"e{n}", n) for n in range(20)])
    detected = 0
    missed: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for _ in range(mutations):
        outcome = tamper_trial(pristine, rng=rng)
        kind = outcome.mutation.split()[0]
        kinds[kind] += 1
        if outcome.detected:
            detected += 1
        else:
            missed[outcome.mutation] += 1
    by_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    lines = [f"mutations detected: {detected:,} / {mutations:,} ({by_kind})"]
    lines += [f"missed: {m} x{n}" for m, n in missed.most_common(5)]
    return "\n  ".join(lines)


def concurrency(folder: Path, suffix: str, writers: int, appends: int) -> str:
    """Run concurrent writers; check for gaps and duplicates."""
    path = folder / f"busy.{suffix}"
    started = time.perf_counter()
    try:
        seqs = concurrent_trial(path, processes=writers, appends=appends)
    except RuntimeError as failure:
        return f"{writers} writers x {appends} appends: FAILED ({failure})"
    seconds = time.perf_counter() - started
    expected = writers * appends
    with negstate.open_log(path) as log:
        unique = len({record.event.id for record in log})
        intact = log.verify().ok
    gaps = seqs != list(range(1, expected + 1))
    return (
        f"{writers} writers x {appends} appends: {len(seqs):,} records / {expected:,} "
        f"expected, {unique:,} distinct ids, gaps: {'yes' if gaps else 'none'}, "
        f"verify: {'ok' if intact else 'BROKEN'} ({seconds:.1f} s)"
    )


def main() -> None:
    """Run the three loops on both backends and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crashes", type=int, default=1000)
    parser.add_argument("--mutations", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--appends", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--backends", default="jsonl,sqlite")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    for suffix in options.backends.split(","):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            print(f"[{suffix}]")
            started = time.perf_counter()
            print("  " + crash_loop(folder, suffix, options.crashes, rng))
            print("  " + tamper_loop(folder, suffix, options.mutations, rng))
            print("  " + concurrency(folder, suffix, options.writers, options.appends))
            print(f"  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
