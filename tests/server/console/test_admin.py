"""The console's admin pages: users, the area tree with boundaries, and ledger templates."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.server.console.conftest import Browser

ADMIN_PAGES = [
    "/console/admin/users",
    "/console/admin/users/{admin_id}",
    "/console/admin/areas",
    "/console/admin/areas/G1",
    "/console/admin/templates",
    "/console/admin/templates/new",
    "/console/admin/templates/visit_log/edit",
]
# An unclosed ring with too many decimals, as GIS exports often are: stored closed, rounded.
SQUARE = [[120.1400001, 30.27], [120.15, 30.27], [120.15, 30.28], [120.14, 30.28]]
CLOSED = [[120.14, 30.27], [120.15, 30.27], [120.15, 30.28], [120.14, 30.28], [120.14, 30.27]]
WRONG_LEVEL = "网格员只能分配到网格；社区工作人员应分配到社区或以上"


def field_error(html: str, message: str) -> bool:
    """The message sits next to a field, not only in the page's summary."""
    return f'<span class="error field-error">{message}</span>' in html


def area_detail(admin, code: str) -> dict:
    r = admin.get(f"/api/v1/areas/{code}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "dispatcher"])
def test_admin_pages_are_for_admins_only(browsers, make_user, admin, builtin_ledgers, role):
    area = {"grid_worker": "G1", "community_staff": "C1", "dispatcher": "S1"}[role]
    b = browsers(make_user(role, area))
    assert 'href="/console/admin/users"' not in b.get("/console/")
    for url in ADMIN_PAGES:
        html = b.get(url.format(admin_id=admin.id), status=403)
        assert "您的角色无权执行此操作" in html
    r = b.post("/console/admin/users", {"username": "sneaky", "password": "Passw0rd1",
                                        "role": "admin"})  # fmt: skip
    assert r.status_code == 403
    users = admin.get("/api/v1/users").get_json()["items"]
    assert "sneaky" not in [u["username"] for u in users]
    # The admin sees the link and every page.
    a = browsers(admin)
    assert 'href="/console/admin/users"' in a.get("/console/")
    for url in ADMIN_PAGES:
        a.get(url.format(admin_id=admin.id))


def test_department_staff_get_403_too(browsers, make_user, admin, report_catalog):
    b = browsers(make_user("department_staff", "S1", department="huanwei"))
    assert "/console/admin/" not in b.get("/console/")
    b.get("/console/admin/areas", status=403)


def test_admin_creates_a_community_staff_user_who_can_log_in(app, browsers, admin, staff):
    a = browsers(admin)
    html = a.get("/console/admin/users")
    assert staff.username in html and "社区工作人员" in html and "宝石社区" in html
    r = a.post("/console/admin/users", {"username": "li.si", "display_name": "李四",
                                        "role": "community_staff", "area": "C2",
                                        "password": "Wangge2024"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"] == "/console/admin/users"
    html = a.get("/console/admin/users?role=community_staff&area=C2")
    assert "已创建用户 li.si" in html
    assert "li.si" in html and "李四" in html and "黄龙社区" in html
    assert staff.username not in html  # filtered out: another area
    body = admin.get("/api/v1/users?area=C2").get_json()["items"]
    assert [(u["username"], u["role"]) for u in body] == [("li.si", "community_staff")]

    class NewUser:
        username, password = "li.si", "Wangge2024"

    li = Browser(app, NewUser)
    li.login()
    assert "李四" in li.get("/console/")
    # Their first login shows on the list.
    row = re.search(r"li\.si</a></td>.*?</tr>", a.get("/console/admin/users"), re.S).group(0)
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", row)


def test_a_weak_password_or_bad_area_is_refused_with_the_reason(browsers, admin):
    a = browsers(admin)
    a.get("/console/admin/users")
    r = a.post("/console/admin/users", {"username": "zhao.liu", "role": "grid_worker",
                                        "area": "G1", "password": "abcdefgh"})  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert field_error(html, "密码需同时包含字母和数字")
    assert 'value="zhao.liu"' in html  # what was typed stays in the form
    r = a.post("/console/admin/users", {"username": "zhao.liu", "role": "grid_worker",
                                        "area": "C1", "password": "Wangge2024"})  # fmt: skip
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), WRONG_LEVEL)
    r = a.post("/console/admin/users", {"username": admin.username, "role": "admin",
                                        "password": "Wangge2024"})  # fmt: skip
    assert r.status_code == 409 and field_error(r.get_data(as_text=True), "该用户名已存在")
    assert admin.get("/api/v1/users?area=G1").get_json()["items"] == []


def test_admin_creates_department_staff_with_a_department(browsers, admin, report_catalog):
    a = browsers(admin)
    html = a.get("/console/admin/users")
    assert 'name="department"' in html and "环卫" in html
    sent = {"username": "hw.wang", "role": "department_staff", "area": "S1",
            "password": "Wangge2024"}  # fmt: skip
    r = a.post("/console/admin/users", sent)
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "请为职能部门人员指定所属部门")
    r = a.post("/console/admin/users", {**sent, "department": "huanwei"})
    assert r.status_code == 302
    html = a.get("/console/admin/users?role=department_staff")
    assert "hw.wang" in html and "职能部门人员" in html
    user = admin.get("/api/v1/users?role=department_staff").get_json()["items"][0]
    assert user["username"] == "hw.wang" and user["department"]["code"] == "huanwei"
    # Another role ignores the (hidden) department select instead of failing on it.
    r = a.post(f"/console/admin/users/{user['id']}", {"role": "community_staff", "area": "S1",
                                                      "department": "huanwei"})  # fmt: skip
    assert r.status_code == 302
    changed = admin.get(f"/api/v1/users/{user['id']}").get_json()
    assert changed["role"] == "community_staff" and changed["department"] is None


def test_disabling_a_user_ends_their_console_session_and_enabling_restores(browsers, admin,
                                                                          staff):  # fmt: skip
    s = browsers(staff)
    s.get("/console/")
    a = browsers(admin)
    page = a.get(f"/console/admin/users/{staff.id}")
    assert "停用账号" in page and 'data-confirm="确定停用' in page
    r = a.post(f"/console/admin/users/{staff.id}/active", {"active": "0"})
    assert r.status_code == 302
    page = a.get(f"/console/admin/users/{staff.id}")
    assert "已停用" in page and "重新启用" in page
    r = s.client.get("/console/")
    assert r.status_code == 302 and "/console/login" in r.headers["Location"]
    assert staff.get("/api/v1/auth/me").status_code in (401, 403)
    b = Browser(s.client.application, staff)
    b.get("/console/login")
    r = b.post("/console/login", {"username": staff.username, "password": staff.password})
    assert r.status_code != 302 and "该账号已停用" in r.get_data(as_text=True)

    r = a.post(f"/console/admin/users/{staff.id}/active", {"active": "1"})
    assert r.status_code == 302
    assert "已启用" in a.get(f"/console/admin/users/{staff.id}")
    b.login()
    assert b.get("/console/")
    # An admin cannot lock themselves out from here.
    a.get(f"/console/admin/users/{admin.id}")
    r = a.post(f"/console/admin/users/{admin.id}/active", {"active": "0"})
    assert r.status_code == 302
    assert "不能停用自己的账号" in a.get(f"/console/admin/users/{admin.id}")


def test_editing_a_user_and_resetting_the_password(app, browsers, admin, worker_a):
    w = browsers(worker_a)
    a = browsers(admin)
    page = f"/console/admin/users/{worker_a.id}"
    a.get(page)

    def profile(area):
        return {"display_name": "王网格", "role": "grid_worker", "area": area}

    # A new display name alone keeps the user's sessions.
    r = a.post(page, profile("G1"))
    assert r.status_code == 302
    assert "王网格" in w.get("/console/")
    r = a.post(page, profile("C1"))
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), WRONG_LEVEL)
    assert admin.get(f"/api/v1/users/{worker_a.id}").get_json()["area"]["code"] == "G1"
    r = a.post(f"/console/admin/users/{worker_a.id}/password",
               {"password": "short1", "password_again": "short1"})  # fmt: skip
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), "密码至少8位")
    r = a.post(f"/console/admin/users/{worker_a.id}/password",
               {"password": "Neuer2025x", "password_again": "Neuer2025y"})  # fmt: skip
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), "两次输入的密码不一致")
    r = a.post(f"/console/admin/users/{worker_a.id}/password",
               {"password": "Neuer2025x", "password_again": "Neuer2025x"})  # fmt: skip
    assert r.status_code == 302
    # The reset ends the old session; the new password opens a new one.
    assert w.client.get("/console/").status_code == 302
    worker_a.password = "Neuer2025x"
    Browser(app, worker_a).login()
    # Moving the worker to another grid ends their session as the API does.
    w = browsers(worker_a)
    r = a.post(page, profile("G2"))
    assert r.status_code == 302
    assert w.client.get("/console/").status_code == 302
    assert admin.get(f"/api/v1/users/{worker_a.id}").get_json()["area"]["code"] == "G2"


def test_area_tree_and_create_with_a_bad_parent(browsers, admin):
    a = browsers(admin)
    html = a.get("/console/admin/areas")
    for name in ("西湖区", "北山街道", "宝石社区", "宝石第一网格", "黄龙第一网格"):
        assert name in html
    assert "街道/镇" in html and "社区/村" in html and "未设置" in html
    r = a.post("/console/admin/areas", {"code": "G9", "name": "第九网格", "level": "grid",
                                        "parent_code": "S1"})  # fmt: skip
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True), "网格的上级必须是社区/村")
    assert admin.get("/api/v1/areas/G9").status_code == 404
    r = a.post("/console/admin/areas", {"code": "G1", "name": "重复", "level": "grid",
                                        "parent_code": "C1"})  # fmt: skip
    assert r.status_code == 409 and field_error(r.get_data(as_text=True), "该区域编码已存在")
    r = a.post("/console/admin/areas", {"code": "G9", "name": "第九网格", "level": "grid",
                                        "parent_code": "C2"})  # fmt: skip
    assert r.status_code == 302
    assert area_detail(admin, "G9")["parent_code"] == "C2"
    tree = re.search(r"<table.*?</table>", a.get("/console/admin/areas"), re.S).group(0)
    # Depth first: the new grid sits under its community, after that community's first grid.
    assert tree.index("宝石第二网格") < tree.index("黄龙社区") < tree.index("第九网格")
    assert tree.index("黄龙第一网格") < tree.index("第九网格")
    r = a.post("/console/admin/areas/G9", {"name": "黄龙第二网格"})
    assert r.status_code == 302 and area_detail(admin, "G9")["name"] == "黄龙第二网格"


def test_boundary_by_file_upload_and_by_textarea(browsers, admin):
    a = browsers(admin)
    page = a.get("/console/admin/areas/G1")
    assert "尚未设置边界" in page and "<svg" not in page
    feature = {"type": "Feature", "properties": {"name": "G1"},
               "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}  # fmt: skip
    raw = b"\xef\xbb\xbf" + json.dumps(feature).encode()  # with a byte-order mark
    r = a.post("/console/admin/areas/G1/boundary",
               {"file": (io.BytesIO(raw), "g1.geojson"), "geojson": ""},
               content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert area_detail(admin, "G1")["boundary"] == {"type": "Polygon", "coordinates": [CLOSED]}
    page = a.get("/console/admin/areas/G1")
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert '<path class="area grid" d="M' in svg and 'viewBox="0 0 320 240"' in svg
    assert "已保存「宝石第一网格」的边界" in page
    assert "已设置" in a.get("/console/admin/areas")

    moved = [[round(lon + 0.01, 6), lat] for lon, lat in CLOSED]
    r = a.post("/console/admin/areas/G2/boundary",
               {"geojson": json.dumps({"type": "Polygon", "coordinates": [moved]})})  # fmt: skip
    assert r.status_code == 302
    assert area_detail(admin, "G2")["boundary"]["coordinates"] == [moved]

    # Clearing takes the boundary away again.
    a.get("/console/admin/areas/G2")
    r = a.post("/console/admin/areas/G2/boundary", {"clear": "1", "geojson": ""})
    assert r.status_code == 302 and area_detail(admin, "G2")["boundary"] is None


@pytest.mark.parametrize(
    "sent, reason",
    [
        ({"geojson": '{"type": "Point", "coordinates": [120.1, 30.2]}'},
         "边界应为 Polygon、MultiPolygon、Feature 或 FeatureCollection 类型的 GeoJSON"),
        ({"geojson": json.dumps({"type": "Polygon", "coordinates": [[[30.27, 120.14],
                                 [30.27, 120.15], [30.28, 120.15]]]})},
         "坐标超出范围：经度应在 -180～180，纬度应在 -90～90（顺序为经度在前）"),
        ({"geojson": '{"type": "Polygon",'}, "文本不是有效的 JSON（第 1 行第 20 列）"),
        ({"file": (io.BytesIO(b"\xff\xfe{"), "g.json")}, "文件不是 UTF-8 编码的 GeoJSON 文本"),
        ({"geojson": "  "}, "请上传 .geojson / .json 文件，或粘贴 GeoJSON 文本"),
    ],
)  # fmt: skip
def test_a_bad_boundary_shows_the_reason_and_changes_nothing(browsers, admin, sent, reason):
    a = browsers(admin)
    a.get("/console/admin/areas/G1")
    a.post("/console/admin/areas/G1/boundary",
           {"geojson": json.dumps({"type": "Polygon", "coordinates": [CLOSED]})})  # fmt: skip
    before = area_detail(admin, "G1")["boundary"]
    assert before is not None
    r = a.post("/console/admin/areas/G1/boundary", sent, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and field_error(html, reason)
    assert area_detail(admin, "G1")["boundary"] == before
    # The saved boundary is still drawn, and pasted text comes back for correction.
    assert "<path" in re.search(r"<svg.*?</svg>", html, re.S).group(0)
    if "geojson" in sent and sent["geojson"].strip():
        assert "&#34;type&#34;" in html or "&quot;type&quot;" in html


ELDERLY_ROWS = {
    "code": "elderly_visits", "name": "高龄老人走访台账", "description": "80岁以上老人",
    "f-0-key": "visit_date", "f-0-label": "走访日期", "f-0-type": "date", "f-0-required": "1",
    "f-1-key": "health", "f-1-label": "身体状况", "f-1-type": "choice",
    "f-1-options": "良好，一般, 较差", "f-1-help": "由网格员判断",
    "f-2-key": "", "f-2-label": "", "f-2-type": "text", "mode": "rows",
}  # fmt: skip


def test_template_create_with_two_fields_then_entries_via_the_api(browsers, admin, worker_a):
    a = browsers(admin)
    page = a.get("/console/admin/templates/new")
    assert 'name="f-0-key"' in page and "<template data-field-row-template>" in page
    assert '<option value="multichoice"' in page and "多选" in page
    r = a.post("/console/admin/templates/new", ELDERLY_ROWS)
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    t = admin.get("/api/v1/ledgers/elderly_visits").get_json()
    assert t["version"] == 1 and t["name"] == "高龄老人走访台账"
    assert [(f["key"], f["type"], f["required"]) for f in t["fields"]] == [
        ("visit_date", "date", True), ("health", "choice", False)]  # fmt: skip
    assert [o["value"] for o in t["fields"][1]["options"]] == ["良好", "一般", "较差"]
    assert t["fields"][1]["help"] == "由网格员判断"
    data = {"visit_date": "2026-11-03", "health": "一般"}
    r = worker_a.post("/api/v1/ledgers/elderly_visits/entries", json={"area": "G1", "data": data})
    assert r.status_code == 201, r.get_json()
    r = worker_a.post("/api/v1/ledgers/elderly_visits/entries",
                      json={"area": "G1", "data": {"health": "很好"}})  # fmt: skip
    assert r.status_code == 422
    html = a.get("/console/admin/templates")
    assert "高龄老人走访台账" in html and "elderly_visits" in html and "自定义" in html


def test_template_errors_show_next_to_their_rows(browsers, admin):
    a = browsers(admin)
    a.get("/console/admin/templates/new")
    r = a.post("/console/admin/templates/new", {**ELDERLY_ROWS, "code": "Elderly"})
    assert r.status_code == 422 and field_error(
        r.get_data(as_text=True), "编码应以小写字母开头，只含小写字母、数字和下划线（2-40个）"
    )
    r = a.post("/console/admin/templates/new", {**ELDERLY_ROWS, "f-1-options": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and field_error(html, "单选、多选字段需要 options")
    # The error row follows the second field's row, and what was typed is kept.
    assert html.index('value="health"') < html.index("单选、多选字段需要 options")
    assert 'value="走访日期"' in html
    r = a.post("/console/admin/templates/new", {"code": "empty", "name": "空台账", "mode": "rows"})
    assert r.status_code == 422 and field_error(r.get_data(as_text=True), "至少需要一个字段")
    assert admin.get("/api/v1/ledgers/elderly_visits").status_code == 404


def test_editing_a_template_bumps_its_version_and_archive_hides_it(app, browsers, admin):
    a = browsers(admin)
    a.get("/console/admin/templates/new")
    assert a.post("/console/admin/templates/new", ELDERLY_ROWS).status_code == 302
    page = a.get("/console/admin/templates/elderly_visits/edit")
    assert 'name="version" value="1"' in page and 'value="health"' in page
    assert "良好\n一般\n较差" in page
    edit = {k: v for k, v in ELDERLY_ROWS.items() if k != "code"}
    edit.update({"version": "1", "name": "高龄老人走访", "f-2-key": "visitor",
                 "f-2-label": "走访人", "f-2-type": "text"})  # fmt: skip
    r = a.post("/console/admin/templates/elderly_visits/edit", edit)
    assert r.status_code == 302
    t = admin.get("/api/v1/ledgers/elderly_visits").get_json()
    assert t["version"] == 2 and t["name"] == "高龄老人走访"
    assert [f["key"] for f in t["fields"]] == ["visit_date", "health", "visitor"]
    assert "字段已更新为第 2 版" in a.get("/console/admin/templates/elderly_visits/edit")
    # The page's old version is refused instead of overwriting the newer one.
    r = a.post("/console/admin/templates/elderly_visits/edit", edit)
    assert r.status_code == 412 and "该记录已被他人修改，请刷新后重试" in r.get_data(as_text=True)
    # The JSON textarea: a key may not change its type across versions.
    fields = [*t["fields"]]
    fields[1] = {**fields[1], "type": "text"}
    r = a.post("/console/admin/templates/elderly_visits/edit",
               {"version": "2", "name": "高龄老人走访", "mode": "json",
                "fields_json": json.dumps(fields, ensure_ascii=False)})  # fmt: skip
    assert r.status_code == 422
    assert field_error(r.get_data(as_text=True),
                       "字段 health 原为“单选”，不能改为“文本”，请换一个 key")  # fmt: skip
    broken = {"version": "2", "name": "高龄老人走访", "mode": "json", "fields_json": "[{"}
    r = a.post("/console/admin/templates/elderly_visits/edit", broken)
    assert r.status_code == 422 and "JSON 格式有误" in r.get_data(as_text=True)
    fields = t["fields"][:2]
    r = a.post("/console/admin/templates/elderly_visits/edit",
               {"version": "2", "name": "高龄老人走访", "mode": "json",
                "fields_json": json.dumps(fields, ensure_ascii=False)})  # fmt: skip
    assert r.status_code == 302
    assert admin.get("/api/v1/ledgers/elderly_visits").get_json()["version"] == 3

    page = a.get("/console/admin/templates/elderly_visits/edit")
    assert 'data-confirm="确定归档台账「高龄老人走访」？"' in page
    r = a.post("/console/admin/templates/elderly_visits/archive", {"version": "3"})
    assert r.status_code == 302
    codes = [t["code"] for t in admin.get("/api/v1/ledgers").get_json()["items"]]
    assert "elderly_visits" not in codes
    html = a.get("/console/admin/templates")
    assert "已归档台账「高龄老人走访」" in html and '<span class="badge warn">已归档</span>' in html
    if "console.ledgers" in app.view_functions:  # the ledger pages may not be there yet
        assert "高龄老人走访" not in a.get("/console/ledgers")
    assert "该台账已归档，不能修改" in a.get("/console/admin/templates/elderly_visits/edit")


def test_builtin_templates_cannot_be_archived(browsers, admin, builtin_ledgers):
    a = browsers(admin)
    html = a.get("/console/admin/templates")
    assert "系统内置" in html and "走访记录台账" in html
    page = a.get("/console/admin/templates/visit_log/edit")
    assert "归档台账</button>" not in page
    r = a.post("/console/admin/templates/visit_log/archive", {"version": "1"})
    assert r.status_code == 302
    assert "系统内置台账不能删除" in a.get("/console/admin/templates/visit_log/edit")
    assert "visit_log" in [t["code"] for t in admin.get("/api/v1/ledgers").get_json()["items"]]
    # The register's own ledger is shown, not edited.
    page = a.get("/console/admin/templates/population/edit")
    assert "由居民信息自动生成" in page and 'name="f-0-key"' not in page
    renamed = {"version": "1", "name": "人口", "f-0-key": "name", "f-0-label": "姓名"}
    r = a.post("/console/admin/templates/population/edit", renamed)
    assert r.status_code == 302
    assert "该台账不能在此修改" in a.get("/console/admin/templates/population/edit")
    population = admin.get("/api/v1/ledgers/population").get_json()
    assert population["version"] == 1 and population["name"] == "实有人口台账"
