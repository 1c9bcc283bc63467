"""One self-contained HTML report of a negotiation, every item linked to its sources.

:func:`render_report` gives a single HTML document: inline CSS, the timeline as
inline SVG (``<svg id="timeline">``), no scripts and no external resources, so it
opens anywhere, prints and can be mailed as one file.  It shows each party's
positions on a day (``<table id="positions">``), proposals and their status,
proposed and held meetings, agreements, exchange totals and swaps, deadlines,
figures (disputed ones marked), the changes between two days and every event.
Every item links to the numbered reports behind it in the sources section
(``#src-N``), which gives each report's outlet, title, day, quote and link.  All
text is escaped; only ``http(s)`` links are made clickable.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import attrs
import cattrs

from negstate.diff import Diff, diff
from negstate.errors import NegstateError
from negstate.events import Event
from negstate.explain import explain
from negstate.log import EventLog
from negstate.plot import (
    LANES,
    SIDE_COLOURS,
    STATUS_COLOURS,
    Chart,
    Mark,
    chart_data,
    lane_layout,
    row_of,
)
from negstate.replay import Timeline, day_of
from negstate.rows import summarize
from negstate.serialization import shared_converter
from negstate.state import NegotiationState
from negstate.tables import describe_change
from negstate.values import Source

__all__ = ["DEFAULT_DIFF_DAYS", "render_report", "write_report"]

DEFAULT_DIFF_DAYS: Final = 30
"""Without ``diff_from``, the report shows the changes of this many days to ``at``."""

_CSS: Final = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee7; --soft: #f5f7fa;
  --accent: #0057b7; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
header h1 { font-size: 28px; margin: 0 0 4px; }
header p { color: var(--muted); margin: 0; }
nav { margin: 16px 0 8px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
nav a { color: var(--accent); text-decoration: none; font-size: 14px; }
section { margin-top: 36px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h2 small { color: var(--muted); font-weight: normal; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px;
  border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; }
tr:target { background: #fff7d6; }
li:target { background: #fff7d6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px;
  font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.refs a { color: var(--accent); text-decoration: none; margin-right: 3px;
  font-size: 12px; white-space: nowrap; }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; }
code { font-size: 12px; background: var(--soft); padding: 0 3px; border-radius: 3px; }
figure { margin: 0; overflow-x: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
ol.sources > li { margin-bottom: 14px; }
ol.sources ul { margin: 4px 0 0; padding-left: 18px; }
ol.sources ul li { margin-bottom: 4px; }
blockquote { margin: 2px 0 0; color: var(--muted); font-style: italic; }
.mark-add { color: #1a7f37; font-weight: 700; }
.mark-remove { color: #cf222e; font-weight: 700; }
.mark-change { color: #9a6700; font-weight: 700; }
@media print { nav { display: none; } section { break-inside: avoid-page; } }
"""

_STANCE_COLOURS: Final = {
    "supports": "#2ca02c",
    "offers": "#17becf",
    "demands": "#9467bd",
    "opposes": "#d62728",
    "conditional": "#e6a700",
    "undecided": "#7f7f7f",
}

_SAFE_URL: Final = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


def _e(text: object) -> str:
    """Escape any value as HTML text."""
    return html.escape("" if text is None else str(text), quote=True)


def anchor(prefix: str, key: str) -> str:
    """A stable HTML id for ``key`` (ids may hold any character; anchors may not)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
    if cleaned != key:
        cleaned += "-" + hashlib.sha1(key.encode()).hexdigest()[:6]  # noqa: S324
    return f"{prefix}-{cleaned}"


def _badge(text: str, colour: str | None) -> str:
    style = f"background:{colour or '#7f7f7f'}"
    return el("span", _e(text), class_="badge", style=style)


def _status(text: str) -> str:
    return _badge(text, STATUS_COLOURS.get(text))


def _report_of(source: Source) -> Source:
    """The report a source cites, without the quote: one entry per article."""
    return attrs.evolve(source, quote=None)


@attrs.frozen
class _Sources:
    """Every report cited, numbered in the order the timeline first cites it.

    A report cited with several quotes is listed once, each quote under it with
    its own anchor (``src-N-M``) and the events that cite it.
    """

    reports: Mapping[Source, int]
    quotes: Mapping[Source, tuple[int, int]]
    cited_by: Mapping[Source, tuple[str, ...]]

    @classmethod
    def of(cls, events: Iterable[Event]) -> _Sources:
        """Number the reports and quotes of ``events``, in order of first citation."""
        reports: dict[Source, int] = {}
        quotes: dict[Source, tuple[int, int]] = {}
        seen: dict[int, int] = {}
        cited_by: dict[Source, list[str]] = {}
        for event in events:
            for source in event.sources:
                number = reports.setdefault(_report_of(source), len(reports) + 1)
                if source not in quotes:
                    seen[number] = seen.get(number, 0) + 1
                    quotes[source] = (number, seen[number])
                cited_by.setdefault(source, []).append(event.id)
        return cls(reports, quotes, {k: tuple(v) for k, v in cited_by.items()})

    def quotes_of(self, report: Source) -> list[Source]:
        """The cited sources (quotes) of one report, in order."""
        return [s for s in self.quotes if _report_of(s) == report]

    def refs(self, sources: Iterable[Source]) -> str:
        """Links to the numbered reports, and to each one's URL where it has one."""
        links = []
        for source in dict.fromkeys(sources):
            found = self.quotes.get(source)
            if found is None:
                continue
            number, quote = found
            tip = source.cite() + (f": {source.quote}" if source.quote else "")
            links.append(
                el("a", f"[{number}]", href=f"#src-{number}-{quote}", title=tip)
            )
            if source.url and _SAFE_URL.fullmatch(source.url):
                links.append(
                    el(
                        "a",
                        "&#8599;",
                        href=source.url,
                        rel="noopener noreferrer",
                        title="open the report",
                    )
                )
        return el("span", "".join(links), class_="refs") if links else ""


@attrs.frozen
class _Page:
    """What the report's sections are built from."""

    timeline: Timeline
    state: NegotiationState
    at: date
    changes: Diff
    sources: _Sources
    converter: cattrs.Converter

    def refs_of(self, path: str) -> str:
        """Links to the reports behind the record at ``path``."""
        try:
            found = explain(self.state, path)
        except NegstateError:
            return ""
        return self.sources.refs(found.sources)

    def refs_of_event(self, event_id: str) -> str:
        """Links to the reports behind one event of the state."""
        event = self.state.events.get(event_id)
        return "" if event is None else self.sources.refs(event.sources)

    def event_link(self, event_id: str) -> str:
        """A link to an event's row in the events section.

        A revision (a correction or merge) has no row of its own: it is named,
        with the event it revised, which has the row.
        """
        revision = self.timeline.revisions.get(event_id)
        if revision is not None:
            in_order = {event.id for event in self.timeline.events}
            revised = " ".join(
                f'<a href="#{anchor("ev", target)}"><code>{_e(target)}</code></a>'
                for target in revision.references
                if target in in_order
            )
            return f"<code>{_e(event_id)}</code> (revising {revised})"
        return f'<a href="#{anchor("ev", event_id)}"><code>{_e(event_id)}</code></a>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], table_id: str) -> str:
    """A table of already-escaped cells; an empty one says so."""
    if not rows:
        return f'<p class="empty" id="{table_id}">None on this day.</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows
    )
    return el(
        "table", f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>", id=table_id
    )


def _section(key: str, title: str, body: str, note: str = "") -> str:
    small = f" <small>{_e(note)}</small>" if note else ""
    return f'<section id="section-{key}"><h2>{_e(title)}{small}</h2>{body}</section>'


# -- sections ------------------------------------------------------------------------


def _positions(page: _Page) -> str:
    rows = []
    for (party, issue), position in sorted(page.state.positions.items()):
        whose = position.claimed_by or "own word"
        if position.disputed:
            whose += " " + _badge("disputed", "#d62728")
        rows.append(
            [
                f"<strong>{_e(party)}</strong>",
                _e(issue),
                _badge(position.stance.value, _STANCE_COLOURS.get(position.stance)),
                _e(position.terms.describe() or position.text),
                _e(position.since.describe()),
                whose if position.disputed else _e(whose),
                page.refs_of(f"positions/{party}/{issue}"),
            ]
        )
    headers = ["Party", "Issue", "Stance", "Terms", "Since", "Whose word", "Sources"]
    return _section(
        "positions",
        f"Positions on {page.at:%d %B %Y}",
        _table(headers, rows, "positions"),
        "each party's latest word on each issue",
    )


def _answers(responses: Iterable[Any]) -> str:
    return ", ".join(f"{_e(r.party)} {_e(r.kind.value)}" for r in responses)


def _proposals(page: _Page) -> str:
    rows = [
        [
            page.event_link(p.id),
            f"{_e(p.proposer)} &rarr; {_e(', '.join(p.addressees))}",
            _e(p.issue),
            _e(p.terms.describe()),
            _e(p.made.describe()),
            _status(p.status.value),
            _answers(p.responses),
            page.refs_of(f"proposals/{p.id}"),
        ]
        for p in page.state.proposals.values()
    ]
    headers = ["Proposal", "From → to", "Issue", "Terms", "Made", "Status"]
    table = _table([*headers, "Answers", "Sources"], rows, "proposals")
    meetings = [
        [
            page.event_link(m.id),
            _e(m.proposer),
            _e(", ".join(m.participants)),
            _e(m.level),
            _e(m.place or ""),
            _e("" if m.window is None else m.window.describe()),
            _status(m.status.value),
            page.refs_of(f"meeting_proposals/{m.id}"),
        ]
        for m in page.state.meeting_proposals.values()
    ]
    meeting_headers = ["Proposal", "Proposer", "Participants", "Level", "Place"]
    meeting_table = _table(
        [*meeting_headers, "When", "Status", "Sources"], meetings, "meeting-proposals"
    )
    return _section("proposals", "Proposals and their fate", table) + _section(
        "meeting-proposals", "Proposed meetings", meeting_table
    )


def _meetings(page: _Page) -> str:
    rows = [
        [
            _e(m.occurred.describe()),
            _e(", ".join(m.participants))
            + (
                f' <span class="muted">via {_e(", ".join(m.mediators))}</span>'
                if m.mediators
                else ""
            ),
            _e(m.level),
            _e(m.medium.replace("_", " ")),
            _e(m.place or ""),
            _e(m.outcome),
            page.event_link(m.id) + " " + page.refs_of(f"meetings/{m.id}"),
        ]
        for m in page.state.meetings.values()
    ]
    headers = ["When", "Participants", "Level", "Medium", "Place", "Outcome", "Event"]
    return _section(
        "meetings", "Meetings and calls held", _table(headers, rows, "meetings")
    )


def _agreements(page: _Page) -> str:
    rows = [
        [
            _e(a.reached.describe()),
            _e(", ".join(a.parties)),
            _e(a.issue),
            _e(a.terms.describe()),
            page.event_link(a.id) + " " + page.refs_of(f"agreements/{a.id}"),
        ]
        for a in page.state.agreements.values()
    ]
    table = _table(
        ["Reached", "Parties", "Issue", "Terms", "Event"], rows, "agreements"
    )
    return _section("agreements", "Agreements", table)


def _exchanges(page: _Page) -> str:
    totals = [
        [
            f"<strong>{_e(t.party)}</strong>",
            _e(t.category.replace("_", " ")),
            _released(t.count, t.unreported),
            f'<span class="num">{t.releases}</span>',
            page.refs_of(f"exchanges/{t.party}/{t.category}"),
        ]
        for _, t in sorted(page.state.exchanges.items())
    ]
    swaps = [
        [
            _e(s.occurred.describe()),
            _e("; ".join(summarize_release(r) for r in s.releases)),
            page.event_link(s.id) + " " + page.refs_of(f"swaps/{s.id}"),
        ]
        for s in page.state.swaps
    ]
    body = (
        _table(
            ["Released by", "Category", "People released", "Releases", "Sources"],
            totals,
            "exchanges",
        )
        + "<h3>Swaps</h3>"
        + _table(["When", "Releases", "Event"], swaps, "swaps")
    )
    return _section("exchanges", "Exchanges", body, "released so far, by side")


def _released(count: int, unreported: int) -> str:
    shown = el("span", f"{count:,}", class_="num")
    if not unreported:
        return shown
    note = f"+ {unreported} release(s) without a figure"
    return shown + " " + el("span", _e(note), class_="muted")


def summarize_release(release: Any) -> str:  # noqa: ANN401 - a negstate Release
    """``RU: 1,000 prisoners to UA`` (or ``?`` when no report gives a number)."""
    count = "?" if release.count is None else f"{release.count:,}"
    target = f" to {release.to}" if release.to else ""
    return f"{release.by}: {count} {release.category.replace('_', ' ')}{target}"


def _deadlines(page: _Page) -> str:
    rows = [
        [
            _e(d.by),
            _e(", ".join(d.against)),
            _e(d.demand),
            _e(d.consequence),
            _e(d.set_on.describe()),
            _e(d.expires.describe()),
            _status(d.status.value),
            page.refs_of(f"deadlines/{d.id}"),
        ]
        for d in page.state.deadlines.values()
    ]
    headers = ["By", "Against", "Demand", "Or else", "Set", "Expires", "Status"]
    return _section(
        "deadlines", "Deadlines", _table([*headers, "Sources"], rows, "deadlines")
    )


def _figures(page: _Page) -> str:
    rows = [
        [
            _e(figure.subject),
            _e(claim.claimant),
            f"{_e(claim.value)} {_e(figure.unit)}",
            _e(claim.occurred.describe()),
            _badge("disputed", "#d62728") if figure.disputed else "",
            page.event_link(claim.event) + " " + page.refs_of_event(claim.event),
        ]
        for figure in page.state.figures.values()
        for claim in figure.claims
    ]
    headers = ["Subject", "Claimant", "Figure", "Reported", "", "Event"]
    return _section(
        "figures", "Figures", _table(headers, rows, "figures"), "who says how many"
    )


_MARKS: Final = {
    "added": ('<span class="mark-add">+</span>', "added"),
    "removed": ('<span class="mark-remove">&minus;</span>', "removed"),
    "changed": ('<span class="mark-change">~</span>', "changed"),
}


def _changes(page: _Page) -> str:
    rows = [
        [
            _MARKS[change.kind.value][0],
            f"<code>{_e(change.path)}</code>",
            _e(describe_change(change)),
            " ".join(page.event_link(e) for e in change.events),
            page.sources.refs(change.sources),
        ]
        for change in page.changes
    ]
    span = f"{page.changes.before} to {page.changes.after}"
    table = _table(["", "Path", "What", "Events", "Sources"], rows, "changes")
    return _section("changes", f"What changed from {span}", table)


def _revised_note(page: _Page, event_id: str) -> str:
    """Which later reports corrected or merged this event, if any did."""
    revisions = page.timeline.revised_by.get(event_id, ())
    if not revisions:
        return ""
    named = ", ".join(
        f"{_e(type(page.timeline.revisions[r]).__name__)} {_e(r)}" for r in revisions
    )
    return f' <span class="muted revised">(revised: {named})</span>'


def _events(page: _Page) -> str:
    rows = []
    for index, event in enumerate(page.timeline.events):
        ident = anchor("ev", event.id)
        narrowed = page.timeline.span_of(index)
        when = event.occurred.describe()
        if str(narrowed) != str(event.occurred):
            when += f' <span class="muted">(narrowed: {_e(narrowed.describe())})</span>'
        rows.append(
            (
                ident,
                [
                    when if "<span" in when else _e(when),
                    _e(type(event).__name__),
                    _e(summarize(event))
                    + (
                        f' <span class="muted">({_e(event.claimed_by)}\'s word)</span>'
                        if event.claimed_by
                        else ""
                    )
                    + _revised_note(page, event.id),
                    f"<code>{_e(event.id)}</code>",
                    page.sources.refs(event.sources),
                ],
            )
        )
    head = "".join(f"<th>{h}</th>" for h in ("When", "Type", "What", "Id", "Sources"))
    body = "".join(
        f'<tr id="{ident}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        for ident, cells in rows
    )
    table = el(
        "table", f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>", id="events"
    )
    return _section("events", "Every event, in the order it happened", table)


def _report_line(report: Source) -> str:
    parts = []
    if report.outlet:
        parts.append(f"<strong>{_e(report.outlet)}</strong>")
    parts.append(f"&ldquo;{_e(report.title)}&rdquo;")
    parts.append(_e(report.published.isoformat()) if report.published else "undated")
    line = ", ".join(parts)
    if report.url and _SAFE_URL.fullmatch(report.url):
        link = el("a", _e(report.url), href=report.url, rel="noopener noreferrer")
        line += f" &mdash; {link}"
    elif report.url:
        line += f" &mdash; {_e(report.url)}"
    return line


def _quote_item(page: _Page, source: Source) -> str:
    number, quote = page.sources.quotes[source]
    cited = " ".join(page.event_link(e) for e in page.sources.cited_by[source])
    words = (
        el("blockquote", _e(f"“{source.quote}”"))
        if source.quote
        else el("span", "no quote", class_="muted")
    )
    body = words + el("div", f"cited by {cited}", class_="muted")
    return el("li", body, id=f"src-{number}-{quote}")


def _sources_section(page: _Page) -> str:
    items = [
        el(
            "li",
            _report_line(report)
            + el(
                "ul",
                "".join(_quote_item(page, s) for s in page.sources.quotes_of(report)),
            ),
            id=f"src-{number}",
        )
        for report, number in page.sources.reports.items()
    ]
    body = (
        el("ol", "".join(items), class_="sources")
        if items
        else el("p", "No sources.", class_="empty")
    )
    return _section(
        "sources", "Sources", body, "every report cited, with the quotes used"
    )


# -- the timeline as SVG ---------------------------------------------------------------

_SVG_WIDTH: Final = 1180
_LEFT: Final = 150
_RIGHT: Final = 80
_LANE_UNIT: Final = 46
_RELEASE_HEIGHT: Final = 150
_AXIS: Final = 26
_INK: Final = "#1d2330"
_MUTED: Final = "#5b6475"


def _attribute(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def el(tag: str, body: str = "", /, **attributes: object) -> str:
    """An SVG element; ``font_size`` becomes ``font-size``, values are escaped."""
    text = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{_e(_attribute(value))}"'
        for name, value in attributes.items()
        if value is not None
    )
    return f"<{tag}{text}>{body}</{tag}>" if body else f"<{tag}{text}/>"


def _text(x: float, y: float, words: str, **attributes: object) -> str:
    style: dict[str, object] = {"font_size": 11, "fill": _INK, **attributes}
    return el("text", _e(words), x=x, y=y, **style)


@attrs.frozen
class _Scale:
    """Days to x positions."""

    start: date
    end: date

    def x(self, day: date) -> float:
        """Where ``day`` begins."""
        span = max((self.end - self.start).days, 1)
        return _LEFT + (day - self.start).days / span * (_SVG_WIDTH - _LEFT - _RIGHT)

    def width(self, start: date, end: date) -> float:
        """How wide the days from ``start`` to ``end`` are (at least 4 pixels)."""
        return max(self.x(end + timedelta(days=1)) - self.x(start), 4.0)


def _month_ticks(start: date, end: date) -> list[date]:
    ticks = []
    day = date(start.year, start.month, 1)
    while day <= end:
        if day >= start:
            ticks.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)  # noqa: PLR2004
    return ticks


def _mark_shape(mark: Mark, scale: _Scale, y: float) -> str:
    colour = STATUS_COLOURS.get(mark.status, "#555555")
    if mark.lane == "deadlines" or mark.end > mark.start:
        dash = "4 2" if mark.lane == "deadlines" else None
        return el(
            "rect",
            x=scale.x(mark.start),
            y=y - 5,
            width=scale.width(mark.start, mark.end),
            height=10,
            rx=3,
            fill=colour,
            fill_opacity=0.35,
            stroke=colour,
            stroke_dasharray=dash,
        )
    x = scale.x(mark.start) + scale.width(mark.start, mark.start) / 2
    if mark.lane not in {"proposals", "meeting_proposals"}:
        return el("circle", cx=x, cy=y, r=6, fill=colour, stroke="#fff")
    turn = f"rotate(45 {x:.1f} {y:.1f})" if mark.lane == "proposals" else None
    return el(
        "rect",
        x=x - 6,
        y=y - 6,
        width=12,
        height=12,
        fill=colour,
        stroke="#fff",
        transform=turn,
    )


def _svg_mark(mark: Mark, scale: _Scale, y: float) -> str:
    title = el("title", _e(f"{mark.summary} [{mark.status}]"))
    link = el(
        "a", title + _mark_shape(mark, scale, y), href=f"#{anchor('ev', mark.event_id)}"
    )
    if not mark.label or mark.lane not in {"meetings", "deadlines"}:
        return link
    x = scale.x(mark.end) + scale.width(mark.end, mark.end) + 6
    return link + _text(x, y + 4, mark.label, fill="#333")


def _svg_lanes(chart: Chart, scale: _Scale) -> tuple[list[str], float]:
    layout = lane_layout(chart)
    top = max(bottom + height for bottom, height in layout.values())
    parts: list[str] = []
    for key, label in LANES:
        bottom, height = layout[key]
        y0 = (top - bottom - height) * _LANE_UNIT + 10
        y1 = (top - bottom) * _LANE_UNIT + 10
        parts.append(
            el("line", x1=_LEFT, x2=_SVG_WIDTH - _RIGHT, y1=y1, y2=y1, stroke="#d9dee7")
        )
        parts.append(
            _text(_LEFT - 10, (y0 + y1) / 2 + 4, label, font_size=13, text_anchor="end")
        )
    for mark in chart.marks:
        y = (top - row_of(chart, mark, layout)) * _LANE_UNIT + 10
        parts.append(_svg_mark(mark, scale, y))
    return parts, top * _LANE_UNIT + 10


def _svg_series(
    chart: Chart, scale: _Scale, index: int, y_of: Callable[[int], float]
) -> list[str]:
    series = chart.releases[index]
    colour = SIDE_COLOURS[index % len(SIDE_COLOURS)]
    points = [(scale.x(chart.start), y_of(0))]
    for day, value in series.steps:
        x = scale.x(day)
        points += [(x, points[-1][1]), (x, y_of(value))]
    end = chart.end if chart.at is None else min(chart.end, chart.at)
    points.append((scale.x(end), points[-1][1]))
    dash = "6 3" if index % 2 else None
    title = el("title", _e(f"released by {series.party}: {series.total:,} reported"))
    parts = [
        el(
            "polyline",
            title,
            points=" ".join(f"{x:.1f},{y:.1f}" for x, y in points),
            fill="none",
            stroke=colour,
            stroke_width=2.5,
            stroke_dasharray=dash,
        )
    ]
    for day, value in series.unreported:
        note = el("title", _e(f"{series.party}: a release on {day} without a figure"))
        parts.append(
            el(
                "circle",
                note,
                cx=scale.x(day),
                cy=y_of(value),
                r=4,
                fill="#fff",
                stroke=colour,
            )
        )
    return parts


def _svg_releases(chart: Chart, scale: _Scale, top: float) -> list[str]:
    bottom = top + _RELEASE_HEIGHT
    peak = max([s.total for s in chart.releases] + [1])

    def y_of(value: int) -> float:
        return bottom - value / peak * (_RELEASE_HEIGHT - 20)

    parts = [
        _text(
            _LEFT - 10,
            top + _RELEASE_HEIGHT / 2,
            "People released",
            font_size=13,
            text_anchor="end",
        ),
        el(
            "line",
            x1=_LEFT,
            x2=_SVG_WIDTH - _RIGHT,
            y1=bottom,
            y2=bottom,
            stroke="#aab2c0",
        ),
        _text(_LEFT + 4, top + 16, f"{peak:,}", fill=_MUTED),
    ]
    for index, series in enumerate(chart.releases):
        parts += _svg_series(chart, scale, index, y_of)
        colour = SIDE_COLOURS[index % len(SIDE_COLOURS)]
        y = top + 16 + 16 * index
        dash = "6 3" if index % 2 else None
        parts.append(
            el(
                "line",
                x1=_LEFT + 60,
                x2=_LEFT + 84,
                y1=y - 4,
                y2=y - 4,
                stroke=colour,
                stroke_width=2.5,
                stroke_dasharray=dash,
            )
        )
        words = (
            f"released by {series.party} ({series.total:,} reported; "
            "open circle = a release without a figure)"
        )
        parts.append(_text(_LEFT + 90, y, words))
    return parts


def _svg_axis(chart: Chart, scale: _Scale, bottom: float) -> list[str]:
    parts = []
    for tick in _month_ticks(chart.start, chart.end):
        x = scale.x(tick)
        parts.append(el("line", x1=x, x2=x, y1=10, y2=bottom, stroke="#eef0f4"))
        parts.append(_text(x + 3, bottom + 16, f"{tick:%b %Y}", fill=_MUTED))
    if chart.at is not None and chart.start <= chart.at <= chart.end:
        x = scale.x(chart.at)
        parts.append(
            el("line", x1=x, x2=x, y1=6, y2=bottom, stroke=_INK, stroke_dasharray="5 3")
        )
        parts.append(
            _text(
                x - 4,
                bottom - 4,
                f"positions on {chart.at:%d %b %Y}",
                text_anchor="end",
            )
        )
    return parts


def _svg_legend(chart: Chart, y: float) -> list[str]:
    seen: dict[str, list[str]] = {}
    for mark in chart.marks:
        names = seen.setdefault(STATUS_COLOURS.get(mark.status, "#555555"), [])
        if mark.status not in names:
            names.append(mark.status)
    parts = []
    x = float(_LEFT)
    for colour, names in seen.items():
        words = ", ".join(names)
        parts.append(el("circle", cx=x + 5, cy=y - 4, r=5, fill=colour))
        parts.append(_text(x + 14, y, words))
        x += 24 + 6.5 * len(words)
    return parts


def timeline_svg(chart: Chart) -> str:
    """The chart as an inline ``<svg id="timeline">`` with links to the events."""
    scale = _Scale(chart.start, chart.end)
    lanes, lanes_bottom = _svg_lanes(chart, scale)
    releases_top = lanes_bottom + 16
    bottom = releases_top + _RELEASE_HEIGHT
    height = bottom + _AXIS + 24
    title = "Timeline: meetings, proposals, agreements, swaps, deadlines and releases"
    body = "".join(
        [
            el("title", _e(title)),
            el("rect", width="100%", height="100%", fill="#fff"),
            *_svg_axis(chart, scale, bottom),
            *lanes,
            *_svg_releases(chart, scale, releases_top),
            *_svg_legend(chart, bottom + _AXIS + 14),
        ]
    )
    return el(
        "svg",
        body,
        id="timeline",
        role="img",
        width=_SVG_WIDTH,
        height=round(height),
        viewBox=f"0 0 {_SVG_WIDTH} {round(height)}",
    )


# -- the page ------------------------------------------------------------------------


def _default_at(timeline: Timeline) -> date:
    days = [timeline.span_of(i).latest for i in range(len(timeline))]
    known = [day for day in days if day is not None]
    if not known:
        raise NegstateError(
            "the log holds no event with a known last day",
            hint="give --at, or add events first",
        )
    return max(known)


def _page(
    timeline: Timeline,
    *,
    at: date | None,
    diff_from: date | None,
    diff_to: date | None,
) -> _Page:
    day = at or _default_at(timeline)
    until = diff_to or day
    since = diff_from or until - timedelta(days=DEFAULT_DIFF_DAYS)
    if since > until:
        raise NegstateError(
            f"the changes would run from {since} back to {until}",
            hint="give a --from day before the --to day",
        )
    state = timeline.state_at(day)
    converter = shared_converter(timeline.registry)
    changes = diff(
        timeline.state_at(since), timeline.state_at(until), converter=converter
    )
    return _Page(
        timeline=timeline,
        state=state,
        at=day,
        changes=changes,
        sources=_Sources.of(timeline.events),
        converter=converter,
    )


def render_report(
    log: EventLog,
    *,
    at: date | str | None = None,
    diff_from: date | str | None = None,
    diff_to: date | str | None = None,
    known_at: datetime | None = None,
    title: str | None = None,
) -> str:
    """The HTML report of ``log`` as one self-contained document.

    ``at`` is the day positions and statuses are shown for (default: the last day
    on which an event surely happened); the changes run from ``diff_from`` to
    ``diff_to`` (default: the :data:`DEFAULT_DIFF_DAYS` days up to ``at``);
    ``known_at`` shows what the log held at that time.
    """
    timeline = log.timeline(known_at=known_at)
    page = _page(
        timeline,
        at=None if at is None else day_of(at),
        diff_from=None if diff_from is None else day_of(diff_from),
        diff_to=None if diff_to is None else day_of(diff_to),
    )
    chart = chart_data(timeline, at=page.at)
    heading = title or f"Negotiation report: {Path(log.location).name}"
    known = f", as known at {known_at.isoformat()}" if known_at else ""
    intro = (
        f"{len(timeline)} events from {len(page.sources.reports)} reports; positions "
        f"and statuses on {page.at:%d %B %Y}{known}."
    )
    sections = [
        _section(
            "timeline",
            "Timeline",
            f"<figure>{timeline_svg(chart)}</figure>",
            "hover a mark for its event; click it to jump to the event",
        ),
        _positions(page),
        _proposals(page),
        _exchanges(page),
        _meetings(page),
        _agreements(page),
        _deadlines(page),
        _figures(page),
        _changes(page),
        _events(page),
        _sources_section(page),
    ]
    nav = "".join(
        f'<a href="#section-{key}">{_e(label)}</a>'
        for key, label in (
            ("timeline", "Timeline"),
            ("positions", "Positions"),
            ("proposals", "Proposals"),
            ("exchanges", "Exchanges"),
            ("meetings", "Meetings"),
            ("agreements", "Agreements"),
            ("deadlines", "Deadlines"),
            ("figures", "Figures"),
            ("changes", "Changes"),
            ("events", "Events"),
            ("sources", "Sources"),
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head>"
        f"<body><main><header><h1>{_e(heading)}</h1><p>{_e(intro)}</p></header>"
        f"<nav>{nav}</nav>{''.join(sections)}</main></body></html>\n"
    )


def write_report(
    log: EventLog,
    out_path: str | Path,
    *,
    at: date | str | None = None,
    diff_from: date | str | None = None,
    diff_to: date | str | None = None,
    known_at: datetime | None = None,
    title: str | None = None,
) -> Path:
    """Write :func:`render_report`'s document to ``out_path`` (UTF-8) and return it."""
    document = render_report(
        log, at=at, diff_from=diff_from, diff_to=diff_to, known_at=known_at, title=title
    )
    target = Path(out_path)
    try:
        target.write_text(document, encoding="utf-8")
    except OSError as exc:
        raise NegstateError(
            f"cannot write the report ({exc.strerror})",
            where=str(target),
            hint="check the folder exists and is writable",
        ) from None
    return target
