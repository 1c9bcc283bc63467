"""Example tests: the 2025 Russia-Ukraine talks log against facts in its articles."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import negstate
from negstate import (
    ChangeKind,
    DeadlineStatus,
    Event,
    EventCorrected,
    EventLog,
    FuzzyDate,
    MeetingStatus,
    ProposalRejected,
    ProposalStatus,
    Quantity,
    Response,
    ResponseKind,
    Stance,
    diff,
    explain,
    state_at,
)
from negstate.events import REVISION_TYPES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from negstate import Source

EXAMPLE = Path(__file__).parents[1] / "examples" / "ukraine_russia_2025"
ISTANBUL = "Istanbul, Turkey"
US_CEASEFIRE = "2025-03-us-full-ceasefire-proposal"
UA_30_DAYS = "ua-30-day-ceasefire-proposal"
RU_TRUCE = "ru-2-3-day-truce-proposal"
RU_SHORT_CEASEFIRES = "2025-07-23-ru-24-48-hour-ceasefires"
ROUND_1 = "2025-05-16-istanbul-round-1"
ROUND_2 = "2025-06-02-istanbul-round-2"
ROUND_3 = "2025-07-23-istanbul-round-3"
ALL_FOR_ALL = "2025-06-02-agreement-all-for-all-by-categories"
LEADERS_MEETING = "2025-07-23-ua-proposes-leaders-meeting"
DEADLINE = "2025-07-14-trump-50-day-deadline"
CHILDREN = "children/sought_by_ukraine"
LEADERS_MEETING_REJECTED = "2025-07-23-ru-rejects-leaders-meeting"
CHALLENGE = "zelensky-in-person-meeting-challenge"
REFUSAL = "putin-declines-in-person-meeting"
REFUSAL_004 = "putin-turned-down-in-person-challenge"
ROUND_1_BOUNDED = "2025-07-23-round-1-duration-bounded"
ROUND_2_BOUNDED = "2025-07-23-round-2-duration-bounded"
REFUSALS_MERGED = "2025-07-24-in-person-refusal-merged"
ARTICLE_003 = "[Untitled] Putin announces a third round of talks with Ukraine"
ARTICLE_004 = (
    "Russia And Ukraine Make Scant Progress On Ceasefire, Leaders\u2019 Meeting In "
    "Brief Istanbul Peace Talks"
)
BEFORE_004 = "2025-06-30"
"""A recording time after the June articles and before article 004 (23 July)."""


@pytest.fixture(scope="module")
def log() -> Iterator[EventLog]:
    with negstate.open_log(EXAMPLE / "talks.jsonl", create=False) as opened:
        yield opened


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ukraine_russia_2025_build_log", EXAMPLE / "build_log.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def titles(sources: tuple[Source, ...]) -> set[str]:
    return {source.title for source in sources}


def all_sources(event: Event) -> tuple[Source, ...]:
    if isinstance(event, EventCorrected):
        return event.sources + event.replacement.sources
    return event.sources


class TestUsFullCeasefire:
    """The US full ceasefire: Ukraine accepted in early March, Russia refused."""

    def test_not_known_before_march(self, log: EventLog) -> None:
        assert US_CEASEFIRE not in state_at(log, on="2025-02-28").proposals

    def test_covers_land_sea_and_air(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-03-11").proposals[US_CEASEFIRE]
        assert proposal.terms.scope == ("land", "sea", "air")

    def test_ukraine_accepted_in_early_march(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-03-11").proposals[US_CEASEFIRE]
        assert proposal.accepted_by == {"UA"}
        assert proposal.status is ProposalStatus.OPEN

    def test_russia_refused_more_than_100_days_before_june_26(
        self, log: EventLog
    ) -> None:
        proposal = state_at(log, on="2025-03-18").proposals[US_CEASEFIRE]
        assert proposal.status is ProposalStatus.REJECTED
        assert proposal.rejected_by == {"RU"}

    def test_refusal_is_ukraines_account(self, log: EventLog) -> None:
        rejection = state_at(log).events["2025-03-ru-rejects-us-full-ceasefire"]
        assert rejection.claimed_by == "UA"


class TestTruceProposals:
    """Ukraine's 30-day ceasefire against Russia's short truces, and the answers."""

    def test_russia_rejected_the_30_day_ceasefire(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-06-03").proposals[UA_30_DAYS]
        assert proposal.terms.duration_days == Quantity.exactly(30)
        assert proposal.rejected_by == {"RU"}

    def test_russia_countered_with_a_2_to_3_day_truce(self, log: EventLog) -> None:
        truce = state_at(log, on="2025-06-03").proposals[RU_TRUCE]
        assert truce.counters == UA_30_DAYS
        assert truce.terms.duration_days == Quantity(2, 3)

    def test_ukraine_found_the_truce_insufficient(self, log: EventLog) -> None:
        truce = state_at(log, on="2025-06-27").proposals[RU_TRUCE]
        assert truce.status is ProposalStatus.REJECTED
        assert truce.rejected_by == {"UA"}

    def test_medinsky_24_to_48_hours_replaces_the_truce(self, log: EventLog) -> None:
        truce = state_at(log, on="2025-07-23").proposals[RU_TRUCE]
        assert truce.status is ProposalStatus.SUPERSEDED
        assert truce.superseded_by == RU_SHORT_CEASEFIRES

    def test_short_ceasefires_last_one_to_two_days(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-07-23").proposals[RU_SHORT_CEASEFIRES]
        assert proposal.terms.duration_days == Quantity(1, 2)

    def test_ukraine_declined_the_short_ceasefires(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-07-23").proposals[RU_SHORT_CEASEFIRES]
        assert proposal.rejected_by == {"UA"}


class TestPositions:
    """Where each side stood on the ceasefire, territory and a leaders' meeting."""

    def test_ukraine_backs_a_full_ceasefire_in_june(self, log: EventLog) -> None:
        position = state_at(log, on="2025-06-27").position("UA", "ceasefire")
        assert position is not None
        assert position.stance is Stance.SUPPORTS
        assert position.terms.scope == ("land", "sea", "air")

    def test_ukraine_demands_a_comprehensive_ceasefire_in_july(
        self, log: EventLog
    ) -> None:
        position = state_at(log, on="2025-07-23").position("UA", "ceasefire")
        assert position is not None
        assert position.stance is Stance.DEMANDS

    def test_russia_backs_its_short_ceasefires_in_july(self, log: EventLog) -> None:
        position = state_at(log, on="2025-07-23").position("RU", "ceasefire")
        assert position is not None
        assert position.event == RU_SHORT_CEASEFIRES

    def test_withdrawal_demand_is_the_journalists_report(self, log: EventLog) -> None:
        position = state_at(log, on="2025-05-16").position("RU", "territory")
        assert position is not None
        assert position.stance is Stance.DEMANDS
        assert position.claimed_by == "journalists"

    def test_ukraine_puts_a_leaders_meeting_next_on_june_26(
        self, log: EventLog
    ) -> None:
        position = state_at(log, on="2025-06-26").position("UA", "leaders_meeting")
        assert position is not None
        assert position.event == "2025-06-26-umerov-leaders-meeting-next"


class TestMeetings:
    """Rounds, calls and summits: where, when, how, and for how long."""

    def test_first_round_lasted_a_little_over_an_hour(self, log: EventLog) -> None:
        meeting = state_at(log, on="2025-05-16", known_at=BEFORE_004).meetings[ROUND_1]
        assert meeting.place == ISTANBUL
        assert meeting.participants == ("UA", "RU")
        assert meeting.duration_minutes == Quantity(at_least=60)

    def test_second_round_held_on_2_june(self, log: EventLog) -> None:
        assert ROUND_2 not in state_at(log, on="2025-06-01").meetings
        assert ROUND_2 in state_at(log, on="2025-06-02").meetings

    def test_third_round_lasted_40_minutes(self, log: EventLog) -> None:
        meeting = state_at(log, on="2025-07-23").meetings[ROUND_3]
        assert meeting.duration_minutes == Quantity.exactly(40)

    def test_three_istanbul_rounds_by_end_of_july(self, log: EventLog) -> None:
        meetings = state_at(log, on="2025-07-31").meetings.values()
        assert sum(meeting.place == ISTANBUL for meeting in meetings) == 3

    def test_russia_joined_riyadh_remotely(self, log: EventLog) -> None:
        meeting = state_at(log, on="2025-05-15").meetings["riyadh-talks"]
        assert meeting.medium == "remote"
        assert meeting.mediators == ("US",)
        assert meeting.duration_minutes == Quantity(at_least=600)

    def test_trump_phoned_putin_on_19_may(self, log: EventLog) -> None:
        call = state_at(log, on="2025-05-19").meetings["2025-05-19-trump-putin-call"]
        assert call.medium == "phone"
        assert call.participants == ("US", "RU")

    def test_trump_phoned_zelensky_on_19_may(self, log: EventLog) -> None:
        meetings = state_at(log, on="2025-05-19").meetings
        assert meetings["2025-05-19-trump-zelensky-call"].medium == "phone"

    def test_zelensky_and_trump_met_at_nato_summit(self, log: EventLog) -> None:
        meetings = state_at(log, on="2025-06-25").meetings
        meeting = meetings["2025-06-25-nato-summit-zelensky-trump"]
        assert meeting.medium == "in_person"
        assert meeting.level == "leaders"


class TestThirdRoundDate:
    """Article 004's page date (10 December 2025) is not the day of its talks."""

    def test_round_held_on_wednesday_23_july(self, log: EventLog) -> None:
        meeting = state_at(log, on="2025-12-10").meetings[ROUND_3]
        assert meeting.occurred == FuzzyDate.day(2025, 7, 23)
        assert date(2025, 7, 23).strftime("%A") == "Wednesday"

    def test_round_not_held_by_22_july(self, log: EventLog) -> None:
        assert ROUND_3 not in state_at(log, on="2025-07-22").meetings

    def test_article_carries_no_publication_date(self, log: EventLog) -> None:
        event = state_at(log).events[ROUND_3]
        assert {source.published for source in event.sources} == {None}

    def test_warning_came_just_over_a_week_before(self, log: EventLog) -> None:
        state = state_at(log, on="2025-07-23")
        set_on = state.deadlines[DEADLINE].set_on.earliest
        held_on = state.meetings[ROUND_3].occurred.earliest
        assert set_on is not None
        assert held_on is not None
        assert (held_on - set_on).days == 9


class TestMeetingProposals:
    """Proposed meetings: the third round, the leaders' meeting, Turkey's effort."""

    def test_third_round_announced_by_early_july(self, log: EventLog) -> None:
        proposals = state_at(log, on="2025-07-01").meeting_proposals
        assert proposals["putin-announces-third-round"].status is MeetingStatus.PROPOSED

    def test_third_round_held_on_23_july(self, log: EventLog) -> None:
        proposals = state_at(log, on="2025-07-23").meeting_proposals
        assert proposals["putin-announces-third-round"].held == ROUND_3

    def test_leaders_meeting_was_due_by_end_of_august(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-07-23").meeting_proposals[LEADERS_MEETING]
        assert proposal.window is not None
        assert proposal.window.latest == date(2025, 8, 31)

    def test_russia_declined_the_leaders_meeting(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-09-01").meeting_proposals[LEADERS_MEETING]
        assert proposal.status is MeetingStatus.DECLINED
        assert [(r.party, r.kind) for r in proposal.responses] == [
            ("RU", ResponseKind.REJECTED)
        ]

    def test_putin_declined_zelenskys_in_person_challenge(self, log: EventLog) -> None:
        proposals = state_at(log, on="2025-05-16").meeting_proposals
        challenge = proposals["zelensky-in-person-meeting-challenge"]
        assert challenge.status is MeetingStatus.DECLINED

    def test_turkeys_effort_is_unanswered(self, log: EventLog) -> None:
        proposals = state_at(log, on="2025-06-30").meeting_proposals
        effort = proposals["turkey-organizing-leaders-meeting"]
        assert effort.proposer == "TR"
        assert effort.status is MeetingStatus.PROPOSED


class TestExchanges:
    """Prisoner swaps, the agreements they fulfil, and the totals they add up to."""

    def test_nothing_released_by_20_may(self, log: EventLog) -> None:
        assert state_at(log, on="2025-05-20").released("RU", "prisoners").releases == 0

    def test_1000_for_1000_by_end_of_may(self, log: EventLog) -> None:
        state = state_at(log, on="2025-05-31")
        assert state.released("RU", "prisoners").count == 1000
        assert state.released("UA", "prisoners").count == 1000

    def test_swap_fulfils_the_16_may_agreement(self, log: EventLog) -> None:
        swaps = state_at(log, on="2025-05-31").swaps
        assert [swap.agreement for swap in swaps] == [
            "2025-05-16-agreement-1000-for-1000"
        ]

    def test_three_all_for_all_stages_by_13_june(self, log: EventLog) -> None:
        swaps = state_at(log, on="2025-06-13").swaps
        assert sum(swap.agreement == ALL_FOR_ALL for swap in swaps) == 3

    def test_seven_all_for_all_stages_by_26_june(self, log: EventLog) -> None:
        swaps = state_at(log, on="2025-06-26").swaps
        assert sum(swap.agreement == ALL_FOR_ALL for swap in swaps) == 7

    def test_all_for_all_categories(self, log: EventLog) -> None:
        agreement = state_at(log, on="2025-06-02").agreements[ALL_FOR_ALL]
        assert agreement.terms.categories == (
            "pow_seriously_wounded_or_ill",
            "pow_aged_18_25",
        )

    def test_stage_figures_were_not_reported(self, log: EventLog) -> None:
        total = state_at(log, on="2025-06-27").released("RU", "prisoners_of_war")
        assert total.releases == 7
        assert total.unreported == 7

    def test_deal_for_up_to_1200_each(self, log: EventLog) -> None:
        agreements = state_at(log, on="2025-06-26").agreements
        terms = agreements["agreement-up-to-1200-each"].terms
        assert terms.quantity == Quantity(at_most=1200)

    def test_at_least_1200_more_agreed_on_23_july(self, log: EventLog) -> None:
        agreements = state_at(log, on="2025-07-23").agreements
        agreement = agreements["2025-07-23-agreement-1200-more-pows"]
        assert agreement.terms.quantity == Quantity(at_least=1200)
        assert agreement.meeting == ROUND_3

    def test_23_july_swap_had_no_reported_figure(self, log: EventLog) -> None:
        total = state_at(log, on="2025-07-23").released("RU", "prisoners")
        assert str(total) == "1,000+ (1 release without a figure)"

    def test_russia_offered_3000_bodies(self, log: EventLog) -> None:
        offer = state_at(log, on="2025-07-23").proposals[
            "2025-07-23-ru-offers-3000-bodies"
        ]
        assert offer.terms.quantity == Quantity.exactly(3000)
        assert offer.status is ProposalStatus.OPEN


class TestEnergyMoratorium:
    """The moratorium on energy strikes, the only step agreed in Riyadh."""

    def test_agreed_at_riyadh_with_us_mediation(self, log: EventLog) -> None:
        agreement = state_at(log, on="2025-05-15").agreements[
            "energy-strike-moratorium"
        ]
        assert agreement.meeting == "riyadh-talks"
        assert agreement.mediators == ("US",)
        assert agreement.terms.scope == ("energy_infrastructure",)


class TestFiftyDayDeadline:
    """Trump's 50-day warning: set on 14 July, running until 2 September."""

    def test_not_set_on_13_july(self, log: EventLog) -> None:
        assert DEADLINE not in state_at(log, on="2025-07-13").deadlines

    def test_active_on_2_september(self, log: EventLog) -> None:
        deadline = state_at(log, on="2025-09-02").deadlines[DEADLINE]
        assert deadline.status is DeadlineStatus.ACTIVE

    def test_expired_on_3_september(self, log: EventLog) -> None:
        deadline = state_at(log, on="2025-09-03").deadlines[DEADLINE]
        assert deadline.status is DeadlineStatus.EXPIRED

    def test_sanctions_also_hit_buyers_of_russian_exports(self, log: EventLog) -> None:
        deadline = state_at(log, on="2025-07-14").deadlines[DEADLINE]
        assert deadline.against == ("RU",)
        assert "buyers of its exports" in deadline.consequence


class TestChildrenFigures:
    """Children Ukraine seeks back: Russia's 339 names against Ukraine's 19,000."""

    def test_no_figures_before_23_july(self, log: EventLog) -> None:
        assert CHILDREN not in state_at(log, on="2025-07-22").figures

    def test_figures_are_disputed(self, log: EventLog) -> None:
        assert state_at(log, on="2025-07-23").figures[CHILDREN].disputed

    def test_medinsky_gives_339_names(self, log: EventLog) -> None:
        claim = state_at(log, on="2025-07-23").figures[CHILDREN].claim_of("RU")
        assert claim is not None
        assert claim.value == Quantity.exactly(339)

    def test_ukraine_estimates_at_least_19000(self, log: EventLog) -> None:
        claim = state_at(log, on="2025-07-23").figures[CHILDREN].claim_of("UA")
        assert claim is not None
        assert claim.value == Quantity(at_least=19000)

    def test_russia_and_ukraine_are_the_claimants(self, log: EventLog) -> None:
        figure = state_at(log, on="2025-07-23").figures[CHILDREN]
        assert [(c.claimant, str(c.value)) for c in figure.claims] == [
            ("UA", "at least 19,000"),
            ("RU", "339"),
        ]

    def test_explained_by_both_claims(self, log: EventLog) -> None:
        explanation = explain(state_at(log, on="2025-07-23"), f"figures/{CHILDREN}")
        assert set(explanation.event_ids) == {
            "2025-07-23-children-list-339",
            "ua-children-deported-19000",
        }


class TestRoundDurationsRevised:
    """Article 004 puts the first two rounds under three hours, revising 001."""

    def test_first_round_at_least_60_minutes_as_known_on_30_june(
        self, log: EventLog
    ) -> None:
        state = state_at(log, on="2025-05-16", known_at=BEFORE_004)
        assert state.meetings[ROUND_1].duration_minutes == Quantity(at_least=60)

    def test_first_round_60_to_179_minutes_as_known_now(self, log: EventLog) -> None:
        meeting = state_at(log, on="2025-05-16").meetings[ROUND_1]
        assert meeting.duration_minutes == Quantity(at_least=60, at_most=179)

    def test_second_round_had_no_duration_as_known_on_30_june(
        self, log: EventLog
    ) -> None:
        state = state_at(log, on="2025-06-02", known_at=BEFORE_004)
        assert state.meetings[ROUND_2].duration_minutes is None

    def test_second_round_at_most_119_minutes_as_known_now(self, log: EventLog) -> None:
        meeting = state_at(log, on="2025-06-02").meetings[ROUND_2]
        assert meeting.duration_minutes == Quantity(at_most=119)

    def test_correction_recorded_on_23_july(self, log: EventLog) -> None:
        record = log.get(ROUND_1_BOUNDED)
        assert record is not None
        assert record.recorded_at.date() == date(2025, 7, 23)

    def test_replacement_cites_both_articles(self, log: EventLog) -> None:
        sources = state_at(log).events[ROUND_1].sources
        assert ARTICLE_004 in titles(sources)
        assert {source.outlet for source in sources} == {"Babel", None}


@pytest.fixture(scope="module")
def changes(log: EventLog) -> negstate.Diff:
    return diff(
        state_at(log, on="2025-05-16", known_at=BEFORE_004),
        state_at(log, on="2025-05-16"),
    )


class TestKnowledgeDiffOfTheFirstRound:
    """16 May as known on 30 June against 16 May as known now: one change."""

    def test_only_the_first_round_changed(self, changes: negstate.Diff) -> None:
        assert [(c.path, c.kind) for c in changes] == [
            (f"meetings/{ROUND_1}", ChangeKind.CHANGED)
        ]

    def test_only_its_duration_changed(self, changes: negstate.Diff) -> None:
        (change,) = changes
        assert change.fields == ("duration_minutes",)
        assert change.after["duration_minutes"] == {"at_least": 60, "at_most": 179}

    def test_change_cites_article_004(self, changes: negstate.Diff) -> None:
        (change,) = changes
        assert ARTICLE_004 in titles(change.sources)

    def test_timeline_names_the_correcting_event(self, log: EventLog) -> None:
        assert log.timeline().revised_by[ROUND_1] == (ROUND_1_BOUNDED,)

    def test_change_lists_the_correcting_event(self, changes: negstate.Diff) -> None:
        (change,) = changes
        assert ROUND_1_BOUNDED in change.events


class TestDuplicateRefusalMerged:
    """Article 004 re-reports Putin's refusal; a review merges it into 003's report."""

    def test_both_reports_count_as_known_on_23_july(self, log: EventLog) -> None:
        events = state_at(log, known_at="2025-07-23").events
        assert REFUSAL in events
        assert REFUSAL_004 in events

    def test_refusal_counts_once_now(self, log: EventLog) -> None:
        events = state_at(log).events.values()
        refusals = [
            event.id
            for event in events
            if isinstance(event, ProposalRejected) and event.proposal == CHALLENGE
        ]
        assert refusals == [REFUSAL]

    def test_challenge_has_one_answer(self, log: EventLog) -> None:
        challenge = state_at(log).meeting_proposals[CHALLENGE]
        assert challenge.responses == (
            Response(party="RU", kind=ResponseKind.REJECTED, event=REFUSAL),
        )

    def test_kept_refusal_carries_both_reports(self, log: EventLog) -> None:
        refusal = state_at(log).events[REFUSAL]
        assert titles(refusal.sources) == {ARTICLE_003, ARTICLE_004}

    def test_merge_recorded_on_24_july(self, log: EventLog) -> None:
        record = log.get(REFUSALS_MERGED)
        assert record is not None
        assert record.recorded_at.date() == date(2025, 7, 24)


class TestExplainRevisions:
    """explain names the revisions behind an event when given the timeline's."""

    def test_first_round_lists_its_correction(self, log: EventLog) -> None:
        timeline = log.timeline()
        explanation = explain(
            timeline.state_at("2025-05-16"),
            f"meetings/{ROUND_1}",
            revisions=timeline.revisions,
            revised_by=timeline.revised_by,
        )
        assert explanation.event_ids == (ROUND_1,)
        assert [r.id for r in explanation.revised_by[ROUND_1]] == [ROUND_1_BOUNDED]
        assert f"revised by {ROUND_1_BOUNDED} (EventCorrected)" in str(explanation)

    def test_refusal_lists_the_merge(self, log: EventLog) -> None:
        timeline = log.timeline()
        explanation = explain(
            timeline.state_at("2025-05-16"),
            f"meeting_proposals/{CHALLENGE}",
            revisions=timeline.revisions,
            revised_by=timeline.revised_by,
        )
        assert explanation.event_ids == (CHALLENGE, REFUSAL)
        assert [r.id for r in explanation.revised_by[REFUSAL]] == [REFUSALS_MERGED]

    def test_a_replayed_state_brings_its_revisions(self, log: EventLog) -> None:
        explanation = explain(state_at(log, on="2025-05-16"), f"meetings/{ROUND_1}")
        assert [r.id for r in explanation.revised_by[ROUND_1]] == [ROUND_1_BOUNDED]


class TestLeadersMeetingWindow:
    """Ukraine's Zelensky-Putin meeting, due by 31 August, declined and never held."""

    def test_declined_on_31_august(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-08-31").meeting_proposals[LEADERS_MEETING]
        assert proposal.status is MeetingStatus.DECLINED

    def test_never_held(self, log: EventLog) -> None:
        proposal = state_at(log, on="2025-12-31").meeting_proposals[LEADERS_MEETING]
        assert proposal.held is None

    def test_unanswered_it_would_be_proposed_on_31_august(self, log: EventLog) -> None:
        events = [e for e in log.events() if e.id != LEADERS_MEETING_REJECTED]
        proposal = state_at(events, on="2025-08-31").meeting_proposals[LEADERS_MEETING]
        assert proposal.status is MeetingStatus.PROPOSED

    def test_unanswered_it_would_lapse_on_1_september(self, log: EventLog) -> None:
        events = [e for e in log.events() if e.id != LEADERS_MEETING_REJECTED]
        proposal = state_at(events, on="2025-09-01").meeting_proposals[LEADERS_MEETING]
        assert proposal.status is MeetingStatus.LAPSED


class TestExchangeTotalsExplained:
    """Each exchange total is explained by the swaps that add up to it."""

    def test_ukraine_released_pows_in_the_seven_stages(self, log: EventLog) -> None:
        state = state_at(log, on="2025-06-30")
        explanation = explain(state, "exchanges/UA/prisoners_of_war")
        stages = (9, 10, 12, 14, 19, 20, 26)
        assert explanation.event_ids == tuple(
            f"2025-06-{day:02d}-swap-stage" for day in stages
        )

    def test_russia_released_prisoners_in_two_swaps(self, log: EventLog) -> None:
        explanation = explain(state_at(log, on="2025-07-31"), "exchanges/RU/prisoners")
        assert explanation.event_ids == (
            "2025-05-late-swap-1000-for-1000",
            "2025-07-23-prisoner-swap",
        )

    def test_total_adds_up_its_swaps(self, log: EventLog) -> None:
        state = state_at(log, on="2025-07-31")
        explanation = explain(state, "exchanges/RU/prisoners")
        swaps = [e for e in explanation.events if isinstance(e, negstate.SwapCompleted)]
        counts = [r.count for s in swaps for r in s.releases if r.by == "RU"]
        assert counts == [1000, None]
        assert state.released("RU", "prisoners").count == 1000
        assert state.released("RU", "prisoners").unreported == 1


class TestLogMatchesScript:
    """The committed log holds exactly what build_log.py builds, as it batches it."""

    def test_log_holds_exactly_the_built_events(
        self, log: EventLog, script: ModuleType
    ) -> None:
        built = [event for batch in script.build_events() for event in batch.events]
        assert list(log.events()) == built

    def test_records_carry_their_batch_day_at_noon_utc(
        self, log: EventLog, script: ModuleType
    ) -> None:
        days = [batch.known_on for batch in script.build_events() for _ in batch.events]
        moments = [record.recorded_at for record in log]
        assert [moment.date() for moment in moments] == days
        assert {(moment.time(), moment.tzinfo) for moment in moments} == {
            (time(12), UTC)
        }

    def test_four_batches_the_last_a_review(self, script: ModuleType) -> None:
        days = [batch.known_on for batch in script.build_events()]
        assert days == [
            date(2025, 6, 26),
            date(2025, 6, 27),
            date(2025, 7, 23),
            date(2025, 7, 24),
        ]
        assert days[-1] == script.REVIEW_DAY

    def test_revisions_come_last_in_their_batch(self, script: ModuleType) -> None:
        for batch in script.build_events():
            kinds = [isinstance(e, REVISION_TYPES) for e in batch.events]
            assert kinds == sorted(kinds)

    def test_batches_are_in_chronological_order(self, script: ModuleType) -> None:
        days = [batch.known_on for batch in script.build_events()]
        assert days == sorted(days)
        assert len(set(days)) == len(days)

    def test_no_source_is_newer_than_its_batch(self, script: ModuleType) -> None:
        key_of = {source.title: key for key, source in script.ARTICLES.items()}
        late = [
            event.id
            for batch in script.build_events()
            for event in batch.events
            for source in event.sources
            if script.KNOWN_ON[key_of[source.title]] > batch.known_on
        ]
        assert late == []


class TestSources:
    """Every event cites at least one article with a short exact quote."""

    def test_every_event_has_a_source(self, log: EventLog) -> None:
        assert all(event.sources for event in log.events())

    def test_every_quote_has_at_most_25_words(self, log: EventLog) -> None:
        quotes = [
            source.quote for event in log.events() for source in all_sources(event)
        ]
        assert all(quote for quote in quotes)
        assert max(len(str(quote).split()) for quote in quotes) <= 25

    def test_only_article_002_has_a_publication_date(self, log: EventLog) -> None:
        published = {
            source.published for event in log.events() for source in event.sources
        }
        assert published == {None, date(2025, 6, 27)}

    def test_log_records_two_corrections_and_a_merge(self, log: EventLog) -> None:
        revisions = [e.id for e in log.events() if isinstance(e, REVISION_TYPES)]
        assert revisions == [ROUND_1_BOUNDED, ROUND_2_BOUNDED, REFUSALS_MERGED]
