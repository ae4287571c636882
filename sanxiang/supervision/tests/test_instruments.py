"""Supervision instruments (issue 15 item 4): 行政执法监督意见书 and 监督决定书
numbered by the documents app in the legal office's sequence, and their
closed loop through the pages — issued → the agency reports → the office
returns it → the agency reports again → accepted; an overdue one alerts;
who may do what; refusals naming the field with nothing numbered."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.conftest import client_for, make_user
from sanxiang.core import clock
from sanxiang.core.models import AuditEntry, Role
from sanxiang.core.todo import todo_for
from sanxiang.documents.models import DocumentCounter
from sanxiang.supervision import services
from sanxiang.supervision.models import Alert, AlertStatus, Instrument, InstrumentStatus

pytestmark = pytest.mark.django_db

DAY = date(2026, 9, 28)  # Monday


@pytest.fixture
def office(world, monkeypatch):
    instant = datetime.combine(DAY, time(10, 0), tzinfo=clock.SHANGHAI)
    monkeypatch.setattr(clock, "now", lambda: instant)
    monkeypatch.setattr(clock, "today", lambda: DAY)
    world.legal_sjz.short_name = "石司"
    world.legal_sjz.save()
    world.head_changan = make_user("head_changan", Role.AGENCY_HEAD, agency=world.amr_changan)
    return world


def content(**over) -> dict:
    data = {"issues": "2026年第三季度抽查的12件行政处罚案卷中，有3件未在法定期限内公示行政处罚决定信息。",
            "basis": "《河北省行政执法监督条例》第二十条",
            "requirement": "对逾期未公示的行政处罚决定立即予以公示，并建立公示期限提醒机制。",
            "rectification_due": "2026-10-16"}
    data.update(over)
    return data


def issue(w, kind="supervision_opinion", **over):
    return services.issue_instrument(actor=w.u_legal_sjz, kind=kind, agency=w.amr_changan, data=content(**over))


def test_an_opinion_is_numbered_in_the_offices_sequence_rendered_and_audited(office):
    first = issue(office)
    second = issue(office)
    decision = issue(office, kind="supervision_decision")
    assert (first.number, second.number) == ("石司监意〔2026〕1号", "石司监意〔2026〕2号")
    assert decision.number == "石司监决〔2026〕1号"
    assert first.pdf.read()[:4] == b"%PDF"
    first.pdf.seek(0)
    assert hashlib.sha256(first.pdf.read()).hexdigest() == first.pdf_sha256
    assert first.rectification_due == date(2026, 10, 16) and first.status == InstrumentStatus.ISSUED
    assert AuditEntry.objects.filter(action="supervision.instrument_issue", object_id=str(first.pk)).exists()


@pytest.mark.parametrize("over, field", [({"issues": ""}, "issues"), ({"rectification_due": "2026-09-28"}, "rectification_due"),
                                         ({"rectification_due": "明天"}, "rectification_due")])
def test_a_bad_field_is_refused_by_name_and_nothing_is_numbered(office, over, field):
    with pytest.raises(ValidationError) as info:
        issue(office, **over)
    assert field in info.value.message_dict
    assert not Instrument.objects.exists() and not DocumentCounter.objects.exists()


def test_only_a_supervisor_over_the_agency_issues(office):
    for outsider, agency in ((office.u_legal_ts, office.amr_changan), (office.head_changan, office.amr_changan),
                             (office.u_legal_sjz, office.amr_lunan)):
        with pytest.raises(PermissionDenied):
            services.issue_instrument(actor=outsider, kind="supervision_opinion", agency=agency, data=content())
    assert not Instrument.objects.exists()


def test_the_whole_loop_through_the_pages_with_a_return(office, no_totp):
    w = office
    supervisor, head = client_for(w.u_legal_sjz), client_for(w.head_changan)
    r = supervisor.post("/supervision/instruments/new/", {"kind": "supervision_opinion", "agency": str(w.amr_changan.pk),
                                                          **content()})
    assert r.status_code == 302
    instrument = Instrument.objects.get()
    url = f"/supervision/instruments/{instrument.pk}/"
    assert r["Location"] == url
    assert instrument.number in supervisor.get("/supervision/instruments/").content.decode()
    # the agency sees it on its to-do list and its instruments page, and reports
    assert [i.url for i in todo_for(user=w.head_changan, today=DAY) if i.kind == "instrument_report"] == [url]
    assert instrument.number in head.get("/supervision/instruments/").content.decode()
    head.post(url, {"action": "report", "text": "已对3件逾期案件的处罚决定信息全部补充公示，并制定公示提醒制度。"})
    instrument.refresh_from_db()
    assert instrument.status == InstrumentStatus.REPORTED
    assert [i.url for i in todo_for(user=w.u_legal_sjz, today=DAY) if i.kind == "instrument_examine"] == [url]
    # returning needs the reasons
    supervisor.post(url, {"action": "return", "answer": ""})
    instrument.refresh_from_db()
    assert instrument.status == InstrumentStatus.REPORTED
    supervisor.post(url, {"action": "return", "answer": "未附公示截图和提醒制度文本，请补充后重新报送。"})
    instrument.refresh_from_db()
    assert instrument.status == InstrumentStatus.RETURNED
    assert "请补充后重新报送" in head.get(url).content.decode()
    head.post(url, {"action": "report", "text": "已补充公示截图3份及《行政处罚决定公示提醒制度》文本。"})
    supervisor.post(url, {"action": "accept", "answer": "整改到位。"})
    instrument.refresh_from_db()
    assert instrument.status == InstrumentStatus.ACCEPTED and instrument.accepted_at is not None
    assert [r.outcome for r in instrument.reports.all()] == ["returned", "accepted"]
    assert not [i for i in todo_for(user=w.head_changan, today=DAY) if i.kind == "instrument_report"]
    assert AuditEntry.objects.filter(action="supervision.instrument_return").count() == 1
    assert AuditEntry.objects.filter(action="supervision.instrument_accept").count() == 1
    # the files
    pdf = supervisor.get(f"{url}pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # another office's supervisor does not find it
    assert client_for(w.u_legal_ts).get(url).status_code == 404


def test_only_the_agency_reports_and_only_the_issuing_office_examines(office):
    instrument = issue(office)
    with pytest.raises(PermissionDenied):
        services.report_rectification(actor=office.u_legal_sjz, instrument=instrument, text="由监督机关代为报送的整改情况。")
    with pytest.raises(PermissionDenied):
        services.report_rectification(actor=office.u_changan, instrument=instrument, text="执法人员报送的整改情况说明。")
    services.report_rectification(actor=office.head_changan, instrument=instrument, text="已全部整改完毕，详见附件说明。")
    with pytest.raises(PermissionDenied):
        services.examine_rectification(actor=office.u_legal_hebei, instrument=instrument, accept=True, answer="")
    with pytest.raises(ValidationError):  # nothing owed while a report waits
        services.report_rectification(actor=office.head_changan, instrument=instrument, text="再次报送的整改情况说明。")


def test_an_overdue_instrument_alerts_and_a_report_ends_the_alert(office):
    instrument = issue(office, rectification_due="2026-10-09")
    key = f"instrument:{instrument.pk}"
    services.refresh_alerts(today=date(2026, 10, 10))  # the day after the deadline
    alert = Alert.objects.get(key=key, status=AlertStatus.OPEN)
    assert alert.level == "red" and alert.agency == office.amr_changan and alert.office == office.legal_sjz
    services.report_rectification(actor=office.head_changan, instrument=instrument, text="已逾期，现报送整改完成情况。")
    services.refresh_alerts(today=date(2026, 10, 10))
    assert Alert.objects.get(key=key).status == AlertStatus.RESOLVED
    # returned: owed again, the alert comes back
    services.examine_rectification(actor=office.u_legal_sjz, instrument=instrument, accept=False, answer="整改不到位。")
    services.refresh_alerts(today=date(2026, 10, 10) + timedelta(days=1))
    assert Alert.objects.get(key=key, status=AlertStatus.OPEN).level == "red"


def test_the_demo_gives_legal_sjz_instruments_in_each_state_and_alerts_yellow_red_escalated_and_closed(world, no_totp):
    """Over a small world with one case whose decision limit passed weeks
    ago (red, escalated) and one whose seizure ended yesterday (red): the
    demo's instruments in each loop state, the issued one yellow; one red
    alert closed with its reason; legal_sjz's first pages show them."""
    from sanxiang.core.models import AgencyKind
    from sanxiang.core.services import create_agency
    from sanxiang.core.validators import make_credit_code
    from sanxiang.supervision.demo import AGENCY, load_supervision_demo
    from sanxiang.supervision.tests.test_alerts import case_deadline, make_case

    agency = create_agency(actor="t", name=AGENCY, short_name="石市监", region=world.sjz, kind=AgencyKind.MARKET_REGULATION,
                           legal_office=world.legal_sjz, credit_code=make_credit_code(region_code="130100", serial=501))
    world.legal_sjz.short_name = "石司"
    world.legal_sjz.save()
    make_user("head", Role.AGENCY_HEAD, agency=agency)
    today = clock.today()
    case_deadline(world, "decision", today - timedelta(days=30), case=make_case(world, title="某药店销售假药案", agency=agency))
    case_deadline(world, "seizure", today - timedelta(days=1), case=make_case(world, title="某冷库扣押冻品案", agency=agency))
    done = load_supervision_demo()
    assert done["instruments"] == 4 and load_supervision_demo() == {}
    assert sorted(Instrument.objects.values_list("status", flat=True)) == ["accepted", "issued", "reported", "returned"]
    alerts = Alert.objects.filter(office=world.legal_sjz)
    assert alerts.filter(status=AlertStatus.OPEN, level="yellow", rule="supervision.instrument_rectification").exists()
    assert alerts.filter(status=AlertStatus.OPEN, level="red", escalated_at__isnull=False).exists()
    closed = alerts.get(status=AlertStatus.CLOSED)
    assert closed.level == "red" and closed.close_reason
    page = client_for(world.u_legal_sjz).get("/supervision/alerts/").content.decode()
    assert "某药店销售假药案" in page and "监督意见书" in page
    assert {i.kind for i in todo_for(user=world.u_legal_sjz)} >= {"alert_escalated", "instrument_examine"}
