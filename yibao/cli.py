"""The ``yibao`` command line: synthesise, load, inspect, and the one-command demo.

Users get progress bars and a summary on stderr; ``--json`` prints a machine-readable summary
on stdout. Exit codes: 0 success, 1 nothing could be loaded, 2 a usage or input error, each with
a one-line reason.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import click
from rich.table import Table

from yibao import __version__
from yibao._cli_common import CONTEXT, _fail, _progress, _settings, err
from yibao.errors import YibaoError
from yibao.settings import Settings

if TYPE_CHECKING:
    from yibao.synth.formats import ExportFormats

__all__ = ["main"]

FileFormat = Literal["csv", "parquet", "xlsx"]

@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="yibao")
@click.option("-v", "--verbose", count=True, help="更多日志 / more log output (-vv: debug)")
def cli(verbose: int) -> None:
    """yibao-graph：长三角医保基金监管图分析工作台。

    yibao-graph: graph analytics workbench for medical-insurance fund supervision in the
    Yangtze River Delta (沪苏浙皖).

    \b
    快速开始 / quick start:
      yibao demo                          合成数据、导入并启动 / synthesise, load, start
      yibao synth data/ --scale 100000    合成数据 / synthesise a data set
      yibao profile data/                 导入前体检 / profile a folder before loading
      yibao load data/ --db yibao.duckdb  导入数据 / load a folder of exports
    """
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _parse_formats(ctx: click.Context, param: click.Parameter, value: str) -> ExportFormats:
    from yibao.synth.formats import ExportFormats

    try:
        return ExportFormats.parse(value)
    except YibaoError as exc:
        raise click.BadParameter(str(exc)) from exc


@cli.command(context_settings=CONTEXT, short_help="合成数据 / synthesise a data set")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--scale", default=100_000, show_default=True, type=int,
              help="结算条数（1万到1000万）/ number of settlements (10,000 to 10,000,000)")
@click.option("--seed", default=1, show_default=True, type=int,
              help="随机种子，相同种子生成相同数据 / random seed; same seed, same files")
@click.option("--dirty", is_flag=True,
              help="注入真实导出错误以演示隔离 / inject realistic export faults (faults.json)")
@click.option("--format", "file_format", type=click.Choice(["csv", "parquet", "xlsx"]),
              default="csv", show_default=True, help="文件格式 / file format")
@click.option("--formats", "export_formats", default="real", show_default=True,
              metavar="BASE[,NAME=VALUE...]", callback=_parse_formats,
              help="编码形态 / code shapes: 'real' (national: 13/14-character staff codes, "
                   "hosp_lv codes and labels, ICD extensions, TCM codes, operator and department "
                   "columns) or 'legacy' (12-character codes, hosp_lv codes, core ICD codes, no "
                   "operators), then changes such as 'legacy,staff_codes=national' or "
                   "'real,operators=no'. NAME: staff_codes=national|legacy, hosp_lv=mixed|codes, "
                   "icd_extensions, tcm_codes, operators = yes|no")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 摘要 / print a JSON summary")
def synth(out: Path, scale: int, seed: int, dirty: bool, file_format: str,
          export_formats: ExportFormats, as_json: bool) -> None:
    """合成带已知欺诈的长三角数据集。

    Synthesise a Yangtze Delta data set with planted fraud and honest look-alikes; the ground
    truth goes to OUT/truth.json.
    """
    summary = _synthesise(out, scale=scale, seed=seed, dirty=dirty, file_format=file_format,
                          show_progress=not as_json, formats=export_formats)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


def _synthesise(
    out: Path, *, scale: int, seed: int, dirty: bool, file_format: str, show_progress: bool,
    formats: ExportFormats | None = None,
) -> dict[str, Any]:
    from yibao.synth import synthesize

    try:
        with _progress(show_progress) as progress:
            result = synthesize(out, scale=scale, seed=seed, dirty=dirty,
                                file_format=cast(FileFormat, file_format), formats=formats,
                                progress=progress)
    except YibaoError as exc:
        _fail(str(exc))
    rows = dict(result.rows)
    summary = {
        "out_dir": str(result.out_dir),
        "rows": rows,
        "scenarios": result.scenarios,
        "faults": result.faults,
    }
    if show_progress:
        listed = ", ".join(f"{t} {n:,}" for t, n in rows.items())
        err.print(f"合成完成 / synthesised: {listed}; {result.scenarios} scenarios"
                  + (f", {result.faults} faults" if dirty else "") + f" → {out}")
    return summary


@cli.command(context_settings=CONTEXT, short_help="导入文件夹 / load a folder of exports")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件（默认 YIBAO_DB 或 yibao.duckdb）/ store file")
@click.option("--table", "tables", multiple=True,
              help="只导入这些表 / load only these tables (repeatable)")
@click.option("--codes", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help="代码映射文件（本省标签，默认 YIBAO_CODE_TABLES）/ code mapping file (TOML)")
@click.option("--lake", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="在 Spark 上校验并写入此 Parquet 目录（省级数据量）/ validate on Apache "
                   "Spark into this Parquet folder instead of the store (province scale)")
@click.option("--master", default=None,
              help="Spark 集群地址 / Spark master URL, with --lake (default: "
                   "YIBAO_SPARK_MASTER, else local[2])")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 摘要 / print a JSON summary")
def load(folder: Path, db: Path | None, tables: tuple[str, ...], codes: Path | None,
         lake: Path | None, master: str | None, as_json: bool) -> None:
    """导入导出文件夹：校验、隔离问题行、原子提交。

    Load a folder of exports (persons, institutions, practitioners, settlements, fee_details as
    .csv/.xlsx/.parquet): validate, quarantine rows whose faults would corrupt results, keep
    rows whose descriptive fields are odd with a data-quality note, commit atomically. Run
    'yibao profile FOLDER' first to see what will happen. With --lake, the same checks run on
    Apache Spark and the rows go to that Parquet folder (docs/scale.md).
    """
    settings = _settings(db=db, code_tables=codes)
    if master and lake is None:
        _fail("--master is for --lake (loading on Spark)")
    if lake is not None:
        if tables or db:
            _fail("--lake loads the whole folder into the lake: drop --table and --db")
        report = _load_on_spark(folder, lake, settings, master, show_progress=not as_json)
    else:
        report = _load(folder, settings, tables=tables or None, show_progress=not as_json)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if report["loaded"] == 0:
        _fail(
            f"nothing loaded: all {report['rows_in']} rows were quarantined; "
            "see " + (f"the lake's {lake / 'quarantine'}" if lake is not None
                      else f"'yibao quarantine --db {settings.db}'"),
            code=1,
        )


def _load(
    folder: Path,
    settings: Settings,
    *,
    tables: tuple[str, ...] | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    from loaders.codes import load_code_tables
    from loaders.load import load_folder
    from loaders.snapshots import publish_snapshot
    from loaders.store import open_store

    try:
        codes = load_code_tables(settings.code_tables)
        with (
            open_store(settings.db, memory_limit=settings.memory_limit,
                       threads=settings.threads) as store,
            _progress(show_progress) as progress,
        ):
            report = load_folder(folder, store, tables=tables, progress=progress, codes=codes)
            publish_snapshot(store, reason="load")
    except YibaoError as exc:
        _fail(str(exc), code=1)
    if show_progress:
        _print_load(report.to_dict())
    return report.to_dict()


def _load_on_spark(folder: Path, lake: Path, settings: Settings, master: str | None, *,
                   show_progress: bool = True) -> dict[str, Any]:
    from backends.spark.load import spark_load
    from backends.spark.session import spark_session
    from loaders.codes import load_code_tables

    try:
        codes = load_code_tables(settings.code_tables)
        spark = spark_session(master)
        with _progress(show_progress) as progress:
            report = spark_load(spark, folder, lake, codes=codes, progress=progress)
    except YibaoError as exc:
        _fail(str(exc), code=1)
    if show_progress:
        _print_load(report.to_dict(), lake=True)
    return report.to_dict()


def _print_load(report: dict[str, Any], *, lake: bool = False) -> None:
    table = Table(
        title=f"导入 / load #{report['load_id']} → {report['db']}",
        caption="读入 rows in = 新增 inserted + 已有 unchanged + 隔离 quarantined; "
                "注记 noted: 入库但有数据质量注记 / stored with a data-quality note",
    )
    table.add_column("文件 file")
    table.add_column("编码 enc.")
    for header in ("读入", "新增", "已有", "隔离", "注记"):
        table.add_column(header, justify="right")
    for f in report["files"]:
        table.add_row(f["file"], f["encoding"] or f["file_format"],
                      f"{f['rows_in']:,}", f"{f['inserted']:,}", f"{f['unchanged']:,}",
                      f"{f['quarantined']:,}", f"{f['noted']:,}")
    err.print(table)
    if report["reasons"]:
        reasons = ", ".join(f"{code} {n:,}" for code, n in report["reasons"].items())
        err.print(f"隔离原因 / quarantine reasons: {reasons}", highlight=False)
    if report["notes"]:
        notes = ", ".join(f"{code} {n:,}" for code, n in report["notes"].items())
        listed = (f"the lake's {Path(report['db']) / 'data_notes'} lists them"
                  if lake else "'yibao quarantine --notes' lists them")
        err.print(f"注记 / notes (rows kept): {notes}; {listed}", highlight=False)
    err.print(f"用时 / took {report['seconds']:.1f} s", highlight=False)


@cli.command(context_settings=CONTEXT, short_help="隔离行 / show quarantined rows")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件 / store file")
@click.option("--limit", default=20, show_default=True, help="最多显示行数 / rows to show")
@click.option("--notes", "notes", is_flag=True,
              help="列出数据质量注记（已入库的行）/ list data-quality notes (rows kept)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def quarantine(db: Path | None, limit: int, notes: bool, as_json: bool) -> None:
    """查看被隔离的行及原因（--notes：入库但有注记的值）。

    Show quarantined rows and why they were refused; with --notes, the data-quality notes of
    rows that were kept (a descriptive field unknown or oddly shaped, stored as it came).
    """
    from loaders.store import open_published

    settings = _settings(db=db)
    source = "data_notes" if notes else "quarantine"
    try:
        with open_published(settings.db) as store:
            frame = store.frame(
                f"""SELECT load_id, table_name, file, row_no, column_name, raw_value, reason_code,
                          reason_zh, reason_en FROM {source}
                   ORDER BY load_id, table_name, file, row_no LIMIT ?""",
                [limit],
            )
            total = store.table_counts()[source]
            by_reason = store.frame(
                f"""SELECT table_name, column_name, reason_code, count(*) AS n FROM {source}
                    GROUP BY ALL ORDER BY n DESC, table_name, column_name, reason_code"""
            )
    except YibaoError as exc:
        _fail(str(exc))
    frame = frame.astype(object).where(frame.notna(), None)  # empty cells: null, not NaN
    by_reason = by_reason.astype(object).where(by_reason.notna(), None)
    if as_json:
        click.echo(json.dumps({"total": total, "by_reason": by_reason.to_dict("records"),
                               "rows": frame.to_dict("records")},
                              ensure_ascii=False, indent=2, default=str, allow_nan=False))
        return
    if len(by_reason):
        summary = Table(title=f"{'注记 / notes' if notes else '隔离 / quarantine'}: by reason")
        for col in ("table_name", "column_name", "reason_code", "n"):
            summary.add_column(col, justify="right" if col == "n" else "left")
        for r in by_reason.itertuples(index=False):
            summary.add_row(str(r.table_name), str(r.column_name or ""), str(r.reason_code),
                            f"{r.n:,}")
        err.print(summary)
    label = "注记 / notes" if notes else "隔离 / quarantine"
    table = Table(title=f"{label}: {total:,} rows (showing {len(frame)})")
    for col in ("file", "row_no", "column_name", "raw_value", "reason_zh"):
        table.add_column(col, overflow="fold")
    for r in frame.itertuples(index=False):
        raw = "" if r.raw_value is None else str(r.raw_value)
        table.add_row(str(r.file), str(r.row_no), str(r.column_name or ""),
                      raw[:40] + ("…" if len(raw) > 40 else ""), str(r.reason_zh))
    err.print(table)


@cli.command(context_settings=CONTEXT, short_help="存储概况 / rows per table, loads")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件 / store file")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def status(db: Path | None, as_json: bool) -> None:
    """存储概况：各表行数与导入记录。 Rows per table and the load history of a store."""
    from loaders.store import open_published

    settings = _settings(db=db)
    try:
        with open_published(settings.db) as store:
            counts = store.table_counts()
            loads = store.frame("SELECT * FROM loads ORDER BY load_id").to_dict("records")
    except YibaoError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps({"tables": counts, "loads": loads}, ensure_ascii=False,
                              indent=2, default=str))
        return
    table = Table(title=f"{settings.db}")
    table.add_column("表 table")
    table.add_column("行数 rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    err.print(table)
    err.print(f"导入次数 / loads: {len(loads)}")


DEMO_DB = Path("demo/yibao.duckdb")
"""The demo's store; its users, audit log, ledger and key go beside it (``demo/`` is in
``.gitignore``)."""
DEMO_DATA = Path("demo/data")
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("investigator", "investigator", "演示调查员"), ("leader", "leadership", "演示领导"))
"""The demo's workbench accounts: user name, role, display name."""


@cli.command(context_settings=CONTEXT, short_help="一键演示 / the one-command demo")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件（默认 demo/yibao.duckdb）/ store file")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              default=DEMO_DATA, show_default=True,
              help="合成数据目录 / folder for the synthetic data")
@click.option("--scale", default=100_000, show_default=True, type=int,
              help="结算条数 / number of settlements")
@click.option("--seed", default=1, show_default=True, type=int, help="随机种子 / seed")
@click.option("--json", "as_json", is_flag=True,
              help="输出 JSON 摘要，不启动工作台 / print a JSON summary (no workbench)")
@click.option("--workbench/--no-workbench", default=True, show_default=True,
              help="最后启动工作台 / end by starting the workbench")
@click.option("--port", default=8501, show_default=True, type=int,
              help="工作台端口 / the workbench's port")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="工作台监听地址 / address the workbench listens on")
@click.pass_context
def demo(ctx: click.Context, db: Path | None, data: Path, scale: int, seed: int,
         as_json: bool, workbench: bool, port: int, address: str) -> None:
    """一条命令演示：合成数据、导入内置存储、检测，并启动工作台。

    The one-command demo on the embedded store (no server): synthesise a data set with planted
    fraud, load it, detect rings, chains and rule hits, show the top rings, then start the
    workbench on the demo store and print its address and the demo accounts (stop it with
    Ctrl-C). --no-workbench stops after detection; --json prints a summary for scripts and
    does not start the workbench.
    """
    settings = _settings(db=db or DEMO_DB)
    _remove_demo_store(settings.db)
    synthesised = _synthesise(data, scale=scale, seed=seed, dirty=False, file_format="csv",
                              show_progress=not as_json)
    report = _load(data, settings, show_progress=not as_json)
    from loaders.store import open_store

    with open_store(settings.db) as store:
        store.con.execute("INSERT OR REPLACE INTO meta VALUES ('created_by', 'yibao demo')")
    if report["loaded"] == 0:
        _fail("nothing loaded", code=1)
    from yibao.cli_detect import print_rings, run_detection

    found = run_detection(settings.db, None, None, show_progress=not as_json,
                          backend="embedded")
    if as_json:
        click.echo(json.dumps({"synth": synthesised, "load": report, "detect": {
            "rings": len(found.rings), "suspicious": len(found.suspicious),
            "rule_hits": found.rule_hits, "chains": found.chains, "timings": found.timings,
        }}, ensure_ascii=False, indent=2))
        return
    print_rings(found, top=10)
    err.print(
        f"演示数据已就绪 / demo ready: {settings.db} "
        f"({report['loaded']:,} rows loaded, {report['quarantined']:,} quarantined, "
        f"{len(found.suspicious)} suspicious rings; ground truth in {data / 'truth.json'}; "
        f"check it with 'yibao evaluate {data} --db {settings.db}')"
    )
    _demo_users(settings)
    if not workbench:
        err.print(f"启动工作台 / start the workbench: yibao workbench --db {settings.db}",
                  highlight=False)
        return
    from yibao.cli_workbench import workbench_command

    err.print("按 Ctrl-C 停止工作台 / press Ctrl-C to stop the workbench", highlight=False)
    # prints the address, then the workbench replaces this process
    ctx.invoke(workbench_command, db=settings.db, users=settings.users_path, port=port,
               address=address)


def _demo_users(settings: Settings) -> None:
    """The demo accounts with new random passwords, printed (the passwords are kept nowhere
    else). A user file holding anyone else is not the demo's: it is left alone."""
    import secrets

    from dashboards.auth import add_user, read_users

    demo_names = {name for name, _, _ in DEMO_ACCOUNTS}
    if settings.users_path.exists():
        try:
            others = {u.username for u in read_users(settings.users_path)} - demo_names
        except YibaoError as exc:
            _fail(str(exc))
        if others:
            err.print(f"工作台用户 / workbench users: {settings.users_path} (not the demo's: "
                      "left as it is)", highlight=False)
            return
    lines = []
    for name, role, display in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        add_user(settings.users_path, name, role=role, password=password, display_name=display)
        lines.append(f"  {name} / {password}  ({role})")
    err.print("演示账号 / demo accounts (user / password):\n" + "\n".join(lines),
              highlight=False)


def _remove_demo_store(path: Path) -> None:
    """The demo starts from a fresh store, but never deletes a store it did not make."""
    if not path.exists():
        return
    from loaders.store import open_store

    try:
        with open_store(path, read_only=True) as store:
            row = store.con.execute("SELECT value FROM meta WHERE key = 'created_by'").fetchone()
    except Exception:
        row = None
    if row is None or row[0] != "yibao demo":
        _fail(f"refusing to replace {path}: it was not made by 'yibao demo'; choose another --db")
    path.unlink()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.unlink()


from yibao.cli_detect import detect_command, evaluate_command  # noqa: E402

cli.add_command(detect_command)
cli.add_command(evaluate_command)

from yibao.cli_workbench import user_group, workbench_command  # noqa: E402

cli.add_command(workbench_command)
cli.add_command(user_group)

from yibao.cli_backend import graph_group  # noqa: E402

cli.add_command(graph_group)

from yibao.cli_plan import plan_command  # noqa: E402

cli.add_command(plan_command)

from yibao.cli_leads import leads_group  # noqa: E402

cli.add_command(leads_group)

from yibao.cli_audit import audit_group  # noqa: E402

cli.add_command(audit_group)

from yibao.cli_brief import brief_command  # noqa: E402

cli.add_command(brief_command)

from yibao.cli_profile import profile_command  # noqa: E402

cli.add_command(profile_command)


def main() -> None:
    """Entry point of the ``yibao`` console script."""
    cli(prog_name="yibao")


if __name__ == "__main__":
    main()
