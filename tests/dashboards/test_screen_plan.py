"""Which blocks of a page go on which screenshot screen (:mod:`dashboards.screen_plan`): whole
sections per screen, a short title shares the screen below it, a tall section is shrunk or split
between its blocks with its heading repeated, every block on exactly one screen."""

from __future__ import annotations

import pytest

from dashboards.screen_plan import FIT_SCALE, Block, plan_screens, sections

GAP = 16.0
ROOM = 600.0


def _page(*heights: float | str) -> list[Block]:
    """Blocks stacked with :data:`GAP` between them: a number is a block of that height, ``"h"``
    a heading 60 px tall."""
    out: list[Block] = []
    y = 0.0
    for i, h in enumerate(heights):
        tall = 60.0 if h == "h" else float(h)
        out.append(Block(i, y, y + tall, heading=h == "h"))
        y += tall + GAP
    return out


def _each_once(blocks: list[Block], screens: list[tuple[int, ...]], repeated: set[int]) -> None:
    shown = [i for s in screens for i in s]
    assert sorted(set(shown)) == [b.index for b in blocks]
    assert all(shown.count(i) == 1 for i in set(shown) - repeated)


def test_sections_start_at_headings_and_keep_headings_together() -> None:
    blocks = _page(100, "h", 200, "h", "h", 50, 50)
    assert [[b.index for b in s] for s in sections(blocks)] == [[0], [1, 2], [3, 4, 5, 6]]


def test_sections_that_fit_share_a_screen_and_are_never_cut() -> None:
    blocks = _page("h", 150, "h", 200, "h", 300, "h", 100)
    screens = plan_screens(blocks, ROOM, most=10)
    assert [s.indices for s in screens] == [(0, 1, 2, 3), (4, 5, 6, 7)]
    assert all(s.scale == 1.0 for s in screens)
    first = screens[0].pieces
    assert [p.y for p in first] == [0.0, 60 + GAP, 60 + GAP + 150 + GAP,
                                    60 + GAP + 150 + GAP + 60 + GAP]


def test_a_short_title_shares_the_screen_of_the_section_below_shrunk() -> None:
    blocks = _page("h", 120, "h", 500, "h", 300)
    screens = plan_screens(blocks, ROOM, most=10)
    assert [s.indices for s in screens] == [(0, 1, 2, 3), (4, 5)]
    height = 60 + 120 + 60 + 500 + 3 * GAP
    assert screens[0].scale == pytest.approx(ROOM / height)
    assert screens[1].scale == 1.0


def test_a_section_a_little_too_tall_is_shrunk_to_fit() -> None:
    blocks = _page("h", 300, 300, "h", 100)
    screens = plan_screens(blocks, ROOM, most=10)
    assert screens[0].indices == (0, 1, 2)
    assert screens[0].scale == pytest.approx(ROOM / (60 + 600 + 2 * GAP))
    assert screens[0].scale >= FIT_SCALE


def test_a_much_taller_section_is_split_between_blocks_under_its_heading_repeated() -> None:
    blocks = _page("h", 250, 250, 250, 250, 900, "h", 100)
    screens = plan_screens(blocks, ROOM, most=10)
    assert [s.indices for s in screens] == [(0, 1, 2), (0, 3, 4), (0, 5), (6, 7)]
    assert [[p.continued for p in s.pieces] for s in screens] == [
        [False, False, False], [True, False, False], [True, False], [False, False]]
    assert screens[0].scale == screens[1].scale == screens[3].scale == 1.0
    # the 900 px block cannot fit a screen: its part is shrunk whatever it takes
    assert screens[2].scale == pytest.approx(ROOM / (60 + 900 + GAP))
    _each_once(blocks, [s.indices for s in screens], repeated={0})


def test_at_most_most_screens() -> None:
    blocks = _page(*(("h", 500.0) * 5))
    assert len(plan_screens(blocks, ROOM, most=10)) == 5
    assert [s.indices for s in plan_screens(blocks, ROOM, most=2)] == [(0, 1), (2, 3)]


def test_no_room_is_refused() -> None:
    with pytest.raises(ValueError, match="room must be positive"):
        plan_screens(_page("h", 10), 0.0, most=3)
