"""The table of event types: each type's tag in stored records and its reducer.

Revision types (corrections, retractions, merges) are registered with a *reviser*
instead, which applies them to the recorded events before replay folds the rest.

Built-in and user-defined event types go through the same door: an
:class:`EventRegistry` is an immutable table, and :meth:`EventRegistry.with_event`
returns a new one with another type added.  Folding, replay, logs and serialization
all take a registry, so a user-defined type works wherever a built-in one does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from negstate.errors import RegistryError
from negstate.events import Event, reference_fields
from negstate.revisions import Reviser, RevisionDraft
from negstate.state import StateDraft

__all__ = ["EventKind", "EventRegistry", "Reducer"]

E = TypeVar("E", bound=Event)

Reducer = Callable[[StateDraft, Any], None]
"""Applies one event to a draft state; raises a FoldError when it cannot."""

_is_attrs_class: Callable[[type], bool] = attrs.has

_TAG = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,99}")


@attrs.frozen
class EventKind:
    """One registered event type: its class and its tag in records.

    It has a reducer that folds it or, for a revision type, a reviser that applies
    it.
    """

    event_type: type[Event]
    tag: str
    reducer: Reducer | None
    references: tuple[str, ...]
    reviser: Reviser | None = None


@attrs.frozen
class EventRegistry:
    """An immutable table of event types, looked up by class or by tag."""

    kinds: tuple[EventKind, ...] = ()
    _by_type: Mapping[type[Event], EventKind] = attrs.field(
        init=False, repr=False, eq=False
    )
    _by_tag: Mapping[str, EventKind] = attrs.field(init=False, repr=False, eq=False)
    _reducers: Mapping[type[Event], Reducer] = attrs.field(
        init=False, repr=False, eq=False
    )
    _revisers: Mapping[type[Event], Reviser] = attrs.field(
        init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        by_type = {kind.event_type: kind for kind in self.kinds}
        by_tag = {kind.tag: kind for kind in self.kinds}
        reducers = {k.event_type: k.reducer for k in self.kinds if k.reducer}
        revisers = {k.event_type: k.reviser for k in self.kinds if k.reviser}
        object.__setattr__(self, "_by_type", MappingProxyType(by_type))
        object.__setattr__(self, "_by_tag", MappingProxyType(by_tag))
        object.__setattr__(self, "_reducers", MappingProxyType(reducers))
        object.__setattr__(self, "_revisers", MappingProxyType(revisers))

    def with_event(
        self,
        event_type: type[E],
        reducer: Callable[[StateDraft, E], None],
        *,
        tag: str | None = None,
    ) -> EventRegistry:
        """Return a registry that also knows ``event_type``, folded by ``reducer``.

        ``event_type`` must be a frozen attrs subclass of :class:`~negstate.Event`;
        ``tag`` (default: the class name) is what stored records call it and must
        never change once records use it.
        """
        return self._with(event_type, tag, reducer=reducer, reviser=None)

    def with_revision(
        self,
        event_type: type[E],
        reviser: Callable[[RevisionDraft, E], None],
        *,
        tag: str | None = None,
    ) -> EventRegistry:
        """Return a registry that also knows the revision type ``event_type``.

        Revisions are applied by ``reviser`` to the recorded events before replay
        orders and folds them (see :mod:`negstate.revisions`).
        """
        return self._with(event_type, tag, reducer=None, reviser=reviser)

    def _with(
        self,
        event_type: type[Event],
        tag: str | None,
        *,
        reducer: Reducer | None,
        reviser: Reviser | None,
    ) -> EventRegistry:
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise RegistryError(
                f"{event_type!r} is not an Event subclass",
                hint="subclass negstate.Event with @attrs.frozen(kw_only=True)",
            )
        if event_type is Event or not _is_attrs_class(event_type):
            raise RegistryError(
                f"{event_type.__name__} is not an attrs event class",
                hint="decorate it with @attrs.frozen(kw_only=True)",
            )
        name = event_type.__name__ if tag is None else tag
        if _TAG.fullmatch(name) is None:
            raise RegistryError(
                f"{name!r} is not a valid tag",
                hint="start with a letter; use letters, digits, '_' and '.'",
            )
        if event_type in self._by_type:
            raise RegistryError(
                f"{event_type.__name__} is registered already",
                hint="register each event type once",
            )
        if name in self._by_tag:
            raise RegistryError(
                f"tag {name!r} is taken by {self._by_tag[name].event_type.__name__}",
                hint="pass another tag=",
            )
        if not callable(reducer if reviser is None else reviser):
            raise RegistryError(
                f"the function given for {event_type.__name__} is not callable",
                hint="pass a function (draft, event) -> None",
            )
        kind = EventKind(
            event_type=event_type,
            tag=name,
            reducer=reducer,
            reviser=reviser,
            references=reference_fields(event_type),
        )
        return EventRegistry((*self.kinds, kind))

    def kind_of(self, event_type: type[Event]) -> EventKind | None:
        """The registered kind for ``event_type``, or ``None``."""
        return self._by_type.get(event_type)

    def kind_for_tag(self, tag: str) -> EventKind | None:
        """The registered kind stored under ``tag``, or ``None``."""
        return self._by_tag.get(tag)

    @property
    def reducers(self) -> Mapping[type[Event], Reducer]:
        """The dispatch table: event class to reducer."""
        return self._reducers

    @property
    def revisers(self) -> Mapping[type[Event], Reviser]:
        """Revision event classes and the functions that apply them."""
        return self._revisers

    @property
    def event_types(self) -> tuple[type[Event], ...]:
        """Every registered event class, in registration order."""
        return tuple(kind.event_type for kind in self.kinds)

    @property
    def tags(self) -> tuple[str, ...]:
        """Every registered tag, in registration order."""
        return tuple(kind.tag for kind in self.kinds)

    def __iter__(self) -> Iterator[EventKind]:
        return iter(self.kinds)

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._by_type
