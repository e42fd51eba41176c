"""``yibao brief``: the one-page leadership briefing (领导简报) as PDF and PNG.

Reads the store (read-only) and the leads ledger of the settings (``YIBAO_LEADS``, or the
Neo4j ledger with ``YIBAO_BACKEND=neo4j``), and prints the page with Chromium
(``YIBAO_CHROMIUM``, else ``chromium`` on ``PATH``). Exit codes: 0 written, 2 a usage or input
error (a bad period or region, no store, no Chromium, Chromium failed).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import YibaoError

__all__ = ["brief_command"]


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"{option} {text!r} is not a date YYYY-MM-DD, e.g. 2024-07-01")


@click.command("brief", context_settings=CONTEXT,
               short_help="领导简报（PDF+PNG）/ one-page leadership briefing")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="已检测的存储文件 / a store on which 'yibao detect' has run (default: YIBAO_DB)")
@click.option("--period", default=None,
              help="报告期：2024 / 2024-Q3 / 2024-07（缺省：全部数据）/ period (default: all data)")
@click.option("--from", "from_day", default=None, help="期间开始 YYYY-MM-DD / first day")
@click.option("--to", "to_day", default=None, help="期间结束 YYYY-MM-DD（含）/ last day, included")
@click.option("--region", default=None,
              help="地区：省/市/县代码，如 340000（缺省：长三角全部）/ province, city or "
              "county code")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="语言 / language")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("brief.pdf"), show_default=True,
              help="PDF 输出（同名 .png 一并生成）/ PDF to write (the PNG goes beside it)")
@click.option("--keep-html", is_flag=True,
              help="保留页面 HTML（同名 .html）/ also keep the page's HTML beside the PDF")
@click.option("--leads", "leads_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="台账文件 / ledger file (default: YIBAO_LEADS or leads.sqlite "
              "beside the store)")
def brief_command(db: Path | None, period: str | None, from_day: str | None,
                  to_day: str | None, region: str | None, lang: str, out: Path,
                  keep_html: bool, leads_file: Path | None) -> None:
    """生成一页领导简报（A4，PDF 与 PNG）：总体情况、热点地图、趋势、重点团伙、违规行为统计；
    个人信息脱敏。

    Write a one-page A4 leadership briefing (PDF and PNG): headline figures, hot-spot map,
    trend, top rings and the statistics table by violation type; personal data masked.
    Without --period/--from/--to and --region it covers all the data.
    """
    from yibao.brief import parse_period, period_between, region_from_code, write_brief

    settings = _settings(db=db, leads_file=leads_file)
    if period is not None and (from_day or to_day):
        _fail("give either --period or --from/--to, not both")
    if (from_day is None) != (to_day is None):
        _fail("give both --from and --to (YYYY-MM-DD), or use --period 2024-Q3")
    start, end = _day(from_day, "--from"), _day(to_day, "--to")
    try:
        chosen = (parse_period(period) if period is not None
                  else period_between(start, end) if start and end else None)
        where = region_from_code(region)
        result = write_brief(out, settings=settings, period=chosen, region=where,
                             lang="en" if lang == "en" else "zh", keep_html=keep_html)
    except YibaoError as exc:
        _fail(str(exc))
    facts = result.facts
    err.print(f"简报 / briefing: {result.pdf}  {result.png}"
              + (f"  {result.html}" if result.html else ""), highlight=False)
    err.print(f"  {facts.period.span('zh')} · {facts.region.label('zh')} · 可疑结算 "
              f"{facts.suspicious_settlements} 笔 · 可疑基金 {facts.suspicious_fund / 1e4:,.2f} "
              f"万元 · 团伙 {facts.rings} 个 · 线索 {facts.leads.leads} 条", highlight=False)
    s = result.seconds
    err.print(f"  用时 / seconds: {s['total']:.1f} (数据 facts {s['facts']:.1f}, 页面 page "
              f"{s['page']:.1f}, Chromium PDF {s['pdf']:.1f} / PNG {s['png']:.1f}, in parallel)",
              highlight=False)
