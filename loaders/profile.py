"""A profile of a folder of exports before loading it: what will happen to every column.

``profile_folder`` loads the folder into a throw-away store in a temporary folder (the user's
store is never touched) with the same code as ``yibao load``, so its counts are the load's
counts; it then reads every file once more to describe the shapes of its values. For each table
and column it reports the value shapes found (``D999999999999``: a letter and 12 digits), with
counts and two examples each (personal data masked), and how many values would be quarantined,
kept with a note, or mapped through a code table. Unknown code-table labels come back as the
mapping-file entries that would map them.

Examples
--------
>>> profile = profile_folder("exports/")            # doctest: +SKIP
>>> print(profile.mapping_suggestions())             # doctest: +SKIP
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from loaders._sql import ident, literal
from loaders.codes import CodeTables, code_tables
from loaders.contract import TABLES, Kind
from loaders.load import load_folder
from loaders.report import FileReport
from loaders.sources import stage_raw
from loaders.store import Store, open_store
from yibao.masking import PERSONAL_COLUMNS, mask_value

__all__ = ["ColumnProfile", "FileProfile", "FolderProfile", "Shape", "profile_folder"]

_SHAPES_SHOWN = 6


@dataclass(frozen=True)
class Shape:
    """A shape of values (digits as 9, letters as A/a, Chinese characters as 汉), how many
    values have it and two examples."""

    shape: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class ColumnProfile:
    """What the file holds in one contract column and what a load would do with it.

    ``quarantined``: rows the column's faults would quarantine; ``noted``: values that would be
    kept with a note; ``mapped``: values a code table (or normalisation: full-width digits,
    other date spellings ...) would turn into the stored code or value.
    """

    column: str
    header: str | None
    filled: int
    shapes: tuple[Shape, ...]
    quarantined: int = 0
    noted: int = 0
    mapped: int = 0
    code_table: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    unknown_codes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class FileProfile:
    """One file: the load's own account of it, and its columns."""

    report: FileReport
    columns: tuple[ColumnProfile, ...]


@dataclass(frozen=True)
class FolderProfile:
    """The profile of a folder (see :func:`profile_folder`)."""

    folder: str
    files: tuple[FileProfile, ...]
    ignored_files: tuple[str, ...]
    code_sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "code_tables": list(self.code_sources),
            "ignored_files": list(self.ignored_files),
            "files": [
                {
                    **f.report.to_dict(),
                    "columns": [asdict(c) for c in f.columns],
                }
                for f in self.files
            ],
            "mapping_suggestions": self.mapping_suggestions(),
        }

    def mapping_suggestions(self, codes: CodeTables | None = None) -> str:
        """TOML for a code mapping file that would map every unknown label found (the code is
        left for the user to fill in); empty when there is none."""
        codes = codes or code_tables()
        by_table: dict[str, dict[str, int]] = {}
        for f in self.files:
            for c in f.columns:
                if c.code_table:
                    for value, n in c.unknown_codes:
                        seen = by_table.setdefault(c.code_table, {})
                        seen[value] = seen.get(value, 0) + n
        lines: list[str] = []
        for name, values in by_table.items():
            table = codes[name]
            lines.append(f"[tables.{name}.labels]  # {table.label_zh}")
            known = ", ".join(f"{c.code} {c.zh}" for c in table.codes)
            lines.append(f"# codes: {known}")
            for value, n in sorted(values.items(), key=lambda kv: -kv[1]):
                lines.append(f"{json.dumps(value, ensure_ascii=False)} = \"\"  # {n:,} rows")
            lines.append("")
        return "\n".join(lines)


def _shape_sql(value: str, kind: Kind) -> str:
    shape = value
    for pattern, into in (("[0-9]", "9"), ("[０-９]", "９"), ("[A-Z]", "A"), ("[a-z]", "a"),
                          ("[\\x{4e00}-\\x{9fff}]", "汉"), ("[^\\x00-\\x7F９汉]", "?")):
        shape = f"regexp_replace({shape}, {literal(pattern)}, {literal(into)}, 'g')"
    if kind in (Kind.TEXT, Kind.NAME):  # free text: runs of a kind, not lengths
        for run in ("汉", "9", "A", "a"):
            shape = f"regexp_replace({shape}, {literal(run + '{2,}')}, {literal(run + '…')}, 'g')"
    return f"left({shape}, 40)"


def _shapes(con: duckdb.DuckDBPyConnection, table: str,
            present: dict[str, str]) -> dict[str, tuple[int, tuple[Shape, ...]]]:
    """Filled count and the commonest shapes of each present column of ``raw``."""
    out: dict[str, tuple[int, tuple[Shape, ...]]] = {}
    for col in TABLES[table].columns:
        if col.name not in present:
            continue
        v = ident(col.name)
        rows = con.execute(
            f"""SELECT shape, count(*) AS n, list(v ORDER BY _row)[1:2] AS examples,
                       sum(count(*)) OVER () AS filled
                FROM (SELECT {_shape_sql(v, col.kind)} AS shape, {v} AS v, _row FROM raw
                      WHERE {v} IS NOT NULL AND trim({v}) <> '')
                GROUP BY shape ORDER BY n DESC, shape LIMIT {_SHAPES_SHOWN}"""
        ).fetchall()
        personal = PERSONAL_COLUMNS.get(col.name)
        shapes = tuple(
            Shape(str(shape), int(n),
                  tuple(str(mask_value(e, personal) if personal else e) for e in examples))
            for shape, n, examples, _ in rows
        )
        out[col.name] = (int(rows[0][3]) if rows else 0, shapes)
    return out


def _counts(store: Store, table: str, file: str) -> dict[str, dict[str, Any]]:
    """Per column: quarantined rows by reason, notes by reason, unknown codes."""
    out: dict[str, dict[str, Any]] = {}
    quarantined = store.con.execute(
        """SELECT json_extract_string(p, '$.column') AS col, json_extract_string(p, '$.code'),
                  count(DISTINCT row_no)
           FROM (SELECT row_no, unnest(CAST(problems AS JSON[])) AS p FROM quarantine
                 WHERE table_name = ? AND file = ?)
           GROUP BY ALL""",
        [table, file],
    ).fetchall()
    for col, code, n in quarantined:
        # a composite key's problem ("setl_id+feedetl_sn") is shown on the key's last column
        entry = out.setdefault(str(col).split("+")[-1],
                               {"quarantined": 0, "noted": 0, "reasons": {}})
        entry["quarantined"] += int(n)
        entry["reasons"][str(code)] = int(n)
    noted = store.con.execute(
        """SELECT column_name, reason_code, count(*) FROM data_notes
           WHERE table_name = ? AND file = ? GROUP BY ALL""",
        [table, file],
    ).fetchall()
    for col, code, n in noted:
        entry = out.setdefault(str(col), {"quarantined": 0, "noted": 0, "reasons": {}})
        entry["noted"] += int(n)
        entry["reasons"][str(code)] = entry["reasons"].get(str(code), 0) + int(n)
    unknown = store.con.execute(
        """SELECT column_name, raw_value, count(*) AS n FROM data_notes
           WHERE table_name = ? AND file = ? AND reason_code = 'unknown_code'
           GROUP BY ALL ORDER BY n DESC, raw_value""",
        [table, file],
    ).fetchall()
    for col, value, n in unknown:
        entry = out.setdefault(str(col), {"quarantined": 0, "noted": 0, "reasons": {}})
        entry.setdefault("unknown", []).append((str(value), int(n)))
    return out


def profile_folder(
    folder: str | Path,
    *,
    codes: CodeTables | None = None,
    tables: list[str] | None = None,
) -> FolderProfile:
    """Profile the exports in ``folder`` without loading them anywhere (see module doc).

    Raises the same :class:`~yibao.errors.DataFileError` as ``yibao load`` for a file that
    cannot be read at all.
    """
    folder = Path(folder)
    codes = codes or code_tables()
    with (
        tempfile.TemporaryDirectory(prefix="yibao-profile-") as tmp,
        open_store(Path(tmp) / "profile.duckdb") as store,
    ):
        report = load_folder(folder, store, tables=tables, codes=codes)
        files = tuple(_file_profile(store, folder / fr.file, fr, Path(tmp))
                      for fr in report.files)
    return FolderProfile(
        folder=str(folder),
        files=files,
        ignored_files=report.ignored_files,
        code_sources=codes.sources,
    )


def _file_profile(store: Store, path: Path, fr: FileReport, workdir: Path) -> FileProfile:
    con = duckdb.connect()
    try:
        stage = stage_raw(con, path, fr.table, workdir=workdir)
        shapes = _shapes(con, fr.table, stage.column_map)
    finally:
        con.close()
    counts = _counts(store, fr.table, fr.file)
    columns = []
    for col in TABLES[fr.table].columns:
        c = counts.get(col.name, {})
        filled, col_shapes = shapes.get(col.name, (0, ()))
        columns.append(ColumnProfile(
            column=col.name,
            header=stage.column_map.get(col.name),
            filled=filled,
            shapes=col_shapes,
            quarantined=int(c.get("quarantined", 0)),
            noted=int(c.get("noted", 0)),
            mapped=fr.normalised.get(col.name, 0),
            code_table=col.code_table,
            reasons=dict(c.get("reasons", {})),
            unknown_codes=tuple(c.get("unknown", ())),
        ))
    return FileProfile(report=fr, columns=tuple(columns))
