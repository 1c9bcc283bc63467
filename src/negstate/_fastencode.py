"""Canonical JSON of events written without cattrs dispatch.

Every append writes each event as canonical JSON: sorted keys, no spaces, UTF-8
kept as is, fields left at their default omitted.  Through the converter that is
cattrs turning the event into dictionaries, then :mod:`json` sorting and writing
them: about 11 µs an event, most of an append that does not wait for the disk.
For each event class this module generates a function that writes the same text
straight from the fields, in sorted key order: about a third of the time.

It stands in only for a converter negstate built itself, whose hooks it knows,
and only for classes whose every field is of a kind it knows (text, whole
numbers, enums, days, fuzzy dates, tuples, optional values, attrs classes and
nested events).  Any other class is written through the converter, and so is an
event whose fields hold something unexpected: a function that fails hands the
event to the converter, which writes it or raises its own error.  The test suite
holds both paths to the same text on every kind of event.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any, Final

import attrs
import cattrs

from negstate.dates import FuzzyDate
from negstate.events import Event
from negstate.registry import EventRegistry
from negstate.serialization import encode_event

__all__ = ["CANONICAL_JSON", "FastEncoder"]

Encode = Callable[[Any], str]

CANONICAL_JSON: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
)
"""The encoder of canonical JSON text, built once rather than on every call."""

_string = json.encoder.encode_basestring
_TAG: Final = "type"
_UnionType = type(int | None)


class _Unsupported(Exception):  # noqa: N818 - caught inside this module
    """A field of a kind the generated functions do not write."""


class FastEncoder:
    """Writes events of a registry as canonical JSON, as its converter would."""

    def __init__(self, registry: EventRegistry, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._tags = {kind.event_type: kind.tag for kind in registry}
        self._events: dict[type, Encode] = {}
        self._values: dict[type, Encode] = {}
        self._generating: set[type] = set()

    def canonical(self, event: Event) -> str:
        """The event's canonical JSON text."""
        encode = self._events.get(event.__class__) or self._event_encoder(
            event.__class__
        )
        try:
            return encode(event)
        except Exception:  # noqa: BLE001 - the converter writes it or says why not
            return self.through_converter(event)

    def through_converter(self, event: Event) -> str:
        """The event's canonical JSON text, written through the converter."""
        return CANONICAL_JSON.encode(encode_event(event, self._converter))

    def _event_encoder(self, cls: type) -> Encode:
        tag = self._tags.get(cls)
        encode: Encode
        if tag is None:
            encode = self.through_converter
        else:
            try:
                encode = self._generated(cls, tag)
            except Exception:  # noqa: BLE001 - _Unsupported, or types it cannot resolve
                encode = self.through_converter
        self._events[cls] = encode
        return encode

    def _value_encoder(self, cls: type) -> Encode:
        found = self._values.get(cls)
        if found is None:
            if cls in self._generating:  # a class that holds itself
                raise _Unsupported(cls)
            self._generating.add(cls)
            try:
                found = self._values[cls] = self._generated(cls, None)
            finally:
                self._generating.discard(cls)
        return found

    def _generated(self, cls: type, tag: str | None) -> Encode:
        """A function writing a ``cls`` instance, with ``tag`` under "type" if given.

        Keys come in sorted order and a field equal to its default is left out,
        as the converter's generated functions leave it out.
        """
        names: dict[str, Any] = {"_string": _string}
        entries: list[tuple[str, str, Any]] = []
        for field in attrs.fields(attrs.resolve_types(cls)):
            if not field.init or field.name.startswith("_") or field.name == _TAG:
                raise _Unsupported(cls)
            entries.append(
                (field.name, self._snippet(field.type, "value", names), _default(field))
            )
        if tag is not None:
            entries.append((_TAG, repr(_string(tag)), attrs.NOTHING))
        lines = [f"def encode_{cls.__name__}(instance):", "    parts = []"]
        for name, written, default in sorted(entries, key=lambda entry: entry[0]):
            key = repr(_string(name) + ":")
            if name == _TAG:
                lines.append(f"    parts.append({key} + {written})")
                continue
            lines.append(f"    value = instance.{name}")
            if default is attrs.NOTHING:
                lines.append(f"    parts.append({key} + {written})")
                continue
            names[f"default_{name}"] = default
            lines.append(f"    if value != default_{name}:")
            lines.append(f"        parts.append({key} + {written})")
        lines.append("    return '{' + ','.join(parts) + '}'")
        exec("\n".join(lines), names)  # noqa: S102 - generated from attrs fields
        encode: Encode = names.pop(f"encode_{cls.__name__}")
        return encode

    def _snippet(
        self,
        annotation: Any,  # noqa: ANN401 - any type form
        value: str,
        names: dict[str, Any],
    ) -> str:
        """Python code writing ``value`` (an expression) of type ``annotation``."""
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        scalar = next((f for kind, f in _SCALARS.items() if kind is annotation), None)
        if scalar is not None:
            names.update(_integer=_integer, _day=date.isoformat, _event=self.canonical)
            return scalar.format(value)
        if isinstance(annotation, type) and issubclass(annotation, Event):
            # The converter writes a field of one event class as a tagged union
            # of that class and its subclasses; only Event's own is mirrored.
            raise _Unsupported(annotation)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            if all(type(member.value) is str for member in annotation):
                return f"_string({value}.value)"
            raise _Unsupported(annotation)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
            item = self._snippet(args[0], "item", names)
            return f"'[' + ','.join([{item} for item in {value}]) + ']'"
        if origin in {typing.Union, _UnionType} and len(args) == 2:  # noqa: PLR2004
            inner = [arg for arg in args if arg is not type(None)]
            if len(inner) == 1:
                written = self._snippet(inner[0], value, names)
                return f"('null' if {value} is None else {written})"
        if isinstance(annotation, type) and attrs.has(annotation):
            name = f"encode_{len(names)}"
            names[name] = self._value_encoder(annotation)
            return f"{name}({value})"
        raise _Unsupported(annotation)


_SCALARS: Final[dict[Any, str]] = {
    str: "_string({})",
    int: "_integer({})",
    FuzzyDate: "_string(str({}))",
    date: "'\"' + _day({}) + '\"'",
    Event: "_event({})",
}
"""How a field of each of these types is written; ``{}`` stands for the value."""


def _default(field: attrs.Attribute[Any]) -> Any:  # noqa: ANN401 - any field value
    """The value a field is left out at: its default, or what its factory makes."""
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:
            raise _Unsupported(field.name)
        return default.factory()
    return default


def _integer(value: int) -> str:
    """A whole number as JSON writes it; anything else raises, for the converter."""
    if value.__class__ is not int:
        raise TypeError(value)
    return int.__repr__(value)
