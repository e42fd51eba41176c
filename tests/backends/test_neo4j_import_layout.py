"""The ``neo4j-admin database import`` layout (:mod:`backends.neo4j_import`), checked by shape.

No Neo4j server is installed here, so the files are read back and compared with the graph the
Bolt push would make: the push's own row feed (``LoadStep.select_sql`` of each step) run through
a Python reading of each load query's MERGE and MATCH clauses. The store is a copy of the
backends' synthetic store with the cases the push treats specially planted in it: settlements of
an unlisted person, institution or practitioner, a reversal of an unlisted settlement, a fee
detail of an unlisted settlement, a code listed twice in one fee detail, a practitioner of an
unlisted institution, a name with a comma, a double quote and Chinese, an address on two lines.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from backends.neo4j_import import (
    ARRAY_DELIMITER,
    DELIMITER,
    QUOTE,
    ImportFile,
    ImportLayout,
    write_import_csv,
)
from backends.neo4j_load import STEPS, step_fingerprint
from loaders.store import open_store
from queries.runner import query_names
from yibao.cli import cli

NAME = '张三, "老三" 李'
ADDRESS = "上海市黄浦区望江路478号\n二楼"
KEYS = {"Institution": ("fixmedins_code",), "Person": ("psn_no",),
        "Practitioner": ("dr_codg",), "Settlement": ("setl_id",),
        "FeeDetail": ("setl_id", "feedetl_sn"), "TraceCode": ("drug_trac_codg",),
        "LoadCheckpoint": ("step",)}
"""Each label's key properties (its uniqueness constraint in ``queries/schema``)."""

_TYPES = ("int|long|float|double|boolean|byte|short|char|string|point|date|localtime|time|"
          "localdatetime|datetime|duration")
_IDENT = "[A-Za-z_][A-Za-z0-9_]*"
FIELD = re.compile(
    rf"(?P<name>{_IDENT})?:(?P<special>ID|START_ID|END_ID)\((?P<space>[A-Za-z][A-Za-z0-9_-]*)\)"
    rf"|(?P<prop>{_IDENT})(?::(?P<type>{_TYPES})(?P<array>\[\])?)?")
"""neo4j-admin's header fields: ``name:ID(space)``, ``:START_ID(space)``, ``:END_ID(space)``
and properties ``name`` or ``name:type`` or ``name:type[]``."""

NodeKey = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Field:
    kind: str  # ID, START_ID, END_ID or property
    name: str
    space: str = ""
    type: str = "string"
    array: bool = False


def parse_header(path: Path) -> list[Field]:
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 1, f"{path.name}: a header file holds one line"
    fields = []
    for text in lines[0].split(DELIMITER):
        m = FIELD.fullmatch(text)
        assert m, f"{path.name}: {text!r} is not a neo4j-admin header field"
        if m["special"]:
            fields.append(Field(m["special"], m["name"] or "", m["space"]))
        else:
            fields.append(Field("property", m["prop"], type=m["type"] or "string",
                                array=bool(m["array"])))
    return fields


def read_rows(path: Path) -> Iterator[list[str]]:
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        yield from csv.reader(f, delimiter=DELIMITER, quotechar=QUOTE, doublequote=True)


def value(text: str, field: Field) -> Any:
    """A cell as the importer reads it (an empty cell: no property)."""
    if text == "":
        return None
    if field.array:
        return text.split(ARRAY_DELIMITER)
    convert: dict[str, Callable[[str], Any]] = {
        "string": str, "double": float, "long": int, "boolean": lambda t: t == "true",
        "date": date.fromisoformat, "localdatetime": datetime.fromisoformat}
    return convert[field.type](text)


@dataclass
class Graph:
    nodes: dict[NodeKey, dict[str, Any]]
    rels: Counter[tuple[str, NodeKey, NodeKey]]

    def counts(self) -> dict[str, int]:
        out = Counter(label for label, _ in self.nodes)
        out.update(kind for kind, _, _ in self.rels.elements())
        return dict(out)


def graph_of_files(layout: ImportLayout) -> Graph:
    """The graph the importer builds from the files."""
    nodes: dict[NodeKey, dict[str, Any]] = {}
    ids: dict[tuple[str, str], NodeKey] = {}
    for f in layout.nodes:
        fields = parse_header(f.header)
        n = 0
        for row in read_rows(f.data):
            n += 1
            assert len(row) == len(fields), f"{f.data.name}: row {n} has {len(row)} cells"
            props = {fl.name: value(cell, fl) for fl, cell in zip(fields, row, strict=True)
                     if fl.name}
            props = {k: v for k, v in props.items() if v is not None}
            key: NodeKey = (f.name, tuple(props[k] for k in KEYS[f.name]))
            assert key not in nodes, f"{f.name} {key} twice"
            nodes[key] = props
            (id_field, id_cell), = [(fl, c) for fl, c in zip(fields, row, strict=True)
                                    if fl.kind == "ID"]
            assert (id_field.space, id_cell) not in ids, f"ID {id_cell} twice in {f.name}"
            ids[id_field.space, id_cell] = key
        assert n == f.rows, f"{f.data.name}: {n} rows, the layout says {f.rows}"
    rels: Counter[tuple[str, NodeKey, NodeKey]] = Counter()
    for f in layout.relationships:
        start, end = parse_header(f.header)
        n = 0
        for a, b in read_rows(f.data):
            n += 1
            assert (start.space, a) in ids, f"{f.name}: no {start.space} node with ID {a}"
            assert (end.space, b) in ids, f"{f.name}: no {end.space} node with ID {b}"
            rels[f.name, ids[start.space, a], ids[end.space, b]] += 1
        assert n == f.rows
    return Graph(nodes, rels)


def graph_of_bolt_push(db: Path) -> Graph:
    """The graph ``yibao graph push`` makes: each step's rows, as the push sends them, through
    the MERGEs and MATCHes of its load queries."""
    nodes: dict[NodeKey, dict[str, Any]] = {}
    rels: Counter[tuple[str, NodeKey, NodeKey]] = Counter()

    def merge(label: str, **key: Any) -> NodeKey:
        k: NodeKey = (label, tuple(key.values()))
        nodes.setdefault(k, dict(key))
        return k

    def put(k: NodeKey, row: dict[str, Any]) -> None:  # SET n += row
        for name, v in row.items():
            if v is None:
                nodes[k].pop(name, None)
            else:
                nodes[k][name] = v

    def link(kind: str, a: NodeKey, b: NodeKey) -> None:  # MERGE (a)-[:KIND]->(b)
        rels[kind, a, b] = 1

    def institutions(r: dict[str, Any]) -> None:
        put(merge("Institution", fixmedins_code=r["fixmedins_code"]), r)

    def persons(r: dict[str, Any]) -> None:
        put(merge("Person", psn_no=r["psn_no"]), r)

    def practitioners(r: dict[str, Any]) -> None:
        d = merge("Practitioner", dr_codg=r["dr_codg"])
        put(d, r)
        if (i := ("Institution", (r["fixmedins_code"],))) in nodes:
            link("WORKS_AT", d, i)

    def settlements(r: dict[str, Any]) -> None:
        s = merge("Settlement", setl_id=r["setl_id"])
        put(s, r)
        if (p := ("Person", (r["psn_no"],))) not in nodes:
            return
        link("SETTLED", p, s)
        if (i := ("Institution", (r["fixmedins_code"],))) not in nodes:
            return
        link("AT", s, i)
        if r["dr_codg"] is not None:
            link("ATTENDED_BY", s, merge("Practitioner", dr_codg=r["dr_codg"]))

    def reverses(r: dict[str, Any]) -> None:
        a, b = ("Settlement", (r["setl_id"],)), ("Settlement", (r["init_setl_id"],))
        if a in nodes and b in nodes:
            link("REVERSES", a, b)

    def fee_details(r: dict[str, Any]) -> None:
        f = merge("FeeDetail", setl_id=r["setl_id"], feedetl_sn=r["feedetl_sn"])
        put(f, r)
        if (s := ("Settlement", (r["setl_id"],))) not in nodes:
            return
        link("HAS_FEE", s, f)
        if r["drug_trac_codg"] is None:
            return
        for code in r["drug_trac_codg"].split(";"):
            link("CARRIES", f, merge("TraceCode", drug_trac_codg=code))

    run = {"load/institutions": institutions, "load/persons": persons,
           "load/practitioners": practitioners, "load/settlements": settlements,
           "load/reverses": reverses, "load/fee_details": fee_details}
    assert {q for s in STEPS for q in s.queries} == set(run), "a load query this test ignores"
    with open_store(db, read_only=True) as store:
        for step in STEPS:
            cur = store.con.execute(step.select_sql(), step.after_params(None))
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            for row in rows:
                for q in step.queries:
                    run[q](row)
            last = rows[-1] if rows else None
            after = (None if last is None else last[step.key[0]] if len(step.key) == 1
                     else [last[k] for k in step.key])
            mark = {"step": step.name, "after": after, "rows": len(rows),
                    "fingerprint": step_fingerprint(store.con, step), "complete": True}
            nodes["LoadCheckpoint", (step.name,)] = {k: v for k, v in mark.items()
                                                     if v is not None}
    return Graph(nodes, rels)


def _plant(db: Path) -> None:
    """The cases the push treats specially, in the store ``db``."""
    with open_store(db) as store:
        con = store.con
        s = [r[0] for r in con.execute(
            "SELECT setl_id FROM settlements WHERE init_setl_id IS NULL ORDER BY setl_id "
            "LIMIT 5").fetchall()]
        con.execute("UPDATE persons SET psn_name = ? WHERE psn_no = "
                    "(SELECT min(psn_no) FROM persons)", [NAME])
        con.execute("UPDATE institutions SET addr = ? WHERE fixmedins_code = "
                    "(SELECT min(fixmedins_code) FROM institutions)", [ADDRESS])
        for setl_id, change in ((s[0], "dr_codg = 'DUNLISTED0001'"),  # a bare practitioner
                                (s[4], "dr_codg = 'DUNLISTED0001'"),  # ... once
                                (s[1], "psn_no = 'PUNLISTED', dr_codg = 'DUNLISTED0002'"),
                                (s[2], "fixmedins_code = 'HUNLISTED', "
                                       "dr_codg = 'DUNLISTED0003'"),
                                (s[3], "init_setl_id = 'SUNLISTED0001'")):
            con.execute(f"UPDATE settlements SET {change} WHERE setl_id = ?", [setl_id])
        con.execute("UPDATE practitioners SET fixmedins_code = 'HUNLISTED' WHERE dr_codg = "
                    "(SELECT min(dr_codg) FROM practitioners)")
        fees = con.execute("SELECT setl_id, feedetl_sn FROM fee_details WHERE drug_trac_codg "
                           "IS NOT NULL ORDER BY ALL LIMIT 2").fetchall()
        con.execute("UPDATE fee_details SET setl_id = 'SUNLISTED0002' "
                    "WHERE setl_id = ? AND feedetl_sn = ?", list(fees[0]))
        con.execute("UPDATE fee_details SET drug_trac_codg = drug_trac_codg || ';' || "
                    "drug_trac_codg WHERE setl_id = ? AND feedetl_sn = ?", list(fees[1]))


@pytest.fixture(scope="module")
def planted(synthetic_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("neo4j_import") / "store.duckdb"
    shutil.copy(synthetic_store, db)
    _plant(db)
    return db


@pytest.fixture(scope="module")
def layout(planted: Path) -> ImportLayout:
    with open_store(planted, read_only=True) as store:
        return write_import_csv(store.con, planted.parent / "import")


@pytest.fixture(scope="module")
def imported(layout: ImportLayout) -> Graph:
    return graph_of_files(layout)


def test_every_header_is_in_the_importers_grammar(layout: ImportLayout) -> None:
    labels = {f.name for f in layout.nodes}
    for f in layout.nodes:
        fields = parse_header(f.header)
        ids = [x for x in fields if x.kind == "ID"]
        assert len(ids) == 1, f.header.name
        assert ids[0].space == f.name, f.header.name
        assert fields[0] == ids[0]
        assert ids[0].name == ("" if f.name == "FeeDetail" else KEYS[f.name][0])
        names = [x.name for x in fields if x.name]
        assert len(names) == len(set(names)), f"{f.header.name}: a property twice"
        assert not [x for x in fields if x.kind in ("START_ID", "END_ID")]
    for f in layout.relationships:
        start, end = parse_header(f.header)
        assert (start.kind, end.kind) == ("START_ID", "END_ID"), f.header.name
        assert {start.space, end.space} <= labels
    assert {f.header.name for f in (*layout.nodes, *layout.relationships)} == {
        p.name for p in layout.folder.glob("*_header.csv")}


def test_property_types_follow_the_store(layout: ImportLayout) -> None:
    types = {(f.data.name, x.name): (x.type, x.array) for f in layout.nodes
             for x in parse_header(f.header)}
    assert types["nodes_Settlement.csv", "setl_time"] == ("localdatetime", False)
    assert types["nodes_Settlement.csv", "medfee_sumamt"] == ("double", False)
    assert types["nodes_Person.csv", "brdy"] == ("date", False)
    assert types["nodes_Institution.csv", "lon"] == ("double", False)
    assert types["nodes_FeeDetail.csv", "pric"] == ("double", False)
    assert types["nodes_FeeDetail.csv", "drug_trac_codg"] == ("string", False)
    assert types["nodes_LoadCheckpoint.csv", "after"] == ("string", False)
    assert types["nodes_LoadCheckpoint_key2.csv", "after"] == ("string", True)
    assert types["nodes_LoadCheckpoint.csv", "rows"] == ("long", False)
    assert types["nodes_LoadCheckpoint.csv", "complete"] == ("boolean", False)
    assert types["nodes_LoadCheckpoint.csv", "updated"] == ("localdatetime", False)


def test_node_files_hold_the_stores_entities(layout: ImportLayout, planted: Path) -> None:
    rows = {f.name: f.rows for f in layout.nodes}
    with open_store(planted, read_only=True) as store:
        counts = store.table_counts()
        (codes,) = store.con.execute(
            "SELECT count(DISTINCT t.drug_trac_codg) FROM trace_codes t "
            "JOIN fee_details f USING (setl_id, feedetl_sn) "
            "SEMI JOIN settlements s ON s.setl_id = f.setl_id").fetchone() or (0,)
    assert rows["Person"] == counts["persons"]
    assert rows["Institution"] == counts["institutions"]
    assert rows["Settlement"] == counts["settlements"]
    assert rows["FeeDetail"] == counts["fee_details"]
    assert rows["Practitioner"] == counts["practitioners"] + 1  # DUNLISTED0001, once
    assert rows["TraceCode"] == codes
    assert layout.counts()["LoadCheckpoint"] == len(STEPS)


def test_the_files_make_the_graph_of_the_bolt_push(layout: ImportLayout, imported: Graph,
                                                    planted: Path) -> None:
    pushed = graph_of_bolt_push(planted)
    assert imported.counts() == pushed.counts() == layout.counts()
    assert imported.rels == pushed.rels, "relationships differ"
    assert max(imported.rels.values()) == 1, "a relationship twice (the push MERGEs)"
    updated = {k: imported.nodes[k].pop("updated") for k in imported.nodes
               if k[0] == "LoadCheckpoint"}
    assert all(isinstance(t, datetime) for t in updated.values())
    differ = [k for k in pushed.nodes if imported.nodes.get(k) != pushed.nodes[k]]
    assert not differ, [(k, imported.nodes.get(k), pushed.nodes[k]) for k in differ[:3]]
    # the planted cases are there
    assert ("Practitioner", ("DUNLISTED0001",)) in imported.nodes
    assert imported.nodes["Practitioner", ("DUNLISTED0001",)] == {"dr_codg": "DUNLISTED0001"}
    assert ("Practitioner", ("DUNLISTED0002",)) not in imported.nodes
    assert ("Practitioner", ("DUNLISTED0003",)) not in imported.nodes
    assert any(k[0] == "FeeDetail" and k[1][0] == "SUNLISTED0002" for k in imported.nodes)


def test_text_with_commas_quotes_chinese_and_line_breaks_round_trips(
        layout: ImportLayout, imported: Graph) -> None:
    assert NAME in {n.get("psn_name") for k, n in imported.nodes.items() if k[0] == "Person"}
    assert ADDRESS in {n.get("addr") for k, n in imported.nodes.items()
                       if k[0] == "Institution"}
    assert layout.multiline
    assert "--multiline-fields=true" in layout.command()


def test_the_command_lists_every_file(layout: ImportLayout) -> None:
    args = layout.command("province", folder="/srv/neo4j/import/yibao/")
    assert args[:5] == ["neo4j-admin", "database", "import", "full", "province"]
    assert {"--overwrite-destination=true", f"--delimiter={DELIMITER}",
            f"--array-delimiter={ARRAY_DELIMITER}", f"--quote={QUOTE}"} <= set(args)
    assert "--overwrite-destination=true" not in layout.command(overwrite=False)

    def listed(option: str, files: tuple[ImportFile, ...]) -> None:
        given = [a.removeprefix(option) for a in args if a.startswith(option)]
        assert given == [f"{f.name}=/srv/neo4j/import/yibao/{f.header.name},"
                         f"/srv/neo4j/import/yibao/{f.data.name}" for f in files]

    listed("--nodes=", layout.nodes)
    listed("--relationships=", layout.relationships)
    here = layout.command()
    for f in (*layout.nodes, *layout.relationships):
        assert sum(str(f.data.resolve()) in a for a in here) == 1
        assert sum(str(f.header.resolve()) in a for a in here) == 1


def test_schema_file_has_every_constraint_and_index(layout: ImportLayout) -> None:
    statements = [s for s in layout.schema.read_text("utf-8").splitlines() if s.strip()]
    assert len(statements) == sum(n.startswith("schema/") for n in query_names())
    assert all(s.endswith(";") for s in statements)
    assert any("settlement_time" in s for s in statements)


def test_cli_writes_gzipped_files_and_prints_the_command(synthetic_store: Path,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "out"
    out = CliRunner().invoke(cli, ["graph", "export-import", str(folder), "--db",
                                   str(synthetic_store), "--gzip", "--database", "yibao",
                                   "--server-folder", "/data/import", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["command"][:5] == ["neo4j-admin", "database", "import", "full", "yibao"]
    assert not report["multiline"]
    assert "--multiline-fields=true" not in report["command"]
    for f in report["files"]:
        data = Path(f["data"])
        assert data.name.endswith(".csv.gz")
        assert data.parent == folder
        assert sum(1 for _ in read_rows(data)) == f["rows"]
        assert (f"--{f['kind']}={f['name']}=/data/import/{Path(f['header']).name},"
                f"/data/import/{data.name}") in report["command"]
    with open_store(synthetic_store, read_only=True) as store:
        assert report["counts"]["Settlement"] == store.table_counts()["settlements"]
    plain = CliRunner().invoke(cli, ["graph", "export-import", str(tmp_path / "plain"),
                                     "--db", str(synthetic_store)])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.startswith("neo4j-admin database import full neo4j \\\n")
    assert f"--nodes=Person={tmp_path / 'plain' / 'nodes_Person_header.csv'}," in plain.stdout
