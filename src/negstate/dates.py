"""Fuzzy dates: when something happened, as precisely as the reports allow.

A :class:`FuzzyDate` is a closed span of days, ``earliest`` to ``latest``; either end
may be open (``None``) when a report only says "before the end of August" or "since
March".  Its text form is a subset of the Library of Congress Extended Date/Time
Format (EDTF): a day ``2025-05-16``, a month ``2025-05``, a year ``2025``, an interval
``2025-05-21/2025-05-31`` and open intervals ``../2025-08-31`` or ``2025-03-01/..``.

The replay rule that uses these spans lives in :mod:`negstate.replay`: an event
*surely* happened by day D once its latest possible day is on or before D, and
*possibly* happened once its earliest possible day is.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Final, Literal

import attrs

from negstate.errors import FuzzyDateError

__all__ = ["MONTH_PARTS", "OPEN_END", "FuzzyDate", "MonthPart", "parse_day"]

MonthPart = Literal["early", "mid", "late"]

OPEN_END: Final = date.max.toordinal() + 1
"""The ordinal that stands for an open end: after every real day."""

MONTH_PARTS: Final[dict[str, tuple[int, int | None]]] = {
    "early": (1, 10),
    "mid": (11, 20),
    "late": (21, None),
}
"""The days each part of a month covers; ``None`` is the month's last day."""

_MONTH_NAMES: Final = {
    name.lower(): number for number, name in enumerate(calendar.month_name) if name
} | {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"(\d{4})")
_OPEN = ("..", "")
_HOW_TO_WRITE = (
    "write EDTF (YYYY, YYYY-MM, YYYY-MM-DD, an interval A/B, ../B or A/..) "
    "or a phrase such as 'late May 2025'"
)
_PART_HYPHEN = re.compile(r"^(early|mid|late)-", re.IGNORECASE)


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _make_day(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise FuzzyDateError(
            f"{text!r} is not a calendar day ({exc})",
            hint="write a real day as YYYY-MM-DD",
        ) from exc


def _span_of(text: str) -> tuple[date, date]:
    """Return the first and last day that an EDTF day, month or year covers."""
    if match := _DAY.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        the_day = _make_day(year, month, day, text)
        return the_day, the_day
    if match := _MONTH.fullmatch(text):
        year, month = (int(part) for part in match.groups())
        if not 1 <= month <= 12:  # noqa: PLR2004
            raise FuzzyDateError(
                f"{text!r} has no month {month}", hint="months run from 01 to 12"
            )
        first = _make_day(year, month, 1, text)
        return first, first.replace(day=_last_day(year, month))
    if match := _YEAR.fullmatch(text):
        year = int(match.group(1))
        return _make_day(year, 1, 1, text), _make_day(year, 12, 31, text)
    raise FuzzyDateError(
        f"cannot read {text!r} as a date",
        hint=_HOW_TO_WRITE,
    )


def parse_day(text: str) -> date:
    """Read an exact ISO day ``YYYY-MM-DD`` or raise :class:`FuzzyDateError`."""
    match = _DAY.fullmatch(text.strip())
    if match is None:
        raise FuzzyDateError(
            f"{text!r} is not a day", hint="write the day as YYYY-MM-DD"
        )
    year, month, day = (int(part) for part in match.groups())
    return _make_day(year, month, day, text)


def _check_bounds(
    instance: FuzzyDate, _attribute: attrs.Attribute[date | None], _latest: object
) -> None:
    earliest, latest = instance.earliest, instance.latest
    for end in (earliest, latest):
        if end is not None and (type(end) is not date):
            raise FuzzyDateError(
                f"a fuzzy date's ends must be datetime.date, got {end!r}",
                hint="pass days, not datetimes or strings (use FuzzyDate.parse)",
            )
    if earliest is None and latest is None:
        raise FuzzyDateError(
            "a fuzzy date needs at least one known end",
            hint="give the earliest or the latest possible day",
        )
    if earliest is not None and latest is not None and earliest > latest:
        raise FuzzyDateError(
            f"earliest day {earliest} is after latest day {latest}",
            hint="swap the two ends",
        )


@attrs.frozen(order=False)
class FuzzyDate:
    """A span of days within which something happened; either end may be open.

    Build one with :meth:`day`, :meth:`month`, :meth:`year`, :meth:`part_of_month`,
    :meth:`between`, :meth:`no_later_than`, :meth:`no_earlier_than` or
    :meth:`parse`.  ``str()`` gives the canonical EDTF text, which :meth:`parse`
    reads back to an equal value.
    """

    earliest: date | None
    latest: date | None = attrs.field(validator=_check_bounds)
    first_ordinal: int = attrs.field(init=False, eq=False, repr=False)
    """``earliest`` as a day ordinal; 0 when the start is open."""
    last_ordinal: int = attrs.field(init=False, eq=False, repr=False)
    """``latest`` as a day ordinal; a day past ``date.max`` when the end is open."""
    _text: str | None = attrs.field(init=False, default=None, eq=False, repr=False)
    """The canonical text, kept once ``str()`` has built it: dates are shared."""

    def __attrs_post_init__(self) -> None:
        earliest, latest = self.earliest, self.latest
        first = 0 if earliest is None else earliest.toordinal()
        last = OPEN_END if latest is None else latest.toordinal()
        object.__setattr__(self, "first_ordinal", first)
        object.__setattr__(self, "last_ordinal", last)

    # -- construction -------------------------------------------------------------

    @classmethod
    def day(cls, year: int, month: int, day: int) -> FuzzyDate:
        """One exact day."""
        the_day = _make_day(year, month, day, f"{year:04d}-{month:02d}-{day:02d}")
        return cls(the_day, the_day)

    @classmethod
    def of(cls, day: date) -> FuzzyDate:
        """The exact day ``day``."""
        return cls(day, day)

    @classmethod
    def month(cls, year: int, month: int) -> FuzzyDate:
        """Some day in a calendar month."""
        return cls(*_span_of(f"{year:04d}-{month:02d}"))

    @classmethod
    def year(cls, year: int) -> FuzzyDate:
        """Some day in a calendar year."""
        return cls(*_span_of(f"{year:04d}"))

    @classmethod
    def part_of_month(cls, year: int, month: int, part: MonthPart) -> FuzzyDate:
        """Early (1-10), mid (11-20) or late (21-end) in a month, as reports say."""
        if part not in MONTH_PARTS:
            raise FuzzyDateError(
                f"{part!r} is not a part of a month", hint="use early, mid or late"
            )
        first, last = MONTH_PARTS[part]
        start, end = _span_of(f"{year:04d}-{month:02d}")
        return cls(
            start.replace(day=first), end if last is None else end.replace(day=last)
        )

    @classmethod
    def between(cls, earliest: date, latest: date) -> FuzzyDate:
        """Some day from ``earliest`` to ``latest``, both included."""
        return cls(earliest, latest)

    @classmethod
    def no_later_than(cls, latest: date) -> FuzzyDate:
        """On or before ``latest``, with no known start ("before the end of August")."""
        return cls(None, latest)

    @classmethod
    def no_earlier_than(cls, earliest: date) -> FuzzyDate:
        """On or after ``earliest``, with no known end."""
        return cls(earliest, None)

    @classmethod
    def parse(cls, text: str) -> FuzzyDate:
        """Read EDTF text (``2025-05``, ``2025-05-20/2025-05-31``, ``../2025-08-31``).

        Also reads the phrases analysts type: ``late May 2025``, ``early 2025-03``,
        ``mid-June 2025``, ``May 2025``, ``by 2025-08`` (no later than the end of it)
        and ``from 2025-03`` (no earlier than its start).
        """
        if not isinstance(text, str):
            raise FuzzyDateError(
                f"expected fuzzy-date text, got {type(text).__name__}",
                hint="write the date as text such as 2025-05-16",
            )
        cleaned = text.strip()
        if "/" in cleaned:
            return cls._parse_interval(cleaned)
        words = (
            _PART_HYPHEN.sub(r"\1 ", cleaned).split() if cleaned[:1].isalpha() else []
        )
        if words:
            return cls._parse_phrase(cleaned, words)
        return cls(*_span_of(cleaned))

    @classmethod
    def _parse_interval(cls, text: str) -> FuzzyDate:
        start_text, _, end_text = text.partition("/")
        if "/" in end_text:
            raise FuzzyDateError(
                f"{text!r} has more than one '/'", hint="write one interval A/B"
            )
        start = None if start_text in _OPEN else _span_of(start_text)[0]
        end = None if end_text in _OPEN else _span_of(end_text)[1]
        return cls(start, end)

    @classmethod
    def _parse_phrase(cls, text: str, words: list[str]) -> FuzzyDate:
        head = words[0].lower()
        rest = " ".join(words[1:])
        if head in MONTH_PARTS and rest:
            year, month = cls._month_of(rest, text)
            return cls.part_of_month(year, month, head)  # type: ignore[arg-type]
        if head == "by" and rest:
            return cls(None, cls.parse(rest).latest)
        if head == "from" and rest:
            return cls(cls.parse(rest).earliest, None)
        year, month = cls._month_of(text, text)
        return cls.month(year, month)

    @staticmethod
    def _month_of(words: str, text: str) -> tuple[int, int]:
        if match := _MONTH.fullmatch(words):
            return int(match.group(1)), int(match.group(2))
        name, _, year = words.partition(" ")
        if name.lower() in _MONTH_NAMES and _YEAR.fullmatch(year.strip()):
            return int(year), _MONTH_NAMES[name.lower()]
        raise FuzzyDateError(
            f"cannot read {text!r} as a date",
            hint=_HOW_TO_WRITE,
        )

    # -- reading -------------------------------------------------------------------

    @property
    def is_exact(self) -> bool:
        """True when the span is a single known day."""
        return self.earliest is not None and self.earliest == self.latest

    @property
    def days(self) -> int | None:
        """How many days the span covers, or ``None`` when an end is open."""
        if self.earliest is None or self.latest is None:
            return None
        return (self.latest - self.earliest).days + 1

    def surely_by(self, day: date) -> bool:
        """True when the thing has surely happened by ``day`` (latest day <= day)."""
        return self.latest is not None and self.latest <= day

    def possibly_by(self, day: date) -> bool:
        """True when the thing may have happened by ``day`` (earliest day <= day)."""
        return self.earliest is None or self.earliest <= day

    def contains(self, day: date) -> bool:
        """True when ``day`` lies within the span."""
        return (self.earliest is None or self.earliest <= day) and (
            self.latest is None or day <= self.latest
        )

    def shifted(self, days: int) -> FuzzyDate:
        """The same span moved by ``days`` (negative moves it earlier)."""
        step = timedelta(days=days)
        return FuzzyDate(
            None if self.earliest is None else self.earliest + step,
            None if self.latest is None else self.latest + step,
        )

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._canonical_text()
            object.__setattr__(self, "_text", text)
        return text

    def _canonical_text(self) -> str:
        earliest, latest = self.earliest, self.latest
        if earliest is None:
            return f"../{latest}"
        if latest is None:
            return f"{earliest}/.."
        if earliest == latest:
            return str(earliest)
        if earliest.day == 1 and latest.day == _last_day(latest.year, latest.month):
            if (earliest.year, earliest.month) == (latest.year, latest.month):
                return f"{earliest.year:04d}-{earliest.month:02d}"
            if (earliest.month, latest.month) == (1, 12) and (
                earliest.year == latest.year
            ):
                return f"{earliest.year:04d}"
        return f"{earliest}/{latest}"

    def describe(self) -> str:  # noqa: PLR0911 - one return per shape of span
        """Words for people: ``16 May 2025``, ``late May 2025``, ``by 31 Aug 2025``."""
        earliest, latest = self.earliest, self.latest
        if earliest is None:
            return f"by {_words(latest)}"
        if latest is None:
            return f"from {_words(earliest)}"
        if earliest == latest:
            return _words(earliest)
        same_month = (earliest.year, earliest.month) == (latest.year, latest.month)
        if same_month:
            month = calendar.month_name[earliest.month]
            for part, (first, last) in MONTH_PARTS.items():
                last_day = (
                    _last_day(latest.year, latest.month) if last is None else last
                )
                if (earliest.day, latest.day) == (first, last_day):
                    return f"{part} {month} {earliest.year}"
            if (earliest.day, latest.day) == (1, _last_day(latest.year, latest.month)):
                return f"{month} {earliest.year}"
        text = str(self)
        if "/" not in text:
            return text
        return f"between {_words(earliest)} and {_words(latest)}"


def _words(day: date | None) -> str:
    assert day is not None  # noqa: S101 - callers pass a known end
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year}"
