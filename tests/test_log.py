from __future__ import annotations

import contextlib
import gc
import itertools
import random
import shutil
import sqlite3
import threading
import warnings
import weakref
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import attrs
import cattrs
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import negstate as ns
from negstate import log as log_module
from negstate import replay as replay_module
from negstate._snapshot import UnusableSnapshot, write_snapshot
from negstate.cli import filter_state
from negstate.diff import state_paths
from negstate.events import REVISION_TYPES
from negstate.records import canonical_event
from negstate.reducers import meeting_held, swap_completed
from negstate.replay import Timeline
from negstate.serialization import decode_event
from negstate.state import StateDraft
from negstate.stores import checkpoints, side_index
from negstate.stores import jsonl as jsonl_store
from negstate.testing import concurrent_trial, crash_trial, tamper_trial, trial_event
from tests.strategies import (
    ISSUES,
    PARTIES,
    days_in_streams,
    event_streams,
    focus_paths,
    revised_streams,
)
from tests.test_snapshot import (
    folded_ids,
    position_by_hand,
    timeline_parts,
    whole_fold,
)

SOURCE = ns.Source(title="A report", outlet="Wire")
BACKENDS = ("memory", "jsonl", "sqlite", "sqlite-indexed", "jsonl-indexed")
"""The ``-indexed`` logs keep a checkpoint index from the start (in the database,
or in ``<log>.index``), so that appends at the end go through the saved index
instead of a replay."""
INDEXED_SUFFIXES = (".sqlite", ".jsonl")
"""Both backends keep a checkpoint index: the saved-index suite runs on each."""
FIXTURES = Path(__file__).parent / "fixtures"

OpenLog = Callable[..., ns.EventLog]


def proposal(event_id: str = "p", day: str = "2025-03-01") -> ns.ProposalMade:
    return ns.ProposalMade(
        id=event_id,
        occurred=day,
        sources=SOURCE,
        proposer="US",
        addressees=("UA", "RU"),
        issue="ceasefire",
    )


def answer(event_id: str, by: str, target: str = "p") -> ns.ProposalRejected:
    return ns.ProposalRejected(
        id=event_id, occurred="2025-03-12", sources=SOURCE, proposal=target, by=by
    )


def withdrawal(event_id: str, day: str) -> ns.ProposalWithdrawn:
    """The US withdraws proposal ``p``."""
    return ns.ProposalWithdrawn(
        id=event_id, occurred=day, sources=SOURCE, proposal="p", by="US"
    )


def answer2(event_id: str) -> ns.ProposalAccepted:
    """UA accepts proposal ``q`` (2025-03-20) a day later."""
    return ns.ProposalAccepted(
        id=event_id, occurred="2025-03-21", sources=SOURCE, proposal="q", by="UA"
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_any(backend: str, tmp_path: Path) -> Iterator[OpenLog]:
    """Open the same log again and again (memory: one log for the whole test)."""
    opened: list[ns.EventLog] = []
    memory = ns.EventLog() if backend == "memory" else None

    def open_log(**options: object) -> ns.EventLog:
        if memory is not None:
            return memory
        suffix = ".jsonl" if backend.startswith("jsonl") else ".sqlite"
        log = ns.open_log(tmp_path / f"log{suffix}", **options)  # type: ignore[arg-type]
        if backend.endswith("-indexed") and not opened:
            assert log.save_index()
        opened.append(log)
        return log

    yield open_log
    for log in opened:
        log.close()


def stored_bytes(log: ns.EventLog) -> bytes:
    """What the backend holds: file bytes, or the records' hashes in memory."""
    if log.location == ":memory:":
        return "".join(r.hash for r in log).encode()
    return repr(index_tables(Path(log.location))).encode()


def index_tables(path: Path) -> dict[str, object]:
    """Every row an SQLite log keeps; a JSON Lines log's bytes and its index's rows."""
    if path.suffix == ".sqlite":
        return dict(sqlite_tables(path))
    index = path.with_name(f"{path.name}.index")
    kept = sqlite_tables(index) if index.exists() else {}
    return {"log": path.read_bytes(), **kept}


def grown_index_rows(path: Path) -> dict[str, object]:
    """The rows that appends keep current, to compare with a fresh save: all but
    the snapshot, which stays the log's prefix it was saved for."""
    tables = index_tables(path)
    assert "negstate_snapshot" in tables
    del tables["negstate_snapshot"]
    return tables


def rows_saved_anew(path: Path, copy: Path) -> dict[str, object]:
    """The rows of the index a new save writes for a copy of the log at ``path``."""
    copy_files(path, copy)
    with ns.open_log(copy) as log:
        assert log.save_index()
    return grown_index_rows(copy)


def indexed_log(path: Path, events: list[ns.Event]) -> None:
    """A new log of ``events`` at ``path``, with its checkpoint index saved; like
    ``new_log``, it rejects a hypothesis example whose events the rules refuse."""
    new_log(path, events)
    with ns.open_log(path) as log:
        assert log.save_index()


def copy_files(path: Path, copy: Path) -> None:
    """Copy a log's file and the files kept beside it."""
    for ending in ("", ".head", ".index"):
        source = path.with_name(path.name + ending)
        if source.exists():
            shutil.copy(source, copy.with_name(copy.name + ending))


def sqlite_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of an SQLite log (records, saved index, meta)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [
            str(row[0])
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(db.execute(f"SELECT * FROM {name}").fetchall())  # noqa: S608
            for name in names
        }


def revised_prefix(
    events: list[ns.Event], left: int
) -> tuple[list[ns.Event], list[ns.Event]]:
    """A stream of ``revised_streams`` split in two: its plain events but the last
    ``left`` with the revisions (and merged copies) that refer only to them, and
    the rest (plain events first)."""
    plain = [e for e in events if not e.id.startswith("revision-")]
    revising = [e for e in events if e.id.startswith("revision-")]
    split = max(0, len(plain) - left)
    held = {e.id for e in plain[:split]}
    copies = [
        e
        for e in revising
        if not isinstance(e, REVISION_TYPES) and set(e.references) <= held
    ]
    held |= {e.id for e in copies}
    first = [
        *copies,
        *(
            e
            for e in revising
            if isinstance(e, REVISION_TYPES) and set(e.references) <= held
        ),
    ]
    rest = [e for e in revising if e not in first]
    return [*plain[:split], *first], [*plain[split:], *rest]


def new_log(path: Path, events: list[ns.Event]) -> None:
    """A new log at ``path`` holding ``events`` (the example is rejected when the
    rules refuse two of its revisions together)."""
    path.unlink(missing_ok=True)
    with ns.open_log(path) as log:
        try:
            log.append_many(events)
        except ns.NegstateError:
            reject()


def appended(path: Path, batch: list[ns.Event]) -> tuple[object, ...]:
    """How appending ``batch`` to the log at ``path`` ends, and the events it holds.

    The log's path is left out of error messages, to compare two logs.
    """
    with ns.open_log(path) as log:
        try:
            outcome: object = [record.seq for record in log.append_many(batch)]
        except ns.NegstateError as error:
            outcome = (type(error).__name__, str(error).replace(str(path), "LOG"))
        return outcome, [record.event for record in log]


class TestContract:
    """Every backend behaves the same through the EventLog interface."""

    def test_appends_number_and_time_stamp_records(self, open_any: OpenLog) -> None:
        log = open_any()
        first = log.append(proposal())
        second = log.append(answer("r", "RU"))
        assert (first.seq, second.seq, len(log), log.last_seq) == (1, 2, 2, 2)
        assert first.recorded_at.tzinfo is not None
        assert first.recorded_at <= second.recorded_at
        assert second.prev == first.hash
        assert [r.event.id for r in log] == ["p", "r"]

    def test_identical_event_is_a_no_op(self, open_any: OpenLog) -> None:
        log = open_any()
        first = log.append(proposal())
        before = stored_bytes(log)
        assert log.append(proposal()) == first
        assert log.append_many([proposal(), proposal()]) == (first, first)
        assert stored_bytes(log) == before

    def test_same_id_other_content_is_refused(self, open_any: OpenLog) -> None:
        log = open_any()
        log.append(proposal())
        before = stored_bytes(log)
        with pytest.raises(ns.DuplicateEventError, match=r"event 'p'.*record 1"):
            log.append(proposal(day="2025-03-02"))
        assert stored_bytes(log) == before

    def test_event_that_cannot_fold_is_refused_and_nothing_is_written(
        self, open_any: OpenLog
    ) -> None:
        log = open_any()
        log.append(proposal())
        before = stored_bytes(log)
        with pytest.raises(ns.ImpossibleEventError, match="event 'x'"):
            log.append(answer("x", "US"))
        with pytest.raises(ns.UnknownReferenceError):
            log.append_many([answer("ok", "RU"), answer("bad", "UA", target="missing")])
        assert stored_bytes(log) == before
        assert len(log) == 1

    def test_batch_is_atomic_and_validated_as_a_whole(self, open_any: OpenLog) -> None:
        log = open_any()
        records = log.append_many([answer("r", "RU"), proposal()])
        assert [r.seq for r in records] == [1, 2]
        assert [r.batch_left for r in records] == [1, 0]

    def test_expected_seq_detects_another_writer(self, open_any: OpenLog) -> None:
        log = open_any()
        log.append(proposal(), expected_seq=0)
        with pytest.raises(ns.ConcurrencyError, match="ends at record 1"):
            log.append(answer("r", "RU"), expected_seq=0)
        assert log.append(answer("r", "RU"), expected_seq=1).seq == 2

    def test_replay_accepts_the_log(self, open_any: OpenLog) -> None:
        log = open_any()
        log.append_many([proposal(), answer("r", "RU")])
        events = [r.event for r in log]
        assert ns.state_at(log, on="2025-03-12") == ns.state_at(events, on="2025-03-12")
        assert (
            ns.state_at(log, on="2025-03-12").proposals["p"].status
            is ns.ProposalStatus.REJECTED
        )

    def test_selects_by_sequence_and_by_date(self, open_any: OpenLog) -> None:
        log = open_any()
        log.append_many([proposal(), answer("r", "RU"), proposal("q", day="2025-06")])
        assert [r.event.id for r in log.records(2, 3)] == ["r"]
        assert [r.event.id for r in log.records(occurred_from="2025-03-10")] == [
            "r",
            "q",
        ]
        assert [r.event.id for r in log.records(occurred_to="2025-03-10")] == ["p"]
        assert [r.event.id for r in log.records(2, occurred_from="2025-06-15")] == ["q"]

    def test_verify_passes_on_an_intact_log(self, open_any: OpenLog) -> None:
        log = open_any()
        log.append_many([proposal(), answer("r", "RU")])
        report = log.verify()
        assert report.ok
        assert report.records == 2

    def test_clock_going_back_keeps_recorded_at_in_order(
        self, open_any: OpenLog
    ) -> None:
        times = iter(
            [datetime(2025, 7, 24, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)]
        )
        log = (
            open_any(clock=lambda: next(times))
            if open_any().location != ":memory:"
            else ns.EventLog(clock=lambda: next(times))
        )
        first = log.append(proposal())
        second = log.append(answer("r", "RU"))
        assert second.recorded_at == first.recorded_at

    def test_only_events_can_be_appended(self, open_any: OpenLog) -> None:
        log = open_any()
        with pytest.raises(ns.NegstateError, match="only append events"):
            log.append({"type": "ProposalMade"})  # type: ignore[arg-type]


def event_texts(path: Path) -> list[str]:
    """The event JSON of each line of a JSON Lines log, as written."""
    _, *lines = path.read_text(encoding="utf-8").splitlines()  # after the header
    return [
        line[line.index('"event":') + 8 : line.rindex(',"hash":')] for line in lines
    ]


class TestCanonicalText:
    """Records hold each event's canonical JSON, as the log's converter writes it."""

    def test_written_as_the_default_converter_writes(self, tmp_path: Path) -> None:
        events = [proposal(), answer("r", "RU"), trial_event("s", 7)]
        with ns.open_log(tmp_path / "log.jsonl") as log:
            log.append_many(events)
        converter = ns.make_converter()
        assert event_texts(tmp_path / "log.jsonl") == [
            canonical_event(event, converter) for event in events
        ]

    def test_a_given_converter_writes(self, tmp_path: Path) -> None:
        converter = cattrs.Converter(omit_if_default=False, forbid_extra_keys=True)
        ns.configure_converter(converter)
        storage = jsonl_store.JsonLinesStorage(tmp_path / "log.jsonl")
        with ns.EventLog(storage, converter=converter) as log:
            log.append(proposal())
            assert [record.event for record in log] == [proposal()]
        (text,) = event_texts(tmp_path / "log.jsonl")
        assert text == canonical_event(proposal(), converter)
        assert '"note":""' in text


class TestPersistence:
    """What a file-backed log keeps across opens and processes."""

    @pytest.fixture(params=["log.jsonl", "log.sqlite"])
    def path(self, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
        return tmp_path / str(request.param)

    def test_reopening_gives_the_same_records(self, path: Path) -> None:
        with ns.open_log(path) as log:
            written = log.append_many([proposal(), answer("r", "RU")])
        with ns.open_log(path) as log:
            assert tuple(log) == written

    def test_an_event_another_writer_appended_is_not_written_again(
        self, path: Path
    ) -> None:
        """A log that looked ids up before another writer appended still finds the
        other writer's events: appending one again is a no-op, not a new record."""
        with ns.open_log(path) as first, ns.open_log(path) as second:
            first.append(proposal())
            assert first.get("p") is not None  # builds the lookup by id
            second.append(answer("r", "RU"))
            again = first.append(answer("r", "RU"))
            assert again.seq == 2
            assert first.append_many([answer("r", "RU"), answer("u", "UA")])[1].seq == 3
        with ns.open_log(path) as log:
            assert [r.event.id for r in log] == ["p", "r", "u"]

    def test_a_second_writer_is_seen_and_detected(self, path: Path) -> None:
        with ns.open_log(path) as first, ns.open_log(path) as second:
            first.append(proposal())
            second.refresh()
            assert [r.event.id for r in second] == ["p"]
            second.append(answer("r", "RU"))
            with pytest.raises(ns.ConcurrencyError):
                first.append(answer("u", "UA"), expected_seq=1)
            assert first.append(answer("u", "UA")).seq == 3

    def test_reads_only_the_records_asked_for(self, path: Path) -> None:
        with ns.open_log(path) as log:
            log.append_many(
                [proposal(), answer("r", "RU"), proposal("q", day="2025-06")]
            )
        with ns.open_log(path) as log:
            assert [r.event.id for r in log.records(3)] == ["q"]
            assert log._events is None

    def test_missing_file_without_create(self, tmp_path: Path) -> None:
        with pytest.raises(ns.NegstateError, match="no log at this path"):
            ns.open_log(tmp_path / "missing.jsonl", create=False)

    @pytest.mark.parametrize("name", ["notes.jsonl", "notes.sqlite"])
    def test_a_file_that_is_not_a_log(self, tmp_path: Path, name: str) -> None:
        path = tmp_path / name
        path.write_text('{"hello": "world"}\n')
        with pytest.raises(ns.LogFormatError, match="not a negstate log"):
            ns.open_log(path)

    def test_another_apps_database(self, tmp_path: Path) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE things (x)")
        with pytest.raises(ns.LogFormatError, match="not a negstate log"):
            ns.open_log(path)

    def test_schema_v1_fixture_still_loads(self, tmp_path: Path) -> None:
        path = tmp_path / "v1.jsonl"
        path.write_bytes((FIXTURES / "v1_log.jsonl").read_bytes())
        with ns.open_log(path) as log:
            held = log.get("istanbul-round-3")
            assert held is not None
            assert held.schema_version == 1
            assert isinstance(held.event, ns.MeetingHeld)
            assert held.event.duration_minutes == ns.Quantity.exactly(40)
            assert held.event.mediators == ("TR",)
            assert log.verify().ok
            state = ns.state_at(log, on="2025-07-23")
            assert state.meeting_proposals["leaders-meeting-proposal"].status is (
                ns.MeetingStatus.DECLINED
            )
            log.append(proposal())
        with ns.open_log(path) as log:
            assert [r.schema_version for r in log] == [1, 1, 1, ns.SCHEMA_VERSION]


class TestTornTail:
    """A write cut short is moved aside; damage before it is never repaired."""

    def write_log(self, path: Path) -> bytes:
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
        return path.read_bytes()

    @pytest.mark.parametrize(
        "torn",
        [b'{"seq":3,"recorded_at":"2025', b"not json at all\n", b'{"seq":3}\n'],
    )
    def test_torn_last_line_is_moved_aside(self, tmp_path: Path, torn: bytes) -> None:
        path = tmp_path / "log.jsonl"
        intact = self.write_log(path)
        path.write_bytes(intact + torn)
        with pytest.warns(ns.TornTailWarning, match="moved"):
            log = ns.open_log(path)
        with log:
            assert len(log) == 2
            assert log.verify().ok
        assert path.read_bytes() == intact
        (side,) = tmp_path.glob("log.jsonl.torn-*")
        assert side.read_bytes() == torn

    def test_unfinished_batch_is_moved_aside(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        self.write_log(path)
        with ns.open_log(path) as log:
            log.append_many([proposal("q1"), proposal("q2"), proposal("q3")])
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(lines[:-1]))
        with pytest.warns(ns.TornTailWarning), ns.open_log(path) as log:
            assert [r.event.id for r in log] == ["p", "r"]

    def test_verify_log_reports_a_torn_tail_without_repairing(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "log.jsonl"
        intact = self.write_log(path)
        path.write_bytes(intact + b'{"seq":3')
        report = ns.verify_log(path)
        assert not report.ok
        assert "log.jsonl:4" in str(report)
        assert path.read_bytes() == intact + b'{"seq":3'

    def test_damage_before_the_last_line_raises_with_the_line(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "log.jsonl"
        intact = self.write_log(path)
        path.write_bytes(
            intact.replace(b'"by":"RU"', b'"by":"UA"')
            + intact.splitlines(keepends=True)[-1]
        )
        with (
            ns.open_log(path) as log,
            pytest.raises(ns.IntegrityError, match=r"log.jsonl:3"),
        ):
            ns.state_at(log)


class TestTampering:
    """verify() notices any change to the stored bytes."""

    @pytest.fixture(params=["jsonl", "sqlite"])
    def pristine(self, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
        path = tmp_path / f"pristine.{request.param}"
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
            log.append(proposal("q", day="2025-06"))
        return path

    def test_every_single_bit_flip_is_detected(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
        content = path.read_bytes()
        target = tmp_path / "copy.jsonl"
        missed = []
        for index in range(len(content)):
            changed = bytearray(content)
            changed[index] ^= 0x01
            target.write_bytes(changed)
            if ns.verify_log(target).ok:
                missed.append(index)
        assert missed == []

    def test_random_mutations_are_detected(self, pristine: Path) -> None:
        rng = random.Random(7)
        outcomes = [tamper_trial(pristine, rng=rng) for _ in range(60)]
        assert [o.mutation for o in outcomes if not o.detected] == []

    def test_report_names_the_record_and_line(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(lines[0] + lines[2] + lines[1])
        report = ns.verify_log(path)
        assert not report.ok
        assert "log.jsonl:2" in str(report.problem)
        assert "expected record 1 but found record 2" in str(report.problem)


class TestFuzz:
    """Garbage in: only NegstateError comes out, and refused appends change nothing."""

    @settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60
    )
    @given(st.binary(max_size=300), st.integers(0, 2000))
    def test_reader_on_mutated_files(
        self, tmp_path: Path, garbage: bytes, where: int
    ) -> None:
        """Any bytes spliced into a log either read back or raise NegstateError."""
        path = tmp_path / "fuzz.jsonl"
        path.unlink(missing_ok=True)
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
        content = path.read_bytes()
        cut = min(where, len(content))
        path.write_bytes(content[:cut] + garbage + content[cut:])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ns.TornTailWarning)
            try:
                with ns.open_log(path) as log:
                    list(log)
                    log.verify()
            except ns.NegstateError:
                pass

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=12), inner, max_size=6)
            ),
            max_leaves=20,
        ),
        st.sampled_from(
            ["ProposalMade", "SwapCompleted", "MeetingHeld", "PositionStated"]
        ),
    )
    def test_decoder_on_garbage(self, garbage: object, tag: str) -> None:
        """Arbitrary JSON data never escapes as anything but LogFormatError."""
        converter = ns.make_converter()
        candidates = [garbage]
        if isinstance(garbage, dict):
            candidates.append({**garbage, "type": tag, "id": "x"})
        for raw in candidates:
            with contextlib.suppress(ns.LogFormatError):
                decode_event(raw, converter)

    @settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40
    )
    @given(
        event_streams(max_size=12),
        event_streams(max_size=6),
        st.sampled_from(["jsonl", "sqlite"]),
    )
    def test_refused_append_leaves_the_file_unchanged(
        self, tmp_path: Path, kept: list[ns.Event], extra: list[ns.Event], suffix: str
    ) -> None:
        """Appending events from another stream succeeds or changes no byte."""
        path = tmp_path / f"fuzz.{suffix}"
        path.unlink(missing_ok=True)
        with ns.open_log(path) as log:
            log.append_many(kept)
            for event in extra:
                before = stored_bytes(log)
                try:
                    log.append(event)
                except ns.NegstateError:
                    assert stored_bytes(log) == before


@pytest.mark.parametrize("suffix", ["jsonl", "sqlite"])
class TestCrashes:
    """A writer killed at random moments never loses an acknowledged append."""

    def test_sigkill_thirty_times(self, tmp_path: Path, suffix: str) -> None:
        path = tmp_path / f"crash.{suffix}"
        rng = random.Random(2025)
        outcomes = [crash_trial(path, rng=rng, prefix=f"trial{n}") for n in range(30)]
        assert [o.problem for o in outcomes if o.problem] == []
        assert [o.lost for o in outcomes if o.lost] == []
        assert all(o.verified for o in outcomes)
        assert sum(o.acknowledged for o in outcomes) > 30


@pytest.mark.parametrize("suffix", ["jsonl", "sqlite"])
class TestConcurrency:
    """Concurrent writers with expected_seq and retry lose nothing, repeat nothing."""

    def test_four_writers_five_hundred_appends_each(
        self, tmp_path: Path, suffix: str
    ) -> None:
        path = tmp_path / f"busy.{suffix}"
        seqs = concurrent_trial(path, processes=4, appends=500)
        assert seqs == list(range(1, 2001))
        with ns.open_log(path) as log:
            assert len({r.event.id for r in log}) == 2000
            assert log.verify().ok


@pytest.mark.parametrize("suffix", INDEXED_SUFFIXES)
def test_concurrent_writers_on_an_indexed_log(tmp_path: Path, suffix: str) -> None:
    """Writers that append through a saved index (until a late report makes it
    stale) lose nothing either, and an index left current is whole."""
    path = tmp_path / f"indexed{suffix}"
    with ns.open_log(path) as log:
        assert log.save_index()
    seqs = concurrent_trial(path, processes=3, appends=150)
    assert seqs == list(range(1, 451))
    with ns.open_log(path) as log:
        assert log.verify().ok
        saved = log.saved_state_at()
        assert saved is None or saved == ns.state_at(log)


def test_trial_event_is_valid() -> None:
    event = trial_event("x", 40)
    assert ns.fold([event]).position("UA", "ceasefire") is not None
    assert event.occurred.earliest is not None
    assert event.occurred.earliest - timedelta(days=30) < event.occurred.earliest


def appended_in_batches(
    log: ns.EventLog, events: list[ns.Event], random: st.Random
) -> Iterator[list[ns.Event]]:
    """Append ``events`` to ``log`` in random batches of 1 to 3, in any order in
    which every event's references are recorded before it; after each batch,
    the events recorded so far.

    Such an order may break the rules on the way (a withdrawal recorded before
    the rejection that kept its proposal open): the log must then refuse the
    batch, as a replay does, and keep what it held; the example is set aside.
    """
    pending = list(events)
    recorded: list[ns.Event] = []
    while pending:
        ready = [e for e in pending if set(e.references) <= {r.id for r in recorded}]
        batch = random.sample(ready, random.randint(1, min(3, len(ready))))
        try:
            log.append_many(batch)
        except ns.NegstateError:
            with pytest.raises(ns.NegstateError):
                ns.state_at([*recorded, *batch])
            assert [record.event for record in log] == recorded
            reject()
        recorded += batch
        pending = [e for e in pending if e not in batch]
        yield list(recorded)


class TestCheckpoints:
    """A log's cached checkpoint index always gives the states of a fresh replay."""

    @settings(max_examples=40)
    @given(
        event_streams(max_size=20),
        st.randoms(),
        st.lists(
            st.sampled_from(
                ["2025-01-15", "2025-03-01", "2025-06-30", "2026-01-01", "2030-01-01"]
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def test_appending_in_any_valid_order_matches_a_fresh_replay(
        self, events: list[ns.Event], random: st.Random, days: list[str]
    ) -> None:
        """Late reports land before checkpoints and the index is rebuilt; early ones
        extend it in place; either way every state equals a replay from scratch."""
        log = ns.EventLog()
        for recorded in appended_in_batches(log, events, random):
            for day in days:
                assert ns.state_at(log, on=day) == ns.state_at(recorded, on=day)

    @settings(max_examples=40)
    @given(event_streams(max_size=20), st.randoms())
    def test_the_state_after_every_event_follows_appends(
        self, events: list[ns.Event], random: st.Random
    ) -> None:
        """Asked for between appends, the state after every event (folded once,
        then carried on by appends that sort after it, or folded anew after a
        late report) is a fresh replay's."""
        log = ns.EventLog()
        for recorded in appended_in_batches(log, events, random):
            assert ns.state_at(log) == ns.state_at(recorded)

    @pytest.mark.parametrize("suffix", [".jsonl", ".sqlite"])
    @pytest.mark.parametrize("read", ["after every event", "on a day"])
    def test_a_batch_that_is_not_written_is_forgotten(
        self, tmp_path: Path, suffix: str, read: str
    ) -> None:
        """A batch that folds but fails to be written leaves the cached timeline
        as it was: the next append extends it (no new order is built), and no
        state holds the batch."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
        naive = [datetime(2025, 3, 30)]  # noqa: DTZ001 - the mistake under test

        def clock() -> datetime:
            return naive.pop() if naive else datetime.now(UTC)

        with ns.open_log(path, clock=clock) as log:
            ns.state_at(log, None if read == "after every event" else "2025-03-15")
            with pytest.raises(ns.NegstateError, match="time zone"):
                log.append(proposal("q", "2025-03-20"))
            with folded_ids() as folded:
                log.append(proposal("q2", "2025-03-20"))
                after = ns.state_at(log)
                on_a_day = ns.state_at(log, "2025-03-25")
            records = list(log.events())
        assert [event.id for event in records] == ["p", "r", "q2"]
        assert folded == []  # extended on the index, not folded anew
        assert after == ns.state_at(records)
        assert on_a_day == ns.state_at(records, "2025-03-25")
        assert "q" not in after.proposals

    def test_knowing_every_record_is_the_whole_timeline(self) -> None:
        """A knowledge time after the last record reuses the log's own timeline
        instead of ordering every event again."""
        moments = iter(datetime(2025, 6, day, tzinfo=UTC) for day in range(1, 4))
        log = ns.EventLog(clock=lambda: next(moments))
        log.append(proposal("p1", "2025-03-02"))
        log.append(proposal("p2", "2025-03-01"))
        whole = log.timeline()
        assert log.timeline(known_at=datetime(2025, 6, 2, tzinfo=UTC)) is whole
        assert log.timeline(known_at="2030-01-01") is whole
        earlier = log.timeline(known_at=datetime(2025, 6, 1, 12, tzinfo=UTC))
        assert earlier is not whole
        assert [e.id for e in earlier.events] == ["p1"]


class TestReadOnly:
    """A log opened read-only changes nothing, not even a torn tail."""

    def test_refuses_appends_and_leaves_a_torn_tail(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append(proposal())
        torn = path.read_bytes() + b'{"seq":2'
        path.write_bytes(torn)
        with ns.open_log(path, read_only=True) as log:
            assert [r.event.id for r in log] == ["p"]
            with pytest.raises(ns.NegstateError, match="read-only"):
                log.append(answer("r", "RU"))
        assert path.read_bytes() == torn
        assert not list(tmp_path.glob("*.torn-*"))

    def test_never_creates_a_file(self, tmp_path: Path) -> None:
        with pytest.raises(ns.NegstateError, match="no log at this path"):
            ns.open_log(tmp_path / "missing.sqlite", read_only=True)


@pytest.fixture(params=INDEXED_SUFFIXES)
def suffix(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestSavedIndex:
    """Either backend keeps a checkpoint index; fresh readers answer from it."""

    @settings(
        max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.one_of(event_streams(), revised_streams()),
        st.lists(days_in_streams(), min_size=1, max_size=4),
    )
    def test_saved_states_are_replayed_states(
        self, tmp_path: Path, suffix: str, events: list[ns.Event], days: list[date]
    ) -> None:
        """The state on any day read from the saved index equals a replay, also
        when corrections, retractions and merges revised the events."""
        path = tmp_path / f"saved{suffix}"
        indexed_log(path, events)
        with ns.open_log(path, read_only=True) as log:
            for day in [*days, None]:
                saved = log.saved_state_at(day)
                replayed = ns.state_at(events, on=day)
                assert saved == replayed
                assert saved is not None
                assert dict(saved.revised_by) == dict(replayed.revised_by)

    @settings(
        max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.one_of(event_streams(), revised_streams()),
        st.lists(days_in_streams(), min_size=2, max_size=4),
    )
    def test_saved_diffs_are_replayed_diffs(
        self, tmp_path: Path, suffix: str, events: list[ns.Event], days: list[date]
    ) -> None:
        """A diff between two states read from the saved index, which looks only at
        what was written between them, equals the diff of a replay, change for
        change, with the same events and sources."""
        path = tmp_path / f"saved{suffix}"
        indexed_log(path, events)
        with ns.open_log(path, read_only=True) as log:
            timeline = log.timeline()
            asked = [*days, None]
            for first, last in itertools.pairwise(asked):
                before, after = log.saved_state_at(first), log.saved_state_at(last)
                assert before is not None
                assert after is not None
                assert before.origin[0] is after.origin[0]  # type: ignore[index]
                replayed = ns.diff(timeline.state_at(first), timeline.state_at(last))
                assert ns.diff(before, after) == replayed
                assert ns.diff(after, before) == replayed.inverse()

    @settings(
        max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.one_of(event_streams(), revised_streams()),
        st.lists(days_in_streams(), min_size=1, max_size=3),
    )
    def test_saved_states_narrowed_by_party_and_issue_are_replayed_ones(
        self, tmp_path: Path, suffix: str, events: list[ns.Event], days: list[date]
    ) -> None:
        """A saved-index state filtered by party or issue, which reads only the
        records tagged with them, equals the filtered replayed state."""
        path = tmp_path / f"narrowed{suffix}"
        indexed_log(path, events)
        with ns.open_log(path, read_only=True) as log:
            timeline = log.timeline()
            for day in [*days, None]:
                saved, replayed = log.saved_state_at(day), timeline.state_at(day)
                assert saved is not None
                for party, issue in itertools.product(
                    (None, *PARTIES, "nobody"), (None, *ISSUES)
                ):
                    assert filter_state(
                        saved, party=party, issue=issue
                    ) == filter_state(replayed, party=party, issue=issue)
                # A filtered state stands for itself: filters combine, and a diff
                # against the whole state compares it in full.
                for party, issue in itertools.product(PARTIES[:2], ISSUES[:2]):
                    by_party = filter_state(saved, party=party, issue=None)
                    replayed_by_party = filter_state(replayed, party=party, issue=None)
                    assert filter_state(
                        by_party, party=None, issue=issue
                    ) == filter_state(replayed_by_party, party=None, issue=issue)
                    assert ns.diff(by_party, saved) == ns.diff(
                        replayed_by_party, replayed
                    )
                with pytest.raises(ns.NegstateError, match="not read from this"):
                    saved.origin[0].narrowed(replayed, party="UA", issue=None)  # type: ignore[index]

    @settings(
        max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.one_of(event_streams(), revised_streams()), days_in_streams())
    def test_saved_explanations_are_replayed_ones(
        self, tmp_path: Path, suffix: str, events: list[ns.Event], day: date
    ) -> None:
        """Every record of a saved-index state, and of the timeline's state, is
        explained by the same events, in the same order, with the same revisions
        as the record of a plain fold; an exchange total also from the saved
        state narrowed to its party."""
        path = tmp_path / f"explained{suffix}"
        indexed_log(path, events)
        with ns.open_log(path, read_only=True) as log:
            timeline = log.timeline()
            replayed, saved = timeline.state_at(day), log.saved_state_at(day)
            assert saved is not None
            index = saved.origin[0]  # type: ignore[index]
            # Its events are a plain dict, walked in fold order.
            folded = ns.fold(timeline.counting(day), as_of=day)
            for record_path in state_paths(replayed):
                expected = ns.explain(
                    folded,
                    record_path,
                    revisions=timeline.revisions,
                    revised_by=timeline.revised_by,
                )
                assert ns.explain(saved, record_path) == expected, record_path
                assert (
                    ns.explain(
                        replayed,
                        record_path,
                        revisions=timeline.revisions,
                        revised_by=timeline.revised_by,
                    )
                    == expected
                )
                if record_path.startswith("exchanges/"):
                    party = record_path.split("/")[1]
                    narrowed = index.narrowed(saved, party=party, issue=None)
                    assert ns.explain(narrowed, record_path) == expected

    def test_explaining_reads_only_the_events_it_needs(
        self, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """From a saved index, a swap is explained by reading its own event, and an
        exchange total by reading the swaps of its party, not every swap."""
        path = tmp_path / f"swaps{suffix}"
        swaps = [
            ns.SwapCompleted(
                id=f"swap-{number}",
                occurred=f"2025-03-{number + 1:02d}",
                sources=SOURCE,
                releases=[
                    ns.Release(by=by, category="prisoners", count=10, to=to)
                    for by, to in (("UA", "RU"), ("RU", "UA"))
                ],
            )
            for number in range(20)
        ]
        lone = ns.SwapCompleted(
            id="lone",
            occurred="2025-04-01",
            sources=SOURCE,
            releases=[ns.Release(by="US", category="prisoners", count=1, to="TR")],
        )
        indexed_log(path, [*swaps, lone])
        read: list[str] = []
        reading = checkpoints._StoredEvents._read

        def counted(events: Any, event_id: str) -> Any:  # noqa: ANN401
            read.append(event_id)
            return reading(events, event_id)

        monkeypatch.setattr(checkpoints._StoredEvents, "_read", counted)
        with ns.open_log(path, read_only=True) as log:
            state = log.saved_state_at(None)
            assert state is not None
            assert ns.explain(state, "swaps/swap-7").event_ids == ("swap-7",)
            assert set(read) == {"swap-7"}
            read.clear()
            total = ns.explain(state, "exchanges/US/prisoners")
            assert total.event_ids == ("lone",)
            assert set(read) == {"lone"}
            read.clear()
            total = ns.explain(state, "exchanges/UA/prisoners")
            assert total.event_ids == tuple(swap.id for swap in swaps)
            assert "lone" not in read
            narrowed = state.origin[0].narrowed(state, party="TR", issue=None)  # type: ignore[index]
            assert ns.explain(narrowed, "swaps/lone").event_ids == ("lone",)
            with pytest.raises(ns.NegstateError, match="holds nothing"):
                ns.explain(narrowed, "swaps/swap-7")

    def test_records_of_a_users_type_are_tagged_by_their_parties(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A user's event folded as a swap is found under its releasing parties, and
        a user's kind of meeting under its participants and mediators, even when
        their types name no actors: totals are explained in full, and filters by
        party keep them."""
        path = tmp_path / f"handover{suffix}"
        events = [
            ns.SwapCompleted(
                id="swap",
                occurred="2025-03-01",
                sources=SOURCE,
                releases=[ns.Release(by="UA", category="pow", count=5, to="RU")],
            ),
            Handover(
                id="handover",
                occurred="2025-03-02",
                sources=SOURCE,
                releases=(ns.Release(by="UA", category="pow", count=2, to="RU"),),
                mediators=("TR",),
            ),
            Talks(
                id="talks",
                occurred="2025-03-03",
                sources=SOURCE,
                participants=("UA", "RU"),
                level="delegations",
                mediators=("TR",),
            ),
        ]
        with ns.open_log(path, registry=HANDOVERS) as log:
            log.append_many(events)
            assert log.save_index()
        with ns.open_log(path, registry=HANDOVERS, read_only=True) as log:
            saved = log.saved_state_at(None)
            assert saved is not None
            explained = ns.explain(saved, "exchanges/UA/pow")
            assert explained.event_ids == ("swap", "handover")
            for party in ("UA", "RU"):
                narrowed = filter_state(saved, party=party, issue=None)
                assert [swap.id for swap in narrowed.swaps] == ["swap", "handover"]
                assert list(narrowed.meetings) == ["talks"]
            mediator = filter_state(saved, party="TR", issue=None)
            assert list(mediator.meetings) == ["talks"]
            assert not mediator.swaps, "a mediator releases no one"

    @settings(
        max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.one_of(event_streams(), revised_streams()),
        days_in_streams(),
        days_in_streams(),
    )
    def test_focused_saved_diffs_are_focused_replayed_diffs(
        self,
        tmp_path: Path,
        suffix: str,
        events: list[ns.Event],
        first: date,
        last: date,
    ) -> None:
        """A diff of two saved-index states focused on a path equals the replayed
        diff's changes under that path."""
        path = tmp_path / f"focused{suffix}"
        indexed_log(path, events)
        with ns.open_log(path, read_only=True) as log:
            timeline = log.timeline()
            replayed = ns.diff(timeline.state_at(first), timeline.state_at(last))
            before, after = log.saved_state_at(first), log.saved_state_at(last)
            assert before is not None
            assert after is not None
            for focus in focus_paths(replayed):
                focused = ns.diff(before, after, under=focus)
                assert focused == replayed.under(focus), focus

    @pytest.mark.parametrize(
        ("first", "last"),
        [
            ("2025-03-10", "2025-03-11"),
            ("2025-03-11", "2025-03-10"),
            ("2025-03-09", "2025-03-10"),
        ],
    )
    def test_saved_diffs_see_deadlines_pass_without_an_event(
        self, tmp_path: Path, suffix: str, first: str, last: str
    ) -> None:
        """A deadline that expires, or a proposed meeting whose window closes, on
        the first day of a diff changes status with no event between the days."""
        path = tmp_path / f"saved{suffix}"
        events = [
            ns.DeadlineSet(
                id="d",
                occurred="2025-03-01",
                sources=SOURCE,
                by="US",
                against=("RU",),
                expires="2025-03-10",
                demand="a ceasefire",
                consequence="sanctions",
            ),
            ns.MeetingProposed(
                id="m",
                occurred="2025-03-01",
                sources=SOURCE,
                proposer="TR",
                participants=("UA", "RU"),
                level="delegations",
                window="2025-03-05/2025-03-10",
            ),
        ]
        with ns.open_log(path) as log:
            log.append_many(events)
            assert log.save_index()
            saved = ns.diff(log.saved_state_at(first), log.saved_state_at(last))
        assert saved == ns.diff(
            ns.state_at(events, on=first), ns.state_at(events, on=last)
        )
        passed = {"deadlines/d", "meeting_proposals/m"}
        assert {c.path for c in saved} == (
            passed if "2025-03-11" in (first, last) else set()
        )

    def test_states_read_inside_reading_keep_their_version(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """Another process's late report and new index do not reach states read
        (and used) inside ``reading()``: SQLite keeps the reader's version, JSON
        Lines keeps the writer out."""
        path = tmp_path / f"saved{suffix}"
        events = [proposal(), answer("r", "RU")]
        with ns.open_log(path) as log:
            log.append_many(events)
            log.save_index()
        with ns.open_log(path, read_only=True) as log, log.reading():
            before = log.saved_state_at("2025-03-05")
            after = log.saved_state_at("2025-03-15")
            assert before is not None
            assert after is not None
            if suffix == ".jsonl":
                # A JSON Lines reader's shared lock keeps writers out meanwhile.
                with pytest.raises(ns.LogLockedError):
                    ns.open_log(path, lock_timeout=0.2)
            else:
                with ns.open_log(path) as other:
                    other.append(proposal("early", day="2025-02-01"))
                    assert other.save_index()
            assert list(before.proposals) == ["p"]
            assert ns.diff(before, after) == ns.diff(
                ns.state_at(events, on="2025-03-05"),
                ns.state_at(events, on="2025-03-15"),
            )

    def test_a_late_report_among_the_last_events_keeps_it_current(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """Reports that sort before the last indexed events are placed among
        them: those events are folded again with them, the states are a
        replay's, and the index is row for row the one a new save writes."""
        path = tmp_path / f"saved{suffix}"
        held = [
            proposal(),
            answer("r", "RU"),
            proposal("q", day="2025-03-20"),
            answer2("s"),
        ]
        # Between r and q, and between q and s (it refers to q).
        late = [proposal("earlier", day="2025-03-15"), answer("t", "RU", "q")]
        late[1] = attrs.evolve(late[1], occurred="2025-03-20")
        with ns.open_log(path) as log:
            log.append_many(held)
            assert log.save_index()
        with ns.open_log(path) as log:
            assert [r.seq for r in log.append_many(late)] == [5, 6]
            for day in ("2025-03-12", "2025-03-16", "2025-03-20", "2025-03-22", None):
                saved = log.saved_state_at(day)
                assert saved is not None
                assert saved == ns.state_at([*held, *late], on=day)
            assert ns.state_at(log) == ns.state_at([*held, *late])
        assert grown_index_rows(path) == rows_saved_anew(
            path, tmp_path / f"rebuilt{suffix}"
        )

    def test_states_read_before_a_late_report_refuse_to_read_on(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """Placing a late report rewrites the rows after its place, which states
        read before would read as theirs: they raise instead, and read again
        they are a replay's. States read before an append at the end go on."""
        path = tmp_path / f"saved{suffix}"
        held = [proposal(), proposal("q", day="2025-03-10")]
        late = proposal("late", day="2025-03-05")
        indexed_log(path, held)
        with ns.open_log(path) as log:
            before = log.saved_state_at()
            assert before is not None
            log.append(proposal("end", day="2025-03-20"))
            assert list(before.proposals) == ["p", "q"]
            log.append(late)
            with pytest.raises(ns.IndexChangedError, match="read the state again"):
                dict(before.proposals)
            again = log.saved_state_at()
            assert again == ns.state_at([*held, proposal("end", "2025-03-20"), late])

    def test_states_read_before_the_log_is_closed_refuse_to_read_on(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A state from the saved index reads its rows as they are used: once its
        log is closed it raises a NegstateError saying so, and the log opened
        again reads it anew."""
        path = tmp_path / f"saved{suffix}"
        held = [proposal(), proposal("q", day="2025-03-10")]
        indexed_log(path, held)
        with ns.open_log(path) as log:
            before = log.saved_state_at()
            assert before is not None
        with pytest.raises(ns.IndexChangedError, match="its log was closed") as raised:
            dict(before.proposals)
        assert str(path) in str(raised.value)
        with ns.open_log(path) as log:
            assert log.saved_state_at() == ns.state_at(held)

    def test_states_read_before_the_index_is_saved_again_refuse_to_read_on(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A retraction leaves the index stale; saving it again rewrites every
        row, so a state read before refuses to read on."""
        path = tmp_path / f"saved{suffix}"
        held = [proposal(), proposal("q", day="2025-03-10")]
        retracted = ns.EventRetracted(
            id="x", occurred="2025-03-20", sources=SOURCE, target="q"
        )
        indexed_log(path, held)
        with ns.open_log(path) as log:
            before = log.saved_state_at()
            assert before is not None
            log.append(retracted)
            assert log.saved_state_at() is None
            assert log.save_index()
            with pytest.raises(ns.IndexChangedError, match="saved again"):
                sorted(before.proposals)
            assert log.saved_state_at() == ns.state_at([*held, retracted])

    def test_a_late_report_an_indexed_event_cannot_follow_is_refused(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """Folded again after a late withdrawal, the withdrawal the index holds
        withdraws a second time: the append is refused, nothing is written."""
        path = tmp_path / f"saved{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal(), withdrawal("w1", "2025-03-20")])
            assert log.save_index()
        before, text = index_tables(path), path.read_bytes()
        with ns.open_log(path) as log:
            with pytest.raises(ns.ImpossibleEventError, match="event 'w1'"):
                log.append(withdrawal("w0", "2025-03-15"))
            assert len(log) == 2
            assert log.saved_state_at() is not None
        assert index_tables(path) == before
        assert path.read_bytes() == text

    @pytest.mark.parametrize("limit", [1, 2])
    def test_a_report_further_back_than_the_limit_makes_it_stale(
        self,
        tmp_path: Path,
        suffix: str,
        monkeypatch: pytest.MonkeyPatch,
        limit: int,
    ) -> None:
        monkeypatch.setattr(checkpoints, "REFOLD_LIMIT", limit)
        path = tmp_path / f"saved{suffix}"
        held = [proposal(day="2025-03-05"), proposal("q", day="2025-03-06")]
        with ns.open_log(path) as log:
            log.append_many(held)
            assert log.save_index()
            log.append(proposal("earlier", day="2025-03-01"))  # two events back
            saved = log.saved_state_at("2025-03-06")
            assert (saved is None) == (limit < 2)
            assert len(log) == 3
            assert ns.state_at(log) == ns.state_at([*held, proposal("earlier")])

    @pytest.mark.parametrize("warm", [False, True])
    def test_appends_at_the_end_keep_it_current(
        self, tmp_path: Path, suffix: str, warm: bool
    ) -> None:
        """A fresh process (or one that decoded the log) appends at the end of
        valid time: the batch is checked on the index and the index grows."""
        path = tmp_path / f"saved{suffix}"
        with ns.open_log(path) as log:
            log.append(proposal())
            log.save_index()
        batch = [answer("r", "RU"), proposal("q", day="2025-03-20"), answer2("s")]
        with ns.open_log(path) as log:
            if warm:
                ns.state_at(log)
            records = log.append_many(batch)
            assert [r.seq for r in records] == [2, 3, 4]
            for day in ("2025-03-12", "2025-03-25", None):
                saved = log.saved_state_at(day)
                assert saved is not None
                assert saved == ns.state_at([proposal(), *batch], on=day)
            assert ns.state_at(log) == ns.state_at([proposal(), *batch])
        assert grown_index_rows(path) == rows_saved_anew(
            path, tmp_path / f"rebuilt{suffix}"
        )

    def test_a_refused_append_leaves_records_and_index_unchanged(
        self, tmp_path: Path, suffix: str
    ) -> None:
        path = tmp_path / f"saved{suffix}"
        with ns.open_log(path) as log:
            log.append(proposal())
            log.save_index()
        before = index_tables(path)
        with ns.open_log(path) as log:
            with pytest.raises(ns.ImpossibleEventError, match="event 'x'"):
                log.append(answer("x", "US"))
            with pytest.raises(ns.DuplicateEventError, match=r"event 'p'.*record 1"):
                log.append(proposal(day="2025-03-02"))
            assert log.append(proposal()).seq == 1
            assert log.saved_state_at() is not None
        assert index_tables(path) == before

    @settings(
        max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.one_of(event_streams(), revised_streams()),
        st.tuples(st.integers(1, 12), st.integers(0, 5)),
        st.lists(st.integers(1, 4), min_size=1, max_size=12),
        st.lists(days_in_streams(), min_size=1, max_size=3),
    )
    def test_a_grown_index_is_the_index_saved_anew(  # noqa: PLR0917 - and fixtures
        self,
        tmp_path: Path,
        suffix: str,
        events: list[ns.Event],
        plan: tuple[int, int],
        sizes: list[int],
        days: list[date],
    ) -> None:
        """Appends in batches from fresh processes end as they do on a log without
        an index (same records, same errors, one batch spoiled by a reused id);
        after each the index is either stale (a revision, or a late report that
        moves another event; it is then saved anew) or row for row
        the one a new save writes, and its states are those of a replay; also when
        the indexed log holds corrections, retractions and merges."""
        left, spoiled = plan  # events left to append; the batch to spoil
        indexed, plain = tmp_path / f"indexed{suffix}", tmp_path / f"plain{suffix}"
        rebuilt = tmp_path / f"rebuilt{suffix}"
        base, pending = revised_prefix(events, left)
        for path in (indexed, plain):
            new_log(path, base)
        with ns.open_log(indexed) as log:
            assert log.save_index()
        for number, size in enumerate(sizes):
            batch, pending = pending[:size], pending[size:]
            if not batch:
                break
            if number == spoiled and base:
                # Another event under an id the log holds: refused either way.
                # (Unless under that id it would refer to itself: no such event.)
                with contextlib.suppress(ns.InvalidEventError):
                    batch = [*batch, attrs.evolve(batch[-1], id=base[0].id)]
            assert appended(indexed, batch) == appended(plain, batch)
            with ns.open_log(indexed) as log:
                recorded = [record.event for record in log]
                for day in [*days, None]:
                    saved = log.saved_state_at(day)
                    assert saved is None or saved == ns.state_at(recorded, on=day)
                    if saved is not None and day is not None:
                        assert ns.diff(saved, log.saved_state_at()) == ns.diff(
                            ns.state_at(recorded, on=day), ns.state_at(recorded)
                        )
                if log.saved_state_at() is None:
                    assert log.save_index()  # stale: save anew, go on
                    continue
            assert grown_index_rows(indexed) == rows_saved_anew(indexed, rebuilt)

    def test_a_log_in_memory_keeps_none(self) -> None:
        log = ns.EventLog()
        log.append(proposal())
        assert not log.save_index()
        assert log.saved_state_at("2025-03-02") is None

    def test_a_position_no_event_set_leaves_the_index_as_it_was(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """The index keeps positions by the events that set them: once a user
        reducer sets one by hand, saving returns False and writes nothing, after
        the index's tables were already being written."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path, registry=BACKING) as log:
            log.append_many([proposal("p"), proposal("q", "2025-03-02")])
            assert log.save_index()
            log.append(
                Backed(id="b", occurred="2025-03-03", sources=SOURCE, party="UA")
            )
        before = index_tables(path)
        with ns.open_log(path, registry=BACKING) as log:
            assert not log.save_index()
            assert log.saved_state_at() is None
            assert ns.state_at(log).positions["UA", "ceasefire"].event == "b"
        assert index_tables(path) == before


@attrs.frozen(kw_only=True)
class Paid(ns.Event):
    """A user's event with a float field."""

    amount: float


PAYMENTS = ns.BUILTIN_EVENTS.with_event(Paid, lambda _draft, _event: None)


@attrs.frozen(kw_only=True)
class Backed(ns.Event):
    """A user's event whose reducer sets a position by hand."""

    party: str


def back_ceasefire(draft: ns.StateDraft, event: Backed) -> None:
    draft.set_position(position_by_hand(event.party, event))


BACKING = ns.BUILTIN_EVENTS.with_event(Backed, back_ceasefire)


@attrs.frozen(kw_only=True)
class Checked(ns.Event):
    """A user's event whose reducer reads an earlier event and writes nothing."""


def check_proposal(draft: ns.StateDraft, event: Checked) -> None:
    if "p" not in draft.events:
        raise ns.UnknownReferenceError("needs proposal p", event_id=event.id)


CHECKING = ns.BUILTIN_EVENTS.with_event(Checked, check_proposal)


@attrs.frozen(kw_only=True)
class Handover(ns.Event):
    """A user's event folded as a swap, whose type names no actors."""

    releases: tuple[ns.Release, ...]
    agreement: str | None = None
    mediators: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Talks(ns.MeetingHeld):
    """A user's kind of meeting, whose type names no actors."""

    actor_fields: ClassVar[tuple[str, ...]] = ()


HANDOVERS = ns.BUILTIN_EVENTS.with_event(Handover, swap_completed).with_event(
    Talks, meeting_held
)


def loaded(log: ns.EventLog) -> tuple[object, ...]:
    """What a log holds once loaded: events, recording times and valid-time order."""
    return (list(log.events()), log.recorded_at(), *timeline_parts(log.timeline()))


@contextlib.contextmanager
def snapshot_reads() -> Iterator[list[bool]]:
    """Whether each load found a usable snapshot, in order."""
    found: list[bool] = []
    original = log_module.read_snapshot  # type: ignore[attr-defined]

    def reading(*args: object) -> object:
        try:
            snapshot = original(*args)  # type: ignore[arg-type]
        except UnusableSnapshot:
            found.append(False)
            raise
        found.append(True)
        return snapshot

    with mock.patch.object(log_module, "read_snapshot", reading):
        yield found


def snapshot_of(
    log: ns.EventLog,
    events: list[ns.Event],
    timeline: Timeline | None = None,
    folded: StateDraft | None = None,
) -> list[bytes]:
    """A snapshot stamped as ``log``'s, holding ``events`` (forged, say)."""
    return write_snapshot(
        events,
        list(log.recorded_at()),
        timeline,
        ns.BUILTIN_EVENTS,
        log._head(),
        folded=folded,
    )


def replace_snapshot(path: Path, parts: list[object]) -> None:
    """Put ``parts`` where the log at ``path`` keeps its snapshot."""
    database = path if path.suffix == ".sqlite" else side_index.SideIndex.path_of(path)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("DELETE FROM negstate_snapshot")
        db.executemany("INSERT INTO negstate_snapshot VALUES (?, ?)", enumerate(parts))


class TestRewrittenIndexRows:
    """States read from the saved index stop reading once an append rewrites its
    rows, and read on if the rewrite is rolled back."""

    def test_states_read_before_a_failed_late_report_go_on(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SQLite: the late report's append fails after the rows were rewritten
        in its transaction; the rollback keeps the rows, and the states."""
        path = tmp_path / "saved.sqlite"
        held = [proposal(), proposal("q", day="2025-03-10")]
        indexed_log(path, held)
        extend = ns.stores.SqliteStorage.write_index_extension

        def extend_then_fail(*args: object, **kwargs: object) -> None:
            extend(*args, **kwargs)
            raise OSError("disk full")

        with ns.open_log(path) as log:
            before = log.saved_state_at()
            assert before is not None
            with monkeypatch.context() as patched:
                patched.setattr(
                    ns.stores.SqliteStorage, "write_index_extension", extend_then_fail
                )
                with pytest.raises(OSError, match="disk full"):
                    log.append(proposal("late", day="2025-03-05"))
            assert list(before.proposals) == ["p", "q"]
            assert before == log.saved_state_at() == ns.state_at(held)

    def test_states_read_before_a_failed_write_beside_json_lines_go_on(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """JSON Lines: the index file beside the log is rewritten in a transaction
        of its own; if that fails, it rolls back, and the states read on."""
        path = tmp_path / "saved.jsonl"
        held = [proposal(), proposal("q", day="2025-03-10")]
        indexed_log(path, held)
        extend = side_index.write_extension

        def extend_then_fail(*args: object, **kwargs: object) -> None:
            extend(*args, **kwargs)  # type: ignore[arg-type]
            raise RuntimeError("interrupted")

        with ns.open_log(path) as log:
            before = log.saved_state_at()
            assert before is not None
            with monkeypatch.context() as patched:
                patched.setattr(side_index, "write_extension", extend_then_fail)
                with pytest.raises(RuntimeError, match="interrupted"):
                    log.append(proposal("late", day="2025-03-05"))
            assert list(before.proposals) == ["p", "q"]
            assert before == ns.state_at(held)

    @pytest.mark.parametrize("rolled_back", [False, True])
    def test_states_never_read_rows_a_transaction_has_not_committed(
        self, tmp_path: Path, rolled_back: bool
    ) -> None:
        """A late report appended inside a transaction of the caller's: states
        read before stop at once (the new rows are not committed yet); states
        read after it are good once it commits, and stop if it rolls back."""
        path = tmp_path / "saved.sqlite"
        held = [proposal(), proposal("q", day="2025-03-10")]
        late = proposal("late", day="2025-03-05")
        indexed_log(path, held)
        storage = ns.stores.SqliteStorage(path)
        with ns.EventLog(storage) as log:
            before = log.saved_state_at()
            assert before is not None
            with contextlib.suppress(LookupError), storage.writing():
                log.append(late)
                with pytest.raises(ns.IndexChangedError):
                    dict(before.proposals)
                inside = log.saved_state_at()
                assert inside is not None
                if rolled_back:
                    raise LookupError
            if rolled_back:
                assert dict(before.proposals) == dict(ns.state_at(held).proposals)
                with pytest.raises(ns.IndexChangedError):
                    dict(inside.proposals)
            else:
                assert inside == ns.state_at([*held, late])
                with pytest.raises(ns.IndexChangedError):
                    dict(before.proposals)


class TestSnapshot:
    """Saving the index also keeps the decoded events; loads read them back."""

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.one_of(event_streams(), revised_streams()), st.data())
    def test_a_load_from_the_snapshot_is_a_load_from_the_records(
        self, tmp_path: Path, suffix: str, events: list[ns.Event], data: st.DataObject
    ) -> None:
        """Events, recording times, valid-time order and states read through the
        snapshot equal those read from the records, also when records were
        appended after it (late reports and revisions among them)."""
        if not events:
            reject()  # an empty log keeps no snapshot
        saved = data.draw(st.integers(1, len(events)))
        path = tmp_path / f"snap{suffix}"
        path.unlink(missing_ok=True)
        side_index.SideIndex.path_of(path).unlink(missing_ok=True)
        with ns.open_log(path) as log:
            try:
                log.append_many(events[:saved])
                assert log.save_index()
                log.append_many(events[saved:])
            except ns.NegstateError:
                reject()
            expected = loaded(log)
            states = [ns.state_at(log, on=day) for day in ("2025-03-15", None)]
        with snapshot_reads() as found, ns.open_log(path, read_only=True) as log:
            assert loaded(log) == expected
            assert [ns.state_at(log, on=day) for day in ("2025-03-15", None)] == states
            report = log.verify()
            assert report.ok
            assert report.snapshot_records == saved
        assert found == [True, True]  # the load, then verify

    def test_an_append_after_the_snapshot_extends_its_order(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A later event goes after the snapshot's timeline, which is not rebuilt;
        a late report makes the load build the order anew, still right."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p", "2025-03-01"), answer("r", "UA")])
            assert log.save_index()
            log.append(proposal("q", "2025-04-01"))
        with (
            mock.patch.object(log_module, "build_timeline") as rebuilt,
            ns.open_log(path) as log,
        ):
            assert [e.id for e in log.timeline().events] == ["p", "r", "q"]
            rebuilt.assert_not_called()
        with ns.open_log(path) as log:
            log.append(proposal("early", "2025-02-01"))
        with ns.open_log(path) as log:
            assert [e.id for e in log.timeline().events] == ["early", "p", "r", "q"]

    @pytest.mark.parametrize(
        "damaged", [[b"\x00not marshal"], ["text"], []], ids=["bytes", "text", "none"]
    )
    def test_a_damaged_snapshot_is_passed_over(
        self, tmp_path: Path, suffix: str, damaged: list[object]
    ) -> None:
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
            assert log.save_index()
            expected = loaded(log)
        replace_snapshot(path, damaged)
        with snapshot_reads() as found, ns.open_log(path) as log:
            assert loaded(log) == expected
            assert log.verify().ok
        assert found == [False, False]

    def test_is_written_from_the_records_not_from_what_was_appended(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """An event appended as given (an int where the class says float) is
        stored as its record decodes (a float): the snapshot holds the latter."""
        path = tmp_path / f"log{suffix}"
        paid = Paid(
            id="pay",
            occurred="2025-03-02",
            sources=SOURCE,
            amount=1,  # type: ignore[arg-type]
        )
        with ns.open_log(path, registry=PAYMENTS) as log:
            log.append_many([proposal("p"), paid])
            assert type(list(log.events())[1].amount) is int  # type: ignore[attr-defined]
            assert log.save_index()
        with snapshot_reads() as found, ns.open_log(path, registry=PAYMENTS) as log:
            amount = list(log.events())[1].amount  # type: ignore[attr-defined]
        assert found == [True]
        assert (type(amount), amount) == (float, 1.0)

    def test_a_snapshot_of_other_records_is_passed_over(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """Records rewritten behind the snapshot's back (the last one replaced)
        change the stamp it must match."""
        path, other = tmp_path / f"log{suffix}", tmp_path / f"other{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
            assert log.save_index()
            parts = list(log._storage.snapshot_parts())  # type: ignore[attr-defined]
        with ns.open_log(other) as log:
            log.append_many([proposal("p"), answer("r", "RU")])
            assert log.save_index()
            expected = loaded(log)
        replace_snapshot(other, parts)
        with snapshot_reads() as found, ns.open_log(other) as log:
            assert loaded(log) == expected
        assert found == [False]

    def test_the_state_after_every_event_is_read_not_folded(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A load from the snapshot reads the state after every event from the
        fold it keeps, and so does one after a refused append."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA"), answer("s", "RU")])
            assert log.save_index()
            expected = ns.state_at(log)
            possibly = ns.state_at(log, reading="possibly")
        with (
            mock.patch.object(
                replay_module, "apply_events", side_effect=AssertionError("folded")
            ),
            ns.open_log(path) as log,
        ):
            assert ns.state_at(log) == expected
            assert ns.state_at(log, reading="possibly") == possibly
        with ns.open_log(path) as log:
            with pytest.raises(ns.UnknownReferenceError):
                log.append(answer("x", "UA", target="missing"))
            with folded_ids() as folded:
                assert ns.state_at(log) == expected
            assert folded == []
            log.append(proposal("q", "2025-04-01"))
            grown = ns.state_at(log)
        with ns.open_log(path) as log:
            assert ns.state_at(log) == grown
            assert "q" in ns.state_at(log).proposals

    def test_a_grown_log_folds_only_the_events_after_its_snapshot(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """Events recorded after the index was saved, all dated after what it
        holds, are folded onto the state the snapshot keeps: the answer to a
        proposal the snapshot holds included, and the same state comes out as
        from the records."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
            assert log.save_index()
        with ns.open_log(path) as log:
            accepted = ns.ProposalAccepted(
                id="b", occurred="2025-03-22", sources=SOURCE, proposal="p", by="RU"
            )
            log.append_many([proposal("q", "2025-03-20"), answer2("a"), accepted])
        with (
            snapshot_reads() as found,
            folded_ids() as folded,
            ns.open_log(path) as log,
        ):
            state = ns.state_at(log)
            assert ns.state_at(log) == state
        assert found == [True]
        assert folded == ["q", "a", "b"]
        with ns.open_log(path) as log:
            assert state == ns.state_at(list(log.events()))
        answers = {
            (key, response.party, response.kind.value)
            for key in ("p", "q")
            for response in state.proposals[key].responses
        }
        assert answers == {
            ("p", "UA", "rejected"),
            ("p", "RU", "accepted"),
            ("q", "UA", "accepted"),
        }

    def test_appends_after_a_load_fold_onto_the_state_it_read(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A process that loaded the log from its snapshot and appends events
        dated after everything folds only those onto the state after every
        event; states read before stay as they were, and any day still replays
        as the records do."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
            assert log.save_index()
        with folded_ids() as folded, ns.open_log(path) as log:
            before = ns.state_at(log)
            log.append(proposal("q", "2025-03-20"))
            log.append(answer2("a"))
            after = ns.state_at(log)
            on_a_day = ns.state_at(log, "2025-03-20")
            records = list(log.events())
        assert folded == ["q", "a"]
        assert set(before.proposals) == {"p"}
        assert after == ns.state_at(records)
        assert after.proposals["q"].accepted_by == {"UA"}
        assert on_a_day == ns.state_at(records, "2025-03-20")

    def test_verify_folds_as_loads_do(self, tmp_path: Path, suffix: str) -> None:
        """Verify's own fold lets reducers read the events folded before theirs,
        as every fold does."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path, registry=CHECKING) as log:
            log.append_many(
                [proposal("p"), Checked(id="c", occurred="2025-03-02", sources=SOURCE)]
            )
            assert log.save_index()
            expected = ns.state_at(log)
        with ns.open_log(path, registry=CHECKING) as log:
            assert log.verify().ok
            assert ns.state_at(log) == expected

    def test_verify_finds_a_kept_fold_of_other_events(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A kept fold that is not the fold of the snapshot's order would give a
        wrong state on load: verify says so, and saving the index mends it."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
            assert log.save_index()
            events = list(log.events())
            timeline = log.timeline()
            parts = snapshot_of(log, events, timeline, whole_fold(timeline.events[:1]))
        replace_snapshot(path, parts)
        with ns.open_log(path) as log:
            report = log.verify()
            assert not report.ok
            assert "in the state it keeps after every event" in str(report.problem)
            assert log.save_index()
            assert log.verify().ok

    def test_verify_finds_a_snapshot_that_differs_from_the_records(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """A snapshot rewritten with other content under the right stamp is what
        loads trust: verify compares it with the records and says how to mend."""
        path = tmp_path / f"log{suffix}"
        with ns.open_log(path) as log:
            log.append_many([proposal("p"), answer("r", "UA")])
            assert log.save_index()
            events = list(log.events())
            rejection = events[1]
            assert isinstance(rejection, ns.ProposalRejected)
            forged = [events[0], attrs.evolve(rejection, reason="forged")]
            parts = snapshot_of(log, forged)
        replace_snapshot(path, parts)
        with ns.open_log(path) as log:
            report = log.verify()
            assert not report.ok
            assert "differs from record 2" in str(report.problem)
            assert "negstate index" in str(report.problem)
            assert log.save_index()
            report = log.verify()
            assert report.ok
            assert str(report).endswith("; the snapshot of the first 2 matches them")


class TestReleasedOnClose:
    """A closed log's events are freed as soon as nothing holds them.

    Reference cycles between a log and what it builds (the checkpoint index, the
    snapshot's builders, the saved index) would keep every event until the
    collector's next full pass: at a million events, 1.7 million objects and a
    pass of about a second.
    """

    def test_events_are_freed_without_the_collector(
        self, tmp_path: Path, suffix: str
    ) -> None:
        path = tmp_path / f"log{suffix}"
        indexed_log(
            path, [proposal("p"), answer("r", "UA"), proposal("q", "2025-03-20")]
        )
        gc.collect()
        gc.disable()
        try:
            log = ns.open_log(path, read_only=True)
            timeline = log.timeline()  # from the snapshot the index keeps
            timeline.state_at("2025-03-15")  # builds the checkpoint index
            saved = log.saved_state_at("2025-03-15")
            assert saved is not None
            assert saved.proposals["p"].status is ns.ProposalStatus.REJECTED
            first = weakref.ref(timeline.events[0])
            log.close()
            del log, timeline, saved
            assert first() is None
        finally:
            gc.enable()

    def test_a_carried_state_frees_its_events(
        self, tmp_path: Path, suffix: str
    ) -> None:
        """The state after every event, kept by the order and carried on by an
        append, refers to no event that would keep the order alive."""
        path = tmp_path / f"log{suffix}"
        indexed_log(path, [proposal("p"), answer("r", "UA")])
        gc.collect()
        gc.disable()
        try:
            log = ns.open_log(path)
            state = ns.state_at(log)  # from the snapshot the index keeps
            log.append(proposal("q", "2025-03-20"))
            assert set(ns.state_at(log).proposals) == {"p", "q"}
            first = weakref.ref(log.timeline().events[0])
            log.close()
            del log, state
            assert first() is None
        finally:
            gc.enable()

    def test_a_dropped_timeline_frees_its_index(self) -> None:
        log = ns.EventLog()
        log.append_many([proposal("p"), answer("r", "UA")])
        gc.collect()
        gc.disable()
        try:
            timeline = log.timeline()
            timeline.state_at("2025-03-15")
            first = weakref.ref(timeline.events[0])
            del log, timeline
            assert first() is None
        finally:
            gc.enable()


class TestIndexBesideJsonLines:
    """A JSON Lines log's index file is a cache: used only while it matches."""

    @staticmethod
    def lines_scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
        """Counts of lines each scan of a JSON Lines file framed."""
        counts: list[int] = []
        original = jsonl_store._line_starts

        def counting(pieces: list[bytes], count: int, first: int) -> object:
            counts.append(count)
            return original(pieces, count, first)

        monkeypatch.setattr(jsonl_store, "_line_starts", counting)
        return counts

    def test_opening_takes_line_offsets_from_the_index(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An indexed log is not scanned on opening; after a report further back
        than the index folds again, only the lines past its last record are."""
        path = tmp_path / "log.jsonl"
        events = [proposal(), answer("r", "RU"), proposal("q", day="2025-03-20")]
        with ns.open_log(path) as log:
            log.append_many(events)
            assert log.save_index()
        scanned = self.lines_scanned(monkeypatch)
        monkeypatch.setattr(checkpoints, "REFOLD_LIMIT", 2)
        with ns.open_log(path) as log:
            assert len(log) == 3
            assert sum(scanned) == 0
            log.append_many([proposal("early", day="2025-01-01"), answer2("s")])
            assert log.saved_state_at() is None  # a report 3 events back: stale
        scanned.clear()
        with ns.open_log(path) as log:
            assert scanned == [2]  # the two lines past the index
            assert [r.event.id for r in log] == ["p", "r", "q", "early", "s"]
            assert log.verify().ok

    @pytest.mark.parametrize("other", ["shorter", "rewritten"])
    def test_an_index_of_another_version_of_the_log_is_ignored(
        self, tmp_path: Path, other: str
    ) -> None:
        """A log restored to an older version, or written anew, beside an index of
        another version replays and gives its own records."""
        path, older = tmp_path / "log.jsonl", tmp_path / "older.jsonl"
        events = [proposal(), answer("r", "RU"), proposal("q", day="2025-03-20")]
        kept = events[:2] if other == "shorter" else events
        with ns.open_log(older) as log:
            log.append_many(kept)
        with ns.open_log(path) as log:
            log.append_many(events)
            assert log.save_index()
        index = path.read_bytes(), path.with_name("log.jsonl.index").read_bytes()
        for ending in ("", ".head"):
            shutil.copy(
                older.with_name(older.name + ending), path.with_name(path.name + ending)
            )
        assert path.with_name("log.jsonl.index").read_bytes() == index[1]
        assert other == "shorter" or path.read_bytes() != index[0]
        with ns.open_log(path) as log:
            assert len(log) == len(kept)
            assert log.saved_state_at() is None
            assert ns.state_at(log) == ns.state_at(kept)
            assert log.verify().ok
            log.append(proposal("z", day="2025-04-01"))
            assert [r.event.id for r in log] == [*(e.id for e in kept), "z"]

    @pytest.fixture
    def unwritable_index(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        """A log of one record whose index file fails every write that grows it."""
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append(proposal())
            assert log.save_index()

        def failing(*_: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(side_index, "write_extension", failing)
        return path

    def test_a_failed_index_write_drops_it_and_keeps_the_append(
        self, tmp_path: Path, unwritable_index: Path
    ) -> None:
        path = unwritable_index
        with ns.open_log(path) as log:
            with pytest.warns(ns.IndexDroppedWarning, match=r"log\.jsonl\.index: "):
                record = log.append(answer("r", "RU"))
            assert record.seq == 2
            assert log.saved_state_at() is None
        assert log_files(tmp_path) == ["log.jsonl", "log.jsonl.head"]
        with ns.open_log(path) as log:
            assert [r.event.id for r in log] == ["p", "r"]

    def test_a_dropped_index_warned_as_an_error_still_counts_the_append(
        self, unwritable_index: Path
    ) -> None:
        """Under ``-W error`` the warning is raised once the records are counted."""
        path = unwritable_index
        with ns.open_log(path) as log:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with pytest.raises(ns.IndexDroppedWarning):
                    log.append(answer("r", "RU"))
            assert len(log) == 2
            assert log.get("r") is not None
            assert log.append(answer("u", "UA")).seq == 3

    def test_an_index_placing_an_event_wrongly_is_an_error(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
            assert log.save_index()
        index = path.with_name("log.jsonl.index")
        with contextlib.closing(sqlite3.connect(index)) as db:
            db.execute("UPDATE negstate_records SET seq = 3 - seq")
            db.commit()
        with ns.open_log(path, read_only=True) as log:
            state = log.saved_state_at()
            assert state is not None
            with (
                pytest.warns(ns.IndexDroppedWarning),
                pytest.raises(
                    ns.IndexUnreadableError,
                    match=r"places event 'p' in record 2.*negstate index",
                ),
            ):
                state.proposals["p"]
            assert log.saved_state_at() is None  # not used again
        assert index.exists()  # a read-only log changes no file
        with ns.open_log(path) as log, pytest.warns(ns.IndexDroppedWarning):
            assert log.append(proposal()).seq == 1  # checked on a replay instead
        assert not index.exists()

    def test_a_damaged_index_is_dropped_and_the_log_replayed(
        self, tmp_path: Path
    ) -> None:
        """A page of the index file overwritten: the append falls back to a replay,
        the file is removed with a warning, and the index can be saved again."""
        path = tmp_path / "log.jsonl"
        index = path.with_name("log.jsonl.index")
        events = [
            proposal(f"p{n}", day=f"2025-03-{1 + n % 28:02d}") for n in range(300)
        ]
        with ns.open_log(path) as log:
            log.append_many(events)
            assert log.save_index()
        with contextlib.closing(sqlite3.connect(index)) as db:
            size = db.execute("PRAGMA page_size").fetchone()[0]
            root = db.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'negstate_records'"
            ).fetchone()[0]
        damaged = bytearray(index.read_bytes())
        damaged[(root - 1) * size : root * size] = b"\xff" * size
        index.write_bytes(bytes(damaged))
        later = proposal("later", day="2025-04-01")
        with ns.open_log(path) as log:
            with pytest.warns(ns.IndexDroppedWarning, match="could not be read"):
                assert log.append(later).seq == 301
            assert not index.exists()
            assert log.saved_state_at() is None
            assert ns.state_at(log) == ns.state_at([*events, later])
            assert log.save_index()
            assert log.saved_state_at() == ns.state_at([*events, later])

    @pytest.mark.parametrize("content", [b"SQLite format 3\x00 cut", bytes(4096)])
    def test_a_broken_index_file_is_replaced_on_saving(
        self, tmp_path: Path, content: bytes
    ) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append(proposal())
        path.with_name("log.jsonl.index").write_bytes(content)
        with ns.open_log(path) as log:
            assert log.saved_state_at() is None
            assert log.save_index()
            assert log.saved_state_at() == ns.state_at([proposal()])

    def test_another_file_at_the_index_path_is_never_removed(
        self, tmp_path: Path
    ) -> None:
        """A JSON Lines log named like another log's index file is left alone, and
        saving that other log's index names it."""
        other = tmp_path / "notes.index"
        with ns.open_log(other) as log:
            log.append(proposal())
        kept = other.read_bytes()
        with ns.open_log(tmp_path / "notes") as log:  # created beside it
            log.append(proposal("q"))
            with pytest.raises(
                ns.NegstateError, match=r"notes\.index: a file that is not a negstate"
            ):
                log.save_index()
            assert log.saved_state_at() is None
        assert other.read_bytes() == kept

    def test_a_misplaced_line_is_an_integrity_error(self, tmp_path: Path) -> None:
        """Line offsets the index got wrong are caught when the line is read."""
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append_many([proposal(f"p{n}") for n in range(6)])
            assert log.save_index()
        with contextlib.closing(
            sqlite3.connect(path.with_name("log.jsonl.index"))
        ) as db:
            offsets = array(
                "q", db.execute("SELECT offsets FROM negstate_lines").fetchone()[0]
            )
            offsets[3] = offsets[2]
            db.execute("UPDATE negstate_lines SET offsets = ?", (offsets.tobytes(),))
            db.commit()
        with ns.open_log(path, read_only=True) as log:
            assert len(log) == 6
            with pytest.raises(
                ns.IntegrityError, match=r"log\.jsonl:5: the line holds record 3"
            ):
                list(log.records(4, 5))

    def test_read_only_opens_create_no_index_file(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append(proposal())
        with ns.open_log(path, read_only=True) as log:
            assert not log.save_index()
            assert log.saved_state_at() is None
        assert ns.verify_log(path).ok
        assert log_files(tmp_path) == ["log.jsonl", "log.jsonl.head"]


def log_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


class TestCopy:
    """A copy holds the same records, byte for byte, in either backend."""

    @settings(
        max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.one_of(event_streams(), revised_streams()),
        st.lists(st.integers(1, 6), min_size=1, max_size=8),
        st.lists(days_in_streams(), min_size=1, max_size=3),
    )
    def test_a_round_trip_through_sqlite_gives_the_same_file(
        self,
        tmp_path: Path,
        events: list[ns.Event],
        sizes: list[int],
        days: list[date],
    ) -> None:
        """JSON Lines to SQLite (with its index) and back to JSON Lines gives the
        same bytes, head file included; the SQLite copy verifies and answers as
        the original does, as known at each recording time too."""
        for name in ("log.jsonl", "log.jsonl.head", "copy.sqlite", "back.jsonl"):
            (tmp_path / name).unlink(missing_ok=True)
        (tmp_path / "back.jsonl.head").unlink(missing_ok=True)
        moments = (
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n) for n in range(99)
        )
        original = tmp_path / "log.jsonl"
        with ns.open_log(original, clock=lambda: next(moments)) as log:
            pending = list(events)
            for size in itertools.cycle(sizes):
                if not pending:
                    break
                batch, pending = pending[:size], pending[size:]
                try:
                    log.append_many(batch)
                except ns.NegstateError:
                    reject()  # two revisions the rules refuse together
            assert log.copy_to(tmp_path / "copy.sqlite", save_index=True) == len(log)
            recorded = [record.recorded_at for record in log]
        with ns.open_log(tmp_path / "copy.sqlite", read_only=True) as copy:
            assert copy.verify().ok
            assert copy.copy_to(tmp_path / "back.jsonl") == len(copy)
            with ns.open_log(original, read_only=True) as log:
                assert list(copy) == list(log)
                for day in [*days, None]:
                    assert copy.saved_state_at(day) == ns.state_at(log, on=day)
                for moment in recorded:
                    assert ns.state_at(copy, known_at=moment) == ns.state_at(
                        log, known_at=moment
                    )
        for name in ("jsonl", "jsonl.head"):  # an empty log has no head yet
            back, start = tmp_path / f"back.{name}", tmp_path / f"log.{name}"
            assert back.exists() == start.exists()
            assert not back.exists() or back.read_bytes() == start.read_bytes()

    @pytest.mark.parametrize("source", ["log.jsonl", "log.sqlite"])
    @pytest.mark.parametrize("target", ["copy.jsonl", "copy.sqlite", "copy.db"])
    def test_every_backend_to_every_backend(
        self, tmp_path: Path, source: str, target: str
    ) -> None:
        """The copy holds what appending the same batches at the same times to a
        new log of its backend writes (for SQLite: every column of every row)."""

        def write(path: Path) -> ns.EventLog:
            moments = iter([datetime(2026, 1, day, tzinfo=UTC) for day in (1, 2)])
            log = ns.open_log(path, clock=lambda: next(moments))
            log.append(proposal())
            log.append_many([answer("r", "RU"), answer("s", "UA")])
            return log

        with write(tmp_path / source) as log:
            assert log.copy_to(tmp_path / target) == 3
        expected = tmp_path / "expected" / target
        expected.parent.mkdir()
        write(expected).close()
        with ns.open_log(tmp_path / target, read_only=True) as copy:
            assert copy.verify().ok
            assert [r.batch_left for r in copy] == [0, 1, 0]
        if target.endswith(".jsonl"):
            for name in (target, f"{target}.head"):
                assert (tmp_path / name).read_bytes() == (
                    expected.parent / name
                ).read_bytes()
        else:
            assert sqlite_tables(tmp_path / target) == sqlite_tables(expected)
        assert log_files(tmp_path) == sorted(
            {source, target, "expected"}
            | {f"{name}.head" for name in (source, target) if name.endswith(".jsonl")}
        )

    def test_appends_go_on_in_the_copy(self, tmp_path: Path) -> None:
        """A copy is a log in its own right: it grows apart from the original,
        and its index keeps current."""
        with ns.open_log(tmp_path / "log.jsonl") as log:
            log.append(proposal())
            log.copy_to(tmp_path / "copy.sqlite", save_index=True)
        with ns.open_log(tmp_path / "copy.sqlite") as copy:
            assert copy.append(answer("r", "RU")).seq == 2
            assert copy.saved_state_at() == ns.state_at([proposal(), answer("r", "RU")])
        with ns.open_log(tmp_path / "log.jsonl", read_only=True) as log:
            assert len(log) == 1

    @pytest.mark.parametrize("target", ["copy.jsonl", "copy.sqlite"])
    def test_never_replaces_a_file(self, tmp_path: Path, target: str) -> None:
        (tmp_path / target).write_bytes(b"someone's file")
        with ns.open_log(tmp_path / "log.jsonl") as log:
            log.append(proposal())
            with pytest.raises(ns.NegstateError, match=rf"{target}: something already"):
                log.copy_to(tmp_path / target)
        assert (tmp_path / target).read_bytes() == b"someone's file"
        assert log_files(tmp_path) == sorted([target, "log.jsonl", "log.jsonl.head"])

    def test_a_damaged_log_is_not_copied(self, tmp_path: Path) -> None:
        path = tmp_path / "log.jsonl"
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU"), answer("s", "UA")])
        lines = path.read_bytes().split(b"\n")
        lines[2] = lines[2].replace(b'"RU"', b'"UA"')
        path.write_bytes(b"\n".join(lines))
        with (
            ns.open_log(path, read_only=True) as log,
            pytest.raises(ns.IntegrityError, match=r"log\.jsonl:3"),
        ):
            log.copy_to(tmp_path / "copy.sqlite")
        assert log_files(tmp_path) == ["log.jsonl", "log.jsonl.head"]

    @pytest.mark.parametrize(
        ("target", "side"),
        [
            ("copy.sqlite", "copy.sqlite-wal"),
            ("copy.sqlite", "copy.sqlite-journal"),
            ("copy.jsonl", "copy.jsonl.head"),
        ],
    )
    def test_files_left_beside_the_path_are_refused(
        self, tmp_path: Path, target: str, side: str
    ) -> None:
        """A deleted log's write-ahead log or head file would be read as the
        copy's: the copy refuses to start and leaves it alone."""
        (tmp_path / side).write_bytes(b"a deleted log's")
        with (
            ns.open_log(tmp_path / "log.jsonl") as log,
            pytest.raises(ns.NegstateError, match=rf"{side} exists beside"),
        ):
            log.copy_to(tmp_path / target)
        assert (tmp_path / side).read_bytes() == b"a deleted log's"
        assert log_files(tmp_path) == sorted([side, "log.jsonl"])

    def test_two_copies_at_once_do_not_meet(self, tmp_path: Path) -> None:
        """Each copy writes under a name of its own; one gets the path."""
        with ns.open_log(tmp_path / "log.sqlite") as log:
            log.append_many([proposal(), answer("r", "RU")])
        outcomes: list[object] = []

        def copy() -> None:
            with ns.open_log(tmp_path / "log.sqlite", read_only=True) as log:
                try:
                    outcomes.append(log.copy_to(tmp_path / "copy.sqlite"))
                except ns.NegstateError as error:
                    outcomes.append(type(error))

        threads = [threading.Thread(target=copy) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert 2 in outcomes
        assert set(outcomes) <= {2, ns.NegstateError}
        # The source's -wal and -shm files stay when a reader closes it last.
        copies = [name for name in log_files(tmp_path) if not name.startswith("log")]
        assert copies == ["copy.sqlite"]
        with ns.open_log(tmp_path / "copy.sqlite", read_only=True) as copy:
            assert copy.verify().ok

    def test_a_missing_folder_is_named(self, tmp_path: Path) -> None:
        with ns.open_log(tmp_path / "log.jsonl") as log:
            log.append(proposal())
            with pytest.raises(ns.NegstateError, match=r"copy\.sqlite: the folder"):
                log.copy_to(tmp_path / "missing" / "copy.sqlite")
        assert log_files(tmp_path) == ["log.jsonl", "log.jsonl.head"]

    def test_a_json_lines_copy_keeps_its_index_beside_it(self, tmp_path: Path) -> None:
        events = [proposal(), answer("r", "RU")]
        with ns.open_log(tmp_path / "log.sqlite") as log:
            log.append_many(events)
            assert log.copy_to(tmp_path / "copy.jsonl", save_index=True) == 2
        assert log_files(tmp_path) == [
            "copy.jsonl",
            "copy.jsonl.head",
            "copy.jsonl.index",
            "log.sqlite",
        ]
        with ns.open_log(tmp_path / "copy.jsonl", read_only=True) as copy:
            assert copy.saved_state_at("2025-03-12") == ns.state_at(
                events, on="2025-03-12"
            )

    def test_a_copy_that_fails_late_leaves_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the index cannot be kept, the written copy is removed again."""
        monkeypatch.setattr(ns.EventLog, "_save_index_into", lambda *_: False)
        with ns.open_log(tmp_path / "log.sqlite") as log:
            log.append(proposal())
            with pytest.raises(ns.NegstateError, match="user-defined reducers"):
                log.copy_to(tmp_path / "copy.sqlite", save_index=True)
        assert log_files(tmp_path) == ["log.sqlite"]

    def test_a_record_replaced_after_loading_is_not_copied(
        self, tmp_path: Path
    ) -> None:
        """The records copied are checked against the chain again: a record
        another log's row replaced after this log loaded breaks it."""
        path, other = tmp_path / "log.sqlite", tmp_path / "other.sqlite"
        with ns.open_log(other) as log:
            log.append_many([proposal("other"), answer("r", "RU", target="other")])
        with contextlib.closing(sqlite3.connect(other)) as db:
            foreign = db.execute(
                "SELECT hash, body FROM records WHERE seq = 2"
            ).fetchone()
        with ns.open_log(path) as log:
            log.append_many([proposal(), answer("r", "RU")])
            assert "p" in ns.state_at(log).proposals  # loaded
            with contextlib.closing(sqlite3.connect(path)) as db, db:
                db.execute(
                    "UPDATE records SET hash = ?, body = ? WHERE seq = 2", foreign
                )
            with pytest.raises(ns.IntegrityError, match="record 2 is not record 2"):
                log.copy_to(tmp_path / "copy.jsonl")
        assert log_files(tmp_path) == ["log.sqlite", "other.sqlite"]
