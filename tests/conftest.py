"""Shared fixtures: a real database (SQLite or PostgreSQL), the app, and factories."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.registry.idnumber import check_digit

pytest_plugins = ["tests.plugins.s3", "tests.plugins.redis", "tests.plugins.reports"]

TEST_PII_KEY = "0" * 63 + "1"
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_report_header(config):
    kind = "postgresql" if os.environ.get("WANGGE_TEST_DATABASE_URL") else "sqlite"
    return f"wangge database: {kind}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """PostgreSQL when the test command started one, otherwise a SQLite file in WAL mode."""
    url = os.environ.get("WANGGE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'wangge.db'}"


@pytest.fixture(scope="session")
def base_config(tmp_path_factory, database_url) -> dict:
    return {
        "DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-0123456789-abcdefghijklmnop",
        "PII_KEY": TEST_PII_KEY,
        "STORAGE": "local",
        "TESTING": True,
    }


@pytest.fixture(scope="session")
def _schema(base_config):
    """Run the real Alembic migrations once per session, as init-db does."""
    from server import create_app
    from server.migrate import upgrade

    app = create_app(base_config)
    engine = app.extensions["wangge_engine"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    upgrade(engine)
    return app


@pytest.fixture(scope="session")
def app(_schema):
    return _schema


def _wipe(engine) -> None:
    from server.models import metadata

    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts from an empty database (only when the test uses the app)."""
    yield
    if "app" in request.fixturenames or "_schema" in request.fixturenames:
        _wipe(request.getfixturevalue("_schema").extensions["wangge_engine"])


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    session = app.extensions["wangge_sessionmaker"]()
    yield session
    session.rollback()
    session.close()


def make_id_number(
    birth: date | None = None, sex: str = "男", region: str = "110101", seq: int | None = None
) -> str:
    """A valid GB 11643 number for the given birth date and sex."""
    birth = birth or date(
        1980 + random.randint(0, 30), random.randint(1, 12), random.randint(1, 28)
    )
    seq = seq if seq is not None else random.randint(0, 99)
    order = seq * 10 + (
        random.choice([1, 3, 5, 7, 9]) if sex == "男" else random.choice([0, 2, 4, 6, 8])
    )
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


@pytest.fixture
def id_number():
    return make_id_number


@dataclass
class ApiUser:
    """A logged-in user driving the API over the test client, like the field app does."""

    client: object
    username: str
    password: str
    role: str
    area: str | None
    token: str
    refresh_token: str
    id: int

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url, headers=None, **kw):
        return self.client.post(url, headers=self._headers(headers), **kw)

    def patch(self, url, headers=None, **kw):
        return self.client.patch(url, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete(url, headers=self._headers(headers), **kw)


@pytest.fixture
def tree(app):
    """district → street → community → grids A and B, plus a second community with grid C."""
    from ledger.areas.operations import create_area

    session = app.extensions["wangge_sessionmaker"]()
    for code, name, level, parent in [
        ("D1", "西湖区", "district", None),
        ("S1", "北山街道", "street", "D1"),
        ("C1", "宝石社区", "community", "S1"),
        ("G1", "宝石第一网格", "grid", "C1"),
        ("G2", "宝石第二网格", "grid", "C1"),
        ("C2", "黄龙社区", "community", "S1"),
        ("G3", "黄龙第一网格", "grid", "C2"),
    ]:
        create_area(session, code=code, name=name, level=level, parent_code=parent)
    session.commit()
    session.close()
    return {
        "district": "D1",
        "street": "S1",
        "community": "C1",
        "grid_a": "G1",
        "grid_b": "G2",
        "other_community": "C2",
        "grid_c": "G3",
    }


@pytest.fixture
def make_user(app, client):
    """Factory: create an account directly, then log in through the real API."""
    from ledger.accounts.operations import create_user
    from server.auth.passwords import hash_password

    def _make(role: str = "grid_worker", area: str | None = None, username: str | None = None,
              department: str | None = None):  # fmt: skip
        username = username or f"{role}-{uuid.uuid4().hex[:8]}"
        password = "Passw0rd-" + uuid.uuid4().hex[:6]
        session = app.extensions["wangge_sessionmaker"]()
        user = create_user(
            session,
            None,
            username=username,
            password_hash=hash_password(password),
            role=role,
            area=area,
            department=department,
        )
        user_id = user.id
        session.commit()
        session.close()
        r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        return ApiUser(
            client,
            username,
            password,
            role,
            area,
            body["access_token"],
            body["refresh_token"],
            user_id,
        )

    return _make


@pytest.fixture
def worker_a(make_user, tree):
    return make_user("grid_worker", tree["grid_a"])


@pytest.fixture
def worker_b(make_user, tree):
    return make_user("grid_worker", tree["grid_b"])


@pytest.fixture
def staff(make_user, tree):
    return make_user("community_staff", tree["community"])


@pytest.fixture
def admin(make_user, tree):
    return make_user("admin", None)


@pytest.fixture
def dispatcher(make_user, tree):
    return make_user("dispatcher", tree["street"])


@pytest.fixture
def make_person(worker_a, id_number):
    """Factory: register a person through the API as grid worker A (or a given user)."""

    def _make(user=None, **fields):
        user = user or worker_a
        body = {"name": "张三", "area": user.area, "id_number": id_number(), **fields}
        r = user.post("/api/v1/people", json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return _make


@pytest.fixture
def builtin_ledgers(app):
    """The built-in ledgers, installed as init-db installs them."""
    from ledger.ledgers.builtin import install_in

    with app.extensions["wangge_sessionmaker"]() as session:
        added = install_in(session)
        session.commit()
    return added


@pytest.fixture
def report_catalog(app):
    """The default departments and report categories, installed as init-db installs them."""
    from ledger.reports.categories import install_defaults

    with app.extensions["wangge_sessionmaker"]() as session:
        added = install_defaults(session)
        session.commit()
    return added
