"""The HTML report: self-contained, escaped, linked to sources, drawn by a browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

import negstate as ns
from negstate.report import anchor, render_report, write_report

EXAMPLE = Path(__file__).parents[1] / "examples" / "ukraine_russia_2025"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def talks(tmp_path: Path) -> Iterator[ns.EventLog]:
    for name in ("talks.jsonl", "talks.jsonl.head"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    with ns.open_log(tmp_path / "talks.jsonl", create=False) as log:
        yield log


@pytest.fixture(scope="module")
def html_text() -> str:
    with ns.open_log(EXAMPLE / "talks.jsonl", create=False) as log:
        return render_report(
            log, at="2025-06-10", diff_from="2025-06-01", diff_to="2025-06-05"
        )


class _Collector(HTMLParser):
    """Every id, href and src in a document, and the tags used."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.sources: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name == "href" and value:
                self.hrefs.append(value)
            elif name == "src" and value:
                self.sources.append(value)

    handle_startendtag = handle_starttag


def collect(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    return collector


def hostile_log() -> ns.EventLog:
    log = ns.EventLog()
    source = ns.Source(
        title='<script>alert("x")</script> & Co',
        outlet="<b>Wire</b>",
        url="javascript:alert(1)",
        quote='"quoted" <img src=x onerror=alert(1)>',
    )
    log.append(
        ns.PositionStated(
            id="p<1>",
            occurred="2025-05-01",
            sources=source,
            party="UA",
            issue="ceasefire",
            stance="demands",
            terms=ns.Terms(text="<i>30 days</i>"),
        )
    )
    return log


class TestContent:
    """The report holds every section and links each item to its sources only."""

    def test_sections_and_tables_are_there(self, html_text: str) -> None:
        found = collect(html_text)
        for ident in (
            "timeline",
            "positions",
            "proposals",
            "exchanges",
            "meetings",
            "deadlines",
            "figures",
            "changes",
            "events",
        ):
            assert ident in found.ids
        assert "svg" in found.tags
        assert "Positions on 10 June 2025" in html_text

    def test_self_contained_without_scripts_or_external_resources(
        self, html_text: str
    ) -> None:
        found = collect(html_text)
        assert "script" not in found.tags
        assert "link" not in found.tags
        assert not found.sources
        assert "http://" not in html_text
        assert "https://" not in html_text, "the example cites no URLs"
        assert "@import" not in html_text

    def test_every_internal_link_has_a_target(self, html_text: str) -> None:
        found = collect(html_text)
        internal = [h[1:] for h in found.hrefs if h.startswith("#")]
        assert internal
        missing = sorted({h for h in internal if h not in found.ids})
        assert not missing

    def test_positions_link_to_their_sources(self, html_text: str) -> None:
        table = html_text.split('id="positions"', 1)[1].split("</table>", 1)[0]
        rows = table.split("<tr>")[2:]
        assert len(rows) == 8
        assert all('href="#src-' in row for row in rows)

    def test_sources_list_each_report_once_with_its_quotes(
        self, html_text: str
    ) -> None:
        sources = html_text.split('id="section-sources"')[1]
        reports = re.findall(r'<li id="src-(\d+)">', sources)
        assert reports == ["1", "2", "3", "4", "5"]
        assert "Babel" in sources
        assert "first direct talks between Ukraine and Russia since 2022" in sources

    def test_statuses_and_changes_are_shown(self, html_text: str) -> None:
        proposals = html_text.split('id="proposals"', 1)[1].split("</table>", 1)[0]
        assert "ua-30-day-ceasefire-proposal" in proposals
        assert ">rejected<" in proposals
        changes = html_text.split('id="changes"', 1)[1].split("</table>", 1)[0]
        assert "meetings/2025-06-02-istanbul-round-2" in changes

    def test_every_text_is_escaped_and_only_web_links_are_clickable(self) -> None:
        text = render_report(hostile_log())
        assert "<script>" not in text
        assert "&lt;script&gt;" in text
        assert "<img" not in text
        assert "<i>30 days</i>" not in text
        assert 'href="javascript:' not in text
        assert anchor("ev", "p<1>") in collect(text).ids

    def test_corrected_and_merged_events_say_so(self, html_text: str) -> None:
        assert "(revised: EventCorrected 2025-07-23-round-1-duration-bounded)" in (
            html_text
        )
        assert "EventsMerged 2025-07-24-in-person-refusal-merged" in html_text

    def test_bad_diff_range_is_a_domain_error(self, talks: ns.EventLog) -> None:
        with pytest.raises(ns.NegstateError, match="back to"):
            render_report(talks, diff_from="2025-07-01", diff_to="2025-06-01")

    def test_writer_writes_utf8(self, talks: ns.EventLog, tmp_path: Path) -> None:
        path = write_report(talks, tmp_path / "r.html", title="Talks \u2019s report")
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>")
        assert "<title>Talks \u2019s report</title>" in text


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class TestInBrowser:
    """Headless Chromium renders the report with its timeline and positions table."""

    def test_chromium_renders_timeline_and_positions(
        self, talks: ns.EventLog, tmp_path: Path
    ) -> None:
        browser = _browser()
        if browser is None:
            if os.environ.get("NEGSTATE_REQUIRE_BROWSER") == "1":
                pytest.fail(
                    "chromium is required (NEGSTATE_REQUIRE_BROWSER=1) but missing"
                )
            pytest.skip("chromium is not installed")
        page = write_report(talks, tmp_path / "report.html")
        shot = tmp_path / "shot.png"
        flags = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
        ]
        dom = subprocess.run(  # noqa: S603 - the browser found on PATH, fixed flags
            [*flags, "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert dom.returncode == 0, dom.stderr[-2000:]
        rendered = collect(dom.stdout)
        assert {"timeline", "positions", "events"} <= rendered.ids
        assert "svg" in rendered.tags
        done = subprocess.run(  # noqa: S603 - the browser found on PATH, fixed flags
            [*flags, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        data = shot.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        import matplotlib.image as mpimg  # noqa: PLC0415

        pixels = mpimg.imread(shot)
        assert pixels.shape[:2] == (2000, 1280)
        assert float(pixels[..., :3].std()) > 0.05, "the screenshot is blank"
        coloured = (abs(pixels[..., 0] - pixels[..., 2]) > 0.2).mean()
        assert coloured > 0.001, "no coloured marks: the timeline did not draw"
