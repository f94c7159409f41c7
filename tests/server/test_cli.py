"""The flask CLI run for real: init-db, user create, seed-demo, and generated secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.accounts.models import User
from tests.conftest import ROOT


def run_cli(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env["WANGGE_DATA_DIR"] = str(data_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One data dir taken through init-db (twice) and seed-demo by real subprocesses."""
    data_dir = tmp_path_factory.mktemp("cli") / "instance"
    outputs = [run_cli(data_dir, "init-db")]
    secrets = {name: (data_dir / name).read_text() for name in ("secret_key", "pii_key")}
    outputs.append(run_cli(data_dir, "init-db"))
    outputs.append(run_cli(data_dir, "seed-demo"))
    return {"dir": data_dir, "outputs": outputs, "first_secrets": secrets}


@pytest.fixture
def cli_app(monkeypatch):
    """Factory: an app on a CLI data dir (default SQLite, secrets read from the dir)."""
    from server import create_app

    for name in list(os.environ):
        if name.startswith("WANGGE_"):
            monkeypatch.delenv(name)
    made = []

    def make(data_dir: Path):
        app = create_app({"DATA_DIR": str(data_dir)})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["wangge_engine"].dispose()


def login(app, username: str, password: str):
    return app.test_client().post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


def parse_credentials(stdout: str) -> dict[str, tuple[str, str, str]]:
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["username", "password"])
    creds = {}
    for line in lines[header + 1 :]:
        parts = line.split()
        if len(parts) == 4:
            username, password, role, area = parts
            creds[username] = (password, role, area)
    return creds


def test_init_db_creates_schema_and_is_safe_to_rerun(seeded, cli_app):
    first, second = seeded["outputs"][:2]
    assert "数据库已就绪" in first.stdout and "数据库已就绪" in second.stdout
    # No WANGGE_DATABASE_URL: the default SQLite file lives in the data dir.
    assert (seeded["dir"] / "wangge.db").is_file()

    from sqlalchemy import inspect

    app = cli_app(seeded["dir"])
    tables = set(inspect(app.extensions["wangge_engine"]).get_table_names())
    assert {"users", "areas", "audit_log", "auth_sessions", "refresh_tokens"} <= tables
    assert "alembic_version" in tables
    assert app.test_client().get("/api/v1/health").get_json()["database"] == "ok"
    # The built-in ledgers arrive with the first run only.
    assert "已安装内置台账：population" in first.stdout and "内置台账" not in second.stdout
    from ledger.ledgers.models import LedgerTemplate

    with app.extensions["wangge_sessionmaker"]() as session:
        codes = set(session.scalars(select(LedgerTemplate.code)))
    assert {"population", "visit_log", "hazards"} <= codes


def test_secrets_are_generated_once_private_and_never_printed(seeded):
    data_dir = seeded["dir"]
    for name, first in seeded["first_secrets"].items():
        path = data_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        # Later runs (init-db again, seed-demo) reused the value made by the first run.
        assert path.read_text() == first
        assert len(first.strip()) >= 32
    values = [v.strip() for v in seeded["first_secrets"].values()]
    assert values[0] != values[1]
    for proc in seeded["outputs"]:
        for value in values:
            assert value not in proc.stdout and value not in proc.stderr


def test_seed_demo_creates_tree_and_one_login_per_role(seeded, cli_app):
    proc = seeded["outputs"][2]
    creds = parse_credentials(proc.stdout)
    roles = {role for _, role, _ in creds.values()}
    assert roles == {"admin", "community_staff", "dispatcher", "grid_worker", "department_staff"}

    app = cli_app(seeded["dir"])
    client = app.test_client()
    tokens = {}
    for username, (password, role, area) in creds.items():
        r = login(app, username, password)
        assert r.status_code == 200, (username, r.get_json())
        user = r.get_json()["user"]
        assert user["role"] == role
        assert (user["area"] or {}).get("code", "-") == area
        tokens[role] = r.get_json()["access_token"]

    def tree(role):
        r = client.get("/api/v1/areas", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert r.status_code == 200
        return r.get_json()["items"]

    full = tree("admin")
    assert len(full) == 1 and full[0]["level"] == "district"
    street = full[0]["children"]
    assert [s["level"] for s in street] == ["street"]
    community = street[0]["children"]
    assert [c["level"] for c in community] == ["community"]
    grids = community[0]["children"]
    assert len(grids) >= 2 and {g["level"] for g in grids} == {"grid"}
    worker_tree = tree("grid_worker")
    assert len(worker_tree) == 1 and worker_tree[0]["level"] == "grid"
    assert worker_tree[0]["children"] == []
    # The demo community and its grids have outlines for the console's map.
    r = client.get("/api/v1/areas/boundaries",
                   headers={"Authorization": f"Bearer {tokens['admin']}"})  # fmt: skip
    outlined = {f["properties"]["code"]: f["geometry"]["type"] for f in r.get_json()["features"]}
    assert outlined == {
        code: "Polygon" for code in (community[0]["code"], *(g["code"] for g in grids))
    }


def test_user_create_then_login(seeded, cli_app):
    proc = run_cli(
        seeded["dir"],
        "user",
        "create",
        "--username",
        "li.si",
        "--password",
        "Grid-w0rker",
        "--role",
        "grid_worker",
        "--area",
        "330106001001002",
    )
    assert "created user li.si" in proc.stdout and "grid_worker" in proc.stdout
    assert "Grid-w0rker" not in proc.stdout
    app = cli_app(seeded["dir"])
    r = login(app, "li.si", "Grid-w0rker")
    assert r.status_code == 200, r.get_json()
    user = r.get_json()["user"]
    assert user["role"] == "grid_worker"
    assert user["area"] == {"code": "330106001001002", "name": "宝石社区第二网格", "level": "grid"}
    assert login(app, "li.si", "wrong-pass1").status_code == 401


def test_user_create_admin_without_area(seeded, cli_app):
    args = ["--username", "boss", "--password", "B0ss-pass", "--role", "admin"]
    run_cli(seeded["dir"], "user", "create", *args)
    r = login(cli_app(seeded["dir"]), "boss", "B0ss-pass")
    assert r.status_code == 200 and r.get_json()["user"]["area"] is None


def test_user_create_duplicate_fails_with_exit_code(seeded):
    args = ["--username", "admin", "--password", "Passw0rd1", "--role", "admin"]
    proc = run_cli(seeded["dir"], "user", "create", *args, check=False)
    assert proc.returncode != 0 and "该用户名已存在" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short", "--role", "admin"], "密码至少8位"),
        (["--password", "abcdefgh!", "--role", "admin"], "密码需同时包含字母和数字"),
        (["--password", "Passw0rd1", "--role", "grid_worker"], "请为该用户指定负责的区域"),
        (["--password", "Passw0rd1", "--role", "grid_worker", "--area", "NOPE"], "区域不存在"),
        (
            ["--password", "Passw0rd1", "--role", "grid_worker", "--area", "330106001001"],
            "网格员只能分配到网格",
        ),
        (["--password", "Passw0rd1", "--role", "king"], "king"),
        (["--password", "Passw0rd1"], "--role"),
    ],
)
def test_user_create_rejects_bad_input(seeded, cli_app, args, message):
    app = cli_app(seeded["dir"])
    result = app.test_cli_runner().invoke(args=["user", "create", "--username", "bad-user", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    with app.extensions["wangge_sessionmaker"]() as session:
        assert session.scalar(select(User).where(User.username == "bad-user")) is None


def test_seed_demo_rerun_issues_fresh_passwords(tmp_path, cli_app):
    app = cli_app(tmp_path / "rerun")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    first = parse_credentials(runner.invoke(args=["seed-demo"]).output)
    second = parse_credentials(runner.invoke(args=["seed-demo"]).output)
    assert set(first) == set(second) and len(first) == 6
    for username in first:
        assert first[username][0] != second[username][0]
        assert login(app, username, first[username][0]).status_code == 401
        assert login(app, username, second[username][0]).status_code == 200
    admin_token = login(app, "admin", second["admin"][0]).get_json()["access_token"]
    r = app.test_client().get("/api/v1/areas", headers={"Authorization": f"Bearer {admin_token}"})
    # Re-running did not duplicate the demo areas.
    tree = r.get_json()["items"]
    assert len(tree) == 1 and len(tree[0]["children"]) == 1


def test_demo_passwords_meet_the_password_rule(seeded):
    from server.auth.passwords import password_problems

    creds = parse_credentials(seeded["outputs"][2].stdout)
    assert creds
    for password, _, _ in creds.values():
        assert password_problems(password) == []


def test_sync_purge_reports_what_it_dropped(seeded):
    proc = run_cli(seeded["dir"], "sync", "purge", "--days", "30")
    assert "已清理 0 条删除/迁出记录" in proc.stdout
    bad = run_cli(seeded["dir"], "sync", "purge", "--days", "-1", check=False)
    assert bad.returncode != 0
