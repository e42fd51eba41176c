"""``yibao leads``: the leads ledger (线索台账) from the command line.

``from-detection`` makes leads of the store's detection results (again: adds nothing new),
``list`` and ``show`` read the ledger, ``move`` takes a lead one step along its lifecycle,
``export``/``import`` go through Excel (``export --start/--end``: one period's leads),
``verify`` checks the keyed audit chain and its checkpoints. The ledger is the one of the
settings (``YIBAO_BACKEND``: a SQLite file beside the store, ``YIBAO_LEADS``, or the Neo4j
server). Exit codes: 0 done,
1 refused (a conflict, a move the lifecycle forbids, rejected import rows, a broken audit
chain), 2 a usage or input error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
from rich.table import Table

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import LeadError, YibaoError

if TYPE_CHECKING:
    from yibao.leads import Lead, LeadEvent, LeadLedger
    from yibao.leads.period import ActivitySpans
    from yibao.leads.wording import Lang

__all__ = ["leads_group"]

_DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                   help="存储文件 / store file (default: YIBAO_DB)")
_LEADS = click.option("--leads", "leads_file", type=click.Path(dir_okay=False, path_type=Path),
                      default=None, help="台账文件 / ledger file (default: YIBAO_LEADS or "
                      "leads.sqlite beside the store)")
_JSON = click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")


@contextmanager
def _ledger(db: Path | None, leads_file: Path | None) -> Iterator[LeadLedger]:
    from yibao.stores import open_ledger

    settings = _settings(db=db, leads_file=leads_file)
    try:
        ledger = open_ledger(settings)
    except YibaoError as exc:
        _fail(str(exc), code=1)
    try:
        yield ledger
    except LeadError as exc:
        _fail(str(exc), code=1)
    except YibaoError as exc:
        _fail(str(exc), code=2)
    finally:
        ledger.close()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _lead_json(lead: Lead, today: date) -> dict[str, Any]:
    out: dict[str, Any] = _plain(asdict(lead))
    out.update(overdue=lead.overdue(today), needs_escalation=lead.needs_escalation(today))
    return out


def _event_json(event: LeadEvent) -> dict[str, Any]:
    out: dict[str, Any] = _plain(asdict(event))
    out["at"] = event.at.isoformat()
    out["changes"] = [[c.field, c.old, c.new] for c in event.changes]
    return out


def _print_leads(leads: list[Lead], today: date, title: str) -> None:
    from yibao.leads import RISKS, STATES

    table = Table(title=title)
    for col in ("编号 id", "版本 v", "状态 state", "风险 risk", "责任人 owner", "期限 due",
                "金额 yuan", "标题 title"):
        table.add_column(col, justify="right" if col.startswith(("版本", "金额")) else "left",
                         overflow="fold")
    for lead in leads:
        due = lead.due.isoformat() if lead.due else ""
        if lead.needs_escalation(today):
            due = f"[bold red]{due} 提级[/]"
        elif lead.overdue(today):
            due = f"[red]{due} 逾期[/]"
        table.add_row(lead.lead_id, str(lead.version), STATES[lead.state][0],
                      RISKS[lead.risk][0], lead.owner or "", due,
                      f"{lead.amount_involved:,.2f}", lead.title)
    err.print(table)


@click.group("leads", context_settings=CONTEXT, short_help="线索台账 / the leads ledger")
def leads_group() -> None:
    """线索台账：由检测结果生成线索，逐条核查至结案，全程留痕，可导出导入 Excel。

    The leads ledger: leads from detection, checked one by one to closure with every change
    audited; Excel export and import.
    """


@leads_group.command("from-detection", context_settings=CONTEXT,
                     short_help="由检测结果生成线索 / leads from detection")
@_DB
@_LEADS
@click.option("--by", default="system", show_default=True, help="操作人 / who creates them")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="期间开始 / period start (YYYY-MM-DD)")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="期间结束（含）/ period end, inclusive")
@_JSON
def from_detection_command(db: Path | None, leads_file: Path | None, by: str,
                           start: Any, end: Any, as_json: bool) -> None:
    """每个可疑团伙、每条回流药链条、每条规则在每家机构的命中各生成一条线索；重复执行不会重复生成。

    One lead per suspicious ring, per resale chain, and per rule and institution; running it
    again adds nothing for what already has a lead.
    """
    from yibao.leads.from_detection import leads_from_store

    settings = _settings(db=db)
    if not settings.db.exists():
        _fail(f"store {settings.db} does not exist: load data and run 'yibao detect' first")
    if (start is None) != (end is None):
        _fail("give both --start and --end, or neither")
    period = (start.date(), end.date()) if start is not None else None
    with _ledger(db, leads_file) as ledger:
        try:
            result = leads_from_store(settings.db, ledger, by=by, period=period)
        except ValueError as exc:
            _fail(str(exc))
    if as_json:
        click.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    table = Table(title="由检测结果生成线索 / leads from detection")
    for col in ("来源 source", "检测结果 found", "新建 created", "已有 existing"):
        table.add_column(col, justify="left" if col.startswith("来源") else "right")
    for source in result.drafts:
        table.add_row(source, str(result.drafts[source]), str(result.created[source]),
                      str(result.existing[source]))
    err.print(table)


@leads_group.command("list", context_settings=CONTEXT, short_help="列出线索 / list leads")
@_DB
@_LEADS
@click.option("--state", "states", multiple=True,
              help="状态（可多次）/ state, repeatable: 待核查 or pending …")
@click.option("--overdue", is_flag=True, help="只看逾期 / overdue only")
@click.option("--escalation", is_flag=True, help="只看需提级办理 / overdue high-risk only")
@click.option("--owner", default=None, help="责任人 / owner")
@click.option("--region", default=None, help="区划代码（省/市/县）/ division code")
@click.option("--order", type=click.Choice(["lead_id", "due", "risk", "amount", "updated"]),
              default="lead_id", show_default=True, help="排序 / order")
@_JSON
def list_command(db: Path | None, leads_file: Path | None, states: tuple[str, ...],
                 overdue: bool, escalation: bool, owner: str | None, region: str | None,
                 order: str, as_json: bool) -> None:
    """列出线索（可按状态、逾期、提级办理、责任人、区划筛选）。

    List leads, filtered by state, overdue, escalation, owner or region.
    """
    from yibao.leads import LeadFilter
    from yibao.leads.ledger import OrderBy
    from yibao.leads.lifecycle import parse_state

    with _ledger(db, leads_file) as ledger:
        flt = LeadFilter(states=tuple(parse_state(s) for s in states), owner=owner,
                         region=region, overdue=True if overdue else None,
                         needs_escalation=True if escalation else None)
        leads = ledger.leads(flt, order_by=cast(OrderBy, order))
        today = ledger.today()
    if as_json:
        click.echo(json.dumps([_lead_json(lead, today) for lead in leads], ensure_ascii=False,
                              indent=2))
        return
    _print_leads(leads, today, f"线索 / leads: {len(leads)}")


@leads_group.command("show", context_settings=CONTEXT, short_help="查看线索 / show a lead")
@click.argument("lead_id")
@_DB
@_LEADS
@_JSON
def show_command(lead_id: str, db: Path | None, leads_file: Path | None,
                 as_json: bool) -> None:
    """查看一条线索及其全部变更记录。

    Show a lead and every change recorded on it.
    """
    from yibao.leads import allowed_next, state_label
    from yibao.leads.excel import events_frame

    with _ledger(db, leads_file) as ledger:
        lead = ledger.get(lead_id)
        history = ledger.history(lead_id)
        today = ledger.today()
    if as_json:
        click.echo(json.dumps({"lead": _lead_json(lead, today),
                               "history": [_event_json(e) for e in history]},
                              ensure_ascii=False, indent=2))
        return
    _print_leads([lead], today, f"{lead.lead_id} (v{lead.version})")
    nxt = ", ".join(state_label(s) for s in allowed_next(lead.state)) or "—"
    err.print(f"[bold]{state_label(lead.state)}[/] → {nxt}", highlight=False)
    if lead.summary:
        err.print(lead.summary, highlight=False)
    table = Table(title="变更记录 / history")
    frame = events_frame(history)
    for col in ("版本", "时间", "操作人", "操作", "变更内容", "说明"):
        table.add_column(col, overflow="fold")
    for row in frame[["版本", "时间", "操作人", "操作", "变更内容", "说明"]].itertuples(
            index=False):
        table.add_row(*(str(v) for v in row))
    err.print(table)


@leads_group.command("move", context_settings=CONTEXT,
                     short_help="推进线索状态 / move a lead on")
@click.argument("lead_id")
@click.argument("state")
@click.option("--by", required=True, help="操作人 / who moves it")
@click.option("--note", default="", help="说明 / note recorded with the move")
@click.option("--disposition", "dispositions", multiple=True,
              help="处理方式（进入“处理”时必填，可多次）/ disposition, repeatable: 协议处理 "
                   "行政处罚 移送公安 移送纪检")
@click.option("--recovered", default=None, help="追回金额（元）/ amount recovered, yuan")
@click.option("--version", "version", type=int, default=None,
              help="你看到的版本（默认当前版本）/ the version you saw (default: current)")
@_DB
@_LEADS
@_JSON
def move_command(lead_id: str, state: str, by: str, note: str, dispositions: tuple[str, ...],
                 recovered: str | None, version: int | None, db: Path | None,
                 leads_file: Path | None, as_json: bool) -> None:
    """把线索推进到下一状态：待核查 → 核查中 → 查实/排除 → 处理 → 已结案。

    Move a lead to its next state (pending → checking → confirmed/cleared → handling →
    closed); STATE in Chinese or English. Give --version to refuse the move if someone changed
    the lead since you looked.
    """
    from yibao.leads.lifecycle import parse_disposition, parse_state

    with _ledger(db, leads_file) as ledger:
        target = parse_state(state)
        chosen = tuple(parse_disposition(d) for d in dispositions)
        expected = version if version is not None else ledger.get(lead_id).version
        lead = ledger.transition(lead_id, target, expected_version=expected, by=by, note=note,
                                 dispositions=chosen, amount_recovered=recovered)
        today = ledger.today()
    if as_json:
        click.echo(json.dumps(_lead_json(lead, today), ensure_ascii=False, indent=2))
        return
    _print_leads([lead], today, f"{lead.lead_id} (v{lead.version})")


@leads_group.command("export", context_settings=CONTEXT,
                     short_help="导出 Excel / export to Excel")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="输出文件 FILE.xlsx / workbook to write")
@click.option("--state", "states", multiple=True, help="只导出这些状态 / only these states")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="期间开始 / period start (YYYY-MM-DD)")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="期间结束（含）/ period end, inclusive")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="表名、表头与标签的语言 / language of sheet names, headers and labels")
@_DB
@_LEADS
def export_command(out: Path, states: tuple[str, ...], start: Any, end: Any, lang: str,
                   db: Path | None, leads_file: Path | None) -> None:
    """导出线索台账、统计表和变更记录到 Excel（中文表头，数据中的公式一律按文本写入）。

    Export the ledger, the statistics table and the change log to Excel (Chinese headers, or
    English with --lang en, which adds the English titles and summaries of detection's leads
    when the store is at hand; no value from the data becomes a formula; either language
    imports back). With --start and --end only the leads of that
    period, as the workbench's period filter keeps them: their suspicious activity (the
    store's detection times) overlaps it, or they were created or fall due in it; the
    statistics and the change log then cover those leads only.
    """
    from yibao.leads import LeadFilter
    from yibao.leads.excel import export_workbook
    from yibao.leads.lifecycle import parse_state

    if out.suffix.lower() != ".xlsx":
        _fail(f"--out {out} must end in .xlsx")
    if (start is None) != (end is None):
        _fail("give both --start and --end, or neither")
    if start is not None and end < start:
        _fail(f"--end {end:%Y-%m-%d} is before --start {start:%Y-%m-%d}")
    spans = _activity_spans(db) if start is not None else None
    with _ledger(db, leads_file) as ledger:
        leads = ledger.leads(LeadFilter(states=tuple(parse_state(s) for s in states)))
        if spans is not None:
            from yibao.leads.period import leads_in_period

            leads = leads_in_period(leads, spans, start.date(), end.date())
        language: Lang = "en" if lang == "en" else "zh"
        export_workbook(ledger, out, leads=leads, lang=language,
                        texts=_english_texts(db, leads) if language == "en" else None)
    period = f" ({start:%Y-%m-%d}..{end:%Y-%m-%d})" if start is not None else ""
    err.print(f"导出 / exported {len(leads)} leads{period} to {out}", highlight=False)


def _english_texts(db: Path | None, leads: list[Lead]) -> dict[str, tuple[str, str]] | None:
    """Titles and summaries of detection's leads in English, from the store (``None`` without
    one: the workbook then has no English title columns)."""
    from loaders.store import open_published
    from yibao.leads.from_detection import detection_texts

    settings = _settings(db=db)
    if not settings.db.exists():
        return None
    with open_published(settings.db) as store:
        return detection_texts(store.con, leads, "en")


def _activity_spans(db: Path | None) -> ActivitySpans:
    """The detection times of the store's leads (for a period export)."""
    from loaders.store import open_published
    from yibao.leads.period import activity_spans

    settings = _settings(db=db)
    if not settings.db.exists():
        _fail(f"store {settings.db} does not exist: a period export reads the detection times "
              "from the store (give --db or YIBAO_DB)")
    with open_published(settings.db) as store:
        return activity_spans(store.con)


@leads_group.command("import", context_settings=CONTEXT,
                     short_help="导入填好的 Excel / import a filled ledger")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", required=True, help="操作人 / who makes the changes")
@_DB
@_LEADS
@_JSON
def import_command(path: Path, by: str, db: Path | None, leads_file: Path | None,
                   as_json: bool) -> None:
    """导入填好的线索台账：逐行核对（按导出时的版本检查冲突），无编号的行新增线索；通过的行一次性整体保存。

    Import a filled ledger (conflicts checked against each row's version); rows without an id
    become new leads. Every row is reported; a rejected row changes nothing; the accepted rows
    are saved together in one transaction, and if any row fails unexpectedly none is saved.
    """
    from yibao.leads.excel import import_workbook

    with _ledger(db, leads_file) as ledger:
        report = import_workbook(ledger, path, by=by)
    if as_json:
        click.echo(json.dumps({"summary": report.summary(), "failed_row": report.failed_row,
                               "rows": [asdict(r) for r in report.rows]},
                              ensure_ascii=False, indent=2))
    else:
        if report.failed_row is not None:
            err.print(f"[bold red]导入已整体撤销 / import undone[/]: row {report.failed_row} "
                      "failed, nothing was saved; fix that row and import again",
                      highlight=False)
        s = report.summary()
        err.print(f"{path}: {s['rows']} rows — updated {s['updated']}, created "
                  f"{s['created']}, unchanged {s['unchanged']}, rejected {s['rejected']}",
                  highlight=False)
        for r in report.rejected:
            err.print(f"[red]✗[/] {r}", highlight=False, soft_wrap=True)
    if report.rejected:
        raise SystemExit(1)


ANCHOR = click.option(
    "--anchor", "anchors", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
    help="锚点文件（可多次；另见 YIBAO_ANCHOR）/ anchor file with checkpoints, repeatable "
         "(YIBAO_ANCHOR is read too)")


@leads_group.command("verify", context_settings=CONTEXT,
                     short_help="核验变更记录 / check the audit chain")
@_DB
@_LEADS
@ANCHOR
def verify_command(db: Path | None, leads_file: Path | None, anchors: tuple[Path, ...]) -> None:
    """核验变更记录的密钥哈希链、与审计日志及锚点文件中检查点的一致性，以及每条线索与其变更记录是否一致。

    Check the audit trail's keyed chain (YIBAO_LEDGER_KEY), its head against the checkpoints
    in the audit log and anchor files (a deleted tail), and that every lead matches its
    history. Exit 1 when tampered with, naming the first bad event.
    """
    for anchor in anchors:
        if not anchor.exists():
            _fail(f"anchor file {anchor} does not exist: give the file checkpoints were "
                  "written to (YIBAO_ANCHOR)")
    with _ledger(db, leads_file) as ledger:
        report = ledger.verify(anchors=anchors)
    err.print(str(report), highlight=False, soft_wrap=True)
    if not report.ok:
        for problem in report.problems:
            err.print(f"[red]✗[/] {problem}", highlight=False, soft_wrap=True)
        raise SystemExit(1)
