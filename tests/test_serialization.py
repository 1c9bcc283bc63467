from __future__ import annotations

import json
from datetime import date

import cattrs
import pytest
from hypothesis import given

import negstate as ns
from negstate._fastdecode import FastDecoder
from negstate.serialization import decode_event, encode_event
from tests.strategies import days_in_streams, event_streams, events


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
