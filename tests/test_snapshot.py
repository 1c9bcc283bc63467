from __future__ import annotations

import contextlib
import gc
import marshal
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import negstate as ns
from negstate import _snapshot as snapshot_module
from negstate import index as index_module
from negstate import replay as replay_module
from negstate._snapshot import (
    Snapshot,
    UnusableSnapshot,
    kept_fold_agrees,
    read_snapshot,
    write_snapshot,
)
from negstate.reducers import apply_events
from negstate.registry import EventRegistry
from negstate.replay import Timeline, build_timeline
from negstate.state import StateDraft
from tests.strategies import event_streams, revised_streams

LAST_HASH = "a" * 64
START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def moments(count: int) -> list[datetime]:
    """Recording times, some shared by a batch."""
    return [START + timedelta(seconds=n // 2) for n in range(count)]


PROPOSAL = ns.ProposalMade(
    id="p",
    occurred="2025-03-01",
    sources=ns.Source(title="A report"),
    proposer="US",
    addressees=("UA", "RU"),
    issue="ceasefire",
)
ACCEPTED = ns.ProposalAccepted(
    id="a", occurred="2025-03-05", sources=PROPOSAL.sources, proposal="p", by="UA"
)
LATER = ns.PositionStated(
    id="s",
    occurred="2025-03-06",
    sources=PROPOSAL.sources,
    party="RU",
    issue="ceasefire",
    stance="opposes",
)
BY_A_STRANGER = ns.ProposalAccepted(
    id="x", occurred="2025-03-07", sources=PROPOSAL.sources, proposal="p", by="CN"
)


def position_by_hand(party: str, event: ns.Event) -> ns.Position:
    """``party`` backs a ceasefire, as a user reducer would set it by hand."""
    return ns.Position(
        party=party,
        issue="ceasefire",
        stance=ns.Stance.SUPPORTS,
        terms=ns.Terms(),
        text="",
        since=event.occurred,
        event=event.id,
    )


def whole_fold(
    events: Sequence[ns.Event], registry: EventRegistry = ns.BUILTIN_EVENTS
) -> StateDraft:
    """The draft a fold of ``events``, in the order given, writes."""
    draft = StateDraft()
    apply_events(draft, events, registry, unique=True)
    return draft


def written(
    events: Sequence[ns.Event], registry: EventRegistry = ns.BUILTIN_EVENTS
) -> list[bytes]:
    """The snapshot of a log whose records hold ``events``, the last hashed
    ``LAST_HASH``, with its timeline and the tables of the timeline's fold."""
    timeline = build_timeline(events, registry)
    head = (len(events), LAST_HASH)
    return write_snapshot(
        events,
        moments(len(events)),
        timeline,
        registry,
        head,
        folded=whole_fold(timeline.events, registry),
    )


def read_back(parts: list[bytes], count: int, last_hash: str = LAST_HASH) -> Snapshot:
    """The snapshot in ``parts``, read for a log of ``count`` records."""
    return read_snapshot(
        parts, ns.BUILTIN_EVENTS, lambda seq, last: (seq, last) == (count, last_hash)
    )


@contextlib.contextmanager
def folded_ids(*, indexes: bool = False) -> Iterator[list[str]]:
    """The ids of the events that timelines fold, in the order folded.

    With ``indexes``, also those their checkpoint indexes fold.
    """
    folded: list[str] = []

    def folding(draft: StateDraft, events: Any, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        events = list(events)
        folded.extend(event.id for event in events)
        apply_events(draft, events, *args, **kwargs)

    with (
        mock.patch.object(replay_module, "apply_events", folding),
        mock.patch.object(
            index_module, "apply_events", folding if indexes else apply_events
        ),
    ):
        yield folded


def with_checksum(header: bytes) -> bytes:
    """A header part as snapshots store it, after its checksum."""
    return zlib.crc32(header).to_bytes(4, "big") + header


def stated(event_id: str, **fields: Any) -> ns.PositionStated:  # noqa: ANN401
    """A position statement by UA on the ceasefire; ``fields`` replace defaults."""
    given: dict[str, Any] = {
        "occurred": "2025-03-02",
        "sources": ns.Source(title="A report"),
        "party": "UA",
        "issue": "ceasefire",
        "stance": "supports",
        **fields,
    }
    return ns.PositionStated(id=event_id, **given)


def timeline_parts(timeline: Timeline | None) -> tuple[object, ...]:
    assert timeline is not None
    return (
        list(timeline.events),
        list(timeline.latest),
        list(timeline.earliest),
        list(timeline.depth),
        dict(timeline.revisions),
        dict(timeline.revised_by),
    )


class TestRoundTrip:
    """A snapshot gives back the events, times and order it was written from."""

    @settings(max_examples=80)
    @given(st.one_of(event_streams(), revised_streams()))
    def test_gives_back_what_it_was_written_from(self, events: list[ns.Event]) -> None:
        """Reading a snapshot back gives equal events in recording order, equal
        recording times and the same timeline, revisions included."""
        try:
            timeline = build_timeline(events, ns.BUILTIN_EVENTS)
        except ns.NegstateError:
            return  # revisions the rules refuse together: no log holds these
        head = (len(events), "b" * 64)
        parts = write_snapshot(
            events,
            moments(len(events)),
            timeline,
            ns.BUILTIN_EVENTS,
            head,
            folded=whole_fold(timeline.events),
        )
        snapshot = read_back(parts, *head)
        assert snapshot.events == events
        assert snapshot.recorded == moments(len(events))
        assert timeline_parts(snapshot.timeline) == timeline_parts(timeline)
        assert (snapshot.seq, snapshot.hash) == head
        assert snapshot.timeline is not None
        assert snapshot.timeline.kept_fold() is not None
        assert kept_fold_agrees(snapshot.timeline)
        assert snapshot.timeline.state_at() == timeline.state_at()

    @settings(max_examples=40)
    @given(event_streams())
    def test_rebuilt_values_are_whole(self, events: list[ns.Event]) -> None:
        """Rebuilt dates and events hash, print and compare as ones built by their
        constructors: no field is left unset or set differently."""
        snapshot = read_back(written(events), len(events))
        for event, original in zip(snapshot.events, events, strict=True):
            assert hash(event) == hash(original)
            assert repr(event) == repr(original)
            assert str(event.occurred) == str(original.occurred)
            assert event.occurred.first_ordinal == original.occurred.first_ordinal
            assert event.occurred.last_ordinal == original.occurred.last_ordinal
            assert ns.FuzzyDate.parse(str(event.occurred)) == event.occurred

    @settings(max_examples=40)
    @given(event_streams(max_size=15))
    def test_order_and_log_share_their_events(self, events: list[ns.Event]) -> None:
        """An event is rebuilt once: the timeline holds the very objects the log
        holds, as a load from the records gives."""
        snapshot = read_back(written(events), len(events))
        assert snapshot.timeline is not None
        held = {id(event) for event in snapshot.events}
        assert all(id(event) in held for event in snapshot.timeline.events)

    @settings(max_examples=40)
    @given(st.one_of(event_streams(), revised_streams()), st.integers(1, 7))
    def test_parts_of_any_size_read_back_as_one_table(
        self, events: list[ns.Event], size: int
    ) -> None:
        """Values are marshalled a part at a time as they are added; read back,
        the parts make one table, whose values refer to values in earlier parts."""
        try:
            timeline = build_timeline(events, ns.BUILTIN_EVENTS)
        except ns.NegstateError:
            return  # revisions the rules refuse together: no log holds these
        head = (len(events), LAST_HASH)
        with mock.patch.object(snapshot_module, "_PART_SIZE", size):
            parts = write_snapshot(
                events, moments(len(events)), timeline, ns.BUILTIN_EVENTS, head
            )
        assert len(parts) >= 2 + -(-len(events) // size)  # header, values, tail
        snapshot = read_back(parts, *head)
        assert snapshot.events == events
        assert timeline_parts(snapshot.timeline) == timeline_parts(timeline)

    def test_writing_leaves_nothing_for_the_collector(self) -> None:
        """The encoder's functions refer back to it; its tables are emptied before
        it is dropped, so a paused collector does not keep them (hundreds of MB at
        a million events) until its next full pass."""
        events = [
            stated(
                f"s{n}",
                occurred=f"2025-03-{n % 28 + 1:02d}",
                sources=ns.Source(title=f"Report {n % 7}", outlet="Wire"),
                issue=f"issue {n % 5}",
                stance="demands",
            )
            for n in range(500)
        ]
        timeline = build_timeline(events, ns.BUILTIN_EVENTS)
        gc.collect()
        gc.disable()
        try:
            write_snapshot(
                events, moments(500), timeline, ns.BUILTIN_EVENTS, (500, LAST_HASH)
            )
            left = gc.collect()
        finally:
            gc.enable()
        assert left < 50

    def test_equal_values_are_stored_once(self) -> None:
        source = ns.Source(title="A report", outlet="Wire")
        events = [
            stated(f"s{n}", occurred="2025-03", sources=(source,)) for n in range(50)
        ]
        snapshot = read_back(written(events), len(events))
        assert len({id(event.sources[0]) for event in snapshot.events}) == 1
        assert len({id(event.occurred) for event in snapshot.events}) == 1

    def test_values_equal_in_python_but_not_the_same_stay_apart(self) -> None:
        """0.0 == -0.0 and 1 == 1.0, yet each is given back as written."""
        registry = ns.BUILTIN_EVENTS.with_event(Paid, lambda _draft, _: None)
        amounts = [0.0, -0.0, 1, 1.0]
        events: list[ns.Event] = [
            Paid(
                id=f"pay{n}",
                occurred="2025-03-02",
                sources=ns.Source(title="A report"),
                money=Money(amount=amount),
            )
            for n, amount in enumerate(amounts)
        ]
        head = (len(events), LAST_HASH)
        parts = write_snapshot(events, moments(4), None, registry, head)
        snapshot = read_snapshot(parts, registry, lambda _seq, _last: True)
        given = [event.money.amount for event in snapshot.events]  # type: ignore[attr-defined]
        assert [(repr(a), type(a)) for a in given] == [
            (repr(a), type(a)) for a in amounts
        ]

    def test_keeps_the_fold_of_the_tables_in_their_order(self) -> None:
        """Entries come back in the order the fold wrote them, and a fold of
        other events is found out."""
        events = [stated("b", party="RU"), stated("a"), stated("c", party="US")]
        snapshot = read_back(written(events), len(events))
        timeline = snapshot.timeline
        assert timeline is not None
        kept = timeline.kept_fold()
        assert kept is not None
        assert list(kept.positions) == list(whole_fold(timeline.events).positions)
        assert list(timeline.state_at().positions) == list(kept.positions)
        head = (len(events), LAST_HASH)
        other = write_snapshot(
            events,
            moments(len(events)),
            build_timeline(events, ns.BUILTIN_EVENTS),
            ns.BUILTIN_EVENTS,
            head,
            folded=whole_fold(events[:2]),
        )
        forged = read_back(other, len(events)).timeline
        assert forged is not None
        assert not kept_fold_agrees(forged)

    def test_keeps_no_fold_of_a_user_reducers_records(self) -> None:
        """A user's collection is folded on load: the order is still kept."""

        def pay(draft: StateDraft, event: ns.Event) -> None:
            draft.collection("payments")[event.id] = event

        registry = ns.BUILTIN_EVENTS.with_event(Paid, pay)
        events = [paid("pay")]
        timeline = build_timeline(events, registry)
        parts = written(events, registry)
        snapshot = read_snapshot(parts, registry, lambda _seq, _last: True)
        assert snapshot.timeline is not None
        assert snapshot.timeline.kept_fold() is None
        assert snapshot.timeline.state_at() == timeline.state_at()

    @pytest.mark.parametrize(
        "reducer",
        [
            lambda draft, event: draft.set_position(position_by_hand("UA", event)),
            lambda draft, event: draft.deadlines.__setitem__(event.id, [event, None]),
        ],
        ids=["a position set by hand", "an entry of another shape"],
    )
    def test_keeps_no_fold_it_could_not_read_back_as_written(
        self,
        reducer: Any,  # noqa: ANN401 - a reducer
    ) -> None:
        """A user reducer writing into the built-in tables what the snapshot would
        give back otherwise leaves the state to be folded on load."""
        registry = ns.BUILTIN_EVENTS.with_event(Paid, reducer)
        events = [stated("s"), paid("pay", "2025-03-03")]
        timeline = build_timeline(events, registry)
        parts = written(events, registry)
        snapshot = read_snapshot(parts, registry, lambda _seq, _last: True)
        assert snapshot.timeline is not None
        assert snapshot.timeline.kept_fold() is None
        assert timeline_parts(snapshot.timeline) == timeline_parts(timeline)

    def test_a_longer_order_folds_only_its_new_events(self) -> None:
        """Events placed after the kept fold are folded onto a copy of it: the
        state of the shorter order, read before, stays as it was."""
        events = [stated("a"), stated("b", party="RU")]
        timeline = read_back(written(events), len(events)).timeline
        assert timeline is not None
        shorter = timeline.state_at()
        before = shorter.positions["RU", "ceasefire"]
        later = [
            stated("c", party="RU", occurred="2025-04-01", stance="opposes"),
            stated("d", party="US", occurred="2025-04-02"),
        ]
        longer = timeline.followed_by(later)
        assert longer is not None
        with folded_ids() as folded:
            state = longer.state_at()
        assert folded == ["c", "d"]
        assert state == build_timeline([*events, *later]).state_at()
        assert kept_fold_agrees(longer)
        assert shorter.positions["RU", "ceasefire"] == before
        assert shorter == build_timeline(events).state_at()

    @pytest.mark.parametrize("looked_up", [False, True], ids=["fresh", "indexed"])
    def test_a_longer_order_refuses_an_id_it_holds(self, looked_up: bool) -> None:
        """An event placed after the order with an id the order holds means the
        order must be built anew, whether or not it has looked its events up by
        id yet; a new id is found where it was placed."""
        events = [stated("a"), stated("b", party="RU")]
        timeline = read_back(written(events), len(events)).timeline
        assert timeline is not None
        if looked_up:
            timeline.state_at("2025-03-02")  # the index looks events up by id
        assert timeline.followed_by([stated("a", occurred="2025-04-01")]) is None
        later = stated("c", party="US", occurred="2025-04-01")
        longer = timeline.followed_by([later])
        assert longer is not None
        assert longer.state_at("2025-04-01").events["c"] == later
        assert "c" not in longer.state_at("2025-03-31").events

    def test_ids_placed_one_by_one_are_never_placed_twice(self) -> None:
        """Whether the order scans its events for an id or has begun to look
        them up, an id placed a moment ago counts as held."""
        timeline = read_back(written([stated("a")]), 1).timeline
        for number in range(8):
            later = stated(f"n{number}", occurred=f"2025-04-{number + 1:02d}")
            assert timeline is not None
            longer = timeline.followed_by([later])
            assert longer is not None
            assert (
                longer.followed_by([stated(f"n{number}", occurred="2026-01-01")])
                is None
            )
            assert longer.followed_by([stated("a", occurred="2026-01-01")]) is None
            timeline = longer
        assert timeline is not None
        assert len(timeline.state_at("2025-04-30").events) == 9

    def test_an_extension_folds_onto_the_kept_fold_in_place(self) -> None:
        """Appending to a timeline read from a snapshot, before any state was
        read, folds only the new events onto the kept fold itself; one refused
        halfway leaves no kept fold, and the state is folded anew, once."""
        timeline = read_back(written([PROPOSAL]), 1).timeline
        assert timeline is not None
        expected = build_timeline([PROPOSAL, ACCEPTED]).state_at()
        with folded_ids() as folded:
            longer = timeline.extended([ACCEPTED])
            assert longer is not None
            assert folded == ["a"]
            with pytest.raises(ns.ImpossibleEventError, match="not an addressee"):
                longer.extended([LATER, BY_A_STRANGER])
            assert folded == ["a", "s", "x"]
            assert longer.state_at() == expected
            assert longer.state_at() == expected
        assert folded == ["a", "s", "x", "p", "a"]

    def test_an_extension_keeps_the_states_read_before(self) -> None:
        """Once a state was read from the kept fold, new events are folded onto
        a copy: the state read stays as it was, and a refused extension leaves
        the kept fold to answer without folding."""
        timeline = read_back(written([PROPOSAL]), 1).timeline
        assert timeline is not None
        before = timeline.state_at()
        with folded_ids() as folded:
            longer = timeline.extended([ACCEPTED])
            assert longer is not None
            after = longer.state_at()
            with pytest.raises(ns.ImpossibleEventError, match="not an addressee"):
                longer.extended([LATER, BY_A_STRANGER])
            assert longer.state_at() == after
        assert folded == ["a", "s", "x"]
        assert before == build_timeline([PROPOSAL]).state_at()
        assert before.proposals["p"].accepted_by == frozenset()
        assert after == build_timeline([PROPOSAL, ACCEPTED]).state_at()
        assert after.proposals["p"].accepted_by == {"UA"}

    def test_a_process_that_keeps_reading_and_appending_builds_the_index(
        self,
    ) -> None:
        """Each state read between appends makes the next carry copy the
        tables; after a few such copies the checkpoint index takes over."""
        timeline = read_back(written([stated("a")]), 1).timeline
        copies = replay_module._COPIES_BEFORE_INDEX
        appended: list[ns.Event] = []
        with folded_ids() as folded:
            for number in range(copies + 5):
                timeline.state_at()
                later = stated(f"n{number:03d}", occurred="2025-04-01")
                assert timeline is not None
                longer = timeline.extended([later])
                assert longer is not None
                appended.append(later)
                timeline = longer
        assert folded == [event.id for event in appended[:copies]]
        assert timeline is not None
        expected = build_timeline([stated("a"), *appended])
        assert timeline.state_at() == expected.state_at()

    @settings(max_examples=60)
    @given(st.one_of(event_streams(), revised_streams()), st.data())
    def test_a_fold_carried_on_is_a_fold_of_every_event(
        self, events: list[ns.Event], data: st.DataObject
    ) -> None:
        """Whatever the split between the events a snapshot kept the fold of
        and the events placed after them, the state after every event is the
        one a whole fold gives, and so is the state on any day."""
        try:
            timeline = build_timeline(events, ns.BUILTIN_EVENTS)
        except ns.NegstateError:
            return  # revisions the rules refuse together: no log holds these
        ordered = list(timeline.events)
        kept = data.draw(st.integers(0, len(ordered)), label="kept")
        first = read_back(written(ordered[:kept]), kept).timeline
        assert first is not None
        longer = first.followed_by(ordered[kept:])
        if longer is None:
            return  # one ends before an event it refers to: the order is rebuilt
        assert kept_fold_agrees(longer)
        assert longer.state_at() == timeline.state_at()
        days = [event.occurred.latest for event in ordered if event.occurred.latest]
        for day in days[:3]:
            assert longer.state_at(day) == timeline.state_at(day)

    def test_keeps_no_timeline_when_given_none(self) -> None:
        events = [stated("s")]
        head = (1, "c" * 64)
        parts = write_snapshot(events, moments(1), None, ns.BUILTIN_EVENTS, head)
        snapshot = read_back(parts, *head)
        assert snapshot.events == events
        assert snapshot.timeline is None


@attrs.frozen
class Money:
    """A value class of a user's events."""

    amount: float


@attrs.frozen(kw_only=True)
class Paid(ns.Event):
    """A user's event holding a value class."""

    money: Money


def paid(event_id: str, day: str = "2025-03-02") -> Paid:
    """A payment of 1.0 reported on ``day``."""
    return Paid(
        id=event_id,
        occurred=day,
        sources=ns.Source(title="A report"),
        money=Money(1.0),
    )


@attrs.frozen(kw_only=True)
class Timestamped(ns.Event):
    """An event with a field of a type snapshots do not keep."""

    seen_at: datetime


class TestUnusable:
    """Anything unexpected makes the snapshot unusable; it never gives wrong events
    for a stamp it does not carry."""

    def events(self) -> list[ns.Event]:
        return [
            ns.ProposalMade(
                id=f"p{n}",
                occurred=f"2025-03-{n + 1:02d}",
                sources=ns.Source(title="A report"),
                proposer="US",
                addressees=("UA",),
                issue="ceasefire",
            )
            for n in range(7)
        ]

    def test_refuses_another_stamp(self) -> None:
        parts = written(self.events())
        with pytest.raises(UnusableSnapshot, match="other records"):
            read_back(parts, 7, "d" * 64)

    def test_refuses_a_missing_part(self) -> None:
        parts = written(self.events())
        with pytest.raises(UnusableSnapshot, match="missing"):
            read_back(parts[:-1], 7)
        with pytest.raises(UnusableSnapshot, match="no snapshot"):
            read_back([], 7)

    def test_refuses_events_whose_fields_changed(self) -> None:
        parts = written(self.events())
        header = list(marshal.loads(parts[0][4:]))  # noqa: S302 - written just above
        name, fields = header[5][0]
        header[5] = ((name, fields[:-1]), *header[5][1:])
        with pytest.raises(UnusableSnapshot, match="fields"):
            read_back([with_checksum(marshal.dumps(tuple(header))), *parts[1:]], 7)

    def test_refuses_another_byte_order(self) -> None:
        parts = written(self.events())
        header = list(marshal.loads(parts[0][4:]))  # noqa: S302 - written just above
        header[3] = "big" if header[3] == "little" else "little"
        with pytest.raises(UnusableSnapshot, match="byte order"):
            read_back([with_checksum(marshal.dumps(tuple(header))), *parts[1:]], 7)

    @settings(max_examples=200)
    @given(st.data())
    def test_damage_is_found(self, data: st.DataObject) -> None:
        """Bytes changed or cut anywhere make the snapshot unusable (every part
        carries a checksum), never other events or a crash of another kind."""
        parts = written(self.events())
        number = data.draw(st.integers(0, len(parts) - 1))
        damaged = bytearray(parts[number])
        if data.draw(st.booleans()):
            del damaged[data.draw(st.integers(0, len(damaged) - 1)) :]
        else:
            place = data.draw(st.integers(0, len(damaged) - 1))
            damaged[place] ^= data.draw(st.integers(1, 255))
        parts[number] = bytes(damaged)
        with pytest.raises(UnusableSnapshot):
            read_back(parts, 7)

    def test_refuses_a_value_of_another_type(self) -> None:
        parts = written(self.events())
        with pytest.raises(UnusableSnapshot, match="damaged"):
            read_back([parts[0], "text", *parts[2:]], 7)  # type: ignore[list-item]

    def test_refuses_another_registry(self) -> None:
        """Revisers shape the saved order: another registry reads the records."""
        parts = written(self.events())
        registry = ns.BUILTIN_EVENTS.with_event(Timestamped, lambda _draft, _: None)
        with pytest.raises(UnusableSnapshot, match="registry"):
            read_snapshot(parts, registry, lambda _seq, _last: True)

    def test_writes_nothing_for_fields_it_cannot_keep(self) -> None:
        registry = ns.BUILTIN_EVENTS.with_event(Timestamped, lambda _draft, _: None)
        event = Timestamped(
            id="t", occurred="2025-03-01", sources=ns.Source(title="A"), seen_at=START
        )
        assert write_snapshot([event], moments(1), None, registry, (1, "e" * 64)) == []

    def test_writes_nothing_for_values_marshal_refuses(self) -> None:
        class Marked(str):
            __slots__ = ()

        event = stated("s", note=Marked("a note"))
        assert (
            write_snapshot([event], moments(1), None, ns.BUILTIN_EVENTS, (1, "e" * 64))
            == []
        )
