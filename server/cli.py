"""Flask CLI: init-db, user create, seed-demo, sync purge (speech in speech_cli, worker in jobs)."""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.accounts import operations as accounts
from ledger.accounts.models import ROLES, User
from ledger.areas import operations as areas
from ledger.areas.models import Area
from ledger.errors import LedgerError
from server.auth.passwords import hash_password, password_problems

user_cli = AppGroup("user", help="Manage user accounts.")
sync_cli = AppGroup("sync", help="Maintain the offline sync change log.")

DEMO_AREAS = [
    ("330106", "西湖区", "district", None),
    ("330106001", "北山街道", "street", "330106"),
    ("330106001001", "宝石社区", "community", "330106001"),
    ("330106001001001", "宝石社区第一网格", "grid", "330106001001"),
    ("330106001001002", "宝石社区第二网格", "grid", "330106001001"),
]
# Demo outlines around 宝石社区 (Hangzhou) so the console's map has something to draw.
DEMO_BOUNDARIES = {
    "330106001001": [[120.1510, 30.2715], [120.1590, 30.2715], [120.1590, 30.2770],
                     [120.1510, 30.2770]],
    "330106001001001": [[120.1510, 30.2715], [120.1552, 30.2715], [120.1552, 30.2770],
                        [120.1510, 30.2770]],
    "330106001001002": [[120.1552, 30.2715], [120.1590, 30.2715], [120.1590, 30.2770],
                        [120.1552, 30.2770]],
}  # fmt: skip
DEMO_USERS = [
    ("admin", "admin", None, "系统管理员"),
    ("staff", "community_staff", "330106001001", "社区工作人员"),
    ("dispatcher", "dispatcher", "330106001", "街道调度员"),
    ("worker1", "grid_worker", "330106001001001", "第一网格网格员"),
    ("worker2", "grid_worker", "330106001001002", "第二网格网格员"),
    ("chengguan", "department_staff", "330106", "区城管执法人员"),
]
# Department staff accounts and the department each works for.
DEMO_DEPARTMENTS = {"chengguan": "chengguan"}


def _session() -> Session:
    return current_app.extensions["wangge_sessionmaker"]()


def _demo_password() -> str:
    # Demo accounts follow the same strength rule as real ones (letters and digits).
    while True:
        password = "Wg-" + secrets.token_urlsafe(9)
        if not password_problems(password):
            return password


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (safe to re-run)."""
    from ledger.ledgers.builtin import install_in
    from ledger.reports.categories import install_defaults
    from server.migrate import upgrade

    upgrade(current_app.extensions["wangge_engine"])
    with _session() as session:
        added = install_in(session)
        catalog = install_defaults(session)
        session.commit()
    click.echo("数据库已就绪 (schema at head)")
    if added:
        click.echo("已安装内置台账：" + "、".join(added))
    if any(catalog.values()):
        click.echo(
            f"已安装默认部门 {catalog['departments']} 个、事件类型 {catalog['categories']} 个"
        )


@user_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--area", "area_code", default=None, help="Area code the user is assigned to.")
@click.option("--display-name", default=None)
def user_create(username, password, role, area_code, display_name) -> None:
    """Create a user account."""
    problems = password_problems(password)
    if problems:
        raise click.ClickException("；".join(problems))
    with _session() as session:
        try:
            user = accounts.create_user(
                session,
                None,
                username=username,
                password_hash=hash_password(password),
                role=role,
                area=area_code,
                display_name=display_name,
            )
        except LedgerError as exc:
            raise click.ClickException(f"{exc.message} {exc.details or ''}".strip()) from None
        session.commit()
        click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create a demo district → street → community → grids tree and one user per role."""
    from ledger.reports.categories import install_defaults

    with _session() as session:
        install_defaults(session)
        for code, name, level, parent in DEMO_AREAS:
            if session.scalar(select(Area.id).where(Area.code == code)) is None:
                areas.create_area(session, code=code, name=name, level=level, parent_code=parent)
        for code, ring in DEMO_BOUNDARIES.items():
            if areas.get_area_by_code(session, code).boundary is None:
                boundary = {"type": "Polygon", "coordinates": [ring]}
                areas.update_area(session, None, code, boundary=boundary)
        rows = []
        for username, role, area_code, display_name in DEMO_USERS:
            password = _demo_password()
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                accounts.create_user(
                    session,
                    None,
                    username=username,
                    password_hash=hash_password(password),
                    role=role,
                    area=area_code,
                    display_name=display_name,
                    department=DEMO_DEPARTMENTS.get(username),
                )
            else:
                # Re-seeding hands out fresh passwords, since the old ones were never stored.
                user.password_hash = hash_password(password)
            rows.append((username, password, role, area_code or "-"))
        session.commit()
    click.echo("演示数据已创建 / demo data ready:")
    click.echo(f"{'username':<12} {'password':<16} {'role':<16} area")
    for username, password, role, area_code in rows:
        click.echo(f"{username:<12} {password:<16} {role:<16} {area_code}")


@sync_cli.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=180,
    show_default=True,
    help="Keep tombstones this many days; devices offline longer re-download.",
)
@with_appcontext
def sync_purge(days: int) -> None:
    """Drop tombstones older than --days; older cursors then re-download in full."""
    import time

    from sync.purge import purge_tombstones

    session = _session()
    try:
        before_ms = time.time_ns() // 1_000_000 - days * 86_400_000
        result = purge_tombstones(session, before_ms)
        session.commit()
    finally:
        session.close()
    click.echo(
        f"已清理 {result['changes']} 条删除/迁出记录、{result['remaps']} 条编号合并记录 "
        f"(floor_seq={result['floor_seq']}, floor_ms={result['floor_ms']})"
    )


open311_cli = AppGroup("open311", help="API keys for Open311 clients and the 12345 hotline.")


@open311_cli.command("create-key")
@click.option("--name", required=True, help="Who uses the key, e.g. 12345-hotline.")
@click.option("--area", "area_code", required=True, help="Area its reports belong to.")
@click.option("--source", type=click.Choice(["open311", "hotline_12345"]), default="open311",
              show_default=True)  # fmt: skip
def open311_create_key(name: str, area_code: str, source: str) -> None:
    """Make an API key (printed once; only its hash is stored)."""
    from ledger.reports.api_clients import create_client

    with _session() as session:
        try:
            client, key = create_client(session, name=name, area=area_code, source=source)
        except LedgerError as exc:
            raise click.ClickException(f"{exc.message} {exc.details or ''}".strip()) from None
        session.commit()
        click.echo(f"接入系统 {client.name}（{source}，区域 {area_code}）的 API key：")
    click.echo(key)


@open311_cli.command("revoke-key")
@click.option("--name", required=True)
def open311_revoke_key(name: str) -> None:
    """Stop a client's key from working."""
    from ledger.reports.api_clients import revoke_client

    with _session() as session:
        try:
            revoke_client(session, name)
        except LedgerError as exc:
            raise click.ClickException(exc.message) from None
        session.commit()
    click.echo(f"已停用 {name} 的 API key")


def register_cli(app: Flask) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(user_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(open311_cli)

    from server.jobs.worker import worker_command
    from server.speech_cli import speech_cli

    app.cli.add_command(worker_command)

    app.cli.add_command(speech_cli)
