"""The errors negstate raises for anything a user can get wrong.

Every error a user can cause is a :class:`NegstateError`.  Its message starts with
the place (``path:line``, event id, field) and ends with what to do about it, so a
command line can print it as one line without a traceback.
"""

from __future__ import annotations

__all__ = [
    "ConcurrencyError",
    "DateConflictError",
    "DuplicateEventError",
    "FoldError",
    "FuzzyDateError",
    "ImpossibleEventError",
    "IndexChangedError",
    "IndexDroppedWarning",
    "IndexUnreadableError",
    "IntegrityError",
    "InvalidEventError",
    "LogFormatError",
    "LogLockedError",
    "NegstateError",
    "NegstateWarning",
    "RegistryError",
    "TornTailWarning",
    "UnknownReferenceError",
    "locate",
]


def locate(
    *,
    path: object | None = None,
    line: int | None = None,
    event_id: str | None = None,
    field: str | None = None,
) -> str:
    """Render a place as ``path:line: event 'id': field 'x'``, leaving out unknowns."""
    parts: list[str] = []
    if path is not None:
        parts.append(f"{path}:{line}" if line is not None else str(path))
    if event_id is not None:
        parts.append(f"event {event_id!r}")
    if field is not None:
        parts.append(f"field {field!r}")
    return ": ".join(parts)


class NegstateError(Exception):
    """Base of every error a user of negstate can cause.

    ``where`` names the place (file and line, event id, field) and ``hint`` says what
    to do; both are part of ``str(error)``.
    """

    def __init__(self, message: str, *, where: str = "", hint: str = "") -> None:
        self.message = message
        self.where = where
        self.hint = hint
        text = f"{where}: {message}" if where else message
        if hint:
            text = f"{text}; {hint}"
        super().__init__(text)


class FuzzyDateError(NegstateError, ValueError):
    """A text or pair of days that is not a valid fuzzy date."""


class InvalidEventError(NegstateError, ValueError):
    """An event whose fields break the rules of its type (checked on construction).

    ``event_id`` and ``field`` name the place; ``field`` is relative to the object
    that was being built (``count`` for a release inside a swap).
    """

    def __init__(
        self,
        message: str,
        *,
        event_id: str | None = None,
        field: str | None = None,
        hint: str = "",
    ) -> None:
        self.event_id = event_id
        self.field = field
        super().__init__(
            message, where=locate(event_id=event_id, field=field), hint=hint
        )


class RegistryError(NegstateError, ValueError):
    """An event type that cannot be registered (bad tag, clash, missing reducer)."""


class FoldError(NegstateError):
    """An event that cannot be applied to the state it meets in the fold."""

    def __init__(
        self, message: str, *, event_id: str, where: str = "", hint: str = ""
    ) -> None:
        self.event_id = event_id
        place = locate(event_id=event_id)
        super().__init__(
            message, where=f"{where}: {place}" if where else place, hint=hint
        )


class ImpossibleEventError(FoldError):
    """An event the negotiation's rules rule out (answering one's own proposal, ...)."""


class UnknownReferenceError(FoldError):
    """An event that refers to an event id the log does not hold."""


class DateConflictError(FoldError):
    """An event dated before an event it refers to could have happened."""


class DuplicateEventError(NegstateError):
    """The same event id recorded twice with different content."""


class LogFormatError(NegstateError):
    """A stored record that cannot be read: bad JSON, unknown type, wrong fields."""


class IndexUnreadableError(LogFormatError):
    """The checkpoint index kept beside a log could not be read and was removed.

    The log itself is unchanged; reading again replays it.
    """


class IndexChangedError(NegstateError):
    """A state read from the saved index was used after it could no longer read.

    That happens when an append places a late report among the indexed events or
    the index is saved again (both rewrite its rows), and when its log was closed
    or stopped using an index file beside it; read the state again.
    """


class IntegrityError(NegstateError):
    """A log whose hash chain is broken: a record altered, missing or out of order."""


class ConcurrencyError(NegstateError):
    """Another writer appended since the sequence number the caller expected."""


class NegstateWarning(UserWarning):
    """Base of the warnings negstate gives when it fixed something by itself."""


class TornTailWarning(NegstateWarning):
    """A log's last write was cut short; its unacknowledged bytes were moved aside."""


class IndexDroppedWarning(NegstateWarning):
    """A checkpoint index kept beside a log could not be written or read.

    It was removed (a read-only log only stops using it).  The log is unchanged;
    queries replay it until ``negstate index`` keeps a new one.
    """


class LogLockedError(NegstateError):
    """A log that another process holds and did not release in time."""
