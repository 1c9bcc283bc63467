"""A timeline chart of a negotiation: rounds, proposals and their fate, deadlines.

:func:`chart_data` turns a log's timeline into plain marks on lanes (meetings,
proposals, proposed meetings, agreements, swaps, deadlines) and cumulative release
counts per side; it needs nothing beyond negstate, so the HTML report draws the same
marks as SVG.  :func:`plot_timeline` draws them with matplotlib (Agg backend) into a
PNG; matplotlib is imported only there, and its absence is a
:class:`~negstate.errors.NegstateError` that says to install ``negstate[plot]``.

Fuzzy dates are drawn as spans from their earliest to their latest possible day, as
replay narrowed them; an exact day is a marker.  Each proposal is coloured by its
status on the chart's day (events that had not surely happened by then are
grey, marked ``later``), each deadline spans from when it was set to when it
expires, and release counts step up on the day a swap surely happened (releases no
report put a number on are ticked on the line without raising it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from negstate.errors import NegstateError
from negstate.events import (
    AgreementReached,
    DeadlineSet,
    Event,
    MeetingHeld,
    MeetingProposed,
    ProposalMade,
    SwapCompleted,
)
from negstate.log import EventLog
from negstate.replay import Timeline, day_of
from negstate.rows import summarize
from negstate.state import NegotiationState

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "LANES",
    "STATUS_COLOURS",
    "Chart",
    "Mark",
    "Series",
    "chart_data",
    "plot_timeline",
]

LANES: Final = (
    ("meetings", "Meetings held"),
    ("proposals", "Proposals"),
    ("meeting_proposals", "Proposed meetings"),
    ("agreements", "Agreements"),
    ("swaps", "Swaps"),
    ("deadlines", "Deadlines"),
)
"""The chart's lanes, top to bottom: key and label."""

STATUS_COLOURS: Final[Mapping[str, str]] = {
    "held": "#1f77b4",
    "open": "#e6a700",
    "proposed": "#e6a700",
    "agreed": "#2ca02c",
    "accepted": "#2ca02c",
    "reached": "#2ca02c",
    "rejected": "#d62728",
    "declined": "#d62728",
    "countered": "#ff7f0e",
    "withdrawn": "#7f7f7f",
    "superseded": "#7f7f7f",
    "lapsed": "#7f7f7f",
    "replaced": "#7f7f7f",
    "completed": "#9467bd",
    "active": "#a50f15",
    "expired": "#8c564b",
    "later": "#c7ccd6",
}
"""The colour of each status (hex), shared by the PNG chart and the HTML report."""

SIDE_COLOURS: Final = ("#0057b7", "#c8102e", "#2ca02c", "#9467bd", "#8c564b")
"""Colours of the release lines, one per releasing side in order."""


@attrs.frozen(kw_only=True)
class Mark:
    """One thing on a lane: an event drawn from ``start`` to ``end`` (one day or more).

    ``status`` picks the colour; ``open_start``/``open_end`` say the span has no
    known end on that side; ``label`` is a short caption (may be empty).
    """

    lane: str
    event_id: str
    start: date
    end: date
    status: str
    label: str
    summary: str
    open_start: bool = False
    open_end: bool = False
    slot: int = 0
    """The row within its lane, so that marks in one lane never overlap."""

    @property
    def exact(self) -> bool:
        """True when the mark is a single known day."""
        return self.start == self.end and not (self.open_start or self.open_end)


@attrs.frozen(kw_only=True)
class Series:
    """Cumulative people released by one side: steps and releases without a figure."""

    party: str
    steps: tuple[tuple[date, int], ...]
    unreported: tuple[tuple[date, int], ...] = ()

    @property
    def total(self) -> int:
        """The reported total at the end of the series."""
        return self.steps[-1][1] if self.steps else 0


@attrs.frozen(kw_only=True)
class Chart:
    """Everything the timeline chart shows, as plain data."""

    start: date
    end: date
    at: date | None
    marks: tuple[Mark, ...]
    releases: tuple[Series, ...]
    slots: Mapping[str, int] = attrs.field(factory=dict)
    """How many rows each lane needs (at least 1)."""

    def slots_of(self, lane: str) -> int:
        """How many rows ``lane`` has."""
        return max(self.slots.get(lane, 1), 1)


def _span(timeline: Timeline, index: int) -> tuple[date, date, bool, bool]:
    span = timeline.span_of(index)
    low, high = span.earliest, span.latest
    if low is None and high is None:  # pragma: no cover - FuzzyDate forbids it
        raise NegstateError("an event has no known day")
    start = low if low is not None else high
    end = high if high is not None else low
    assert start is not None  # noqa: S101 - one end is known
    assert end is not None  # noqa: S101 - one end is known
    return start, end, low is None, high is None


def _place(place: str | None) -> str:
    return "" if not place else place.split(",")[0].strip()


def _mark_for(  # noqa: PLR0911 - one return per lane
    event: Event, state: NegotiationState
) -> tuple[str, str, str] | None:
    """The lane, status and label of ``event``, or None if it has no lane."""
    if isinstance(event, MeetingHeld):
        label = _place(event.place) if event.level == "delegations" else ""
        return "meetings", "held", label
    if isinstance(event, ProposalMade):
        proposal = state.proposals.get(event.id)
        status = "open" if proposal is None else proposal.status.value
        return "proposals", status, event.issue.replace("_", " ")
    if isinstance(event, MeetingProposed):
        meeting = state.meeting_proposals.get(event.id)
        status = "proposed" if meeting is None else meeting.status.value
        return "meeting_proposals", status, event.level.replace("_", " ")
    if isinstance(event, AgreementReached):
        return "agreements", "reached", event.issue.replace("_", " ")
    if isinstance(event, SwapCompleted):
        return "swaps", "completed", ""
    if isinstance(event, DeadlineSet):
        deadline = state.deadlines.get(event.id)
        status = "active" if deadline is None else deadline.status.value
        return "deadlines", status, f"{event.by} to {', '.join(event.against)}"
    return None


def _deadline_mark(event: DeadlineSet, mark: Mark) -> Mark:
    """A deadline spans from when it was set to when it expires."""
    expires = event.expires.latest or event.expires.earliest or mark.end
    return attrs.evolve(mark, end=max(expires, mark.start), open_end=False)


def _marks(timeline: Timeline, state: NegotiationState) -> list[Mark]:
    marks: list[Mark] = []
    for index, event in enumerate(timeline.events):
        found = _mark_for(event, state)
        if found is None:
            continue
        lane, status, label = found
        if event.id not in state.events:
            status = "later"
        start, end, open_start, open_end = _span(timeline, index)
        mark = Mark(
            lane=lane,
            event_id=event.id,
            start=start,
            end=end,
            status=status,
            label=label,
            summary=f"{event.occurred.describe()}: {summarize(event)}",
            open_start=open_start,
            open_end=open_end,
        )
        if isinstance(event, DeadlineSet):
            mark = _deadline_mark(event, mark)
        marks.append(mark)
    return marks


def _releases(timeline: Timeline, until: date | None) -> list[Series]:
    """Cumulative people (not bodies) released by each side, from the swaps."""
    totals: dict[str, int] = {}
    steps: dict[str, list[tuple[date, int]]] = {}
    unreported: dict[str, list[tuple[date, int]]] = {}
    for index, event in enumerate(timeline.events):
        if not isinstance(event, SwapCompleted):
            continue
        _, day, _, _ = _span(timeline, index)
        if until is not None and day > until:
            continue
        for release in event.releases:
            if release.category == "bodies":
                continue
            total = totals.setdefault(release.by, 0)
            if release.count is None:
                unreported.setdefault(release.by, []).append((day, total))
                steps.setdefault(release.by, [])
                continue
            totals[release.by] = total + release.count
            steps.setdefault(release.by, []).append((day, totals[release.by]))
    return [
        Series(
            party=party,
            steps=tuple(steps[party]),
            unreported=tuple(unreported.get(party, ())),
        )
        for party in sorted(steps)
    ]


def _bounds(marks: Iterable[Mark], at: date | None) -> tuple[date, date]:
    days = [day for mark in marks for day in (mark.start, mark.end)]
    if at is not None:
        days.append(at)
    if not days:
        today = date.today()  # noqa: DTZ011 - an empty log has no days of its own
        return today - timedelta(days=30), today
    return min(days), max(days)


def chart_data(
    timeline: Timeline,
    *,
    at: date | str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
) -> Chart:
    """The marks and release lines of ``timeline``, statuses as on day ``at``.

    ``start``/``end`` limit the days shown (default: every event's days).
    """
    day = None if at is None else day_of(at)
    state = timeline.state_at(day)
    marks = _marks(timeline, state)
    low, high = _bounds(marks, day)
    first = low if start is None else day_of(start)
    last = high if end is None else day_of(end)
    if first > last:
        raise NegstateError(
            f"the chart would start on {first}, after it ends on {last}",
            hint="give a --from day before the --to day",
        )
    shown = [m for m in marks if m.end >= first and m.start <= last]
    gap = max((last - first).days // 60, 1)
    placed, slots = _pack(shown, gap)
    return Chart(
        start=first,
        end=last,
        at=day,
        marks=tuple(placed),
        releases=tuple(_releases(timeline, day)),
        slots=slots,
    )


def _pack(marks: list[Mark], gap: int) -> tuple[list[Mark], dict[str, int]]:
    """Give each mark the first row of its lane where it overlaps nothing."""
    ends: dict[str, list[date]] = {}
    placed: list[Mark] = []
    for mark in sorted(marks, key=lambda m: (m.start, m.end)):
        rows = ends.setdefault(mark.lane, [])
        reach = mark.start - timedelta(days=gap)
        slot = next((i for i, end in enumerate(rows) if end < reach), len(rows))
        if slot == len(rows):
            rows.append(mark.end)
        else:
            rows[slot] = mark.end
        placed.append(attrs.evolve(mark, slot=slot))
    return placed, {lane: len(rows) for lane, rows in ends.items()}


# -- drawing with matplotlib -----------------------------------------------------------

FIGURE_SIZE: Final = (12.0, 7.0)
"""The chart's size in inches."""
DPI: Final = 100
"""Dots per inch: 12 x 7 inches at 100 dpi is 1200 x 700 pixels."""


def _pyplot() -> Any:  # noqa: ANN401 - matplotlib.pyplot, imported on demand
    try:
        import matplotlib as mpl  # noqa: PLC0415

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise NegstateError(
            "drawing a chart needs matplotlib, which is not installed",
            hint="install negstate[plot] (pip install 'negstate[plot]')",
        ) from None
    return plt


def _num(day: date) -> float:
    from matplotlib import dates as mdates  # noqa: PLC0415

    to_number: Any = mdates.date2num
    return float(to_number(day))


ROW_HEIGHT: Final = 0.45
"""The height of one row of a lane, in lanes: a lane with many rows grows."""


def lane_layout(chart: Chart) -> dict[str, tuple[float, float]]:
    """Each lane's bottom and height, the first lane on top (units of one lane)."""
    layout: dict[str, tuple[float, float]] = {}
    bottom = 0.0
    for key, _ in reversed(LANES):
        height = max(1.0, ROW_HEIGHT * chart.slots_of(key) + 0.2)
        layout[key] = (bottom, height)
        bottom += height
    return layout


def row_of(
    chart: Chart, mark: Mark, layout: Mapping[str, tuple[float, float]]
) -> float:
    """The y of a mark: its lane's rows spread evenly, row 0 on top."""
    bottom, height = layout[mark.lane]
    slots = chart.slots_of(mark.lane)
    return bottom + height - height * (mark.slot + 0.5) / slots


def _draw_mark(
    axes: Axes, chart: Chart, mark: Mark, layout: Mapping[str, tuple[float, float]]
) -> None:
    colour = STATUS_COLOURS.get(mark.status, "#555555")
    y = row_of(chart, mark, layout)
    if mark.lane == "deadlines" or mark.end > mark.start:
        left = _num(mark.start)
        width = max(_num(mark.end + timedelta(days=1)) - left, 1.0)
        deadline = mark.lane == "deadlines"
        axes.broken_barh(
            [(left, width)],
            (y - 0.1, 0.2),
            facecolors=colour,
            edgecolors=colour,
            alpha=0.25 if deadline else 0.35,
            hatch="//" if deadline else None,
            linewidth=1,
        )
        if deadline:
            axes.plot(_num(mark.end), y, marker="|", markersize=14, color=colour)
        return
    marker = {"proposals": "D", "meeting_proposals": "s", "agreements": "*"}.get(
        mark.lane, "o"
    )
    axes.plot(
        _num(mark.start),
        y,
        marker=marker,
        markersize=13 if marker == "*" else 8,
        color=colour,
        markeredgecolor="white",
        linestyle="none",
    )


def _label_marks(
    axes: Axes, chart: Chart, layout: Mapping[str, tuple[float, float]]
) -> None:
    """Caption rounds of talks and deadlines beside their marks."""
    for mark in chart.marks:
        if not mark.label or mark.lane not in {"meetings", "deadlines"}:
            continue
        y = row_of(chart, mark, layout)
        spans = mark.end > mark.start
        axes.annotate(
            mark.label,
            (_num(mark.end if spans else mark.start), y),
            xytext=(6, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=8,
            color="#333333",
        )


def _draw_lanes(axes: Axes, chart: Chart) -> None:
    layout = lane_layout(chart)
    for mark in chart.marks:
        _draw_mark(axes, chart, mark, layout)
    _label_marks(axes, chart, layout)
    axes.set_yticks(
        [bottom + height / 2 for bottom, height in (layout[k] for k, _ in LANES)],
        [label for _, label in LANES],
    )
    top = max(bottom + height for bottom, height in layout.values())
    axes.set_ylim(0, top)
    axes.grid(axis="x", color="#dddddd", linewidth=0.8)
    for bottom, _ in layout.values():
        axes.axhline(bottom, color="#d5d5d5", linewidth=0.8, zorder=0)


def _draw_releases(axes: Axes, chart: Chart) -> None:
    styles = ("-", "--", ":", "-.")
    for index, series in enumerate(chart.releases):
        colour = SIDE_COLOURS[index % len(SIDE_COLOURS)]
        steps = [(chart.start, 0), *series.steps]
        last = chart.end if chart.at is None else min(chart.end, chart.at)
        steps.append((max(last, steps[-1][0]), steps[-1][1]))
        axes.step(
            [_num(day) for day, _ in steps],
            [value for _, value in steps],
            where="post",
            color=colour,
            linestyle=styles[index % len(styles)],
            linewidth=2.2 - 0.4 * (index % 2),
            label=f"released by {series.party} (reported: {series.total:,})",
        )
        if series.unreported:
            axes.plot(
                [_num(day) for day, _ in series.unreported],
                [value for _, value in series.unreported],
                linestyle="none",
                marker="^",
                markersize=7,
                markerfacecolor="white",
                color=colour,
                label=f"{series.party} release without a figure",
            )
    axes.set_ylabel("people released")
    axes.grid(color="#dddddd", linewidth=0.8)
    axes.yaxis.set_major_formatter(_thousands())
    if chart.releases:
        axes.legend(loc="upper left", fontsize=8, frameon=False)
    else:
        axes.text(0.5, 0.5, "no swaps recorded", transform=axes.transAxes, ha="center")


def _thousands() -> Any:  # noqa: ANN401 - a matplotlib formatter
    from matplotlib.ticker import FuncFormatter  # noqa: PLC0415

    return FuncFormatter(lambda value, _: f"{value:,.0f}")


def _status_legend(axes: Axes, chart: Chart) -> None:
    from matplotlib.lines import Line2D  # noqa: PLC0415

    by_colour: dict[str, list[str]] = {}
    for mark in chart.marks:
        names = by_colour.setdefault(STATUS_COLOURS.get(mark.status, "#555555"), [])
        if mark.status not in names:
            names.append(mark.status)
    handles = [
        Line2D(
            [], [], marker="o", linestyle="none", color=colour, label=", ".join(names)
        )
        for colour, names in by_colour.items()
    ]
    if handles:
        axes.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            frameon=False,
            title="status",
            title_fontsize=8,
        )


def _format_days(axes: Axes, chart: Chart) -> None:
    from matplotlib import dates as mdates  # noqa: PLC0415

    pad = max((chart.end - chart.start).days * 0.02, 2)
    axes.set_xlim(
        _num(chart.start - timedelta(days=pad)), _num(chart.end + timedelta(days=pad))
    )
    locate: Any = mdates.AutoDateLocator
    concise: Any = mdates.ConciseDateFormatter
    locator = locate(minticks=4, maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(concise(locator))
    if chart.at is not None and chart.start <= chart.at <= chart.end:
        axes.axvline(_num(chart.at), color="#555555", linestyle="--", linewidth=1)


def _default_title(log: EventLog, chart: Chart) -> str:
    name = Path(log.location).name
    return f"{name}: {chart.start:%d %b %Y} to {chart.end:%d %b %Y}"


def plot_timeline(
    log: EventLog,
    out_path: str | Path,
    *,
    at: date | str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    known_at: datetime | None = None,
    title: str | None = None,
) -> Path:
    """Draw the log's timeline into a PNG at ``out_path`` (1200 x 700 pixels).

    Lanes show meetings, proposals coloured by their fate, proposed meetings,
    agreements, swaps and deadlines (spans to expiry); below, each side's
    cumulative releases.  ``at`` is the day statuses are read on (default: after
    every event), ``start``/``end`` limit the days shown and ``known_at`` replays
    what the log held then.
    """
    plt = _pyplot()
    chart = chart_data(log.timeline(known_at=known_at), at=at, start=start, end=end)
    figure, (lanes, releases) = plt.subplots(
        2,
        1,
        figsize=FIGURE_SIZE,
        dpi=DPI,
        sharex=True,
        gridspec_kw={"height_ratios": [3, 2]},
    )
    try:
        _draw_lanes(lanes, chart)
        _status_legend(lanes, chart)
        _draw_releases(releases, chart)
        _format_days(releases, chart)
        if chart.at is not None and chart.start <= chart.at <= chart.end:
            lanes.axvline(_num(chart.at), color="#555555", linestyle="--", linewidth=1)
        lanes.set_title(title or _default_title(log, chart), fontsize=13, loc="left")
        figure.tight_layout()
        target = Path(out_path)
        try:
            figure.savefig(target, dpi=DPI, format="png")
        except OSError as exc:
            raise NegstateError(
                f"cannot write the chart ({exc.strerror})",
                where=str(target),
                hint="check the folder exists and is writable",
            ) from None
    finally:
        plt.close(figure)
    return target
