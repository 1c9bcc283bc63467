"""Plain records for pandas and friends, and the event CSV."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import negstate as ns
from negstate.rows import (
    EVENT_CSV_COLUMNS,
    KINDS,
    columns_of,
    read_events_csv,
    summarize,
    to_rows,
    write_events_csv,
)

EXAMPLE = Path(__file__).parents[1] / "examples" / "ukraine_russia_2025"
PLAIN = (str, int, float, bool, type(None))


@pytest.fixture(scope="module")
def log() -> Iterator[ns.EventLog]:
    with ns.open_log(EXAMPLE / "talks.jsonl", create=False) as opened:
        yield opened


class TestToRows:
    """Every kind gives plain values, from a log, a state or events."""

    @pytest.mark.parametrize("kind", KINDS)
    def test_values_are_plain_and_columns_stable(
        self, log: ns.EventLog, kind: str
    ) -> None:
        rows = to_rows(log, kind)
        assert rows
        columns = list(rows[0])
        for row in rows:
            assert list(row) == columns
            assert all(isinstance(value, PLAIN) for value in row.values())

    def test_state_kinds_follow_the_day(self, log: ns.EventLog) -> None:
        june = to_rows(log, "exchanges", at="2025-06-10")
        later = to_rows(ns.state_at(log, "2025-08-01"), "exchanges")
        ua_june = {(r["party"], r["category"]): r for r in june}
        ua_later = {(r["party"], r["category"]): r for r in later}
        assert ua_june["UA", "prisoners_of_war"]["releases"] == 2
        assert ua_later["UA", "prisoners_of_war"]["releases"] == 7
        assert ua_later["UA", "prisoners"]["exact"] is False
        assert later[0]["as_of"] == "2025-08-01"

    def test_events_from_a_log_are_in_valid_time_order_with_records(
        self, log: ns.EventLog
    ) -> None:
        rows = to_rows(log, "events")
        assert len(rows) == 63
        assert rows[0]["id"] == "2025-01-us-peace-initiative"
        assert rows[0]["seq"] == 1
        latest = [r["narrowed_latest"] for r in rows]
        assert latest == sorted(latest, key=lambda d: d or "9999")
        from_events = to_rows(list(log.events()), "events")
        assert [r["id"] for r in from_events] == [r["id"] for r in rows]
        assert from_events[0]["seq"] is None

    def test_figures_and_positions_say_what_is_disputed(self, log: ns.EventLog) -> None:
        figures = to_rows(log, "figures")
        assert {r["claimant"] for r in figures} == {"UA", "RU"}
        assert all(r["disputed"] is True for r in figures)
        ru_children = next(r for r in figures if r["claimant"] == "RU")
        assert (ru_children["value_at_least"], ru_children["value_at_most"]) == (
            339,
            339,
        )

    def test_an_unknown_kind_names_the_known_ones(self, log: ns.EventLog) -> None:
        with pytest.raises(ns.NegstateError, match="use one of events, positions"):
            to_rows(log, "treaties")

    def test_columns_of_keeps_first_appearance(self) -> None:
        assert columns_of([{"a": 1}, {"b": 2, "a": 3}]) == ["a", "b"]


class TestSummaries:
    """One-line summaries name who did what."""

    def test_summaries_of_the_example(self, log: ns.EventLog) -> None:
        swap = log.get("2025-05-late-swap-1000-for-1000")
        assert swap is not None
        assert summarize(swap.event) == (
            "RU released 1,000 prisoners to UA; UA released 1,000 prisoners to RU"
        )
        rejection = log.get("ru-rejects-30-day-ceasefire")
        assert rejection is not None
        assert summarize(rejection.event).startswith(
            "RU rejects ua-30-day-ceasefire-proposal"
        )


class TestEventCsv:
    """The event CSV reads back to equal events and names bad rows by line."""

    def test_round_trip(self, log: ns.EventLog) -> None:
        converter = ns.make_converter()
        stream = io.StringIO()
        write_events_csv(log.events(), stream, converter)
        text = stream.getvalue()
        assert text.splitlines()[0] == ",".join(EVENT_CSV_COLUMNS)
        assert read_events_csv(text, "e.csv", converter) == list(log.events())

    def test_a_bad_row_names_its_line(self, log: ns.EventLog) -> None:
        converter = ns.make_converter()
        stream = io.StringIO()
        write_events_csv(list(log.events())[:3], stream, converter)
        lines = stream.getvalue().splitlines()
        lines[3] = lines[3].replace('"[{', '"[{oops', 1)
        with pytest.raises(ns.LogFormatError, match=r"e\.csv:4: column 'sources'"):
            read_events_csv("\n".join(lines) + "\n", "e.csv", converter)

    def test_a_csv_without_the_columns_is_refused(self) -> None:
        with pytest.raises(ns.LogFormatError, match=r"x\.csv:1: .*lacks the column"):
            read_events_csv("a,b\n1,2\n", "x.csv", ns.make_converter())
