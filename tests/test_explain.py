from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given

import negstate as ns
from negstate.diff import state_paths
from negstate.explain import resolve
from negstate.replay import build_timeline
from tests.strategies import days_in_streams, event_streams

SOURCE = ns.Source(title="A report", outlet="Wire")
LATER = ns.Source(title="A later report", outlet="Other Wire")


def with_references(ids: set[str], known: dict[str, ns.Event]) -> list[ns.Event]:
    """The events named and, transitively, the events they refer to."""
    wanted = set(ids)
    pending = list(ids)
    while pending:
        for target in known[pending.pop()].references:
            if target not in wanted:
                wanted.add(target)
                pending.append(target)
    return [known[event_id] for event_id in wanted]


def value_at(events: list[ns.Event], path: str, state: ns.NegotiationState) -> object:
    """The record at ``path`` when only ``events`` are folded (None if absent)."""
    try:
        folded = ns.fold(
            build_timeline(events).events, as_of=state.as_of, reading=state.reading
        )
    except ns.FoldError:
        return None
    try:
        return resolve(folded, path)[1]
    except ns.NegstateError:
        return None


class TestLaws:
    """explain lists exactly the events a value rests on."""

    @given(event_streams(), days_in_streams())
    def test_listed_events_reproduce_the_value(
        self, events: list[ns.Event], day: date
    ) -> None:
        """Folding the listed events and what they refer to gives the same record."""
        state = ns.state_at(events, on=day)
        known = dict(state.events)
        for path, record in state_paths(state).items():
            listed = ns.explain(state, path).event_ids
            assert value_at(with_references(set(listed), known), path, state) == record

    @given(event_streams(), days_in_streams())
    def test_every_listed_event_matters(
        self, events: list[ns.Event], day: date
    ) -> None:
        """Leaving out any listed event changes the record (or makes it vanish)."""
        state = ns.state_at(events, on=day)
        known = dict(state.events)
        for path, record in state_paths(state).items():
            listed = set(ns.explain(state, path).event_ids)
            for left_out in listed:
                rest = with_references(listed - {left_out}, known)
                rest = [e for e in rest if e.id != left_out]
                assert value_at(rest, path, state) != record

    @given(event_streams(), days_in_streams())
    def test_events_come_in_valid_time_order(
        self, events: list[ns.Event], day: date
    ) -> None:
        """Explained events keep the order in which replay folded them."""
        state = ns.state_at(events, on=day)
        order = {event_id: n for n, event_id in enumerate(state.events)}
        for path in state_paths(state):
            ids = ns.explain(state, path).event_ids
            assert [order[i] for i in ids] == sorted(order[i] for i in ids)


class TestExplain:
    """The git blame of a negotiation, with sources."""

    def events(self) -> list[ns.Event]:
        return [
            ns.ProposalMade(
                id="p",
                occurred="2025-03-01",
                sources=SOURCE,
                proposer="US",
                addressees=("UA", "RU"),
                issue="ceasefire",
            ),
            ns.ProposalAccepted(
                id="a", occurred="2025-03-11", sources=SOURCE, proposal="p", by="UA"
            ),
            ns.ProposalRejected(
                id="r", occurred="2025-03-12", sources=LATER, proposal="p", by="RU"
            ),
            ns.SwapCompleted(
                id="s1",
                occurred="2025-05-25",
                sources=SOURCE,
                releases=[ns.Release(by="UA", category="prisoners", count=1000)],
            ),
            ns.SwapCompleted(
                id="s2",
                occurred="2025-06-09",
                sources=LATER,
                releases=[ns.Release(by="UA", category="prisoners", count=12)],
            ),
        ]

    def test_exchange_total(self) -> None:
        explained = ns.explain(ns.state_at(self.events()), "exchanges/UA/prisoners")
        assert explained.event_ids == ("s1", "s2")
        assert explained.sources == (SOURCE, LATER)
        assert explained.record.count == 1012

    def test_a_field_path_explains_its_record(self) -> None:
        explained = ns.explain(ns.state_at(self.events()), "proposals/p/status")
        assert explained.path == "proposals/p"
        assert explained.event_ids == ("p", "a", "r")

    def test_text_reads_like_blame(self) -> None:
        text = str(ns.explain(ns.state_at(self.events()), "positions/UA/ceasefire"))
        assert text.splitlines()[0] == "positions/UA/ceasefire: 2 event(s)"
        assert "11 Mar 2025" in text
        assert 'Wire, "A report"' in text

    def test_revisions_are_shown_with_their_sources(self) -> None:
        log = ns.EventLog()
        log.append_many(self.events())
        fixed = ns.SwapCompleted(
            id="s2",
            occurred="2025-06-09",
            sources=LATER,
            releases=[ns.Release(by="UA", category="prisoners", count=84)],
        )
        log.append(
            ns.EventCorrected(
                id="c",
                occurred="2025-06-20",
                sources=LATER,
                target="s2",
                replacement=fixed,
            )
        )
        timeline = log.timeline()
        explained = ns.explain(
            ns.state_at(log),
            "exchanges/UA/prisoners",
            revisions=timeline.revisions,
            revised_by=timeline.revised_by,
        )
        assert explained.record.count == 1084
        assert [r.id for r in explained.revised_by["s2"]] == ["c"]
        assert "revised by c (EventCorrected)" in str(explained)

    def test_unknown_path(self) -> None:
        with pytest.raises(ns.NegstateError, match="nothing at 'positions/XX/none'"):
            ns.explain(ns.state_at(self.events()), "positions/XX/none")

    def test_diff_changes_carry_sources(self) -> None:
        events = self.events()
        change = next(
            iter(
                ns.diff(
                    ns.state_at(events, on="2025-06-01"), ns.state_at(events)
                ).under("exchanges")
            )
        )
        assert change.events == ("s2",)
        assert change.sources == (LATER,)
