from __future__ import annotations

import itertools
from datetime import date

import attrs
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

import negstate as ns
from negstate.replay import Timeline, build_timeline
from negstate.state import StateDraft
from tests.strategies import days_in_streams, event_streams, revised_streams
from tests.test_snapshot import ACCEPTED, LATER, PROPOSAL, folded_ids

_OPEN_END = date.max.toordinal() + 1


def narrowed_latest(events: list[ns.Event]) -> dict[str, int]:
    """Each event's latest possible day, narrowed by what refers to it (fixed point).

    Written independently of replay: repeat the rule until nothing changes.
    """
    latest = {
        e.id: _OPEN_END if e.occurred.latest is None else e.occurred.latest.toordinal()
        for e in events
    }
    changed = True
    while changed:
        changed = False
        for event in events:
            for target in event.references:
                if target in latest and latest[event.id] < latest[target]:
                    latest[target] = latest[event.id]
                    changed = True
    return latest


class TestFoldLaws:
    """Folding is a plain left fold over events."""

    @given(event_streams(), st.data())
    def test_incremental_fold_equals_batch_fold(
        self, events: list[ns.Event], data: st.DataObject
    ) -> None:
        """Folding a prefix, then the rest onto it, equals folding everything."""
        ordered = list(build_timeline(events).events)
        split = data.draw(st.integers(0, len(ordered)))
        incremental = ns.fold(ordered[split:], start=ns.fold(ordered[:split]))
        assert incremental == ns.fold(ordered)

    @given(event_streams(), days_in_streams(), st.data())
    def test_folding_on_from_a_dated_state(
        self, events: list[ns.Event], day: date, data: st.DataObject
    ) -> None:
        """A state settled on a day folds on as if it had not been settled."""
        ordered = list(build_timeline(events).events)
        split = data.draw(st.integers(0, len(ordered)))
        dated = ns.fold(ordered[:split], as_of=day)
        assert ns.fold(ordered[split:], start=dated) == ns.fold(ordered)

    @given(event_streams())
    def test_refolding_the_same_events_is_a_no_op(self, events: list[ns.Event]) -> None:
        """Events a state already holds count once when folded again."""
        ordered = list(build_timeline(events).events)
        state = ns.fold(ordered)
        assert ns.fold(ordered, start=state) == state


class TestReplayLaws:
    """state_at depends only on which events there are and on the day."""

    @given(event_streams(), days_in_streams())
    def test_state_at_folds_exactly_the_events_that_count(
        self, events: list[ns.Event], day: date
    ) -> None:
        """The state on D folds the events whose narrowed latest day is <= D."""
        latest = narrowed_latest(events)
        counting = [e for e in events if latest[e.id] <= day.toordinal()]
        expected = ns.fold(build_timeline(counting).events, as_of=day)
        assert ns.state_at(events, on=day) == expected
        assert set(ns.state_at(events, on=day).events) == {e.id for e in counting}

    @given(event_streams(), days_in_streams(), st.randoms())
    def test_recording_order_does_not_matter(
        self, events: list[ns.Event], day: date, random: st.Random
    ) -> None:
        """Shuffling the order events were recorded in changes no state."""
        shuffled = list(events)
        random.shuffle(shuffled)
        assert ns.state_at(shuffled, on=day) == ns.state_at(events, on=day)
        assert ns.state_at(shuffled) == ns.state_at(events)

    @given(event_streams(), days_in_streams(), st.data())
    def test_recording_an_event_twice_is_a_no_op(
        self, events: list[ns.Event], day: date, data: st.DataObject
    ) -> None:
        """An identical event recorded again does not count twice."""
        repeated = data.draw(st.lists(st.sampled_from(events))) if events else []
        assert ns.state_at([*events, *repeated], on=day) == ns.state_at(events, on=day)

    @given(event_streams(), days_in_streams(), days_in_streams())
    def test_exchange_totals_never_decrease(
        self, events: list[ns.Event], first: date, second: date
    ) -> None:
        """A later day never shows fewer people released."""
        early, late = sorted((first, second))
        before = ns.state_at(events, on=early).exchanges
        after = ns.state_at(events, on=late).exchanges
        for key, total in before.items():
            assert key in after
            assert after[key].count >= total.count
            assert after[key].releases >= total.releases

    @given(event_streams(), days_in_streams())
    def test_possibly_counts_at_least_what_surely_counts(
        self, events: list[ns.Event], day: date
    ) -> None:
        """The possibly reading folds a superset of the surely reading's events."""
        surely = ns.state_at(events, on=day)
        possibly = ns.state_at(events, on=day, reading=ns.Reading.POSSIBLY)
        assert set(surely.events) <= set(possibly.events)
        for event_id in possibly.events:
            event = possibly.events[event_id]
            assert event.occurred.earliest is None or event.occurred.earliest <= day

    @given(event_streams())
    def test_references_fold_after_what_they_reference(
        self, events: list[ns.Event]
    ) -> None:
        """In valid-time order every event comes after the events it refers to."""
        position = {e.id: i for i, e in enumerate(build_timeline(events).events)}
        for event in events:
            for target in event.references:
                assert position[target] < position[event.id]

    @given(event_streams())
    def test_without_a_day_everything_counts(self, events: list[ns.Event]) -> None:
        """state_at with no day is the fold of every event in valid-time order."""
        assert ns.state_at(events) == ns.fold(build_timeline(events).events)


class TestFailedFolds:
    """Events that break the rules are refused, and the timeline and checkpoint
    index they were folded onto are left as they stood before."""

    SOURCE = ns.Source(title="A report", outlet="Wire")

    def test_a_refused_extension_is_undone(self) -> None:
        proposal = ns.ProposalMade(
            id="p",
            occurred="2025-03-01",
            sources=self.SOURCE,
            proposer="US",
            addressees=("UA",),
            issue="ceasefire",
        )
        stated = ns.PositionStated(
            id="s",
            occurred="2025-03-08",
            sources=self.SOURCE,
            party="UA",
            issue="ceasefire",
            stance=ns.Stance.SUPPORTS,
        )
        by_a_stranger = ns.ProposalAccepted(
            id="a", occurred="2025-03-10", sources=self.SOURCE, proposal="p", by="RU"
        )
        timeline = build_timeline([proposal])
        timeline.state_at("2025-03-05")  # the index is built
        with pytest.raises(ns.ImpossibleEventError, match="not an addressee"):
            timeline.extended([stated, by_a_stranger])
        later = timeline.state_at("2025-03-20")
        assert later == ns.fold([proposal], as_of=date(2025, 3, 20))
        index, end = later.origin  # type: ignore[misc]
        assert end == len(index) == 1
        assert len(index.draft.events) == 1
        assert list(index.draft.events) == ["p"]
        assert timeline.extended([proposal]) is None  # a repeated id: build anew
        assert timeline.extended([stated, stated]) is None
        extended = timeline.extended(event for event in [stated])
        assert extended is not None
        assert [event.id for event in extended.events] == ["p", "s"]
        assert extended.state_at("2025-03-20") == ns.fold(
            [proposal, stated], as_of=date(2025, 3, 20)
        )


class TestWholeFold:
    """The state after every event is folded once and carried on by appends."""

    def test_is_folded_once_and_carried_on(self) -> None:
        """Asking twice folds once; events appended after are folded alone onto
        a copy, so the state read before stays as it was."""
        events = [PROPOSAL, ACCEPTED]
        timeline = build_timeline(events)
        with folded_ids() as folded:
            first = timeline.state_at()
            again = timeline.state_at()
            longer = timeline.extended([LATER])
            assert longer is not None
            after = longer.state_at()
        assert folded == ["p", "a", "s"]
        assert first == again == ns.fold(events)
        assert ("RU", "ceasefire") not in first.positions
        assert after == ns.fold([*events, LATER])


WITHDRAWN = ns.ProposalWithdrawn(
    id="w", occurred="2025-03-04", sources=PROPOSAL.sources, proposal="p", by="US"
)


@attrs.frozen(kw_only=True)
class Note(ns.Event):
    """A user's event: asks for a collection, and files itself in it."""

    into: str
    write: bool = True


def file_note(draft: StateDraft, event: Note) -> None:
    records = draft.collection(event.into)
    if event.write:
        records[event.id] = event


NOTES = ns.BUILTIN_EVENTS.with_event(Note, file_note)


def note(event_id: str, day: int, into: str, *, write: bool = True) -> Note:
    """A note of March 2025 filed into collection ``into``."""
    return Note(
        id=event_id,
        occurred=f"2025-03-{day:02d}",
        sources=PROPOSAL.sources,
        into=into,
        write=write,
    )


class TestLateReports:
    """Reports that sort inside the order are placed in a copy of it."""

    @pytest.mark.parametrize(
        "asked", ["nothing", "every event", "a day", "the index, unread"]
    )
    @given(
        events=event_streams(),
        split=st.integers(0, 25),
        days=st.lists(days_in_streams(), min_size=1, max_size=3),
    )
    def test_placing_them_gives_the_order_and_states_of_a_rebuild(
        self, asked: str, events: list[ns.Event], split: int, days: list[date]
    ) -> None:
        """Whatever the timeline folded before (nothing, every event, the index
        read or not), events appended in any split give the order and states of
        a timeline built from all of them, or are refused as a rebuild would
        refuse them; the timeline they were appended to stays as it was."""
        timeline = build_timeline(events[:split])
        reference = timeline
        if asked == "every event":
            timeline.state_at()
        elif asked == "a day":
            timeline.state_at(days[0])
        elif asked == "the index, unread":
            # The index is built, and no state reads it: those read before
            # come from a twin.
            timeline._order.indexed(len(timeline))
            reference = build_timeline(events[:split])
        before = [list(timeline.events), *(reference.state_at(d) for d in days)]
        rebuilt = build_timeline(events)
        try:
            extended = timeline.extended(events[split:])
        except ns.NegstateError:
            with pytest.raises(ns.NegstateError):
                rebuilt.state_at()
        else:
            placed = timeline.followed_by(events[split:])
            for found in (extended, placed):
                if found is None:
                    continue
                assert list(found.events) == list(rebuilt.events)
                assert list(found.latest) == list(rebuilt.latest)
                assert list(found.earliest) == list(rebuilt.earliest)
                assert list(found.depth) == list(rebuilt.depth)
                for day in [*days, None]:
                    assert found.state_at(day) == rebuilt.state_at(day)
        assert [list(timeline.events), *(timeline.state_at(d) for d in days)] == before

    @given(events=revised_streams(), split=st.integers(0, 25), data=st.data())
    def test_revisions_applied_before_carry_over(
        self, events: list[ns.Event], split: int, data: st.DataObject
    ) -> None:
        """A timeline that applied corrections, retractions and merges takes new
        plain events, early or late, as a timeline built from all of them does,
        revisions included; an event under an id that a revision removed, or a
        revision's own, is left to a rebuild."""
        first = next(
            (n for n, e in enumerate(events) if e.id.startswith("revision-")),
            len(events),
        )
        plain, revising = events[:split], events[first:]
        later = events[min(split, first) : first]
        own = {e.id for e in revising}
        targets = {t for e in revising for t in e.references if t not in own}
        assume(targets <= {e.id for e in plain})
        try:
            timeline = build_timeline([*plain, *revising])
        except ns.NegstateError:
            reject()  # two revisions of one event that the first removed
        if data.draw(st.booleans(), label="index built"):
            timeline.state_at("2025-06-01")
        extended = timeline.extended(later)
        rebuilt = build_timeline([*plain, *revising, *later])
        assert extended is not None
        assert list(extended.events) == list(rebuilt.events)
        assert extended.revised_by == rebuilt.revised_by
        for day in ("2025-03-01", "2025-09-01", None):
            assert extended.state_at(day) == rebuilt.state_at(day)
        removed = set(timeline.revised_by) - {e.id for e in timeline.events}
        for event_id in [*removed, *timeline.revisions]:
            reused = attrs.evolve(later[0] if later else plain[0], id=event_id)
            assert timeline.extended([reused]) is None

    def test_the_id_of_a_cancelled_revision_is_left_to_a_rebuild(self) -> None:
        """A correction that a retraction cancelled was never applied, but its id
        is taken: an event reusing it is refused, as a rebuild refuses it."""
        correction = ns.EventCorrected(
            id="c",
            occurred="2025-03-09",
            sources=LATER.sources,
            target="s",
            replacement=attrs.evolve(LATER, stance=ns.Stance.OPPOSES),
        )
        retraction = ns.EventRetracted(
            id="r", occurred="2025-03-10", sources=LATER.sources, target="c"
        )
        recorded = [PROPOSAL, ACCEPTED, LATER, correction, retraction]
        timeline = build_timeline(recorded)
        reused = attrs.evolve(LATER, id="c", party="UA")
        with pytest.raises(ns.DuplicateEventError):
            build_timeline([*recorded, reused])
        assert timeline.extended([reused]) is None
        assert timeline.followed_by([reused]) is None

    def test_only_the_events_after_its_place_are_folded(self) -> None:
        """With the index built, the events from the report's place on are folded
        onto the state before it; the index and the states read stay as they were."""
        timeline = build_timeline([PROPOSAL, ACCEPTED, LATER])
        first = timeline.state_at("2025-03-06")
        late = attrs.evolve(LATER, id="t", occurred="2025-03-04", party="UA")
        with folded_ids(indexes=True) as folded:
            extended = timeline.extended([late])
        assert extended is not None
        assert folded == ["t", "a", "s"]
        assert [e.id for e in extended.events] == ["p", "t", "a", "s"]
        assert [e.id for e in timeline.events] == ["p", "a", "s"]
        day = date(2025, 3, 6)
        assert timeline.state_at(day) == first == ns.fold(timeline.events, as_of=day)
        assert extended.state_at(day) == ns.fold(extended.events, as_of=day)
        assert extended.state_at() == ns.fold([PROPOSAL, late, ACCEPTED, LATER])

    @pytest.mark.parametrize("asked", ["every event", "a day"])
    def test_an_event_that_cannot_follow_it_refuses_it(self, asked: str) -> None:
        """A withdrawal placed before an acceptance makes that acceptance
        impossible: the report is refused, and the timeline goes on as before."""
        timeline = build_timeline([PROPOSAL, ACCEPTED])
        timeline.state_at(None if asked == "every event" else "2025-03-05")
        with pytest.raises(ns.ImpossibleEventError, match="event 'a'"):
            timeline.extended([WITHDRAWN])
        assert [e.id for e in timeline.events] == ["p", "a"]
        extended = timeline.extended([LATER])
        assert extended is not None
        assert extended.state_at() == ns.fold([PROPOSAL, ACCEPTED, LATER])

    @pytest.mark.parametrize("read", [False, True])
    def test_the_new_order_takes_the_index_over(self, read: bool) -> None:
        """The new order gets a copy of the index up to the report's place,
        folds only the events from there on and reads its states from it; the
        timeline extended keeps its index and its states."""
        timeline = build_timeline([PROPOSAL, ACCEPTED])
        grown = timeline.extended([LATER])  # folded onto a new index
        assert grown is not None
        day = date(2025, 3, 5)
        if read:
            first = grown.state_at(day)
        late = attrs.evolve(LATER, id="t", occurred="2025-03-04", party="UA")
        with folded_ids(indexes=True) as folded:
            extended = grown.extended([late])
            assert extended is not None
            states = [extended.state_at(d) for d in (day, date(2025, 3, 3), None)]
            assert folded == ["t", "a", "s"]
            kept = [grown.state_at(day), grown.state_at()]
            assert folded == ["t", "a", "s"]
        events = [PROPOSAL, late, ACCEPTED, LATER]
        assert states == [
            ns.fold(events[:3], as_of=day),
            ns.fold(events[:1], as_of=date(2025, 3, 3)),
            ns.fold(events),
        ]
        if read:
            assert first == kept[0]
        assert kept == [
            ns.fold([PROPOSAL, ACCEPTED], as_of=day),
            ns.fold([PROPOSAL, ACCEPTED, LATER]),
        ]

    @pytest.mark.parametrize(
        ("held", "batches"),
        [
            # Collections first asked for after the report's place.
            ([note("x", 10, "a"), note("y", 20, "b")], [[note("z", 5, "c")]]),
            # One asked for before it and written only after it.
            (
                [
                    note("o", 1, "a", write=False),
                    note("x", 10, "b"),
                    note("w", 20, "a"),
                ],
                [[note("z", 15, "c")]],
            ),
            # One asked for by a batch that is refused, then again later.
            (
                [PROPOSAL, note("x", 10, "a")],
                [
                    [
                        note("y", 25, "d"),
                        attrs.evolve(WITHDRAWN, by="UA", occurred="2025-03-26"),
                    ],
                    [note("v", 27, "e"), note("u", 28, "d")],
                ],
            ),
        ],
    )
    def test_user_collections_keep_the_order_of_a_rebuild(
        self, held: list[ns.Event], batches: list[list[ns.Event]]
    ) -> None:
        """A state lists user collections in the order a rebuild first asks for
        them, after late reports and after a refused batch alike."""
        timeline = build_timeline(held, NOTES)
        timeline.state_at("2025-03-01")  # builds the index
        appended = list(held)
        for batch in batches:
            try:
                extended = timeline.extended(batch)
            except ns.ImpossibleEventError:
                continue
            assert extended is not None
            timeline, appended = extended, [*appended, *batch]
        rebuilt = build_timeline(appended, NOTES)
        for day in ("2025-03-12", None):
            assert list(timeline.state_at(day).custom) == list(
                rebuilt.state_at(day).custom
            )
            assert timeline.state_at(day) == rebuilt.state_at(day)

    @given(
        events=event_streams(),
        cuts=st.lists(st.integers(0, 25), min_size=2, max_size=4),
        reads=st.lists(st.booleans(), min_size=4, max_size=4),
        days=st.lists(days_in_streams(), min_size=1, max_size=3),
    )
    def test_states_read_between_late_reports_never_change(
        self,
        events: list[ns.Event],
        cuts: list[int],
        reads: list[bool],
        days: list[date],
    ) -> None:
        """Batches appended one after another, early or late, with states read
        between some of them (which makes the next report copy the index, the
        two sharing what did not change): every state read, used only at the
        end, is still the state a rebuild of its own events gives."""
        bounds = [0, *sorted(cuts), len(events)]
        batches = [events[a:b] for a, b in itertools.pairwise(bounds)]
        timeline = build_timeline(batches[0])
        held = len(batches[0])
        read = [(timeline.state_at(day), held, day) for day in days]
        for batch, reading in zip(batches[1:], reads, strict=False):
            try:
                extended = timeline.extended(batch)
            except ns.NegstateError:
                break
            if extended is None:
                break
            timeline, held = extended, held + len(batch)
            if reading:
                read.extend((timeline.state_at(day), held, day) for day in days)
        for state, count, day in read:
            assert state == build_timeline(events[:count]).state_at(day)

    def test_a_second_report_before_the_first_leaves_states_read_before(
        self,
    ) -> None:
        """After a state was read, a late report copies the index, sharing the
        lists of entries it does not write; a second report placed before the
        first rewinds the copy past entries it shares: the state read first is
        still the old order's."""
        timeline = build_timeline([PROPOSAL, ACCEPTED, LATER])
        day = date(2025, 3, 6)
        first = timeline.state_at(day)
        second = timeline.extended([attrs.evolve(LATER, id="r", party="EU")])
        assert second is not None
        late = attrs.evolve(LATER, id="t", occurred="2025-03-04", party="UA")
        third = second.extended([late])
        assert third is not None
        assert [e.id for e in third.events] == ["p", "t", "a", "r", "s"]
        assert first == ns.fold([PROPOSAL, ACCEPTED, LATER], as_of=day)
        assert third.state_at(day) == ns.fold(third.events, as_of=day)

    def test_the_timeline_placed_in_can_still_grow(self) -> None:
        """After a late report copied its index, the timeline the report was
        placed in takes an event at its end that writes an entry the two share:
        it writes its own copy, and the states of both stay their own."""
        timeline = build_timeline([PROPOSAL, ACCEPTED, LATER])
        timeline.state_at("2025-03-06")
        late = attrs.evolve(LATER, id="t", occurred="2025-03-04", party="UA")
        with_late = timeline.extended([late])
        assert with_late is not None
        read = with_late.state_at()
        by_proposer = attrs.evolve(
            LATER, id="z", occurred="2025-03-09", party="US", stance=ns.Stance.OPPOSES
        )
        grown = timeline.extended([by_proposer])
        assert grown is not None
        assert read == ns.fold([PROPOSAL, late, ACCEPTED, LATER])
        assert with_late.state_at() == read
        assert grown.state_at() == ns.fold([PROPOSAL, ACCEPTED, LATER, by_proposer])

    @pytest.mark.parametrize("checked", [True, False])
    def test_without_an_index_the_next_report_folds_on_from_the_last_place(
        self, checked: bool
    ) -> None:
        """Without a checkpoint index, a late report folds every event and keeps
        the draft at its place; the next report, placed no earlier, folds on
        from there, and one placed earlier folds every event again.  Reports
        placed unchecked (``followed_by``) do so at the next state after every
        event."""
        first = attrs.evolve(LATER, id="b", occurred="2025-03-02", party="EU")
        timeline = build_timeline([PROPOSAL, first, ACCEPTED, LATER])
        timeline.state_at()  # the fold of every event, kept; no index
        reports = [
            attrs.evolve(LATER, id="r1", occurred="2025-03-05", party="UA"),
            attrs.evolve(LATER, id="r2", occurred="2025-03-06", party="UN"),
            attrs.evolve(LATER, id="r0", occurred="2025-03-01", party="UN"),
        ]
        folds = []
        for report in reports:
            with folded_ids(indexes=True) as folded:
                if checked:
                    extended = timeline.extended([report])
                else:
                    extended = timeline.followed_by([report])
                    assert folded == []
                    assert extended is not None
                    extended.state_at()
            assert extended is not None
            timeline = extended
            folds.append(folded)
        assert [e.id for e in timeline.events] == ["p", "r0", "b", "r1", "a", "r2", "s"]
        assert folds == [
            ["p", "b", "r1", "a", "s"],
            ["r1", "a", "r2", "s"],
            ["p", "r0", "b", "r1", "a", "r2", "s"],
        ]
        for day in ("2025-03-01", "2025-03-05", None):
            assert timeline.state_at(day) == ns.state_at(timeline.events, on=day)

    def test_copies_of_copies_share_only_what_neither_wrote(self) -> None:
        """A is copied to B after its third event, B to C after its first. B's
        entry for EU was written, in its lists shared with A, only by A's
        events: copying B to C must leave B still sharing it, so when A, B and
        C each grow by writing that entry, every state read stays its own."""

        def said(event_id: str, day: int, party: str) -> ns.Event:
            return attrs.evolve(
                LATER, id=event_id, occurred=f"2025-03-{day:02d}", party=party
            )

        held = [said("a1", 2, "EU"), said("a2", 4, "EU"), said("a3", 6, "UN")]
        held.append(said("a4", 8, "UN"))
        a = build_timeline(held)
        read = [(a.state_at("2025-03-05"), held, "2025-03-05")]
        grown: dict[str, tuple[Timeline, list[ns.Event]]] = {"a": (a, held)}
        for name, base, event in [
            ("b", "a", said("b1", 7, "UN")),
            ("c", "b", said("c1", 3, "EU")),
            ("b2", "b", said("b2", 20, "EU")),
            ("a2", "a", said("a5", 22, "EU")),
            ("c2", "c", said("c2", 23, "EU")),
        ]:
            timeline, events = grown[base]
            extended = timeline.extended([event])
            assert extended is not None
            grown[name] = (extended, [*events, event])
            read.append((extended.state_at(), grown[name][1], None))
        for state, events, day in read:
            assert state == build_timeline(events).state_at(day)

    def test_a_refused_report_leaves_the_index(self) -> None:
        """A report whose fold is refused leaves the timeline its index, which
        it reads its states from without folding again."""
        timeline = build_timeline([PROPOSAL])
        grown = timeline.extended([ACCEPTED])  # folded onto a new index
        assert grown is not None
        with pytest.raises(ns.ImpossibleEventError, match="event 'a'"):
            grown.extended([WITHDRAWN])
        with folded_ids(indexes=True) as folded:
            states = [grown.state_at(d) for d in ("2025-03-03", "2025-03-06", None)]
        assert folded == []
        assert states == [
            ns.fold([PROPOSAL], as_of=date(2025, 3, 3)),
            ns.fold([PROPOSAL, ACCEPTED], as_of=date(2025, 3, 6)),
            ns.fold([PROPOSAL, ACCEPTED]),
        ]

    def test_a_user_reducer_sees_the_whole_state_before_it(self) -> None:
        """A user reducer that counts a table is folded on over the whole state
        before the report's place, not over tables that hold only what the check
        wrote: a report that breaks its rule is refused."""
        registry = ns.BUILTIN_EVENTS.with_event(Capped, capped)
        capped_event = Capped(id="c", occurred="2025-03-10", sources=PROPOSAL.sources)
        timeline = build_timeline([PROPOSAL, capped_event], registry)
        timeline.state_at("2025-03-02")  # builds the index
        late = attrs.evolve(PROPOSAL, id="late", occurred="2025-03-05")
        with pytest.raises(ns.ImpossibleEventError, match="event 'c'"):
            timeline.extended([late])


@attrs.frozen(kw_only=True)
class Capped(ns.Event):
    """A user's event: at most one proposal may be on the table by then."""


def capped(draft: StateDraft, event: Capped) -> None:
    if len(draft.proposals) > 1:
        raise ns.ImpossibleEventError("two proposals on the table", event_id=event.id)
