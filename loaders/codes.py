"""Code tables (代码表) as data: national codes, the labels exports write, English names.

The shipped tables live in ``loaders/code_tables.toml``. A province's own labels (or extra
codes) come from a mapping file of the same shape, passed as ``codes=`` to the loader
(``yibao load --codes FILE``, or the ``YIBAO_CODE_TABLES`` setting), the way the rule base is
overridden. A value that is neither a code nor a label of its table is kept as it is, with a
data-quality note: an unknown label never costs a row.

Examples
--------
>>> tables = code_tables()
>>> tables["hosp_lv"].code_of("三级甲等")
'02'
>>> tables["hosp_lv"].code_of("三级")
'3'
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from yibao.errors import SettingsError

__all__ = ["Code", "CodeTable", "CodeTables", "code_tables", "load_code_tables"]

_SHIPPED = Path(__file__).with_name("code_tables.toml")


@dataclass(frozen=True)
class Code:
    """One code of a table, with its names and free attributes (``class``, ``setting``)."""

    code: str
    zh: str
    en: str
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeTable:
    """One code table: its codes in order and the labels that map to them."""

    name: str
    label_zh: str
    source: str
    codes: tuple[Code, ...]
    labels: Mapping[str, str]
    """Label as exports write it -> code."""

    @property
    def choices(self) -> tuple[str, ...]:
        """Every code a stored value may hold."""
        return tuple(c.code for c in self.codes)

    @property
    def direct_choices(self) -> tuple[str, ...]:
        """The codes a file may write as they are; the others (``input = "label"``) are
        reached through a label only."""
        return tuple(c.code for c in self.codes if c.attrs.get("input") != "label")

    def code_of(self, value: str) -> str | None:
        """The code ``value`` stands for (itself when it is a code), or None when unknown."""
        if value in self.direct_choices:
            return value
        return self.labels.get(value)

    def name_of(self, code: str, lang: str = "zh") -> str | None:
        """The Chinese (``lang="zh"``) or English name of ``code``, None when unknown."""
        for c in self.codes:
            if c.code == code:
                return c.zh if lang == "zh" else c.en
        return None

    def with_attr(self, attr: str, value: str) -> tuple[str, ...]:
        """The codes whose attribute ``attr`` is ``value`` (e.g. ``setting = inpatient``)."""
        return tuple(c.code for c in self.codes if c.attrs.get(attr) == value)


class CodeTables(Mapping[str, CodeTable]):
    """The code tables of one load: the shipped ones, extended by a user's mapping file."""

    def __init__(self, tables: Mapping[str, CodeTable], *, sources: tuple[str, ...] = ()):
        self._tables = dict(tables)
        self.sources = sources
        """The files the tables were read from, shipped file first."""

    def __getitem__(self, name: str) -> CodeTable:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(
                f"unknown code table {name!r}; known tables: {', '.join(self._tables)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def _shipped_text() -> str:
    return _SHIPPED.read_text(encoding="utf-8")


def _parse(data: dict[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    tables = data.get("tables")
    extra = sorted(set(data) - {"tables"})
    if not isinstance(tables, dict) or extra:
        raise SettingsError(
            f"{origin}: a code table file holds only [tables.NAME] sections "
            f"(e.g. [tables.hosp_lv.labels] \"三级医院\" = \"3\"); found {extra or 'no tables'}"
        )
    return tables


def _merge(
    base: dict[str, dict[str, Any]], update: dict[str, dict[str, Any]], origin: str
) -> None:
    for name, section in update.items():
        if not isinstance(section, dict):
            raise SettingsError(f"{origin}: [tables.{name}] must be a table")
        unknown = sorted(set(section) - {"label_zh", "source", "codes", "labels"})
        if unknown:
            raise SettingsError(
                f"{origin}: [tables.{name}] has unknown keys {unknown}; "
                "allowed: label_zh, source, codes, labels"
            )
        target = base.setdefault(name, {"codes": [], "labels": {}})
        for key in ("label_zh", "source"):
            if key in section:
                target[key] = section[key]
        known = {c["code"] for c in target.get("codes", [])}
        for code in section.get("codes", []):
            if not isinstance(code, dict) or "code" not in code:
                raise SettingsError(f"{origin}: each code of [tables.{name}] needs code = \"...\"")
            if str(code["code"]) not in known:
                target.setdefault("codes", []).append(code)
                known.add(str(code["code"]))
        labels = section.get("labels", {})
        if not isinstance(labels, dict):
            raise SettingsError(f"{origin}: [tables.{name}.labels] must map labels to codes")
        target.setdefault("labels", {}).update({str(k): str(v) for k, v in labels.items()})


def _build(name: str, section: dict[str, Any], origin: str) -> CodeTable:
    codes = tuple(
        Code(
            code=str(c["code"]),
            zh=str(c.get("zh", c["code"])),
            en=str(c.get("en", c.get("zh", c["code"]))),
            attrs={k: str(v) for k, v in c.items() if k not in ("code", "zh", "en")},
        )
        for c in section.get("codes", [])
    )
    choices = {c.code for c in codes}
    labels = dict(section.get("labels", {}))
    wrong = sorted(f"{label!r} = {code!r}" for label, code in labels.items() if code not in choices)
    if wrong:
        raise SettingsError(
            f"{origin}: labels of [tables.{name}] name codes the table lacks: {', '.join(wrong)}; "
            f"known codes: {', '.join(sorted(choices))} (add the code under codes = [...])"
        )
    return CodeTable(
        name=name,
        label_zh=str(section.get("label_zh", name)),
        source=str(section.get("source", "")),
        codes=codes,
        labels=labels,
    )


def load_code_tables(mapping_file: str | Path | None = None) -> CodeTables:
    """The shipped code tables, extended by ``mapping_file`` (TOML, same shape) when given.

    Raises :class:`~yibao.errors.SettingsError` naming the file and what to change when the file
    cannot be read or names a code its table lacks.
    """
    merged = _parse(tomllib.loads(_shipped_text()), "code_tables.toml")
    sources = ["code_tables.toml"]
    if mapping_file is not None:
        path = Path(mapping_file)
        try:
            user = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"cannot read the code mapping file {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"the code mapping file {path} is not valid TOML: {exc}") from exc
        _merge(merged, _parse(user, str(path)), str(path))
        sources.append(str(path))
    return CodeTables(
        {name: _build(name, section, sources[-1]) for name, section in merged.items()},
        sources=tuple(sources),
    )


@cache
def code_tables() -> CodeTables:
    """The shipped code tables (cached)."""
    return load_code_tables()
