"""Aligned plain-text tables for the command line, with colour only where it helps.

:func:`render_table` lines up columns by their width on screen (wide characters
count twice, combining marks not at all) and cuts over-long cells with an
ellipsis.  :class:`Palette` colours words such as statuses and stances; it does
nothing unless :func:`use_colour` says the output is a terminal and ``NO_COLOR`` is
not set (https://no-color.org).
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final, TextIO

import attrs

from negstate.diff import Change, ChangeKind

__all__ = [
    "Palette",
    "describe_change",
    "describe_plain",
    "display_width",
    "render_table",
    "shorten",
    "use_colour",
]

_RESET: Final = "\x1b[0m"
_STYLES: Final = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "blue": "\x1b[34m",
    "magenta": "\x1b[35m",
    "cyan": "\x1b[36m",
}

WORD_STYLES: Final[Mapping[str, str]] = {
    # proposals, meetings, deadlines
    "accepted": "green",
    "agreed": "green",
    "held": "green",
    "rejected": "red",
    "declined": "red",
    "expired": "red",
    "countered": "yellow",
    "open": "yellow",
    "proposed": "yellow",
    "active": "yellow",
    "withdrawn": "dim",
    "superseded": "dim",
    "replaced": "dim",
    "lapsed": "dim",
    # stances
    "supports": "green",
    "offers": "green",
    "opposes": "red",
    "demands": "magenta",
    "conditional": "yellow",
    "undecided": "dim",
    # diffs
    "+": "green",
    "-": "red",
    "~": "yellow",
    "added": "green",
    "removed": "red",
    "changed": "yellow",
    "disputed": "red",
}
"""Words the command line colours, and how."""


def use_colour(stream: TextIO) -> bool:
    """True when ``stream`` is a terminal and the user did not set ``NO_COLOR``."""
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


@attrs.frozen
class Palette:
    """Wraps text in terminal colours, or leaves it alone when ``enabled`` is false."""

    enabled: bool = False

    def paint(self, text: str, style: str) -> str:
        """``text`` in ``style`` (a name in the palette), or as it is."""
        code = _STYLES.get(style)
        if not self.enabled or code is None or not text:
            return text
        return f"{code}{text}{_RESET}"

    def word(self, text: str) -> str:
        """``text`` coloured by its meaning (``rejected`` red, ``accepted`` green)."""
        style = WORD_STYLES.get(text.strip())
        return text if style is None else self.paint(text, style)


def display_width(text: str) -> int:
    """How many terminal columns ``text`` takes up."""
    # One column a character, but for wide and combining ones, none of them ASCII.
    width = len(text)
    if text.isascii():
        return width
    for char in _NON_ASCII.findall(text):
        if unicodedata.combining(char):
            width -= 1
        elif unicodedata.east_asian_width(char) in {"W", "F"}:
            width += 1
    return width


_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` columns with an ellipsis if longer."""
    flat = " ".join(text.split())
    if display_width(flat) <= limit:
        return flat
    if flat.isascii():
        return flat[: max(limit - 1, 0)] + "…"
    kept: list[str] = []
    width = 0
    for char in flat:
        step = display_width(char)
        if width + step > limit - 1:
            break
        kept.append(char)
        width += step
    return "".join(kept) + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    palette: Palette | None = None,
    coloured: Sequence[str] = (),
    limit: int = 60,
) -> str:
    """Rows under headers, columns aligned, cells cut to ``limit`` columns.

    Cells in the ``coloured`` columns are painted by their meaning (statuses,
    stances, diff marks); headers are bold.  An empty table says so.
    """
    paint = palette or Palette()
    cells = [[shorten(str(cell), limit) for cell in row] for row in rows]
    widths = [display_width(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], display_width(cell))
    wanted = {headers.index(name) for name in coloured if name in headers}
    lines = [
        "  ".join(
            paint.paint(_pad(header, width), "bold")
            for header, width in zip(headers, widths, strict=True)
        ).rstrip()
    ]
    for row in cells:
        parts = []
        for index, (cell, width) in enumerate(zip(row, widths, strict=True)):
            padded = _pad(cell, width)
            parts.append(paint.word(padded) if index in wanted else padded)
        lines.append("  ".join(parts).rstrip())
    if not cells:
        lines.append("(none)")
    return "\n".join(lines)


# -- describing changes ----------------------------------------------------------------

_PROVENANCE: Final = frozenset({"event", "basis", "since", "events", "responses"})


def _brief(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def describe_plain(value: object) -> str:
    """A short line for a record unstructured to JSON data (for diffs)."""
    if not isinstance(value, dict):
        return _brief(value)
    parts = [
        f"{key} {_brief(value[key])}"
        for key in (
            "stance",
            "status",
            "count",
            "issue",
            "level",
            "place",
            "value",
            "text",
        )
        if value.get(key) not in (None, "", [])
    ]
    terms = value.get("terms")
    if isinstance(terms, dict) and terms.get("text"):
        parts.append(str(terms["text"]))
    return ", ".join(parts) or _brief(value)


def describe_change(change: Change) -> str:
    """What a change did, in a line: the new record, or each field before -> after."""
    if change.kind is ChangeKind.ADDED:
        return describe_plain(change.after)
    if change.kind is ChangeKind.REMOVED:
        return describe_plain(change.before)
    before = change.before if isinstance(change.before, dict) else {}
    after = change.after if isinstance(change.after, dict) else {}
    shown = [f for f in change.fields if f not in _PROVENANCE] or list(change.fields)
    if not shown:
        return f"{_brief(change.before)} -> {_brief(change.after)}"
    return "; ".join(
        f"{name}: {describe_plain(before.get(name))} -> "
        f"{describe_plain(after.get(name))}"
        for name in shown
    )
