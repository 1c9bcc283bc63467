"""The example scripts run as a reader would run them, and print what they promise.

Each script runs as its own process (``python examples/<name>.py``) in an empty
temporary folder, so the defaults that point at the bundled log are exercised from
outside the repository, and nothing may be written into ``examples/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = (
    "replay_to_date.py",
    "diff_two_dates.py",
    "explain_figure.py",
    "as_known_on.py",
    "write_report.py",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(script: str, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - runs this Python on an example script
        [sys.executable, str(EXAMPLES / script), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def printed(script: str, *argv: str, cwd: Path) -> str:
    done = run(script, *argv, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if "__pycache__" not in path.parts
    }


@pytest.fixture(autouse=True)
def repository_untouched() -> Iterator[None]:
    before = snapshot(EXAMPLES)
    yield
    assert snapshot(EXAMPLES) == before


class TestEveryScript:
    """Each script explains itself and answers --help."""

    @pytest.mark.parametrize("script", SCRIPTS)
    def test_help_shows_the_summary(self, script: str, tmp_path: Path) -> None:
        out = printed(script, "--help", cwd=tmp_path)
        assert out.startswith("usage:")
        assert "--log" in out

    @pytest.mark.parametrize("script", SCRIPTS)
    def test_a_missing_log_is_an_error(self, script: str, tmp_path: Path) -> None:
        done = run(script, "--log", "missing.jsonl", cwd=tmp_path)
        assert done.returncode == 1
        assert "no log at this path" in done.stderr
        assert done.stdout == ""


class TestReplayToDate:
    """replay_to_date.py prints the state on one day (1 June 2025 by default)."""

    def test_default_day_is_1_june(self, tmp_path: Path) -> None:
        out = printed("replay_to_date.py", cwd=tmp_path)
        assert out.startswith("talks.jsonl on 2025-06-01: 20 events count by then")

    def test_ukraine_backs_the_full_ceasefire_on_1_june(self, tmp_path: Path) -> None:
        out = printed("replay_to_date.py", cwd=tmp_path)
        assert "  UA\n    ceasefire: supports land+sea+air" in out

    def test_1000_each_released_by_1_june(self, tmp_path: Path) -> None:
        out = printed("replay_to_date.py", cwd=tmp_path)
        assert "RU released prisoners: 1,000, in 1 swap" in out
        assert "UA released prisoners: 1,000, in 1 swap" in out

    def test_no_deadline_runs_on_1_june(self, tmp_path: Path) -> None:
        out = printed("replay_to_date.py", cwd=tmp_path)
        assert out.endswith("Active deadlines\n  none\n")

    def test_trumps_deadline_runs_on_31_july(self, tmp_path: Path) -> None:
        out = printed("replay_to_date.py", "--at", "2025-07-31", cwd=tmp_path)
        assert "US to RU: reach a peace deal within 50 days" in out
        assert "expires 2 Sep 2025" in out

    def test_russias_body_offer_is_open_on_31_july(self, tmp_path: Path) -> None:
        out = printed("replay_to_date.py", "--at", "2025-07-31", cwd=tmp_path)
        assert (
            "2025-07-23-ru-offers-3000-bodies: RU to UA on bodies_repatriation" in out
        )

    def test_a_bad_day_is_an_error(self, tmp_path: Path) -> None:
        done = run("replay_to_date.py", "--at", "June", cwd=tmp_path)
        assert done.returncode == 1
        assert "'June' is not a day" in done.stderr


class TestDiffTwoDates:
    """diff_two_dates.py prints what changed from 1 June to 1 August, by section."""

    def test_counts_the_changes(self, tmp_path: Path) -> None:
        out = printed("diff_two_dates.py", cwd=tmp_path)
        assert out.startswith("42 changes in talks.jsonl from 2025-06-01 to 2025-08-01")

    def test_groups_the_changes_by_section(self, tmp_path: Path) -> None:
        out = printed("diff_two_dates.py", cwd=tmp_path)
        headings = [line for line in out.splitlines() if line and line[0] != " "]
        assert headings[1:] == [
            "Positions (13)",
            "Proposals (4)",
            "Proposed meetings (3)",
            "Meetings held (5)",
            "Agreements (3)",
            "Deadlines (1)",
            "Swaps (8)",
            "Exchange totals (4)",
            "Figures (1)",
        ]

    def test_third_round_added_with_its_event(self, tmp_path: Path) -> None:
        out = printed("diff_two_dates.py", cwd=tmp_path)
        assert "  + 2025-07-23-istanbul-round-3  <- 2025-07-23-istanbul-round-3" in out

    def test_ukraines_ceasefire_stance_changed(self, tmp_path: Path) -> None:
        out = printed("diff_two_dates.py", cwd=tmp_path)
        assert "  ~ UA/ceasefire (stance, terms, text)" in out

    def test_no_change_within_a_day(self, tmp_path: Path) -> None:
        out = printed(
            "diff_two_dates.py",
            "--from",
            "2025-06-03",
            "--to",
            "2025-06-03",
            cwd=tmp_path,
        )
        assert out == "0 changes in talks.jsonl from 2025-06-03 to 2025-06-03\n"


class TestExplainFigure:
    """explain_figure.py traces a path to its events, sources and revisions."""

    def test_default_is_pows_released_by_ukraine(self, tmp_path: Path) -> None:
        out = printed("explain_figure.py", cwd=tmp_path)
        first, second = out.splitlines()[:2]
        assert first == (
            "exchanges/UA/prisoners_of_war: UA released 0+ (7 releases without a "
            "figure)"
        )
        assert second == "7 event(s) from 1 report(s)"

    def test_lists_each_swap_stage_with_its_quote(self, tmp_path: Path) -> None:
        out = printed("explain_figure.py", cwd=tmp_path)
        assert "26 Jun 2025: 2025-06-26-swap-stage (SwapCompleted)" in out
        assert out.count('"Several stages of prisoner exchanges') == 7

    def test_first_round_shows_its_correction(self, tmp_path: Path) -> None:
        out = printed(
            "explain_figure.py", "meetings/2025-05-16-istanbul-round-1", cwd=tmp_path
        )
        assert "duration 60-179 minutes" in out
        assert (
            "revised by 2025-07-23-round-1-duration-bounded "
            "(EventCorrected, recorded 2025-07-23)"
        ) in out

    def test_disputed_children_figure(self, tmp_path: Path) -> None:
        out = printed(
            "explain_figure.py", "figures/children/sought_by_ukraine", cwd=tmp_path
        )
        assert out.startswith(
            "figures/children/sought_by_ukraine: UA says at least 19,000; RU says 339 "
            "(disputed)"
        )

    def test_merged_refusal_shows_both_reports(self, tmp_path: Path) -> None:
        out = printed(
            "explain_figure.py",
            "meeting_proposals/zelensky-in-person-meeting-challenge",
            cwd=tmp_path,
        )
        assert "revised by 2025-07-24-in-person-refusal-merged (EventsMerged" in out
        assert '"Putin had previously turned down Zelenskiy' in out

    def test_an_unknown_path_is_an_error(self, tmp_path: Path) -> None:
        done = run("explain_figure.py", "proposals/none-such", cwd=tmp_path)
        assert done.returncode == 1
        assert "the state holds nothing at 'proposals/none-such'" in done.stderr


class TestAsKnownOn:
    """as_known_on.py compares 27 June as recorded on 27 June and as recorded now."""

    def test_names_both_recording_times(self, tmp_path: Path) -> None:
        lines = printed("as_known_on.py", cwd=tmp_path).splitlines()
        assert lines[:3] == [
            "talks.jsonl on 2025-06-27",
            (
                "  as recorded at the end of 2025-06-27: 47 events on record, 47 of "
                "them surely by 2025-06-27"
            ),
            "  as recorded now: 63 events on record, 47 of them surely by 2025-06-27",
        ]

    def test_article_004_bounded_both_rounds(self, tmp_path: Path) -> None:
        out = printed("as_known_on.py", cwd=tmp_path)
        assert "2 change(s) to the record of that day:" in out
        assert "because of 2025-07-23-round-1-duration-bounded (EventCorrected)" in out
        assert "because of 2025-07-23-round-2-duration-bounded (EventCorrected)" in out

    def test_before_article_004_nothing_was_revised(self, tmp_path: Path) -> None:
        out = printed(
            "as_known_on.py",
            "--known-from",
            "2025-06-27",
            "--known-to",
            "2025-07-22",
            cwd=tmp_path,
        )
        assert "0 change(s) to the record of that day:" in out

    def test_third_round_learned_on_23_july(self, tmp_path: Path) -> None:
        out = printed("as_known_on.py", "--at", "2025-07-31", cwd=tmp_path)
        assert "  + meetings/2025-07-23-istanbul-round-3" in out


class TestWriteReport:
    """write_report.py writes report.html and timeline.png, nowhere but --out-dir."""

    def test_writes_into_the_current_folder_by_default(self, tmp_path: Path) -> None:
        out = printed("write_report.py", cwd=tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "report.html",
            "timeline.png",
        ]
        assert "wrote report.html" in out
        assert "wrote timeline.png" in out

    def test_report_is_html_with_positions(self, tmp_path: Path) -> None:
        printed("write_report.py", "--out-dir", "out", cwd=tmp_path)
        report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
        assert report.startswith("<!DOCTYPE html>")
        assert 'id="positions"' in report
        assert "which combined lasted under three hours." in report

    def test_chart_is_a_png(self, tmp_path: Path) -> None:
        printed("write_report.py", "--out-dir", "out", cwd=tmp_path)
        chart = (tmp_path / "out" / "timeline.png").read_bytes()
        assert chart.startswith(PNG_SIGNATURE)


class TestQuickstart:
    """quickstart.py prints the ceasefire positions on two days and the diff."""

    def test_prints_positions_and_changes(self, tmp_path: Path) -> None:
        out = printed("quickstart.py", cwd=tmp_path)
        assert "Ceasefire positions on 1 June 2025:" in out
        assert "  UA: supports land+sea+air" in out
        assert "What changed from 1 June to 1 August 2025 (42 changes):" in out
