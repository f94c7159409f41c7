"""Resident pages, households and the OCR review page of the console, through real HTTP with
the real rapidocr engine on the committed fixture photos."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from PIL import Image, ImageDraw

from tests.server.resources.test_ocr import fixture


class FormReader(HTMLParser):
    """What a browser would submit from the form posting to ``action``: inputs, selects and
    textareas with their current values (disabled and file inputs left out)."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self._select = self._textarea = None
        self.buttons = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("type") not in ("file", "submit") and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select:
            if "selected" in a or self._select not in self.values:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""
        elif tag == "button":
            self.buttons.append((a.get("name"), a.get("value")))

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_values(html: str, action: str) -> dict[str, str]:
    reader = FormReader(action)
    reader.feed(html)
    assert reader.values, f"no form posting to {action}"
    return reader.values


def masked(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


def table(html: str) -> str:
    return html[html.index("<table") : html.index("</table>")]


def upload(browser, data: bytes, kind="id_card_front", filename="card.jpg", mimetype="image/jpeg"):
    return browser.post("/console/scan", {"kind": kind, "image": (io.BytesIO(data), filename,
                                                                  mimetype)},
                        content_type="multipart/form-data")  # fmt: skip


def test_one_box_finds_by_name_id_number_or_phone_and_lists_only_masked_numbers(
    browsers, staff, make_user, make_person, id_number
):
    number = id_number()
    li = make_person(name="李秀英", id_number=number, phone="13912345678", tags=["独居老人"])
    make_person(name="王五", phone="13700001111")
    b = browsers(staff)
    page = b.get("/console/people")
    assert "查找居民" in page and "李秀英" in page and "王五" in page
    assert ">登记居民</a>" in page and ">拍照识别证件</a>" in page

    by_name = b.get("/console/people?q=李")
    assert "李秀英" in by_name and "王五" not in by_name
    assert masked(number) in by_name and "139****5678" in by_name and "宝石第一网格" in by_name
    assert number not in by_name and "13912345678" not in by_name

    r = b.client.get(f"/console/people?q={number}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert f'href="/console/people/{li["id"]}"' in html and "王五" not in html
    # The box shows what was typed; the list itself never does.
    assert number not in table(html) and masked(number) in table(html)
    # Spaces and full-width digits from a copied document still find the resident.
    spaced = " ".join(["１３９", "1234", "5678"])
    by_phone = b.get(f"/console/people?q={spaced}")
    assert "李秀英" in table(by_phone) and "王五" not in by_phone
    assert "13912345678" not in table(by_phone)

    tagged = b.get("/console/people?tag=独居老人")
    assert "李秀英" in table(tagged) and "王五" not in tagged
    assert "没有找到符合条件的居民" in b.get("/console/people?q=赵")

    # Another community's staff find nobody and cannot open the page.
    other = browsers(make_user("community_staff", "C2"))
    assert "没有找到符合条件的居民" in other.get(f"/console/people?q={number}")
    assert "李秀英" not in other.get("/console/people")
    assert "找不到该居民" in other.get(f"/console/people/{li['id']}", status=404)


def test_people_list_pages_25_at_a_time(browsers, worker_a, make_person):
    for i in range(27):
        make_person(name=f"居民{i:02d}")
    b = browsers(worker_a)
    first = b.get("/console/people")
    assert table(first).count('href="/console/people/') == 25
    next_url = re.search(r'href="([^"]*cursor=[^"]+)">下一页', first).group(1)
    second = b.get(next_url.replace("&amp;", "&"))
    assert table(second).count('href="/console/people/') == 2
    assert "居民00" in second and "居民00" not in first


def test_reveal_is_audited_uncached_and_only_for_registry_roles(
    browsers, worker_a, admin, dispatcher, make_person, id_number
):
    number = id_number()
    person = make_person(name="赵敏", id_number=number, phone="13800138000")
    url = f"/console/people/{person['id']}"
    b = browsers(worker_a)
    page = b.get(url)
    assert masked(number) in page and number not in page and "13800138000" not in page
    assert ">显示完整信息</button>" in page

    # Without the page's token nothing is revealed.
    r = b.client.post(f"{url}/reveal")
    assert r.status_code == 400 and number not in r.get_data(as_text=True)
    r = b.post(f"{url}/reveal", {})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert number in html and "13800138000" in html and "已记入审计日志" in html
    entries = admin.get("/api/v1/audit?action=person.reveal").get_json()["items"]
    assert [(e["actor"], e["object_id"]) for e in entries] == [(worker_a.username, person["id"])]
    assert number not in str(entries)

    # The page's script may ask for the numbers as JSON: also audited and uncached.
    r = b.client.post(f"{url}/reveal",
                      headers={"Accept": "application/json", "X-CSRF-Token": b.csrf})  # fmt: skip
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.get_json()["id_number"] == number and r.get_json()["phone"] == "13800138000"
    assert len(admin.get("/api/v1/audit?action=person.reveal").get_json()["items"]) == 2

    # Dispatchers read residents to route reports, but never see full numbers.
    d = browsers(dispatcher)
    page = d.get(url)
    assert "赵敏" in page and "显示完整信息" not in page and ">保存</button>" not in page
    r = d.post(f"{url}/reveal", {})
    assert r.status_code == 403 and number not in r.get_data(as_text=True)
    assert len(admin.get("/api/v1/audit?action=person.reveal").get_json()["items"]) == 2


def test_edit_shows_field_errors_and_refuses_a_stale_version(
    browsers, worker_a, staff, make_person, id_number
):
    number = id_number(sex="女")
    person = make_person(name="孙丽", id_number=number, sex="女", phone="13600001234")
    url = f"/console/people/{person['id']}"
    worker, office = browsers(worker_a), browsers(staff)
    form = form_values(worker.get(url), f"{url}/edit")
    assert form["version"] == "1" and form["id_number"] == "" and form["phone"] == ""
    stale = form_values(office.get(url), f"{url}/edit")

    r = worker.post(f"{url}/edit", {**form, "name": "孙丽华", "current_address": "宝石路3号"})
    assert r.status_code == 302 and r.headers["Location"] == url
    page = worker.get(url)
    assert "已保存" in page and "孙丽华" in page and "宝石路3号" in page
    saved = worker_a.get(f"/api/v1/people/{person['id']}?reveal=1")
    # Blank ID number and phone boxes leave both as they were.
    assert saved.get_json()["id_number"] == number and saved.get_json()["phone"] == "13600001234"
    assert saved.get_json()["version"] == 2

    # The office still has version 1 open: its save is refused, nothing is overwritten.
    r = office.post(f"{url}/edit", {**stale, "name": "孙莉"})
    html = r.get_data(as_text=True)
    assert r.status_code == 412 and "该记录已被他人修改，请刷新后重试" in html
    assert worker_a.get(f"/api/v1/people/{person['id']}").get_json()["name"] == "孙丽华"

    # Field errors are shown beside their fields, with what was typed kept.
    form = form_values(worker.get(url), f"{url}/edit")
    r = worker.post(f"{url}/edit", {**form, "phone": "123", "birth_date": "1990-01-01",
                                    "notes": "新备注"})  # fmt: skip
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and r.headers["Cache-Control"] == "no-store"
    assert re.search(r'name="phone" value="123"[^>]*class="warnfield"', html)
    phone_label = html[
        html.index('name="phone"') : html.index("</label>", html.index('name="phone"'))
    ]
    assert "电话号码格式不正确" in phone_label
    assert "新备注" in html
    assert worker_a.get(f"/api/v1/people/{person['id']}").get_json()["version"] == 2

    r = worker.post(f"{url}/edit", {**form, "birth_date": "1990-01-01"})
    html = r.get_data(as_text=True)
    birth_label = html[html.index('name="birth_date"') :][:600]
    assert r.status_code == 422 and "出生日期与身份证号不一致" in birth_label


def test_delete_needs_the_role_and_a_confirmation(browsers, worker_a, staff, admin, make_person):
    person = make_person(name="钱多多")
    url = f"/console/people/{person['id']}"
    worker = browsers(worker_a)
    assert "删除居民" not in worker.get(url)
    assert worker.post(f"{url}/delete", {}).status_code == 403
    office = browsers(staff)
    page = office.get(url)
    assert re.search(r'data-confirm="确定删除居民 钱多多 吗？[^"]*">删除居民</button>', page)
    r = office.post(f"{url}/delete", form_values(page, f"{url}/delete"))
    assert r.status_code == 302 and r.headers["Location"] == "/console/people"
    assert "已删除居民 钱多多" in office.get("/console/people")
    assert staff.get(f"/api/v1/people/{person['id']}").status_code == 404
    entries = admin.get("/api/v1/audit?action=person.delete").get_json()["items"]
    assert entries[0]["object_id"] == person["id"] and entries[0]["actor"] == staff.username


def test_register_into_a_household_and_the_household_pages(
    browsers, worker_a, make_person, id_number
):
    head = make_person(name="陈大山")
    household = worker_a.post("/api/v1/households", json={
        "area": "G1", "address": "宝石路1号2幢301室", "household_number": "330100123",
        "head_person_id": head["id"]}).get_json()  # fmt: skip
    b = browsers(worker_a)
    new_url = f"/console/people/new?household_id={household['id']}"
    page = b.get(new_url)
    assert "宝石路1号2幢301室" in page
    form = form_values(page, "/console/people/new")
    assert form["area"] == "G1" and form["household_id"] == household["id"]

    # A missing name and a taken ID number are refused with the reasons by the fields.
    r = b.post("/console/people/new", {**form, "name": "", "id_number": "123"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and re.search(r'name="name" value=""[^>]*class="warnfield"', html)
    assert "必填项" in html
    taken = make_person(name="周一")
    taken_number = worker_a.get(f"/api/v1/people/{taken['id']}?reveal=1").get_json()["id_number"]
    r = b.post("/console/people/new", {**form, "name": "陈小河", "id_number": taken_number})
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and "该身份证号已登记" in html
    assert f'href="/console/people/{taken["id"]}">打开已登记的 周一' in html

    number = id_number()
    child = {"name": "陈小河", "id_number": number, "relationship_to_head": "子",
             "tags": "学生、留守儿童"}  # fmt: skip
    r = b.post("/console/people/new", {**form, **child})
    assert r.status_code == 302
    page = b.get(r.headers["Location"])
    assert "已登记居民 陈小河" in page and "宝石路1号2幢301室" in page
    assert f'href="/console/people/{head["id"]}">陈大山</a>' in page
    assert "留守儿童" in page and masked(number) in page and number not in page

    listing = b.get("/console/households?q=宝石路")
    assert "宝石路1号2幢301室" in listing and "陈大山" in listing and "2 人" in listing
    assert "330100123" in b.get("/console/households?q=330100123")
    assert "没有找到符合条件的户" in b.get("/console/households?q=黄龙路")
    page = b.get(f"/console/households/{household['id']}")
    members = table(page)
    assert "陈大山" in members and "陈小河" in members and "子" in members
    assert masked(number) in members and number not in page


def test_scan_fills_the_review_form_and_saving_links_the_scan(
    browsers, worker_a, staff, dispatcher
):
    data, truth = fixture("0000_id_card_front")
    b = browsers(worker_a)
    page = b.get("/console/scan")
    assert "证件类型" in page and "证件照片" in page and ">上传识别</button>" in page
    r = upload(b, data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:500]
    assert r.headers["Cache-Control"] == "no-store"
    action = re.search(r'action="(/console/scan/[0-9a-f-]+)"', html).group(1)
    form = form_values(html, action)
    for key in ("name", "sex", "birth_date", "id_number"):
        assert form[key] == truth["fields"][key], key
    assert form["registered_address"] == truth["fields"]["address"]
    assert form["area"] == "G1" and form["ethnicity"] == "汉"
    assert "身份证号校验位：通过" in html and "出生日期与身份证号一致：通过" in html
    assert "性别与身份证号一致：通过" in html and "身份证号地区码：广西" in html
    # A clean card has nothing to flag.
    assert 'class="warnfield"' not in html
    document = re.search(r'alt="证件照片（已裁切）" src="/console/files/([0-9a-f]{64})"', html)
    document = document.group(1)
    assert b.client.get(f"/console/files/{document}").mimetype == "image/jpeg"
    assert staff.get(f"/api/v1/files/{document}").status_code == 404

    # A failed save shows the same review again, with the reason beside the field.
    r = b.post(action, {**form, "name": "", "phone": "13512345678", "action": "create"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and r.headers["Cache-Control"] == "no-store"
    assert re.search(r'name="name" value=""[^>]*class="warnfield"', html) and "必填项" in html
    assert f'src="/console/files/{document}"' in html and "身份证号校验位：通过" in html
    form = form_values(html, action)
    assert form["id_number"] == truth["fields"]["id_number"] and form["phone"] == "13512345678"

    r = b.post(action, {**form, "name": truth["fields"]["name"], "action": "create"})
    assert r.status_code == 302, r.get_data(as_text=True)[:800]
    person_url = r.headers["Location"]
    page = b.get(person_url)
    assert f"已登记居民 {truth['fields']['name']}" in page
    assert f'src="/console/files/{document}"' in page
    # Linked to the resident, the document photo is readable by the community's staff.
    assert staff.get(f"/api/v1/files/{document}").status_code == 200
    assert browsers(staff).client.get(f"/console/files/{document}").status_code == 200
    person_id = person_url.rsplit("/", 1)[1]
    saved = staff.get(f"/api/v1/people/{person_id}?reveal=1").get_json()
    assert saved["id_number"] == truth["fields"]["id_number"] and saved["phone"] == "13512345678"

    # Scanning the same card again offers the resident on file instead of a duplicate.
    html = upload(b, data).get_data(as_text=True)
    assert "该身份证号已登记为居民" in html and f'href="{person_url}"' in html
    assert ">用识别结果更新该居民</button>" in html and ">保存居民</button>" not in html
    action = re.search(r'action="(/console/scan/[0-9a-f-]+)"', html).group(1)
    form = form_values(html, action)
    r = b.post(action, {**form, "current_address": "宝石路9号", "action": "update"})
    assert r.status_code == 302 and r.headers["Location"] == person_url
    updated = staff.get(f"/api/v1/people/{person_id}").get_json()
    assert updated["current_address"] == "宝石路9号" and updated["version"] == 2
    assert updated["area"] == "G1" and updated["phone"] == "135****5678"

    # Reading residents is not enough to register them.
    assert "拍照识别证件" not in browsers(dispatcher).get("/console/people")
    browsers(dispatcher).get("/console/scan", status=403)


def test_scan_flags_what_needs_a_second_look_and_bad_uploads_say_why(app, browsers, worker_a):
    data, truth = fixture("0000_id_card_front")
    # Cover the printed ID number: the review must flag the field, not guess it.
    card = Image.open(io.BytesIO(data)).convert("RGB")
    x0, y0, x1, y1 = truth["field_boxes"]["id_number"]
    w, h = card.size
    ImageDraw.Draw(card).rectangle([x0 * w - 4, y0 * h - 4, x1 * w + 4, y1 * h + 4], fill="white")
    covered = io.BytesIO()
    card.save(covered, "JPEG", quality=90)
    b = browsers(worker_a)
    b.get("/console/scan")
    r = upload(b, covered.getvalue())
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:500]
    assert re.search(r'name="id_number" value=""[^>]*class="warnfield"', html)
    id_label = html[html.index('name="id_number"') :][:400]
    assert "未识别到身份证号码" in id_label
    assert re.search(r'name="name" value="王宏晨"(?![^>]*warnfield)', html)
    assert "身份证号校验位：未通过" in html and "出生日期与身份证号一致：无法判断" in html

    # The back of the card sent as the front: said plainly, and no resident form.
    back, _ = fixture("0000_id_card_back")
    html = upload(b, back).get_data(as_text=True)
    assert "拍到的是身份证国徽面，请翻面后拍摄人像面" in html
    assert ">保存居民</button>" not in html and "签发机关" in html

    # A household-register member page fills the same form, with the relationship to the head.
    member, member_truth = fixture("0000_household_register_member")
    html = upload(b, member, kind="household_register").get_data(as_text=True)
    assert "户口簿常住人口登记卡" in html
    form = form_values(html, re.search(r'action="(/console/scan/[0-9a-f-]+)"', html).group(1))
    for key in ("name", "id_number", "relationship_to_head"):
        assert form[key] == member_truth["fields"][key], key

    # Broken uploads come back to the upload form with the reason, and keep nothing.
    r = upload(b, data[: len(data) // 2])
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "证件照片" in html and ">上传识别</button>" in html
    message = re.search(r'<p class="flash error" role="alert">([^<]+)</p>', html).group(1)
    assert message and not message.isascii()
    r = upload(b, b"just some text, not a photo\n" * 20, filename="notes.txt")
    assert r.status_code == 415 and 'role="alert"' in r.get_data(as_text=True)
    r = b.post("/console/scan", {"kind": "id_card_front"}, content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择要上传的文件" in r.get_data(as_text=True)

    from ledger.registry.models import DocumentScan

    with app.extensions["wangge_sessionmaker"]() as session:
        assert session.query(DocumentScan).count() == 3
