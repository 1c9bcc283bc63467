from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import attrs
import pytest
from hypothesis import given

import negstate as ns
from negstate.replay import build_timeline
from tests.strategies import days_in_streams, event_streams, focus_paths

SOURCE = ns.Source(title="A report", outlet="Wire")


class TestLaws:
    """diff is empty on equal states and reads backwards by inversion."""

    @given(event_streams(), days_in_streams())
    def test_diff_of_a_state_with_itself_is_empty(
        self, events: list[ns.Event], day: date
    ) -> None:
        """Nothing changes between a state and itself."""
        state = ns.state_at(events, on=day)
        assert not ns.diff(state, state)

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_backwards_diff_is_the_inverse(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """diff(b, a) is diff(a, b) with added and removed, before and after swapped."""
        a, b = ns.state_at(events, on=first), ns.state_at(events, on=second)
        assert ns.diff(b, a) == ns.diff(a, b).inverse()

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_changes_name_events_the_later_state_or_earlier_state_holds(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """Every event a change cites is one of the two states' events."""
        a, b = ns.state_at(events, on=first), ns.state_at(events, on=second)
        known = set(a.events) | set(b.events)
        for change in ns.diff(a, b):
            assert set(change.events) <= known

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_diff_is_json(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """A diff serializes to JSON and back unchanged."""
        converter = ns.make_converter()
        found = ns.diff(ns.state_at(events, on=first), ns.state_at(events, on=second))
        text = json.dumps(converter.unstructure(found))
        assert converter.structure(json.loads(text), ns.Diff) == found

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_json_form_is_a_copy(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """Editing a diff's JSON form leaves the diff as it was."""
        converter = ns.make_converter()
        found = ns.diff(ns.state_at(events, on=first), ns.state_at(events, on=second))
        kept = copy.deepcopy(found)
        plain = converter.unstructure(found)
        for change, written in zip(found, plain.get("changes", []), strict=True):
            assert written.get("before") == change.before
            assert written.get("after") == change.after
            for side in ("before", "after"):
                _scramble(written.get(side))
        assert found == kept


def _scramble(value: object) -> None:
    """Empty every dict and list inside ``value``."""
    if isinstance(value, dict):
        for item in value.values():
            _scramble(item)
        value.clear()
    elif isinstance(value, list):
        for item in value:
            _scramble(item)
        value.clear()


class TestPaths:
    """Changes sit at stable, readable paths and carry their events."""

    def test_positions_proposals_and_exchanges(self) -> None:
        events: list[ns.Event] = [
            ns.ProposalMade(
                id="p",
                occurred="2025-03-01",
                sources=SOURCE,
                proposer="US",
                addressees=("UA", "RU"),
                issue="ceasefire",
            ),
            ns.ProposalRejected(
                id="r", occurred="2025-03-12", sources=SOURCE, proposal="p", by="RU"
            ),
            ns.SwapCompleted(
                id="s",
                occurred="2025-05-25",
                sources=SOURCE,
                releases=[ns.Release(by="RU", category="prisoners", count=1000)],
            ),
        ]
        found = ns.diff(
            ns.state_at(events, on="2025-03-05"), ns.state_at(events, on="2025-06-01")
        )
        by_path = {change.path: change for change in found}
        status = by_path["proposals/p"]
        assert (status.kind, status.fields, status.events) == (
            ns.ChangeKind.CHANGED,
            ("responses", "status"),
            ("r",),
        )
        assert (status.before["status"], status.after["status"]) == ("open", "rejected")
        assert "status: open -> rejected  [r]" in str(status)
        total = by_path["exchanges/RU/prisoners"]
        assert (total.kind, total.after["count"], total.events) == (
            ns.ChangeKind.ADDED,
            1000,
            ("s",),
        )
        assert "positions/US/ceasefire" not in by_path
        assert found.under("exchanges").changes == (total,)

    def test_readable_text(self) -> None:
        proposal = ns.ProposalMade(
            id="p",
            occurred="2025-03-01",
            sources=SOURCE,
            proposer="US",
            addressees=("UA",),
            issue="ceasefire",
        )
        text = str(
            ns.diff(
                ns.state_at([proposal], on="2025-02-01"),
                ns.state_at([proposal], on="2025-03-02"),
            )
        )
        assert text.splitlines()[0] == "2 change(s) (2025-02-01 -> 2025-03-02)"
        assert "+ positions/US/ceasefire:" in text
        assert text.rstrip().endswith("[p]")


class TestCheckpointDiff:
    """Diffs between states of one log look only where events wrote, and agree."""

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_same_changes_as_comparing_everything(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """The fast path gives exactly the diff of full states."""
        timeline = build_timeline(events)
        fast = ns.diff(timeline.state_at(first), timeline.state_at(second))
        full = ns.diff(
            ns.fold(timeline.counting(first), as_of=first),
            ns.fold(timeline.counting(second), as_of=second),
        )
        assert fast == full


class TestRevisionsInChanges:
    """A change names the revisions of its events after the events themselves."""

    def test_revisions_follow_the_events_they_revise(self) -> None:
        """Revisions come in the time order of the events they revise, not in the
        order a set of those events' ids happens to iterate in, which differs
        between processes; sixteen pairs of ids make a match by chance unlikely."""
        later = ns.Source(title="A later report", outlet="Wire")
        for number in range(16):
            first = ns.ProposalMade(
                id=f"offer-{number}",
                occurred="2025-01-01",
                sources=SOURCE,
                proposer="UA",
                addressees=("RU",),
                issue="ceasefire",
            )
            counter = ns.ProposalMade(
                id=f"counter-{number}",
                occurred="2025-01-02",
                sources=SOURCE,
                proposer="RU",
                addressees=("UA",),
                issue="ceasefire",
                counters=first.id,
            )
            fixes = [
                ns.EventCorrected(
                    id=f"fix-of-{target.id}",
                    occurred="2026-01",
                    sources=later,
                    target=target.id,
                    replacement=attrs.evolve(target, sources=(later,)),
                )
                for target in (counter, first)
            ]
            events = [first, counter, *fixes]
            changes = ns.diff(ns.state_at(events, on="2024-12-01"), ns.state_at(events))
            offer = next(c for c in changes if c.path == f"proposals/{first.id}")
            assert offer.events == (
                first.id,
                counter.id,
                f"fix-of-{first.id}",
                f"fix-of-{counter.id}",
            )


class _Watched(Mapping[Any, Any]):
    """A state's table that notes every key read and refuses to be listed."""

    def __init__(self, table: Mapping[Any, Any], read: list[Any]) -> None:
        self._table, self._read = table, read

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401 - a table's key and record
        self._read.append(key)
        return self._table[key]

    def __iter__(self) -> Iterator[Any]:
        self._read.append("listed")
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


class TestFocusedDiff:
    """diff(..., under=path) is the part of the diff under the path."""

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_focused_diff_is_the_full_diff_under_the_path(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """Between states of one index and between states compared in full, for
        sections, record paths, their prefixes and paths that match nothing."""
        timeline = build_timeline(events)
        one_index = timeline.state_at(first), timeline.state_at(second)
        compared_in_full = (
            ns.fold(timeline.counting(first), as_of=first),
            ns.fold(timeline.counting(second), as_of=second),
        )
        for before, after in (one_index, compared_in_full):
            full = ns.diff(before, after)
            for path in focus_paths(full):
                assert ns.diff(before, after, under=path) == full.under(path), path

    def test_records_outside_the_path_are_not_read(self) -> None:
        """A diff focused on one party's positions reads no other party's positions
        and does not list other sections."""
        offer = ns.ProposalMade(
            id="offer",
            occurred="2025-03-01",
            sources=SOURCE,
            proposer="US",
            addressees=("UA", "RU"),
            issue="ceasefire",
        )
        events = [
            offer,
            *(
                ns.ProposalAccepted(
                    id=f"{party.lower()}-yes",
                    occurred=day,
                    sources=SOURCE,
                    proposal="offer",
                    by=party,
                )
                for party, day in (("UA", "2025-03-02"), ("RU", "2025-03-03"))
            ),
        ]
        read: list[Any] = []

        def watched(state: ns.NegotiationState) -> ns.NegotiationState:
            return attrs.evolve(
                state,
                positions=_Watched(state.positions, read),
                proposals=_Watched(state.proposals, read),
                agreements=_Watched(state.agreements, read),
            )

        before = watched(ns.fold(events[:1]))
        after = watched(ns.fold(events))
        focused = ns.diff(before, after, under="positions/RU")
        assert [c.path for c in focused] == ["positions/RU/ceasefire"]
        assert focused.changes[0].events == ("offer", "ru-yes")
        assert read == ["listed", "listed", ("RU", "ceasefire"), ("RU", "ceasefire")]

    @pytest.mark.parametrize("path", ["", "/", "position/RU", "/positions", "RU"])
    def test_a_path_outside_every_section_is_refused(self, path: str) -> None:
        """A mistyped path is an error naming the sections, not an empty diff."""
        state = ns.fold([])
        with pytest.raises(ns.NegstateError, match="start the path with one of"):
            ns.diff(state, state, under=path)
