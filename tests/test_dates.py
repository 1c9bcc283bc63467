from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import edtf
import pytest
from hypothesis import given

import negstate as ns
from tests.strategies import days, fuzzy_dates


class TestLaws:
    """Properties every fuzzy date has."""

    @given(fuzzy_dates())
    def test_text_round_trip(self, when: ns.FuzzyDate) -> None:
        """Parsing the printed form gives back an equal date."""
        assert ns.FuzzyDate.parse(str(when)) == when

    @given(fuzzy_dates(), fuzzy_dates())
    def test_kept_text_belongs_to_its_date(
        self, when: ns.FuzzyDate, other: ns.FuzzyDate
    ) -> None:
        """The text a date keeps once printed changes neither equality nor copies."""
        text = str(when)
        fresh = ns.FuzzyDate(when.earliest, when.latest)
        assert when == fresh
        assert hash(when) == hash(fresh)
        assert str(when) == str(fresh) == text
        moved = attrs.evolve(when, earliest=other.earliest, latest=other.latest)
        assert str(moved) == str(ns.FuzzyDate(other.earliest, other.latest))
        assert (moved == when) == (str(other) == text)

    @given(fuzzy_dates())
    def test_earliest_is_never_after_latest(self, when: ns.FuzzyDate) -> None:
        """A span never ends before it starts, and one end is always known."""
        assert when.earliest is not None or when.latest is not None
        if when.earliest is not None and when.latest is not None:
            assert when.earliest <= when.latest

    @given(fuzzy_dates())
    def test_text_is_edtf(self, when: ns.FuzzyDate) -> None:
        """An independent EDTF parser reads the text with the same bounds."""
        parsed = edtf.parse_edtf(str(when))
        low, high = parsed.lower_strict(), parsed.upper_strict()
        if when.earliest is None:
            assert low == float("-inf")
        else:
            assert (low.tm_year, low.tm_mon, low.tm_mday) == when.earliest.timetuple()[
                :3
            ]
        if when.latest is None:
            assert high == float("inf")
        else:
            assert (high.tm_year, high.tm_mon, high.tm_mday) == when.latest.timetuple()[
                :3
            ]

    @given(fuzzy_dates(), days())
    def test_surely_implies_possibly(self, when: ns.FuzzyDate, day: date) -> None:
        """What has surely happened by a day may have happened by it."""
        if when.surely_by(day):
            assert when.possibly_by(day)


class TestParsing:
    """The text forms analysts write."""

    @pytest.mark.parametrize(
        ("text", "earliest", "latest"),
        [
            ("2025-05-16", date(2025, 5, 16), date(2025, 5, 16)),
            ("2025-05", date(2025, 5, 1), date(2025, 5, 31)),
            ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
            ("2025", date(2025, 1, 1), date(2025, 12, 31)),
            ("2025-05-20/2025-05-31", date(2025, 5, 20), date(2025, 5, 31)),
            ("2025-03/2025-04", date(2025, 3, 1), date(2025, 4, 30)),
            ("../2025-08-31", None, date(2025, 8, 31)),
            ("2025-03-01/..", date(2025, 3, 1), None),
            ("/2025-08-31", None, date(2025, 8, 31)),
            ("late May 2025", date(2025, 5, 21), date(2025, 5, 31)),
            ("early March 2025", date(2025, 3, 1), date(2025, 3, 10)),
            ("mid-June 2025", date(2025, 6, 11), date(2025, 6, 20)),
            ("late 2025-02", date(2025, 2, 21), date(2025, 2, 28)),
            ("May 2025", date(2025, 5, 1), date(2025, 5, 31)),
            ("by 2025-08", None, date(2025, 8, 31)),
            ("from 2025-03", date(2025, 3, 1), None),
        ],
    )
    def test_reads(self, text: str, earliest: date | None, latest: date | None) -> None:
        assert ns.FuzzyDate.parse(text) == ns.FuzzyDate(earliest, latest)

    @pytest.mark.parametrize(
        ("when", "text"),
        [
            (ns.FuzzyDate.part_of_month(2025, 5, "late"), "2025-05-21/2025-05-31"),
            (ns.FuzzyDate.month(2025, 5), "2025-05"),
            (ns.FuzzyDate.year(2025), "2025"),
            (ns.FuzzyDate.no_later_than(date(2025, 8, 31)), "../2025-08-31"),
        ],
    )
    def test_prints_canonical_edtf(self, when: ns.FuzzyDate, text: str) -> None:
        assert str(when) == text

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "2025-13",
            "2025-02-30",
            "May",
            "late 2025",
            "2025-05-20/2025-05-01",
            "../..",
            "2025-05-20/2025-06/2025-07",
            "2025?",
            "soon",
            "2025-5-1",
        ],
    )
    def test_refuses_with_a_negstate_error(self, text: str) -> None:
        with pytest.raises(ns.FuzzyDateError):
            ns.FuzzyDate.parse(text)

    def test_error_says_what_to_write(self) -> None:
        with pytest.raises(ns.FuzzyDateError, match="YYYY-MM-DD"):
            ns.FuzzyDate.parse("next week")


class TestReading:
    """How a span reads against a day."""

    def test_late_may_surely_happened_only_from_the_31st(self) -> None:
        late_may = ns.FuzzyDate.part_of_month(2025, 5, "late")
        assert not late_may.surely_by(date(2025, 5, 30))
        assert late_may.surely_by(date(2025, 5, 31))
        assert late_may.possibly_by(date(2025, 5, 21))
        assert not late_may.possibly_by(date(2025, 5, 20))

    def test_open_end_never_surely_happened(self) -> None:
        since = ns.FuzzyDate.no_earlier_than(date(2025, 3, 1))
        assert not since.surely_by(date(2099, 1, 1))
        assert since.possibly_by(date(2025, 3, 1))

    @pytest.mark.parametrize(
        ("when", "words"),
        [
            (ns.FuzzyDate.day(2025, 5, 16), "16 May 2025"),
            (ns.FuzzyDate.part_of_month(2025, 5, "late"), "late May 2025"),
            (ns.FuzzyDate.month(2025, 3), "March 2025"),
            (ns.FuzzyDate.no_later_than(date(2025, 8, 31)), "by 31 Aug 2025"),
            (
                ns.FuzzyDate(date(2025, 7, 13), date(2025, 7, 15)),
                "between 13 Jul 2025 and 15 Jul 2025",
            ),
        ],
    )
    def test_describes_in_words(self, when: ns.FuzzyDate, words: str) -> None:
        assert when.describe() == words

    def test_needs_days_not_datetimes(self) -> None:
        with pytest.raises(ns.FuzzyDateError):
            ns.FuzzyDate(datetime(2025, 1, 1, tzinfo=UTC), None)
