"""The negstate command line, through main() and through python -m negstate."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import negstate as ns
from negstate.cli import build_parser, main
from negstate.serialization import encode_event

EXAMPLE = Path(__file__).parents[1] / "examples" / "ukraine_russia_2025"
ROUND_1 = "2025-05-16-istanbul-round-1"
SOURCE = ns.Source(title="A report", outlet="Wire")


@pytest.fixture
def talks(tmp_path: Path) -> Path:
    """A copy of the 2025 example log (with its head file) in a temporary folder."""
    for name in ("talks.jsonl", "talks.jsonl.head"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    return tmp_path / "talks.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_module(
    *argv: str, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(  # noqa: S603 - runs this Python on arguments of the test
        [sys.executable, "-m", "negstate", *argv],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def proposal(event_id: str = "p1") -> ns.ProposalMade:
    return ns.ProposalMade(
        id=event_id,
        occurred="2025-03-01",
        sources=SOURCE,
        proposer="US",
        addressees=("UA", "RU"),
        issue="ceasefire",
    )


def as_json(event: ns.Event) -> str:
    return json.dumps(encode_event(event, ns.make_converter()))


class TestParser:
    """The parser knows every command, shows help and reports usage errors with 2."""

    COMMANDS = (
        "init",
        "add",
        "verify",
        "index",
        "copy",
        "state",
        "diff",
        "timeline",
        "explain",
        "export",
        "import",
        "report",
        "plot",
    )

    def test_build_parser_lists_every_command(self) -> None:
        help_text = build_parser().format_help()
        for command in self.COMMANDS:
            assert command in help_text

    @pytest.mark.parametrize("command", COMMANDS)
    def test_every_command_has_help(
        self, command: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert f"negstate {command}" in out

    def test_no_command_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys)
        assert code == 2
        assert "usage:" in err

    def test_missing_required_option_is_a_usage_error(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys, "state", str(talks))
        assert code == 2
        assert "--at" in err


class TestInitAndAdd:
    """init creates a log; add appends events from files, stdin or flags."""

    def test_init_creates_an_empty_log_and_accepts_it_again(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "new.jsonl"
        assert run(capsys, "init", str(log))[0] == 0
        with ns.open_log(log, create=False) as opened:
            assert len(opened) == 0
        code, out, _ = run(capsys, "init", str(log))
        assert code == 0
        assert "already" in out

    def test_a_file_that_is_not_a_log_is_refused_on_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        other = tmp_path / "notes.jsonl"
        other.write_text('{"hello": 1}\n', encoding="utf-8")
        code, _, err = run(capsys, "state", str(other), "--at", "2025-05-01")
        assert code == 1
        assert err.startswith("negstate: ")
        assert err.count("\n") == 1
        assert "not a negstate log" in err
        assert f"{other}:1" in err

    def test_a_missing_log_is_not_created_by_a_query(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        missing = tmp_path / "missing.jsonl"
        code, _, err = run(capsys, "timeline", str(missing))
        assert code == 1
        assert "no log at this path" in err
        assert not missing.exists()

    def test_add_reads_json_lines_arrays_and_objects(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        lines = tmp_path / "one.jsonl"
        lines.write_text(as_json(proposal("p1")) + "\n", encoding="utf-8")
        array = tmp_path / "two.json"
        array.write_text(
            json.dumps([json.loads(as_json(proposal("p2")))], indent=2),
            encoding="utf-8",
        )
        pretty = tmp_path / "three.json"
        pretty.write_text(
            json.dumps(json.loads(as_json(proposal("p3"))), indent=2),
            encoding="utf-8",
        )
        for path in (lines, array, pretty):
            code, out, _ = run(capsys, "add", str(log), str(path))
            assert code == 0
            assert "added 1 event(s)" in out
        with ns.open_log(log, create=False) as opened:
            assert [e.id for e in opened.events()] == ["p1", "p2", "p3"]

    def test_adding_the_same_events_again_adds_nothing(
        self, talks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        exported = tmp_path / "events.jsonl"
        run(capsys, "export", str(talks), "--format", "jsonl", "--out", str(exported))
        code, out, _ = run(capsys, "add", str(talks), str(exported))
        assert code == 0
        assert "added 0 event(s)" in out
        assert "67 already in the log" in out

    def test_a_bad_json_line_names_the_input_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        events = tmp_path / "events.jsonl"
        events.write_text(
            as_json(proposal("p1")) + "\n" + '{"id": "p2", "type": \n',
            encoding="utf-8",
        )
        code, _, err = run(capsys, "add", str(log), str(events))
        assert code == 1
        assert f"{events}:2" in err
        assert "bad JSON" in err
        assert err.count("\n") == 1
        with ns.open_log(log, create=False) as opened:
            assert len(opened) == 0, "a failed batch must write nothing"

    def test_an_unknown_event_type_names_line_and_types(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        events = tmp_path / "events.jsonl"
        raw = json.loads(as_json(proposal("p1")))
        raw["type"] = "ProposalMaed"
        events.write_text("\n\n" + json.dumps(raw) + "\n", encoding="utf-8")
        code, _, err = run(capsys, "add", str(log), str(events))
        assert code == 1
        assert f"{events}:3" in err
        assert "unknown event type 'ProposalMaed'" in err
        assert "ProposalMade" in err

    def test_an_impossible_event_names_the_event(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        own_answer = ns.ProposalAccepted(
            id="us-accepts-own",
            occurred="2025-03-02",
            sources=SOURCE,
            proposal="p1",
            by="US",
        )
        events = tmp_path / "events.jsonl"
        events.write_text(
            as_json(proposal("p1")) + "\n" + as_json(own_answer) + "\n",
            encoding="utf-8",
        )
        code, _, err = run(capsys, "add", str(log), str(events))
        assert code == 1
        assert "'us-accepts-own'" in err
        assert "answers its own proposal" in err
        assert "Traceback" not in err

    def test_add_reads_standard_input(self, tmp_path: Path) -> None:
        log = tmp_path / "log.jsonl"
        assert run_module("init", str(log), cwd=tmp_path).returncode == 0
        done = run_module(
            "add", str(log), "-", cwd=tmp_path, stdin=as_json(proposal("p1")) + "\n"
        )
        assert done.returncode == 0, done.stderr
        assert "added 1 event(s) from <stdin>" in done.stdout

    def test_add_builds_events_from_flags(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        common = ["--source-title", "Umerov on the talks", "--source-outlet", "Babel"]
        steps = [
            (
                "proposal --id p1 --date 2025-05-16 --proposer UA --to RU "
                "--issue ceasefire --duration-days 30"
            ),
            (
                "answer --id a1 --date 2025-05 --proposal p1 --by RU --answer reject "
                "--reason too_long"
            ),
            (
                "position --id s1 --date 2025-06-01 --party RU --issue ceasefire "
                "--stance opposes --claimed-by UA"
            ),
            (
                "swap --id w1 --date 2025-06-09 --release RU:prisoners_of_war:84:UA "
                "--release UA:pows:?"
            ),
            (
                "meeting --id m1 --date 2025-06-02 --participants UA,RU "
                "--level delegations --place Istanbul"
            ),
        ]
        for step in steps:
            code, _, err = run(capsys, "add", str(log), *step.split(), *common)
            assert code == 0, err
        with ns.open_log(log, create=False) as opened:
            state = ns.state_at(opened, "2025-07-01")
        assert state.proposals["p1"].status is ns.ProposalStatus.REJECTED
        assert state.proposals["p1"].terms.duration_days == ns.Quantity.exactly(30)
        assert state.position("RU", "ceasefire").claimed_by == "UA"
        assert state.released("RU", "prisoners_of_war").count == 84
        assert state.released("UA", "pows").unreported == 1
        assert state.meetings["m1"].place == "Istanbul"

    def test_flags_missing_for_a_form_are_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        code, _, err = run(
            capsys, "add", str(log), "position", "--id", "x", "--date", "2025-05-01"
        )
        assert code == 2
        assert "--source-title" in err
        assert "--party" in err

    def test_a_bad_flag_value_names_the_field(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        code, _, err = run(
            capsys,
            "add",
            str(log),
            "proposal",
            "--id",
            "p1",
            "--date",
            "2025-05-01",
            "--proposer",
            "UA",
            "--to",
            "UA",
            "--issue",
            "ceasefire",
            "--source-title",
            "T",
        )
        assert code == 1
        assert "'addressees'" in err
        assert "cannot address its own proposal" in err


class TestVerify:
    """verify passes an intact log and names the line of a tampered one."""

    def test_an_intact_log_verifies(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(capsys, "verify", str(talks))
        assert code == 0
        assert "67 record(s), hash chain intact" in out

    def test_a_tampered_log_exits_1_naming_the_line(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        lines = talks.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[10] = lines[10].replace('"by":"RU"', '"by":"UA"', 1)
        assert lines[10] != talks.read_text(encoding="utf-8").splitlines(True)[10]
        talks.write_text("".join(lines), encoding="utf-8")
        code, out, err = run(capsys, "verify", str(talks), "--json")
        assert code == 1
        assert f"{talks}:11" in err
        assert json.loads(out)["ok"] is False


class TestCopyAndIndex:
    """copy moves the 2025 log into SQLite with its index, and answers alike."""

    def test_an_sqlite_copy_with_its_index_answers_as_the_original(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        copy = talks.with_name("talks.sqlite")
        code, out, _ = run(capsys, "copy", str(talks), str(copy), "--index")
        assert code == 0
        assert f"{copy}: 67 records copied from {talks} with its checkpoint" in out
        with ns.open_log(copy, read_only=True) as log:
            assert log.saved_state_at("2025-06-02") is not None
        for at in ("2025-05-16", "2025-07-23"):
            original = run(capsys, "state", str(talks), "--at", at, "--json")[1]
            copied = run(capsys, "state", str(copy), "--at", at, "--json")[1]
            assert json.loads(copied)["state"] == json.loads(original)["state"]
        for days in (("2025-05-15", "2025-05-17"), ("2025-07-31", "2025-03-01")):
            span = ["--from", days[0], "--to", days[1], "--json"]
            original = json.loads(run(capsys, "diff", str(talks), *span)[1])
            copied = json.loads(run(capsys, "diff", str(copy), *span)[1])
            assert original["diff"]["changes"]
            assert copied["diff"] == original["diff"]
        back = talks.with_name("back.jsonl")
        assert run(capsys, "copy", str(copy), str(back))[0] == 0
        assert back.read_bytes() == talks.read_bytes()

    def test_an_existing_file_is_refused_on_one_line(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = talks.read_bytes()
        code, _, err = run(capsys, "copy", str(talks), str(talks))
        assert code == 1
        assert err == (
            f"negstate: {talks}: something already exists at the copy's path; "
            "choose a new path: a copy never replaces a file\n"
        )
        assert talks.read_bytes() == before

    def test_an_index_beside_a_json_lines_log_answers_as_a_replay(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        before = talks.read_bytes()
        days = ["--from", "2025-05-15", "--to", "2025-07-31", "--json"]
        explained = [
            ("explain", str(talks), path, "--at", "2025-07-31", *json_flag)
            for path in ("exchanges/UA/prisoners", "positions/RU/ceasefire")
            for json_flag in ((), ("--json",))
        ]
        replayed = [
            run(capsys, "state", str(talks), "--at", "2025-06-02", "--json")[1],
            run(capsys, "diff", str(talks), *days)[1],
            run(capsys, "state", str(talks), "--at", "2025-06-02", "--party", "UA")[1],
            *(run(capsys, *command)[1] for command in explained),
        ]
        code, out, _ = run(capsys, "index", str(talks))
        assert code == 0
        assert (
            out
            == f"{talks}: checkpoint index kept for 67 records in talks.jsonl.index\n"
        )
        assert talks.read_bytes() == before
        assert talks.with_name("talks.jsonl.index").exists()
        with ns.open_log(talks, read_only=True) as log:
            assert log.saved_state_at("2025-06-02") is not None
        assert [
            run(capsys, "state", str(talks), "--at", "2025-06-02", "--json")[1],
            run(capsys, "diff", str(talks), *days)[1],
            run(capsys, "state", str(talks), "--at", "2025-06-02", "--party", "UA")[1],
            *(run(capsys, *command)[1] for command in explained),
        ] == replayed
        assert json.loads(replayed[1])["diff"]["changes"]


class TestQueries:
    """state, diff, timeline and explain answer from the 2025 example."""

    def test_state_shows_aligned_tables(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(capsys, "state", str(talks), "--at", "2025-06-10")
        assert code == 0
        assert "\x1b[" not in out, "no colour when stdout is not a terminal"
        lines = out.splitlines()
        header = next(line for line in lines if line.startswith("PARTY"))
        stance_at = header.index("STANCE")
        ru_ceasefire = next(
            line for line in lines if line.startswith("RU     ceasefire")
        )
        assert ru_ceasefire[stance_at:].startswith("supports")
        assert "ua-30-day-ceasefire-proposal" in out

    def test_state_json_has_documented_keys_and_filters(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(
            capsys, "state", str(talks), "--at", "2025-08-01", "--party", "UA", "--json"
        )
        assert code == 0
        payload = json.loads(out)
        assert set(payload) == {
            "log",
            "at",
            "known_at",
            "reading",
            "party",
            "issue",
            "state",
        }
        assert payload["at"] == "2025-08-01"
        state = payload["state"]
        assert set(state["positions"]) == {"UA"}
        assert state["exchanges"]["UA"]["prisoners"]["count"] == 1000
        assert all(
            "UA" in (d["by"], *d["against"]) for d in state["deadlines"].values()
        )
        rebuilt = ns.make_converter().structure(state, ns.NegotiationState)
        assert rebuilt.position("UA", "ceasefire") is not None

    def test_state_reading_possibly_counts_more(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        surely = json.loads(
            run(capsys, "state", str(talks), "--at", "2025-03-05", "--json")[1]
        )
        possibly = json.loads(
            run(
                capsys,
                "state",
                str(talks),
                "--at",
                "2025-03-05",
                "--reading",
                "possibly",
                "--json",
            )[1]
        )
        assert "2025-03-us-full-ceasefire-proposal" not in surely["state"]["proposals"]
        assert "2025-03-us-full-ceasefire-proposal" in possibly["state"]["proposals"]

    def test_a_date_that_is_not_a_day_is_one_line(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys, "state", str(talks), "--at", "2025-05")
        assert code == 1
        assert (
            err
            == "negstate: --at: '2025-05' is not a day; write the day as YYYY-MM-DD\n"
        )

    def test_diff_between_two_days(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(
            capsys,
            "diff",
            str(talks),
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-05",
            "--json",
        )
        assert code == 0
        payload = json.loads(out)
        paths = {c["path"] for c in payload["diff"]["changes"]}
        assert "meetings/2025-06-02-istanbul-round-2" in paths
        assert payload["diff"]["before"] == "2025-06-01"
        text = run(
            capsys, "diff", str(talks), "--from", "2025-06-01", "--to", "2025-06-05"
        )[1]
        assert text.startswith(f"{len(paths)} change(s) from 2025-06-01 to 2025-06-05")

    def test_diff_under_a_path_keeps_only_its_changes(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        days = ["--from", "2025-05-01", "--to", "2025-08-01"]
        everything = json.loads(run(capsys, "diff", str(talks), *days, "--json")[1])
        code, out, _ = run(
            capsys, "diff", str(talks), *days, "--under", "positions/UA", "--json"
        )
        assert code == 0
        payload = json.loads(out)
        assert payload["under"] == "positions/UA"
        paths = [c["path"] for c in payload["diff"]["changes"]]
        assert paths
        assert paths == [
            c["path"]
            for c in everything["diff"]["changes"]
            if c["path"].startswith("positions/UA/")
        ]
        text = run(capsys, "diff", str(talks), *days, "--under", "positions/UA")[1]
        assert text.startswith(
            f"{len(paths)} change(s) under positions/UA from 2025-05-01 to 2025-08-01"
        )
        assert "positions/RU" not in text
        code, _, err = run(capsys, "diff", str(talks), *days, "--under", "position/UA")
        assert code == 1
        assert "'position/UA' starts with no section" in err

    def test_knowledge_diff_shows_what_later_reports_added(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(
            capsys,
            "diff",
            str(talks),
            "--at",
            "2025-06-20",
            "--known-from",
            "2025-06-26",
            "--known-to",
            "2025-07-23",
            "--json",
        )
        assert code == 0
        changes = json.loads(out)["diff"]["changes"]
        kinds = {c["path"]: c["kind"] for c in changes}
        assert kinds["meetings/riyadh-talks"] == "added"
        assert kinds["proposals/ua-30-day-ceasefire-proposal"] == "added"
        assert kinds["meetings/2025-05-16-istanbul-round-1"] == "changed"

    def test_diff_needs_one_kind_of_question(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(capsys, "diff", str(talks), "--from", "2025-06-01")
        assert code == 2
        assert "--known-from" in err

    def test_timeline_in_valid_time_order_with_filters(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(
            capsys,
            "timeline",
            str(talks),
            "--from",
            "2025-05-16",
            "--to",
            "2025-05-19",
            "--party",
            "RU",
            "--json",
        )
        assert code == 0
        events = json.loads(out)["events"]
        ids = [e["id"] for e in events]
        assert ROUND_1 in ids
        assert "2025-05-19-trump-putin-call" in ids
        assert "2025-05-19-trump-zelensky-call" not in ids
        assert all("RU" in e["actors"] for e in events)
        assert ids.index(ROUND_1) < ids.index("2025-05-19-trump-putin-call")
        assert {"id", "type", "when", "narrowed", "summary", "event"} <= set(events[0])

    def test_explain_lists_the_events_behind_a_record(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, out, _ = run(
            capsys,
            "explain",
            str(talks),
            "exchanges/UA/prisoners",
            "--at",
            "2025-08-01",
            "--json",
        )
        assert code == 0
        payload = json.loads(out)
        assert [e["id"] for e in payload["events"]] == [
            "2025-05-late-swap-1000-for-1000",
            "2025-07-23-prisoner-swap",
        ]
        assert payload["record"]["count"] == 1000
        assert payload["sources"]

    def test_explain_of_nothing_is_a_domain_error(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(
            capsys, "explain", str(talks), "proposals/nope", "--at", "2025-08-01"
        )
        assert code == 1
        assert "holds nothing at 'proposals/nope'" in err


class TestExportImport:
    """Exports in jsonl, csv and PLOVER read back to the same events."""

    def events_of(self, path: Path) -> list[ns.Event]:
        with ns.open_log(path, create=False) as log:
            return list(log.events())

    @pytest.mark.parametrize(
        ("fmt", "reader"), [("jsonl", "add"), ("csv", "import"), ("plover", "import")]
    )
    def test_round_trip_gives_the_same_events(
        self,
        fmt: str,
        reader: str,
        talks: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        exported = tmp_path / f"events.{fmt}"
        code, _, err = run(
            capsys, "export", str(talks), "--format", fmt, "--out", str(exported)
        )
        assert code == 0
        assert "wrote 67 event(s)" in err
        copy = tmp_path / "copy.jsonl"
        run(capsys, "init", str(copy))
        args = [reader, str(copy), str(exported)]
        if reader == "import":
            args += ["--format", fmt]
        code, _, err = run(capsys, *args)
        assert code == 0, err
        assert self.events_of(copy) == self.events_of(talks)

    def test_positions_csv_has_a_row_per_party_issue_and_day(
        self, talks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "positions.csv"
        code, _, _ = run(
            capsys,
            "export",
            str(talks),
            "--format",
            "csv",
            "--positions",
            "--days",
            "2025-06-01,2025-08-01",
            "--out",
            str(out),
        )
        assert code == 0
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        days = {row["day"] for row in rows}
        assert days == {"2025-06-01", "2025-08-01"}
        august = {(r["party"], r["issue"]): r for r in rows if r["day"] == "2025-08-01"}
        assert august["UA", "ceasefire"]["stance"] == "demands"

    def test_positions_need_csv(
        self, talks: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(
            capsys, "export", str(talks), "--format", "jsonl", "--positions"
        )
        assert code == 2
        assert "--positions goes with --format csv" in err

    def test_plover_import_lists_records_it_cannot_map(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        records = [
            {
                "id": "call-1",
                "date": "2025-05-19",
                "source": [{"code": "USA", "actor_text": "US"}],
                "recipient": [{"code": "RUS", "actor_text": "RU"}],
                "event": ["CONSULT"],
                "mode": ["phone"],
                "cite_info": {"title": "Trump and Putin talk", "publication": "Wire"},
            },
            {
                "id": "threat-1",
                "date": "2025-07-14",
                "source": [{"code": "USA"}],
                "event": ["THREATEN"],
                "cite_info": {"title": "An ultimatum"},
            },
        ]
        path = tmp_path / "plover.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
        code, out, err = run(
            capsys, "import", str(log), str(path), "--format", "plover"
        )
        assert code == 1
        assert "added 1 event(s)" in out
        assert "record 2 (line 2): PLOVER THREATEN cannot be rebuilt" in err
        assert "record 3 (line 3): bad JSON" in err
        meeting = self.events_of(log)[0]
        assert isinstance(meeting, ns.MeetingHeld)
        assert meeting.participants == ("US", "RU")
        assert meeting.medium == "phone"


REGISTRY_MODULE = '''
from __future__ import annotations

import attrs

import negstate as ns


@attrs.frozen(kw_only=True)
class SummitCancelled(ns.Event):
    """A summit is called off."""

    by: str


def cancel(draft: ns.StateDraft, event: SummitCancelled) -> None:
    draft.collection("cancelled")[event.id] = event.by


REGISTRY = ns.BUILTIN_EVENTS.with_event(SummitCancelled, cancel)
'''


class TestRegistry:
    """--registry MODULE:ATTR brings user-defined event types to every command."""

    def test_user_defined_events_are_added_and_listed(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        (tmp_path / "summit_types.py").write_text(REGISTRY_MODULE, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        monkeypatch.delitem(sys.modules, "summit_types", raising=False)
        log = tmp_path / "log.jsonl"
        run(capsys, "init", str(log))
        event = {
            "type": "SummitCancelled",
            "id": "c1",
            "occurred": "2025-06-01",
            "sources": [{"title": "Called off"}],
            "by": "RU",
        }
        (tmp_path / "e.json").write_text(json.dumps(event), encoding="utf-8")
        plain = run(capsys, "add", str(log), str(tmp_path / "e.json"))
        assert plain[0] == 1
        assert "unknown event type 'SummitCancelled'" in plain[2]
        registry = ["--registry", "summit_types:REGISTRY"]
        code, _, err = run(capsys, *registry, "add", str(log), str(tmp_path / "e.json"))
        assert code == 0, err
        code, out, _ = run(capsys, *registry, "timeline", str(log), "--json")
        assert json.loads(out)["events"][0]["type"] == "SummitCancelled"

    def test_a_registry_that_cannot_be_loaded_is_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, err = run(
            capsys,
            "--registry",
            "no_such_module_xyz:R",
            "timeline",
            str(tmp_path / "x"),
        )
        assert code == 1
        assert err.startswith("negstate: --registry: cannot import module")
        assert err.count("\n") == 1


class TestSubprocess:
    """python -m negstate runs every command with the right exit codes."""

    @pytest.mark.parametrize(
        ("argv", "expected"),
        [
            (["verify", "{log}"], "hash chain intact"),
            (["state", "{log}", "--at", "2025-07-01"], "Positions"),
            (
                ["diff", "{log}", "--from", "2025-06-01", "--to", "2025-07-01"],
                "change(s)",
            ),
            (
                ["timeline", "{log}", "--party", "TR"],
                "turkey-organizing-leaders-meeting",
            ),
            (
                ["explain", "{log}", "positions/UA/ceasefire", "--at", "2025-07-01"],
                "Sources",
            ),
            (["export", "{log}", "--format", "csv"], "id,type,occurred"),
            (["export", "{log}", "--format", "plover"], '"event": ["CONSULT"]'),
            (["report", "{log}", "--out", "{dir}/r.html"], "wrote the report"),
            (["plot", "{log}", "--out", "{dir}/t.png"], "wrote the chart"),
            (["init", "{dir}/new.jsonl"], "created an empty negstate log"),
        ],
    )
    def test_commands_succeed(
        self, argv: list[str], expected: str, talks: Path
    ) -> None:
        filled = [a.format(log=talks, dir=talks.parent) for a in argv]
        done = run_module(*filled, cwd=talks.parent)
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout

    def test_import_succeeds(self, talks: Path) -> None:
        exported = run_module("export", str(talks), "--format", "csv", cwd=talks.parent)
        (talks.parent / "e.csv").write_text(exported.stdout, encoding="utf-8")
        run_module("init", "copy.jsonl", cwd=talks.parent)
        done = run_module(
            "import", "copy.jsonl", "e.csv", "--format", "csv", cwd=talks.parent
        )
        assert done.returncode == 0, done.stderr
        assert "added 67 event(s)" in done.stdout

    def test_domain_error_exits_1_with_one_line_and_no_traceback(
        self, talks: Path
    ) -> None:
        done = run_module("state", str(talks), "--at", "2025-02-30", cwd=talks.parent)
        assert done.returncode == 1
        assert done.stderr.startswith(
            "negstate: --at: '2025-02-30' is not a calendar day"
        )
        assert done.stderr.count("\n") == 1

    def test_usage_error_exits_2(self, talks: Path) -> None:
        done = run_module("state", str(talks), "--reading", "maybe", cwd=talks.parent)
        assert done.returncode == 2
        assert "invalid choice: 'maybe'" in done.stderr


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class TestColour:
    """Colour appears on a terminal only, and never with NO_COLOR set."""

    def run_on_terminal(self, talks: Path, monkeypatch: pytest.MonkeyPatch) -> str:
        screen = _Terminal()
        monkeypatch.setattr(sys, "stdout", screen)
        assert main(["state", str(talks), "--at", "2025-06-10"]) == 0
        return screen.getvalue()

    def test_a_terminal_gets_colour(
        self, talks: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("NO_COLOR", raising=False)
        out = self.run_on_terminal(talks, monkeypatch)
        assert "\x1b[31mrejected" in out
        assert "\x1b[1m" in out

    def test_no_color_turns_it_off(
        self, talks: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        assert "\x1b[" not in self.run_on_terminal(talks, monkeypatch)
