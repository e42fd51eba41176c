"""The reason catalogue: every code the loader can give has a Chinese and an English message
that says how to fix it, and uses only the placeholders the loader fills."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import loaders
from loaders.reasons import REASONS, reason

_LOADERS = Path(loaders.__file__).parent


def _codes_in_source() -> set[str]:
    """Codes passed to ``problem(column, code, ...)`` and ``_when(cond, column, code, ...)``."""
    codes: set[str] = set()
    for name in ("_sql.py", "validate.py"):
        tree = ast.parse((_LOADERS / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                index = {"problem": 1, "_when": 2}.get(node.func.id)
                if index is not None and len(node.args) > index:
                    arg = node.args[index]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        codes.add(arg.value)
    return codes


def test_every_code_the_loader_gives_has_a_reason() -> None:
    codes = _codes_in_source() | {
        "bad_amount",  # chosen by kind: problem(name, code, ...)
        "bad_enum", "unknown_code",  # an unknown code, by the column's severity
        "invalid_encoding", "column_count", "unparseable_row",  # the CSV reader's rejects
        "extra_cells",  # the xlsx reader's
        "coordinates_outside_division",  # the spatial check (loaders/geocheck.py)
    }
    assert len(codes) > 25
    assert codes <= set(REASONS)
    assert set(REASONS) <= codes  # and none is dead


@pytest.mark.parametrize("code", sorted(REASONS))
def test_reason_texts(code: str) -> None:
    r = reason(code)
    assert r.code == code
    for text in (r.zh, r.en):
        assert set(re.findall(r"\{(\w*)\}", text)) <= {"column", "value", "detail"}
        assert text.count("{") == text.count("}")
    assert re.search(r"[\u4e00-\u9fff]", r.zh)
    assert re.search(r"[a-z]{2,} [a-z]{2,}", r.en)  # and an English sentence


def test_unknown_code() -> None:
    with pytest.raises(KeyError, match="no_such_code"):
        reason("no_such_code")
