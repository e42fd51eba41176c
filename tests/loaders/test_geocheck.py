"""An institution whose coordinates lie outside its declared division is kept with a note
naming where the point falls (a spatial join on the shipped boundaries); one inside is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders.load import load_folder
from loaders.store import open_store


def _load(tmp_path: Path, tiny: Any, lon: str, lat: str) -> tuple[Any, list[tuple[Any, ...]]]:
    rows = tiny.rows()
    rows["institutions"][0].update(lon=lon, lat=lat)  # declared 341202 颍州区 (阜阳)
    with open_store(tmp_path / "s.duckdb") as store:
        report = load_folder(tiny.write_folder(tmp_path / "export", rows), store)
        notes = store.con.execute(
            "SELECT row_key, column_name, raw_value, reason_code, reason_zh, reason_en "
            "FROM data_notes WHERE reason_code = 'coordinates_outside_division'").fetchall()
        kept = store.con.execute("SELECT lon, lat FROM institutions WHERE fixmedins_code = "
                                 "'H34120000017'").fetchone()
    assert kept is not None  # the row is kept, as it came
    return report, notes


def test_a_point_in_another_city_is_noted_with_where_it_falls(tmp_path: Path, tiny: Any
                                                              ) -> None:
    report, notes = _load(tmp_path, tiny, "121.48", "31.23")  # the Bund, Shanghai
    assert report.rows_in == report.loaded + report.quarantined
    ((key, column, value, code, zh, en),) = notes
    assert (key, column, value, code) == ("H34120000017", "lon", "121.48,31.23",
                                          "coordinates_outside_division")
    assert "341202 → 3101" in zh  # declared Fuyang's 颍州区, falls in a Shanghai district
    assert "km" in en
    assert "WGS84" in en


def test_a_point_inside_its_county_has_no_note(tmp_path: Path, tiny: Any) -> None:
    _, notes = _load(tmp_path, tiny, "115.81", "32.89")
    assert notes == []
