"""``yibao detect`` and ``yibao evaluate``: find rings in a store, and measure them on truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import YibaoError

if TYPE_CHECKING:
    from graph.detect import DetectionResult

__all__ = ["detect_command", "evaluate_command", "print_rings", "run_detection"]

_ENGINES = ["igraph", "networkx", "networkit", "infomap", "leiden-cpm", "gds"]
"""graph.community.ENGINES and ``gds`` (the Neo4j server's Graph Data Science library, with
``--backend neo4j``); not imported here: the CLI starts without the graph libraries."""


def run_detection(db: Path | None, config: Path | None, engine: str | None,
                  show_progress: bool, profile: str | None = None,
                  backend: str | None = None, lake: Path | None = None,
                  master: str | None = None) -> DetectionResult:
    """Detection on the chosen backend (``--backend``, else ``YIBAO_BACKEND``, else the
    embedded store, which publishes a new snapshot for its readers; ``spark``: the store's
    tables detected on Spark, ``lake`` and ``master`` saying where); the one entry point of
    ``yibao detect``, ``yibao demo`` and ``yibao graph detect``."""
    from graph.scoring import load_detection_settings, load_profile
    from yibao.stores import open_backend

    settings = _settings(db=db)
    chosen = backend or settings.backend or "embedded"
    lake_only = chosen == "spark" and lake is not None and db is None \
        and not settings.db.exists()  # a lake loaded on Spark (yibao load --lake)
    if chosen in ("embedded", "spark") and not settings.db.exists() and not lake_only:
        _fail(f"store {settings.db} does not exist: load data first with "
              f"'yibao load FOLDER --db {settings.db}'")
    if engine == "gds" and chosen != "neo4j":
        _fail("--engine gds runs on the Neo4j server: add --backend neo4j")
    try:
        if profile and config:
            _fail("give --profile or --config, not both")
        detection = (load_profile(settings.profiles_path, profile) if profile
                     else load_detection_settings(config or settings.detection_config))
        say = (lambda msg: err.print(f"[dim]… {msg}[/]", highlight=False)) \
            if show_progress else None
        if chosen == "spark":
            from backends.spark.store import detect_lake_on_spark, detect_store_on_spark

            if engine:
                from dataclasses import replace

                detection = replace(detection, community=replace(detection.community,
                                                                  engine=engine))
            if lake_only:
                assert lake is not None
                return detect_lake_on_spark(lake, master=master, settings=detection,
                                            progress=say)
            return detect_store_on_spark(settings.db, lake=lake, master=master,
                                         settings=detection, progress=say)
        with open_backend(settings, chosen) as graph_backend:
            return graph_backend.detect(settings=detection, engine=engine, progress=say)
    except YibaoError as exc:
        _fail(str(exc), code=1)


def _chains_json(db: Path, limit: int | None) -> list[dict[str, Any]]:
    from loaders.store import open_published

    with open_published(db) as store:
        rows = store.con.execute(
            "SELECT drug_trac_codg, hit_class, setl_ids, institutions, persons FROM chains "
            "ORDER BY hit_class = 'resale' DESC, drug_trac_codg"
            + (" LIMIT ?" if limit else ""), [limit] if limit else []).fetchall()
    return [{"drug_trac_codg": r[0], "hit_class": r[1], "setl_ids": list(r[2]),
             "institutions": list(r[3]), "persons": list(r[4])} for r in rows]


@click.command("detect", context_settings=CONTEXT, short_help="团伙识别 / find rings")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件 / store file")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="检测参数 TOML / detection settings (see graph/detection.toml)")
@click.option("--profile", default=None,
              help="工作台保存的检测方案 / a detection profile saved on the workbench's tuning "
                   "page (detection_profiles/NAME.toml beside the store)")
@click.option("--engine", type=click.Choice(_ENGINES), default=None,
              help="社区发现引擎 / community engine (default: networkit PLM; gds: the Neo4j "
                   "server's GDS, with --backend neo4j)")
@click.option("--backend", type=click.Choice(["embedded", "neo4j", "spark"]), default=None,
              help="在哪里运行 / where: the embedded store (default, or YIBAO_BACKEND), the "
                   "Neo4j server (results written back into the graph) or Apache Spark (the "
                   "store's tables as Parquet in --lake, results back into the store)")
@click.option("--lake", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Spark 的 Parquet 目录 / the Parquet folder Spark reads (default: "
                   "STORE.lake beside the store)")
@click.option("--master", default=None,
              help="Spark 集群地址 / Spark master URL: yarn, k8s://…, spark://host:7077 "
                   "(default: YIBAO_SPARK_MASTER, else local[2])")
@click.option("--top", default=15, show_default=True, help="显示前 N 个团伙 / rings to show")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def detect_command(db: Path | None, config: Path | None, profile: str | None,
                   engine: str | None, backend: str | None, lake: Path | None,
                   master: str | None, top: int, as_json: bool) -> None:
    """运行规则、追溯码链条与团伙识别，结果写入存储。

    Run the rule base, trace-code chains and ring detection on a store, and store the rules'
    hits, the chains and the scored rings (ids stay stable across reruns).
    """
    from graph.rings import ring_to_json

    settings = _settings(db=db)
    on_store = (backend or settings.backend or "embedded") in ("embedded", "spark") \
        and (settings.db.exists() or lake is None)  # else a lake without a store
    if (lake or master) and (backend or settings.backend) != "spark":
        _fail("--lake and --master are for --backend spark")
    result = run_detection(db, config, engine, show_progress=not as_json, profile=profile,
                           backend=backend, lake=lake, master=master)
    if as_json:
        click.echo(json.dumps({
            "run_id": result.run_id, "engine": result.engine,
            "modularity": result.modularity, "timings": result.timings,
            "rule_hits": result.rule_hits,
            "rings": [ring_to_json(r) for r in result.rings],
            "chains": _chains_json(settings.db, None) if on_store else result.chains,
            **({"figures": _figures(settings.db)} if on_store else {}),
        }, ensure_ascii=False, indent=2, default=str))
        return
    print_rings(result, top=top)
    if on_store:  # the figures are the store's (graph.figures); a server's are in the graph
        figures = _figures(settings.db)
        err.print(f"涉嫌违规基金 / suspicious fund: {figures['suspicious_fund']:,.2f} 元 yuan "
                  f"in {figures['flagged_settlements']:,} 疑点结算 flagged settlements "
                  f"({figures['persons']:,} persons, {figures['institutions']:,} "
                  f"institutions); 可疑团伙 / flagged rings {figures['flagged_rings']:,}",
                  highlight=False)


def _figures(db: Path) -> dict[str, Any]:
    """The run's headline figures over all the data, from :mod:`graph.figures` (the overview,
    the briefing and the plan show the same)."""
    from graph.figures import flagged_rings, rule_hits_by_rule, suspicious_fund
    from loaders.store import open_published

    with open_published(db) as store:
        money = suspicious_fund(store.con, None, None)
        rings = flagged_rings(store.con, None, None)
        hits = rule_hits_by_rule(store.con, None, None)
    return {"suspicious_fund": round(money.fund, 2), "flagged_settlements": money.settlements,
            "persons": money.persons, "institutions": money.institutions,
            "flagged_rings": rings.rings, "flagged_ring_persons": rings.persons,
            "rule_hits_by_rule": hits}


def print_rings(result: DetectionResult, *, top: int) -> None:
    """The top rings and a summary line, on stderr. The money column is the ring's
    ``fund_amount``: 涉及医保基金 = 统筹 + 个人账户 (:mod:`graph.money`), whole yuan."""
    table = Table(title=f"团伙 / rings: {len(result.rings)} "
                        f"({len(result.suspicious)} 可疑 suspicious)")
    for col in ("ring_id", "模式 pattern", "证据强度 strength", "人 persons", "机构 inst.",
                "涉及医保基金 insurance money (元)", "证据 evidence"):
        table.add_column(col, overflow="fold")
    for r in result.rings[:top]:
        table.add_row(r.ring_id, r.pattern_zh, f"{r.score:.2f}", str(len(r.persons)),
                      str(len(r.institutions)), f"{r.fund_amount:,.0f}", r.evidence_zh[0])
    err.print(table)
    hits = ", ".join(f"{k} {v:,}" for k, v in result.rule_hits.items())
    err.print(f"规则命中 / rule hits: {hits}; 追溯码链条 / chains: {result.chains:,}; "
              f"用时 / took {result.timings.get('total', 0):.1f} s", highlight=False)


@click.command("evaluate", context_settings=CONTEXT,
               short_help="对照合成真值评估 / measure against synthetic truth")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="存储文件 / store file")
@click.option("--detect/--no-detect", "run_first", default=True, show_default=True,
              help="先运行检测 / run detection first")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def evaluate_command(folder: Path, db: Path | None, run_first: bool, as_json: bool) -> None:
    """对照 yibao synth 的真值（truth.json）逐场景评估检测结果。

    Measure the stored rings and chains against the ground truth of a synthetic FOLDER
    (per scenario: recall, the best ring and its precision; overall recall and precision).
    """
    from graph.evaluate import evaluate_store, load_truth
    from loaders.store import open_store

    settings = _settings(db=db)
    try:
        scenarios = load_truth(folder)
    except YibaoError as exc:
        _fail(str(exc))
    if run_first:
        run_detection(db, None, None, show_progress=not as_json, backend="embedded")
    try:
        with open_store(settings.db, read_only=True) as store:
            result = evaluate_store(store.con, scenarios)
    except YibaoError as exc:
        _fail(str(exc), code=1)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    table = Table(title="逐场景评估 / per-scenario evaluation")
    for col in ("scenario", "pattern", "kind", "persons", "found", "recall", "best ring",
                "score", "precision", "codes"):
        table.add_column(col, justify="right" if col in ("persons", "found") else "left")
    for s in result.scenarios:
        table.add_row(
            s.scenario_id, s.pattern, s.kind, str(s.persons), str(s.found), f"{s.recall:.2f}",
            s.best_ring or "-", f"{s.best_ring_score:.2f}" if s.best_ring_score else "-",
            f"{s.best_ring_precision:.2f}" if s.best_ring_precision is not None else "-",
            f"{s.codes_found}/{s.codes}" if s.codes else "")
    err.print(table)
    click.echo(
        f"recall {result.recall:.3f}  precision {result.precision:.3f}  "
        f"suspicious rings {result.suspicious_rings}  "
        f"resale chains found {result.chains_found}/{result.chains_planted}  "
        f"honest rings among suspicious {len(result.honest_in_suspicious)}"
    )
