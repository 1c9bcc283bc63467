"""Column widths and cut cells of the command line's text tables."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from negstate.tables import display_width, shorten


def test_wide_characters_count_twice_and_combining_marks_not_at_all() -> None:
    assert display_width("ceasefire") == len("ceasefire")
    assert display_width("停火") == 4
    assert display_width("cafe\u0301") == 4
    assert display_width("") == 0


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_takes_one_column_a_character(text: str) -> None:
    assert display_width(text) == len(text)


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_a_cut_cell_fits_and_begins_the_text(text: str, limit: int) -> None:
    flat = " ".join(text.split())
    cut = shorten(text, limit)
    assert display_width(cut) <= limit
    if display_width(flat) <= limit:
        assert cut == flat
    else:
        assert cut.endswith("…")
        assert flat.startswith(cut[:-1])
        # Nothing more of the text would have fitted before the ellipsis.
        assert display_width(flat[: len(cut)]) + 1 > limit
