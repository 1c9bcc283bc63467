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
from typing import Any, Final

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
    open_proposals: dict[str, tuple[str, tuple[str, ...], int]] = attrs.field(
        factory=dict
    )
    open_meetings: dict[str, tuple[str, tuple[str, ...], int]] = attrs.field(
        factory=dict
    )
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

    def _when(
        self, talks: _Negotiation, after: int | None = None
    ) -> tuple[ns.FuzzyDate, int]:
        """A date around the negotiation's clock; strictly after ``after`` if given."""
        rng = self.rng
        talks.day += rng.choice((0, 0, 1, 1, 2, 3, 5))
        if after is not None:
            talks.day = max(talks.day, after + 1)
        base = START + timedelta(days=talks.day)
        shape = "day" if after is not None else rng.choices(_SHAPES, _SHAPE_WEIGHTS)[0]
        if shape == "day":
            when = ns.FuzzyDate(base, base)
        elif shape == "span":
            when = ns.FuzzyDate(base - timedelta(days=rng.randint(1, 9)), base)
        elif shape == "part":
            part = rng.choice(["early", "mid", "late"])
            when = ns.FuzzyDate.part_of_month(base.year, base.month, part)
            talks.day = max(talks.day, when.last_ordinal - START.toordinal())
        else:
            when = ns.FuzzyDate(None, base)
        return when, talks.day

    def _id(self, talks: _Negotiation, kind: str) -> str:
        talks.count += 1
        return f"n{talks.number}-{kind}-{talks.count}"

    def event(self) -> ns.Event:
        """The next event of a randomly chosen negotiation."""
        talks = self.rng.choice(self.talks)
        kind = self.rng.choices(_KINDS, _WEIGHTS)[0]
        if kind in {"answer", "withdrawal"} and not talks.open_proposals:
            kind = "proposal"
        step: Any = getattr(self, f"_{kind}")
        event: ns.Event = step(talks, (self.rng.choice(talks.sources),))
        return event

    def _position(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        when, _ = self._when(talks)
        return ns.PositionStated(
            id=self._id(talks, "position"),
            occurred=when,
            sources=source,
            party=rng.choice(talks.parties),
            issue=rng.choice(talks.issues),
            stance=rng.choice(list(ns.Stance)),
            terms=ns.Terms(
                scope=("land",),
                duration_days=ns.Quantity.exactly(rng.choice((2, 3, 30))),
            ),
            text="stated at a briefing",
            claimed_by=rng.choice((None, None, None, None, rng.choice(talks.parties))),
        )

    def _proposal(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        party = rng.choice(talks.parties)
        others = tuple(p for p in talks.parties if p != party)
        addressees = tuple(rng.sample(others, rng.randint(1, len(others))))
        counters = None
        if talks.open_proposals and rng.random() < COUNTER_SHARE:
            candidate = rng.choice(list(talks.open_proposals))
            if party in talks.open_proposals[candidate][1]:
                counters = candidate
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
            issue=rng.choice(talks.issues),
            terms=ns.Terms(
                scope=("land", "sea"),
                duration_days=ns.Quantity(at_least=rng.randint(1, 60)),
            ),
            counters=counters,
        )

    def _answer(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        target = rng.choice(list(talks.open_proposals))
        proposer, invited, last = talks.open_proposals[target]
        when, day = self._when(talks, last)
        talks.open_proposals[target] = (proposer, invited, day)
        by = rng.choice(invited)
        if rng.random() < REJECT_SHARE:
            if len(talks.open_proposals) > OPEN_PROPOSALS:
                del talks.open_proposals[target]
            return ns.ProposalRejected(
                id=self._id(talks, "rejection"),
                occurred=when,
                sources=source,
                proposal=target,
                by=by,
                reason="an ultimatum",
            )
        del talks.open_proposals[target]
        return ns.ProposalAccepted(
            id=self._id(talks, "acceptance"),
            occurred=when,
            sources=source,
            proposal=target,
            by=by,
        )

    def _withdrawal(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        target = self.rng.choice(list(talks.open_proposals))
        proposer, _, last = talks.open_proposals.pop(target)
        when, _ = self._when(talks, last)
        return ns.ProposalWithdrawn(
            id=self._id(talks, "withdrawal"),
            occurred=when,
            sources=source,
            proposal=target,
            by=proposer,
        )

    def _swap(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        agreement, agreed_on = None, None
        if talks.agreements and rng.random() < SWAPS_UNDER_AGREEMENT:
            agreement, agreed_on = rng.choice(talks.agreements)
        when, _ = self._when(talks, agreed_on)
        return ns.SwapCompleted(
            id=self._id(talks, "swap"),
            occurred=when,
            sources=source,
            releases=tuple(
                ns.Release(
                    by=side,
                    category=rng.choice(CATEGORIES),
                    count=None
                    if rng.random() < UNREPORTED_SHARE
                    else rng.randint(1, 1200),
                )
                for side in rng.sample(talks.parties, 2)
            ),
            agreement=agreement,
        )

    def _meeting_proposal(
        self, talks: _Negotiation, source: tuple[ns.Source]
    ) -> ns.Event:
        rng = self.rng
        when, day = self._when(talks)
        event_id = self._id(talks, "meeting-proposal")
        participants = tuple(rng.sample(talks.parties, 2))
        proposer = rng.choice(talks.parties)
        talks.open_meetings[event_id] = (proposer, participants, day)
        if len(talks.open_meetings) > OPEN_MEETINGS:
            talks.open_meetings.pop(next(iter(talks.open_meetings)))
        return ns.MeetingProposed(
            id=event_id,
            occurred=when,
            sources=source,
            proposer=proposer,
            participants=participants,
            level=rng.choice(["leaders", "delegations"]),
            place="Istanbul",
            window=ns.FuzzyDate(
                START + timedelta(days=day), START + timedelta(days=day + 60)
            ),
        )

    def _meeting(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        fulfils, after = None, None
        if talks.open_meetings and rng.random() < MEETINGS_PROPOSED_FIRST:
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

    def _agreement(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        when, day = self._when(talks)
        event_id = self._id(talks, "agreement")
        talks.agreements.append((event_id, day))
        if len(talks.agreements) > OPEN_AGREEMENTS:
            talks.agreements.pop(0)
        return ns.AgreementReached(
            id=event_id,
            occurred=when,
            sources=source,
            parties=tuple(rng.sample(talks.parties, 2)),
            issue=rng.choice(talks.issues),
            terms=ns.Terms(quantity=ns.Quantity(at_most=rng.randint(100, 1200))),
        )

    def _deadline(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        when, day = self._when(talks)
        by = rng.choice(talks.parties)
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

    def _figure(self, talks: _Negotiation, source: tuple[ns.Source]) -> ns.Event:
        rng = self.rng
        when, _ = self._when(talks)
        return ns.FigureReported(
            id=self._id(talks, "figure"),
            occurred=when,
            sources=source,
            subject=f"n{talks.number}/{rng.choice(CATEGORIES)}/held",
            value=ns.Quantity(at_least=rng.randint(10, 20000)),
            claimed_by=rng.choice(talks.parties),
        )


DATE_SHAPES: Final = {"day": 75, "span": 10, "part": 8, "open start": 7}
"""How many dates in a hundred are exact days, spans, parts of months, open."""
_SHAPES = tuple(DATE_SHAPES)
_SHAPE_WEIGHTS = tuple(DATE_SHAPES.values())

MIX: Final = {
    "position": 25,
    "proposal": 15,
    "answer": 17,
    "withdrawal": 1,
    "swap": 12,
    "meeting_proposal": 6,
    "meeting": 8,
    "agreement": 5,
    "deadline": 4,
    "figure": 7,
}
"""How many events in a hundred are of each kind."""
_KINDS = tuple(MIX)
_WEIGHTS = tuple(MIX.values())
COUNTER_SHARE: Final = 0.2
REJECT_SHARE: Final = 0.5
SWAPS_UNDER_AGREEMENT: Final = 0.5
UNREPORTED_SHARE: Final = 0.1
MEETINGS_PROPOSED_FIRST: Final = 0.3
OPEN_PROPOSALS: Final = 30
OPEN_MEETINGS: Final = 10
OPEN_AGREEMENTS: Final = 20
LATE_SHARE: Final = 0.1
"""The share of events nothing refers to that are recorded late."""


def synthetic_events(
    count: int, seed: int = 2025, negotiations: int | None = None
) -> list[ns.Event]:
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
        late_report = rng.random() < LATE_SHARE
        if event.id not in referenced and not event.references and late_report:
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
    seconds = time.perf_counter() - started
    print(f"{len(events):,} events -> {options.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
