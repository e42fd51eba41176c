"""``yibao profile``: what a load would do, before loading, and nothing written.

The profile's counts must be the load's counts (it runs the loader on a throw-away store), on a
clean, a dirty and a real-format folder; its shapes describe the values; unknown labels come
back as mapping-file entries, and with that file they are mapped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loaders.codes import load_code_tables
from loaders.load import load_folder
from loaders.profile import FolderProfile, profile_folder
from loaders.store import open_store
from yibao.cli import cli
from yibao.synth import synthesize


def _listing(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


def _assert_matches_a_real_load(profile: FolderProfile, folder: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "real.duckdb") as store:
        report = load_folder(folder, store)
    assert [f.report.table for f in profile.files] == [f.table for f in report.files]
    for prof, real in zip(profile.files, report.files, strict=True):
        r = prof.report
        assert (r.rows_in, r.inserted, r.quarantined, r.noted) == (
            real.rows_in, real.inserted, real.quarantined, real.noted
        ), real.file
        assert r.reasons == real.reasons
        assert r.notes == real.notes
        # every note is on a column, and the columns' notes add up to the file's
        assert sum(c.noted for c in prof.columns) == sum(real.notes.values())


@pytest.fixture(scope="module")
def synth_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("profile_synth")
    synthesize(root / "clean", scale=10_000, seed=5)
    synthesize(root / "dirty", scale=10_000, seed=5, dirty=True)
    return {"clean": root / "clean", "dirty": root / "dirty"}


@pytest.mark.slow
def test_a_clean_real_format_folder_profiles_clean(
    synth_folders: dict[str, Path], tmp_path: Path
) -> None:
    folder = synth_folders["clean"]
    before = _listing(folder)
    profile = profile_folder(folder)
    assert _listing(folder) == before  # nothing written beside the exports
    assert {f.report.quarantined for f in profile.files} == {0}
    assert {f.report.noted for f in profile.files} == {0}
    _assert_matches_a_real_load(profile, folder, tmp_path)

    practitioners = next(f for f in profile.files if f.report.table == "practitioners")
    dr = next(c for c in practitioners.columns if c.column == "dr_codg")
    shapes = {s.shape: s for s in dr.shapes}
    assert "A999999999999" in shapes  # D/N/Y + 12 digits: the national 13 characters
    assert all(len(s.examples) == 2 and len(s.examples[0]) == len(s.shape) for s in dr.shapes)
    assert dr.filled == practitioners.report.rows_in == sum(s.count for s in dr.shapes)


@pytest.mark.slow
def test_a_dirty_folder_profiles_as_it_loads(
    synth_folders: dict[str, Path], tmp_path: Path
) -> None:
    profile = profile_folder(synth_folders["dirty"])
    assert sum(f.report.quarantined for f in profile.files) > 0
    assert sum(f.report.noted for f in profile.files) > 0
    _assert_matches_a_real_load(profile, synth_folders["dirty"], tmp_path)
    for f in profile.files:
        per_column = sum(c.quarantined for c in f.columns)
        assert per_column >= f.report.quarantined - sum(
            n for code, n in f.report.reasons.items()
            if code in ("column_count", "unparseable_row", "invalid_encoding", "extra_cells")
        )


def test_personal_data_is_masked_in_examples(
    synth_folders: dict[str, Path], tiny: Any
) -> None:
    profile = profile_folder(synth_folders["clean"])
    persons = next(f for f in profile.files if f.report.table == "persons")
    for column in ("psn_name", "certno", "tel"):
        col = next(c for c in persons.columns if c.column == column)
        assert col.shapes
        assert all("*" in e for s in col.shapes for e in s.examples), col


@pytest.mark.slow
def test_unknown_labels_become_mapping_entries_that_map_them(tmp_path: Path, tiny: Any) -> None:
    rows = tiny.rows()
    rows["institutions"][0]["hosp_lv"] = "三级医院"  # a province's own label
    rows["institutions"][1]["fixmedins_type"] = "单体药店"
    rows["settlements"][0]["med_type"] = "门诊统筹"
    rows["settlements"][1]["med_type"] = "门诊统筹"
    folder = tiny.write_folder(tmp_path / "export", rows)

    profile = profile_folder(folder)

    assert sum(f.report.quarantined for f in profile.files) == 0
    settlements = next(f for f in profile.files if f.report.table == "settlements")
    med = next(c for c in settlements.columns if c.column == "med_type")
    assert (med.noted, med.unknown_codes, med.reasons) == (2, (("门诊统筹", 2),),
                                                           {"unknown_code": 2})
    text = profile.mapping_suggestions()
    assert '[tables.med_type.labels]' in text
    assert '"门诊统筹" = ""  # 2 rows' in text
    assert '"三级医院" = ""  # 1 rows' in text
    assert '"单体药店" = ""' in text

    # the user fills in the codes: the same folder then maps them, with no note
    mapping = tmp_path / "codes.toml"
    mapping.write_text(
        text.replace('"门诊统筹" = ""', '"门诊统筹" = "11"')
        .replace('"三级医院" = ""', '"三级医院" = "3"')
        .replace('"单体药店" = ""', '"单体药店" = "2"'),
        encoding="utf-8",
    )
    again = profile_folder(folder, codes=load_code_tables(mapping))
    assert sum(f.report.noted for f in again.files) == 0
    med = next(c for c in next(f for f in again.files if f.report.table == "settlements").columns
               if c.column == "med_type")
    assert med.mapped == 2
    with open_store(tmp_path / "store.duckdb") as store:
        load_folder(folder, store, codes=load_code_tables(mapping))
        assert store.con.execute(
            "SELECT med_type, count(*) FROM settlements GROUP BY 1 ORDER BY 1"
        ).fetchall() == [("11", 2), ("41", 1)]


def test_a_mapping_file_naming_an_unknown_code_is_refused(tmp_path: Path) -> None:
    from yibao.errors import SettingsError

    mapping = tmp_path / "codes.toml"
    mapping.write_text('[tables.hosp_lv.labels]\n"三级医院" = "99"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"codes\.toml: labels of \[tables\.hosp_lv\] "
                                            r"name codes the table lacks: '三级医院' = '99'"):
        load_code_tables(mapping)


@pytest.mark.slow
def test_the_command_prints_json_and_writes_nothing(
    synth_folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["profile", str(synth_folders["dirty"]), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {f["table"] for f in data["files"]} == {
        "persons", "institutions", "practitioners", "settlements", "fee_details"
    }
    assert all(f["rows_in"] == f["inserted"] + f["unchanged"] + f["quarantined"]
               for f in data["files"])
    assert list(tmp_path.iterdir()) == []  # no store, no temporary file left behind
    table = CliRunner().invoke(cli, ["profile", str(synth_folders["dirty"])])
    assert table.exit_code == 0
    assert "形态 shapes" in table.output
