from __future__ import annotations

from datetime import date

import attrs
import pytest

import negstate as ns

SOURCE = ns.Source(title="A report", outlet="Wire")


def proposal(event_id: str = "p", **fields: object) -> ns.ProposalMade:
    values: dict[str, object] = {
        "id": event_id,
        "occurred": "2025-03-01",
        "sources": SOURCE,
        "proposer": "US",
        "addressees": ("UA", "RU"),
        "issue": "ceasefire",
        "terms": ns.Terms(
            scope=("land", "sea", "air"), duration_days=ns.Quantity.exactly(30)
        ),
    }
    values.update(fields)
    return ns.ProposalMade(**values)  # type: ignore[arg-type]


def accept(
    event_id: str, by: str, target: str = "p", day: str = "2025-03-11"
) -> ns.ProposalAccepted:
    return ns.ProposalAccepted(
        id=event_id, occurred=day, sources=SOURCE, proposal=target, by=by
    )


def reject(
    event_id: str, by: str, target: str = "p", day: str = "2025-03-12"
) -> ns.ProposalRejected:
    return ns.ProposalRejected(
        id=event_id, occurred=day, sources=SOURCE, proposal=target, by=by
    )


def withdraw(
    event_id: str, by: str, target: str = "p", day: str = "2025-03-20"
) -> ns.ProposalWithdrawn:
    return ns.ProposalWithdrawn(
        id=event_id, occurred=day, sources=SOURCE, proposal=target, by=by
    )


class TestProposalLifecycle:
    """A proposal moves from open to its fate by its parties' acts."""

    def test_open_until_every_addressee_answers(self) -> None:
        state = ns.fold([proposal(), accept("a", "UA")])
        assert state.proposals["p"].status is ns.ProposalStatus.OPEN
        assert state.proposals["p"].accepted_by == {"UA"}

    def test_accepted_when_every_addressee_accepts(self) -> None:
        state = ns.fold([proposal(), accept("a", "UA"), accept("b", "RU")])
        assert state.proposals["p"].status is ns.ProposalStatus.ACCEPTED

    def test_one_rejection_makes_it_rejected_and_keeps_each_answer(self) -> None:
        state = ns.fold([proposal(), accept("a", "UA"), reject("r", "RU")])
        found = state.proposals["p"]
        assert found.status is ns.ProposalStatus.REJECTED
        assert (found.accepted_by, found.rejected_by) == ({"UA"}, {"RU"})
        assert found.events == ("p", "a", "r")

    def test_a_later_answer_replaces_the_same_partys_earlier_one(self) -> None:
        state = ns.fold(
            [proposal(), reject("r", "RU"), accept("a", "RU", day="2025-04-01")]
        )
        assert state.proposals["p"].response_of("RU") == ns.Response(
            party="RU", kind=ns.ResponseKind.ACCEPTED, event="a"
        )

    def test_counter_proposal_marks_the_original_countered(self) -> None:
        counter = proposal(
            "c", proposer="RU", addressees=("UA",), counters="p", occurred="2025-03-13"
        )
        state = ns.fold([proposal(), counter])
        assert state.proposals["p"].status is ns.ProposalStatus.COUNTERED
        assert state.proposals["p"].countered_by == {"RU"}
        assert state.proposals["c"].counters == "p"

    def test_superseding_replaces_the_proposers_own_proposal(self) -> None:
        newer = proposal("p2", supersedes="p", occurred="2025-03-15")
        state = ns.fold([proposal(), newer])
        assert state.proposals["p"].status is ns.ProposalStatus.SUPERSEDED
        assert state.proposals["p"].superseded_by == "p2"

    def test_withdrawn(self) -> None:
        state = ns.fold([proposal(), withdraw("w", "US")])
        assert state.proposals["p"].status is ns.ProposalStatus.WITHDRAWN


class TestPositions:
    """What each party wants, and which events say so."""

    def test_proposer_and_acceptor_back_the_terms(self) -> None:
        state = ns.fold([proposal(), accept("a", "UA")])
        assert state.position("US", "ceasefire").event == "p"  # type: ignore[union-attr]
        ua = state.position("UA", "ceasefire")
        assert ua is not None
        assert (ua.stance, ua.basis, ua.events) == (ns.Stance.SUPPORTS, "p", ("p", "a"))
        assert ua.terms.scope == ("land", "sea", "air")

    def test_a_rejection_sets_no_position(self) -> None:
        state = ns.fold([proposal(), reject("r", "RU")])
        assert state.position("RU", "ceasefire") is None

    def test_conditional_acceptance_adds_conditions(self) -> None:
        conditional = ns.ProposalAccepted(
            id="a",
            occurred="2025-03-11",
            sources=SOURCE,
            proposal="p",
            by="UA",
            conditions=("monitoring",),
        )
        ua = ns.fold([proposal(), conditional]).position("UA", "ceasefire")
        assert ua is not None
        assert ua.stance is ns.Stance.CONDITIONAL
        assert ua.terms.conditions == ("monitoring",)

    def test_stated_position_replaces_the_earlier_one(self) -> None:
        stated = ns.PositionStated(
            id="s",
            occurred="2025-03-20",
            sources=SOURCE,
            party="UA",
            issue="ceasefire",
            stance=ns.Stance.DEMANDS,
            text="a full ceasefire first",
        )
        ua = ns.fold([proposal(), accept("a", "UA"), stated]).position(
            "UA", "ceasefire"
        )
        assert ua is not None
        assert (ua.stance, ua.events) == (ns.Stance.DEMANDS, ("s",))


class TestImpossibleEvents:
    """Events the rules rule out raise a FoldError that names the event."""

    @pytest.mark.parametrize(
        ("events", "error", "message"),
        [
            ([reject("r", "RU")], ns.UnknownReferenceError, "event 'r'.*'p'"),
            ([proposal(), accept("a", "US")], ns.ImpossibleEventError, "own proposal"),
            (
                [proposal(), accept("a", "TR")],
                ns.ImpossibleEventError,
                "not an addressee",
            ),
            (
                [proposal(), withdraw("w", "US"), accept("a", "UA", day="2025-03-21")],
                ns.ImpossibleEventError,
                "event 'a'.*withdrew",
            ),
            (
                [proposal(), withdraw("w", "UA")],
                ns.ImpossibleEventError,
                "only the proposer",
            ),
            (
                [
                    proposal(),
                    withdraw("w", "US"),
                    withdraw("w2", "US", day="2025-03-21"),
                ],
                ns.ImpossibleEventError,
                "second time",
            ),
            (
                [proposal(), accept("a", "UA"), accept("b", "RU"), withdraw("w", "US")],
                ns.ImpossibleEventError,
                "every addressee has accepted",
            ),
            (
                [
                    proposal(),
                    proposal("p2", proposer="RU", addressees=("UA",), supersedes="p"),
                ],
                ns.ImpossibleEventError,
                "only supersede its own",
            ),
        ],
    )
    def test_refused(
        self, events: list[ns.Event], error: type[ns.FoldError], message: str
    ) -> None:
        with pytest.raises(error, match=message):
            ns.fold(events)

    def test_swap_of_unknown_agreement(self) -> None:
        swap = ns.SwapCompleted(
            id="s",
            occurred="2025-05-25",
            sources=SOURCE,
            agreement="nope",
            releases=[ns.Release(by="UA", category="prisoners_of_war", count=1)],
        )
        with pytest.raises(ns.UnknownReferenceError, match="agreement 'nope'"):
            ns.fold([swap])

    def test_meeting_held_twice_for_one_proposal(self) -> None:
        proposed = ns.MeetingProposed(
            id="m",
            occurred="2025-06-26",
            sources=SOURCE,
            proposer="UA",
            participants=("UA", "RU"),
            level="leaders",
        )
        held = [
            ns.MeetingHeld(
                id=f"h{n}",
                occurred="2025-07-23",
                sources=SOURCE,
                participants=("UA", "RU"),
                level="leaders",
                proposal="m",
            )
            for n in (1, 2)
        ]
        with pytest.raises(ns.ImpossibleEventError, match="already did"):
            ns.fold([proposed, *held])

    def test_same_id_other_content(self) -> None:
        with pytest.raises(ns.DuplicateEventError, match="event 'p'"):
            ns.fold([proposal(), proposal(issue="territory")])


class TestExchangesMeetingsDeadlines:
    """Totals, meeting statuses and deadlines as of the state's day."""

    def test_totals_count_unreported_releases_apart(self) -> None:
        swaps = [
            ns.SwapCompleted(
                id="s1",
                occurred="2025-05-25",
                sources=SOURCE,
                releases=[ns.Release(by="UA", category="prisoners", count=1000)],
            ),
            ns.SwapCompleted(
                id="s2",
                occurred="2025-06-09",
                sources=SOURCE,
                releases=[ns.Release(by="UA", category="prisoners")],
            ),
        ]
        total = ns.fold(swaps).released("UA", "prisoners")
        assert (total.count, total.releases, total.unreported) == (1000, 2, 1)
        assert str(total) == "1,000+ (1 release without a figure)"
        assert ns.fold(swaps).released("RU", "prisoners").count == 0

    def test_proposed_meeting_lapses_after_its_window(self) -> None:
        proposed = ns.MeetingProposed(
            id="m",
            occurred="2025-07-23",
            sources=SOURCE,
            proposer="UA",
            participants=("UA", "RU"),
            level="leaders",
            window=ns.FuzzyDate.no_later_than(date(2025, 8, 31)),
        )
        assert ns.state_at([proposed], on="2025-08-31").meeting_proposals[
            "m"
        ].status is (ns.MeetingStatus.PROPOSED)
        assert ns.state_at([proposed], on="2025-09-01").meeting_proposals[
            "m"
        ].status is (ns.MeetingStatus.LAPSED)

    def test_meeting_declined_by_an_invited_party(self) -> None:
        proposed = ns.MeetingProposed(
            id="m",
            occurred="2025-07-23",
            sources=SOURCE,
            proposer="UA",
            participants=("UA", "RU"),
            level="leaders",
        )
        state = ns.fold([proposed, reject("r", "RU", target="m", day="2025-07-23")])
        assert state.meeting_proposals["m"].status is ns.MeetingStatus.DECLINED

    def test_deadline_expires_after_its_last_day_and_can_be_replaced(self) -> None:
        first = ns.DeadlineSet(
            id="d1",
            occurred="2025-07-14",
            sources=SOURCE,
            by="US",
            against=("RU",),
            expires="2025-09-02",
            demand="a peace deal",
            consequence="sanctions",
        )
        assert ns.state_at([first], on="2025-09-02").deadlines["d1"].status is (
            ns.DeadlineStatus.ACTIVE
        )
        assert ns.state_at([first], on="2025-09-03").deadlines["d1"].status is (
            ns.DeadlineStatus.EXPIRED
        )
        second = ns.DeadlineSet(
            id="d2",
            occurred="2025-07-28",
            sources=SOURCE,
            by="US",
            against=("RU",),
            expires="2025-08-08",
            demand="a peace deal",
            consequence="sanctions",
            replaces="d1",
        )
        state = ns.state_at([first, second], on="2025-08-01")
        assert state.deadlines["d1"].status is ns.DeadlineStatus.REPLACED
        assert [d.id for d in state.active_deadlines()] == ["d2"]


class TestDispatch:
    """fold finds reducers through the registry's table."""

    def test_unregistered_type_is_refused(self) -> None:
        @attrs.frozen(kw_only=True)
        class Unknown(ns.Event):
            pass

        with pytest.raises(ns.RegistryError, match="no reducer"):
            ns.fold([Unknown(id="u", occurred="2025", sources=SOURCE)])
