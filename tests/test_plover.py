"""PLOVER export and import: the mapping, the round trip and unmappable records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import negstate as ns
from negstate.plover import (
    EXTENSION,
    QUAD_CODES,
    code_event,
    from_plover,
    read_plover,
    to_plover,
)

EXAMPLE = Path(__file__).parents[1] / "examples" / "ukraine_russia_2025"
SOURCE = ns.Source(title="A report", outlet="Wire", url="https://example.org/a")


@pytest.fixture(scope="module")
def events() -> Iterator[list[ns.Event]]:
    with ns.open_log(EXAMPLE / "talks.jsonl", create=False) as log:
        yield list(log.events())


@pytest.fixture(scope="module")
def records(events: list[ns.Event]) -> dict[str, dict[str, object]]:
    exported = to_plover(events, ns.make_converter(), actor_codes={"UA": "UKR"})
    return {str(record["id"]): record for record in exported}


class TestMapping:
    """Each kind of negstate event gets the PLOVER category the code book gives it."""

    @pytest.mark.parametrize(
        ("event_id", "category", "mode", "cameo"),
        [
            ("2025-03-us-full-ceasefire-proposal", "AGREE", None, "0356"),
            ("2025-03-ua-accepts-us-full-ceasefire", "AGREE", None, "0356"),
            ("ru-rejects-30-day-ceasefire", "REJECT", ["yield"], "1246"),
            ("2025-07-23-ru-rejects-leaders-meeting", "REJECT", ["meet"], "125"),
            ("2025-05-16-istanbul-round-1", "CONSULT", ["visit"], "042"),
            ("2025-05-19-trump-putin-call", "CONSULT", ["phone"], "041"),
            ("2025-05-late-swap-1000-for-1000", "RETREAT", ["release"], "0841"),
            ("2025-07-23-ua-proposes-leaders-meeting", "AGREE", None, "036"),
            ("2025-07-14-trump-50-day-deadline", "THREATEN", ["restrict"], "139"),
            ("2025-05-16-agreement-1000-for-1000", "SUPPORT", None, "057"),
            ("2025-07-23-ua-comprehensive-ceasefire", "DEMAND", ["yield"], "1056"),
        ],
    )
    def test_categories_modes_and_cameo_codes(
        self,
        records: dict[str, dict[str, object]],
        event_id: str,
        category: str,
        mode: list[str] | None,
        cameo: str,
    ) -> None:
        record = records[event_id]
        assert record["event"] == [category]
        assert record.get("mode") == mode
        assert record["cameo"] == cameo
        assert record["quad_code"] == QUAD_CODES[category]
        assert record["has_event"] is True

    def test_actors_sources_and_recipients(
        self, records: dict[str, dict[str, object]]
    ) -> None:
        rejection = records["putin-declines-in-person-meeting"]
        assert rejection["source"] == [{"code": "RU", "actor_text": "RU"}]
        assert rejection["recipient"] == [{"code": "UKR", "actor_text": "UA"}]
        meeting = records["2025-05-16-istanbul-round-1"]
        assert [a["actor_text"] for a in meeting["source"]] == ["UA", "RU"]
        assert "recipient" not in meeting, "a meeting is reciprocal"

    def test_dates_and_citations(self, records: dict[str, dict[str, object]]) -> None:
        fuzzy = records["2025-03-us-full-ceasefire-proposal"]
        assert (fuzzy["date"], fuzzy["enddate"]) == ("2025-03-01", "2025-03-10")
        exact = records["2025-05-16-istanbul-round-1"]
        assert exact["date"] == "2025-05-16"
        assert "enddate" not in exact
        assert exact["cite_info"]["publication"] == "Babel"

    def test_figures_are_not_events(
        self, records: dict[str, dict[str, object]]
    ) -> None:
        figure = records["2025-07-23-children-list-339"]
        assert figure["has_event"] is False
        assert figure["event"] == []
        assert "quad_code" not in figure

    def test_a_stated_position_follows_its_stance(self) -> None:
        stances = {
            "supports": "SUPPORT",
            "offers": "AGREE",
            "demands": "DEMAND",
            "opposes": "REJECT",
            "undecided": None,
        }
        for stance, category in stances.items():
            event = ns.PositionStated(
                id=f"p-{stance}",
                occurred="2025-05-01",
                sources=SOURCE,
                party="UA",
                issue="peace_deal",
                stance=stance,
            )
            assert code_event(event).category == category


class TestRoundTrip:
    """Export then import gives equal events; foreign records map where they can."""

    def test_the_example_round_trips(
        self, events: list[ns.Event], records: dict[str, dict[str, object]]
    ) -> None:
        text = "\n".join(json.dumps(r) for r in records.values()) + "\n"
        imported = read_plover(text, ns.make_converter())
        assert not imported.problems
        assert list(imported.events) == events

    def test_a_foreign_swap_is_rebuilt(self) -> None:
        record = {
            "id": "swap-1",
            "date": "2025-06-09",
            "source": [{"code": "RUS"}],
            "recipient": [{"code": "UKR"}],
            "event": ["RETREAT"],
            "mode": ["release"],
            "cite_info": {"title": "A swap", "url": "https://example.org/s"},
        }
        imported = from_plover([record], ns.make_converter())
        swap = imported.events[0]
        assert isinstance(swap, ns.SwapCompleted)
        assert swap.releases == (
            ns.Release(by="RUS", category="prisoners", count=None, to="UKR"),
        )
        assert swap.sources[0].url == "https://example.org/s"

    @pytest.mark.parametrize(
        ("record", "reason"),
        [
            ([1, 2], "not an object"),
            ({"date": "2025-01-01", "event": ["CONSULT"]}, "no id"),
            (
                {"id": "x", "date": "2025-01-01", "event": ["CONSULT"]},
                "names no title",
            ),
            (
                {"id": "x", "date": "May", "event": ["CONSULT"]},
                "is not YYYY-MM-DD",
            ),
            ({"id": "x", "date": "2025-01-01", "event": ["ACCUSE"]}, "ACCUSE"),
            ({"id": "x", EXTENSION: {"nothing": 1}}, "has no event object"),
        ],
    )
    def test_unmappable_records_are_problems_not_exceptions(
        self, record: object, reason: str
    ) -> None:
        imported = from_plover([{"id": "ok"}, record], ns.make_converter())
        assert not imported.events
        numbers = [p.record for p in imported.problems]
        assert numbers == [1, 2]
        assert reason in imported.problems[1].message

    def test_an_id_that_differs_from_its_event_is_a_problem(
        self, records: dict[str, dict[str, object]]
    ) -> None:
        record = dict(records["2025-05-16-istanbul-round-1"])
        record["id"] = "renamed"
        imported = from_plover([record], ns.make_converter())
        assert "differs from its negstate event" in str(imported.problems[0])

    def test_a_bad_event_in_the_extension_names_its_field(
        self, records: dict[str, dict[str, object]]
    ) -> None:
        record = json.loads(json.dumps(records["2025-05-16-istanbul-round-1"]))
        record[EXTENSION]["event"]["level"] = ""
        imported = from_plover([record], ns.make_converter())
        assert "'level'" in imported.problems[0].message
