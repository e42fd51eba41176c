"""``yibao workbench`` (start the Streamlit workbench) and ``yibao user`` (manage its users)."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import YibaoError

__all__ = ["streamlit_command", "user_group", "workbench_command"]

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"

MAX_UPLOAD_MB = 50
"""The largest file the workbench accepts (megabytes; Streamlit's default is 200): a filled
ledger of tens of thousands of leads or an inspector roster is a few megabytes. The same value
is in ``.streamlit/config.toml`` for ``streamlit run dashboards/app.py`` from the repository."""


@click.command("workbench", context_settings=CONTEXT,
               short_help="启动工作台 / start the workbench")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="内置存储文件 / the embedded store (default: YIBAO_DB)")
@click.option("--users", type=click.Path(dir_okay=False, path_type=Path),
              help="用户文件 / the user file (default: YIBAO_USERS or users.toml beside the store)")
@click.option("--port", default=8501, show_default=True, type=int, help="端口 / port")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="监听地址 / address to listen on")
def workbench_command(db: Path | None, users: Path | None, port: int, address: str) -> None:
    """启动 Streamlit 工作台（浏览器打开 http://ADDRESS:PORT）。

    Start the Streamlit workbench on the store (open http://ADDRESS:PORT in a browser). Create
    users first with 'yibao user add'.
    """
    settings = _settings(db=db, users_file=users)
    if not settings.db.exists():
        _fail(f"no store at {settings.db}: run 'yibao demo' or 'yibao load' first")
    _publish_if_never(settings.db)
    env = {**os.environ, "YIBAO_DB": str(settings.db.resolve()),
           "YIBAO_USERS": str(settings.users_path.resolve()),
           "YIBAO_AUDIT_LOG": str(settings.audit_path.resolve()),
           "YIBAO_SIGNIN_STATE": str(settings.signin_state_path.resolve())}
    err.print(f"工作台 / workbench: http://{address}:{port}  (store {settings.db}, "
              f"users {settings.users_path})", highlight=False)
    cmd = streamlit_command(address=address, port=port)
    sys.stdout.flush()
    sys.stderr.flush()
    # Streamlit replaces this process: a SIGTERM or Ctrl-C reaches the server itself, and no
    # parent can die leaving a server behind
    os.execve(sys.executable, cmd, env)


def _publish_if_never(db: Path) -> None:
    """Publish a snapshot of a store that was never published (a store loaded by an older
    yibao), so the workbench does not hold the store itself and loads can run beside it."""
    from loaders.snapshots import current_snapshot, publish_snapshot
    from loaders.store import open_store

    try:
        if current_snapshot(db) is not None:
            return
        with open_store(db) as store:
            publish_snapshot(store, reason="workbench")
    except YibaoError as exc:
        err.print(f"[yellow]注意 / note:[/] {exc}. The workbench reads the store itself until "
                  "the next 'yibao load' or 'yibao detect' publishes it.", highlight=False)


def streamlit_command(*, address: str, port: int) -> list[str]:
    """The command line that serves the workbench (``sys.executable -m streamlit run ...``).

    Everything the workbench needs is an option here, not only in the repository's
    ``.streamlit/config.toml`` (which Streamlit reads only when started from the repository
    root): headless, the upload limit, no usage statistics, the minimal toolbar, and
    ``client.showErrorDetails``
    ``none``, so an unexpected failure shows a generic message in the browser while its
    traceback (with the server's paths) goes to the server's log only. (Streamlit 1.67 takes
    ``full``, ``stacktrace``, ``type`` or ``none``; the old ``false`` means ``none``.)
    """
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
            "--server.address", address, "--server.port", str(port),
            "--server.maxUploadSize", str(MAX_UPLOAD_MB), "--browser.gatherUsageStats", "false",
            "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal"]


@click.group("user", context_settings=CONTEXT, short_help="工作台用户 / workbench users")
def user_group() -> None:
    """管理工作台用户（角色：investigator 调查员 / leadership 领导）。

    Manage workbench users in the user file (YIBAO_USERS, default users.toml beside the store).
    """


@user_group.command("add", context_settings=CONTEXT)
@click.argument("username")
@click.option("--role", type=click.Choice(["investigator", "leadership"]), required=True,
              help="investigator 可查看明细（审计）/ may unmask (audited); leadership 始终脱敏 / "
                   "always masked")
@click.option("--name", "display_name", help="显示名 / display name")
@click.option("--email", help="单位 OIDC 登录邮箱 / e-mail for the organisation's OIDC sign-in")
@click.option("--password-stdin", is_flag=True,
              help="从标准输入读取密码 / read the password from stdin")
@click.option("--no-password", is_flag=True, help="仅 OIDC 登录 / OIDC sign-in only")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="内置存储（用户文件默认在其旁）/ the store (the user file sits beside it)")
@click.option("--users", type=click.Path(dir_okay=False, path_type=Path),
              help="用户文件 / the user file")
def user_add(username: str, role: str, display_name: str | None, email: str | None,
             password_stdin: bool, no_password: bool, db: Path | None,
             users: Path | None) -> None:
    """添加或更新用户（密码以 scrypt 哈希保存）。Add or replace a user (scrypt-hashed)."""
    from dashboards.auth import add_user

    settings = _settings(db=db, users_file=users)
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not no_password:
        password = getpass.getpass("密码 / password: ")
        if getpass.getpass("再次输入 / again: ") != password:
            _fail("the two passwords differ")
    try:
        user = add_user(settings.users_path, username, role=role, password=password,
                        display_name=display_name, email=email)
    except YibaoError as exc:
        _fail(str(exc))
    err.print(f"用户 / user {user.username} ({user.role}) → {settings.users_path}",
              highlight=False)


@user_group.command("list", context_settings=CONTEXT)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--users", type=click.Path(dir_okay=False, path_type=Path))
def user_list(db: Path | None, users: Path | None) -> None:
    """列出用户 / list users (never their hashes)."""
    from dashboards.auth import read_users

    settings = _settings(db=db, users_file=users)
    try:
        for u in read_users(settings.users_path):
            click.echo(f"{u.username}\t{u.role}\t{u.display_name}\t{u.email or ''}")
    except YibaoError as exc:
        _fail(str(exc))


def _operator() -> str:
    """Who runs this command (the operating-system account), for the audit log."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name known (a container without a passwd entry)
        return f"uid {os.getuid()}"


@user_group.command("unlock", context_settings=CONTEXT)
@click.argument("username")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="内置存储（用户文件默认在其旁）/ the store (the user file sits beside it)")
@click.option("--users", type=click.Path(dir_okay=False, path_type=Path),
              help="用户文件（登录状态文件在其旁）/ the user file (the sign-in state sits "
                   "beside it)")
@click.option("--audit", "audit_log", type=click.Path(dir_okay=False, path_type=Path),
              help="审计日志 / the audit log (default: YIBAO_AUDIT_LOG or audit.jsonl beside the "
                   "store)")
def user_unlock(username: str, db: Path | None, users: Path | None,
                audit_log: Path | None) -> None:
    """解除登录锁定（多次登录失败后），并清除其失败记录；写入审计日志。

    Lift the lock that repeated failed sign-ins put on USERNAME and forget its failures
    (written to the audit log). 'yibao user locks' lists the locked names.
    """
    from dashboards.audit import append_audit
    from dashboards.sign_in_limit import throttle_from_settings

    settings = _settings(db=db, users_file=users, audit_log=audit_log)
    throttle = throttle_from_settings(settings)
    try:
        was_locked = any(lock.username == username for lock in throttle.locks())
    except YibaoError as exc:
        _fail(str(exc))
    try:  # audited first: an unlock the log cannot record does not happen
        append_audit(settings.audit_path, user=_operator(), role="administrator",
                     action="sign_in_unlock", subject_kind="user", subject=username,
                     context="yibao user unlock" + ("" if was_locked else " (was not locked)"))
    except (OSError, YibaoError) as exc:
        _fail(f"{username} was not unlocked: the audit log {settings.audit_path} cannot be "
              f"written ({exc}). Make it writable, or give another with --audit or "
              "YIBAO_AUDIT_LOG")
    try:
        throttle.unlock(username)
    except YibaoError as exc:
        _fail(str(exc))
    if was_locked:
        err.print(f"已解锁 / unlocked: {username}", highlight=False)
    else:
        err.print(f"{username} 未被锁定，已清除其失败记录 / was not locked; its failed sign-ins "
                  "are forgotten", highlight=False)


@user_group.command("locks", context_settings=CONTEXT)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--users", type=click.Path(dir_okay=False, path_type=Path))
def user_locks(db: Path | None, users: Path | None) -> None:
    """列出被锁定的用户名 / list user names locked by failed sign-ins (name, since (UTC),
    failures, address)."""
    from dashboards.sign_in_limit import throttle_from_settings

    settings = _settings(db=db, users_file=users)
    try:
        locks = throttle_from_settings(settings).locks()
    except YibaoError as exc:
        _fail(str(exc))
    for lock in locks:
        since = datetime.fromtimestamp(lock.at, UTC).isoformat(timespec="seconds")
        click.echo(f"{lock.username}\t{since}\t{lock.failures}\t{lock.address or ''}")
