"""Cypher text for the Neo4j backend: one named, parameterised query per file or block."""
