"""Realistic synthetic negotiation logs for benchmarks, deterministic from a seed.

Many negotiations run side by side over ten years, each between a few of 30
parties on a few of 25 issues: positions, proposals and their answers, counters,
withdrawals, swaps under agreements, proposed and held meetings, deadlines and
claimed figures.  Dates are mostly exact days, with months, parts of months, spans
and open starts mixed in.  Reports are recorded out of order: a share of events is
recorded later than events that happened after them, as late reports are.

``python benchmarks/synthetic.py --events 100000 --out log.jsonl`` writes a log.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import attrs

import negstate as ns

PARTIES = tuple(f"P{n:02d}" for n in range(30))
ISSUES = tuple(f"issue_{n:02d}" for n in range(25))
CATEGORIES = ("prisoners_of_war", "civilians", "bodies", "children")
START = date(2015, 1, 1)
DAYS = 3650


@attrs.define
class _Negotiation:
    """One negotiation's simulated rules state."""

    number: int
    parties: tuple[str, ...]
    issues: tuple[str, ...]
    sources: tuple[ns.Source, ...]
    day: int
    open_proposals: dict[str, tuple[str, tuple[str, ...], int]] = attrs.field(factory=dict)
    open_meetings: dict[str, tuple[str, tuple[str, ...], int]] = attrs.field(factory=dict)
    agreements: list[tuple[str, int]] = attrs.field(factory=list)
    deadlines: list[str] = attrs.field(factory=list)
    count: int = 0


class Generator:
    """Draws valid events for many negotiations at once."""

    def __init__(self, seed: int, negotiations: int) -> None:
        self.rng = random.Random(seed)
        self.talks = [self._negotiation(n) for n in range(negotiations)]

    def _negotiation(self, number: int) -> _Negotiation:
        rng = self.rng
        parties = tuple(rng.sample(PARTIES, rng.randint(2, 4)))
        sources = tuple(
            ns.Source(
                title=f"Report {number}-{k} on the talks",
                outlet=rng.choice(["Wire A", "Wire B", "Daily C", None]),
                published=START + timedelta(days=rng.randrange(DAYS)),
            )
            for k in range(40)
        )
        return _Negotiation(
            number=number,
            parties=parties,
            issues=tuple(rng.sample(ISSUES, rng.randint(3, 6))),
            sources=sources,
            day=rng.randrange(DAYS // 4),
        )

    def _when(self, talks: _Negotiation, after: int | None = None) -> tuple[ns.FuzzyDate, int]:
        """A date around the negotiation's clock; strictly after ``after`` if given."""
        rng = self.rng
        talks.day += rng.choice((0, 0, 1, 1, 2, 3, 5))
        if after is not None:
            talks.day = max(talks.day, after + 1)
        base = START + timedelta(days=talks.day)
        roll = rng.random()
        if after is not None or roll < 0.75:
            when = ns.FuzzyDate(base, base)
        elif roll < 0.85:
            when = ns.FuzzyDate(base - timedelta(days=rng.randint(1, 9)), base)
        elif roll < 0.93:
            when = ns.FuzzyDate.part_of_month(base.year, base.month, rng.choice(["early", "mid", "late"]))
            talks.day = max(talks.day, (when.latest - START).days)  # type: ignore[operator]
        else:
            when = ns.FuzzyDate(None, base)
        return when, talks.day

    def _id(self, talks: _Negotiation, kind: str) -> str:
        talks.count += 1
        return f"n{talks.number}-{kind}-{talks.count}"

    def event(self) -> ns.Event:  # noqa: C901, PLR0911, PLR0912 - one branch per event type
        """The next event of a randomly chosen negotiation."""
        rng = self.rng
        talks = rng.choice(self.talks)
        source = (rng.choice(talks.sources),)
        roll = rng.random()
        party = rng.choice(talks.parties)
        issue = rng.choice(talks.issues)
        if roll < 0.25:
            when, _ = self._when(talks)
            return ns.PositionStated(
                id=self._id(talks, "position"),
                occurred=when,
                sources=source,
                party=party,
                issue=issue,
                stance=rng.choice(list(ns.Stance)),
                terms=ns.Terms(scope=("land",), duration_days=ns.Quantity.exactly(rng.choice((2, 3, 30)))),
                text="stated at a briefing",
                claimed_by=None if rng.random() < 0.8 else rng.choice(talks.parties),
            )
        if roll < 0.40 or not talks.open_proposals:
            others = tuple(p for p in talks.parties if p != party)
            addressees = tuple(rng.sample(others, rng.randint(1, len(others))))
            counters = None
            if talks.open_proposals and rng.random() < 0.2:
                candidate = rng.choice(list(talks.open_proposals))
                proposer, invited, last = talks.open_proposals[candidate]
                if party in invited:
                    counters = candidate
                    talks.open_proposals[candidate] = (proposer, invited, last)
            after = talks.open_proposals[counters][2] if counters else None
            when, day = self._when(talks, after)
            event_id = self._id(talks, "proposal")
            if counters:
                proposer, invited, _ = talks.open_proposals[counters]
                talks.open_proposals[counters] = (proposer, invited, day)
            talks.open_proposals[event_id] = (party, addressees, day)
            return ns.ProposalMade(
                id=event_id,
                occurred=when,
                sources=source,
                proposer=party,
                addressees=addressees,
                issue=issue,
                terms=ns.Terms(scope=("land", "sea"), duration_days=ns.Quantity(at_least=rng.randint(1, 60))),
                counters=counters,
            )
        if roll < 0.58:
            target = rng.choice(list(talks.open_proposals))
            proposer, invited, last = talks.open_proposals[target]
            when, day = self._when(talks, last)
            talks.open_proposals[target] = (proposer, invited, day)
            by = rng.choice(invited)
            if rng.random() < 0.04:
                del talks.open_proposals[target]
                return ns.ProposalWithdrawn(
                    id=self._id(talks, "withdrawal"), occurred=when, sources=source, proposal=target, by=proposer
                )
            if rng.random() < 0.5:
                if len(talks.open_proposals) > 30:
                    del talks.open_proposals[target]
                return ns.ProposalRejected(
                    id=self._id(talks, "rejection"), occurred=when, sources=source, proposal=target, by=by,
                    reason="an ultimatum",
                )
            del talks.open_proposals[target]
            return ns.ProposalAccepted(
                id=self._id(talks, "acceptance"), occurred=when, sources=source, proposal=target, by=by
            )
        if roll < 0.70:
            agreement, agreed_on = None, None
            if talks.agreements and rng.random() < 0.5:
                agreement, agreed_on = rng.choice(talks.agreements)
            when, _ = self._when(talks, agreed_on)
            sides = rng.sample(talks.parties, 2)
            return ns.SwapCompleted(
                id=self._id(talks, "swap"),
                occurred=when,
                sources=source,
                releases=tuple(
                    ns.Release(
                        by=side,
                        category=rng.choice(CATEGORIES),
                        count=None if rng.random() < 0.1 else rng.randint(1, 1200),
                    )
                    for side in sides
                ),
                agreement=agreement,
            )
        if roll < 0.76:
            when, day = self._when(talks)
            event_id = self._id(talks, "meeting-proposal")
            participants = tuple(rng.sample(talks.parties, 2))
            proposer = rng.choice(talks.parties)
            talks.open_meetings[event_id] = (proposer, participants, day)
            if len(talks.open_meetings) > 10:
                talks.open_meetings.pop(next(iter(talks.open_meetings)))
            return ns.MeetingProposed(
                id=event_id,
                occurred=when,
                sources=source,
                proposer=proposer,
                participants=participants,
                level=rng.choice(["leaders", "delegations"]),
                place="Istanbul",
                window=ns.FuzzyDate(START + timedelta(days=day), START + timedelta(days=day + 60)),
            )
        if roll < 0.84:
            fulfils = None
            after = None
            if talks.open_meetings and rng.random() < 0.3:
                fulfils = rng.choice(list(talks.open_meetings))
                after = talks.open_meetings.pop(fulfils)[2]
            when, _ = self._when(talks, after)
            return ns.MeetingHeld(
                id=self._id(talks, "meeting"),
                occurred=when,
                sources=source,
                participants=tuple(rng.sample(talks.parties, 2)),
                level="delegations",
                place="Geneva",
                duration_minutes=ns.Quantity(at_least=rng.randint(30, 600)),
                outcome="talks continue",
                proposal=fulfils,
            )
        if roll < 0.89:
            when, day = self._when(talks)
            event_id = self._id(talks, "agreement")
            talks.agreements.append((event_id, day))
            if len(talks.agreements) > 20:
                talks.agreements.pop(0)
            return ns.AgreementReached(
                id=event_id,
                occurred=when,
                sources=source,
                parties=tuple(rng.sample(talks.parties, 2)),
                issue=issue,
                terms=ns.Terms(quantity=ns.Quantity(at_most=rng.randint(100, 1200))),
            )
        if roll < 0.93:
            when, day = self._when(talks)
            by = party
            return ns.DeadlineSet(
                id=self._id(talks, "deadline"),
                occurred=when,
                sources=source,
                by=by,
                against=tuple(p for p in talks.parties if p != by)[:1],
                expires=ns.FuzzyDate.of(START + timedelta(days=day + rng.randint(10, 90))),
                demand="a ceasefire",
                consequence="sanctions",
            )
        when, _ = self._when(talks)
        return ns.FigureReported(
            id=self._id(talks, "figure"),
            occurred=when,
            sources=source,
            subject=f"n{talks.number}/{rng.choice(CATEGORIES)}/held",
            value=ns.Quantity(at_least=rng.randint(10, 20000)),
            claimed_by=party,
        )


def synthetic_events(count: int, seed: int = 2025, negotiations: int | None = None) -> list[ns.Event]:
    """``count`` valid events in recording order (late reports included)."""
    generator = Generator(seed, negotiations or max(4, count // 2000))
    events = [generator.event() for _ in range(count)]
    return _record_late(events, random.Random(seed + 1))


def _record_late(events: list[ns.Event], rng: random.Random) -> list[ns.Event]:
    """Move one event in ten that nothing refers to to a later recording position."""
    referenced = {target for event in events for target in event.references}
    kept: list[ns.Event] = []
    late: list[tuple[int, ns.Event]] = []
    for index, event in enumerate(events):
        if event.id not in referenced and not event.references and rng.random() < 0.1:
            late.append((index + rng.randint(1, 5000), event))
        else:
            kept.append(event)
    late.sort(key=lambda pair: pair[0])
    merged: list[ns.Event] = []
    position = 0
    for index, event in enumerate(kept):
        while position < len(late) and late[position][0] <= index:
            merged.append(late[position][1])
            position += 1
        merged.append(event)
    merged.extend(event for _, event in late[position:])
    return merged


def batches(events: list[ns.Event], size: int = 5000) -> Iterator[list[ns.Event]]:
    """``events`` in slices of ``size``."""
    for start in range(0, len(events), size):
        yield events[start : start + size]


def main() -> None:
    """Write a synthetic log of ``--events`` events to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    started = time.perf_counter()
    events = synthetic_events(options.events, options.seed)
    with ns.open_log(options.out, fsync=False) as log:
        for batch in batches(events):
            log.append_many(batch)
        log.sync()
    print(f"{len(events):,} events -> {options.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
