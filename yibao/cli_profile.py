"""``yibao profile DIR``: what a load of a folder of exports would do, before loading it."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import YibaoError

__all__ = ["profile_command"]

_SHAPES_PRINTED = 3


@click.command("profile", context_settings=CONTEXT,
               short_help="导入前体检 / profile a folder before loading")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--codes", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help="代码映射文件（默认 YIBAO_CODE_TABLES）/ code mapping file (TOML)")
@click.option("--table", "tables", multiple=True,
              help="只看这些表 / only these tables (repeatable)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def profile_command(folder: Path, codes: Path | None, tables: tuple[str, ...],
                    as_json: bool) -> None:
    """导入前体检：各表各列的取值形态，以及将被隔离、注记或映射的值。不写入任何存储。

    Profile a folder of exports before loading it; writes nothing. For each table and column:
    the shapes of its values (9 a digit, A/a a letter, 汉 a Chinese character) with counts and
    two examples (personal data masked), and how many values a load would quarantine, keep with
    a data-quality note, or map through a code table; then the code mapping file entries that
    would map the unknown labels (pass the file with --codes, here and to 'yibao load').
    """
    from loaders.codes import load_code_tables
    from loaders.profile import profile_folder

    settings = _settings(code_tables=codes)
    try:
        profile = profile_folder(folder, codes=load_code_tables(settings.code_tables),
                                 tables=list(tables) or None)
    except YibaoError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(profile.to_dict(), ensure_ascii=False, indent=2))
        return
    for f in profile.files:
        r = f.report
        table = Table(
            title=f"{r.file} ({r.table}): 读入 {r.rows_in:,} rows in · 入库 {r.loaded:,} would "
                  f"load · 隔离 {r.quarantined:,} quarantined · 注记 {r.noted:,} noted",
            caption=(f"未用的列 / ignored columns: {', '.join(r.ignored_columns)}"
                     if r.ignored_columns else None),
        )
        for header, justify in (("列 column", "left"), ("表头 header", "left"),
                                ("有值 filled", "right"), ("形态 shapes (count: examples)", "left"),
                                ("隔离", "right"), ("注记", "right"), ("映射 mapped", "right")):
            table.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for c in f.columns:
            shapes = "\n".join(
                f"{s.shape} ×{s.count:,}: {', '.join(s.examples)}"
                for s in c.shapes[:_SHAPES_PRINTED]
            ) + ("\n…" if len(c.shapes) > _SHAPES_PRINTED else "")
            reasons = ", ".join(f"{k} {v:,}" for k, v in c.reasons.items())
            table.add_row(
                c.column, c.header or "—（无此列 absent）", f"{c.filled:,}", shapes,
                f"{c.quarantined:,}" if c.quarantined else "",
                f"{c.noted:,}" + (f"\n{reasons}" if reasons else "") if c.noted else "",
                (f"{c.mapped:,}" + (f" ({c.code_table})" if c.code_table else ""))
                if c.mapped else "",
            )
        err.print(table)
    if profile.ignored_files:
        err.print(f"未识别的文件 / files left alone: {', '.join(profile.ignored_files)}",
                  highlight=False)
    suggestions = profile.mapping_suggestions()
    if suggestions:
        err.print("\n代码映射文件建议（填上代码后用 --codes 传入）/ mapping file entries that "
                  "would map the unknown labels (fill in the codes, pass with --codes):",
                  highlight=False)
        click.echo(suggestions)
