"""The annual report's pages: the agency writes and publishes its report
from its navigation entry, a bad figure answers 400 naming it with nothing
written, the legal office sees its agencies' status and publishes its 通报,
the public pages (no login) show published reports only; every page holds
a way back and no English."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from sanxiang.conftest import client_for
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.statistics.models import AnnualReport, RegionalSummary, ReportStatus

from .conftest import Builder

pytestmark = pytest.mark.django_db
ENGLISH = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")


def _visible(html: str) -> str:
    html = re.sub(r"(?s)<(script|style|code)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def w(world, no_totp):
    world.head = core_services.create_user(actor="t", username="head_a", password=world.password, role=Role.AGENCY_HEAD,
                                           agency=world.amr_changan)
    Builder(world).decision(world.amr_changan, day=date(2026, 4, 4), categories=["警告", "罚款"], fine=88800)
    return world


def test_the_agency_writes_and_publishes_its_report_from_its_navigation(w):
    c = client_for(w.head)
    home = c.get("/workbench/").content.decode()
    assert 'href="/statistics/annual/edit/"' in home
    page = c.get("/statistics/annual/edit/?year=2026")
    body = page.content.decode()
    assert page.status_code == 200 and "888.00" in body and "—" in body and "国办发" in body
    assert not ENGLISH.search(_visible(body)), ENGLISH.search(_visible(body))
    bad = c.post("/statistics/annual/edit/save", {"year": "2026", "manual-levy.count-value": "-3", "explanation": "说明"})
    assert bad.status_code == 400 and "应为不小于0的整数" in bad.content.decode()
    assert not AnnualReport.objects.exists()
    ok = c.post("/statistics/annual/edit/save", {"year": "2026", "manual-levy.count-value": "2",
                                                 "manual-levy.count-note": "台账", "explanation": "情况说明正文",
                                                 "action": "publish"})
    assert ok.status_code == 302
    report = AnnualReport.objects.get()
    assert report.status == ReportStatus.PUBLISHED and report.snapshot["figures"]["penalty"]["fine_yuan"] == "888.00"
    public = Client().get(f"/statistics/annual/public/agencies/{w.amr_changan.pk}/2026/")
    body = public.content.decode()
    assert public.status_code == 200 and "888.00" in body and "情况说明正文" in body and "台账" in body
    assert not ENGLISH.search(_visible(body))
    assert Client().get(f"/statistics/annual/public/regions/{w.sjz.code}/2026/").status_code == 200
    index = Client().get("/statistics/annual/public/").content.decode()
    assert f"/statistics/annual/public/agencies/{w.amr_changan.pk}/2026/" in index
    assert not ENGLISH.search(_visible(index))


def test_an_officer_may_not_write_and_a_draft_is_not_public(w):
    assert client_for(w.u_changan).get("/statistics/annual/edit/").status_code == 403
    c = client_for(w.head)
    c.post("/statistics/annual/edit/save", {"year": "2026", "explanation": "草稿"})
    assert AnnualReport.objects.get().status == ReportStatus.DRAFTED
    assert Client().get(f"/statistics/annual/public/agencies/{w.amr_changan.pk}/2026/").status_code == 404
    assert Client().get(f"/statistics/annual/public/regions/{w.sjz.code}/2026/").status_code == 404
    assert "/statistics/annual/public/agencies/" not in Client().get("/statistics/annual/public/").content.decode()
    assert c.get("/statistics/annual/edit/?year=20x6").status_code == 404


def test_the_legal_office_sees_the_status_and_publishes_its_summary(w):
    client_for(w.head).post("/statistics/annual/edit/save", {"year": "2026", "explanation": "草稿"})
    office = client_for(w.u_legal_sjz)
    assert 'href="/statistics/annual/status/"' in office.get("/workbench/").content.decode()
    page = office.get("/statistics/annual/status/?year=2026")
    body = page.content.decode()
    assert page.status_code == 200 and "已起草" in body and "未开始" in body and "2027-01-31" in body
    assert not ENGLISH.search(_visible(body))
    assert office.post("/statistics/annual/status/summary", {"year": "2026", "text": ""}).status_code == 400
    assert office.post("/statistics/annual/status/summary", {"year": "2026", "text": "全市通报"}).status_code == 302
    assert RegionalSummary.objects.get().text == "全市通报"
    public = Client().get(f"/statistics/annual/public/regions/{w.sjz.code}/2026/").content.decode()
    assert "全市通报" in public
    assert client_for(w.u_changan).get("/statistics/annual/status/").status_code == 403
