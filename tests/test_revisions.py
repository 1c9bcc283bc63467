from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import negstate as ns
from tests.strategies import LATER, days_in_streams, event_streams, revised_copy

SOURCE = ns.Source(title="A report", outlet="Wire")
START = datetime(2025, 1, 1, tzinfo=UTC)


def ticking_clock() -> Callable[[], datetime]:
    """A clock that moves one hour per call."""
    ticks: Iterator[int] = iter(range(10**6))
    return lambda: START + timedelta(hours=next(ticks))


def recorded(events: list[ns.Event], cuts: list[int]) -> ns.EventLog:
    """A memory log holding ``events`` appended in batches split at ``cuts``."""
    log = ns.EventLog(clock=ticking_clock())
    bounds = sorted({0, len(events), *(c for c in cuts if 0 < c < len(events))})
    for start, stop in itertools.pairwise(bounds):
        log.append_many(events[start:stop])
    return log


def referenced(events: list[ns.Event]) -> set[str]:
    return {target for event in events for target in event.references}


class TestKnownAt:
    """What the log said at a time depends only on what it held by then."""

    @given(event_streams(), st.lists(st.integers(0, 25)), days_in_streams())
    def test_known_at_the_last_record_is_the_plain_state(
        self, events: list[ns.Event], cuts: list[int], day: date
    ) -> None:
        """Knowledge as of the newest record is everything the log holds."""
        log = recorded(events, cuts)
        last = max((r.recorded_at for r in log), default=START)
        assert ns.state_at(log, on=day, known_at=last) == ns.state_at(log, on=day)

    @given(
        event_streams(),
        st.lists(st.integers(0, 25)),
        days_in_streams(),
        st.integers(0, 30),
    )
    def test_never_uses_a_record_appended_later(
        self, events: list[ns.Event], cuts: list[int], day: date, hours: int
    ) -> None:
        """As known at T, the state is the state of the records appended by T."""
        log = recorded(events, cuts)
        known_at = START + timedelta(hours=hours)
        kept = [r.event for r in log if r.recorded_at <= known_at]
        state = ns.state_at(log, on=day, known_at=known_at)
        assert state == ns.state_at(kept, on=day)
        assert set(state.events) <= {event.id for event in kept}

    def test_a_day_means_its_end(self) -> None:
        log = ns.EventLog(clock=lambda: datetime(2025, 7, 1, 18, tzinfo=UTC))
        log.append(
            ns.PositionStated(
                id="s",
                occurred="2025-06-30",
                sources=SOURCE,
                party="UA",
                issue="ceasefire",
                stance="demands",
            )
        )
        assert ns.state_at(log, known_at="2025-07-01").position("UA", "ceasefire")
        assert not ns.state_at(log, known_at="2025-06-30").positions

    def test_known_at_needs_a_log(self) -> None:
        with pytest.raises(ns.NegstateError, match="known_at needs a log"):
            ns.state_at([], known_at="2025-07-01")


class TestRevisionLaws:
    """Corrections, retractions and merges act as if the record had been right."""

    @given(event_streams(), days_in_streams(), st.data())
    def test_retracting_equals_folding_without_it(
        self, events: list[ns.Event], day: date, data: st.DataObject
    ) -> None:
        """A retracted event leaves the state as if it had never been recorded."""
        leaves = [e for e in events if e.id not in referenced(events)]
        if not leaves:
            return
        target = data.draw(st.sampled_from(leaves))
        log = recorded(events, [])
        log.append(
            ns.EventRetracted(
                id="retraction", occurred="2026-01", sources=LATER, target=target.id
            )
        )
        without = [e for e in events if e.id != target.id]
        assert ns.state_at(log, on=day) == ns.state_at(without, on=day)

    @given(event_streams(), days_in_streams(), st.data())
    def test_correcting_equals_folding_with_the_replacement(
        self, events: list[ns.Event], day: date, data: st.DataObject
    ) -> None:
        """A corrected event counts as its replacement."""
        if not events:
            return
        target = data.draw(st.sampled_from(events))
        replacement = revised_copy(target)
        log = recorded(events, [])
        log.append(
            ns.EventCorrected(
                id="correction",
                occurred="2026-01",
                sources=LATER,
                target=target.id,
                replacement=replacement,
            )
        )
        swapped = [replacement if e.id == target.id else e for e in events]
        assert ns.state_at(log, on=day) == ns.state_at(swapped, on=day)

    @given(event_streams(), days_in_streams(), st.data())
    def test_merging_duplicates_equals_folding_one_copy(
        self, events: list[ns.Event], day: date, data: st.DataObject
    ) -> None:
        """Two reports of one event, merged, count once and keep both sources."""
        if not events:
            return
        original = data.draw(st.sampled_from(events))
        duplicate = attrs.evolve(original, id="second-report", sources=(LATER,))
        log = recorded(events, [])
        log.append_many(
            [
                duplicate,
                ns.EventsMerged(
                    id="merge",
                    occurred="2026-01",
                    sources=LATER,
                    kept=original.id,
                    duplicates=("second-report",),
                ),
            ]
        )
        kept = attrs.evolve(original, sources=(*original.sources, LATER))
        once = [kept if e.id == original.id else e for e in events]
        assert ns.state_at(log, on=day) == ns.state_at(once, on=day)

    @given(event_streams(), days_in_streams(), st.data())
    def test_revision_is_invisible_before_it_is_known(
        self, events: list[ns.Event], day: date, data: st.DataObject
    ) -> None:
        """As known before a correction was recorded, the original still counts."""
        if not events:
            return
        target = data.draw(st.sampled_from(events))
        log = recorded(events, [])
        before = max(r.recorded_at for r in log)
        log.append(
            ns.EventCorrected(
                id="correction",
                occurred="2026-01",
                sources=LATER,
                target=target.id,
                replacement=revised_copy(target),
            )
        )
        assert ns.state_at(log, on=day, known_at=before) == ns.state_at(events, on=day)


class TestRevisionRules:
    """Revisions that cannot apply are refused before anything is written."""

    def proposal(self) -> ns.ProposalMade:
        return ns.ProposalMade(
            id="p",
            occurred="2025-03-01",
            sources=SOURCE,
            proposer="US",
            addressees=("UA",),
            issue="ceasefire",
        )

    def test_retracting_what_others_refer_to_is_refused(self) -> None:
        log = ns.EventLog()
        log.append(self.proposal())
        log.append(
            ns.ProposalAccepted(
                id="a", occurred="2025-03-11", sources=SOURCE, proposal="p", by="UA"
            )
        )
        with pytest.raises(ns.UnknownReferenceError, match="event 'a'"):
            log.append(
                ns.EventRetracted(id="x", occurred="2025-04", sources=LATER, target="p")
            )
        assert len(log) == 2

    def test_correcting_an_unknown_event_is_refused(self) -> None:
        log = ns.EventLog()
        with pytest.raises(ns.UnknownReferenceError, match=r"event 'c'.*'p'"):
            log.append(
                ns.EventCorrected(
                    id="c",
                    occurred="2025-04",
                    sources=LATER,
                    target="p",
                    replacement=self.proposal(),
                )
            )

    def test_correction_keeps_the_event_type(self) -> None:
        log = ns.EventLog()
        log.append(self.proposal())
        other = ns.PositionStated(
            id="p",
            occurred="2025-03-01",
            sources=SOURCE,
            party="US",
            issue="ceasefire",
            stance="supports",
        )
        with pytest.raises(
            ns.ImpossibleEventError, match="ProposalMade with a PositionStated"
        ):
            log.append(
                ns.EventCorrected(
                    id="c",
                    occurred="2025-04",
                    sources=LATER,
                    target="p",
                    replacement=other,
                )
            )

    def test_replacement_must_carry_the_target_id(self) -> None:
        with pytest.raises(ns.InvalidEventError, match="replacement"):
            ns.EventCorrected(
                id="c",
                occurred="2025-04",
                sources=LATER,
                target="q",
                replacement=self.proposal(),
            )

    def test_retracting_a_correction_restores_the_original(self) -> None:
        log = ns.EventLog()
        log.append(self.proposal())
        fixed = attrs.evolve(self.proposal(), issue="territory")
        log.append(
            ns.EventCorrected(
                id="c", occurred="2025-04", sources=LATER, target="p", replacement=fixed
            )
        )
        assert ns.state_at(log).proposals["p"].issue == "territory"
        log.append(
            ns.EventRetracted(id="r", occurred="2025-05", sources=LATER, target="c")
        )
        assert ns.state_at(log).proposals["p"].issue == "ceasefire"

    def test_the_latest_correction_wins(self) -> None:
        log = ns.EventLog()
        log.append(self.proposal())
        for number, issue in enumerate(["territory", "prisoner_exchange"]):
            log.append(
                ns.EventCorrected(
                    id=f"c{number}",
                    occurred="2025-04",
                    sources=LATER,
                    target="p",
                    replacement=attrs.evolve(self.proposal(), issue=issue),
                )
            )
        assert ns.state_at(log).proposals["p"].issue == "prisoner_exchange"
        assert log.timeline().revised_by["p"] == ("c0", "c1")

    def test_references_to_a_merged_duplicate_follow_the_kept_event(self) -> None:
        log = ns.EventLog()
        copy = attrs.evolve(self.proposal(), id="p-again", sources=(LATER,))
        log.append_many([self.proposal(), copy])
        log.append(
            ns.ProposalRejected(
                id="r",
                occurred="2025-03-12",
                sources=LATER,
                proposal="p-again",
                by="UA",
            )
        )
        log.append(
            ns.EventsMerged(
                id="m",
                occurred="2025-04",
                sources=LATER,
                kept="p",
                duplicates=["p-again"],
            )
        )
        state = ns.state_at(log)
        assert list(state.proposals) == ["p"]
        assert state.proposals["p"].rejected_by == {"UA"}
        assert state.events["p"].sources == (SOURCE, LATER)

    def test_revisions_are_not_folded(self) -> None:
        with pytest.raises(ns.RegistryError, match="revision"):
            ns.fold(
                [ns.EventRetracted(id="r", occurred="2025", sources=SOURCE, target="p")]
            )


class TestClaims:
    """Claimants' words are kept side by side; nothing is overwritten."""

    def stated(
        self, event_id: str, claimed_by: str | None, stance: str, day: str
    ) -> ns.PositionStated:
        return ns.PositionStated(
            id=event_id,
            occurred=day,
            sources=SOURCE,
            party="RU",
            issue="ceasefire",
            stance=stance,
            claimed_by=claimed_by,
        )

    def test_another_claimants_word_stands_beside_the_latest(self) -> None:
        state = ns.fold(
            [
                self.stated("own", None, "offers", "2025-05-16"),
                self.stated("ua-says", "UA", "opposes", "2025-05-20"),
            ]
        )
        position = state.position("RU", "ceasefire")
        assert position is not None
        assert (position.claimant, position.disputed) == ("UA", True)
        assert [other.event for other in position.others] == ["own"]
        assert position.events == ("ua-says", "own")

    def test_the_partys_own_word_replaces_claims_about_it(self) -> None:
        state = ns.fold(
            [
                self.stated("ua-says", "UA", "opposes", "2025-05-20"),
                self.stated("own", None, "offers", "2025-06-02"),
            ]
        )
        position = state.position("RU", "ceasefire")
        assert position is not None
        assert (position.event, position.others, position.disputed) == (
            "own",
            (),
            False,
        )

    def test_figures_from_two_sides_are_disputed(self) -> None:
        figures = [
            ns.FigureReported(
                id=f"f-{who}",
                occurred="2025-07-23",
                sources=SOURCE,
                subject="children/deported",
                value=value,
                claimed_by=who,
            )
            for who, value in (
                ("UA", ns.Quantity(at_least=19000)),
                ("RU", ns.Quantity.exactly(339)),
            )
        ]
        figure = ns.fold(figures).figures["children/deported"]
        assert figure.disputed
        assert figure.claim_of("RU").value == ns.Quantity.exactly(339)  # type: ignore[union-attr]


class TestRevisionsInDiffsAndExplanations:
    """A change across recording time names the revision behind it."""

    def test_knowledge_diff_cites_the_correction(self) -> None:
        log = ns.EventLog(clock=ticking_clock())
        swap = ns.SwapCompleted(
            id="s",
            occurred="2025-05-25",
            sources=SOURCE,
            releases=[ns.Release(by="UA", category="prisoners", count=1000)],
        )
        log.append(swap)
        before = max(r.recorded_at for r in log)
        fixed = attrs.evolve(
            swap,
            releases=(ns.Release(by="UA", category="prisoners", count=1012),),
            sources=(LATER,),
        )
        log.append(
            ns.EventCorrected(
                id="c",
                occurred="2025-06-01",
                sources=LATER,
                target="s",
                replacement=fixed,
            )
        )
        changes = ns.diff(
            ns.state_at(log, on="2025-06-01", known_at=before),
            ns.state_at(log, on="2025-06-01"),
        )
        by_path = {change.path: change for change in changes}
        assert by_path["swaps/s"].events == ("s", "c")
        assert LATER in by_path["swaps/s"].sources
        explained = ns.explain(ns.state_at(log), "swaps/s")
        assert [r.id for r in explained.revised_by["s"]] == ["c"]
