"""Which part of a page goes on which 16:9 screen of a screenshot (截图模式's PNGs), cut only at
section boundaries.

The page is a column of top-level blocks (Streamlit's elements, rows of columns, tab groups),
measured in the browser (:mod:`dashboards.capture`). A *section* starts at a heading block
(``st.title``, ``st.header``, ``st.subheader``; headings that follow each other start one section)
and runs to the next section's heading; the blocks above the first heading are a section too.
The screens are filled in page order, a whole section at a time:

* a section that fits the room left on the screen goes on it as it is;
* one that does not fit starts a new screen, unless the screen shrunk to at most
  :data:`PACK_SCALE` (or :data:`FILL_SCALE` while the screen is less than half full) takes it
  whole: a short title section then shares its screen with the map below it;
* a section taller than a screen is shrunk to fit, down to :data:`FIT_SCALE`; one taller still
  is split between its blocks, each part on a screen of its own under the section's heading
  repeated (marked as continued), and a block taller than a screen is shrunk to fit whatever it
  takes.

A screen's content is stacked from its top with the page's own gaps between blocks and shrunk by
its :attr:`Screen.scale`. Nothing is cut and nothing but a repeated heading shows twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["FILL_SCALE", "FIT_SCALE", "PACK_SCALE", "Block", "Piece", "Screen",
           "plan_screens", "sections"]

PACK_SCALE = 0.75
"""A screen is shrunk to at most this to take one more whole section."""

FILL_SCALE = 0.65
"""A screen less than half full is shrunk to at most this to take the next section whole."""

FIT_SCALE = 0.6
"""A section taller than a screen is shrunk to at most this before it is split instead."""


@dataclass(frozen=True)
class Block:
    """One top-level block of the page: its position among them, its top and bottom (CSS
    pixels from the top of the page) and whether it is a heading."""

    index: int
    top: float
    bottom: float
    heading: bool = False

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Piece:
    """A block placed on a screen: its :attr:`Block.index`, its top (CSS pixels below the
    screen's top, before the screen's scale) and whether it is a heading repeated above the
    rest of its section (续)."""

    index: int
    y: float
    continued: bool = False


@dataclass(frozen=True)
class Screen:
    """One screen: its blocks in page order and the factor (at most 1) they are shrunk by."""

    pieces: tuple[Piece, ...]
    scale: float

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(p.index for p in self.pieces)


@dataclass(frozen=True)
class _Part:
    """Blocks that go on a screen together; ``repeated`` of them are a heading shown again."""

    blocks: tuple[Block, ...]
    repeated: int = 0


def sections(blocks: Sequence[Block]) -> list[tuple[Block, ...]]:
    """``blocks`` (in page order) grouped into sections: each starts at a heading that does not
    directly follow another heading."""
    out: list[list[Block]] = []
    for i, block in enumerate(blocks):
        starts = block.heading and (i == 0 or not blocks[i - 1].heading)
        if starts or not out:
            out.append([block])
        else:
            out[-1].append(block)
    return [tuple(s) for s in out]


def _gaps(blocks: Sequence[Block]) -> dict[int, float]:
    """The page's gap above each block (none above the first)."""
    return {b.index: max(b.top - a.bottom, 0.0) for a, b in pairwise(blocks)}


def _stack(blocks: Sequence[Block], gaps: dict[int, float]) -> float:
    """The height of ``blocks`` stacked with the page's gap above every one but the first."""
    return sum(b.height for b in blocks) + sum(gaps.get(b.index, 0.0) for b in blocks[1:])


def _split(section: tuple[Block, ...], room: float, gaps: dict[int, float]) -> list[_Part]:
    """A section too tall for a screen, in parts at block boundaries: as many blocks as fit
    per part, the heading repeated on every part after the first."""
    n = 0
    while n < len(section) and section[n].heading:
        n += 1
    head = section[:n] if n < len(section) else ()
    parts: list[_Part] = []
    current: list[Block] = list(head)
    for block in section[len(head):]:
        if len(current) > len(head) and _stack([*current, block], gaps) > room:
            parts.append(_Part(tuple(current), repeated=len(head) if parts else 0))
            current = list(head)
        current.append(block)
    parts.append(_Part(tuple(current), repeated=len(head) if parts else 0))
    return parts


def plan_screens(blocks: Sequence[Block], room: float, *, most: int) -> list[Screen]:
    """The screens of a page of ``blocks`` (in page order; blocks of no height left out by the
    caller), each ``room`` CSS pixels tall, at most ``most`` (the rest of a longer page is left
    out)."""
    if room <= 0:
        raise ValueError(f"room must be positive, not {room!r}")
    gaps = _gaps(blocks)
    parts: list[_Part] = []
    for section in sections(blocks):
        if _stack(section, gaps) * FIT_SCALE <= room:
            parts.append(_Part(section))
        else:
            parts += _split(section, room, gaps)
    grouped: list[list[_Part]] = []
    for part in parts:
        if grouped and not part.repeated:
            together = [b for p in grouped[-1] for b in p.blocks] + list(part.blocks)
            before = _stack([b for p in grouped[-1] for b in p.blocks], gaps)
            height = _stack(together, gaps)
            limit = FILL_SCALE if before < room / 2 else PACK_SCALE
            if height <= room or room / height >= limit:
                grouped[-1].append(part)
                continue
        grouped.append([part])
    return [_screen(group, room, gaps) for group in grouped[:most]]


def _screen(group: list[_Part], room: float, gaps: dict[int, float]) -> Screen:
    pieces: list[Piece] = []
    y = 0.0
    for part in group:
        for n, block in enumerate(part.blocks):
            if pieces:
                y += gaps.get(block.index, 0.0)
            pieces.append(Piece(block.index, y, continued=n < part.repeated))
            y += block.height
    return Screen(tuple(pieces), scale=min(1.0, room / y) if y > 0 else 1.0)
