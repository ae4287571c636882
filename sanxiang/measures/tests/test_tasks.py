"""Roll-out, status, evidence, acceptance, filings, the matrix and its
jurisdiction, the to-do list and the overdue alert of the task table's tasks
(issue 16 part 2), on the real database."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import load_workbook

from sanxiang.cases import services as case_services
from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.tests.conftest import draft_with, filed
from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.measures import selectors, services
from sanxiang.measures.models import EvidenceKind, FilingStatus, Task, TaskState, TaskStatus

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _rollout(mw, year=None):
    return services.roll_out(actor=mw.u_legal_hebei, year=year or clock.today().year)


def _task(code, agency):
    return Task.objects.select_related("agency", "agency__region", "rollout").get(measure_code=code, agency=agency)


# --- roll-out -------------------------------------------------------------------------


def test_roll_out_gives_each_responsible_unit_of_the_region_its_task_with_the_deadline_of_its_level(mw):
    result = _rollout(mw, year=2026)
    tasks = Task.objects.all()
    assert result.created == tasks.count() > 0
    by_code = {}
    for t in tasks:
        by_code.setdefault(t.measure_code, set()).add(t.agency_id)
    departments = {mw.amr_hebei.pk, mw.amr_changan.pk, mw.amr_zhengding.pk, mw.amr_lunan.pk}
    assert by_code["公示-1"] == {mw.legal_hebei.pk}  # 省法制办
    assert by_code["公示-3"] == departments  # 各级行政执法部门
    assert by_code["公示-4"] == {mw.legal_hebei.pk, mw.legal_sjz.pk, mw.legal_ts.pk}  # 各级政府, through their legal office
    assert by_code["公示-9"] == {mw.legal_sjz.pk, mw.legal_ts.pk, mw.amr_hebei.pk}  # 市、县政府法制办 + 省政府各部门
    assert by_code["公示-10"] == {mw.amr_hebei.pk}  # 省政府各行政执法部门
    assert by_code["记录-6"] == {mw.legal_hebei.pk, mw.amr_hebei.pk}  # 省财政厅 (not here), 省法制办, 省质监局 (now 市场监管)
    assert by_code["记录-10"] == {mw.legal_sjz.pk, mw.legal_ts.pk}  # 各市政府
    assert by_code["审核-3"] == departments | {mw.legal_hebei.pk, mw.legal_sjz.pk, mw.legal_ts.pk}
    assert ("记录-6", "省财政厅") in result.not_on_platform and ("审核-2", "省编委办") in result.not_on_platform
    assert _task("公示-3", mw.amr_hebei).deadline == date(2026, 5, 31)
    assert _task("公示-3", mw.amr_changan).deadline == date(2026, 6, 30)
    assert _task("公示-4", mw.legal_sjz).deadline is None and _task("公示-4", mw.legal_sjz).ongoing
    # re-running adds nothing
    again = services.roll_out(actor=mw.u_legal_hebei)
    assert again.created == 0 and again.existing == result.created and Task.objects.count() == result.created


def test_roll_out_creates_the_filings_the_table_requires_with_their_recipient(mw):
    result = _rollout(mw)
    f3 = _task("公示-3", mw.amr_changan).filing
    assert f3.kind == "review_and_filing" and f3.catalogue_kind == CatalogueKind.ENFORCEMENT_ITEMS
    assert f3.recipient == mw.legal_sjz
    assert _task("公示-10", mw.amr_hebei).filing.recipient == mw.legal_hebei  # 报省法制办备案
    assert _task("记录-4", mw.amr_lunan).filing.recipient == mw.legal_ts
    assert not hasattr(_task("公示-1", mw.legal_hebei), "filing")
    assert result.filings == Task.objects.filter(filing__isnull=False).count()


def test_only_the_province_legal_office_rolls_the_table_out(mw):
    with pytest.raises(PermissionDenied):
        services.roll_out(actor=mw.u_legal_sjz)
    with pytest.raises(PermissionDenied):
        services.roll_out(actor=mw.u_head_changan)
    assert not Task.objects.exists()


# --- status ------------------------------------------------------------------------------


def test_status_is_derived_from_the_deadline_and_the_official_clock_on_both_sides(mw):
    _rollout(mw)
    task = _task("公示-3", mw.amr_changan)
    assert selectors.task_status(task, today=task.deadline) == TaskStatus.NOT_STARTED
    assert selectors.task_status(task, today=task.deadline + timedelta(days=1)) == TaskStatus.OVERDUE
    services.add_report(actor=mw.u_head_changan, task=task, text="已起草清单，正在征求意见。")
    task = _task("公示-3", mw.amr_changan)
    assert selectors.task_status(task, today=task.deadline) == TaskStatus.IN_PROGRESS
    assert selectors.task_status(task, today=task.deadline + timedelta(days=1)) == TaskStatus.OVERDUE
    ongoing = _task("公示-4", mw.legal_sjz)
    assert selectors.task_status(ongoing, today=date(2099, 1, 1)) == TaskStatus.NOT_STARTED  # 长期执行: never overdue


def test_a_table_rolled_out_with_past_deadlines_is_overdue_on_todays_clock_until_accepted(mw):
    services.roll_out(actor=mw.u_legal_hebei, year=2017)
    task = _task("记录-4", mw.amr_changan)
    assert task.deadline == date(2017, 6, 30)
    assert selectors.task_status(task) == TaskStatus.OVERDUE
    case_services.set_av_requirement(actor=mw.u_head_changan,
                                     agency=mw.amr_changan, act_kind="penalty", place="执法办案区", content="询问全过程录音录像")
    services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task])
    services.submit_task(actor=mw.u_head_changan, task=task)
    services.accept_task(actor=mw.u_legal_sjz, task=task)
    task = _task("记录-4", mw.amr_changan)
    assert selectors.task_status(task) == TaskStatus.DONE and task.accepted_on == clock.today()


# --- automatic evidence ----------------------------------------------------------------


def test_an_accepted_item_list_is_found_as_evidence_of_gongshi_3_with_its_link(mw):
    _rollout(mw)
    task = _task("公示-3", mw.amr_changan)
    assert services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task]) == 0
    draft = draft_with(editor=mw.u_pub_changan, agency=mw.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    assert services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task]) == 0  # a draft proves nothing
    catalog_services.submit_version(actor=mw.u_pub_changan, version=draft, effective_date=date(2026, 1, 1))
    version = catalog_services.accept_version(actor=mw.u_legal_sjz, version=draft)
    assert services.check_platform_evidence(actor=mw.u_legal_sjz, tasks=[task]) == 1
    evidence = task.evidence.get()
    assert evidence.kind == EvidenceKind.PLATFORM and evidence.url == f"/catalog/office/versions/{version.pk}/"
    assert evidence.object_id == str(version.pk) and "第 1 版已备案" in evidence.label
    assert services.check_platform_evidence(actor=mw.u_legal_sjz, tasks=[task]) == 0  # recorded once
    # another unit's list proves nothing for 正定县
    assert services.check_platform_evidence(actor=mw.u_legal_sjz, tasks=[_task("公示-3", mw.amr_zhengding)]) == 0


def test_a_filed_review_catalogue_is_evidence_of_shenhe_6(mw):
    _rollout(mw)
    task = _task("审核-6", mw.amr_changan)
    version = catalog_services.start_draft(actor=mw.u_reviewer_changan, agency=mw.amr_changan, kind=CatalogueKind.REVIEW_CATALOGUE)
    catalog_services.add_review_rule(actor=mw.u_reviewer_changan, version=version, title="较大数额罚款",
                                     act_kinds=["penalty"], fine_organisation_yuan="100000")
    catalog_services.submit_version(actor=mw.u_reviewer_changan, version=version, effective_date=date(2026, 1, 1))
    assert selectors.filing_views([task.filing])[task.filing.pk].status == FilingStatus.SUBMITTED
    catalog_services.accept_version(actor=mw.u_legal_sjz, version=version)
    assert services.check_platform_evidence(actor=mw.u_reviewer_changan, tasks=[task]) == 1
    assert task.evidence.get().url == f"/review/catalogue/{version.pk}/"
    assert selectors.filing_views([task.filing])[task.filing.pk].status == FilingStatus.FILED


def test_the_units_own_av_list_is_evidence_of_jilu_4(mw):
    _rollout(mw)
    task = _task("记录-4", mw.amr_changan)
    assert services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task]) == 0
    case_services.set_av_requirement(actor=mw.u_head_changan, agency=mw.amr_changan, act_kind="penalty",
                                     place="执法办案区", content="询问全过程录音录像")
    assert services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task]) == 1
    assert task.evidence.get().url == f"/workbench/cases/av/?agency={mw.amr_changan.pk}"
    assert services.check_platform_evidence(actor=mw.u_head_lunan, tasks=[_task("记录-4", mw.amr_lunan)]) == 0


def test_officers_on_the_public_list_are_evidence_of_gongshi_9(mw):
    _rollout(mw)
    task = _task("公示-9", mw.legal_sjz)  # 市政府法制办: its region's officers
    assert services.check_platform_evidence(actor=mw.u_legal_sjz, tasks=[task]) == 1
    assert "4 名" in task.evidence.get().label  # 长安 2 + 正定 2, valid today


def test_a_unit_cannot_check_or_work_on_another_units_task(mw):
    _rollout(mw)
    task = _task("记录-4", mw.amr_changan)
    with pytest.raises(PermissionDenied):
        services.check_platform_evidence(actor=mw.u_head_lunan, tasks=[task])
    with pytest.raises(PermissionDenied):
        services.add_report(actor=mw.u_head_lunan, task=task, text="x")
    with pytest.raises(PermissionDenied):
        services.add_report(actor=mw.u_changan, task=task, text="x")  # an officer is not who reports for the unit


# --- uploads ------------------------------------------------------------------------------


def test_a_pdf_is_uploaded_as_evidence_and_other_files_are_refused_naming_the_field(mw, monkeypatch):
    _rollout(mw)
    task = _task("公示-2", mw.amr_changan)
    evidence = services.upload_evidence(actor=mw.u_head_changan, task=task, label="《长安区市场监管局行政执法公示办法》",
                                        upload=SimpleUploadedFile("办法.pdf", PDF))
    assert evidence.file_type == "application/pdf" and evidence.file_size == len(PDF)
    with pytest.raises(ValidationError) as caught:
        services.upload_evidence(actor=mw.u_head_changan, task=task, label="x",
                                 upload=SimpleUploadedFile("办法.pdf", b"#!/bin/sh\nrm -rf /\n"))
    assert "file" in caught.value.message_dict
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(ValidationError) as caught:
        services.upload_evidence(actor=mw.u_head_changan, task=task, label="x", upload=SimpleUploadedFile("b.pdf", PDF))
    assert "file" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.upload_evidence(actor=mw.u_head_changan, task=task, label="  ", upload=SimpleUploadedFile("b.pdf", PDF))
    assert "label" in caught.value.message_dict
    assert task.evidence.count() == 1


# --- marking done, accept, return --------------------------------------------------------


def test_the_unit_marks_done_with_evidence_and_the_legal_office_accepts_or_returns(mw):
    _rollout(mw)
    task = _task("公示-2", mw.amr_changan)
    with pytest.raises(ValidationError) as caught:
        services.submit_task(actor=mw.u_head_changan, task=task)
    assert "evidence" in caught.value.message_dict
    services.upload_evidence(actor=mw.u_head_changan, task=task, label="公示办法", upload=SimpleUploadedFile("a.pdf", PDF))
    services.submit_task(actor=mw.u_head_changan, task=task)
    with pytest.raises(PermissionDenied):
        services.accept_task(actor=mw.u_head_changan, task=task)  # not its own
    with pytest.raises(PermissionDenied):
        services.accept_task(actor=mw.u_legal_ts, task=task)  # another city's office
    with pytest.raises(ValidationError) as caught:
        services.return_task(actor=mw.u_legal_sjz, task=task, reason=" ")
    assert "reason" in caught.value.message_dict
    services.return_task(actor=mw.u_legal_sjz, task=task, reason="未明确公开信息的审核、纠错机制。")
    task = _task("公示-2", mw.amr_changan)
    assert task.state == TaskState.RETURNED and selectors.task_status(task, today=task.deadline) == TaskStatus.IN_PROGRESS
    services.submit_task(actor=mw.u_head_changan, task=task)
    services.accept_task(actor=mw.u_legal_sjz, task=task)
    task = _task("公示-2", mw.amr_changan)
    assert task.state == TaskState.ACCEPTED and task.decided_by == mw.u_legal_sjz
    with pytest.raises(ValidationError):
        services.add_report(actor=mw.u_head_changan, task=task, text="再报")


def test_a_legal_office_does_not_accept_its_own_task_but_the_province_accepts_its_own(mw):
    _rollout(mw)
    own = _task("公示-9", mw.legal_sjz)
    services.check_platform_evidence(actor=mw.u_legal_sjz, tasks=[own])
    services.submit_task(actor=mw.u_legal_sjz, task=own)
    with pytest.raises(PermissionDenied):
        services.accept_task(actor=mw.u_legal_sjz, task=own)
    services.accept_task(actor=mw.u_legal_hebei, task=own)
    top = _task("公示-8", mw.legal_hebei)
    services.check_platform_evidence(actor=mw.u_legal_hebei, tasks=[top])
    services.submit_task(actor=mw.u_legal_hebei, task=top)
    assert services.accept_task(actor=mw.u_legal_hebei, task=top).state == TaskState.ACCEPTED


# --- filings ------------------------------------------------------------------------------


def test_a_filing_outside_the_catalogue_is_submitted_filed_or_returned(mw):
    _rollout(mw)
    filing = _task("记录-4", mw.amr_changan).filing
    assert selectors.filing_views([filing])[filing.pk].status == FilingStatus.NOT_SUBMITTED
    with pytest.raises(ValidationError):
        services.decide_filing(actor=mw.u_legal_sjz, filing=filing, accept=True)
    services.submit_filing(actor=mw.u_head_changan, filing=filing, reference="长市监〔2026〕3号")
    with pytest.raises(PermissionDenied):
        services.decide_filing(actor=mw.u_legal_ts, filing=filing, accept=True)
    services.decide_filing(actor=mw.u_legal_sjz, filing=filing, accept=False, reason="清单未列明执法场所。")
    filing.refresh_from_db()
    assert filing.status == FilingStatus.RETURNED and filing.return_reason
    services.submit_filing(actor=mw.u_head_changan, filing=filing, reference="长市监〔2026〕5号")
    services.decide_filing(actor=mw.u_legal_sjz, filing=filing, accept=True)
    filing.refresh_from_db()
    assert filing.status == FilingStatus.FILED


def test_a_catalogue_filing_follows_the_catalogue_versions_status(mw):
    _rollout(mw)
    filing = _task("公示-5", mw.amr_changan).filing
    assert selectors.filing_views([filing])[filing.pk].status == FilingStatus.NOT_SUBMITTED
    with pytest.raises(ValidationError):
        services.submit_filing(actor=mw.u_head_changan, filing=filing, reference="x")
    version = filed(editor=mw.u_pub_changan, decider=mw.u_legal_sjz, agency=mw.amr_changan,
                    kind=CatalogueKind.INSPECTION_ITEMS)
    view = selectors.filing_views([filing])[filing.pk]
    assert view.status == FilingStatus.FILED and view.url == f"/catalog/office/versions/{version.pk}/"


# --- the matrix -----------------------------------------------------------------------------


def test_the_matrix_counts_every_task_of_the_region_by_status(mw):
    _rollout(mw, year=2017)  # every dated task is overdue today
    task = _task("记录-4", mw.amr_changan)
    case_services.set_av_requirement(actor=mw.u_head_changan, agency=mw.amr_changan, act_kind="penalty",
                                     place="执法办案区", content="询问全过程录音录像")
    services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task])
    services.submit_task(actor=mw.u_head_changan, task=task)
    services.accept_task(actor=mw.u_legal_sjz, task=task)
    ongoing = _task("公示-11", mw.amr_lunan)
    services.add_report(actor=mw.u_head_lunan, task=ongoing, text="执法文书按规定出具。")
    m = selectors.matrix(user=mw.u_legal_hebei)
    total = Task.objects.count()
    dated = Task.objects.filter(deadline__isnull=False).count()
    assert sum(m.counts.values()) == total
    assert m.counts[TaskStatus.DONE] == 1
    assert m.counts[TaskStatus.OVERDUE] == dated - 1
    assert m.counts[TaskStatus.IN_PROGRESS] == 1
    assert m.counts[TaskStatus.NOT_STARTED] == total - dated - 1
    assert len(m.measures) == 40 and len(m.rows) == 7  # 3 legal offices + 4 departments
    row = next(r for r in m.rows if r["agency"] == mw.amr_changan)
    cell = row["cells"][[x.code for x in m.measures].index("记录-4")]
    assert cell == {"task": task.pk, "status": TaskStatus.DONE, "label": TaskStatus.DONE.label, "deadline": task.deadline}
    assert row["cells"][[x.code for x in m.measures].index("公示-1")] is None  # not the unit's measure
    # filters: a system, a region, a status
    review = selectors.matrix(user=mw.u_legal_hebei, system="review")
    assert [x.code for x in review.measures] == [f"审核-{n}" for n in range(1, 9)]
    assert sum(review.counts.values()) == Task.objects.filter(system="review").count()
    ts = selectors.matrix(user=mw.u_legal_hebei, region_code="130200")
    assert {r["agency"] for r in ts.rows} == {mw.legal_ts, mw.amr_lunan}
    done_rows = selectors.matrix(user=mw.u_legal_hebei, status=TaskStatus.DONE)
    assert [r["agency"] for r in done_rows.rows] == [mw.amr_changan]


def test_a_city_sees_only_the_units_of_its_city(mw, no_totp):
    _rollout(mw)
    m = selectors.matrix(user=mw.u_legal_sjz)
    assert {r["agency"] for r in m.rows} == {mw.legal_sjz, mw.amr_changan, mw.amr_zhengding}
    assert sum(m.counts.values()) == Task.objects.filter(agency__region__path__startswith=mw.sjz.path).count()
    assert selectors.matrix(user=mw.u_legal_sjz, region_code="130200").region is None  # outside: no filter, no rows of 唐山
    lunan = _task("公示-3", mw.amr_lunan)
    client = client_for(mw.u_legal_sjz)
    assert client.get(f"/measures/tasks/{lunan.pk}/").status_code == 404
    assert client.get(f"/measures/tasks/{_task('公示-3', mw.amr_changan).pk}/").status_code == 200
    assert selectors.matrix(user=mw.u_head_changan).rollout is None  # a unit sees no matrix


def test_the_matrix_exports_to_excel_with_one_row_a_unit(mw, no_totp):
    _rollout(mw, year=2017)
    task = _task("记录-4", mw.amr_changan)
    case_services.set_av_requirement(actor=mw.u_head_changan, agency=mw.amr_changan, act_kind="penalty",
                                     place="执法办案区", content="询问全过程录音录像")
    services.check_platform_evidence(actor=mw.u_head_changan, tasks=[task])
    services.submit_task(actor=mw.u_head_changan, task=task)
    services.accept_task(actor=mw.u_legal_sjz, task=task)
    response = client_for(mw.u_legal_sjz).get("/measures/export.xlsx?system=recording")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[2].startswith("记录-1 ") and header[14].startswith("记录-13 ") and len(header) == 16
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"石家庄市司法局", "石家庄市长安区市场监督管理局", "正定县市场监督管理局"}
    with translation.override("zh-hans"):
        assert rows["石家庄市长安区市场监督管理局"][2 + 3] == str(TaskStatus.DONE.label)
        assert rows["正定县市场监督管理局"][2 + 3] == str(TaskStatus.OVERDUE.label)
    assert client_for(mw.u_head_changan).get("/measures/export.xlsx").status_code == 403


# --- to-do and alert --------------------------------------------------------------------------


def test_overdue_tasks_are_on_the_units_and_the_legal_offices_to_do_lists(mw):
    _rollout(mw, year=2017)
    today = clock.today()
    unit = selectors.todo(user=mw.u_head_changan, today=today)
    codes = {i.title.split(" ")[0] for i in unit}
    assert "公示-3" in codes and "公示-4" not in codes and all(i.kind == "measures.task" for i in unit)
    assert all(i.due and i.due < today for i in unit)
    office = selectors.todo(user=mw.u_legal_hebei, today=today)
    line = next(i for i in office if i.kind == "measures.matrix")
    assert line.url == "/measures/?status=overdue"
    assert str(Task.objects.filter(deadline__lt=today).count()) in line.title
    assert not any(i.kind == "measures.matrix" for i in selectors.todo(user=mw.u_changan, today=today))
    # a task marked done waits on the city's list
    task = _task("记录-4", mw.amr_changan)
    services.upload_evidence(actor=mw.u_head_changan, task=task, label="清单", upload=SimpleUploadedFile("a.pdf", PDF))
    services.submit_task(actor=mw.u_head_changan, task=task)
    assert any(i.kind == "measures.accept" and i.url == f"/measures/tasks/{task.pk}/"
               for i in selectors.todo(user=mw.u_legal_sjz, today=today))
    assert not any(i.kind == "measures.accept" for i in selectors.todo(user=mw.u_legal_ts, today=today))


def test_the_overdue_alert_rule_yields_tasks_not_accepted_near_or_past_their_deadline(mw):
    from sanxiang.supervision.alerts import alert_rule

    _rollout(mw, year=2017)
    rule = alert_rule("measures.task_overdue")
    assert rule is not None
    task = _task("记录-4", mw.amr_changan)
    keys = {c.key for c in rule.source(today=clock.today())}
    assert f"task:{task.pk}" in keys and len(keys) == Task.objects.filter(deadline__isnull=False).count()
    services.upload_evidence(actor=mw.u_head_changan, task=task, label="清单", upload=SimpleUploadedFile("a.pdf", PDF))
    services.submit_task(actor=mw.u_head_changan, task=task)
    services.accept_task(actor=mw.u_legal_sjz, task=task)
    assert f"task:{task.pk}" not in {c.key for c in rule.source(today=clock.today())}
    # far from its deadline a task is not yet an alert
    assert list(rule.source(today=date(2017, 1, 3))) == []


# --- pages ---------------------------------------------------------------------------------


def test_the_pages_lead_from_the_matrix_to_the_task_and_back(mw, no_totp):
    client = client_for(mw.u_legal_hebei)
    page = client.get("/measures/")
    assert page.status_code == 200 and "roll-out" in page.content.decode()  # the roll-out button
    assert client.post("/measures/roll-out/", {"year": "2017"}).status_code == 302
    page = client.get("/measures/").content.decode()
    task = _task("公示-3", mw.amr_changan)
    assert f'href="/measures/tasks/{task.pk}/"' in page
    detail = client_for(mw.u_head_changan).get(f"/measures/tasks/{task.pk}/").content.decode()
    assert 'action="/measures/tasks/%d/submit/"' % task.pk in detail and 'href="/measures/tasks/"' in detail
    unit = client_for(mw.u_head_changan)
    assert unit.get("/measures/").url == "/measures/tasks/"
    assert f"/measures/tasks/{task.pk}/" in unit.get("/measures/tasks/").content.decode()
    unit.post(f"/measures/tasks/{task.pk}/report/", {"text": "清单初稿已完成"})
    assert task.reports.get().text == "清单初稿已完成"
    response = unit.post(f"/measures/tasks/{task.pk}/submit/", follow=True)
    assert "请先添加完成证据" in response.content.decode()  # the refusal shown, not a 500
    assert client_for(mw.u_legal_hebei).get("/measures/filings/?status=not_submitted").status_code == 200
    nav = unit.get("/workbench/").content.decode()
    assert 'href="/measures/tasks/"' in nav
    assert 'href="/measures/"' in client.get("/workbench/").content.decode()


def test_an_uploaded_document_is_downloaded_only_within_jurisdiction(mw, no_totp):
    _rollout(mw)
    task = _task("公示-2", mw.amr_changan)
    unit = client_for(mw.u_head_changan)
    response = unit.post(f"/measures/tasks/{task.pk}/upload/",
                         {"label": "公示办法", "file": SimpleUploadedFile("办法.pdf", PDF, content_type="application/pdf")})
    assert response.status_code == 302
    evidence = task.evidence.get()
    assert b"".join(client_for(mw.u_legal_sjz).get(f"/measures/evidence/{evidence.pk}/file").streaming_content) == PDF
    assert client_for(mw.u_legal_ts).get(f"/measures/evidence/{evidence.pk}/file").status_code == 404



def test_the_matrix_and_the_to_do_list_read_in_a_number_of_queries_that_does_not_grow_with_the_units(mw):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sanxiang.core import services as core_services
    from sanxiang.core.models import AgencyKind
    from sanxiang.core.validators import make_credit_code

    _rollout(mw, year=2017)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            selectors.matrix(user=mw.u_legal_hebei)
            selectors.todo(user=mw.u_legal_hebei, today=clock.today())
            selectors.todo(user=mw.u_head_changan, today=clock.today())
        return len(ctx.captured_queries)

    before = queries()
    for n, kind in enumerate((AgencyKind.ECOLOGY, AgencyKind.TRANSPORT, AgencyKind.HEALTH, AgencyKind.WATER)):
        core_services.create_agency(actor="test-fixture", name=f"石家庄市长安区第{n}局", kind=kind, region=mw.changan,
                                    credit_code=make_credit_code(region_code="130102", serial=950 + n), legal_office=mw.legal_sjz)
    assert services.roll_out(actor=mw.u_legal_hebei).created > 0
    assert queries() == before


def test_the_evidence_job_records_what_the_platform_shows_once_and_writes_nothing_when_nothing_is_new(mw):
    from sanxiang.core.jobs import JOBS
    from sanxiang.core.models import AuditEntry
    from sanxiang.measures.tasks import check_evidence_job

    assert JOBS["measures.evidence"] == "sanxiang.measures.tasks.check_evidence_job"
    _rollout(mw)
    first = check_evidence_job()  # officers on the public list: 公示-9 of the cities' legal offices and the province's department
    assert first == Task.objects.filter(measure_code__in=["公示-8", "公示-9"]).exclude(
        agency=mw.amr_hebei).count()  # 河北省市场监督管理局 has no officer in this world
    audits = AuditEntry.objects.filter(action="measures.evidence_check").count()
    assert check_evidence_job() == 0
    assert AuditEntry.objects.filter(action="measures.evidence_check").count() == audits  # nothing new, nothing written
    version = filed(editor=mw.u_pub_changan, decider=mw.u_legal_sjz, agency=mw.amr_changan,
                    kind=CatalogueKind.FLOWCHARTS)
    assert check_evidence_job() == 1
    assert _task("公示-6", mw.amr_changan).evidence.get().object_id == str(version.pk)


def test_the_links_of_platform_evidence_open_for_the_unit_and_the_legal_offices_above_it(mw, no_totp):
    _rollout(mw)
    filed(editor=mw.u_pub_changan, decider=mw.u_legal_sjz, agency=mw.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    review = catalog_services.start_draft(actor=mw.u_reviewer_changan, agency=mw.amr_changan, kind=CatalogueKind.REVIEW_CATALOGUE)
    catalog_services.add_review_rule(actor=mw.u_reviewer_changan, version=review, title="较大数额罚款",
                                     act_kinds=["penalty"], fine_organisation_yuan="100000")
    catalog_services.submit_version(actor=mw.u_reviewer_changan, version=review, effective_date=date(2026, 1, 1))
    catalog_services.accept_version(actor=mw.u_legal_sjz, version=review)
    case_services.set_av_requirement(actor=mw.u_head_changan, agency=mw.amr_changan, act_kind="penalty",
                                     place="执法办案区", content="询问全过程录音录像")
    tasks = [_task(code, mw.amr_changan) for code in ("公示-3", "审核-6", "记录-4")] + [_task("公示-9", mw.legal_sjz)]
    services.check_platform_evidence(actor="test-fixture", tasks=tasks)
    urls = [e.url for t in tasks for e in t.evidence.all()]
    assert len(urls) == 4
    for user in (mw.u_head_changan, mw.u_legal_sjz, mw.u_legal_hebei):
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.username, url)


# --- progress reports (services.add_report) -----------------------------------------------------


def test_a_progress_report_is_written_by_the_responsible_unit_audited_and_shown_on_the_task_page(mw, no_totp):
    import json

    from sanxiang.core.audit import actor_label
    from sanxiang.core.models import AuditEntry
    from sanxiang.measures.models import TaskReport

    _rollout(mw, year=2026)
    task = _task("公示-3", mw.amr_changan)
    audits = AuditEntry.objects.count()
    # not the unit: another unit's head, an officer of the unit, the supervising legal office
    for outsider in (mw.u_head_lunan, mw.u_changan, mw.u_legal_sjz):
        with pytest.raises(PermissionDenied):
            services.add_report(actor=outsider, task=task, text="越权报送的进展")
    # bad input, each refused by its field name
    for kwargs, field in (({"text": "   "}, "text"), ({"text": None}, "text"), ({"text": 42}, "text"),
                          ({"text": "长" * (services.MAX_TEXT + 1)}, "text"),
                          ({"text": "明天的进展", "on": clock.today() + timedelta(days=1)}, "on")):
        with pytest.raises(ValidationError) as caught:
            services.add_report(actor=mw.u_head_changan, task=task, **kwargs)
        assert field in caught.value.message_dict, kwargs
    assert not TaskReport.objects.exists() and AuditEntry.objects.count() == audits  # nothing written

    report = services.add_report(actor=mw.u_head_changan, task=task, text="  已起草行政执法事项清单，正在征求意见。 ",
                                 on=clock.today() - timedelta(days=2))
    report.refresh_from_db()
    assert (report.task, report.by, report.text, report.on) == (task, mw.u_head_changan, "已起草行政执法事项清单，正在征求意见。",
                                                                clock.today() - timedelta(days=2))
    services.add_report(actor=mw.u_reviewer_changan, task=task, text="法制审核人员核对了清单依据。")  # another person of the unit
    entries = list(AuditEntry.objects.filter(action="measures.report").order_by("seq"))
    assert AuditEntry.objects.count() == audits + 2
    assert [(e.action, e.actor, e.object_id) for e in entries] == [
        ("measures.report", actor_label(mw.u_head_changan), str(task.pk)),
        ("measures.report", actor_label(mw.u_reviewer_changan), str(task.pk))]
    assert json.loads(entries[0].payload) == {"report": report.pk, "on": str(clock.today() - timedelta(days=2))}
    assert selectors.task_status(_task("公示-3", mw.amr_changan), today=task.deadline) == TaskStatus.IN_PROGRESS

    # shown where the task is shown: to the unit and to the legal office that supervises it
    for viewer in (mw.u_head_changan, mw.u_legal_sjz):
        page = client_for(viewer).get(f"/measures/tasks/{task.pk}/").content.decode()
        reports = page.split('id="reports"', 1)[1].split("</ul>", 1)[0]
        assert "已起草行政执法事项清单，正在征求意见。" in reports and "法制审核人员核对了清单依据。" in reports
        assert (clock.today() - timedelta(days=2)).isoformat() in reports
    # through the page: a blank report is refused on the page, nothing written
    unit = client_for(mw.u_head_changan)
    refused = unit.post(f"/measures/tasks/{task.pk}/report/", {"text": "  "}, follow=True)
    assert refused.status_code == 200 and "此项必填" in refused.content.decode()
    assert task.reports.count() == 2 and AuditEntry.objects.count() == audits + 2
    # once accepted, no more reports
    Task.objects.filter(pk=task.pk).update(state=TaskState.ACCEPTED)
    with pytest.raises(ValidationError) as caught:
        services.add_report(actor=mw.u_head_changan, task=_task("公示-3", mw.amr_changan), text="验收后的进展")
    assert "task" in caught.value.message_dict and task.reports.count() == 2


# --- the overdue alert at its exact boundaries -----------------------------------------------


def test_a_tasks_overdue_alert_is_quiet_then_yellow_within_n_working_days_then_red_after_the_deadline(mw):
    """公示-3 of 长安区 is due Tuesday 2026-06-30; N working days back on the
    official calendar cross the Dragon Boat holiday (Friday June 19)."""
    from sanxiang.supervision.alerts import yellow_days
    from sanxiang.supervision.tests.test_alerts import first_yellow_day, levels

    code = "measures.task_overdue"
    _rollout(mw, year=2026)
    task = _task("公示-3", mw.amr_changan)
    due, key = task.deadline, f"task:{task.pk}"
    assert due == date(2026, 6, 30)
    n = yellow_days(code, today=due, agency=task.agency)
    first = first_yellow_day(due, n)
    assert key not in levels(first - timedelta(days=1), code), "one day too early"
    assert levels(first, code)[key] == "yellow"
    assert levels(due, code)[key] == "yellow", "the deadline itself is still yellow"
    assert levels(due + timedelta(days=1), code)[key] == "red"
    from sanxiang.supervision.models import Alert

    alert = Alert.objects.get(key=key, rule=code)
    assert (alert.agency, alert.office, alert.due) == (mw.amr_changan, mw.legal_sjz, due)
