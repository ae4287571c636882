"""Every procedure path can be completed (issue 11 item 3): each step of
each process definition (``catalog/processes/*.yaml``) is reached and
completed through the HTTP API, as an agency's case system would drive it;
the hearing (request, 听证通知书 at least 7 working days ahead, the hearing
with its record and report, legal review, decision) and evidence
preservation (先行登记保存, art. 56, with its handling deadline) have their
endpoints; every record can be entered after the fact with its real date,
never a future one."""

from __future__ import annotations

from collections import deque
from datetime import date, timedelta

import pytest
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.catalog.processes import all_processes
from sanxiang.cases.models import Case, CaseStatus, StepStatus
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry
from sanxiang.core.vocabulary import EnforcementCategory

from .conftest import at
from sanxiang.core.validators import make_certificate_number

JSON = "application/json"


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


@pytest.fixture
def api(world, head):
    """The agency's case system (a token with cases:write), the head's
    session (AV exemptions are approved by a person), and two officers whose
    certificates cover every enforcement category."""
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    system = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    head_session = Client()
    head_session.force_login(head)
    officers = [core_services.create_officer(
        actor="t", name=name, agency=world.amr_changan, certificate_number=make_certificate_number("130102", n),
        categories=list(EnforcementCategory.values), enforcement_region=world.changan, valid_from=date(2024, 1, 1),
        valid_to=date(2029, 12, 31), post="执法队员") for name, n in (("周全能", 31), ("郑多面", 32))]
    return type("Api", (), {"system": system, "head": head_session, "officers": officers})


def _path_to(definition, target: str) -> list[str]:
    """The shortest sequence of steps from the first step to `target`
    following each step's `next` and `returns`."""
    first = definition.steps[0].code
    queue, seen = deque([[first]]), {first}
    while queue:
        path = queue.popleft()
        if path[-1] == target:
            return path
        spec = definition.step(path[-1])
        for code in [*spec.next, *spec.returns]:
            if code not in seen:
                seen.add(code)
                queue.append([*path, code])
    raise AssertionError(f"{definition.act_kind}-{definition.procedure}: no path to {target}")


def _paths_covering_every_step(definition) -> list[list[str]]:
    """Paths, longest first, until every step lies on one of them."""
    paths = sorted((_path_to(definition, s.code) for s in definition.steps), key=len, reverse=True)
    chosen, covered = [], set()
    for path in paths:
        if path[-1] not in covered:
            chosen.append(path)
            covered.update(path)
    return chosen


def _ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


class Walker:
    """Drives one case through the API, one step a day from `day` on."""

    def __init__(self, api, case_id: int, day: date):
        self.api, self.case_id, self.day = api, case_id, day

    def url(self, tail=""):
        return f"/api/v1/cases/{self.case_id}{tail}"

    def case(self):
        return _ok(self.api.system.get(self.url()))

    def prepare(self, code: str, case: dict) -> None:
        """What the law asks before a step: a penalty hearing needs the
        party's request and the 听证通知书 served 7 working days ahead; a
        penalty decision without a hearing waits for the request period or
        the party's written waiver."""
        if case["act_kind"] != "penalty" or case["procedure"] != "general":
            return
        if code == "hearing" and not case["hearing_notified_on"]:
            if not case["hearing_requested"]:
                _ok(self.api.system.post(self.url("/hearing-request"), {"requested_on": self.day.isoformat()},
                                         content_type=JSON))
            notice = _ok(self.api.system.post(self.url("/hearing-notice"), {
                "notified_on": self.day.isoformat(), "hearing_on": (self.day + timedelta(days=14)).isoformat()},
                content_type=JSON))
            earliest = [d for d in notice["deadlines"] if d["kind"] == "hearing_notice" and not d["superseded"]]
            self.day = date.fromisoformat(earliest[0]["due_on"])
        elif code == "decision" and not case["hearing_requested"] and not case["hearing_waived_on"]:
            _ok(self.api.system.post(self.url("/hearing-waiver"), {"waived_on": self.day.isoformat()}, content_type=JSON))

    def run(self, code: str, documents=()) -> dict:
        self.prepare(code, self.case())
        step = _ok(self.api.system.post(self.url("/steps"), {"code": code, "at": f"{self.day}T09:00:00+08:00"},
                                        content_type=JSON), 201)
        if step["av_requirement"]:
            # 记录-4: no AV uploaded here, so an exemption asked by the system
            # and approved by the head (the AV upload is the evidence app's).
            _ok(self.api.system.post(self.url(f"/steps/{step['id']}/av-exemption"), {"reason": "执法记录仪故障，已报修"},
                                     content_type=JSON), 201)
            _ok(self.api.head.post(self.url(f"/steps/{step['id']}/av-exemption/approve")))
        done = _ok(self.api.system.post(self.url(f"/steps/{step['id']}/complete"), {
            "at": f"{self.day}T10:00:00+08:00", "documents": list(documents)}, content_type=JSON))
        assert done["status"] == StepStatus.COMPLETED
        self.day += timedelta(days=1)
        return done


DEFINITIONS = [(d.act_kind, d.procedure) for d in all_processes()]


@pytest.mark.parametrize("act_kind,procedure", DEFINITIONS, ids=[f"{a}-{p}" for a, p in DEFINITIONS])
def test_every_step_of_every_process_definition_is_reached_and_completed_through_the_api(world, api, act_kind, procedure):
    definition = next(d for d in all_processes() if (d.act_kind, d.procedure) == (act_kind, procedure))
    completed = set()
    for path in _paths_covering_every_step(definition):
        body = _ok(api.system.post("/api/v1/cases", {
            "title": f"{definition.title}路径{'-'.join(path)}", "act_kind": act_kind, "procedure": procedure,
            "party_name": "石家庄某某有限公司", "party_type": "legal_person", "opened_on": "2026-09-01",
            "officer_ids": [o.pk for o in api.officers]}, content_type=JSON), 201)
        walker = Walker(api, body["id"], date(2026, 9, 1))
        for code in path:
            walker.run(code)
            completed.add(code)
        case = walker.case()
        assert [s["code"] for s in case["steps"]] == path
        final = not definition.step(path[-1]).next
        assert case["status"] == (CaseStatus.CLOSED if final else CaseStatus.OPEN)
    assert completed == set(definition.codes), set(definition.codes) - completed


def test_a_hearing_requested_in_time_is_noticed_held_reviewed_and_decided_through_the_api(world, api, head):
    """Journey (d) through the API: request, 听证通知书 at least 7 working
    days before the hearing (art. 64 (2), dated rule
    penalty.hearing_notice_limit), the hearing with its record and report,
    the legal review a hearing makes mandatory (art. 58), the decision."""
    from sanxiang.core.models import Role
    from sanxiang.review import services as review_services

    body = _ok(api.system.post("/api/v1/cases", {
        "title": "某公司销售不合格产品案", "act_kind": "penalty", "party_name": "石家庄某某有限公司",
        "party_type": "legal_person", "opened_on": "2026-09-01", "officer_ids": [o.pk for o in api.officers],
        "proposed_penalty_categories": ["罚款"], "proposed_fine_fen": 3_000_000}, content_type=JSON), 201)
    walker = Walker(api, body["id"], date(2026, 9, 1))
    for code in ("opening", "investigation", "notification"):
        walker.run(code)
    notified = date(2026, 9, 3)  # the notification step's day
    r = api.system.post(walker.url("/hearing-notice"), {"notified_on": "2026-09-04", "hearing_on": "2026-09-21"},
                        content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "hearing_not_requested"
    _ok(api.system.post(walker.url("/hearing-request"), {"requested_on": (notified + timedelta(days=1)).isoformat()},
                        content_type=JSON))
    # the decision waits for the hearing; the hearing for its notice
    r = api.system.post(walker.url("/steps"), {"code": "decision", "at": "2026-09-07T09:00:00+08:00"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "hearing_pending"
    r = api.system.post(walker.url("/steps"), {"code": "hearing", "at": "2026-09-07T09:00:00+08:00"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "hearing_not_noticed"
    # served on paper on Friday 4 September, entered later with that day: the
    # hearing is at the earliest 7 working days later, Tuesday 15 September
    r = api.system.post(walker.url("/hearing-notice"), {"notified_on": "2026-09-04", "hearing_on": "2026-09-14"},
                        content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "hearing_too_early" and r.json()["field"] == "hearing_on"
    assert "2026年09月15日" in r.json()["message"] and "第六十四条" in r.json()["message"]
    tomorrow = clock.today() + timedelta(days=1)
    r = api.system.post(walker.url("/hearing-notice"), {"notified_on": tomorrow.isoformat(),
                                                        "hearing_on": (tomorrow + timedelta(days=30)).isoformat()},
                        content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "future" and r.json()["field"] == "notified_on"
    assert "听证通知书送达日期" in r.json()["message"]
    case = _ok(api.system.post(walker.url("/hearing-notice"), {"notified_on": "2026-09-04", "hearing_on": "2026-09-15"},
                               content_type=JSON))
    assert (case["hearing_notified_on"], case["hearing_scheduled_on"]) == ("2026-09-04", "2026-09-15")
    notice = next(d for d in case["deadlines"] if d["kind"] == "hearing_notice")
    assert (notice["due_on"], notice["rule_name"], notice["rule_unit"]) == ("2026-09-15", "penalty.hearing_notice_limit",
                                                                            "working_days")
    r = api.system.post(walker.url("/steps"), {"code": "hearing", "at": "2026-09-14T09:00:00+08:00"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "hearing_too_early"
    walker.day = date(2026, 9, 15)
    walker.run("hearing", documents=[{"kind": "听证笔录"}, {"kind": "听证报告"}])
    case = walker.case()
    assert case["hearing_on"] == "2026-09-15"
    # a notice after the hearing was held is refused
    r = api.system.post(walker.url("/hearing-notice"), {"notified_on": "2026-09-16", "hearing_on": "2026-09-28"},
                        content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "hearing_held"
    # art. 58 (1) (2): the hearing makes legal review mandatory
    r = api.system.post(walker.url("/steps"), {"code": "decision", "at": "2026-09-16T09:00:00+08:00"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "review_required"
    reviewer_login = core_services.create_user(actor="t", username="changan_reviewer", password=world.password,
                                               role=Role.LEGAL_REVIEWER, agency=world.amr_changan)
    reviewer = review_services.register_reviewer(actor=head, user=reviewer_login, name="刘法审",
                                                 qualification_number="A20191301001", qualification_date=date(2019, 12, 1),
                                                 first_time=True)
    parts = [{"kind": k, "text": t} for k, t in (
        ("investigation_report", "调查终结报告"), ("proposed_handling", "拟罚款三万元"), ("draft_decision", "决定书草稿"),
        ("evidence_list", "现场检查笔录、询问笔录"), ("hearing_record", "听证笔录、听证报告"))]
    submission = _ok(api.system.post(f"/api/v1/review/cases/{walker.case_id}/submissions",
                                     {"parts": parts, "received_on": "2026-09-16"}, content_type=JSON), 201)
    _ok(api.head.post(f"/api/v1/review/submissions/{submission['id']}/assign", {"reviewer_id": reviewer.pk},
                      content_type=JSON))
    reviewer_session = Client()
    reviewer_session.force_login(reviewer_login)
    checklist = {item: {"result": "pass", "comment": ""} for item in
                 ("standing", "qualification", "procedure", "facts", "law", "documents", "transfer")}
    _ok(reviewer_session.post(f"/api/v1/review/submissions/{submission['id']}/opinion",
                              {"checklist": checklist, "opinion_text": "同意"}, content_type=JSON))
    walker.day = clock.today() if clock.today() < date(2026, 9, 17) else date(2026, 9, 17)
    walker.run("decision")
    case = walker.case()
    assert case["decided_on"] and [s["code"] for s in case["steps"]] == [
        "opening", "investigation", "notification", "hearing", "decision"]
    actions = list(AuditEntry.objects.filter(object_id=str(walker.case_id), action__startswith="case.hearing")
                   .values_list("action", flat=True))
    assert actions == ["case.hearing_request", "case.hearing_notice"]


def test_evidence_preservation_is_registered_with_its_7_working_day_deadline_and_handled_through_the_api(world, api):
    body = _ok(api.system.post("/api/v1/cases", {
        "title": "某超市销售过期食品案", "act_kind": "penalty", "party_name": "石家庄某超市有限公司",
        "party_type": "legal_person", "opened_on": "2026-09-01", "officer_ids": [o.pk for o in api.officers]},
        content_type=JSON), 201)
    url = f"/api/v1/cases/{body['id']}/preservations"
    tomorrow = clock.today() + timedelta(days=1)
    r = api.system.post(url, {"preserved_on": tomorrow.isoformat(), "items": "过期牛奶20箱"}, content_type=JSON)
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("future", "preserved_on")
    assert "先行登记保存日期" in r.json()["message"]
    r = api.system.post(url, {"preserved_on": "2026-09-25", "items": "  "}, content_type=JSON)
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("required", "items")
    # registered on Friday 25 September 2026: 7 working days skip the National
    # Day holiday (1-7 October) and count Saturday 10 October, a make-up day
    first = _ok(api.system.post(url, {"preserved_on": "2026-09-25", "items": "过期牛奶20箱"}, content_type=JSON), 201)
    assert first["due_on"] == "2026-10-12" and "第五十六条" in first["rule_reference"]
    second = _ok(api.system.post(url, {"preserved_on": "2026-09-28", "items": "进货台账1本"}, content_type=JSON), 201)
    case = _ok(api.system.get(f"/api/v1/cases/{body['id']}"))
    rows = [d for d in case["deadlines"] if d["kind"] == "preservation"]
    assert len(rows) == 2 and not any(d["superseded"] for d in rows), rows  # each registration keeps its own period
    assert [p["items"] for p in case["preservations"]] == ["过期牛奶20箱", "进货台账1本"]
    r = api.system.post(f"{url}/{first['id']}/handled", {"handled_on": tomorrow.isoformat(), "handling": "解除登记保存"},
                        content_type=JSON)
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("future", "handled_on")
    r = api.system.post(f"{url}/{first['id']}/handled", {"handled_on": "2026-09-24", "handling": "解除登记保存"},
                        content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "out_of_order"
    handled = _ok(api.system.post(f"{url}/{first['id']}/handled", {"handled_on": "2026-10-09", "handling": "依法没收"},
                                  content_type=JSON))
    assert (handled["handled_on"], handled["handling"]) == ("2026-10-09", "依法没收")
    r = api.system.post(f"{url}/{first['id']}/handled", {"handled_on": "2026-10-09", "handling": "依法没收"},
                        content_type=JSON)
    assert r.status_code == 422 and r.json()["code"] == "already_handled"
    case = _ok(api.system.get(f"/api/v1/cases/{body['id']}"))
    met = {d["id"]: d["met"] for d in case["deadlines"] if d["kind"] == "preservation"}
    assert sorted(met.values()) == [False, True]
    assert Case.objects.get(pk=body["id"]).preservations.get(pk=second["id"]).handled_on is None


def test_records_entered_after_the_fact_take_their_real_date_but_never_a_future_one(world, api):
    body = _ok(api.system.post("/api/v1/cases", {
        "title": "某公司无照经营案", "act_kind": "penalty", "party_name": "石家庄某某有限公司",
        "party_type": "legal_person", "opened_on": "2026-09-01", "officer_ids": [o.pk for o in api.officers]},
        content_type=JSON), 201)
    walker = Walker(api, body["id"], date(2026, 9, 1))
    for code in ("opening", "investigation", "notification"):
        walker.run(code)
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    for tail, payload, field in (("/hearing-request", {"requested_on": tomorrow}, "requested_on"),
                                 ("/hearing-waiver", {"waived_on": tomorrow}, "waived_on")):
        r = api.system.post(walker.url(tail), payload, content_type=JSON)
        assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("future", field), r.content
        assert "不能晚于今天" in r.json()["message"]
    r = api.system.post(walker.url("/steps"), {"code": "decision", "at": f"{tomorrow}T09:00:00+08:00"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["field"] == "at"
    # the real date, two days after the notice, is accepted
    case = _ok(api.system.post(walker.url("/hearing-request"), {"requested_on": "2026-09-05"}, content_type=JSON))
    assert case["hearing_requested_on"] == "2026-09-05"


def test_only_the_agency_head_approves_an_av_exemption_through_the_api(world, api):
    body = _ok(api.system.post("/api/v1/cases", {
        "title": "某公司无照经营案", "act_kind": "penalty", "party_name": "石家庄某某有限公司",
        "party_type": "legal_person", "opened_on": "2026-09-01", "officer_ids": [o.pk for o in api.officers]},
        content_type=JSON), 201)
    walker = Walker(api, body["id"], date(2026, 9, 1))
    walker.run("opening")
    step = _ok(api.system.post(walker.url("/steps"), {"code": "investigation", "at": "2026-09-02T09:00:00+08:00"},
                               content_type=JSON), 201)
    assert step["av_requirement"]
    r = api.system.post(walker.url(f"/steps/{step['id']}/av-exemption/approve"))
    assert r.status_code == 404  # nothing asked yet
    _ok(api.system.post(walker.url(f"/steps/{step['id']}/av-exemption"), {"reason": "执法记录仪故障，已报修"},
                        content_type=JSON), 201)
    r = api.system.post(walker.url(f"/steps/{step['id']}/av-exemption/approve"))
    assert r.status_code == 403  # the system that asked is no head
    approved = _ok(api.head.post(walker.url(f"/steps/{step['id']}/av-exemption/approve")))
    assert approved["approved"] is True


def test_a_step_recorded_afterwards_on_the_pages_keeps_its_real_time_but_never_a_future_one(world, open_case):
    """The start and complete forms take when it really happened (blank:
    now), as the API's ``at`` does; a moment in the future is refused."""
    case = open_case()
    page = Client()
    page.force_login(world.u_changan)
    officers = [world.changan_officer.pk, world.changan_officer2.pk]
    future = (clock.now() + timedelta(days=2)).astimezone(clock.SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    r = page.post(f"/workbench/cases/{case.pk}/steps/start/opening/", {"officers": officers, "at": future})
    assert r.status_code == 400 and "不能晚于当前时间" in r.content.decode()
    assert not case.steps.exists()
    r = page.post(f"/workbench/cases/{case.pk}/steps/start/opening/", {"officers": officers, "at": "2026-09-01T09:30"})
    assert r.status_code == 302
    step = case.steps.get()
    assert step.started_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") == "2026-09-01 09:30"
    r = page.post(f"/workbench/cases/{case.pk}/steps/{step.pk}/", {"at": "2026-09-01T10:15", "documents": "立案审批表"})
    assert r.status_code == 302
    step.refresh_from_db()
    assert step.status == StepStatus.COMPLETED
    assert step.completed_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") == "2026-09-01 10:15"


def test_the_hearing_record_and_report_are_issued_in_the_hearing_step_and_listed_with_it(world, api, open_case, walk):
    """听证笔录 (art. 64 (8)) and 听证报告 (the presiding officer's report,
    art. 65) are documents of the hearing step: the step's API answer lists
    them with its issued documents."""
    from sanxiang.cases import services
    from sanxiang.documents.services import issue_document

    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 9, 3))
    services.record_hearing_notice(actor=world.u_changan, case=case, notified_on=date(2026, 9, 4),
                                   hearing_on=date(2026, 9, 15))
    step = services.start_step(actor=world.u_changan, case=case, code="hearing", at=at(date(2026, 9, 15)))
    common = {"held_at": "2026-09-15T09:00", "place": "本局听证室", "presiding_officer": "张法审", "clerk": "孙记录",
              "attendees": "石家庄某某超市有限公司委托代理人王某", "investigators_case": "当事人销售过期食品，建议罚款三万元",
              "party_statement": "当事人称系库存管理疏漏，请求从轻"}
    record = issue_document(actor=world.u_changan, case=case, kind="hearing_record", step=step,
                            data={**common, "investigators": "王建国、李秀英"})
    report = issue_document(actor=world.u_changan, case=case, kind="hearing_report", step=step,
                            data={**common, "findings": "违法事实清楚，证据确凿", "recommendation": "维持罚款三万元的处罚建议"})
    assert (record.title, report.title) == ("听证笔录", "听证报告")
    body = _ok(api.system.get(f"/api/v1/cases/{case.pk}"))
    hearing = next(s for s in body["steps"] if s["code"] == "hearing")
    assert [d["title"] for d in hearing["issued_documents"]] == ["听证笔录", "听证报告"]


def test_evidence_preservation_is_registered_and_handled_on_the_case_page_with_its_deadline_shown(world, open_case):
    case = open_case()
    page = Client()
    page.force_login(world.u_changan)
    detail = f"/workbench/cases/{case.pk}/"
    assert "证据先行登记保存" in page.get(detail).content.decode()
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    r = page.post(f"{detail}preservations/", {"preserved_on": tomorrow, "items": "过期牛奶20箱"}, follow=True)
    assert "先行登记保存日期" in r.content.decode() and "不能晚于今天" in r.content.decode()
    assert not case.preservations.exists()
    r = page.post(f"{detail}preservations/", {"preserved_on": "2026-09-25", "items": "过期牛奶20箱"}, follow=True)
    text = r.content.decode()
    preservation = case.preservations.get()
    assert f'data-preservation="{preservation.pk}"' in text and "2026-10-12" in text and "过期牛奶20箱" in text
    assert "第五十六条" in text  # the rule's reference, in the deadline table
    r = page.post(f"{detail}preservations/{preservation.pk}/handled/", {"handled_on": "2026-10-09", "handling": "依法没收"},
                  follow=True)
    preservation.refresh_from_db()
    assert preservation.handled_on == date(2026, 10, 9) and "依法没收" in r.content.decode()
    assert preservation.deadline.met_at is not None
    assert AuditEntry.objects.filter(action="case.preservation_handled", object_id=str(case.pk)).exists()
