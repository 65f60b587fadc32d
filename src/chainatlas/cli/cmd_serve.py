"""`chainatlas serve` (the web app) and `chainatlas users …` (accounts for it)."""

from __future__ import annotations

import sys

import typer

from chainatlas.services import accounts
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
                log_level="info", proxy_headers=True)


def users_add(
    name: str = typer.Argument(..., help="用户名 (username)"),
    role: str = typer.Option("analyst", help="角色 admin/analyst/viewer/leader (role)"),
    display_name: str = typer.Option("", help="显示名称 (display name)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取密码，供脚本使用 (read the password from stdin)"),
) -> None:
    """添加用户 (add a user); 密码不回显，需输入两次 (password asked twice, hidden)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=True)
    db.migrate()
    try:
        with db.session_scope() as session:
            user = accounts.create_user(session, name, password, role, display_name=display_name, by_user="cli")
    except accounts.AuthError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"已添加用户 {user.username}（{user.role_zh}）")


def users_list() -> None:
    """列出用户 (list users)."""
    db.migrate()
    with db.session_scope() as session:
        rows = accounts.list_users(session)
    if not rows:
        typer.echo("尚无用户。请运行：chainatlas users add NAME --role admin")
        return
    for u in rows:
        typer.echo(f"{u.username}\t{u.role}（{u.role_zh}）\t{'启用' if u.active else '停用'}\t{u.display_name}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    users_app.command("add")(users_add)
    users_app.command("list")(users_list)
    app.add_typer(users_app, name="users")
