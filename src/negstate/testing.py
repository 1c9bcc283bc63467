"""Trials that prove a log backend safe: crashes, tampering, concurrent writers.

negstate's own tests and its reliability script use these; a user who writes a
:class:`~negstate.log.Storage` of their own can run the same trials on it.  Each
trial works on a log file path (``.jsonl`` or ``.sqlite``) and returns what it saw.

Run as ``python -m negstate.testing crash|concurrent ...``, this module is also the
child process the trials start.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import attrs

from negstate.errors import ConcurrencyError, NegstateError, TornTailWarning
from negstate.events import Event, PositionStated
from negstate.log import open_log, verify_log
from negstate.values import Source, Stance

__all__ = [
    "CrashOutcome",
    "TamperOutcome",
    "concurrent_trial",
    "crash_trial",
    "tamper_trial",
    "trial_event",
]

_SOURCE = Source(title="Reliability trial", outlet="negstate")


def trial_event(event_id: str, day: int = 1) -> Event:
    """A small, always-valid event for trials (a stated position)."""
    return PositionStated(
        id=event_id,
        occurred=f"2025-01-{1 + day % 28:02d}",
        sources=_SOURCE,
        party="UA",
        issue="ceasefire",
        stance=Stance.SUPPORTS,
        text=f"trial statement {event_id}",
    )


# -- crashes ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CrashOutcome:
    """What one crash trial saw."""

    acknowledged: int
    """Appends that had returned before the kill."""
    lost: tuple[str, ...]
    """Acknowledged event ids missing after reopening (must be empty)."""
    verified: bool
    """Whether the reopened log passed ``verify()``."""
    repaired: bool
    """Whether reopening moved a torn tail aside."""
    problem: str = ""


def crash_trial(path: Path, *, rng: random.Random, prefix: str) -> CrashOutcome:
    """Kill a writer at a random moment and check its acknowledged appends survived.

    A child appends to ``path`` in a loop and is sent SIGKILL; the log is then
    reopened and verified.
    """
    child = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "negstate.testing", "crash", str(path), prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None  # noqa: S101 - stdout=PIPE
    ready = child.stdout.readline()
    if ready.strip() != "ready":
        child.kill()
        _, errors = child.communicate()
        ready = f"{ready!r}; {errors.strip()[-500:]}"
        return CrashOutcome(
            acknowledged=0,
            lost=(),
            verified=False,
            repaired=False,
            problem=f"child failed to start: {ready}",
        )
    time.sleep(rng.uniform(0.0, 0.25))
    child.send_signal(signal.SIGKILL)
    output, _ = child.communicate()
    acknowledged = [line for line in output.splitlines() if line and line != "ready"]
    repaired = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open_log(path) as log:
                present = {record.event.id for record in log}
                report = log.verify()
        repaired = any(issubclass(w.category, TornTailWarning) for w in caught)
    except NegstateError as error:
        return CrashOutcome(
            acknowledged=len(acknowledged),
            lost=tuple(acknowledged),
            verified=False,
            repaired=repaired,
            problem=str(error),
        )
    lost = tuple(event_id for event_id in acknowledged if event_id not in present)
    return CrashOutcome(
        acknowledged=len(acknowledged),
        lost=lost,
        verified=report.ok,
        repaired=repaired,
        problem="" if report.ok else str(report.problem),
    )


def _crash_child(path: str, prefix: str) -> None:
    """Append single events and small batches forever, printing each acknowledged id."""
    with open_log(path) as log:
        print("ready", flush=True)  # noqa: T201 - the parent reads this
        number = 0
        while True:
            size = 1 if number % 3 else 4
            batch = [
                trial_event(f"{prefix}-{number + i}", number + i) for i in range(size)
            ]
            log.append_many(batch)
            for event in batch:
                print(event.id, flush=True)  # noqa: T201 - acknowledgements
            number += size


# -- tampering ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TamperOutcome:
    """What one tamper trial did and whether verify noticed."""

    mutation: str
    detected: bool
    report: str


_MUTATIONS = ("flip", "delete", "duplicate", "swap", "truncate", "insert")


def _mutate_lines(content: bytes, rng: random.Random) -> tuple[str, bytes]:
    lines = content.splitlines(keepends=True)
    header, records = lines[:1], lines[1:]
    mutation = rng.choice(
        _MUTATIONS if len(records) > 1 else ("flip", "delete", "truncate")
    )
    if mutation == "flip":
        index = rng.randrange(len(content))
        bit = 1 << rng.randrange(8)
        changed = bytearray(content)
        changed[index] ^= bit
        return f"flip bit {bit} of byte {index}", bytes(changed)
    if mutation == "delete":
        index = rng.randrange(len(records))
        del records[index]
        return f"delete record line {index + 2}", b"".join(header + records)
    if mutation == "duplicate":
        index = rng.randrange(len(records))
        records.insert(rng.randrange(len(records) + 1), records[index])
        return f"duplicate record line {index + 2}", b"".join(header + records)
    if mutation == "swap":
        first, second = rng.sample(range(len(records)), 2)
        records[first], records[second] = records[second], records[first]
        return f"swap lines {first + 2} and {second + 2}", b"".join(header + records)
    if mutation == "truncate":
        cut = rng.randrange(len(header[0]), len(content))
        return f"truncate at byte {cut}", content[:cut]
    position = rng.randrange(len(content) + 1)
    garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
    return f"insert {len(garbage)} byte(s) at {position}", (
        content[:position] + garbage + content[position:]
    )


def _mutate_sqlite(path: Path, rng: random.Random) -> str:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, hash, body FROM records ORDER BY seq").fetchall()
        choices = (
            ["flip", "delete", "swap", "hash"] if len(rows) > 1 else ["flip", "hash"]
        )
        mutation = rng.choice(choices)
        seq, digest, body = rng.choice(rows)
        if mutation == "flip":
            index = rng.randrange(len(body))
            flipped = chr(ord(body[index]) ^ (1 << rng.randrange(5)))
            db.execute(
                "UPDATE records SET body = ? WHERE seq = ?",
                (body[:index] + flipped + body[index + 1 :], seq),
            )
            return f"flip a character of record {seq}'s body"
        if mutation == "hash":
            index = rng.randrange(len(digest))
            other = "0" if digest[index] != "0" else "1"
            db.execute(
                "UPDATE records SET hash = ? WHERE seq = ?",
                (digest[:index] + other + digest[index + 1 :], seq),
            )
            return f"change record {seq}'s hash"
        if mutation == "delete":
            db.execute("DELETE FROM records WHERE seq = ?", (seq,))
            return f"delete record {seq}"
        (other_seq, _, other_body) = rng.choice([row for row in rows if row[0] != seq])
        db.execute(
            "UPDATE records SET event_id = event_id || '~' WHERE seq = ?", (seq,)
        )
        db.execute("UPDATE records SET body = ? WHERE seq = ?", (other_body, seq))
        db.execute("UPDATE records SET body = ? WHERE seq = ?", (body, other_seq))
        return f"swap the bodies of records {seq} and {other_seq}"


def tamper_trial(pristine: Path, *, rng: random.Random) -> TamperOutcome:
    """Change a copy of a log at random and run ``verify_log`` on the copy.

    Mutations flip a bit, delete, duplicate, swap or cut lines and insert bytes; for
    SQLite they edit rows.
    """
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / pristine.name
        if pristine.suffix == ".jsonl":
            head = pristine.with_name(f"{pristine.name}.head")
            if head.exists():
                shutil.copyfile(head, target.with_name(f"{target.name}.head"))
            content = pristine.read_bytes()
            mutation, changed = _mutate_lines(content, rng)
            while changed == content:
                mutation, changed = _mutate_lines(content, rng)
            target.write_bytes(changed)
        else:
            shutil.copyfile(pristine, target)
            mutation = _mutate_sqlite(target, rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TornTailWarning)
                report = verify_log(target)
            detected, text = not report.ok, str(report)
        except NegstateError as error:
            detected, text = True, str(error)
    return TamperOutcome(mutation=mutation, detected=detected, report=text)


# -- concurrent writers ---------------------------------------------------------------


def concurrent_trial(path: Path, *, processes: int, appends: int) -> list[int]:
    """Run concurrent writers; return the sequence numbers stored.

    ``processes`` children each make ``appends`` appends with ``expected_seq`` and
    retry on conflict.
    """
    children = [
        subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "negstate.testing",
                "concurrent",
                str(path),
                f"writer{number}",
                str(appends),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(processes)
    ]
    for child in children:
        _, errors = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a writer failed: {errors[-2000:]}")
    with open_log(path) as log:
        return [record.seq for record in log]


def _concurrent_child(path: str, prefix: str, appends: int) -> None:
    with open_log(path) as log:
        for number in range(appends):
            event = trial_event(f"{prefix}-{number}", number)
            while True:
                log.refresh()
                try:
                    log.append(event, expected_seq=log.last_seq)
                    break
                except ConcurrencyError:
                    continue


def _main(arguments: Sequence[str]) -> None:
    command, path, prefix, *rest = arguments
    if command == "crash":
        _crash_child(path, prefix)
    elif command == "concurrent":
        _concurrent_child(path, prefix, int(rest[0]))
    else:
        raise SystemExit(f"unknown trial {command!r}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    _main(sys.argv[1:])
