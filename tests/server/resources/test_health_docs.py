"""Health check and the offline API docs: public, and the docs load nothing from the internet."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest


class _AssetTags(HTMLParser):
    """Collects src/href of script and link tags, and inline script text."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attrs.get("src"):
                self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline.append(data)


def test_health_without_token(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "storage": "ok"}


@pytest.fixture
def fresh_app_factory(base_config, tmp_path):
    from server import create_app

    made = []

    def make(**overrides):
        app = create_app({**base_config, "DATA_DIR": str(tmp_path / "data"), **overrides})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["wangge_engine"].dispose()


def test_health_reports_broken_storage_as_503(fresh_app_factory, tmp_path):
    app = fresh_app_factory()
    tmp_dir = tmp_path / "data" / "blobs" / "tmp"
    shutil.rmtree(tmp_dir)
    tmp_dir.write_text("not a directory any more")
    r = app.test_client().get("/api/v1/health")
    assert r.status_code == 503
    err = r.get_json()["error"]
    assert err["code"] == "health.degraded" and re.search(r"[\u4e00-\u9fff]", err["message"])
    assert err["details"] == {"status": "error", "database": "ok", "storage": "error"}


def test_health_reports_unusable_database_as_503(fresh_app_factory, tmp_path):
    db_file = tmp_path / "db" / "wangge.db"
    db_file.parent.mkdir()
    app = fresh_app_factory(DATABASE_URL=f"sqlite:///{db_file}")
    # The database goes bad after start-up (disk trouble, a botched restore).
    app.extensions["wangge_engine"].dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    db_file.write_bytes(b"this is not a database file " * 200)
    r = app.test_client().get("/api/v1/health")
    assert r.status_code == 503
    details = r.get_json()["error"]["details"]
    assert details == {"status": "error", "database": "error", "storage": "ok"}
    assert "sqlite" not in r.get_data(as_text=True).lower()


def test_openapi_json_is_public_and_documents_the_api(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    spec = r.get_json()
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "Wangge 网格 API" and spec["info"]["version"] == "v1"
    paths = spec["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/areas",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/audit",
    ):
        assert path in paths, path
    assert {"get", "post"} <= set(paths["/api/v1/areas"])
    assert "patch" in paths["/api/v1/users/{user_id}"]
    # Bearer auth everywhere, except where no token is needed.
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/auth/login"]["post"]["security"] == []
    assert paths["/api/v1/auth/refresh"]["post"]["security"] == []
    assert paths["/api/v1/health"]["get"]["security"] == []
    assert "security" not in paths["/api/v1/areas"]["post"]
    # Request bodies are documented even on views wrapped by the permission check.
    body = paths["/api/v1/areas"]["post"]["requestBody"]["content"]["application/json"]
    assert "schema" in body
    login = paths["/api/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]
    assert login["schema"]
    query = {p["name"] for p in paths["/api/v1/audit"]["get"]["parameters"]}
    assert {"action", "limit", "cursor"} <= query


def test_docs_page_uses_only_local_assets(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    parser = _AssetTags()
    parser.feed(r.get_data(as_text=True))
    assert parser.urls, "the docs page should load Swagger UI assets"
    for url in parser.urls:
        assert not re.match(r"^(https?:)?//", url), url
        assert url.startswith("/api/v1/docs/assets/"), url
    for script in parser.inline:
        assert "http://" not in script and "https://" not in script
    assert "/api/v1/openapi.json" in "".join(parser.inline)

    scripts = [u for u in parser.urls if u.endswith(".js")]
    assert any("swagger-ui-bundle" in u for u in scripts)
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.data) > 1000
        if url.endswith(".js"):
            assert asset.mimetype in ("text/javascript", "application/javascript")
        else:
            assert asset.mimetype == "text/css"


def test_docs_assets_cannot_escape_their_directory(client):
    r = client.get("/api/v1/docs/assets/../../../server/config.py")
    assert r.status_code == 404
    assert "error" in r.get_json()
    missing = client.get("/api/v1/docs/assets/nope.js")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
