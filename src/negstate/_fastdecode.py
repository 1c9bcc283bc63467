"""Fast decoding of stored events whose hash has been checked.

A record's hash proves it is the record negstate validated when it was appended,
so reading it back need not validate again.  For each event class this module
generates a constructor that sets the fields directly (no validators, no cattrs
dispatch) and shares equal values: one FuzzyDate per distinct date text, one
Source per distinct source, one Terms per distinct terms.  Sharing also keeps a
million events small in memory.

Anything unexpected (a missing field, a type the generator does not know) raises,
and the caller falls back to the strict decoder, whose error names the field.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any

import attrs
import cattrs

from negstate.dates import FuzzyDate
from negstate.events import REFERENCE, Event
from negstate.registry import EventRegistry
from negstate.values import Quantity, Source, Terms

__all__ = ["FastDecoder"]

Decode = Callable[[Any], Any]

_new = object.__new__
_set = object.__setattr__


class FastDecoder:
    """Turns raw event dictionaries into events of a registry, sharing equal values."""

    def __init__(self, registry: EventRegistry, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._dates: dict[str, FuzzyDate] = {}
        self._days: dict[str, date] = {}
        self._sharing: dict[type, Decode] = {}
        self._strings: dict[str, str] = {}
        self._by_tag: dict[str, Decode] = {}
        self._building: dict[type, Decode] = {}
        for kind in registry:
            self._by_tag[kind.tag] = self._for_class(kind.event_type)

    def decode(self, raw: dict[str, Any]) -> Event:
        """The event ``raw`` stores; raises on anything unexpected."""
        event: Event = self._by_tag[raw["type"]](raw)
        return event

    # -- value decoders ---------------------------------------------------------------

    def _fuzzy(self, text: str) -> FuzzyDate:
        found = self._dates.get(text)
        if found is None:
            found = self._dates[text] = FuzzyDate.parse(text)
        return found

    def _day(self, text: str) -> date:
        found = self._days.get(text)
        if found is None:
            found = self._days[text] = date.fromisoformat(text)
        return found

    def _string(self, text: str) -> str:
        found = self._strings.get(text)
        if found is None:
            if type(text) is not str:
                raise TypeError(text)
            found = self._strings[text] = text
        return found

    def _shared_decoder(self, kind: type) -> Decode:
        """A decoder for a value class that returns one instance per distinct value."""
        found = self._sharing.get(kind)
        if found is not None:
            return found
        build = self._for_class(kind)
        instances: dict[Any, Any] = {}
        lookup = instances.get
        key_of = _flat_key if kind in _FLAT else _two_levels

        def shared(raw: dict[str, Any]) -> Any:  # noqa: ANN401 - an attrs value
            key = key_of(raw)
            value = lookup(key)
            if value is None:
                value = instances[key] = build(raw)
            return value

        self._sharing[kind] = shared
        return shared

    def _for_type(self, annotation: Any) -> Decode:  # noqa: ANN401, C901, PLR0911
        """A decoder for one field type."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if annotation is str:
            return self._string
        if annotation in {int, bool}:
            return _exactly(annotation)
        if annotation is FuzzyDate:
            return self._fuzzy
        if annotation is date:
            return self._day
        if annotation in _SHARED:
            return self._shared_decoder(annotation)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            members = {member.value: member for member in annotation}
            return members.__getitem__
        if annotation is Event:
            return self.decode
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004
            item = self._for_type(args[0])
            if args[0] is str:
                return lambda raw: tuple(map(self._string, raw))
            return lambda raw: tuple(map(item, raw))
        if origin in {typing.Union, _UnionType} and type(None) in args:
            inner = [a for a in args if a is not type(None)]
            if len(inner) == 1:
                decode = self._for_type(inner[0])
                return lambda raw: None if raw is None else decode(raw)
        if isinstance(annotation, type) and attrs.has(annotation):
            return self._for_class(annotation)
        converter = self._converter
        return lambda raw: converter.structure(raw, annotation)

    def _snippet(
        self,
        annotation: Any,  # noqa: ANN401 - any type form
        value: str,
        names: dict[str, Any],
        *,
        unique: bool = False,
    ) -> str:
        """Python code that decodes ``value`` (an expression) as ``annotation``.

        Common types are decoded inline; others call a decoder from ``names``.
        Strings are interned, so that a party's name is stored once, except
        ``unique`` ones (event ids and references), which no other event repeats.
        """
        args = typing.get_args(annotation)
        if annotation is str:
            return value if unique else f"_intern({value})"
        if annotation is FuzzyDate:
            return f"(_dates.get({value}) or _fuzzy({value}))"
        if typing.get_origin(annotation) is tuple and args == (str, Ellipsis):
            return f"tuple(map(_intern, {value}))"
        if (
            typing.get_origin(annotation) is tuple
            and len(args) == 2  # noqa: PLR2004
            and args[1] is Ellipsis
            and isinstance(args[0], type)
            and attrs.has(args[0])
        ):
            name = f"decoder_{len(names)}"
            names[name] = self._for_type(args[0])
            return f"tuple([{name}(item) for item in {value}])"
        if typing.get_origin(annotation) in {typing.Union, _UnionType}:
            inner = [a for a in args if a is not type(None)]
            if len(inner) == 1 and len(args) == 2:  # noqa: PLR2004
                decoded = self._snippet(inner[0], value, names, unique=unique)
                return f"(None if {value} is None else {decoded})"
        name = f"decoder_{len(names)}"
        names[name] = self._for_type(annotation)
        return f"{name}({value})"

    def _for_class(self, cls: type) -> Decode:
        """A decoder that builds ``cls`` from a dict without running its checks."""
        built = self._building.get(cls)
        if built is not None:
            return built
        fields = attrs.fields(attrs.resolve_types(cls))
        names: dict[str, Any] = {
            "_new": _new,
            "_set": _set,
            "cls": cls,
            "_intern": sys.intern,
            "_dates": self._dates,
            "_fuzzy": self._fuzzy,
        }
        lines = [f"def decode_{cls.__name__}(raw):", "    obj = _new(cls)"]
        for field in fields:
            if not field.init:
                continue
            unique = field.name == "id" or bool(field.metadata.get(REFERENCE))
            if field.default is attrs.NOTHING:
                value = self._snippet(
                    field.type, f"raw[{field.name!r}]", names, unique=unique
                )
            else:
                default = field.default
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    names[f"default_{field.name}"] = default.factory
                    fallback = f"default_{field.name}()"
                else:
                    names[f"default_{field.name}"] = default
                    fallback = f"default_{field.name}"
                lines.append(f"    value = raw.get({field.name!r}, _missing)")
                decoded = self._snippet(field.type, "value", names, unique=unique)
                value = f"{fallback} if value is _missing else {decoded}"
            lines.append(f"    _set(obj, {field.name!r}, {value})")
        lines.append("    return obj")
        names["_missing"] = _MISSING
        exec("\n".join(lines), names)  # noqa: S102 - generated from attrs fields
        decoder: Decode = names[f"decode_{cls.__name__}"]
        self._building[cls] = decoder
        return decoder


_MISSING = object()
_UnionType = type(int | None)
_SHARED = frozenset({Source, Terms, Quantity})
"""Value classes that many events repeat, decoded once per distinct value."""
_FLAT = frozenset({Source, Quantity})
"""Value classes whose stored form holds only strings, numbers and nulls."""


def _flat_key(raw: dict[str, Any]) -> Any:  # noqa: ANN401
    return tuple(raw.items())


def _exactly(kind: type) -> Decode:
    def decode(raw: Any) -> Any:  # noqa: ANN401
        if type(raw) is not kind:
            raise TypeError(raw)
        return raw

    return decode


def _two_levels(raw: dict[str, Any]) -> Any:  # noqa: ANN401
    """A hashable key for a dict whose values are scalars, lists or flat dicts."""
    return tuple(
        (
            key,
            tuple(value)
            if type(value) is list
            else tuple(value.items())
            if type(value) is dict
            else value,
        )
        for key, value in raw.items()
    )
