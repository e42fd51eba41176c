"""``yibao audit``: check the workbench audit log (who revealed whom) and anchor the chains.

``verify`` checks the keyed chain of ``audit.jsonl`` (``YIBAO_AUDIT_LOG``) with the key of
``YIBAO_LEDGER_KEY`` and compares its head with the checkpoints in the anchor files
(``YIBAO_ANCHOR`` and ``--anchor``); ``checkpoint`` writes the current heads of the leads
ledger and the audit log to the audit log and an anchor file now (run it from cron to anchor
quiet periods). Exit codes: 0 intact, 1 tampered with, 2 a usage or key error.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import YibaoError

__all__ = ["audit_group"]

_ANCHOR = click.option(
    "--anchor", "anchors", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
    help="锚点文件（可多次；另见 YIBAO_ANCHOR）/ anchor file with checkpoints, repeatable "
         "(YIBAO_ANCHOR is read too)")
_DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                   help="存储文件 / store file (default: YIBAO_DB)")


@click.group("audit", context_settings=CONTEXT, short_help="审计日志 / the audit log")
def audit_group() -> None:
    """审计日志：核验谁查看了谁的完整信息的记录未被删改，并为台账和日志写入锚点。

    The audit log: check that the record of who revealed whom was not altered, and anchor
    the ledger's and the log's heads.
    """


@audit_group.command("verify", context_settings=CONTEXT,
                     short_help="核验审计日志 / check the audit log")
@click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="审计日志 / audit log (default: YIBAO_AUDIT_LOG or "
              "audit.jsonl beside the store)")
@_ANCHOR
@_DB
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print JSON")
def verify_command(log_file: Path | None, anchors: tuple[Path, ...], db: Path | None,
                   as_json: bool) -> None:
    """核验审计日志的密钥哈希链（删除、插入、调序、改动），并与锚点文件中的检查点比对（删除末尾）。

    Check the audit log's keyed chain (a line deleted, inserted, reordered or edited, even with
    hashes recomputed) and its head against the anchor files' checkpoints (the last lines
    deleted). Lines written before keyed chaining are reported as an unkeyed legacy segment.
    """
    from yibao.leads.seal import load_key, verify_log

    settings = _settings(db=db, audit_log=log_file)
    for anchor in anchors:
        if not anchor.exists():
            _fail(f"anchor file {anchor} does not exist: give the file checkpoints were "
                  "written to (YIBAO_ANCHOR)")
    path = settings.audit_path
    if not path.exists():
        _fail(f"audit log {path} does not exist: give --log or set YIBAO_AUDIT_LOG")
    listed = [*anchors, *([settings.anchor_file] if settings.anchor_file else [])]
    try:
        report = verify_log(path, load_key(settings.key_path, create=False), anchors=listed)
    except YibaoError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps({**asdict(report), "ok": report.ok}, ensure_ascii=False,
                              indent=2))
    else:
        err.print(str(report), highlight=False, soft_wrap=True)
        for problem in report.problems:
            err.print(f"[red]✗[/] {problem}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise SystemExit(1)


@audit_group.command("checkpoint", context_settings=CONTEXT,
                     short_help="写入锚点 / anchor the heads now")
@click.option("--anchor", "anchor", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="锚点文件 / anchor file to append to (default: YIBAO_ANCHOR)")
@_DB
def checkpoint_command(anchor: Path | None, db: Path | None) -> None:
    """把线索台账和审计日志当前的末尾（序号与 MAC）写入审计日志和锚点文件。

    Write the current heads (sequence number and MAC) of the leads ledger and the audit log to
    the audit log and the anchor file. Keep the anchor file on another machine or share.
    """
    from dataclasses import replace

    from yibao.leads.seal import SealOptions, checkpoint_ledger, load_key
    from yibao.stores import open_ledger

    settings = _settings(db=db)
    seal = SealOptions.from_settings(settings)
    if anchor is not None:
        seal = replace(seal, anchor_path=anchor)
    if seal.anchor_path is None:
        _fail("no anchor file: give --anchor FILE or set YIBAO_ANCHOR")
    try:
        key = load_key(seal.key_path, create=True)
        assert key is not None
        with open_ledger(settings) as ledger:
            events = ledger.events()
            target = ledger.target
        seq, head = (events[-1].seq, events[-1].hash) if events else (0, "0" * 64)
        checkpoint_ledger(seal, key, target, seq, head)
    except YibaoError as exc:
        _fail(str(exc))
    err.print(f"锚点已写入 / anchored {target} at event #{seq} and {seal.audit_path} in "
              f"{seal.anchor_path}", highlight=False, soft_wrap=True)
