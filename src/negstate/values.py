"""The small values events carry: sources, quantities, terms, releases, stances.

Parties, issues, exchange categories, meeting levels and media are plain strings
that follow one identifier rule (1-200 characters, no ``/``), so users add their own
(``"TR"``, ``"grain_corridor"``) without touching negstate.  The common ones are
named in :mod:`negstate.vocabulary`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

import attrs

from negstate._checks import (
    identifier,
    identifiers,
    invalid,
    natural_or_none,
    optional_identifier,
    optional_text,
    text,
    texts,
    to_tuple,
)

__all__ = ["MAX_QUOTE_WORDS", "Quantity", "Release", "Source", "Stance", "Terms"]

MAX_QUOTE_WORDS: Final = 25
"""A source's quote is a short excerpt that shows the claim, never the article."""


class Stance(StrEnum):
    """What a party says about an issue, in a form a program can compare."""

    SUPPORTS = "supports"
    """In favour of the terms given."""
    OPPOSES = "opposes"
    """Against the terms given."""
    DEMANDS = "demands"
    """Insists on the terms as a condition."""
    OFFERS = "offers"
    """Puts the terms on the table as its own offer."""
    CONDITIONAL = "conditional"
    """Would agree only if the conditions in the terms are met."""
    UNDECIDED = "undecided"
    """Has said it has not made up its mind."""


def _check_quantity(
    instance: Quantity, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    natural_or_none(instance, attribute, value)
    low = instance.at_least
    if low is None and value is None:
        raise invalid(
            instance, "quantity", "needs at least one bound", "give at_least or at_most"
        )
    if low is not None and value is not None and low > value:
        raise invalid(
            instance,
            "quantity",
            f"at_least {low} is above at_most {value}",
            "swap the bounds",
        )


@attrs.frozen
class Quantity:
    """A figure as precisely as reported: exact, "at least", "up to" or a range.

    ``Quantity.exactly(1000)``, ``Quantity(at_least=1200)``, ``Quantity(at_most=1200)``
    and ``Quantity(24, 48)`` cover what reports say.
    """

    at_least: int | None = attrs.field(default=None, validator=natural_or_none)
    at_most: int | None = attrs.field(default=None, validator=_check_quantity)

    @classmethod
    def exactly(cls, value: int) -> Quantity:
        """A figure known exactly."""
        return cls(value, value)

    @property
    def is_exact(self) -> bool:
        """True when both bounds are known and equal."""
        return self.at_least is not None and self.at_least == self.at_most

    def __str__(self) -> str:
        low, high = self.at_least, self.at_most
        if high is None:
            return f"at least {low:,}"
        if low is None or low == 0:
            return f"up to {high:,}"
        if low == high:
            return f"{low:,}"
        return f"{low:,}-{high:,}"


def _to_day(value: date | str | None) -> date | None:
    """Accept a day as a ``date`` or as ``YYYY-MM-DD`` text."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise invalid(
                None, "published", f"{value!r} is not a day", "write it as YYYY-MM-DD"
            ) from None
    return value


@attrs.frozen(kw_only=True)
class Source:
    """The report an event rests on: outlet, title, publication day, short quote."""

    title: str = attrs.field(validator=text)
    outlet: str | None = attrs.field(default=None, validator=optional_text)
    published: date | None = attrs.field(default=None, converter=_to_day)
    url: str | None = attrs.field(default=None, validator=optional_text)
    quote: str | None = attrs.field(default=None, validator=optional_text)

    def __attrs_post_init__(self) -> None:
        if not self.title.strip():
            raise invalid(self, "title", "a source needs a title", "give the headline")
        if self.published is not None and type(self.published) is not date:
            raise invalid(
                self,
                "published",
                f"must be a day, got {self.published!r}",
                "pass a datetime.date",
            )
        if self.quote is not None and len(self.quote.split()) > MAX_QUOTE_WORDS:
            raise invalid(
                self,
                "quote",
                f"has {len(self.quote.split())} words, more than {MAX_QUOTE_WORDS}",
                "quote only the words that carry the claim",
            )

    def cite(self) -> str:
        """One line for people: ``Outlet, "Title" (2025-06-27)``."""
        parts = [self.outlet] if self.outlet else []
        parts.append(f'"{self.title}"')
        cited = ", ".join(parts)
        return f"{cited} ({self.published})" if self.published else cited


@attrs.frozen(kw_only=True)
class Terms:
    """What a proposal, agreement or position is about, in comparable parts.

    ``scope`` names domains (``land``, ``sea``, ``air``, ``energy_infrastructure``),
    ``duration_days`` says how long it lasts, ``quantity`` how many (for instance per
    side in an exchange), ``categories`` which kinds of people, ``conditions`` what
    must hold first, and ``text`` says it in words.
    """

    scope: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=identifiers
    )
    duration_days: Quantity | None = None
    quantity: Quantity | None = None
    categories: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=identifiers
    )
    conditions: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=texts
    )
    text: str = attrs.field(default="", validator=text)

    def describe(self) -> str:
        """A short line for tables: scope, duration, quantity, categories, text."""
        parts: list[str] = []
        if self.scope:
            parts.append("+".join(self.scope))
        if self.duration_days is not None:
            parts.append(f"{self.duration_days} days")
        if self.quantity is not None:
            parts.append(f"x{self.quantity}")
        if self.categories:
            parts.append(", ".join(self.categories))
        if self.conditions:
            parts.append("if " + "; ".join(self.conditions))
        if self.text:
            parts.append(self.text)
        return " | ".join(parts)


@attrs.frozen(kw_only=True)
class Release:
    """One side's part of a swap: who released how many people of which category.

    ``count`` is ``None`` when the report gives no number; totals then say so instead
    of guessing.
    """

    by: str = attrs.field(validator=identifier)
    category: str = attrs.field(validator=identifier)
    count: int | None = attrs.field(default=None, validator=natural_or_none)
    to: str | None = attrs.field(default=None, validator=optional_identifier)
