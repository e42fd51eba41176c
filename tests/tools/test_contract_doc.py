"""The committed data-contract document matches the contract in the code."""

from __future__ import annotations

from tools.contract_doc import DOC, contract_markdown


def test_contract_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == contract_markdown(), (
        "docs/data-contract.md is stale: run 'python tools/contract_doc.py'"
    )


def test_contract_doc_names_every_column_and_reason() -> None:
    from loaders.contract import TABLES
    from loaders.reasons import REASONS

    text = contract_markdown()
    for table in TABLES.values():
        for col in table.columns:
            assert f"`{col.name}`" in text
            assert col.label_zh in text
    for code in REASONS:
        assert f"`{code}`" in text
