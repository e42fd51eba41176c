"""The Neo4j ledger runs only named queries of ``queries/leads``, each of which exists, and
every query there is used."""

from __future__ import annotations

import ast
from pathlib import Path

from queries.runner import query_names, query_text

MODULE = Path(__file__).resolve().parents[2] / "yibao" / "leads" / "neo4j_ledger.py"


def _literal_names() -> set[str]:
    tree = ast.parse(MODULE.read_text("utf-8"))
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.startswith("leads/")}


def test_every_named_query_exists_and_is_used() -> None:
    used = _literal_names()
    shipped = {name for name in query_names() if name.startswith("leads/")}
    assert used == shipped
    for name in shipped:
        text = query_text(name)
        assert "$" in text or "CREATE CONSTRAINT" in text or "CREATE INDEX" in text, name
        assert "apoc." not in text.lower(), name


def test_uniqueness_constraints_cover_every_key() -> None:
    constraints = " ".join(query_text(n) for n in query_names() if n.endswith("_key")
                           and n.startswith("leads/"))
    for label, key in (("Lead", "lead_id"), ("LeadEvent", "seq"), ("LeadLedger", "name"),
                       ("LeadCounter", "year")):
        assert f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE" in constraints
