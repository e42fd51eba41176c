"""Finding the data set's personal data (full names, ID numbers, phone numbers) in what a browser
got from the workbench: the page's text, its attribute values, its plotly figures and the
websocket frames Streamlit sent.

The values come from the store (:meth:`PersonalData.from_store`); each text is searched once:

* names: every run of characters that names are made of (Chinese characters, in practice) is
  cut into its substrings of the names' lengths (two to four characters), each looked up in a
  set, so a name is found inside a sentence, a label or an Arrow buffer (where the cells of a
  column follow each other with nothing between);
* ID numbers (18 characters) and phone numbers (11 digits): every whole number of 11 to 18
  digits (an ID number may end in ``X``) is looked up in a set. Only whole numbers count, so a
  phone number never "matches" the middle of a longer number; frames are therefore decoded
  (protobuf fields one by one, Arrow tables cell by cell, JSON's ``\\uXXXX`` escapes undone)
  before they are searched, and page text is read text node by text node.

Names the workbench shows by design as something else (an institution, a place, a drug, a
department, an inspector of the plan's roster, a signed-in user) are left out of the search:
``public`` strings passed to :meth:`PersonalData.from_store`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from google.protobuf.message import DecodeError, Message
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loaders.store import open_store

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_NUMBER = re.compile(r"(?<![0-9])[0-9]{11,17}[0-9Xx]?(?![0-9Xx])")

# Every text node of the document on its own line, every attribute value, every form value,
# and every plotly figure's data and layout as JSON (what its hover texts are drawn from).
PAGE_TEXTS_JS = """
() => {
  const text = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) text.push(walker.currentNode.nodeValue);
  const attributes = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) attributes.push(a.value);
    if (typeof el.value === 'string') attributes.push(el.value);
  }
  const figures = [];
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    figures.push(JSON.stringify({data: el.data || [], layout: el.layout || {}}));
  }
  return {text: text.join('\\n'), attributes: attributes.join('\\n'),
          figures: figures.join('\\n')};
}
"""


@dataclass(frozen=True)
class PersonalData:
    """The personal values to look for: full ``names`` and ``numbers`` (ID numbers and phone
    numbers)."""

    names: frozenset[str]
    numbers: frozenset[str]
    left_out: frozenset[str] = frozenset()
    """Names not searched for because a public string holds them."""
    _runs: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alphabet = "".join(sorted({c for name in self.names for c in name}))
        shortest = min((len(n) for n in self.names), default=1)
        object.__setattr__(self, "_runs", re.compile(f"[{re.escape(alphabet)}]{{{shortest},}}"))
        object.__setattr__(self, "_lengths", tuple(sorted({len(n) for n in self.names})))

    @classmethod
    def from_store(cls, db: Path, *, public: Iterable[str] = ()) -> PersonalData:
        """Every person's full name, ID number and phone, every doctor's and operator's full
        name in the store ``db``; names that occur in a ``public`` string, or in the store's
        institution, place, drug and department names, are left out (see the module)."""
        with open_store(db, read_only=True) as store:
            con = store.con
            names = {r[0] for r in con.execute("""
                SELECT psn_name FROM persons UNION SELECT dr_name FROM practitioners
                UNION SELECT opter_name FROM settlements""").fetchall()}
            numbers = {r[0] for r in con.execute(
                "SELECT certno FROM persons UNION SELECT tel FROM persons").fetchall()}
            shown = [r[0] for r in con.execute("""
                SELECT fixmedins_name FROM institutions UNION SELECT addr FROM institutions
                UNION SELECT med_list_name FROM fee_details
                UNION SELECT dept_name FROM settlements""").fetchall()]
        full = {str(n).strip() for n in names if n and len(str(n).strip()) >= 2}
        every = frozenset(str(n).strip() for n in numbers if n)
        vocabulary = "\n".join(str(s) for s in [*shown, *public] if s)
        left_out = cls(names=frozenset(full), numbers=frozenset()).find(vocabulary)
        return cls(names=frozenset(full - left_out), numbers=every,
                   left_out=frozenset(left_out))

    def find(self, text: str) -> set[str]:
        """The names and numbers of this data set in ``text``."""
        found = set()
        for run in self._runs.findall(text):
            for n in self._lengths:
                found.update(run[i:i + n] for i in range(len(run) - n + 1)
                             if run[i:i + n] in self.names)
        found.update(m for m in _NUMBER.findall(text) if m in self.numbers)
        return found

    def find_in_frames(self, frames: Iterable[bytes]) -> set[str]:
        """The names and numbers of this data set in websocket ``frames`` (Streamlit's
        protobuf messages): in the raw bytes read as UTF-8 and in every decoded field."""
        found = set()
        for frame in frames:
            found |= self.find(frame.decode("utf-8", errors="replace"))
            for text in frame_texts(frame):
                found |= self.find(text)
        return found

    def context(self, value: str, text: str, width: int = 40) -> str:
        """Where ``value`` occurs in ``text`` (for a failure message)."""
        at = text.find(value)
        return text[max(0, at - width):at + len(value) + width].replace("\n", " ⏎ ")


def frame_texts(frame: bytes) -> list[str]:
    """Every string of a Streamlit websocket frame: its protobuf message's string fields
    (JSON escapes undone, so plotly's labels read as written) and its Arrow tables cell by
    cell, one per line; the raw frame when it is not a message."""
    msg = ForwardMsg()
    try:
        msg.ParseFromString(frame)
    except DecodeError:
        return [frame.decode("utf-8", errors="replace")]
    return [_JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) for text in _strings(msg)]


def _strings(msg: Message) -> Iterator[str]:
    """Every string and bytes field of ``msg``, nested messages, repeated fields and maps
    included (bytes as Arrow cells when they are an Arrow stream)."""
    for fd, value in msg.ListFields():
        values: list[Any]
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            values = [v for pair in value.items() for v in pair]
        elif isinstance(value, (str, bytes, Message)) or not isinstance(value, Iterable):
            values = [value]
        else:  # a repeated field
            values = list(value)
        for v in values:
            if isinstance(v, Message):
                yield from _strings(v)
            elif isinstance(v, str):
                yield v
            elif isinstance(v, bytes):
                yield _arrow_cells(v) or v.decode("utf-8", errors="replace")


def _arrow_cells(data: bytes) -> str | None:
    """An Arrow IPC stream's column names and cells, one per line (``None``: not Arrow)."""
    try:
        table = pa.ipc.open_stream(data).read_all()
    except (pa.ArrowInvalid, OSError, ValueError):
        return None
    lines = [str(name) for name in table.column_names]
    for column in table.columns:
        lines.extend(str(v) for v in column.to_pylist())
    return "\n".join(lines)
