"""Public catalogue pages work anonymously on the real URLs; back-office
pages need a login and respect jurisdiction; the whole filing round trip
through the pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from sanxiang.catalog import services
from sanxiang.catalog.models import PUBLIC_KINDS, CatalogueKind, ImportAttempt, ServiceGuide, VersionStatus
from sanxiang.catalog.processes import get_process

from .conftest import draft_with, enforcement_row, filed, headers, xlsx

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def published(cw):
    for kind in PUBLIC_KINDS:
        filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=kind, effective=date(2026, 1, 1))
    return cw


def login(user, settings) -> Client:
    settings.REQUIRE_TOTP = False
    c = Client()
    c.force_login(user)
    return c


def test_public_pages_work_anonymously(published):
    w, c = published, Client()
    a = w.amr_changan.pk
    guide = ServiceGuide.objects.filter(version__agency=w.amr_changan).first()
    pages = [
        reverse("catalog:index"),
        reverse("catalog:index") + "?region=130100",
        reverse("catalog:agency", kwargs={"agency_id": a}),
        reverse("catalog:list", kwargs={"agency_id": a, "slug": "items"}),
        reverse("catalog:list", kwargs={"agency_id": a, "slug": "inspection"}),
        reverse("catalog:list", kwargs={"agency_id": a, "slug": "guides"}),
        reverse("catalog:list", kwargs={"agency_id": a, "slug": "flowcharts"}),
        reverse("catalog:guide", kwargs={"agency_id": a, "pk": guide.pk}),
        reverse("catalog:flowchart", kwargs={"agency_id": a, "act_kind": "penalty", "procedure": "general"}),
        reverse("catalog:history", kwargs={"agency_id": a, "slug": "items"}),
    ]
    for url in pages:
        response = c.get(url)
        assert response.status_code == 200, url
        assert 'name="viewport"' in response.content.decode()
    assert "石家庄市长安区市场监督管理局" in c.get(reverse("catalog:index")).content.decode()
    export = c.get(reverse("catalog:public_export", kwargs={"agency_id": a, "slug": "items"}))
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_interface_is_chinese(published):
    html = Client().get(reverse("catalog:agency", kwargs={"agency_id": published.amr_changan.pk})).content.decode()
    assert "行政执法事项清单" in html and "服务指南" in html and "执法流程图" in html


def test_the_enforcement_items_are_searchable_by_name(published):
    url = reverse("catalog:list", kwargs={"agency_id": published.amr_changan.pk, "slug": "items"})
    html = Client().get(url, {"q": "不合格商品的行政处罚2"}).content.decode()
    assert "SJ-CF-002" in html and "SJ-CF-001" not in html


def test_the_service_guide_page_shows_all_fifteen_fields(published):
    guide = ServiceGuide.objects.filter(version__agency=published.amr_changan).first()
    html = Client().get(reverse("catalog:guide", kwargs={"agency_id": published.amr_changan.pk, "pk": guide.pk})).content.decode()
    for label in ["事项名称", "依据", "受理机构", "审批机构", "许可条件", "优惠政策", "申请材料", "办理流程", "办理时限",
                  "监督方式", "责任追究", "救济渠道", "办公时间", "办公地址", "办公电话"]:
        assert f"<dt>{label}</dt>" in html
    assert "0311-12345678" in html and "长安区建设北大街1号" in html


def test_the_public_flowchart_svg_for_penalty_general_contains_every_step_of_the_process_definition(published):
    definition = get_process("penalty", "general")
    url = reverse("catalog:flowchart", kwargs={"agency_id": published.amr_changan.pk, "act_kind": "penalty", "procedure": "general"})
    html = Client().get(url).content.decode()
    svg = html[html.index("<svg"):html.index("</svg>") + 6]
    root = ET.fromstring(svg)
    steps = {g.get("data-step"): "".join(g.itertext()) for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert list(steps) == list(definition.codes)
    for step in definition.steps:
        assert step.name in steps[step.code]
        assert all(record in steps[step.code] for record in step.records)


def test_an_unpublished_flowchart_and_an_unknown_agency_are_not_found(published):
    c = Client()
    a = published.amr_changan.pk
    assert c.get(reverse("catalog:flowchart", kwargs={"agency_id": a, "act_kind": "fee", "procedure": "general"})).status_code == 404
    assert c.get(reverse("catalog:agency", kwargs={"agency_id": 999999})).status_code == 404
    assert c.get(reverse("catalog:list", kwargs={"agency_id": a, "slug": "nonsense"})).status_code == 404


def test_drafts_and_submissions_never_reach_the_public_pages(cw):
    draft = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=draft, effective_date=date(2026, 1, 1))
    c = Client()
    html = c.get(reverse("catalog:list", kwargs={"agency_id": cw.amr_changan.pk, "slug": "items"})).content.decode()
    assert "SJ-CF-001" not in html
    assert c.get(reverse("catalog:list", kwargs={"agency_id": cw.amr_changan.pk, "slug": "items"}) + "?v=1").status_code == 404
    assert "石家庄市长安区" not in c.get(reverse("catalog:index")).content.decode()


def test_the_history_page_lists_accepted_versions_only_with_effective_dates(cw):
    kind = CatalogueKind.ENFORCEMENT_ITEMS
    filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=kind, effective=date(2026, 1, 1))
    filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=kind, effective=date(2026, 3, 1))
    pending = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=kind)
    services.submit_version(actor=cw.u_pub_changan, version=pending, effective_date=date(2026, 9, 1))
    html = Client().get(reverse("catalog:history", kwargs={"agency_id": cw.amr_changan.pk, "slug": "items"})).content.decode()
    assert "2026-01-01" in html and "2026-03-01" in html and "2026-09-01" not in html


def test_back_office_pages_need_a_login(published):
    c = Client()
    draft = services.start_draft(actor=published.u_pub_changan, agency=published.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    for url in [reverse("catalog:office"), reverse("catalog:filing_queue"), reverse("catalog:version", kwargs={"pk": draft.pk}),
                reverse("catalog:version_export", kwargs={"pk": draft.pk}), reverse("catalog:template", kwargs={"slug": "items"})]:
        response = c.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("core:login")), url
    response = c.post(reverse("catalog:accept", kwargs={"pk": draft.pk}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))


def test_a_version_outside_the_jurisdiction_is_not_found(cw, settings):
    draft = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    c = login(cw.u_legal_ts, settings)
    assert c.get(reverse("catalog:version", kwargs={"pk": draft.pk})).status_code == 404
    assert c.get(reverse("catalog:version_export", kwargs={"pk": draft.pk})).status_code == 404
    attempt = ImportAttempt.objects.filter(version=draft).first()
    assert c.get(reverse("catalog:import_report", kwargs={"pk": attempt.pk})).status_code == 404
    assert login(cw.u_legal_sjz, settings).get(reverse("catalog:version", kwargs={"pk": draft.pk})).status_code == 200


def test_the_filing_round_trip_through_the_pages(cw, settings):
    editor = login(cw.u_pub_changan, settings)
    assert editor.get(reverse("catalog:office")).status_code == 200
    response = editor.post(reverse("catalog:start_draft", kwargs={"agency_id": cw.amr_changan.pk, "slug": "items"}))
    version_url = response["Location"]
    pk = int(version_url.rstrip("/").split("/")[-1])

    bad = enforcement_row(2)
    bad[2] = "罚没"
    upload = SimpleUploadedFile("items.xlsx", xlsx(headers(CatalogueKind.ENFORCEMENT_ITEMS), [enforcement_row(1), bad]))
    editor.post(reverse("catalog:import", kwargs={"pk": pk}), {"file": upload})
    html = editor.get(version_url).content.decode()
    assert "罚没" in html and "执法类别" in html
    attempt = ImportAttempt.objects.filter(version_id=pk).first()
    report = editor.get(reverse("catalog:import_report", kwargs={"pk": attempt.pk}))
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd.openxmlformats")

    upload = SimpleUploadedFile("items.xlsx", xlsx(headers(CatalogueKind.ENFORCEMENT_ITEMS), [enforcement_row(1)]))
    editor.post(reverse("catalog:import", kwargs={"pk": pk}), {"file": upload})
    editor.post(reverse("catalog:submit", kwargs={"pk": pk}), {"effective_date": "2026-01-01"})

    other_city = login(cw.u_legal_ts, settings)
    assert other_city.post(reverse("catalog:accept", kwargs={"pk": pk})).status_code == 404

    office = login(cw.u_legal_sjz, settings)
    assert "石家庄市长安区市场监督管理局" in office.get(reverse("catalog:filing_queue")).content.decode()
    office.post(reverse("catalog:return", kwargs={"pk": pk}), {"reason": "条款不全"})
    assert "条款不全" in editor.get(version_url).content.decode()
    editor.post(reverse("catalog:submit", kwargs={"pk": pk}), {"effective_date": "2026-01-01"})
    office.post(reverse("catalog:accept", kwargs={"pk": pk}))

    from sanxiang.catalog.models import CatalogueVersion

    assert CatalogueVersion.objects.get(pk=pk).status == VersionStatus.ACCEPTED
    public = Client().get(reverse("catalog:list", kwargs={"agency_id": cw.amr_changan.pk, "slug": "items"})).content.decode()
    assert "SJ-CF-001" in public


def test_a_draft_is_discarded_from_its_page_and_a_submitted_one_is_refused_with_the_reason(cw, settings):
    from sanxiang.catalog import services
    from sanxiang.catalog.models import CatalogueVersion

    editor = login(cw.u_pub_changan, settings)
    draft = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    r = editor.post(reverse("catalog:discard", kwargs={"pk": draft.pk}))
    assert r.status_code == 302 and r["Location"] == reverse("catalog:office")
    assert not CatalogueVersion.objects.filter(pk=draft.pk).exists()
    submitted = filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan,
                      kind=CatalogueKind.ENFORCEMENT_ITEMS)
    html = editor.post(reverse("catalog:discard", kwargs={"pk": submitted.pk}), follow=True).content.decode()
    assert "只有从未报送的草稿可以删除" in html and CatalogueVersion.objects.filter(pk=submitted.pk).exists()


def test_a_blank_service_guide_field_reads_none_in_chinese(published):
    guide = ServiceGuide.objects.filter(version__agency=published.amr_changan).first()
    ServiceGuide.objects.filter(pk=guide.pk).update(preferential_policies="")
    html = Client().get(reverse("catalog:guide", kwargs={"agency_id": published.amr_changan.pk, "pk": guide.pk})).content.decode()
    assert "<dt>优惠政策</dt><dd>无</dd>" in html
