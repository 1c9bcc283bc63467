"""Attrs validators and converters shared by the value and event classes.

Each validator raises :class:`~negstate.errors.InvalidEventError` naming the event id
(when the instance has one) and the field, so a bad field is found at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from negstate.errors import InvalidEventError

_IDENTIFIER = re.compile(r"[^\s/][^/\x00-\x1f]{0,199}")


def invalid(instance: object, field: str, message: str, hint: str) -> InvalidEventError:
    """Build the error for a bad ``field`` of ``instance``."""
    owner = getattr(instance, "id", None)
    return InvalidEventError(
        message,
        event_id=owner if isinstance(owner, str) else None,
        field=field,
        hint=hint,
    )


def check_identifier(value: object, *, field: str, owner: object = None) -> str:
    """Return ``value`` if it is a valid identifier, else raise InvalidEventError.

    An identifier is text of 1 to 200 characters with no ``/`` (it appears in state
    paths such as ``positions/RU/ceasefire``), no control characters and no white
    space at either end.
    """
    if (
        not isinstance(value, str)
        or _IDENTIFIER.fullmatch(value) is None
        or value != value.strip()
    ):
        raise invalid(
            owner,
            field,
            f"{value!r} is not a valid identifier",
            "use 1-200 characters without '/', control characters or outer spaces",
        )
    return value


def identifier(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    """Validate that the field holds one identifier."""
    check_identifier(value, field=attribute.name, owner=instance)


def optional_identifier(
    instance: object, attribute: attrs.Attribute[str | None], value: str | None
) -> None:
    """Validate that the field holds an identifier or ``None``."""
    if value is not None:
        check_identifier(value, field=attribute.name, owner=instance)


def identifiers(
    instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: object
) -> None:
    """Validate that the field holds a tuple of distinct identifiers."""
    if not isinstance(value, tuple):
        raise invalid(
            instance, attribute.name, "expected a list of identifiers", "pass a list"
        )
    for index, item in enumerate(value):
        check_identifier(item, field=f"{attribute.name}[{index}]", owner=instance)
    if len(set(value)) != len(value):
        raise invalid(
            instance,
            attribute.name,
            f"names the same identifier twice: {value!r}",
            "name each one once",
        )


def non_empty(
    instance: object,
    attribute: attrs.Attribute[Any],
    value: tuple[Any, ...],
) -> None:
    """Validate that the field's tuple has at least one item."""
    if not value:
        raise invalid(
            instance, attribute.name, "must not be empty", "give at least one"
        )


def natural_or_none(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    """Validate that the field holds a whole number >= 0, or ``None``."""
    if value is None:
        return
    if type(value) is not int:
        raise invalid(
            instance,
            attribute.name,
            f"must be a whole number, got {value!r}",
            "write the figure as an integer",
        )
    if value < 0:
        raise invalid(
            instance,
            attribute.name,
            f"must be >= 0 (got {value})",
            "a count or duration cannot be negative",
        )


def text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validate that the field holds text."""
    if not isinstance(value, str):
        raise invalid(
            instance,
            attribute.name,
            f"must be text, got {type(value).__name__}",
            "write it as a string",
        )


def optional_text(
    instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    """Validate that the field holds text or ``None``."""
    if value is not None:
        text(instance, attribute, value)


def to_tuple(values: Iterable[str] | str) -> tuple[str, ...]:
    """Convert one string or an iterable of strings to a tuple."""
    if isinstance(values, str):
        return (values,)
    return tuple(values)


def texts(
    instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: object
) -> None:
    """Validate that the field holds a tuple of texts."""
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise invalid(
            instance,
            attribute.name,
            "expected a list of texts",
            "pass a list of strings",
        )
