"""``yibao graph``: put the store into a shared Neo4j graph and detect there.

``yibao graph push`` loads the store's tables into the Neo4j server of the ``NEO4J_*`` settings
(idempotent: pushing twice adds nothing; resumable: a push cut off part way continues where it
stopped), ``yibao graph detect`` runs detection on that graph and stores the rings there, and
``yibao graph status`` says what the server holds.
"""

from __future__ import annotations

import json
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
