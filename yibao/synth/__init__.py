"""Synthetic medical-insurance data of the Yangtze River Delta (长三角医保合成数据).

One call writes a year (2024) of settlements and fee details with the persons, institutions and
practitioners they refer to, planted fraud rings and honest look-alikes (``truth.json``), and
optionally a dirty copy with realistic export faults (``faults.json``). Codes take the shapes real
national exports carry (13/14-character staff codes, hospital levels as codes or labels, ICD-10
医保版 2.0 extensions, TCM codes, operator and department columns); ``formats`` switches each
variant (:class:`ExportFormats`)::

    from yibao.synth import ExportFormats, synthesize
    summary = synthesize(Path("data/demo"), scale=100_000, seed=7)
    legacy = synthesize(Path("data/old"), scale=100_000, seed=7, formats=ExportFormats.legacy())
"""

from __future__ import annotations

from yibao.synth.formats import ExportFormats
from yibao.synth.generate import SCALE_MAX, SCALE_MIN, SynthSummary, synthesize
from yibao.synth.writer import XLSX_MAX_ROWS

__all__ = ["SCALE_MAX", "SCALE_MIN", "XLSX_MAX_ROWS", "ExportFormats", "SynthSummary",
           "synthesize"]
