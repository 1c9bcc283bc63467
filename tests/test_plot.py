"""The timeline chart: its data, and a real PNG of the expected size."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

import negstate as ns
from negstate.plot import DPI, FIGURE_SIZE, chart_data, plot_timeline

EXAMPLE = Path(__file__).parents[1] / "examples" / "ukraine_russia_2025"


@pytest.fixture
def talks(tmp_path: Path) -> Iterator[ns.EventLog]:
    for name in ("talks.jsonl", "talks.jsonl.head"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    with ns.open_log(tmp_path / "talks.jsonl", create=False) as log:
        yield log


class TestChartData:
    """Marks, statuses and release steps come from the log's timeline."""

    def test_marks_carry_lanes_and_fates(self, talks: ns.EventLog) -> None:
        chart = chart_data(talks.timeline(), at="2025-08-01")
        by_id = {mark.event_id: mark for mark in chart.marks}
        assert by_id["2025-05-16-istanbul-round-1"].lane == "meetings"
        assert by_id["ua-30-day-ceasefire-proposal"].status == "rejected"
        assert by_id["ru-2-3-day-truce-proposal"].status == "superseded"
        deadline = by_id["2025-07-14-trump-50-day-deadline"]
        assert (deadline.start, deadline.end) == (date(2025, 7, 14), date(2025, 9, 2))
        assert chart.end == date(2025, 9, 2)

    def test_marks_in_a_lane_never_overlap(self, talks: ns.EventLog) -> None:
        chart = chart_data(talks.timeline())
        for first in chart.marks:
            for second in chart.marks:
                if first is second or (first.lane, first.slot) != (
                    second.lane,
                    second.slot,
                ):
                    continue
                assert first.end < second.start or second.end < first.start

    def test_release_steps_count_reported_figures_only(
        self, talks: ns.EventLog
    ) -> None:
        chart = chart_data(talks.timeline(), at="2025-08-01")
        ru = next(s for s in chart.releases if s.party == "RU")
        assert ru.steps == ((date(2025, 5, 31), 1000),)
        assert len(ru.unreported) == 8
        early = chart_data(talks.timeline(), at="2025-05-20")
        assert all(not s.steps for s in early.releases)

    def test_a_window_that_ends_before_it_starts_is_refused(
        self, talks: ns.EventLog
    ) -> None:
        with pytest.raises(ns.NegstateError, match="after it ends"):
            chart_data(talks.timeline(), start="2025-07-01", end="2025-06-01")


class TestPng:
    """plot_timeline writes a non-blank 1200 x 700 PNG, or says what to install."""

    def test_png_has_the_expected_size_and_content(
        self, talks: ns.EventLog, tmp_path: Path
    ) -> None:
        import matplotlib.image as mpimg  # noqa: PLC0415

        path = plot_timeline(talks, tmp_path / "t.png", at="2025-07-01")
        pixels = mpimg.imread(path)
        width, height = (round(side * DPI) for side in FIGURE_SIZE)
        assert pixels.shape[:2] == (height, width)
        assert float(pixels[..., :3].std()) > 0.05
        coloured = (abs(pixels[..., 0] - pixels[..., 2]) > 0.2).mean()
        assert coloured > 0.002, "the marks and lines are missing"

    def test_a_window_of_days_draws_too(
        self, talks: ns.EventLog, tmp_path: Path
    ) -> None:
        path = plot_timeline(
            talks,
            tmp_path / "june.png",
            start="2025-06-01",
            end="2025-06-30",
            title="June",
        )
        assert path.read_bytes().startswith(b"\x89PNG")

    def test_missing_matplotlib_says_what_to_install(
        self,
        talks: ns.EventLog,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        with pytest.raises(ns.NegstateError, match=r"install negstate\[plot\]"):
            plot_timeline(talks, tmp_path / "t.png")
        assert not (tmp_path / "t.png").exists()

    def test_an_unwritable_target_is_a_domain_error(
        self, talks: ns.EventLog, tmp_path: Path
    ) -> None:
        with pytest.raises(ns.NegstateError, match="cannot write the chart"):
            plot_timeline(talks, tmp_path / "missing-folder" / "t.png")
