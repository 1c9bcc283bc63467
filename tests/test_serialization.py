from __future__ import annotations

import enum
import json
from datetime import date

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import negstate as ns
from negstate._fastdecode import FastDecoder
from negstate._fastencode import FastEncoder
from negstate.events import to_fuzzy_date
from negstate.records import canonical_event
from negstate.serialization import decode_event, encode_event
from tests.strategies import days_in_streams, event_streams, events, revised_streams


class TestRoundTrips:
    """structure(unstructure(x)) == x, through JSON text."""

    @given(events())
    def test_events(self, event: ns.Event) -> None:
        """Every event survives JSON."""
        converter = ns.make_converter()
        text = json.dumps(encode_event(event, converter))
        assert decode_event(json.loads(text), converter) == event

    @given(event_streams(), days_in_streams())
    def test_states(self, stream: list[ns.Event], day: date) -> None:
        """A state, with its dated statuses, survives JSON."""
        converter = ns.make_converter()
        state = ns.state_at(stream, on=day)
        text = json.dumps(converter.unstructure(state))
        assert converter.structure(json.loads(text), ns.NegotiationState) == state

    def test_tag_is_the_type_field(self) -> None:
        converter = ns.make_converter()
        event = ns.ProposalRejected(
            id="r",
            occurred="2025-03",
            sources=ns.Source(title="t"),
            proposal="p",
            by="RU",
        )
        encoded = encode_event(event, converter)
        assert encoded["type"] == "ProposalRejected"
        assert encoded["occurred"] == "2025-03"
        assert "reason" not in encoded

    def test_global_converter_untouched(self) -> None:
        ns.make_converter()
        with pytest.raises(Exception):  # noqa: B017, PT011 - cattrs' own error type varies
            cattrs.structure("2025-03", ns.FuzzyDate)


class TestBadRecords:
    """Bad data raises LogFormatError naming the event and the field."""

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"type": "Nope"}, "unknown event type 'Nope'"),
            ({"extra": 1}, "unexpected field"),
            ({"by": 5}, "field 'by': expected str"),
            ({"occurred": "2025-02-30"}, "field 'occurred'"),
            ({"sources": []}, "field 'sources'"),
            ({"sources": "a report"}, "field 'sources': expected a list"),
            ({"proposal": None}, "field 'proposal'"),
        ],
    )
    def test_named(self, change: dict[str, object], message: str) -> None:
        converter = ns.make_converter()
        event = ns.ProposalRejected(
            id="r",
            occurred="2025-03",
            sources=ns.Source(title="t"),
            proposal="p",
            by="RU",
        )
        raw = {**encode_event(event, converter), **change}
        with pytest.raises(ns.LogFormatError, match=message) as caught:
            decode_event(raw, converter, where="log.jsonl:7")
        assert str(caught.value).startswith("log.jsonl:7: event 'r'")

    def test_missing_field(self) -> None:
        converter = ns.make_converter()
        raw = {
            "type": "ProposalRejected",
            "id": "r",
            "occurred": "2025",
            "sources": [{"title": "t"}],
            "by": "RU",
        }
        with pytest.raises(
            ns.LogFormatError, match="field 'proposal': required field missing"
        ):
            decode_event(raw, converter)

    def test_negative_count_names_the_nested_field(self) -> None:
        converter = ns.make_converter()
        raw = {
            "type": "SwapCompleted",
            "id": "swap-0609",
            "occurred": "2025-06-09",
            "sources": [{"title": "t"}],
            "releases": [{"by": "UA", "category": "prisoners_of_war", "count": -5}],
        }
        with pytest.raises(ns.LogFormatError) as caught:
            decode_event(raw, converter, where="log.jsonl:41")
        assert str(caught.value).startswith(
            "log.jsonl:41: event 'swap-0609': field 'releases[0].count': "
            "must be >= 0 (got -5)"
        )


class TestFastDecoder:
    """The trusted read path builds exactly what the strict decoder builds."""

    @given(events())
    def test_agrees_with_the_strict_decoder(self, event: ns.Event) -> None:
        """Every event decodes to the same value by both paths."""
        converter = ns.make_converter()
        raw = json.loads(json.dumps(encode_event(event, converter)))
        fast = FastDecoder(ns.BUILTIN_EVENTS, converter)
        assert fast.decode(raw) == decode_event(raw, converter) == event

    def test_shares_equal_values(self) -> None:
        converter = ns.make_converter()
        fast = FastDecoder(ns.BUILTIN_EVENTS, converter)
        raws = [
            {
                "type": "PositionStated",
                "id": f"s{n}",
                "occurred": "late May 2025",
                "sources": [{"title": "t"}],
                "party": "UA",
                "issue": "ceasefire",
                "stance": "demands",
            }
            for n in range(2)
        ]
        first, second = (fast.decode(raw) for raw in raws)
        assert first.occurred is second.occurred
        assert first.sources is second.sources or first.sources[0] is second.sources[0]


@attrs.frozen(kw_only=True)
class Communique(ns.Event):
    """A user's event whose fields the generated writer knows."""

    party: str
    signatories: tuple[str, ...] = ()
    copies: int | None = None
    released: date | None = None
    channel: ns.Stance = ns.Stance.DEMANDS


@attrs.frozen(kw_only=True)
class Poll(ns.Event):
    """A user's event with a field of a kind the generated writer leaves alone."""

    share: float
    by_region: dict[str, float] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Tally(ns.Event):
    """A user's event with an unchecked whole-number field."""

    count: int


@attrs.frozen(kw_only=True)
class Amendment(ns.Event):
    """A user's event holding another event of one class."""

    amended: ns.PositionStated


@attrs.frozen(kw_only=True)
class Clause:
    """A user's value class that holds itself."""

    text: str
    parent: Clause | None = None


@attrs.frozen(kw_only=True)
class Treaty(ns.Event):
    """A user's event holding a value class that holds itself."""

    clause: Clause


class Channel(enum.Enum):
    """How a user's event was delivered."""

    WIRE = "wire"
    ENVOY = "envoy"


UNIT = {"name": "people"}
"""What a user's factory reads: it may change between writes."""


@attrs.frozen(kw_only=True)
class Dispatch(ns.Event):
    """A user's event whose defaults go through attrs converters or factories."""

    channel: Channel = attrs.field(default="wire", converter=Channel)
    window: ns.FuzzyDate = attrs.field(default="2025", converter=to_fuzzy_date)
    copies: tuple[str, ...] = attrs.field(factory=list, converter=tuple)
    unit: str = attrs.field(factory=lambda: UNIT["name"])


def ignore(draft: ns.StateDraft, event: ns.Event) -> None:
    """A reducer that changes nothing: these tests only write events."""


USER_EVENTS = (
    ns.BUILTIN_EVENTS.with_event(Communique, ignore)
    .with_event(Poll, ignore)
    .with_event(Tally, ignore)
    .with_event(Amendment, ignore)
    .with_event(Treaty, ignore)
    .with_event(Dispatch, ignore)
)
STATED = ns.PositionStated(
    id="s",
    occurred="2025",
    sources=ns.Source(title="t"),
    party="UA",
    issue="x",
    stance="demands",
)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


def generated_only(fast: FastEncoder) -> FastEncoder:
    """``fast``, failing the test if it writes an event through the converter."""

    def refused(event: ns.Event) -> str:
        pytest.fail(f"{type(event).__name__} was written through the converter")

    fast.through_converter = refused  # type: ignore[method-assign]
    return fast


class TestFastEncoder:
    """The append path's generated writer gives the converter's text, byte for byte."""

    @given(revised_streams(), TEXT, TEXT)
    def test_agrees_with_the_converter(
        self, stream: list[ns.Event], note: str, quote: str
    ) -> None:
        """Every event, revision and nested replacement, with any text in it (quotes,
        backslashes, control and non-ASCII characters), is written alike."""
        converter = ns.make_converter()
        fast = generated_only(FastEncoder(ns.BUILTIN_EVENTS, converter))
        source = ns.Source(title="t", quote=quote or None, published="2025-05-16")
        for event in stream:
            for written in (event, attrs.evolve(event, note=note, sources=source)):
                assert fast.canonical(written) == canonical_event(written, converter)

    @given(
        TEXT.filter(str.strip),
        st.lists(st.sampled_from(["UA", "RU", "US"]), max_size=3),
        st.none() | st.integers(0, 10**20),
        st.none() | st.dates(),
        st.sampled_from(ns.Stance),
    )
    def test_user_events_of_known_kinds(
        self,
        party: str,
        signatories: list[str],
        copies: int | None,
        released: date | None,
        channel: ns.Stance,
    ) -> None:
        """A user's event of text, tuples, optional numbers, days and enums, at
        their defaults or not, is written as the converter writes it."""
        converter = ns.make_converter(USER_EVENTS)
        event = Communique(
            id="c1",
            occurred="late May 2025",
            sources=ns.Source(title="t"),
            party=party,
            signatories=tuple(signatories),
            copies=copies,
            released=released,
            channel=channel,
        )
        fast = generated_only(FastEncoder(USER_EVENTS, converter))
        assert fast.canonical(event) == canonical_event(event, converter)

    def test_fields_of_other_kinds_go_through_the_converter(self) -> None:
        converter = ns.make_converter(USER_EVENTS)
        poll = Poll(
            id="p1",
            occurred="2025-05",
            sources=ns.Source(title="t"),
            share=0.25,
            by_region={"east": 0.5},
        )
        written = FastEncoder(USER_EVENTS, converter).canonical(poll)
        assert written == canonical_event(poll, converter)
        assert '"by_region":{"east":0.5}' in written

    def test_an_unexpected_value_goes_through_the_converter(self) -> None:
        """A bool in an unchecked int field: JSON writes true, not 1."""
        converter = ns.make_converter(USER_EVENTS)
        tally = Tally(id="t", occurred="2025", sources=ns.Source(title="t"), count=True)
        written = FastEncoder(USER_EVENTS, converter).canonical(tally)
        assert written == canonical_event(tally, converter)
        assert '"count":true' in written

    def test_classes_it_does_not_mirror_go_through_the_converter(self) -> None:
        """A field of one event class is written as a tagged union (with "type"),
        and a value class may hold itself: both are left to the converter."""
        converter = ns.make_converter(USER_EVENTS)
        source = ns.Source(title="t")
        amendment = Amendment(id="a", occurred="2025", sources=source, amended=STATED)
        treaty = Treaty(
            id="t",
            occurred="2025",
            sources=source,
            clause=Clause(text="b", parent=Clause(text="a")),
        )
        fast = FastEncoder(USER_EVENTS, converter)
        for event in (amendment, treaty):
            assert fast.canonical(event) == canonical_event(event, converter)
        assert '"stance":"demands","type":"PositionStated"' in fast.canonical(amendment)

    def test_defaults_as_the_converter_compares_them(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A default is compared after its field's attrs converter, and a factory's
        value as it is at each write, as the converter's generated code does."""
        converter = ns.make_converter(USER_EVENTS)
        fast = generated_only(FastEncoder(USER_EVENTS, converter))
        source = ns.Source(title="t")
        left_out = Dispatch(id="d1", occurred="2025-05", sources=source)
        written = Dispatch(
            id="d2",
            occurred="2025-05",
            sources=source,
            channel=Channel.ENVOY,
            window="2026",
            copies=["UA"],
            unit="prisoners",
        )
        for event in (left_out, written):
            assert fast.canonical(event) == canonical_event(event, converter)
        assert fast.canonical(left_out).startswith('{"id":"d1","occurred"')
        monkeypatch.setitem(UNIT, "name", "prisoners")
        assert fast.canonical(written) == canonical_event(written, converter)
        assert '"unit"' not in fast.canonical(written)

    def test_a_converter_that_writes_defaults(self) -> None:
        converter = ns.make_converter(USER_EVENTS, omit_defaults=False)
        written = FastEncoder(USER_EVENTS, converter).canonical(STATED)
        assert written == canonical_event(STATED, converter)
        assert '"note":""' in written

    def test_an_iterator_in_a_tuple_field_is_left_whole(self) -> None:
        """An iterator where a tuple belongs goes to the converter unspent."""
        converter = ns.make_converter(USER_EVENTS)
        communique = Communique(
            id="c", occurred="2025", sources=ns.Source(title="t"), party="UA"
        )
        object.__setattr__(communique, "signatories", iter(["UA", 5]))
        written = FastEncoder(USER_EVENTS, converter).canonical(communique)
        assert '"signatories":["UA",5]' in written
