"""How much of a briefing page is left blank above its footer, measured on a picture of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

A4_MM = (210.0, 297.0)
SIDE_MM = 12.0
"""The page's left and right padding (``.page`` in ``templates/brief.css``)."""

MOST_BLANK = 0.03
"""The largest share of the page height (9 mm) a briefing may leave blank between its content
and its footer: the page script keeps 4 mm spare for printing (``templates/brief.js``)."""


@dataclass(frozen=True)
class Blank:
    """Rows of pixels: the footer's top rule, the last row with ink above it, the height."""

    footer: int
    last_ink: int
    height: int

    @property
    def share(self) -> float:
        """The blank band between the content and the footer, as a share of the page."""
        return (self.footer - self.last_ink - 1) / self.height

    @property
    def mm(self) -> float:
        return (self.footer - self.last_ink - 1) / self.height * A4_MM[1]


def blank_above_footer(picture: Path) -> Blank:
    """Find the footer's full-width grey rule (``.footer`` border, #9ca3af) in the lowest
    third of the page, then the last row above it with any ink (table borders count)."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(picture).convert("L"), dtype=np.int16)
    height, width = grey.shape
    left = round(width * (SIDE_MM + 2) / A4_MM[0])
    band = grey[:, left:width - left]
    rule: list[bool] = ((band < 200).mean(axis=1) > 0.9).tolist()
    rows = [y for y in range(height - 1, height * 2 // 3, -1) if rule[y]]
    assert rows, f"no footer rule found in {picture}"
    footer = rows[0]
    while footer > 0 and rule[footer - 1]:
        footer -= 1
    inked: list[bool] = (band < 235).any(axis=1).astype(bool).tolist()
    last = footer - 1
    while last > 0 and not inked[last]:
        last -= 1
    return Blank(footer=footer, last_ink=last, height=height)
