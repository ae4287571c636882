"""The annual report record (issue 16 part 1): the agency's draft (manual
figures with notes, 情况说明), publication freezing a snapshot (audited), the
status against 31 January of the following year (dated rule
publicity.annual_report_deadline), the legal office's 通报 — on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.rules.loader import get_rule
from sanxiang.statistics import annual_services, annual_status
from sanxiang.statistics.models import AnnualReport, RegionalSummary, ReportStatus

from .conftest import Builder

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def heads(world):
    def head(agency, name, role=Role.AGENCY_HEAD):
        return core_services.create_user(actor="t", username=name, password=world.password, role=role, agency=agency)
    world.head_a = head(world.amr_changan, "head_a")
    world.pub_b = head(world.amr_zhengding, "pub_b", Role.PUBLICITY_ADMIN)
    return world


def test_the_due_day_is_31_january_of_the_following_year_from_the_dated_rule(world):
    assert annual_status.due_date(2026, agency=world.amr_changan) == date(2027, 1, 31)
    assert "国办发〔2018〕118号" in get_rule("publicity.annual_report_deadline", on=date(2027, 1, 1)).reference


def test_only_the_agency_head_or_publicity_admin_writes_the_draft_and_it_is_audited(heads):
    w = heads
    with pytest.raises(PermissionDenied):
        annual_services.save_draft(actor=w.u_changan, agency=w.amr_changan, year=2026, explanation="x")
    with pytest.raises(PermissionDenied):
        annual_services.save_draft(actor=w.pub_b, agency=w.amr_changan, year=2026, explanation="x")
    report = annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation="本年度执法总体平稳。",
                                        manual={"levy.count": {"value": "3", "note": "据财务台账"}})
    assert report.status == ReportStatus.DRAFTED and report.template == "2026"
    assert report.manual == {"levy.count": {"value": "3", "note": "据财务台账"}}
    assert AuditEntry.objects.filter(action="statistics.annual_save", object_id=str(report.pk)).count() == 1


@pytest.mark.parametrize("manual, field", [
    ({"levy.count": {"value": "-1"}}, "manual.levy.count"),
    ({"levy.count": {"value": "三"}}, "manual.levy.count"),
    ({"nosuch.row": {"value": "1"}}, "manual.nosuch.row"),
    ({"litigation.lost": {"value": "1", "note": "长" * 501}}, "manual.litigation.lost.note"),
])
def test_a_bad_manual_figure_is_refused_naming_the_field_and_nothing_is_written(heads, manual, field):
    with pytest.raises(ValidationError) as exc:
        annual_services.save_draft(actor=heads.head_a, agency=heads.amr_changan, year=2026, manual=manual)
    assert field in exc.value.message_dict
    assert not AnnualReport.objects.exists()


def test_an_unknown_or_future_year_is_refused(heads):
    for year in (2019, 2999):
        with pytest.raises(ValidationError) as exc:
            annual_services.save_draft(actor=heads.head_a, agency=heads.amr_changan, year=year)
        assert "year" in exc.value.message_dict


def test_publishing_freezes_the_figures_and_the_report_can_no_longer_change(heads):
    w, b = heads, Builder(heads)
    b.decision(w.amr_changan, day=date(2026, 5, 5), categories=["罚款"], fine=12345)
    report = annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation="")
    with pytest.raises(ValidationError) as exc:
        annual_services.publish(actor=w.head_a, report=report)
    assert "explanation" in exc.value.message_dict
    report = annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation="情况说明",
                                        manual={"litigation.lost": {"value": "0", "note": "无败诉"}})
    report = annual_services.publish(actor=w.head_a, report=report)
    assert report.status == ReportStatus.PUBLISHED
    assert report.snapshot["figures"]["penalty"]["cases"] == 1
    assert report.snapshot["figures"]["penalty"]["fine_yuan"] == "123.45"
    assert {"key": "litigation.lost", "label": "行政诉讼败诉（件）", "value": "0", "note": "无败诉"} in report.snapshot["manual"]
    assert report.snapshot["explanation"] == "情况说明"
    b.decision(w.amr_changan, day=date(2026, 6, 6), categories=["罚款"], fine=100)  # a record arriving later
    report.refresh_from_db()
    assert report.snapshot["figures"]["penalty"]["cases"] == 1
    with pytest.raises(PermissionDenied):
        annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation="改")
    with pytest.raises(PermissionDenied):
        annual_services.publish(actor=w.head_a, report=report)
    assert AuditEntry.objects.filter(action="statistics.annual_publish", object_id=str(report.pk)).count() == 1


def test_each_agency_status_against_31_january(heads):
    w = heads
    drafted = annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation="说明")

    def codes(today):
        return {s.agency.pk: s.code for s in annual_status.region_status(region=w.sjz, year=2026, today=today)}

    assert codes(date(2027, 1, 31)) == {w.amr_changan.pk: "drafted", w.amr_zhengding.pk: "not_started"}
    assert codes(date(2027, 2, 1)) == {w.amr_changan.pk: "late", w.amr_zhengding.pk: "late"}
    annual_services.publish(actor=w.head_a, report=drafted)
    AnnualReport.objects.filter(pk=drafted.pk).update(published_at=datetime(2027, 1, 31, 23, 50, tzinfo=SH))
    [a] = [s for s in annual_status.region_status(region=w.sjz, year=2026, today=date(2027, 3, 1)) if s.agency == w.amr_changan]
    assert (a.code, a.published_late) == ("published", False)  # 23:50 in Shanghai is still 31 January
    AnnualReport.objects.filter(pk=drafted.pk).update(published_at=datetime(2027, 2, 1, 0, 10, tzinfo=SH))
    [a] = [s for s in annual_status.region_status(region=w.sjz, year=2026, today=date(2027, 3, 1)) if s.agency == w.amr_changan]
    assert (a.code, a.published_late, a.label) == ("published", True, "已发布（逾期发布）")


def test_the_legal_office_publishes_one_summary_of_its_region(heads):
    w = heads
    with pytest.raises(PermissionDenied):
        annual_services.publish_summary(actor=w.u_legal_ts, region=w.sjz, year=2026, text="通报")
    with pytest.raises(ValidationError):
        annual_services.publish_summary(actor=w.u_legal_sjz, region=w.sjz, year=2026, text="  ")
    summary = annual_services.publish_summary(actor=w.u_legal_sjz, region=w.sjz, year=2026, text="全市各部门年度报告情况通报")
    statuses = {s["agency"]: s["status"] for s in summary.snapshot["statuses"]}
    assert statuses == {w.amr_changan.credit_code: "not_started", w.amr_zhengding.credit_code: "not_started"}
    assert summary.snapshot["figures"]["region"] == w.sjz.code
    with pytest.raises(ValidationError):
        annual_services.publish_summary(actor=w.u_legal_sjz, region=w.sjz, year=2026, text="再次")
    assert RegionalSummary.objects.count() == 1
    assert AuditEntry.objects.filter(action="statistics.annual_summary_publish").count() == 1


def test_the_report_is_on_the_to_do_lists_until_published_and_late_ones_for_the_office(heads):
    from sanxiang.core.todo import todo_for

    w = heads
    kinds = [i.kind for i in todo_for(user=w.head_a, today=date(2027, 1, 10))]
    assert "statistics.annual_report" in kinds
    [item] = [i for i in todo_for(user=w.head_a, today=date(2027, 1, 10)) if i.kind == "statistics.annual_report"]
    assert item.due == date(2027, 1, 31) and item.url.endswith("?year=2026")
    assert not [i for i in todo_for(user=w.u_legal_sjz, today=date(2027, 1, 31)) if i.kind == "statistics.annual_late"]
    [late] = [i for i in todo_for(user=w.u_legal_sjz, today=date(2027, 2, 1)) if i.kind == "statistics.annual_late"]
    assert "2个部门" in late.title
    report = annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation="说明")
    annual_services.publish(actor=w.head_a, report=report)
    assert "statistics.annual_report" not in [i.kind for i in todo_for(user=w.head_a, today=date(2027, 1, 10))]
    [late] = [i for i in todo_for(user=w.u_legal_sjz, today=date(2027, 2, 1)) if i.kind == "statistics.annual_late"]
    assert "1个部门" in late.title


def test_the_published_report_and_summary_show_no_id_number_or_phone_written_into_their_text(heads):
    """Every public text goes through the redactor: the 情况说明, a manual
    figure's note and the legal office's 通报 are published redacted (the
    draft keeps what its writers typed)."""
    w = heads
    typed = "投诉人张三（身份证号11010519491231002X，电话13812345678）反映的问题已处理。"
    report = annual_services.save_draft(actor=w.head_a, agency=w.amr_changan, year=2026, explanation=typed,
                                        manual={"litigation.lost": {"value": "0", "note": "联系13812345678核实"}})
    report = annual_services.publish(actor=w.head_a, report=report)
    published = str(report.snapshot)
    assert "11010519491231002X" not in published and "13812345678" not in published
    assert "反映的问题已处理" in report.snapshot["explanation"]
    summary = annual_services.publish_summary(actor=w.u_legal_sjz, region=w.sjz, year=2026, text=typed)
    assert "11010519491231002X" not in summary.text and "13812345678" not in summary.text
    from django.test import Client

    page = Client().get(f"/statistics/annual/public/agencies/{w.amr_changan.pk}/2026/")
    assert page.status_code == 200 and "11010519491231002X" not in page.content.decode()
