"""Alerts (预警, issue 15 item 2): each built-in rule on both sides of its
yellow threshold in working days of the official calendar (around National
Day 2026: Oct 1-7 off, Saturday Oct 10 a working day), red once overdue;
escalation after M working days red; e-mail once per level; annotate and
close (and reopen when the level worsens); the to-do entries; the API's
filters, scoping and errors; the alerts pages."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest
import yaml
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.cases.models import AvExemption, Case, CaseDeadline, CaseOfficer, CaseStep
from sanxiang.conftest import client_for, make_user
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.core.todo import todo_for
from sanxiang.core.validators import make_certificate_number
from sanxiang.publicity import services as publicity_services
from sanxiang.publicity.models import Decision
from sanxiang.review.models import Reviewer, Submission
from sanxiang.rules.loader import DEFAULT_PARAMS_DIR, get_rule, reload_rules
from sanxiang.statistics import figures
from sanxiang.supervision import services
from sanxiang.supervision.alerts import AlertCandidate, alert_rules, register_alert_rule, threshold_rule_name, yellow_days
from sanxiang.supervision.models import Alert, AlertStatus

pytestmark = pytest.mark.django_db

D = date(2026, 10, 9)  # Friday after the National Day holiday


def workdays_between(start: date, end: date) -> int:
    """Working days in (start, end], counted with the State Council schedule directly."""
    return sum(1 for i in range(1, (end - start).days + 1) if chinese_calendar.is_workday(start + timedelta(days=i)))


def first_yellow_day(due: date, n: int) -> date:
    """The earliest day on which ``due`` is at most n working days away."""
    day = due
    while workdays_between(day - timedelta(days=1), due) <= n:
        day -= timedelta(days=1)
    return day


def levels(today: date, rule: str) -> dict[str, str]:
    services.refresh_alerts(today=today)
    return dict(Alert.objects.filter(rule=rule, status=AlertStatus.OPEN).values_list("key", "level"))


def at(moment: date, monkeypatch):
    instant = datetime.combine(moment, time(10, 0), tzinfo=clock.SHANGHAI)
    monkeypatch.setattr(clock, "now", lambda: instant)


def make_case(world, title="某超市销售过期食品案", agency=None, lead=None) -> Case:
    agency = agency or world.amr_changan
    case = Case.objects.create(agency=agency, title=title, act_kind="penalty", opened_on=date(2026, 9, 1),
                               party_name="石家庄市长安区某某超市", party_type="legal_person", created_by=world.u_changan)
    if lead is not None:
        CaseOfficer.objects.create(case=case, officer=lead, role="lead", assigned_at=clock.now())
    return case


def case_deadline(world, kind: str, due: date, **kw) -> CaseDeadline:
    return CaseDeadline.objects.create(case=kw.pop("case", None) or make_case(world), kind=kind, start_on=date(2026, 9, 1),
                                       due_on=due, rule_name="penalty.decision_limit", rule_amount=90,
                                       rule_unit="calendar_days", rule_reference="行政处罚法第六十条", **kw)


def penalty_record(external_id="CF-1") -> dict:
    return {"external_id": external_id, "kind": "penalty", "doc_number": f"冀长市监罚〔2026〕{external_id[-1]}号",
            "party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person", "party_credit_code": "91350100M000100Y43",
            "legal_representative": "王大明", "decision_date": "2026-09-30", "violation_type": "销售过期食品",
            "facts": "当事人销售超过保质期的食品，货值金额1200元。", "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "penalty_categories": ["罚款"], "fine_fen": 5000000, "content": "罚款人民币50000元。"}


# --- each rule on both sides of its threshold -------------------------------------------------
# Every factory makes one item of its rule through the app's own record and
# returns (its alert key, its due date as the app keeps it).


def _publication(world):
    [result] = publicity_services.receive_records(actor="t", agency=world.amr_changan, records=[penalty_record()],
                                                  source="api")
    decision = Decision.objects.get(pk=result.decision_id)
    assert decision.publication_due == date(2026, 10, 15)  # 7 working days (公示-14), computed by publicity
    return f"decision:{decision.pk}", decision.publication_due


def _withdrawal(world):
    admin = make_user("pub_changan", Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    [result] = publicity_services.receive_records(actor="t", agency=world.amr_changan, records=[penalty_record()],
                                                  source="api")
    decision = Decision.objects.get(pk=result.decision_id)
    publicity_services.publish_decision(actor=admin, decision=decision)
    notice = publicity_services.withdraw_decision(actor=admin, decision=decision, ground="changed", reason="复议变更",
                                                  changed_on=date(2026, 9, 25))
    assert notice.due == date(2026, 9, 30) and not notice.on_time  # recorded late (today is after it)
    return f"withdrawal:{notice.pk}", notice.due


def _deadline(kind):
    def make(world):
        d = case_deadline(world, kind, D)
        return f"deadline:{d.pk}", d.due_on
    return make


def _review(world):
    case = make_case(world)
    reviewer_user = make_user("reviewer_changan", Role.LEGAL_REVIEWER, agency=world.amr_changan)
    reviewer = Reviewer.objects.create(user=reviewer_user, agency=world.amr_changan, name="法制审核员")
    s = Submission.objects.create(case=case, round=1, stage="review", submitted_by=world.u_changan,
                                  submitted_at=clock.now(), received_on=date(2026, 9, 20), due_on=D, reviewer=reviewer)
    return f"submission:{s.pk}", s.due_on


def _certificate(world):
    officer = core_services.create_officer(
        actor="t", name="张到期", agency=world.amr_changan, certificate_number=make_certificate_number("130102", 77),
        categories=["penalty"], enforcement_region=world.changan, valid_from=date(2021, 1, 1), valid_to=D)
    return f"officer:{officer.pk}:{D.isoformat()}", D


def _av(world):
    case = make_case(world)
    started = datetime.combine(date(2026, 9, 30), time(9, 0), tzinfo=clock.SHANGHAI)
    step = CaseStep.objects.create(case=case, code="inspection", name="现场检查", started_at=started,
                                   av_requirement="现场检查应当全程音像记录")
    # Started Wednesday 2026-09-30: 1 working day later is Thursday Oct 8, after the holiday.
    return f"step:{step.pk}", date(2026, 10, 8)


def _instrument(world):
    """A 监督意见书 issued through the service on Sep 1 (its deadline must be
    in the future then), to be rectified by Friday Oct 9: with N = 5 its
    yellow window opens before the National Day holiday."""
    world.legal_sjz.short_name = "石司"
    world.legal_sjz.save()
    instant = datetime.combine(date(2026, 9, 1), time(10, 0), tzinfo=clock.SHANGHAI)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now", lambda: instant)
        mp.setattr(clock, "today", lambda: instant.date())
        instrument = services.issue_instrument(
            actor=world.u_legal_sjz, kind="supervision_opinion", agency=world.amr_changan,
            data={"issues": "抽查的行政处罚案卷中有3件未在法定期限内公示行政处罚决定信息。", "basis": "《河北省行政执法监督条例》第二十条",
                  "requirement": "对逾期未公示的行政处罚决定立即予以公示。", "rectification_due": D.isoformat()})
    assert instrument.rectification_due == D
    return f"instrument:{instrument.pk}", instrument.rectification_due


FACTORIES = {
    "publicity.publication_due": _publication,
    "publicity.withdrawal_late": _withdrawal,
    "cases.decision_limit": _deadline("decision"),
    "cases.step_deadline": _deadline("service"),
    "cases.seizure_period": _deadline("seizure"),
    "review.review_limit": _review,
    "core.certificate_expiry": _certificate,
    "evidence.av_missing": _av,
    "supervision.instrument_rectification": _instrument,
}


def test_every_registered_built_in_rule_has_a_dated_threshold_and_a_test_here():
    codes = {r.code for r in alert_rules()}
    assert set(FACTORIES) <= codes
    for code in codes:
        assert yellow_days(code, today=D) >= 0  # the dated rule exists (RuleNotFound otherwise)


@pytest.mark.parametrize("rule", sorted(FACTORIES))
def test_an_alert_is_quiet_then_yellow_within_n_working_days_then_red_once_overdue(world, rule):
    key, due = FACTORIES[rule](world)
    n = yellow_days(rule, today=due)
    first = first_yellow_day(due, n)
    assert levels(first - timedelta(days=1), rule) == {}, "one working day too early"
    assert levels(first, rule) == {key: "yellow"}
    assert levels(due, rule) == {key: "yellow"}, "the last day of the limit is still yellow"
    assert levels(due + timedelta(days=1), rule) == {key: "red"}
    assert Alert.objects.get(key=key, status=AlertStatus.OPEN).red_since == due + timedelta(days=1)


def test_the_holiday_counts_no_working_day_for_the_threshold(world):
    """N = 2 for the step limit: due Friday Oct 9, yellow from Wednesday
    Sep 30 (9 calendar days before, across the holiday), not on Sep 29."""
    assert yellow_days("cases.step_deadline", today=D) == 2
    d = case_deadline(world, "service", D)
    assert levels(date(2026, 9, 29), "cases.step_deadline") == {}
    assert levels(date(2026, 9, 30), "cases.step_deadline") == {f"deadline:{d.pk}": "yellow"}
    # due Saturday Oct 10 (a make-up working day): on Sep 30 it is 3 working days away, quiet
    later = case_deadline(world, "service", date(2026, 10, 10))
    assert f"deadline:{later.pk}" not in levels(date(2026, 9, 30), "cases.step_deadline")


@pytest.fixture
def regional_threshold(tmp_path):
    """The packaged rules plus a value of the decision-limit alert's N for
    石家庄市 (region:130100) five working days wider than the national one,
    as a city's own rule would add it; the packaged rules restored after."""
    code = "cases.decision_limit"
    national = yellow_days(code, today=D)
    params = tmp_path / "params"
    shutil.copytree(DEFAULT_PARAMS_DIR, params)
    data = yaml.safe_load((params / "supervision.yaml").read_text(encoding="utf-8"))
    [entry] = [e for e in data if e["name"] == threshold_rule_name(code)]
    entry["values"].append({"value": national + 5, "valid_from": date(2026, 1, 1), "scope": "region:130100",
                            "reference": "测试用的石家庄市规定"})
    (params / "supervision.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    reload_rules(params)
    try:
        yield code, national, national + 5
    finally:
        reload_rules()


def test_a_regional_n_widens_the_yellow_window_for_the_agencies_of_that_region_only(world, regional_threshold):
    code, national, regional = regional_threshold
    assert yellow_days(code, today=D, agency=world.amr_changan) == regional  # 长安区 lies in 石家庄市
    assert yellow_days(code, today=D, agency=world.amr_lunan) == national  # 路南区 lies in 唐山市
    in_sjz = case_deadline(world, "decision", D)
    in_ts = case_deadline(world, "decision", D, case=make_case(world, agency=world.amr_lunan))
    sjz_key, ts_key = f"deadline:{in_sjz.pk}", f"deadline:{in_ts.pk}"
    wide, narrow = first_yellow_day(D, regional), first_yellow_day(D, national)
    assert wide < narrow
    assert levels(wide - timedelta(days=1), code) == {}
    assert levels(wide, code) == {sjz_key: "yellow"}, "the city's N for its agency, the national N for the other"
    assert levels(narrow - timedelta(days=1), code) == {sjz_key: "yellow"}
    assert levels(narrow, code) == {sjz_key: "yellow", ts_key: "yellow"}
    assert levels(D + timedelta(days=1), code) == {sjz_key: "red", ts_key: "red"}


def test_a_met_deadline_resolves_its_alert_and_a_party_period_never_alerts(world):
    d = case_deadline(world, "decision", D)
    party = case_deadline(world, "hearing_request", D, obligor="party")
    assert levels(D, "cases.decision_limit") == {f"deadline:{d.pk}": "yellow"}
    CaseDeadline.objects.filter(pk=d.pk).update(met_at=clock.now())
    assert levels(D, "cases.decision_limit") == {}
    assert Alert.objects.get(key=f"deadline:{d.pk}").status == AlertStatus.RESOLVED
    assert not Alert.objects.filter(key=f"deadline:{party.pk}").exists()


def test_av_uploaded_or_exempted_means_no_alert(world):
    key, due = _av(world)
    step = CaseStep.objects.get(pk=int(key.split(":")[1]))
    assert levels(due + timedelta(days=1), "evidence.av_missing") == {key: "red"}
    AvExemption.objects.create(step=step, reason="设备故障", requested_by=world.u_changan, requested_at=clock.now(),
                               approved_by=world.u_changan, approved_at=clock.now())
    assert levels(due + timedelta(days=1), "evidence.av_missing") == {}


def test_the_responsible_user_is_the_lead_officers_account_and_the_office_is_the_agencys(world):
    world.changan_officer.user = world.u_changan
    world.changan_officer.save()
    d = case_deadline(world, "decision", D, case=make_case(world, lead=world.changan_officer))
    services.refresh_alerts(today=D)
    alert = Alert.objects.get(key=f"deadline:{d.pk}")
    assert (alert.user, alert.agency, alert.office) == (world.u_changan, world.amr_changan, world.legal_sjz)
    assert alert.object_url == f"/workbench/cases/{d.case_id}/"


def test_a_second_refresh_the_same_day_changes_nothing(world):
    case_deadline(world, "decision", D)
    first = services.refresh_alerts(today=D)
    assert first["raised"] == 1
    audits = AuditEntry.objects.filter(action="supervision.alerts_refresh").count()
    assert services.refresh_alerts(today=D) == {"raised": 0, "updated": 0, "reopened": 0, "resolved": 0, "escalated": 0,
                                                 "mailed": 0}
    assert AuditEntry.objects.filter(action="supervision.alerts_refresh").count() == audits


def test_the_refresh_takes_as_many_queries_for_50_items_as_for_5(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(count: int, day: date) -> int:
        for i in range(count):
            case_deadline(world, "seizure", day)
        with CaptureQueriesContext(connection) as captured:
            services.refresh_alerts(today=day)
        return len(captured)

    queries(1, D)  # each run below raises new alerts and turns the previous run's red
    few = queries(5, D + timedelta(days=1))
    many = queries(50, D + timedelta(days=2))
    assert many == few
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 56


# --- a higher app's rule through the registry ---------------------------------------------------


def test_a_rule_registered_by_another_app_is_refreshed_like_the_built_in_ones(world, settings):
    def source(*, today):
        yield AlertCandidate(key="x:1", title="测试事项", due=D, agency=world.amr_zhengding, object_url="/workbench/")

    register_alert_rule("cases.step_deadline_copy", "copy", source)
    try:
        # its threshold: the dated rule of a rule code that exists (borrowed for the test)
        from sanxiang.supervision import alerts

        original = alerts.threshold_rule_name
        alerts.threshold_rule_name = lambda code: original("cases.step_deadline" if code.endswith("_copy") else code)
        try:
            services.refresh_alerts(today=D)
        finally:
            alerts.threshold_rule_name = original
    finally:
        alerts._RULES.pop("cases.step_deadline_copy")
    alert = Alert.objects.get(rule="cases.step_deadline_copy")
    assert (alert.level, alert.office) == ("yellow", world.legal_sjz)


# --- escalation -----------------------------------------------------------------------------------


def test_an_alert_red_for_more_than_m_working_days_reaches_the_supervising_offices_to_do(world):
    m = int(get_rule(services.ESCALATION_RULE, on=D).value)
    d = case_deadline(world, "decision", D)
    last_quiet = D
    while workdays_between(D, last_quiet) < m:  # red since Oct 10; M working days after the due date
        last_quiet += timedelta(days=1)
    services.refresh_alerts(today=last_quiet)
    alert = Alert.objects.get(key=f"deadline:{d.pk}")
    assert alert.level == "red" and alert.escalated_at is None
    assert not [i for i in todo_for(user=world.u_legal_sjz, today=last_quiet) if i.kind == "alert_escalated"]
    services.refresh_alerts(today=last_quiet + timedelta(days=1))
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    items = [i for i in todo_for(user=world.u_legal_sjz, today=last_quiet + timedelta(days=1)) if i.kind == "alert_escalated"]
    assert [i.url for i in items] == [f"/supervision/alerts/{alert.pk}/"]
    # not another office's supervisors
    assert not [i for i in todo_for(user=world.u_legal_ts, today=last_quiet + timedelta(days=1)) if i.kind.startswith("alert")]


# --- the responsible person's to-do ------------------------------------------------------------------


def test_an_open_alert_is_on_the_responsible_users_to_do_and_the_agency_heads_when_nobody_is_named(world):
    world.changan_officer.user = world.u_changan
    world.changan_officer.save()
    named = case_deadline(world, "decision", D, case=make_case(world, lead=world.changan_officer))
    unnamed = case_deadline(world, "seizure", D)
    head = make_user("head_changan", Role.AGENCY_HEAD, agency=world.amr_changan)
    services.refresh_alerts(today=D)
    mine = {i.url for i in todo_for(user=world.u_changan, today=D) if i.kind.startswith("alert_")}
    theirs = {i.url for i in todo_for(user=head, today=D) if i.kind.startswith("alert_")}
    assert mine == {f"/supervision/alerts/{Alert.objects.get(key=f'deadline:{named.pk}').pk}/"}
    assert theirs == {f"/supervision/alerts/{Alert.objects.get(key=f'deadline:{unnamed.pk}').pk}/"}


# --- e-mail ---------------------------------------------------------------------------------------------


def test_the_responsible_person_gets_one_email_per_alert_and_level(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.u_changan.email = "wang@example.gov.cn"
    world.u_changan.save()
    world.changan_officer.user = world.u_changan
    world.changan_officer.save()
    case_deadline(world, "decision", D, case=make_case(world, lead=world.changan_officer))
    services.refresh_alerts(today=D)
    services.refresh_alerts(today=D)
    assert [m.to for m in mail.outbox] == [["wang@example.gov.cn"]]
    assert "黄色预警" in mail.outbox[0].subject and "2026-10-09" in mail.outbox[0].body
    services.refresh_alerts(today=D + timedelta(days=1))  # turns red: one more
    services.refresh_alerts(today=D + timedelta(days=2))
    assert len(mail.outbox) == 2 and "红色预警" in mail.outbox[1].subject


def test_no_email_is_sent_when_no_mail_backend_is_configured(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    world.u_changan.email = "wang@example.gov.cn"
    world.u_changan.save()
    world.changan_officer.user = world.u_changan
    world.changan_officer.save()
    case_deadline(world, "decision", D, case=make_case(world, lead=world.changan_officer))
    assert services.refresh_alerts(today=D)["mailed"] == 0
    assert Alert.objects.get().notified_level == ""


# --- annotate and close -------------------------------------------------------------------------------


def test_a_supervisor_of_the_office_annotates_and_closes_an_alert_audited_and_it_stays_closed(world):
    d = case_deadline(world, "decision", D)
    services.refresh_alerts(today=D)
    alert = Alert.objects.get(key=f"deadline:{d.pk}")
    services.annotate_alert(actor=world.u_legal_sjz, alert=alert, text="已电话督促办案机构。")
    with pytest.raises(ValidationError) as info:
        services.close_alert(actor=world.u_legal_sjz, alert=alert, reason="  ")
    assert "reason" in info.value.message_dict
    services.close_alert(actor=world.u_legal_sjz, alert=alert, reason="已延长办案期限，报批材料齐全。")
    assert AuditEntry.objects.filter(action="supervision.alert_close", object_id=str(alert.pk)).exists()
    assert AuditEntry.objects.filter(action="supervision.alert_annotate", object_id=str(alert.pk)).exists()
    services.refresh_alerts(today=D)  # same level: stays closed
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED
    services.refresh_alerts(today=D + timedelta(days=1))  # worsens to red: reopens
    alert.refresh_from_db()
    assert (alert.status, alert.level, alert.close_reason) == (AlertStatus.OPEN, "red", "已延长办案期限，报批材料齐全。")


def test_a_red_alert_closed_stays_closed_and_resolves_when_the_item_is_done(world):
    d = case_deadline(world, "decision", D)
    services.refresh_alerts(today=D + timedelta(days=1))
    alert = Alert.objects.get(key=f"deadline:{d.pk}")
    services.close_alert(actor=world.u_legal_sjz, alert=alert, reason="已约谈，案件已报请延期。")
    services.refresh_alerts(today=D + timedelta(days=20))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED
    CaseDeadline.objects.filter(pk=d.pk).update(met_at=clock.now())
    services.refresh_alerts(today=D + timedelta(days=21))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_only_the_supervising_offices_supervisors_may_close_an_alert(world):
    d = case_deadline(world, "decision", D)
    services.refresh_alerts(today=D)
    alert = Alert.objects.get(key=f"deadline:{d.pk}")
    for outsider in (world.u_legal_ts, world.u_changan, world.u_legal_hebei):
        with pytest.raises(PermissionDenied):
            services.close_alert(actor=outsider, alert=alert, reason="无关")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


# --- the API ------------------------------------------------------------------------------------------


@pytest.fixture
def spread(world):
    """Three alerts: a yellow and a red one in 长安区 (石家庄), a red one in 路南区 (唐山)."""
    yellow = case_deadline(world, "decision", D + timedelta(days=3))
    red = case_deadline(world, "seizure", D - timedelta(days=1))
    other = case_deadline(world, "decision", D - timedelta(days=1), case=make_case(world, title="路南区某案", agency=world.amr_lunan))
    services.refresh_alerts(today=D)
    return yellow, red, other


def test_the_api_lists_the_callers_alerts_with_the_interface_fields(world, spread, no_totp):
    body = client_for(world.u_legal_sjz).get("/api/v1/supervision/alerts").json()
    assert body["count"] == 2
    first = body["items"][0]
    assert {"rule", "level", "title", "due", "object_url"} <= set(first)
    assert [(i["rule"], i["level"]) for i in body["items"]] == [("cases.seizure_period", "red"), ("cases.decision_limit", "yellow")]
    assert first["due"] == "2026-10-08" and first["object_url"].startswith("/workbench/cases/")
    province = client_for(world.u_legal_hebei).get("/api/v1/supervision/alerts").json()
    assert province["count"] == 3
    assert client_for(world.u_zhengding).get("/api/v1/supervision/alerts").json()["count"] == 0


def test_the_api_filters_by_region_agency_and_level(world, spread, no_totp):
    c = client_for(world.u_legal_hebei)
    assert c.get("/api/v1/supervision/alerts?region=130200").json()["count"] == 1
    assert c.get(f"/api/v1/supervision/alerts?agency={world.amr_changan.pk}").json()["count"] == 2
    assert [i["level"] for i in c.get("/api/v1/supervision/alerts?level=red").json()["items"]] == ["red", "red"]
    assert c.get("/api/v1/supervision/alerts?level=red&limit=1&offset=1").json()["items"][0]["level"] == "red"


@pytest.mark.parametrize("query, field", [("level=orange", "level"), ("region=999999", "region"), ("agency=abc", "agency")])
def test_a_bad_api_filter_is_a_json_error_naming_the_field(world, spread, no_totp, query, field):
    r = client_for(world.u_legal_hebei).get(f"/api/v1/supervision/alerts?{query}")
    assert r.status_code in (400, 422) and r.json()["field"] == field


def test_the_api_needs_a_login_and_is_in_the_openapi_schema(world):
    assert Client().get("/api/v1/supervision/alerts").status_code == 401
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/supervision/alerts" in schema["paths"]


# --- pages ----------------------------------------------------------------------------------------------


def test_the_alerts_page_filters_and_the_detail_closes_with_a_reason(world, spread, no_totp):
    yellow, red, other = spread
    c = client_for(world.u_legal_sjz)
    page = c.get("/supervision/alerts/").content.decode()
    assert "某超市销售过期食品案" in page and "路南区某案" not in page
    assert "/supervision/alerts/" in c.get("/workbench/").content.decode()  # in the navigation
    only_red = c.get("/supervision/alerts/?level=red").content.decode()
    assert "查封" in only_red and "决定期限" not in only_red
    assert c.get("/supervision/alerts/?level=orange").status_code == 400
    alert = Alert.objects.get(key=f"deadline:{red.pk}")
    r = c.post(f"/supervision/alerts/{alert.pk}/", {"action": "close", "reason": "已督促解除查封。"})
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.closed_by == world.u_legal_sjz
    assert "已督促解除查封。" in c.get(f"/supervision/alerts/{alert.pk}/").content.decode()
    # another region's alert: not found for this office
    assert c.get(f"/supervision/alerts/{Alert.objects.get(key=f'deadline:{other.pk}').pk}/").status_code == 404


def test_a_failing_rule_spares_the_others_and_fails_the_job(world):
    def broken(*, today):
        raise RuntimeError("source broken")
        yield  # pragma: no cover

    d = case_deadline(world, "decision", D)
    from sanxiang.supervision import alerts

    original = alerts._RULES["cases.seizure_period"]
    register_alert_rule("cases.seizure_period", "broken", broken)
    try:
        with pytest.raises(services.AlertRulesFailed) as info:
            services.refresh_alerts(today=D)
    finally:
        alerts._RULES["cases.seizure_period"] = original
    assert info.value.codes == ["cases.seizure_period"]
    assert Alert.objects.filter(key=f"deadline:{d.pk}", status=AlertStatus.OPEN).exists()


def test_an_officer_reads_only_the_alerts_naming_them_and_the_head_all_of_the_agencys(world, no_totp):
    world.changan_officer.user = world.u_changan
    world.changan_officer.save()
    named = case_deadline(world, "decision", D, case=make_case(world, lead=world.changan_officer))
    unnamed = case_deadline(world, "seizure", D)
    head = make_user("head_changan", Role.AGENCY_HEAD, agency=world.amr_changan)
    services.refresh_alerts(today=D)
    officer = client_for(world.u_changan)
    assert [i["title"] for i in officer.get("/api/v1/supervision/alerts").json()["items"]] == [
        Alert.objects.get(key=f"deadline:{named.pk}").title]
    other = Alert.objects.get(key=f"deadline:{unnamed.pk}")
    assert officer.get(f"/supervision/alerts/{other.pk}/").status_code == 404
    assert client_for(head).get("/api/v1/supervision/alerts").json()["count"] == 2


def test_the_cockpit_counts_the_open_and_the_red_alerts_of_each_agency_until_one_is_closed(world, spread):
    ids = [world.amr_changan.pk, world.amr_lunan.pk]
    tally = figures.compute(agency_ids=ids, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), today=D)
    assert (tally[world.amr_changan.pk]["source.alerts_open"], tally[world.amr_changan.pk]["source.alerts_red"]) == (2, 1)
    assert (tally[world.amr_lunan.pk]["source.alerts_open"], tally[world.amr_lunan.pk]["source.alerts_red"]) == (1, 1)
    red = Alert.objects.get(agency=world.amr_changan, level="red", status=AlertStatus.OPEN)
    services.close_alert(actor=world.u_legal_sjz, alert=red, reason="已督促整改，当事人已补正")
    tally = figures.compute(agency_ids=ids, date_from=date(2026, 1, 1), date_to=date(2026, 12, 31), today=D)
    assert (tally[world.amr_changan.pk]["source.alerts_open"], tally[world.amr_changan.pk]["source.alerts_red"]) == (1, 0)
