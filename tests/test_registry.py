from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

import negstate as ns
from negstate.events import reference

SOURCE = ns.Source(title="Sanctions announced", outlet="Wire")


@attrs.frozen(kw_only=True)
class SanctionsImposed(ns.Event):
    """A user-defined event type: sanctions on a party."""

    by: str
    against: str
    measures: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class SanctionsRegime:
    """A user-defined record kept in the state's custom collections."""

    by: str
    against: str
    measures: tuple[str, ...]
    events: tuple[str, ...]


def impose(draft: ns.StateDraft, event: SanctionsImposed) -> None:
    regimes = draft.collection("sanctions")
    key = f"{event.by}-{event.against}"
    earlier = regimes.get(key)
    measures = (*earlier.measures, *event.measures) if earlier else event.measures
    events = (*earlier.events, event.id) if earlier else (event.id,)
    regimes[key] = SanctionsRegime(
        by=event.by, against=event.against, measures=measures, events=events
    )


REGISTRY = ns.BUILTIN_EVENTS.with_event(
    SanctionsImposed, impose, tag="example.SanctionsImposed"
)


def sanctions(event_id: str, day: str, measure: str) -> SanctionsImposed:
    return SanctionsImposed(
        id=event_id,
        occurred=day,
        sources=SOURCE,
        by="US",
        against="RU",
        measures=(measure,),
    )


class TestUserDefinedTypes:
    """A user's event type works wherever a built-in one does."""

    def test_log_replay_diff_explain(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path, registry=REGISTRY) as log:
            log.append_many(
                [
                    sanctions("s1", "2025-08-01", "banks"),
                    sanctions("s2", "2025-09-03", "oil buyers"),
                ]
            )
        assert '"type":"example.SanctionsImposed"' in path.read_text()
        with ns.open_log(path, registry=REGISTRY) as log:
            august = ns.state_at(log, on="2025-08-31")
            september = ns.state_at(log, on="2025-09-30")
        assert september.custom["sanctions"]["US-RU"].measures == (
            "banks",
            "oil buyers",
        )
        (change,) = ns.diff(august, september)
        assert (change.path, change.fields, change.events) == (
            "custom/sanctions/US-RU",
            ("measures", "events"),
            ("s2",),
        )
        assert ns.explain(september, "custom/sanctions/US-RU").event_ids == ("s1", "s2")

    def test_a_reducer_that_cannot_be_hashed(self) -> None:
        """Logs share converters by event types; a reducer need not be hashable."""

        @attrs.define
        class Reducer:
            calls: list[str] = attrs.Factory(list)

            def __call__(self, draft: ns.StateDraft, event: SanctionsImposed) -> None:
                self.calls.append(event.id)
                impose(draft, event)

        reducer = Reducer()
        registry = ns.BUILTIN_EVENTS.with_event(
            SanctionsImposed, reducer, tag="example.SanctionsImposed"
        )
        with ns.EventLog(registry=registry) as log:
            log.append(sanctions("s1", "2025-08-01", "banks"))
            state = ns.state_at(log)
        assert state.custom["sanctions"]["US-RU"].measures == ("banks",)
        assert "s1" in reducer.calls

    def test_state_json_round_trip(self) -> None:
        converter = ns.make_converter(REGISTRY)
        state = ns.state_at([sanctions("s1", "2025-08-01", "banks")], registry=REGISTRY)
        plain = json.loads(json.dumps(converter.unstructure(state)))
        assert plain["custom"]["sanctions"]["US-RU"]["measures"] == ["banks"]
        assert plain["events"][0]["type"] == "example.SanctionsImposed"

    def test_unknown_to_the_default_registry(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path, registry=REGISTRY) as log:
            log.append(sanctions("s1", "2025-08-01", "banks"))
        with (
            ns.open_log(path) as log,
            pytest.raises(
                ns.LogFormatError,
                match=r"unknown event type 'example\.SanctionsImposed'",
            ),
        ):
            list(log)

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (
                lambda: REGISTRY.with_event(SanctionsImposed, impose),
                "registered already",
            ),
            (
                lambda: ns.BUILTIN_EVENTS.with_event(dict, impose),
                "not an Event subclass",
            ),  # type: ignore[arg-type]
            (
                lambda: ns.BUILTIN_EVENTS.with_event(
                    SanctionsImposed, impose, tag="ProposalMade"
                ),
                "is taken",
            ),
            (
                lambda: ns.BUILTIN_EVENTS.with_event(
                    SanctionsImposed, impose, tag="9lives"
                ),
                "not a valid tag",
            ),
            (
                lambda: ns.BUILTIN_EVENTS.with_event(SanctionsImposed, "impose"),
                "not callable",
            ),  # type: ignore[arg-type]
        ],
    )
    def test_registration_errors(self, call: object, message: str) -> None:
        with pytest.raises(ns.RegistryError, match=message):
            call()  # type: ignore[operator]

    def test_builtin_types_use_the_same_table(self) -> None:
        assert ns.BUILTIN_EVENTS.kind_of(ns.ProposalMade).tag == "ProposalMade"  # type: ignore[union-attr]
        assert set(REGISTRY.event_types) - set(ns.BUILTIN_EVENTS.event_types) == {
            SanctionsImposed
        }
        assert ns.EventRetracted in ns.BUILTIN_EVENTS.revisers


@attrs.frozen(kw_only=True)
class Communique(ns.PositionStated):
    """A user's kind of stated position, folded by the built-in reducer."""


@attrs.frozen(kw_only=True)
class Roadmap(ns.ProposalMade):
    """A user's kind of proposal, folded by the built-in reducer."""


@attrs.frozen(kw_only=True)
class SanctionsLifted(ns.Event):
    """A user-defined event that reads the event it refers to while folding."""

    lifts: str = reference(optional=False)


def lift(draft: ns.StateDraft, event: SanctionsLifted) -> None:
    imposed = draft.events.get(event.lifts)
    if not isinstance(imposed, SanctionsImposed):
        raise ns.UnknownReferenceError(
            f"lifts {event.lifts!r}, which no folded event imposed", event_id=event.id
        )
    draft.collection("lifted")[imposed.id] = event.id


LIFTING = REGISTRY.with_event(SanctionsLifted, lift, tag="example.SanctionsLifted")


class TestReducersReadingEvents:
    """A reducer may read ``draft.events``: it holds every event folded before,
    also those of the same batch appended onto a timeline already indexed."""

    def test_an_event_of_the_same_batch_is_seen(self) -> None:
        log = ns.EventLog(registry=LIFTING)
        log.append(sanctions("s1", "2025-03-01", "assets"))
        assert "lifted" not in ns.state_at(log, on="2025-03-15").custom  # indexed
        lifted = SanctionsLifted(
            id="l2", occurred="2025-04-02", sources=SOURCE, lifts="s2"
        )
        log.append_many([sanctions("s2", "2025-04-01", "visas"), lifted])
        assert ns.state_at(log, on="2025-04-30").custom["lifted"] == {"s2": "l2"}
        with pytest.raises(ns.UnknownReferenceError, match="no folded event"):
            log.append(
                SanctionsLifted(
                    id="l3", occurred="2025-05-01", sources=SOURCE, lifts="l2"
                )
            )


@attrs.frozen(kw_only=True)
class Noted(ns.Event):
    """A user-defined event whose reducer opens a collection, then may refuse."""

    refused: bool = False


def note(draft: ns.StateDraft, event: Noted) -> None:
    notes = draft.collection("notes")
    if event.refused:
        raise ns.ImpossibleEventError("refused on purpose", event_id=event.id)
    notes[event.id] = event.id


NOTING = ns.BUILTIN_EVENTS.with_event(Noted, note, tag="example.Noted")
SUPPORT = ns.PositionStated(
    id="s1",
    occurred="2025-03-01",
    sources=SOURCE,
    party="UA",
    issue="ceasefire",
    stance=ns.Stance.SUPPORTS,
)


class TestRefusedUserEvents:
    """A refused event leaves no trace that would stop the index from being saved."""

    def test_the_index_is_saved_after_a_refused_event(self, tmp_path: Path) -> None:
        with ns.open_log(tmp_path / "log.jsonl", registry=NOTING) as log:
            log.append(SUPPORT)
            assert log.save_index()
            log.timeline().state_at("2025-03-02")  # index built
            with pytest.raises(ns.ImpossibleEventError, match="refused on purpose"):
                log.append(
                    Noted(id="n1", occurred="2025-03-05", sources=SOURCE, refused=True)
                )
            assert log.save_index()
            assert "notes" not in log.timeline().state_at("2025-03-06").custom

    def test_an_empty_collection_does_not_stop_the_save(self, tmp_path: Path) -> None:
        with ns.open_log(tmp_path / "log.sqlite", registry=NOTING) as log:
            log.append(Noted(id="n1", occurred="2025-03-05", sources=SOURCE))
            assert not log.save_index()  # a record a user reducer made

        registry = ns.BUILTIN_EVENTS.with_event(Noted, opened_only, tag="example.Noted")
        with ns.open_log(tmp_path / "other.sqlite", registry=registry) as log:
            log.append(Noted(id="n1", occurred="2025-03-05", sources=SOURCE))
            assert log.save_index()


def opened_only(draft: ns.StateDraft, _event: Noted) -> None:
    """Asks for a collection and writes nothing in it."""
    draft.collection("notes")


class TestEmptyCollections:
    """A collection shows in a state once it holds a record, however it was read."""

    def test_asked_for_but_never_written(self) -> None:
        registry = ns.BUILTIN_EVENTS.with_event(Noted, opened_only, tag="example.Noted")
        events = [
            SUPPORT,
            Noted(id="n1", occurred="2025-03-05", sources=SOURCE),
        ]
        timeline = ns.build_timeline(events, registry)
        states = [
            ns.fold(events, registry=registry),
            timeline.state_at(),
            timeline.state_at("2025-03-06"),
            ns.state_at(events, on="2025-03-06", registry=registry),
        ]
        assert [dict(state.custom) for state in states] == [{}, {}, {}, {}]
        assert states[0] == states[1]
        assert not ns.diff(states[1], states[2])

    def test_shown_once_written(self) -> None:
        events = [Noted(id="n1", occurred="2025-03-05", sources=SOURCE)]
        timeline = ns.build_timeline(events, NOTING)
        for state in (
            ns.fold(events, registry=NOTING),
            timeline.state_at("2025-03-06"),
        ):
            assert dict(state.custom["notes"]) == {"n1": "n1"}


class TestSubclassesOfBuiltinEvents:
    """A user's subclass of a built-in event shows in the state as its base does."""

    def test_positions_from_subclasses(self) -> None:
        """Positions set by a subclassed statement or proposal read as the built-in
        ones' (they were once told apart by class name, and a subclass was read as
        an acceptance)."""
        registry = ns.BUILTIN_EVENTS.with_event(
            Communique, ns.reducers.position_stated
        ).with_event(Roadmap, ns.reducers.proposal_made)
        events = [
            Communique(
                id="c",
                occurred="2025-03-01",
                sources=SOURCE,
                party="UA",
                issue="ceasefire",
                stance="supports",
            ),
            Roadmap(
                id="r",
                occurred="2025-03-02",
                sources=SOURCE,
                proposer="RU",
                addressees=("UA",),
                issue="ceasefire",
                claimed_by="UA",
            ),
        ]
        state = ns.state_at(events, registry=registry)
        assert state.position("UA", "ceasefire").event == "c"
        russia = state.position("RU", "ceasefire")
        assert (russia.event, russia.stance, russia.claimed_by) == (
            "r",
            ns.Stance.SUPPORTS,
            "UA",
        )
