"""Hypothesis strategies shared by every test module.

``event_streams`` generates *valid* streams: it simulates the negotiation's rules
while it draws, so a stream always folds.  Every event that refers to a proposal or
a proposed meeting is dated strictly after everything that referred to it before,
so the valid-time order of those events agrees with the order the simulation
checked the rules in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st

import negstate as ns
from negstate.events import FigureReported
from negstate.explain import SECTIONS

PARTIES = ("UA", "RU", "US", "TR")
ISSUES = ("ceasefire", "prisoner_exchange", "territory")
CATEGORIES = ("prisoners_of_war", "civilians", "bodies")
FIRST_DAY = date(2025, 1, 1)
SOURCE = ns.Source(title="Generated report", outlet="Test Wire")
LATER = ns.Source(title="A later report", outlet="Other Wire")


def days() -> st.SearchStrategy[date]:
    """Days across a few years around the 2025 talks."""
    return st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def fuzzy_dates(draw: st.DrawFn) -> ns.FuzzyDate:  # noqa: PLR0911 - one return per kind
    """Any fuzzy date: a day, a month, a year, a part of a month, a span, open ends."""
    day = draw(days())
    kind = draw(
        st.sampled_from(["day", "month", "year", "part", "span", "before", "after"])
    )
    if kind == "day":
        return ns.FuzzyDate.of(day)
    if kind == "month":
        return ns.FuzzyDate.month(day.year, day.month)
    if kind == "year":
        return ns.FuzzyDate.year(day.year)
    if kind == "part":
        part = draw(st.sampled_from(["early", "mid", "late"]))
        return ns.FuzzyDate.part_of_month(day.year, day.month, part)
    if kind == "span":
        return ns.FuzzyDate(day, day + timedelta(days=draw(st.integers(0, 400))))
    if kind == "before":
        return ns.FuzzyDate.no_later_than(day)
    return ns.FuzzyDate.no_earlier_than(day)


def quantities() -> st.SearchStrategy[ns.Quantity]:
    """Exact figures, lower bounds, upper bounds and ranges."""
    figure = st.integers(0, 5000)
    return st.one_of(
        figure.map(ns.Quantity.exactly),
        figure.map(lambda n: ns.Quantity(at_least=n)),
        figure.map(lambda n: ns.Quantity(at_most=n)),
        st.tuples(figure, figure).map(lambda p: ns.Quantity(min(p), max(p))),
    )


def terms() -> st.SearchStrategy[ns.Terms]:
    """Terms with a scope, perhaps a duration and a quantity."""
    return st.builds(
        ns.Terms,
        scope=st.lists(
            st.sampled_from(["land", "sea", "air"]), unique=True, max_size=3
        ),
        duration_days=st.none() | quantities(),
        quantity=st.none() | quantities(),
        text=st.sampled_from(["", "as proposed", "limited areas"]),
    )


@attrs.define
class _Target:
    """What the simulation knows about something events can refer to."""

    proposer: str
    addressees: tuple[str, ...]
    kind: str
    latest_reference: int
    accepted: set[str] = attrs.field(factory=set)
    closed: bool = False


@attrs.define
class _Simulation:
    """The rules, as far as the generator needs them to draw only valid events."""

    draw: st.DrawFn
    clock: int = 0
    count: int = 0
    events: list[ns.Event] = attrs.field(factory=list)
    targets: dict[str, _Target] = attrs.field(factory=dict)
    agreements: list[str] = attrs.field(factory=list)
    meetings_held: list[str] = attrs.field(factory=list)
    deadlines: dict[str, tuple[str, bool]] = attrs.field(factory=dict)

    def new_id(self, stem: str) -> str:
        self.count += 1
        return f"{stem}-{self.count}"

    def date_for(
        self, *, after: tuple[_Target, ...] = (), open_end: bool = False
    ) -> ns.FuzzyDate:
        """A date around the advancing clock; an event that refers to targets comes
        after their last reference, and only events nothing refers to may have an
        open end."""
        self.clock += self.draw(st.integers(0, 20))
        if after:
            self.clock = max(self.clock, *(t.latest_reference + 1 for t in after))
            start = FIRST_DAY + timedelta(days=self.clock)
            return ns.FuzzyDate(
                start, start + timedelta(days=self.draw(st.integers(0, 5)))
            )
        base = FIRST_DAY + timedelta(days=self.clock)
        kinds = ["day", "span", "before"] + (["after"] if open_end else [])
        kind = self.draw(st.sampled_from(kinds))
        if kind == "day":
            return ns.FuzzyDate.of(base)
        before = timedelta(days=self.draw(st.integers(0, 15)))
        after = timedelta(days=self.draw(st.integers(0, 15)))
        if kind == "span":
            return ns.FuzzyDate(base - before, base + after)
        if kind == "before":
            return ns.FuzzyDate.no_later_than(base + after)
        return ns.FuzzyDate.no_earlier_than(base - before)

    def refer(self, target_id: str, when: ns.FuzzyDate) -> None:
        target = self.targets[target_id]
        assert when.latest is not None
        target.latest_reference = max(
            target.latest_reference, (when.latest - FIRST_DAY).days
        )

    def latest_day(self, when: ns.FuzzyDate) -> int:
        assert when.latest is not None
        return (when.latest - FIRST_DAY).days

    def open_targets(self, kind: str) -> list[str]:
        return [
            key for key, t in self.targets.items() if t.kind == kind and not t.closed
        ]

    # -- one step per event type --------------------------------------------------

    def position(self) -> ns.Event:
        return ns.PositionStated(
            id=self.new_id("position"),
            occurred=self.date_for(open_end=True),
            sources=SOURCE,
            party=self.draw(st.sampled_from(PARTIES)),
            issue=self.draw(st.sampled_from(ISSUES)),
            stance=self.draw(st.sampled_from(list(ns.Stance))),
            terms=self.draw(terms()),
            text=self.draw(st.sampled_from(["", "stated at a briefing"])),
            claimed_by=self.draw(st.none() | st.sampled_from(PARTIES)),
        )

    def proposal(self) -> ns.Event:
        counters = supersedes = None
        choice = self.draw(st.sampled_from(["new", "counter", "supersede"]))
        open_proposals = self.open_targets("proposal")
        proposer = self.draw(st.sampled_from(PARTIES))
        if choice == "counter" and open_proposals:
            counters = self.draw(st.sampled_from(open_proposals))
            proposer = self.draw(st.sampled_from(self.targets[counters].addressees))
        elif choice == "supersede" and open_proposals:
            supersedes = self.draw(st.sampled_from(open_proposals))
            proposer = self.targets[supersedes].proposer
        others = [p for p in PARTIES if p != proposer]
        addressees = tuple(
            self.draw(
                st.lists(st.sampled_from(others), min_size=1, max_size=2, unique=True)
            )
        )
        when = self.date_for(
            after=tuple(
                self.targets[t] for t in (counters, supersedes) if t is not None
            )
        )
        event_id = self.new_id("proposal")
        if counters is not None:
            self.refer(counters, when)
        if supersedes is not None:
            self.refer(supersedes, when)
            self.targets[supersedes].closed = True
        self.targets[event_id] = _Target(
            proposer=proposer,
            addressees=addressees,
            kind="proposal",
            latest_reference=self.latest_day(when),
        )
        return ns.ProposalMade(
            id=event_id,
            occurred=when,
            sources=SOURCE,
            proposer=proposer,
            addressees=addressees,
            issue=self.draw(st.sampled_from(ISSUES)),
            terms=self.draw(terms()),
            counters=counters,
            supersedes=supersedes,
        )

    def answer(self) -> ns.Event | None:
        candidates = self.open_targets("proposal") + self.open_targets("meeting")
        if not candidates:
            return None
        target_id = self.draw(st.sampled_from(candidates))
        target = self.targets[target_id]
        by = self.draw(st.sampled_from(target.addressees))
        when = self.date_for(after=(target,))
        self.refer(target_id, when)
        if self.draw(st.booleans()):
            target.accepted.add(by)
            return ns.ProposalAccepted(
                id=self.new_id("accept"),
                occurred=when,
                sources=SOURCE,
                proposal=target_id,
                by=by,
            )
        target.accepted.discard(by)
        return ns.ProposalRejected(
            id=self.new_id("reject"),
            occurred=when,
            sources=SOURCE,
            proposal=target_id,
            by=by,
            reason=self.draw(st.sampled_from(["", "an ultimatum"])),
        )

    def withdrawal(self) -> ns.Event | None:
        candidates = [
            key
            for key in self.open_targets("proposal") + self.open_targets("meeting")
            if set(self.targets[key].addressees) != self.targets[key].accepted
            or self.targets[key].kind == "meeting"
        ]
        if not candidates:
            return None
        target_id = self.draw(st.sampled_from(candidates))
        target = self.targets[target_id]
        when = self.date_for(after=(target,))
        self.refer(target_id, when)
        target.closed = True
        return ns.ProposalWithdrawn(
            id=self.new_id("withdraw"),
            occurred=when,
            sources=SOURCE,
            proposal=target_id,
            by=target.proposer,
        )

    def swap(self) -> ns.Event:
        releases = self.draw(
            st.lists(
                st.builds(
                    ns.Release,
                    by=st.sampled_from(PARTIES),
                    category=st.sampled_from(CATEGORIES),
                    count=st.none() | st.integers(0, 1500),
                ),
                min_size=1,
                max_size=3,
            )
        )
        agreement = None
        if self.agreements and self.draw(st.booleans()):
            agreement = self.draw(st.sampled_from(self.agreements))
        return ns.SwapCompleted(
            id=self.new_id("swap"),
            occurred=self.date_for(),
            sources=SOURCE,
            releases=releases,
            agreement=agreement,
            claimed_by=self.draw(st.none() | st.sampled_from(PARTIES)),
        )

    def meeting_proposal(self) -> ns.Event:
        proposer = self.draw(st.sampled_from(PARTIES))
        participants = tuple(
            self.draw(
                st.lists(st.sampled_from(PARTIES), min_size=2, max_size=3, unique=True)
            )
        )
        if participants == (proposer,) or set(participants) == {proposer}:
            participants = (proposer, next(p for p in PARTIES if p != proposer))
        when = self.date_for()
        event_id = self.new_id("meeting-proposal")
        self.targets[event_id] = _Target(
            proposer=proposer,
            addressees=tuple(p for p in participants if p != proposer),
            kind="meeting",
            latest_reference=self.latest_day(when),
        )
        window = None
        if self.draw(st.booleans()):
            assert when.latest is not None
            window = ns.FuzzyDate(when.latest, when.latest + timedelta(days=30))
        return ns.MeetingProposed(
            id=event_id,
            occurred=when,
            sources=SOURCE,
            proposer=proposer,
            participants=participants,
            level=self.draw(st.sampled_from(["leaders", "delegations"])),
            place=self.draw(st.none() | st.just("Istanbul")),
            window=window,
        )

    def meeting(self) -> ns.Event:
        proposal = None
        candidates = self.open_targets("meeting")
        if candidates and self.draw(st.booleans()):
            proposal = self.draw(st.sampled_from(candidates))
        when = self.date_for(
            after=() if proposal is None else (self.targets[proposal],)
        )
        if proposal is not None:
            self.refer(proposal, when)
            self.targets[proposal].closed = True
        event_id = self.new_id("meeting")
        self.meetings_held.append(event_id)
        return ns.MeetingHeld(
            id=event_id,
            occurred=when,
            sources=SOURCE,
            participants=tuple(
                self.draw(
                    st.lists(
                        st.sampled_from(PARTIES), min_size=2, max_size=3, unique=True
                    )
                )
            ),
            level="delegations",
            place="Istanbul",
            duration_minutes=self.draw(st.none() | quantities()),
            proposal=proposal,
        )

    def agreement(self) -> ns.Event:
        proposal = meeting = None
        proposals = [k for k, t in self.targets.items() if t.kind == "proposal"]
        if proposals and self.draw(st.booleans()):
            proposal = self.draw(st.sampled_from(proposals))
        if self.meetings_held and self.draw(st.booleans()):
            meeting = self.draw(st.sampled_from(self.meetings_held))
        event_id = self.new_id("agreement")
        self.agreements.append(event_id)
        return ns.AgreementReached(
            id=event_id,
            occurred=self.date_for(),
            sources=SOURCE,
            parties=("UA", "RU"),
            issue=self.draw(st.sampled_from(ISSUES)),
            terms=self.draw(terms()),
            proposal=proposal,
            meeting=meeting,
        )

    def deadline(self) -> ns.Event:
        by = self.draw(st.sampled_from(PARTIES))
        replaceable = [
            k for k, (owner, done) in self.deadlines.items() if owner == by and not done
        ]
        replaces = None
        if replaceable and self.draw(st.booleans()):
            replaces = self.draw(st.sampled_from(replaceable))
            self.deadlines[replaces] = (by, True)
        when = self.date_for()
        assert when.latest is not None
        event_id = self.new_id("deadline")
        self.deadlines[event_id] = (by, False)
        return ns.DeadlineSet(
            id=event_id,
            occurred=when,
            sources=SOURCE,
            by=by,
            against=tuple(p for p in PARTIES if p != by)[:1],
            expires=ns.FuzzyDate.of(
                when.latest + timedelta(days=self.draw(st.integers(0, 60)))
            ),
            demand="a peace deal",
            consequence="sanctions",
            replaces=replaces,
        )

    def figure(self) -> ns.Event:
        return FigureReported(
            id=self.new_id("figure"),
            occurred=self.date_for(open_end=True),
            sources=SOURCE,
            subject=self.draw(st.sampled_from(["children/deported", "bodies/offered"])),
            value=self.draw(quantities()),
            claimed_by=self.draw(st.sampled_from(PARTIES)),
        )


_STEPS = (
    "position",
    "proposal",
    "answer",
    "withdrawal",
    "swap",
    "meeting_proposal",
    "meeting",
    "agreement",
    "deadline",
    "figure",
)


@st.composite
def event_streams(draw: st.DrawFn, max_size: int = 25) -> list[ns.Event]:
    """A valid stream of events, in the order the simulation produced them."""
    simulation = _Simulation(draw=draw)
    size = draw(st.integers(0, max_size))
    for _ in range(size):
        step: Any = getattr(simulation, draw(st.sampled_from(_STEPS)))
        event = step()
        if event is not None:
            simulation.events.append(event)
    return simulation.events


def revised_copy(event: ns.Event) -> ns.Event:
    """The same event with one substantive field changed, still valid."""
    if isinstance(event, ns.SwapCompleted):
        releases = tuple(
            attrs.evolve(r, count=(r.count or 0) + 12) for r in event.releases
        )
        return attrs.evolve(event, releases=releases, sources=(LATER,))
    if isinstance(event, ns.PositionStated):
        return attrs.evolve(event, stance=ns.Stance.UNDECIDED, text="revised")
    if isinstance(event, ns.FigureReported):
        return attrs.evolve(event, value=ns.Quantity(at_least=12))
    return attrs.evolve(event, note="corrected by a later report", sources=(LATER,))


@st.composite
def revised_streams(draw: st.DrawFn) -> list[ns.Event]:
    """A valid stream followed by revisions of it: corrections, retractions of
    events nothing refers to, and merges of a second report of an event."""
    events = draw(event_streams())
    if not events:
        return events
    referred = {target for event in events for target in event.references}
    revisions: list[ns.Event] = []
    for number in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(events))
        kind = draw(st.sampled_from(("correct", "retract", "merge")))
        if kind == "retract" and target.id in referred:
            kind = "correct"
        name = f"revision-{number}"
        if kind == "correct":
            revision: ns.Event = ns.EventCorrected(
                id=name,
                occurred="2026-01",
                sources=LATER,
                target=target.id,
                replacement=revised_copy(target),
            )
        elif kind == "retract":
            revision = ns.EventRetracted(
                id=name, occurred="2026-01", sources=LATER, target=target.id
            )
        else:
            duplicate = attrs.evolve(target, id=f"{name}-copy", sources=(LATER,))
            revisions.append(duplicate)
            revision = ns.EventsMerged(
                id=name,
                occurred="2026-01",
                sources=LATER,
                kept=target.id,
                duplicates=(duplicate.id,),
            )
        revisions.append(revision)
    return [*events, *revisions]


def days_in_streams() -> st.SearchStrategy[date]:
    """Days around the span event_streams dates fall in."""
    return st.dates(min_value=date(2024, 12, 1), max_value=date(2026, 6, 30))


def events() -> st.SearchStrategy[ns.Event]:
    """Single valid events, of every built-in type."""
    return event_streams(max_size=12).filter(bool).flatmap(st.sampled_from)


def focus_paths(found: ns.Diff) -> list[str]:
    """Paths to focus a diff on: every section, every prefix of a changed path (with
    a trailing slash, and cut inside its last part), and paths that match nothing."""
    paths = {*SECTIONS, "positions/nobody", "swaps/", "custom/none"}
    for change in found:
        parts = change.path.split("/")
        for length in range(2, len(parts) + 1):
            stem = "/".join(parts[:length])
            paths |= {stem, stem + "/", stem[:-1]}
    return sorted(paths)
