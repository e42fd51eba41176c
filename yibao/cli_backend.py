"""``yibao graph``: put the store into a shared Neo4j graph and detect there.

``yibao graph push`` loads the store's tables into the Neo4j server of the ``NEO4J_*`` settings
(idempotent: pushing twice adds nothing; resumable: a push cut off part way continues where it
stopped), ``yibao graph detect`` runs detection on that graph and stores the rings there,
``yibao graph status`` says what the server holds, and ``yibao graph export-import`` writes the
CSV files of ``neo4j-admin database import`` for the first load of a big store.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from yibao._cli_common import CONTEXT, _fail, _progress, _settings, err
from yibao.errors import YibaoError

if TYPE_CHECKING:
    from backends.base import LoadSummary
    from backends.neo4j import Neo4jBackend

__all__ = ["graph_group"]

_ENGINES = ["networkit", "igraph", "networkx", "infomap", "leiden-cpm", "gds"]


def _connect(db: Path | None = None) -> Neo4jBackend:
    from backends.neo4j import Neo4jBackend
    from yibao.stores import open_backend

    settings = _settings(db=db)
    try:
        backend = open_backend(settings, backend="neo4j")
    except YibaoError as exc:
        _fail(str(exc), code=1)
    assert isinstance(backend, Neo4jBackend)
    return backend


def _summary_json(summary: LoadSummary) -> dict[str, Any]:
    return {"seconds": round(summary.seconds, 3), "written": summary.written,
            "rows_per_second": round(summary.rows_per_second, 1),
            "steps": [{"step": s.step, "rows": s.rows, "written": s.written,
                       "resumed_after": s.resumed_after, "skipped": s.skipped,
                       "seconds": round(s.seconds, 3)} for s in summary.steps]}


@click.group("graph", context_settings=CONTEXT,
             short_help="共享图数据库 / the shared Neo4j graph")
def graph_group() -> None:
    """把存储推送到共享的 Neo4j 图数据库并在其上识别团伙（NEO4J_URI、NEO4J_USER、
    NEO4J_PASSWORD、NEO4J_DATABASE）。

    Push the store into a shared Neo4j graph and detect rings there (settings NEO4J_URI,
    NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE).
    """


@graph_group.command("push", context_settings=CONTEXT,
                     short_help="推送存储到 Neo4j / load the store into Neo4j")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件 / store file")
@click.option("--restart", is_flag=True,
              help="忽略断点，全部重新写入 / ignore checkpoints, send every row again")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def push_command(db: Path | None, restart: bool, as_json: bool) -> None:
    """把存储的各表推送到 Neo4j：可重复执行（不会重复写入），中断后再次执行即从断点继续。

    Load the store's tables into the Neo4j graph: running it again adds nothing, and after an
    interruption it resumes where it stopped.
    """
    settings = _settings(db=db)
    if not settings.db.exists():
        _fail(f"store {settings.db} does not exist: load data first with "
              f"'yibao load FOLDER --db {settings.db}'")
    backend = _connect(db)
    try:
        with _progress(not as_json) as progress:
            summary = backend.load_store(settings.db, progress=progress, restart=restart)
    except YibaoError as exc:
        _fail(str(exc), code=1)
    finally:
        backend.close()
    if as_json:
        click.echo(json.dumps(_summary_json(summary), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"推送 / push: {settings.db} → {settings.neo4j_uri}")
    for col in ("步骤 step", "行数 rows", "写入 written", "续传 resumed", "跳过 skipped"):
        table.add_column(col, justify="left" if col.endswith("step") else "right")
    for s in summary.steps:
        table.add_row(s.step, f"{s.rows:,}", f"{s.written:,}", f"{s.resumed_after:,}",
                      "✓" if s.skipped else "")
    err.print(table)
    err.print(f"写入 / written {summary.written:,} rows in {summary.seconds:.1f} s "
              f"({summary.rows_per_second:,.0f} rows/s)", highlight=False)


@graph_group.command("detect", context_settings=CONTEXT,
                     short_help="= yibao detect --backend neo4j")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="检测参数 TOML / detection settings (see graph/detection.toml)")
@click.option("--engine", type=click.Choice(_ENGINES), default=None,
              help="社区发现引擎（gds 需服务器装有 GDS）/ community engine (gds: server's GDS)")
@click.option("--top", default=15, show_default=True, help="显示前 N 个团伙 / rings to show")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
@click.pass_context
def detect_command(ctx: click.Context, config: Path | None, engine: str | None, top: int,
                   as_json: bool) -> None:
    """同 yibao detect --backend neo4j：在图数据库上识别团伙，结果写回图中。

    The same as 'yibao detect --backend neo4j' (the one detect entry point): run the rules,
    trace-code chains and ring detection on the graph's data and write the results back.
    """
    from yibao.cli_detect import detect_command as detect

    ctx.invoke(detect, config=config, engine=engine, backend="neo4j", top=top,
               as_json=as_json)


@graph_group.command("status", context_settings=CONTEXT,
                     short_help="图数据库概况 / what the graph holds")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def status_command(as_json: bool) -> None:
    """图数据库概况：服务器、GDS、各类节点与关系的数量。

    What the graph holds: the server, whether it has GDS, nodes per label and relationships
    per type.
    """
    backend = _connect()
    try:
        server, gds = backend.server_agent(), backend.gds_version()
        counts = dict(sorted(backend.counts().items()))
    except YibaoError as exc:
        _fail(str(exc), code=1)
    finally:
        backend.close()
    if as_json:
        click.echo(json.dumps({"server": server, "gds": gds, "counts": counts},
                              ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{server} (GDS: {gds or '无 none'})")
    table.add_column("标签/类型 label/type")
    table.add_column("数量 count", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    err.print(table)


@graph_group.command("export-import", context_settings=CONTEXT,
                     short_help="导出 neo4j-admin 批量导入文件 / CSV files for neo4j-admin import")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件 / store file")
@click.option("--database", default="neo4j", show_default=True,
              help="导入到的 Neo4j 数据库 / the Neo4j database to import into")
@click.option("--server-folder", default=None,
              help="该目录在 Neo4j 服务器上的路径（用于打印的命令）/ where FOLDER will be on the "
                   "Neo4j server (the paths of the printed command)")
@click.option("--gzip", "compress", is_flag=True, help="gzip 压缩数据文件 / gzip the data files")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def export_import_command(folder: Path, db: Path | None, database: str,
                          server_folder: str | None, compress: bool, as_json: bool) -> None:
    """把存储（已发布的快照）导出为 neo4j-admin 批量导入的 CSV 文件并打印导入命令：
    用于大存储的首次导入（增量更新仍用 yibao graph push）。

    Write the store's published snapshot as the CSV files of 'neo4j-admin database import full'
    and print the command to run on the Neo4j server: a first load of a big store (keep 'yibao
    graph push' for updates). See docs/scale.md.
    """
    from backends.neo4j_import import write_import_csv
    from loaders.store import open_published

    settings = _settings(db=db)
    try:
        with open_published(settings.db, memory_limit=settings.memory_limit,
                            threads=settings.threads) as store, \
                _progress(not as_json) as progress:
            layout = write_import_csv(store.con, folder, compress=compress, progress=progress)
    except YibaoError as exc:
        _fail(str(exc), code=1)
    command = layout.command(database, folder=server_folder)
    if as_json:
        files = [{"kind": kind, "name": f.name, "header": str(f.header), "data": str(f.data),
                  "rows": f.rows}
                 for kind, group in (("nodes", layout.nodes),
                                     ("relationships", layout.relationships))
                 for f in group]
        click.echo(json.dumps({"files": files, "counts": layout.counts(),
                               "multiline": layout.multiline, "schema": str(layout.schema),
                               "command": command}, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"neo4j-admin 导入文件 / import files: {settings.db} → {folder}")
    table.add_column("标签/类型 label/type")
    table.add_column("数据文件 data file")
    table.add_column("行数 rows", justify="right")
    for f in (*layout.nodes, *layout.relationships):
        table.add_row(f.name, f.data.name, f"{f.rows:,}")
    err.print(table)
    err.print("停止数据库后在 Neo4j 服务器上执行 / stop the database, then run on the Neo4j server "
              "(it replaces the database's contents):", highlight=False)
    head = 5  # neo4j-admin database import full DATABASE, then one option a line
    click.echo(" \\\n    ".join([shlex.join(command[:head]),
                                 *(shlex.quote(a) for a in command[head:])]))
    err.print(f"然后启动数据库并建立约束与索引 / then start it and create the constraints and "
              f"indexes: cypher-shell -d {database} -f "
              f"{shlex.quote(layout.located(layout.schema, server_folder))}", highlight=False)
