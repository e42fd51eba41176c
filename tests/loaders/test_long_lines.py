"""A very long value (a pasted document in an address cell) loads; it does not refuse the file."""

from __future__ import annotations

from pathlib import Path

from loaders.load import load_folder
from loaders.store import open_store


def test_three_megabyte_line_loads(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    long_addr = "阜阳市颍州区" * 200_000  # 1.2 M characters, 3.6 MB in UTF-8
    (folder / "institutions.csv").write_text(
        "fixmedins_code,fixmedins_name,fixmedins_type,admdvs,addr\n"
        f"H34120200001,阜阳市人民医院,1,341202,{long_addr}\n"
        "P34120200002,某某大药房,2,341202,\n",
        encoding="utf-8",
    )
    with open_store(tmp_path / "s.duckdb") as store:
        report = load_folder(folder, store)
        stored = store.frame("SELECT length(addr) AS n FROM institutions ORDER BY 1 DESC")
    assert report.quarantined == 0
    assert report.inserted == 2
    assert int(stored["n"].iloc[0]) == len(long_addr)
