"""CSV files for ``neo4j-admin database import full``: the first load of a big store.

The Bolt push (:mod:`backends.neo4j_load`) MERGEs 3,000-7,500 rows a second: right for keeping
a graph up to date, far too slow for a province-year first load (1.5 billion rows). Neo4j's
offline importer writes the store files straight from CSV instead. :func:`write_import_csv`
writes those CSV files from the embedded store with DuckDB's ``COPY`` (rows never pass through
Python): one nodes file per label, one relationships file per type, each with its header line in
a separate ``*_header.csv`` (so a data file can be split or compressed), and ``schema.cypher``,
the constraints and indexes to create once the database is started again.
:meth:`ImportLayout.command` is the ``neo4j-admin`` command that imports them.

The files hold the graph the Bolt push makes (:mod:`backends.neo4j`), clause for clause:

* every store column is a property (amounts and quantities as doubles, dates as ``date``,
  times as ``localdatetime``); an empty cell is no property, as ``SET n += row`` drops nulls;
* a practitioner WORKS_AT its institution when that institution is listed; a settlement is
  SETTLED by its person when the person is listed, and only then is it AT its institution when
  that is listed, and only then ATTENDED_BY its practitioner (a bare ``Practitioner {dr_codg}``
  when the code is not listed), as the MATCHes of ``load/settlements`` chain;
* a fee detail is in the graph whatever its settlement; it HAS_FEE from its settlement and
  CARRIES each of its traceability codes (``;``-separated) only when the settlement is listed;
* a reversal REVERSES the settlement it cancels when that one is listed;
* ``LoadCheckpoint {step}`` nodes say every push step is complete on this data (the push's own
  fingerprints), so a later ``yibao graph push`` of the same store sends no row again.

Each label has its own ID space (``psn_no:ID(Person)``, ``:START_ID(Person)``), so codes of
different kinds never collide. A fee detail's ID is ``<len(setl_id)>:<setl_id>:<feedetl_sn>``,
unambiguous and not stored (its ``setl_id`` and ``feedetl_sn`` are ordinary properties).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from backends.base import Progress
from backends.neo4j_load import STEPS, step_fingerprint
from loaders._sql import ident, literal
from loaders.contract import TABLES, Kind
from queries.runner import query_names, query_text
from yibao.errors import BackendError

__all__ = ["ARRAY_DELIMITER", "DELIMITER", "QUOTE", "ImportFile", "ImportLayout",
           "schema_statements", "write_import_csv"]

DELIMITER = ","
ARRAY_DELIMITER = ";"
"""Between the elements of an array property; no code of the store contains it."""
QUOTE = '"'
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
"""Cypher's local date-time syntax (``T`` between date and time), to the microsecond."""

_TYPES = {"VARCHAR": "", "DOUBLE": "double", "FLOAT": "double", "BIGINT": "long",
          "INTEGER": "long", "SMALLINT": "long", "TINYINT": "long", "BOOLEAN": "boolean",
          "DATE": "date", "TIMESTAMP": "localdatetime", "TIME": "localtime",
          "TIMESTAMP WITH TIME ZONE": "datetime"}
"""DuckDB column type -> neo4j-admin property type (``""``: string, the default)."""

_FEE_ID = "length(f.setl_id)::VARCHAR || ':' || f.setl_id || ':' || f.feedetl_sn"
# fee details whose settlement is listed: what gets past the settlement's match in the
# fee_details load query
_FEES = "fee_details f SEMI JOIN settlements s ON s.setl_id = f.setl_id"
# settlements whose person and institution are listed: what gets past both matches of the
# settlements load query
_LINKED = ("settlements s SEMI JOIN persons p ON p.psn_no = s.psn_no "
           "SEMI JOIN institutions i ON i.fixmedins_code = s.fixmedins_code")


@dataclass(frozen=True)
class ImportFile:
    """One data source of the import: ``name`` the label (nodes) or type (relationships), the
    header file, the data file (``.csv`` or ``.csv.gz``) and its number of rows."""

    name: str
    header: Path
    data: Path
    rows: int


@dataclass(frozen=True)
class ImportLayout:
    """The files :func:`write_import_csv` wrote into ``folder``. ``multiline``: some text of
    the store has a line break, so the importer must read quoted fields across lines."""

    folder: Path
    nodes: tuple[ImportFile, ...]
    relationships: tuple[ImportFile, ...]
    schema: Path
    multiline: bool = False

    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type, as :meth:`Neo4jBackend.counts
        <backends.neo4j.Neo4jBackend.counts>` will count them after the import."""
        out: Counter[str] = Counter()
        for f in (*self.nodes, *self.relationships):
            out[f.name] += f.rows
        return dict(out)

    def located(self, path: Path, folder: str | None = None) -> str:
        """Where ``path`` (one of the layout's files) will be when this folder is at ``folder``
        (default: where it is now)."""
        root = (folder or str(self.folder.resolve())).rstrip("/")
        return f"{root}/{path.relative_to(self.folder).as_posix()}"

    def command(self, database: str = "neo4j", *, folder: str | None = None,
                overwrite: bool = True) -> list[str]:
        """The ``neo4j-admin database import full`` arguments importing these files.

        ``folder`` is where this folder will be on the Neo4j server (default: where it is
        now). The database comes first, before the multi-value ``--nodes`` options (which
        would otherwise swallow it). ``overwrite`` adds ``--overwrite-destination=true``: the
        importer refuses a database that exists (even the empty default ``neo4j``) without it,
        and deletes that database's files with it.
        """
        at = self.located
        args = ["neo4j-admin", "database", "import", "full", database]
        if overwrite:
            args.append("--overwrite-destination=true")
        args += [f"--delimiter={DELIMITER}", f"--array-delimiter={ARRAY_DELIMITER}",
                 f"--quote={QUOTE}", "--id-type=string"]
        if self.multiline:
            args.append("--multiline-fields=true")
        args += [f"--nodes={f.name}={at(f.header, folder)},{at(f.data, folder)}"
                 for f in self.nodes]
        args += [f"--relationships={f.name}={at(f.header, folder)},{at(f.data, folder)}"
                 for f in self.relationships]
        return args


@dataclass(frozen=True)
class _Source:
    """One file to write: ``sql`` selects its rows, ``ids`` head its first columns (the node ID,
    or the start and end IDs); the other columns are properties typed from their SQL type."""

    stem: str
    name: str
    sql: str
    ids: tuple[str, ...]
    params: tuple[Any, ...] = ()


def _props(table: str, first: str, alias: str) -> str:
    """The table's columns, ``first`` first, amounts and quantities as DOUBLE (yuan): the
    columns and casts of the push (:meth:`LoadStep.select_sql
    <backends.neo4j_load.LoadStep.select_sql>`)."""
    t = TABLES[table]
    names = [first, *(c.name for c in t.columns if c.name != first)]
    return ", ".join(
        f"{alias}.{ident(n)}::DOUBLE AS {ident(n)}"
        if t.column(n).kind in (Kind.AMOUNT, Kind.NUMBER) else f"{alias}.{ident(n)}"
        for n in names)


def _node(label: str, sql: str, key: str | None) -> _Source:
    """Nodes of ``label``; the first column is the ID, stored as property ``key`` (none when
    ``key`` is ``None``)."""
    return _Source(f"nodes_{label}", label, sql, (f"{key or ''}:ID({label})",))


def _rel(kind: str, start: str, end: str, sql: str) -> _Source:
    return _Source(f"relationships_{kind}", kind, sql, (f":START_ID({start})", f":END_ID({end})"))


def _node_sources() -> tuple[_Source, ...]:
    fee_cols = _props("fee_details", "setl_id", "f")
    return (
        _node("Institution", f"SELECT {_props('institutions', 'fixmedins_code', 't')} "
                             "FROM institutions t", "fixmedins_code"),
        _node("Person", f"SELECT {_props('persons', 'psn_no', 't')} FROM persons t", "psn_no"),
        _node("Practitioner",
              f"SELECT {_props('practitioners', 'dr_codg', 't')} FROM practitioners t "
              f"UNION ALL BY NAME SELECT DISTINCT s.dr_codg FROM {_LINKED} "
              "WHERE s.dr_codg IS NOT NULL "
              "AND NOT EXISTS (SELECT 1 FROM practitioners d WHERE d.dr_codg = s.dr_codg)",
              "dr_codg"),
        _node("Settlement", f"SELECT {_props('settlements', 'setl_id', 's')} FROM settlements s",
              "setl_id"),
        _node("FeeDetail", f"SELECT {_FEE_ID} AS _id, {fee_cols} FROM fee_details f", None),
        _node("TraceCode",
              "SELECT DISTINCT code AS drug_trac_codg FROM (SELECT unnest(string_split("
              f"f.drug_trac_codg, ';')) AS code FROM {_FEES} "
              "WHERE f.drug_trac_codg IS NOT NULL)", "drug_trac_codg"),
    )


def _relationship_sources() -> tuple[_Source, ...]:
    return (
        _rel("WORKS_AT", "Practitioner", "Institution",
             "SELECT t.dr_codg, t.fixmedins_code FROM practitioners t "
             "SEMI JOIN institutions i ON i.fixmedins_code = t.fixmedins_code"),
        _rel("SETTLED", "Person", "Settlement",
             "SELECT s.psn_no, s.setl_id FROM settlements s "
             "SEMI JOIN persons p ON p.psn_no = s.psn_no"),
        _rel("AT", "Settlement", "Institution",
             f"SELECT s.setl_id, s.fixmedins_code FROM {_LINKED}"),
        _rel("ATTENDED_BY", "Settlement", "Practitioner",
             f"SELECT s.setl_id, s.dr_codg FROM {_LINKED} WHERE s.dr_codg IS NOT NULL"),
        _rel("REVERSES", "Settlement", "Settlement",
             "SELECT s.setl_id, s.init_setl_id FROM settlements s "
             "SEMI JOIN settlements o ON o.setl_id = s.init_setl_id "
             "WHERE s.init_setl_id IS NOT NULL"),
        _rel("HAS_FEE", "Settlement", "FeeDetail", f"SELECT f.setl_id, {_FEE_ID} FROM {_FEES}"),
        _rel("CARRIES", "FeeDetail", "TraceCode",
             f"SELECT {_FEE_ID} AS fee, unnest(list_distinct(string_split(f.drug_trac_codg, "
             f"';'))) AS code FROM {_FEES} WHERE f.drug_trac_codg IS NOT NULL"),
    )


def _checkpoint_sources(con: duckdb.DuckDBPyConnection) -> tuple[_Source, ...]:
    """``LoadCheckpoint`` nodes as a completed push leaves them: the step, its last key
    (``after``; a list for a two-column key, hence a file of its own), its rows, the push's
    fingerprint of its data, ``complete`` and the time (``updated``)."""
    updated = datetime.now().replace(microsecond=0)
    out = []
    for width in sorted({len(s.key) for s in STEPS}):
        parts, params = [], []
        for step in (s for s in STEPS if len(s.key) == width):
            cols = ", ".join(ident(k) for k in step.key)
            last = f"max({cols})" if width == 1 else f"max([{cols}])"
            parts.append(f"SELECT {literal(step.name)} AS step, {last} AS after, "
                         "count(*) AS rows, ?::VARCHAR AS fingerprint, true AS complete, "
                         f"?::TIMESTAMP AS updated FROM {ident(step.table)} WHERE {step.where}")
            params += [step_fingerprint(con, step), updated]
        suffix = "" if width == 1 else f"_key{width}"
        out.append(_Source(f"nodes_LoadCheckpoint{suffix}", "LoadCheckpoint",
                           " UNION ALL ".join(parts), ("step:ID(LoadCheckpoint)",),
                           tuple(params)))
    return tuple(out)


def _columns(con: duckdb.DuckDBPyConnection, source: _Source) -> list[tuple[str, str]]:
    """``(name, DuckDB type)`` of each column of the source's rows."""
    rows = con.execute(f"DESCRIBE {source.sql}", list(source.params)).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _field(name: str, sql_type: str) -> str:
    """The header field of a property column (``amount:double``, ``codes:string[]``)."""
    element = sql_type.removesuffix("[]")
    neo = _TYPES.get(element)
    if neo is None or sql_type.endswith("[][]"):
        raise BackendError(f"column {name} has type {sql_type}, which has no neo4j-admin type")
    if element != sql_type:
        return f"{name}:{neo or 'string'}[]"
    return f"{name}:{neo}" if neo else name


def _write(con: duckdb.DuckDBPyConnection, source: _Source, folder: Path,
           compress: bool) -> ImportFile:
    columns = _columns(con, source)
    width = len(source.ids)
    fields = [*source.ids, *(_field(n, t) for n, t in columns[width:])]
    header = folder / f"{source.stem}_header.csv"
    header.write_text(DELIMITER.join(fields) + "\n", encoding="utf-8")
    data = folder / f"{source.stem}.csv{'.gz' if compress else ''}"
    # arrays as one string, elements joined by the array delimiter
    exprs = ", ".join(
        f"array_to_string({ident(n)}, {literal(ARRAY_DELIMITER)})" if t.endswith("[]")
        else ident(n) for n, t in columns)
    options = (f"FORMAT csv, HEADER false, DELIMITER {literal(DELIMITER)}, "
               f"QUOTE {literal(QUOTE)}, ESCAPE {literal(QUOTE)}, NULLSTR '', "
               f"DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT {literal(TIMESTAMP_FORMAT)}, "
               f"COMPRESSION {'gzip' if compress else 'none'}")
    row = con.execute(f"COPY (SELECT {exprs} FROM ({source.sql}) _q) "
                      f"TO {literal(str(data))} ({options})", list(source.params)).fetchone()
    return ImportFile(source.name, header, data, int(row[0]) if row else 0)


def _has_line_breaks(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any text column of the store holds a CR or LF (a quoted field that spans lines
    in the CSV: the importer must be told). One scan of each table's text columns."""
    for table in TABLES.values():
        text = [n for (n,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND schema_name = 'main' AND database_name = current_database() "
            "AND data_type = 'VARCHAR'", [table.name]).fetchall()
            if n in table.column_names]
        if not text:
            continue
        found = " OR ".join(f"contains({ident(n)}, chr(10)) OR contains({ident(n)}, chr(13))"
                            for n in text)
        row = con.execute(f"SELECT EXISTS (SELECT 1 FROM {ident(table.name)} "
                          f"WHERE {found})").fetchone()
        if row and row[0]:
            return True
    return False


def schema_statements() -> tuple[str, ...]:
    """The constraints and indexes the backend expects (``queries/schema``), as the push
    creates them: one statement each, ``;``-terminated, for ``cypher-shell -f``."""
    return tuple(f"{query_text(name).strip().rstrip(';')};"
                 for name in query_names() if name.startswith("schema/"))


def write_import_csv(con: duckdb.DuckDBPyConnection, folder: Path, *, compress: bool = False,
                     progress: Progress | None = None) -> ImportLayout:
    """Write the store behind ``con`` into ``folder`` as neo4j-admin import files.

    One ``nodes_<Label>.csv`` per label and one ``relationships_<TYPE>.csv`` per type (``.gz``
    with ``compress``), each with its ``*_header.csv``; ``LoadCheckpoint`` has two files, as
    its ``after`` is a string for one step and a list for another. Files already there are
    replaced. ``progress(file, done, total)`` follows the files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _stage, _done, _total: None)
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    order = bool(row[0]) if row else True
    con.execute("SET preserve_insertion_order = false")  # less memory; order is no matter
    try:
        nodes_src = (*_node_sources(), *_checkpoint_sources(con))
        rels_src = _relationship_sources()
        total = len(nodes_src) + len(rels_src)
        written: list[ImportFile] = []
        for i, source in enumerate((*nodes_src, *rels_src)):
            say(source.stem, i, total)
            written.append(_write(con, source, folder, compress))
        say("done", total, total)
        multiline = _has_line_breaks(con)
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if order else 'false'}")
    schema = folder / "schema.cypher"
    schema.write_text("\n".join(schema_statements()) + "\n", encoding="utf-8")
    return ImportLayout(folder, tuple(written[:len(nodes_src)]),
                        tuple(written[len(nodes_src):]), schema, multiline)
