"""Each national format variant, taken alone, and all of them together, loads whole.

The generator writes the same data in the legacy shapes and, one switch at a time, in the shapes
real exports carry (13/14-character staff codes, hospital levels as short labels, ICD-10 医保版
extensions, TCM codes, operator and department columns). Every variant must load with no row
quarantined and no note, and store as many rows as the legacy files: a descriptive field in a
national shape never costs a claim.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.load import load_folder
from loaders.store import open_store
from yibao.synth import ExportFormats, synthesize

_SCALE, _SEED = 10_000, 11
_VARIANTS = {
    "staff_codes": "legacy,staff_codes=national",
    "hosp_lv": "legacy,hosp_lv=mixed",
    "icd_extensions": "legacy,icd_extensions=yes",
    "tcm_codes": "legacy,tcm_codes=yes",
    "operators": "legacy,operators=yes",
    "all": "real",
}


@pytest.fixture(scope="module")
def legacy_counts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    root = tmp_path_factory.mktemp("legacy")
    synthesize(root / "data", scale=_SCALE, seed=_SEED, formats=ExportFormats.legacy())
    with open_store(root / "store.duckdb") as store:
        report = load_folder(root / "data", store)
        assert report.quarantined == report.noted == 0
        return {f.table: f.inserted for f in report.files}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_a_format_variant_loads_whole(tmp_path: Path, legacy_counts: dict[str, int],
                                      variant: str) -> None:
    formats = ExportFormats.parse(_VARIANTS[variant])
    synthesize(tmp_path / "data", scale=_SCALE, seed=_SEED, formats=formats)
    with open_store(tmp_path / "store.duckdb") as store:
        report = load_folder(tmp_path / "data", store)
        for f in report.files:
            assert (f.quarantined, f.noted) == (0, 0), (variant, f.file, f.reasons, f.notes)
            assert f.rows_in == f.inserted
        inserted = {f.table: f.inserted for f in report.files}
        if variant in ("staff_codes", "all"):
            # nurses, technicians and pharmacy staff join the practitioners file
            assert inserted.pop("practitioners") > legacy_counts["practitioners"]
            legacy = {t: n for t, n in legacy_counts.items() if t != "practitioners"}
        else:
            legacy = legacy_counts
        assert inserted == legacy
        if variant in ("operators", "all"):
            filled = store.con.execute(
                "SELECT count(opter_id), count(*) FROM settlements"
            ).fetchone()
            assert filled is not None
            assert filled[0] == filled[1] > 0
        if variant in ("hosp_lv", "all"):
            levels = {lv for (lv,) in store.con.execute(
                "SELECT DISTINCT hosp_lv FROM institutions").fetchall()}
            assert {"3", "2", "1"} & levels  # short labels stored as their level class
