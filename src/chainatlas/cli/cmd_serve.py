"""`chainatlas serve` (the web app) and `chainatlas users …` (accounts for it)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer
from sqlalchemy.orm import Session

from chainatlas.services.accounts import auth
from chainatlas.store import db

users_app = typer.Typer(help="用户与角色管理 (users and roles)", no_args_is_help=True, rich_markup_mode=None)


def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址 (address to listen on)"),
    port: int = typer.Option(8000, help="端口 (port)"),
    workers: int = typer.Option(1, min=1, help="工作进程数，多核服务器可设为核数 (worker processes)"),
) -> None:
    """启动网页服务 (start the web app)."""
    import uvicorn

    from chainatlas import config

    db.migrate()
    config.secret_key()  # create the key file once, before several workers could race to create it
    typer.echo(f"链图 ChainAtlas 网页服务：http://{host}:{port}/  (Ctrl+C 停止)")
    uvicorn.run("chainatlas.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                # the app reads X-Forwarded-For itself, from CHAINATLAS_TRUSTED_PROXIES only (web/security.py)
                log_level="info", proxy_headers=False)


def users_add(
    name: str = typer.Argument(..., help="用户名 (username)"),
    role: str = typer.Option("analyst", help="角色 admin/analyst/viewer/leader (role)"),
    display_name: str = typer.Option("", help="显示名称 (display name)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取密码，供脚本使用 (read the password from stdin)"),
) -> None:
    """添加用户 (add a user); 密码不回显，需输入两次 (password asked twice, hidden)."""
    password = _password(password_stdin)

    def work(s: Session) -> str:
        user = auth.create_user(s, name, password, role, display_name=display_name, by_user="cli")
        return f"已添加用户 {user.username}（{user.role_zh}）"

    _change(work)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=True)


def _change(work: Callable[[Session], str]) -> None:
    """One account change in a transaction; a refusal prints Chinese and exits 2."""
    db.migrate()
    try:
        with db.session_scope() as session:
            done = work(session)
    except auth.AuthError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(done)


def users_unlock(name: str = typer.Argument(..., help="用户名 (username)")) -> None:
    """解除登录限制：清除该用户的全部失败登录记录 (clear the user's failed logins)."""
    _change(lambda s: f"已清除用户 {name} 的 {auth.unlock(s, name, by_user='cli')} 次失败登录记录，可立即登录。")


def users_reset_password(
    name: str = typer.Argument(..., help="用户名 (username)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取新密码 (read it from stdin)"),
) -> None:
    """重置密码 (reset a password)：结束该用户的全部会话并解除登录限制。"""
    password = _password(password_stdin)

    def work(s: Session) -> str:
        auth.set_password(s, name, password, by_user="cli")
        return f"已重置用户 {name} 的密码；其已登录的会话全部失效。"

    _change(work)


def users_deactivate(name: str = typer.Argument(..., help="用户名 (username)")) -> None:
    """停用账号 (deactivate)：不能再登录，已登录的会话立即失效；不能停用最后一个管理员。"""
    _change(lambda s: f"已停用用户 {auth.set_active(s, name, False, by_user='cli').username}，其会话全部失效。")


def users_list() -> None:
    """列出用户 (list users)."""
    db.migrate()
    with db.session_scope() as session:
        rows = auth.list_users(session)
    if not rows:
        typer.echo("尚无用户。请运行：chainatlas users add NAME --role admin")
        return
    for u in rows:
        typer.echo(f"{u.username}\t{u.role}（{u.role_zh}）\t{'启用' if u.active else '停用'}\t{u.display_name}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    users_app.command("add")(users_add)
    users_app.command("list")(users_list)
    users_app.command("unlock")(users_unlock)
    users_app.command("reset-password")(users_reset_password)
    users_app.command("deactivate")(users_deactivate)
    app.add_typer(users_app, name="users")
