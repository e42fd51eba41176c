"""No Cypher is built from strings in our code: it lives in ``queries/`` and runs by name.

An AST scan of every module of the packages checks that

* no f-string, ``+``, ``%`` or ``.format`` builds text that looks like Cypher, and no string
  literal (docstrings aside) holds Cypher: the only Cypher is in ``queries/*/*.cypher``;
* every ``.run(...)``/``.stream(...)`` call passes its query as a literal query name or a plain
  variable or lookup (never an expression building text), and every literal that looks like a
  query name (``"read/..."``) names an existing query file;

and :mod:`queries.runner` refuses anything that is not such a name
(``test_query_runner.py``), so even a variable can only select a file, never carry Cypher.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from queries.runner import query_names

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph", "queries", "backends", "yibao", "loaders", "dashboards", "benchmarks", "tools")
CYPHER = re.compile(r"\b(MATCH|MERGE|UNWIND|DETACH)\b|\bCALL\s+[a-z]+\.|\)-\[|\]->\(|"
                    r"\bCREATE\s+(CONSTRAINT|INDEX)\b.*\bFOR\s*\(")
NAME = re.compile(r"(schema|load|read|pull|detect|gds|leads)/[a-z][a-z0-9_]*")


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text("utf-8"), filename=str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _text_of(node: ast.AST) -> str:
    """The constant text inside a string-building expression."""
    return " ".join(n.value for n in ast.walk(node)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _building(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str)
                   for n in (node.left, node.right))
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format")


def test_the_scan_sees_the_backend_modules() -> None:
    scanned = {p.relative_to(ROOT).as_posix() for p, _ in _modules()}
    assert {"backends/neo4j.py", "backends/neo4j_load.py", "queries/runner.py",
            "yibao/cli_backend.py", "tools/arcadedb_server.py"} <= scanned


def test_no_string_building_makes_cypher() -> None:
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if _building(node) and CYPHER.search(_text_of(node)):
                found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}")
    assert not found, f"Cypher built from strings at {found}: put it in queries/"


def test_no_cypher_in_python_string_literals() -> None:
    found = []
    for path, tree in _modules():
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in skip and CYPHER.search(node.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"Cypher text in Python at {found}: put it in queries/"


def test_every_run_call_takes_a_query_name() -> None:
    known = set(query_names())
    bad = []
    for path, tree in _modules():
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("run", "stream") and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant):
                if not (isinstance(first.value, str) and first.value in known):
                    bad.append(f"{where}:{node.lineno} runs {first.value!r}")
            elif not isinstance(first, ast.Name | ast.Subscript | ast.Attribute):
                bad.append(f"{where}:{node.lineno} runs a built expression")
    assert not bad, bad


def test_every_literal_query_name_exists() -> None:
    known = set(query_names())
    missing = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and NAME.fullmatch(node.value) and node.value not in known):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert not missing, missing


def test_the_scan_catches_what_it_should() -> None:
    """The detectors find the forms they are meant to find (a scan that finds nothing proves
    nothing)."""
    bad = ast.parse('code = "x"\n'
                    'a = f"MATCH (n {{code: \'{code}\'}}) RETURN n"\n'
                    'b = "MATCH (n) WHERE n.code = " + code\n'
                    'c = "MERGE (n:Person {psn_no: \'%s\'})" % code\n'
                    'd = "UNWIND {} AS row".format(code)\n')
    built = [n for n in ast.walk(bad) if _building(n) and CYPHER.search(_text_of(n))]
    assert len(built) == 4
