"""The 检查对象名录库 page (/inspections/office/directory/) as its people: an
organiser reaches it from the 双随机抽查 page, downloads the template,
imports a file and sees every refused row (and downloads the report,
masked), adds one object, filters by region and tier, and declares a 回避
from an object's row; an officer sees the list and declares only their
own; strangers are refused, odd input never a 500. Then the whole page in
chromium at 390 px."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from django.test import Client
from openpyxl import load_workbook

from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.inspections import services
from sanxiang.inspections.models import Conflict, InspectionObject
from sanxiang.inspections.tests.test_directory_import import credit, person, row, xlsx


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def english_left(html: str) -> list[str]:
    """English words in the visible text of a page's main (file formats and
    standards' names aside)."""
    main = html.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", main)
    return [w for w in re.findall(r"[A-Za-z]{3,}", visible) if w not in {"XLSX", "CSV", "xlsx", "csv", "GB"}]


def bad_number(n: int) -> str:
    good = person(n)
    return good[:17] + ("0" if good[-1] != "0" else "1")


def test_an_organiser_imports_adds_filters_and_declares_a_conflict(cw, settings, tmp_path):
    settings.REQUIRE_TOTP = False
    settings.DATA_DIR = str(tmp_path)
    org = client(cw.u_pub_changan)
    office = org.get("/inspections/office/").content.decode()
    assert 'href="/inspections/office/directory/"' in office and "检查对象名录库" in office
    page = org.get("/inspections/office/directory/")
    text = page.content.decode()
    assert page.status_code == 200 and "从文件导入" in text and 'href="/inspections/office/"' in text
    assert not english_left(text)
    template = org.get("/inspections/office/directory/template/")
    assert template.status_code == 200 and template["Content-Disposition"].startswith("attachment")
    assert [c.value for c in next(load_workbook(io.BytesIO(template.content)).active.iter_rows())][0] == "名称"
    assert org.get("/inspections/office/directory/template/?fmt=csv").content.decode("utf-8-sig").startswith("名称,")
    bad = bad_number(9)
    data = xlsx([row("长安区第一食品店", code=credit(1), tier="A"), row("长安区第二食品店", code=credit(2), tier="D"),
                 row("李大明", number=bad), row("路南区某商店", code=credit(3), region="130202", tier="C")])
    r = org.post("/inspections/office/directory/import/", {"file": _upload("名录.xlsx", data)})
    text = r.content.decode()
    assert r.status_code == 200 and "个对象已新增" in text and bad not in text and bad[:6] + "********" in text
    assert "公民身份号码校验码错误" in text and r.context["result"].created == 3
    assert not english_left(text)
    report = org.get(f"/inspections/office/directory/reports/{r.context['report_id']}/")
    cells = " ".join(str(c) for line in load_workbook(io.BytesIO(b"".join(report.streaming_content))).active.iter_rows(
        values_only=True) for c in line)
    assert "李大明" in cells and bad not in cells
    assert client(cw.u_pub_lunan).get(f"/inspections/office/directory/reports/{r.context['report_id']}/").status_code == 404
    r = org.post("/inspections/office/directory/add/", {"name": "王小明", "id_number": person(4), "region": "130102",
                                                          "risk_tier": "C", "labels": "投诉举报"}, follow=True)
    assert "已加入名录库" in messages_of(r) and person(4) not in r.content.decode()
    r = org.post("/inspections/office/directory/add/", {"name": "", "region": "130102"}, follow=True)
    assert r.status_code == 200 and "名称不能为空" in messages_of(r)
    assert org.get("/inspections/office/directory/", {"region": "130202"}).context["total"] == 1
    assert org.get("/inspections/office/directory/", {"tier": "D"}).context["total"] == 1
    assert org.get("/inspections/office/directory/", {"q": person(4)}).context["total"] == 1
    assert org.get("/inspections/office/directory/", {"tier": "Z", "page": "x", "region": "天"}).status_code == 200
    obj = InspectionObject.objects.get(credit_code=credit(1))
    r = org.post(f"/inspections/office/directory/{obj.pk}/conflict/",
                 {"officer": str(cw.changan_officer.pk), "reason": "近亲属在该店任职"}, follow=True)
    assert "回避已登记" in messages_of(r)
    assert Conflict.objects.filter(officer=cw.changan_officer, object=obj).exists()
    again = org.post(f"/inspections/office/directory/{obj.pk}/conflict/",
                     {"officer": str(cw.changan_officer.pk), "reason": "重复"}, follow=True)
    assert "已登记该回避情形" in messages_of(again)
    stranger = org.post(f"/inspections/office/directory/{obj.pk}/conflict/", {"officer": str(cw.lunan_officer.pk),
                                                                               "reason": "x"}, follow=True)
    assert "请选择须回避的执法人员" in messages_of(stranger)
    for junk in ({"file": _upload("x.xls", b"x")}, {}):
        r = org.post("/inspections/office/directory/import/", junk)
        assert r.status_code == 400 and r.context["error"]


def test_an_officer_reads_and_declares_only_their_own_conflict_and_strangers_are_refused(cw, settings):
    settings.REQUIRE_TOTP = False
    services.add_object(actor="test-fixture", data={"name": "长安区第一食品店", "credit_code": credit(1), "region": "130102"})
    obj = InspectionObject.objects.get()
    cw.changan_officer.user = cw.u_changan
    cw.changan_officer.save(update_fields=["user"])
    officer = client(cw.u_changan)
    page = officer.get("/inspections/office/directory/")
    assert page.status_code == 200 and "长安区第一食品店" in page.content.decode() and "从文件导入" not in page.content.decode()
    assert [o.pk for o in page.context["officers"]] == [cw.changan_officer.pk]
    r = officer.post(f"/inspections/office/directory/{obj.pk}/conflict/",
                     {"officer": str(cw.changan_officer.pk), "reason": "曾在该店兼职"}, follow=True)
    assert "回避已登记" in messages_of(r)
    r = officer.post("/inspections/office/directory/add/", {"name": "x", "credit_code": credit(2), "region": "130102"},
                     follow=True)
    assert "只有执法部门的公示管理员或部门负责人" in messages_of(r) and InspectionObject.objects.count() == 1
    assert client(cw.u_admin).get("/inspections/office/directory/").status_code == 403
    assert Client().get("/inspections/office/directory/").status_code == 302


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_the_directory_page_in_chromium_at_phone_width(cw, settings, cjk_fonts, browser_page, tmp_path):
    settings.DATA_DIR = str(tmp_path)
    for n in range(1, 4):
        services.add_object(actor="test-fixture", data={"name": f"长安区第{n}食品店（连锁经营有限责任公司）", "credit_code": credit(n),
                                                          "region": "130102", "risk_tier": "ABCD"[n % 4],
                                                          "labels": "投诉举报；经营异常名录", "address": "石家庄市长安区中山东路一百号"})
    services.add_object(actor="test-fixture", data={"name": "王小明", "id_number": person(4), "region": "130102"})
    upload = tmp_path / "名录.xlsx"
    upload.write_bytes(xlsx([row("长安区第九食品店", code=credit(9)), row("李大明", number=bad_number(5)),
                             row("", code=credit(8))]))
    shots = Path(os.environ.get("SANXIANG_SCREENSHOT_DIR") or tmp_path)
    pg = browser_page
    log_in(pg, cw.u_pub_changan.username)
    pg.set_viewport_size({"width": 390, "height": 900})
    pg.goto(pg.base + "/inspections/office/")
    pg.get_by_role("link", name="检查对象名录库").click()
    pg.wait_for_url("**/inspections/office/directory/")
    assert no_horizontal_scroll(pg)
    pg.screenshot(path=str(shots / "D-directory-phone.png"), full_page=True)
    pg.set_input_files("input[name=file]", str(upload))
    pg.get_by_role("button", name="导入", exact=True).click()
    pg.wait_for_selector("#import-errors")
    text = pg.locator("main").inner_text()
    assert "个对象已新增" in text and bad_number(5) not in text and "名称不能为空" in text
    assert no_horizontal_scroll(pg)
    pg.screenshot(path=str(shots / "D-directory-import-phone.png"), full_page=True)
    pg.goto(pg.base + "/inspections/office/directory/?tier=B")
    pg.locator("#objects summary").first.click()
    pg.locator("#objects input[name=reason]").first.fill("近亲属在该店任职")
    assert no_horizontal_scroll(pg)
    pg.screenshot(path=str(shots / "D-directory-conflict-phone.png"), full_page=True)
    pg.locator("#objects").get_by_role("button", name="登记回避").first.click()
    pg.wait_for_load_state("load")
    assert "回避已登记" in pg.locator("main").inner_text()
    assert Conflict.objects.count() == 1
    pg.get_by_role("link", name="← 双随机抽查").click()
    pg.wait_for_url("**/inspections/office/")
