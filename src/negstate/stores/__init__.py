"""Storage backends for :class:`negstate.EventLog`: JSON Lines and SQLite."""

from __future__ import annotations

from negstate.stores.jsonl import JsonLinesStorage
from negstate.stores.sqlite import SqliteStorage

__all__ = ["JsonLinesStorage", "SqliteStorage"]
