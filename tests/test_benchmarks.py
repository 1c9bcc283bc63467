"""The benchmarks still run, and their synthetic logs are what they claim to be.

Nothing here is about time: the benchmark runs once at a small size to catch a
crash, and its figures are only checked to be present and positive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import negstate as ns

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from synthetic import synthetic_events  # noqa: E402 - found through the path above


@pytest.fixture(scope="module")
def events() -> list[ns.Event]:
    return synthetic_events(3000)


def test_the_same_seed_gives_the_same_log(events: list[ns.Event]) -> None:
    assert synthetic_events(3000) == events
    assert synthetic_events(3000, seed=7) != events


def test_the_synthetic_log_folds_and_holds_every_kind_of_event(
    events: list[ns.Event],
) -> None:
    kinds = {type(event).__name__ for event in events}
    assert {
        "PositionStated",
        "ProposalMade",
        "ProposalAccepted",
        "ProposalRejected",
        "ProposalWithdrawn",
        "SwapCompleted",
        "MeetingProposed",
        "MeetingHeld",
        "AgreementReached",
        "DeadlineSet",
    } <= kinds
    state = ns.state_at(events)
    assert state.proposals
    assert state.swaps


def test_the_synthetic_log_has_fuzzy_dates_and_late_reports(
    events: list[ns.Event],
) -> None:
    fuzzy = [e for e in events if e.occurred.earliest != e.occurred.latest]
    assert len(fuzzy) > len(events) // 50
    # A late report: recorded after an event that surely happened later than it.
    surely_by = [e.occurred.latest for e in events if e.occurred.latest is not None]
    latest_so_far = date.min
    late = 0
    for day in surely_by:
        late += day < latest_so_far
        latest_so_far = max(latest_so_far, day)
    assert late > len(events) // 100


def test_the_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - this Python on our own script
        [
            sys.executable,
            str(BENCHMARKS / "bench.py"),
            "--sizes",
            "2000",
            "--repeat",
            "1",
            "--no-peer",
            "--results",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads((tmp_path / "results-2000.json").read_text())
    for label in (
        "cold load + fold jsonl (events/s)",
        "cold load + fold sqlite (events/s)",
        "in-memory fold (events/s)",
        "dict fold floor (events/s)",
        "state_at warm (ms)",
        "diff, random days (ms)",
        "diff under positions/P03, random days (ms)",
        "durable append, one event sqlite (ms)",
        "peak RSS load + fold sqlite (MB)",
        "save_index sqlite, snapshot included (s)",
        "cold load + fold sqlite, snapshot (events/s)",
        "cold load + fold sqlite, snapshot + 1,000 since (events/s)",
        "negstate state --at, fresh process, saved index (s)",
        "negstate state --at --party, fresh process, saved index (s)",
        "append one event, fresh process, saved index (s)",
        "append one late report, fresh process, saved index (s)",
        "negstate state --at, fresh process, jsonl + index (s)",
        "append one event, fresh process, jsonl + index (s)",
    ):
        assert figures[label] > 0, label
    assert figures["saved index still current after the appends (1 = yes)"] == 1
    assert figures["jsonl index still current after the appends (1 = yes)"] == 1
    assert "in-memory fold (events/s)" in result.stdout
