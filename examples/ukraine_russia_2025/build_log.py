"""Build the example log of the 2025 Russia-Ukraine talks from five news reports.

Run ``python examples/ukraine_russia_2025/build_log.py`` from the repository root to
rewrite ``talks.jsonl`` next to this script.  Events are grouped into batches by the
day their report became known (see ``SOURCES.md``) and each batch is appended with
that day, 12:00 UTC, as its recording time.  Later reports revise earlier events
through corrections and a merge, appended like any other event on the day they became
known, so the log stays append-only.  Quotes are copied exactly from the articles;
typographic apostrophes and dashes are written as escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NamedTuple

import attrs

from negstate import (
    AgreementReached,
    DeadlineSet,
    Event,
    EventCorrected,
    EventsMerged,
    FuzzyDate,
    MeetingHeld,
    MeetingProposed,
    PositionStated,
    ProposalAccepted,
    ProposalMade,
    ProposalRejected,
    Quantity,
    Release,
    Source,
    Stance,
    SwapCompleted,
    Terms,
    open_log,
)
from negstate.events import FigureReported

HERE = Path(__file__).parent
LOG_PATH = HERE / "talks.jsonl"
HEAD_PATH = HERE / "talks.jsonl.head"
"""The file in which the JSON Lines store anchors the log's last record."""

ARTICLES: dict[str, Source] = {
    "umerov_plan": Source(
        title="[Untitled] Umerov: Ukraine plans a Zelensky-Putin meeting as next step",
    ),
    "babel": Source(
        title="[Untitled] Umerov: leaders' meeting next after humanitarian issues",
        outlet="Babel",
    ),
    "umerov_sanctions": Source(
        title=(
            "Umerov on meetings with Russia: Russians likely use humanitarian issues "
            "as argument to avoid increased sanctions pressure"
        ),
        published=date(2025, 6, 27),
    ),
    "third_round": Source(
        title="[Untitled] Putin announces a third round of talks with Ukraine",
    ),
    "brief_istanbul": Source(
        title=(
            "Russia And Ukraine Make Scant Progress On Ceasefire, Leaders\u2019 "
            "Meeting In Brief Istanbul Peace Talks"
        ),
    ),
}
"""The five articles by the keys used in SOURCES.md, without quotes."""

KNOWN_ON: dict[str, date] = {
    "umerov_plan": date(2025, 6, 26),
    "babel": date(2025, 6, 26),
    "umerov_sanctions": date(2025, 6, 27),
    "third_round": date(2025, 6, 27),
    "brief_istanbul": date(2025, 7, 23),
}
"""The first day each article can have been published (see SOURCES.md)."""

REVIEW_DAY = date(2025, 7, 24)
"""The day the log was reviewed for duplicate reports; no article is new that day."""

UA, RU, US, TR = "UA", "RU", "US", "TR"
ISTANBUL = "Istanbul, Turkey"
day = FuzzyDate.day


class Batch(NamedTuple):
    """Events that became known on one day, from the articles of that day."""

    known_on: date
    events: tuple[Event, ...]


class BatchClock:
    """A log clock that reads 12:00 UTC of the day the current batch became known."""

    def __init__(self) -> None:
        self.day = date(2025, 1, 1)

    def __call__(self) -> datetime:
        """Return 12:00 UTC of the current batch's day."""
        return datetime.combine(self.day, time(12), tzinfo=UTC)


def cite(key: str, quote: str) -> Source:
    """Return the article ``key`` with a short quote that supports an event."""
    return attrs.evolve(ARTICLES[key], quote=quote)


def _known_june_26() -> tuple[Event, ...]:
    """Build the events first reported on 26 June (articles 000 and 001)."""
    stages = (9, 10, 12, 14, 19, 20, 26)
    return (
        PositionStated(
            id="2025-01-us-peace-initiative",
            occurred=FuzzyDate.month(2025, 1),
            sources=cite(
                "umerov_plan",
                "The negotiations, which began in January with U.S. President Donald "
                "Trump\u2019s initiative, have taken place in multiple locations",
            ),
            party=US,
            issue="peace_deal",
            stance=Stance.SUPPORTS,
            terms=Terms(text="negotiations between Russia and Ukraine to end the war"),
            text="Trump's initiative to start negotiations",
            note="000 dates the start only as 'in January' (2025).",
        ),
        ProposalMade(
            id="2025-03-us-full-ceasefire-proposal",
            occurred=FuzzyDate.part_of_month(2025, 3, "early"),
            sources=[
                cite(
                    "umerov_plan",
                    "Ukraine has accepted the U.S.-proposed full ceasefire across "
                    "land, sea, and air in early March, but Russia has not accepted "
                    "this offer.",
                ),
                cite(
                    "babel",
                    "We supported the US initiative for a complete ceasefire from the "
                    "very beginning",
                ),
            ],
            proposer=US,
            addressees=(UA, RU),
            issue="ceasefire",
            terms=Terms(
                scope=("land", "sea", "air"),
                text="complete ceasefire on land, sea and air",
            ),
            note=(
                "No article dates the proposal itself. Ukraine accepted it in early "
                "March and says it supported it 'from the very beginning', so it is "
                "dated early March (1-10 March 2025), like the acceptance."
            ),
        ),
        ProposalAccepted(
            id="2025-03-ua-accepts-us-full-ceasefire",
            occurred=FuzzyDate.part_of_month(2025, 3, "early"),
            sources=cite(
                "umerov_plan",
                "Ukraine has accepted the U.S.-proposed full ceasefire across land, "
                "sea, and air in early March",
            ),
            proposal="2025-03-us-full-ceasefire-proposal",
            by=UA,
            note="'early March' read as 1-10 March 2025.",
        ),
        ProposalRejected(
            id="2025-03-ru-rejects-us-full-ceasefire",
            occurred=FuzzyDate.between(date(2025, 3, 1), date(2025, 3, 17)),
            sources=[
                cite(
                    "umerov_plan",
                    "no additional U.S. sanctions have been imposed after more than "
                    "100 days of Russia\u2019s refusal to accept the ceasefire "
                    "proposal.",
                ),
                cite(
                    "umerov_plan",
                    "he pointed out that Russia\u2019s rejection of the full ceasefire "
                    "proposal has hindered progress",
                ),
            ],
            proposal="2025-03-us-full-ceasefire-proposal",
            by=RU,
            reason="Russia offers only temporary truces (Umerov)",
            claimed_by=UA,
            note=(
                "Umerov's account; 002 instead says the Russians 'have not yet "
                "responded'. Date: 'more than 100 days' of refusal counted back from "
                "the 26 June briefing the article reports (26 June - 100 days = "
                "18 March) puts the refusal before 18 March, i.e. by 17 March; it "
                "cannot precede the early-March proposal, so 1-17 March 2025. This "
                "assumes the article was written at the briefing."
            ),
        ),
        MeetingHeld(
            id="paris-talks",
            occurred=FuzzyDate.between(date(2025, 1, 1), date(2025, 6, 26)),
            sources=cite(
                "umerov_plan",
                "have taken place in multiple locations including Jeddah, Riyadh, "
                "Paris, London, and Istanbul.",
            ),
            participants=(UA,),
            level="delegations",
            place="Paris",
            agenda=("ceasefire",),
            note=(
                "000 names Paris only as a place where the negotiations took place; "
                "it names no date, no participants besides Ukraine (whose minister "
                "reports it) and no host, so France is not listed. Dated from the "
                "January start of the negotiations to the 26 June briefing."
            ),
        ),
        MeetingHeld(
            id="london-talks",
            occurred=FuzzyDate.between(date(2025, 1, 1), date(2025, 6, 26)),
            sources=cite(
                "umerov_plan",
                "have taken place in multiple locations including Jeddah, Riyadh, "
                "Paris, London, and Istanbul.",
            ),
            participants=(UA,),
            level="delegations",
            place="London",
            agenda=("ceasefire",),
            note=(
                "000 names London only as a place where the negotiations took place; "
                "no date, other participants or host are given, so the United "
                "Kingdom is not listed. Dated from January to the 26 June briefing."
            ),
        ),
        MeetingHeld(
            id="2025-05-16-istanbul-round-1",
            occurred=day(2025, 5, 16),
            sources=[
                cite(
                    "babel",
                    "On May 16, 2025, the first direct talks between Ukraine and "
                    "Russia since 2022 were held in Istanbul.",
                ),
                cite("babel", "The meeting lasted a little over an hour."),
            ],
            participants=(UA, RU),
            level="delegations",
            place=ISTANBUL,
            duration_minutes=Quantity(at_least=60),
            agenda=("prisoner_exchange", "ceasefire"),
            outcome=(
                "Agreed a 1,000-for-1,000 prisoner exchange; no agreement on a "
                "ceasefire."
            ),
            note=(
                "First direct talks since 2022; Umerov reported on it for Ukraine. "
                "001 names no delegation heads. 'A little over an hour' recorded as "
                "at least 60 minutes."
            ),
        ),
        PositionStated(
            id="2025-05-16-ru-demands-troop-withdrawal",
            occurred=day(2025, 5, 16),
            sources=cite(
                "babel",
                "Russia demanded the withdrawal of Ukrainian troops from a number of "
                "territories to ensure a ceasefire and threatened to occupy the "
                "Kharkiv and Sumy regions.",
            ),
            party=RU,
            issue="territory",
            stance=Stance.DEMANDS,
            terms=Terms(
                conditions=(
                    (
                        "Ukrainian troops withdraw from a number of territories "
                        "before a ceasefire"
                    ),
                ),
                text="withdrawal of Ukrainian troops as the price of a ceasefire",
            ),
            text="threatened to occupy the Kharkiv and Sumy regions",
            claimed_by="journalists",
            note="001 attributes this to journalists ('According to journalists').",
        ),
        AgreementReached(
            id="2025-05-16-agreement-1000-for-1000",
            occurred=day(2025, 5, 16),
            sources=cite(
                "babel",
                "The parties reached an agreement on the exchange \u2014 three "
                "prisoner exchanges in this format have already taken place.",
            ),
            parties=(UA, RU),
            issue="prisoner_exchange",
            terms=Terms(
                quantity=Quantity.exactly(1000),
                categories=("prisoners",),
                text="exchange 1,000 for 1,000",
            ),
            meeting="2025-05-16-istanbul-round-1",
        ),
        SwapCompleted(
            id="2025-05-late-swap-1000-for-1000",
            occurred=FuzzyDate.part_of_month(2025, 5, "late"),
            sources=[
                cite(
                    "umerov_plan",
                    "including a 1,000-for-1,000 swap in late May and subsequent "
                    "deals for up to 1,200 prisoners from each side.",
                ),
                cite(
                    "babel",
                    "three prisoner exchanges in this format have already taken place.",
                ),
            ],
            releases=(
                Release(by=RU, category="prisoners", count=1000, to=UA),
                Release(by=UA, category="prisoners", count=1000, to=RU),
            ),
            agreement="2025-05-16-agreement-1000-for-1000",
            note=(
                "'late May' read as 21-31 May 2025. 001 speaks of three exchanges "
                "in the 1,000-for-1,000 format; read as the one swap of 000 done in "
                "three stages, since no article gives per-stage figures and 000 and "
                "003 report a single 1,000-for-1,000 swap."
            ),
        ),
        MeetingHeld(
            id="2025-05-19-trump-putin-call",
            occurred=day(2025, 5, 19),
            sources=cite(
                "babel",
                "On May 19, Trump spoke with Putin, as well as with Zelensky and a "
                "number of European leaders.",
            ),
            participants=(US, RU),
            level="leaders",
            medium="phone",
            agenda=("ceasefire", "peace_deal"),
            outcome="Putin ready to work on a memorandum including a ceasefire.",
        ),
        MeetingHeld(
            id="2025-05-19-trump-zelensky-call",
            occurred=day(2025, 5, 19),
            sources=cite(
                "babel",
                "On May 19, Trump spoke with Putin, as well as with Zelensky and a "
                "number of European leaders.",
            ),
            participants=(US, UA),
            level="leaders",
            medium="phone",
            agenda=("ceasefire", "peace_deal"),
        ),
        MeetingHeld(
            id="2025-05-19-trump-european-leaders-call",
            occurred=day(2025, 5, 19),
            sources=cite(
                "babel",
                "On May 19, Trump spoke with Putin, as well as with Zelensky and a "
                "number of European leaders.",
            ),
            participants=(US, "EU_LEADERS"),
            level="leaders",
            medium="phone",
            agenda=("ceasefire", "peace_deal"),
            note="001 does not name the European leaders.",
        ),
        PositionStated(
            id="2025-05-19-putin-ready-for-memorandum",
            occurred=day(2025, 5, 19),
            sources=cite(
                "babel",
                "Putin said after the conversation that he was ready to work on a "
                "memorandum with Ukraine that includes a ceasefire.",
            ),
            party=RU,
            issue="peace_deal",
            stance=Stance.OFFERS,
            terms=Terms(
                scope=("ceasefire",), text="a memorandum with Ukraine incl. a ceasefire"
            ),
            text="ready to work on a memorandum with Ukraine that includes a ceasefire",
        ),
        PositionStated(
            id="2025-05-19-trump-says-talks-will-begin",
            occurred=day(2025, 5, 19),
            sources=cite(
                "babel",
                "Russia and Ukraine \u201cwill immediately begin negotiations on a "
                "ceasefire and, more importantly, an end to the war\u201d.",
            ),
            party=US,
            issue="peace_deal",
            stance=Stance.SUPPORTS,
            terms=Terms(text="immediate negotiations on a ceasefire and end of war"),
            text="Russia and Ukraine will immediately begin negotiations",
        ),
        MeetingHeld(
            id="2025-06-02-istanbul-round-2",
            occurred=day(2025, 6, 2),
            sources=cite(
                "babel",
                "A large exchange in several stages was agreed upon at negotiations "
                "between Ukraine and Russia in Istanbul on June 2.",
            ),
            participants=(UA, RU),
            level="delegations",
            place=ISTANBUL,
            agenda=("prisoner_exchange", "ceasefire", "humanitarian"),
            outcome=(
                "Agreed a large exchange in stages, all-for-all by categories; no "
                "compromise on a ceasefire."
            ),
            note="001 gives no duration for this round.",
        ),
        AgreementReached(
            id="2025-06-02-agreement-all-for-all-by-categories",
            occurred=day(2025, 6, 2),
            sources=cite(
                "babel",
                "It was there that the parties decided to focus on exchanges in the "
                '"all-for-all" format by categories',
            ),
            parties=(UA, RU),
            issue="prisoner_exchange",
            terms=Terms(
                categories=("pow_seriously_wounded_or_ill", "pow_aged_18_25"),
                text="all-for-all exchange in several stages by category",
            ),
            meeting="2025-06-02-istanbul-round-2",
            note=(
                "Categories per 001: seriously wounded and seriously ill, and young "
                "people aged 18 to 25. All-for-all, so no quantity."
            ),
        ),
        *(
            SwapCompleted(
                id=f"2025-06-{stage:02d}-swap-stage",
                occurred=day(2025, 6, stage),
                sources=cite(
                    "babel",
                    "Several stages of prisoner exchanges in this format have already "
                    "taken place \u2014 June 9, 10, 12,14, 19, 20, and 26.",
                ),
                releases=(
                    Release(by=RU, category="prisoners_of_war", to=UA),
                    Release(by=UA, category="prisoners_of_war", to=RU),
                ),
                agreement="2025-06-02-agreement-all-for-all-by-categories",
                note=(
                    f"Stage {number} of 7 of the all-for-all exchange agreed on 2 "
                    "June. 001 gives no figures and does not say which of the agreed "
                    "categories this stage covered."
                ),
            )
            for number, stage in enumerate(stages, start=1)
        ),
        AgreementReached(
            id="agreement-up-to-1200-each",
            occurred=FuzzyDate.between(date(2025, 5, 21), date(2025, 6, 26)),
            sources=cite(
                "umerov_plan",
                "subsequent deals for up to 1,200 prisoners from each side.",
            ),
            parties=(UA, RU),
            issue="prisoner_exchange",
            terms=Terms(
                quantity=Quantity(at_most=1200),
                categories=("prisoners",),
                text="up to 1,200 prisoners from each side",
            ),
            note=(
                "'Subsequent' to the late-May swap (from 21 May) and reported at the "
                "26 June briefing. Possibly the same deal as the 2 June all-for-all "
                "agreement; the articles do not say."
            ),
        ),
        PositionStated(
            id="zelensky-urges-sanctions",
            occurred=FuzzyDate.between(date(2025, 5, 16), date(2025, 6, 26)),
            sources=cite(
                "umerov_plan",
                "Zelensky has also expressed frustration with Russia\u2019s limited "
                "ceasefire offers, urging Trump to enforce sanctions if the talks "
                "remain fruitless.",
            ),
            party=UA,
            issue="sanctions",
            stance=Stance.DEMANDS,
            terms=Terms(
                conditions=("the talks remain fruitless",),
                text="US sanctions on Russia",
            ),
            text="urges Trump to enforce sanctions if the talks remain fruitless",
            note=(
                "Undated in 000; after Russia's limited ceasefire offers at the "
                "direct talks (from 16 May) and no later than the 26 June briefing."
            ),
        ),
        PositionStated(
            id="trump-warns-response-could-change",
            occurred=FuzzyDate.no_later_than(date(2025, 6, 26)),
            sources=cite(
                "umerov_plan",
                "warning that the U.S. response could change if Putin is not willing "
                "to end the war.",
            ),
            party=US,
            issue="sanctions",
            stance=Stance.CONDITIONAL,
            terms=Terms(
                conditions=("Putin is not willing to end the war",),
                text="a changed US response",
            ),
            text="closely monitoring the peace process",
            note=(
                "Undated in 000, which reports it by the 26 June briefing and says no "
                "additional US sanctions had been imposed by then."
            ),
        ),
        PositionStated(
            id="2025-06-26-umerov-leaders-meeting-next",
            occurred=day(2025, 6, 26),
            sources=[
                cite(
                    "umerov_plan",
                    "Ukraine plans to organize a direct meeting between President "
                    "Volodymyr Zelensky and Russian President Vladimir Putin as the "
                    "next step in ceasefire negotiations.",
                ),
                cite(
                    "babel",
                    "Ukraine plans to move on to the topic of a leaders\u02bc meeting "
                    "at negotiations with Russia after the conclusion of discussions "
                    "on humanitarian issues.",
                ),
            ],
            party=UA,
            issue="leaders_meeting",
            stance=Stance.SUPPORTS,
            terms=Terms(
                conditions=("discussions on humanitarian issues are concluded",),
                text="a direct Zelensky-Putin meeting as the next step",
            ),
            text="next stage targets a leaders' summit for substantive dialogue",
            note=(
                "Umerov's press briefing on 26 June (date given by 000); 001 reports "
                "the same statement to journalists."
            ),
        ),
        PositionStated(
            id="2025-06-26-umerov-ceasefire-position",
            occurred=day(2025, 6, 26),
            sources=[
                cite(
                    "babel",
                    "But any dialogue is possible only without ultimatums and with "
                    "respect for the sovereignty of our state",
                ),
                cite("babel", "No compromise was found on the topic of a ceasefire."),
            ],
            party=UA,
            issue="ceasefire",
            stance=Stance.SUPPORTS,
            terms=Terms(
                scope=("land", "sea", "air"),
                conditions=("no ultimatums", "respect for Ukraine's sovereignty"),
                text="complete ceasefire, as proposed by the US",
            ),
            text="Russia insists on ultimatums Ukraine cannot accept; no compromise",
        ),
        PositionStated(
            id="2025-06-26-umerov-humanitarian-focus",
            occurred=day(2025, 6, 26),
            sources=cite(
                "umerov_plan",
                "recent discussions have focused on humanitarian issues such as the "
                "release of civilians and children",
            ),
            party=UA,
            issue="humanitarian",
            stance=Stance.DEMANDS,
            terms=Terms(
                categories=("civilians", "children"),
                text="release of civilians and children",
            ),
        ),
        PositionStated(
            id="2025-06-26-ru-uses-humanitarian-track-against-sanctions",
            occurred=day(2025, 6, 26),
            sources=cite(
                "babel",
                "Russia can use humanitarian issues, such as the exchange of prisoners "
                "of war and the repatriation of the bodies of the dead, to avoid "
                "sanctions.",
            ),
            party=RU,
            issue="sanctions",
            stance=Stance.OPPOSES,
            text="uses humanitarian issues to avoid sanctions",
            claimed_by=UA,
            note="Umerov's reading of Russia's aims, not Russia's own statement.",
        ),
    )


def _known_june_27() -> tuple[Event, ...]:
    """Build the events first reported, or first reported in full, on 27 June."""
    direct_rounds = FuzzyDate.between(date(2025, 5, 16), date(2025, 6, 2))
    riyadh = FuzzyDate.between(date(2025, 3, 1), date(2025, 5, 15))
    return (
        MeetingHeld(
            id="2025-03-jeddah-talks",
            occurred=FuzzyDate.part_of_month(2025, 3, "early"),
            sources=[
                cite(
                    "umerov_sanctions",
                    "the first round of negotiations was in Jeddah, Saudi Arabia: the "
                    "Ukrainian delegation, together with its American partners, "
                    "discussed the terms of the ceasefire.",
                ),
                cite(
                    "umerov_sanctions",
                    "At these stages, Ukraine agreed to the American president's "
                    "proposal for a complete ceasefire on land, water and in the air.",
                ),
            ],
            participants=(UA, US),
            level="delegations",
            place="Jeddah, Saudi Arabia",
            agenda=("ceasefire",),
            note=(
                "002 says Ukraine agreed to the US full ceasefire 'at these stages' "
                "(Jeddah, then Riyadh) in early March; Jeddah, the first, is dated "
                "early March (1-10 March 2025)."
            ),
        ),
        MeetingHeld(
            id="riyadh-talks",
            occurred=riyadh,
            sources=[
                cite(
                    "umerov_sanctions",
                    "negotiations with the American side took place there, while the "
                    "Russian delegation joined the discussions remotely.",
                ),
                cite(
                    "umerov_sanctions",
                    "after more than 10 hours of negotiations, the Russian side did "
                    "not agree to a compromise.",
                ),
            ],
            participants=(UA, RU),
            level="delegations",
            place="Riyadh, Saudi Arabia",
            medium="remote",
            mediators=(US,),
            duration_minutes=Quantity(at_least=600),
            agenda=("ceasefire", "energy_strikes"),
            outcome="Only a moratorium on strikes on energy facilities was agreed.",
            note=(
                "Ukraine talked with the US in Riyadh; Russia joined remotely and "
                "was reached through the Americans. The 'more than 10 hours' is "
                "read as this stage, the only one with Russia before Istanbul. "
                "Date: the second stage after Jeddah (from 1 March) and before the "
                "talks 'continued' in Turkey on 16 May, so 1 March-15 May 2025."
            ),
        ),
        AgreementReached(
            id="energy-strike-moratorium",
            occurred=riyadh,
            sources=cite(
                "umerov_sanctions",
                "The only agreed step at that time was a moratorium on strikes on "
                "energy facilities.",
            ),
            parties=(UA, RU),
            issue="energy_strikes",
            terms=Terms(
                scope=("energy_infrastructure",),
                text="moratorium on strikes on energy facilities",
            ),
            mediators=(US,),
            meeting="riyadh-talks",
            note="'At that time' of the Riyadh talks; dated like them.",
        ),
        PositionStated(
            id="ru-asks-us-not-to-join-istanbul",
            occurred=FuzzyDate.no_later_than(date(2025, 5, 16)),
            sources=[
                cite(
                    "umerov_sanctions",
                    "the Russians asked the American delegation not to join that "
                    "stage of the dialogue.",
                ),
                cite(
                    "umerov_plan",
                    "During some rounds, U.S. mediators were involved, while in "
                    "others, Russia requested the exclusion of foreign mediators.",
                ),
            ],
            party=RU,
            issue="mediation",
            stance=Stance.OPPOSES,
            terms=Terms(text="US or other foreign mediators at the Istanbul talks"),
            claimed_by=UA,
            note="Umerov's account; before the Istanbul stage began on 16 May.",
        ),
        MeetingProposed(
            id="zelensky-in-person-meeting-challenge",
            occurred=FuzzyDate.no_later_than(date(2025, 5, 16)),
            sources=cite(
                "third_round",
                "In previous rounds, Putin had failed to show in-person, sending "
                "lower-level officials to the meeting instead",
            ),
            proposer=UA,
            participants=(UA, RU),
            level="leaders",
            place="Istanbul",
            note=(
                "003 reports Zelensky's willingness for in-person talks at the "
                "rounds; Putin did not come to the first, on 16 May, so the "
                "challenge was made by then."
            ),
        ),
        ProposalRejected(
            id="putin-declines-in-person-meeting",
            occurred=FuzzyDate.no_later_than(date(2025, 5, 16)),
            sources=cite(
                "third_round",
                "In previous rounds, Putin had failed to show in-person, sending "
                "lower-level officials to the meeting instead",
            ),
            proposal="zelensky-in-person-meeting-challenge",
            by=RU,
            reason="sent lower-level officials instead",
            note="Putin did not come to the 16 May round, the first of the rounds.",
        ),
        ProposalMade(
            id="ua-30-day-ceasefire-proposal",
            occurred=FuzzyDate.no_later_than(date(2025, 6, 2)),
            sources=cite(
                "third_round",
                "Despite Ukraine\u2019s insistence on a 30-day ceasefire, Russia has "
                "repeatedly rejected the offer",
            ),
            proposer=UA,
            addressees=(RU,),
            issue="ceasefire",
            terms=Terms(duration_days=Quantity.exactly(30), text="30-day ceasefire"),
            note=(
                "003 does not date it; Russia rejected it at the direct rounds, the "
                "last of which before the article was on 2 June."
            ),
        ),
        ProposalMade(
            id="ru-2-3-day-truce-proposal",
            occurred=direct_rounds,
            sources=[
                cite(
                    "third_round",
                    "proposing only a temporary 2\u20133-day truce in limited areas "
                    "to retrieve the bodies of fallen soldiers.",
                ),
                cite(
                    "umerov_plan",
                    "with the Russian side offering only temporary truces that "
                    "Ukraine deemed insufficient.",
                ),
            ],
            proposer=RU,
            addressees=(UA,),
            issue="ceasefire",
            terms=Terms(
                scope=("limited_areas",),
                duration_days=Quantity(2, 3),
                text="temporary truce in limited areas to retrieve bodies",
            ),
            counters="ua-30-day-ceasefire-proposal",
            note=(
                "003 ties it to the direct rounds of 16 May and 2 June without "
                "saying at which; dated as the span of the two."
            ),
        ),
        ProposalRejected(
            id="ru-rejects-30-day-ceasefire",
            occurred=direct_rounds,
            sources=cite(
                "third_round",
                "Russia rejecting Ukraine\u2019s proposal for a 30-day ceasefire and "
                "instead proposing a temporary 2\u20133-day truce in limited areas",
            ),
            proposal="ua-30-day-ceasefire-proposal",
            by=RU,
            reason="proposes only a temporary 2-3-day truce in limited areas",
            note=(
                "Dated as the span of the 16 May and 2 June rounds ('repeatedly "
                "rejected'). Its id sorts after the counter-proposal's, so replay "
                "keeps the rejection as Russia's latest answer."
            ),
        ),
        ProposalRejected(
            id="ua-rejects-temporary-truces",
            occurred=FuzzyDate.between(date(2025, 5, 16), date(2025, 6, 26)),
            sources=cite(
                "umerov_plan",
                "with the Russian side offering only temporary truces that Ukraine "
                "deemed insufficient.",
            ),
            proposal="ru-2-3-day-truce-proposal",
            by=UA,
            reason="insufficient; Ukraine wants a full ceasefire",
            note="Reported at the 26 June briefing; after the truce was offered.",
        ),
        PositionStated(
            id="2025-05-27-zelensky-ready-for-trilateral",
            occurred=day(2025, 5, 27),
            sources=cite(
                "third_round",
                "On May 27, he told public broadcaster Suspilne that he was ready to "
                "sit down with both Trump and Putin.",
            ),
            party=UA,
            issue="leaders_meeting",
            stance=Stance.SUPPORTS,
            terms=Terms(text="a trilateral meeting with Trump and Putin"),
            text="ready to sit down with both Trump and Putin",
        ),
        MeetingHeld(
            id="2025-06-25-nato-summit-zelensky-trump",
            occurred=day(2025, 6, 25),
            sources=cite(
                "third_round",
                "Zelensky and Trump met during the NATO summit on June 25, where the "
                "two leaders discussed battlefield developments",
            ),
            participants=(UA, US),
            level="leaders",
            place="NATO summit",
            agenda=("battlefield", "air_defense", "drone_coproduction"),
            note="003 does not name the summit's city.",
        ),
        PositionStated(
            id="2025-06-26-umerov-just-peace",
            occurred=day(2025, 6, 26),
            sources=cite(
                "umerov_sanctions",
                "Ukraine once again emphasized that it seeks a just peace, not a "
                "disguised pause to prepare for aggression.",
            ),
            party=UA,
            issue="peace_deal",
            stance=Stance.DEMANDS,
            terms=Terms(text="a just peace, not a pause before renewed aggression"),
            note=(
                "002 (dated 27 June) reports Umerov's meeting with journalists; "
                "000 and 003 date that briefing 26 June."
            ),
        ),
        MeetingProposed(
            id="putin-announces-third-round",
            occurred=FuzzyDate.between(date(2025, 6, 3), date(2025, 6, 27)),
            sources=cite(
                "third_round",
                "Russian President Vladimir Putin announced plans for a third round "
                "of peace talks with Ukraine",
            ),
            proposer=RU,
            participants=(RU, UA),
            level="delegations",
            place="Istanbul (possibly)",
            agenda=("ceasefire",),
            note=(
                "003 does not date the announcement: after the 2 June round it "
                "follows and no later than the article, taken as published 27 June "
                "(the latest day it mentions). 'May be held in Istanbul'."
            ),
        ),
        PositionStated(
            id="2025-06-27-putin-trump-meeting-possible",
            occurred=day(2025, 6, 27),
            sources=cite(
                "third_round",
                'Putin said on June 27 that it was "quite possible" that a meeting '
                "between himself and the U.S. president could take place.",
            ),
            party=RU,
            issue="us_russia_summit",
            stance=Stance.SUPPORTS,
            terms=Terms(text="a Putin-Trump meeting"),
            text="'quite possible' that he and the US president meet",
        ),
        MeetingProposed(
            id="turkey-organizing-leaders-meeting",
            occurred=FuzzyDate.no_later_than(date(2025, 6, 27)),
            sources=cite(
                "third_round",
                "is working to organize a meeting between Zelensky and Putin, with "
                "U.S. President Donald Trump potentially joining the talks.",
            ),
            proposer=TR,
            participants=(UA, RU),
            level="leaders",
            agenda=("peace_deal",),
            note=(
                "Turkey's effort, ongoing when 003 was written (taken as 27 June); "
                "Trump might join. No answer is reported."
            ),
        ),
    )


def _known_july_23() -> tuple[Event, ...]:
    """Build the events first reported on 23 July (article 004)."""
    round_3 = day(2025, 7, 23)
    return (
        DeadlineSet(
            id="2025-07-14-trump-50-day-deadline",
            occurred=day(2025, 7, 14),
            sources=[
                cite(
                    "brief_istanbul",
                    "threatening heavy new sanctions on Russia and countries that "
                    "purchase its exports unless a peace deal was reached within 50 "
                    "days.",
                ),
                cite(
                    "brief_istanbul",
                    "The talks in Istanbul unfolded just over a week after U.S. "
                    "President Donald Trump issued a stern warning",
                ),
            ],
            by=US,
            against=(RU,),
            expires=day(2025, 9, 2),
            demand="reach a peace deal within 50 days",
            consequence="heavy new sanctions on Russia and on buyers of its exports",
            note=(
                "004 dates it only as 'just over a week' before the Wednesday talks "
                "(23 July), i.e. about 13-15 July; the warning is widely documented "
                "on Monday 14 July 2025, nine days before. 50 days from 14 July ends "
                "on 2 September 2025."
            ),
        ),
        PositionStated(
            id="kremlin-sources-putin-unfazed",
            occurred=FuzzyDate.between(date(2025, 7, 14), date(2025, 7, 23)),
            sources=cite(
                "brief_istanbul",
                "Putin remains unfazed by Trump\u2019s ultimatum and intends to "
                "continue fighting in Ukraine until the West engages on his terms "
                "for peace",
            ),
            party=RU,
            issue="peace_deal",
            stance=Stance.DEMANDS,
            terms=Terms(
                conditions=("the West engages on Putin's terms for peace",),
                text="continue fighting; territorial demands may widen",
            ),
            claimed_by="REUTERS",
            note=(
                "Sources close to the Kremlin told Reuters 'recently': after Trump's "
                "14 July ultimatum and no later than the 23 July article."
            ),
        ),
        PositionStated(
            id="putin-questions-zelensky-legitimacy",
            occurred=FuzzyDate.no_later_than(date(2025, 7, 23)),
            sources=cite(
                "brief_istanbul",
                "has publicly questioned Zelenskiy\u2019s legitimacy as leader",
            ),
            party=RU,
            issue="zelensky_legitimacy",
            stance=Stance.OPPOSES,
            text="no elections under martial law after the mandate expired",
            note="Undated in 004 ('has publicly questioned'); by 23 July.",
        ),
        ProposalRejected(
            id="putin-turned-down-in-person-challenge",
            occurred=FuzzyDate.no_later_than(date(2025, 7, 23)),
            sources=cite(
                "brief_istanbul",
                "Putin had previously turned down Zelenskiy\u2019s challenge for an "
                "in-person meeting",
            ),
            proposal="zelensky-in-person-meeting-challenge",
            by=RU,
            note=(
                "004's report of the refusal, undated ('had previously'): by 23 July. "
                "It is the refusal 003 already reported; the 24 July review merges "
                "it into putin-declines-in-person-meeting."
            ),
        ),
        MeetingHeld(
            id="2025-07-23-istanbul-round-3",
            occurred=round_3,
            sources=[
                cite(
                    "brief_istanbul",
                    "Delegations from Russia and Ukraine met in Istanbul on Wednesday "
                    "for a brief session of peace talks",
                ),
                cite(
                    "brief_istanbul",
                    "The 40-minute encounter marked one of the shortest direct "
                    "engagements between the two warring nations since renewed talks "
                    "began.",
                ),
            ],
            participants=(UA, RU),
            level="delegations",
            place=ISTANBUL,
            duration_minutes=Quantity.exactly(40),
            agenda=(
                "prisoner_exchange",
                "humanitarian",
                "ceasefire",
                "leaders_meeting",
            ),
            outcome=(
                "Progress on the humanitarian track; no progress on a cessation of "
                "hostilities or on a leaders' meeting."
            ),
            proposal="putin-announces-third-round",
            note=(
                "004 says only 'on Wednesday'; its page header 'Wednesday, December "
                "10, 2025' is the site's date display, not the talks' date. The "
                "round came after Putin announced it (003, by 27 June), before the "
                "proposed end-of-August leaders' meeting and 'just over a week "
                "after' Trump's 50-day warning of 14 July: Wednesday 23 July 2025, "
                "nine days later, the widely documented date. Chief delegates "
                "Umerov (UA) and Medinsky (RU); the Kremlin had called the positions "
                "'diametrically opposed' beforehand."
            ),
        ),
        SwapCompleted(
            id="2025-07-23-prisoner-swap",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "A prisoner swap had already taken place on Wednesday, coinciding "
                "with the talks.",
            ),
            releases=(
                Release(by=RU, category="prisoners", to=UA),
                Release(by=UA, category="prisoners", to=RU),
            ),
            note=(
                "004 gives no figures and no agreement for this swap. Wednesday is "
                "the day of the talks, 23 July (see the round's note)."
            ),
        ),
        AgreementReached(
            id="2025-07-23-agreement-1200-more-pows",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "Medinsky announced that negotiators had agreed to exchange at least "
                "1,200 more prisoners of war from each side.",
            ),
            parties=(UA, RU),
            issue="prisoner_exchange",
            terms=Terms(
                quantity=Quantity(at_least=1200),
                categories=("prisoners_of_war",),
                text="at least 1,200 more prisoners of war from each side",
            ),
            meeting="2025-07-23-istanbul-round-3",
            claimed_by=RU,
            note="Announced by Medinsky; Umerov spoke of humanitarian progress.",
        ),
        MeetingProposed(
            id="2025-07-23-ua-proposes-leaders-meeting",
            occurred=round_3,
            sources=[
                cite(
                    "brief_istanbul",
                    "He revealed that Ukraine had formally proposed a meeting between "
                    "Ukrainian President Volodymyr Zelenskiy and Russian President "
                    "Vladimir Putin before the end of August.",
                ),
                cite(
                    "brief_istanbul",
                    "deliberately timed to fall within the 50-day deadline set by "
                    "U.S. President Trump",
                ),
            ],
            proposer=UA,
            participants=(UA, RU),
            level="leaders",
            window=FuzzyDate.no_later_than(date(2025, 8, 31)),
            agenda=("peace_deal", "ceasefire"),
            note=(
                "Made formally at the 23 July round (Umerov). Bevz: timed to fall "
                "within Trump's 50-day deadline (2 September)."
            ),
        ),
        ProposalRejected(
            id="2025-07-23-ru-rejects-leaders-meeting",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "the purpose of such a high-level meeting should be to sign an "
                "already agreed-upon document, not to \u201cdiscuss everything from "
                "scratch.\u201d",
            ),
            proposal="2025-07-23-ua-proposes-leaders-meeting",
            by=RU,
            reason=(
                "a leaders' meeting should sign an agreed document, not start "
                "negotiations"
            ),
            note=(
                "Medinsky pushed back on a leaders' meeting as a starting point; he "
                "did not rule one out to sign a finished document. Recorded as a "
                "rejection of the meeting as proposed."
            ),
        ),
        ProposalMade(
            id="2025-07-23-ru-24-48-hour-ceasefires",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "Medinsky reiterated Moscow\u2019s long-standing call for a series of "
                "short ceasefires, lasting 24-48 hours, primarily to facilitate the "
                "retrieval of bodies.",
            ),
            proposer=RU,
            addressees=(UA,),
            issue="ceasefire",
            terms=Terms(
                duration_days=Quantity(1, 2),
                text="series of short 24-48-hour ceasefires to retrieve bodies",
            ),
            supersedes="ru-2-3-day-truce-proposal",
            note=(
                "A 'reiterated' call: recorded as replacing Russia's 2-3-day truce "
                "offer (003), whose length 004 gives as 24-48 hours (1-2 days)."
            ),
        ),
        ProposalRejected(
            id="2025-07-23-ua-rejects-short-ceasefires",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "Ukraine, conversely, continues to insist on an immediate and much "
                "longer, comprehensive ceasefire.",
            ),
            proposal="2025-07-23-ru-24-48-hour-ceasefires",
            by=UA,
            reason="insists on an immediate, much longer, comprehensive ceasefire",
            note=(
                "004 reports Ukraine's continued insistence in answer, not the word "
                "'rejected'; read as declining the short truces, as 000 reports for "
                "Russia's earlier temporary truces."
            ),
        ),
        PositionStated(
            id="2025-07-23-ua-comprehensive-ceasefire",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "\u201cWe have progress on the humanitarian track, with no progress "
                "on a cessation of hostilities.\u201d",
            ),
            party=UA,
            issue="ceasefire",
            stance=Stance.DEMANDS,
            terms=Terms(text="an immediate, much longer, comprehensive ceasefire"),
            text="no progress on a cessation of hostilities",
        ),
        ProposalMade(
            id="2025-07-23-ru-offers-3000-bodies",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "he stated that Russia had offered to hand over another 3,000 "
                "Ukrainian bodies.",
            ),
            proposer=RU,
            addressees=(UA,),
            issue="bodies_repatriation",
            terms=Terms(
                quantity=Quantity.exactly(3000),
                categories=("bodies",),
                text="hand over another 3,000 Ukrainian bodies",
            ),
            claimed_by=RU,
            note="Medinsky's statement at the 23 July round; no answer is reported.",
        ),
        PositionStated(
            id="2025-07-23-ru-children-position",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "Russia denies the abduction charge, asserting it has offered "
                "protection to children separated from their parents during the "
                "conflict.",
            ),
            party=RU,
            issue="children",
            stance=Stance.OFFERS,
            terms=Terms(
                categories=("children",),
                conditions=("legal parents, relatives or representatives are found",),
                text="return children once their families are found",
            ),
            text="some children already returned; work under way on the rest",
            claimed_by=RU,
        ),
        FigureReported(
            id="2025-07-23-children-list-339",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "Medinsky claimed Moscow was working through a list of 339 names "
                "provided by Kyiv.",
            ),
            subject="children/sought_by_ukraine",
            value=Quantity.exactly(339),
            text="list of 339 names provided by Kyiv",
            claimed_by=RU,
            note=(
                "The length of Kyiv's list as Medinsky gives it; Russia denies "
                "abducting children."
            ),
        ),
        FigureReported(
            id="ua-children-deported-19000",
            occurred=FuzzyDate.no_later_than(date(2025, 7, 23)),
            sources=cite(
                "brief_istanbul",
                "Ukrainian authorities estimate that they have forcibly deported at "
                "least 19,000 children.",
            ),
            subject="children/sought_by_ukraine",
            value=Quantity(at_least=19000),
            text="at least 19,000 children forcibly deported",
            claimed_by=UA,
            note="Ukraine's standing estimate, undated in 004; by 23 July.",
        ),
        PositionStated(
            id="2025-07-23-ua-humanitarian-demands",
            occurred=round_3,
            sources=cite(
                "brief_istanbul",
                "continued to \u201cinsist on the release of civilians, including "
                "children.\u201d",
            ),
            party=UA,
            issue="humanitarian",
            stance=Stance.DEMANDS,
            terms=Terms(
                categories=("prisoners_of_war", "civilians", "children"),
                text="further progress on POWs; release of civilians and children",
            ),
        ),
    )


def _corrected_july_23(meetings: Mapping[str, MeetingHeld]) -> tuple[Event, ...]:
    """Build the corrections that article 004 (known 23 July) makes to earlier meetings.

    004 gives the first two Istanbul rounds "under three hours" together, which
    bounds both rounds' durations.
    """
    combined = cite(
        "brief_istanbul",
        "Wednesday\u2019s session was notably shorter than the previous encounters on "
        "May 16 and June 2, which combined lasted under three hours.",
    )
    round_1 = meetings["2025-05-16-istanbul-round-1"]
    round_2 = meetings["2025-06-02-istanbul-round-2"]
    return (
        EventCorrected(
            id="2025-07-23-round-1-duration-bounded",
            occurred=day(2025, 7, 23),
            sources=combined,
            target=round_1.id,
            replacement=attrs.evolve(
                round_1,
                sources=(*round_1.sources, combined),
                duration_minutes=Quantity(at_least=60, at_most=179),
                note=(
                    "First direct talks since 2022; Umerov reported on it for "
                    "Ukraine. 001 names no delegation heads. 'A little over an hour' "
                    "(001): at least 60 minutes; 004 caps it at 179 (see the "
                    "correction's note)."
                ),
            ),
            note=(
                "004: the 16 May and 2 June rounds 'combined lasted under three "
                "hours', i.e. under 180 minutes, at most 179 whole minutes together. "
                "So 16 May alone lasted at most 179 minutes; 001's 'a little over an "
                "hour' keeps at least 60. Read as 'each longer than 40 minutes', "
                "'notably shorter than the previous encounters' would cap it at 139; "
                "not applied, as it may compare the 40 minutes with both together."
            ),
        ),
        EventCorrected(
            id="2025-07-23-round-2-duration-bounded",
            occurred=day(2025, 7, 23),
            sources=combined,
            target=round_2.id,
            replacement=attrs.evolve(
                round_2,
                sources=(*round_2.sources, combined),
                duration_minutes=Quantity(at_most=119),
                note=(
                    "001 gives no duration; 004's combined figure with the 16 May "
                    "round leaves at most 119 minutes (see the correction's note)."
                ),
            ),
            note=(
                "004: 16 May and 2 June together at most 179 minutes; 16 May lasted "
                "at least 60 (001), so 2 June lasted at most 179 - 60 = 119 minutes. "
                "No lower bound is used (see the 16 May correction's note)."
            ),
        ),
    )


def _reviewed_july_24() -> tuple[Event, ...]:
    """Build the revisions of the review on 24 July, which found a duplicate report."""
    return (
        EventsMerged(
            id="2025-07-24-in-person-refusal-merged",
            occurred=REVIEW_DAY,
            sources=[
                cite(
                    "third_round",
                    "In previous rounds, Putin had failed to show in-person, sending "
                    "lower-level officials to the meeting instead",
                ),
                cite(
                    "brief_istanbul",
                    "Putin had previously turned down Zelenskiy\u2019s challenge for "
                    "an in-person meeting",
                ),
            ],
            kept="putin-declines-in-person-meeting",
            duplicates=("putin-turned-down-in-person-challenge",),
            note=(
                "003 and 004 report one refusal of one challenge: Zelensky's call for "
                "in-person talks, which Putin did not take up by the 16 May round. "
                "003's event, dated by 16 May, is kept; 004's undated report adds its "
                "source."
            ),
        ),
    )


def build_events() -> list[Batch]:
    """Build every event, in batches by the day its report became known."""
    june_26 = _known_june_26()
    june_27 = _known_june_27()
    meetings = {
        event.id: event
        for event in (*june_26, *june_27)
        if isinstance(event, MeetingHeld)
    }
    return [
        Batch(KNOWN_ON["babel"], june_26),
        Batch(KNOWN_ON["third_round"], june_27),
        Batch(
            KNOWN_ON["brief_istanbul"],
            (*_known_july_23(), *_corrected_july_23(meetings)),
        ),
        Batch(REVIEW_DAY, _reviewed_july_24()),
    ]


def main() -> None:
    """Rewrite ``talks.jsonl`` (and its head file) from scratch, a batch an append."""
    LOG_PATH.unlink(missing_ok=True)
    HEAD_PATH.unlink(missing_ok=True)
    clock = BatchClock()
    with open_log(LOG_PATH, clock=clock) as log:
        for batch in build_events():
            clock.day = batch.known_on
            log.append_many(batch.events)
        count = len(log)
    print(f"wrote {count} events to {LOG_PATH.name}")


if __name__ == "__main__":
    main()
