"""Canonical JSON of events written without cattrs dispatch.

Every append writes each event as canonical JSON: sorted keys, no spaces, UTF-8
kept as is, fields equal to their default omitted.  Through the converter that
is cattrs turning the event into dictionaries, then :mod:`json` sorting and
writing them: about 10 µs an event, most of an append that does not wait for
the disk.  For each event class this module generates a function that writes
the same text straight from the fields, in sorted key order, comparing each
field with its default as the converter's generated code does (after the
field's attrs converter; a factory called on every write unless it always makes
an equal value): about 4 µs.

It stands in only for a converter negstate built itself, which leaves defaults
out and whose hooks it knows, and only for classes whose every field is of a
kind it knows: text, whole numbers, enums whose values are text, days, fuzzy
dates, tuples, optional values, attrs classes that do not hold themselves, and
fields typed as :class:`~negstate.Event`.  Any other class is written through
the converter, and so is an event whose fields hold something unexpected: a
function that fails hands the event to the converter, which writes it or raises
its own error.  The test suite holds both paths to the same text on every
built-in event and on user events of each of these kinds.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Sequence
from datetime import date
from enum import Enum
from typing import Any, Final

import attrs
import cattrs

from negstate.dates import FuzzyDate
from negstate.events import Event
from negstate.records import canonical_event
from negstate.registry import EventRegistry

__all__ = ["FastEncoder"]

Encode = Callable[[Any], str]

_string = json.encoder.encode_basestring
_TAG: Final = "type"


class _Unsupported(Exception):  # noqa: N818 - caught inside this module
    """A field of a kind the generated functions do not write."""


class FastEncoder:
    """Writes events of a registry as canonical JSON, as its converter would."""

    def __init__(self, registry: EventRegistry, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._mirrors = converter.omit_if_default and not converter.use_alias
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
        return canonical_event(event, self._converter)

    def _event_encoder(self, cls: type) -> Encode:
        tag = self._tags.get(cls)
        encode: Encode
        if tag is None or not self._mirrors:
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
        namespace: dict[str, Any] = {"_string": _string}
        entries: list[tuple[str, str, str | None]] = []
        for field in attrs.fields(attrs.resolve_types(cls)):
            if not field.init or field.name.startswith("_") or field.name == _TAG:
                raise _Unsupported(cls)
            entries.append(
                (
                    field.name,
                    self._snippet(field.type, "value", namespace),
                    _left_out_at(field, namespace),
                )
            )
        if tag is not None:
            entries.append((_TAG, repr(_string(tag)), None))
        lines = [f"def encode_{cls.__name__}(instance):", "    parts = []"]
        for name, written, default in sorted(entries, key=lambda entry: entry[0]):
            key = repr(_string(name) + ":")
            if name == _TAG:
                lines.append(f"    parts.append({key} + {written})")
                continue
            lines.append(f"    value = instance.{name}")
            if default is None:
                lines.append(f"    parts.append({key} + {written})")
                continue
            lines.append(f"    if value != {default}:")
            lines.append(f"        parts.append({key} + {written})")
        lines.append("    return '{' + ','.join(parts) + '}'")
        exec("\n".join(lines), namespace)  # noqa: S102 - generated from attrs fields
        encode: Encode = namespace.pop(f"encode_{cls.__name__}")
        return encode

    def _snippet(
        self,
        annotation: Any,  # noqa: ANN401 - any type form
        expression: str,
        namespace: dict[str, Any],
    ) -> str:
        """Python code writing the value of ``expression``, of type ``annotation``.

        What the code calls is put in ``namespace``, the generated function's.
        """
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        scalar = next((f for kind, f in _SCALARS.items() if kind is annotation), None)
        if scalar is not None:
            namespace.update(
                _integer=_integer, _day=date.isoformat, _event=self.canonical
            )
            return scalar.format(expression)
        if isinstance(annotation, type) and issubclass(annotation, Event):
            # The converter writes such a field through a hook of its own, which
            # this module does not mirror; a field typed Event it does.
            raise _Unsupported(annotation)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            if all(type(member.value) is str for member in annotation):
                return f"_string({expression}.value)"
            raise _Unsupported(annotation)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
            # Only a tuple or a list: an iterator spent by a failed attempt
            # would leave nothing for the converter.
            item = self._snippet(args[0], "item", namespace)
            namespace["_items"] = _items
            return f"'[' + ','.join([{item} for item in _items({expression})]) + ']'"
        if origin in {typing.Union, types.UnionType} and len(args) == 2:  # noqa: PLR2004
            inner = [arg for arg in args if arg is not type(None)]
            if len(inner) == 1:
                written = self._snippet(inner[0], expression, namespace)
                return f"('null' if {expression} is None else {written})"
        if isinstance(annotation, type) and attrs.has(annotation):
            name = f"encode_{len(namespace)}"
            namespace[name] = self._value_encoder(annotation)
            return f"{name}({expression})"
        raise _Unsupported(annotation)


_SCALARS: Final[dict[Any, str]] = {
    str: "_string({})",
    int: "_integer({})",
    FuzzyDate: "_string(str({}))",
    date: "'\"' + _day({}) + '\"'",
    Event: "_event({})",
}
"""How a field of each of these types is written; ``{}`` stands for the value."""


def _left_out_at(field: attrs.Attribute[Any], namespace: dict[str, Any]) -> str | None:
    """Python code for the value at which the converter leaves ``field`` out.

    None for a field without a default, which is always written.  As in the
    converter's generated code, the default goes through the field's attrs
    converter, and a factory is called on every write, unless it always makes
    an equal value (see :func:`_always_equal`), when it is called once here.
    """
    default: Any = field.default
    convert = field.converter
    if default is attrs.NOTHING:
        return None
    if isinstance(convert, attrs.Converter):
        raise _Unsupported(field.name)  # called with the instance: not mirrored
    name = f"default_{field.name}"
    if not isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        namespace[name] = default if convert is None else convert(default)
        return name
    if default.takes_self:
        raise _Unsupported(field.name)
    if convert is None and _always_equal(default.factory):
        namespace[name] = default.factory()
        return name
    namespace[name], namespace[f"convert_{field.name}"] = default.factory, convert
    made = f"{name}()"
    return made if convert is None else f"convert_{field.name}({made})"


_EMPTY_CONTAINERS: Final = frozenset({tuple, list, dict, set, frozenset})


def _always_equal(factory: Callable[[], Any]) -> bool:
    """Whether every call of ``factory`` makes an equal value.

    True for the empty containers and for attrs classes whose fields all have
    defaults of that kind, such as :class:`~negstate.Terms`; not for a factory
    such as ``date.today``.
    """
    if factory in _EMPTY_CONTAINERS:
        return True
    if not (isinstance(factory, type) and attrs.has(factory)):
        return False
    for field in attrs.fields(factory):
        default: Any = field.default
        if not field.init or default is attrs.NOTHING:
            return False
        if isinstance(default, attrs.Factory) and (  # type: ignore[arg-type]
            default.takes_self or not _always_equal(default.factory)
        ):
            return False
    return True


def _items(value: Sequence[Any]) -> Sequence[Any]:
    """A tuple or a list as it is; anything else raises, for the converter."""
    if value.__class__ is not tuple and value.__class__ is not list:
        raise TypeError(value)
    return value


def _integer(value: int) -> str:
    """A whole number as JSON writes it; anything else raises, for the converter."""
    if value.__class__ is not int:
        raise TypeError(value)
    return int.__repr__(value)
