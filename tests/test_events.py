from __future__ import annotations

from datetime import date

import attrs
import pytest

import negstate as ns

SOURCE = ns.Source(title="A report")


class TestConstruction:
    """Events are frozen, keyword-only and checked when built."""

    def test_frozen(self) -> None:
        event = ns.PositionStated(
            id="s",
            occurred="2025-05",
            sources=SOURCE,
            party="UA",
            issue="ceasefire",
            stance="demands",
        )
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            event.party = "RU"  # type: ignore[misc]
        assert event.stance is ns.Stance.DEMANDS
        assert event.occurred == ns.FuzzyDate.month(2025, 5)

    def test_accepts_days_and_lists(self) -> None:
        event = ns.ProposalMade(
            id="p",
            occurred=date(2025, 3, 11),
            sources=[SOURCE],
            proposer="UA",
            addressees=["RU"],
            issue="ceasefire",
        )
        assert event.addressees == ("RU",)
        assert event.occurred.is_exact
        assert event.actors == ("UA", "RU")

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"id": ""}, "field 'id'"),
            ({"id": "a/b"}, "field 'id'"),
            ({"sources": []}, "at least one source"),
            ({"addressees": ["UA"]}, "cannot address its own proposal"),
            ({"addressees": []}, "field 'addressees': must not be empty"),
            ({"addressees": ["RU", "RU"]}, "same identifier twice"),
            ({"occurred": "late 2025"}, "cannot read"),
            ({"counters": "p"}, "refers to itself"),
            ({"issue": 5}, "field 'issue'"),
        ],
    )
    def test_invalid_fields(self, fields: dict[str, object], message: str) -> None:
        values: dict[str, object] = {
            "id": "p",
            "occurred": "2025-03",
            "sources": SOURCE,
            "proposer": "UA",
            "addressees": ["RU"],
            "issue": "ceasefire",
        }
        with pytest.raises(ns.NegstateError, match=message):
            ns.ProposalMade(**{**values, **fields})  # type: ignore[arg-type]

    def test_negative_release(self) -> None:
        with pytest.raises(
            ns.InvalidEventError, match=r"field 'count': must be >= 0 \(got -5\)"
        ):
            ns.Release(by="UA", category="bodies", count=-5)

    def test_long_quote(self) -> None:
        with pytest.raises(ns.InvalidEventError, match="more than 25"):
            ns.Source(title="t", quote=" ".join(["word"] * 26))

    def test_unknown_stance(self) -> None:
        with pytest.raises(ns.InvalidEventError, match="stance"):
            ns.PositionStated(
                id="s",
                occurred="2025",
                sources=SOURCE,
                party="UA",
                issue="x",
                stance="maybe",
            )

    def test_deadline_cannot_expire_before_it_is_set(self) -> None:
        with pytest.raises(ns.InvalidEventError, match="expires"):
            ns.DeadlineSet(
                id="d",
                occurred="2025-07-14",
                sources=SOURCE,
                by="US",
                against=["RU"],
                expires="2025-07-01",
                demand="peace",
                consequence="sanctions",
            )

    def test_figure_needs_a_claimant(self) -> None:
        with pytest.raises(ns.InvalidEventError, match="claimant"):
            ns.FigureReported(
                id="f",
                occurred="2025-07-23",
                sources=SOURCE,
                subject="children/deported",
                value=ns.Quantity(at_least=19000),
            )

    def test_quantity_bounds(self) -> None:
        with pytest.raises(ns.InvalidEventError):
            ns.Quantity(5, 1)
        assert str(ns.Quantity(at_least=1200)) == "at least 1,200"
        assert str(ns.Quantity(at_most=1200)) == "up to 1,200"
        assert str(ns.Quantity(24, 48)) == "24-48"
