"""The rules of procedure are enforced, not advised (记录-1, penalty law arts.
42, 44, 51, 60-64; coercion law arts. 18, 25)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sanxiang.cases import services
from sanxiang.cases.models import CaseStatus, DeadlineKind, StepStatus
from sanxiang.cases.predicates import can_decide, can_start_step, next_steps
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry
from sanxiang.core.validators import make_certificate_number

from .conftest import at


def _error(exc: ValidationError) -> tuple[str, str]:
    field, errors = next(iter(exc.error_dict.items()))
    return errors[0].code, " ".join(errors[0].messages)


def test_a_case_with_one_officer_cannot_open_an_investigation_step(world, open_case, walk):
    case = open_case(officers=[world.changan_officer])
    walk(case, ["opening"], date(2026, 9, 1))
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2)))
    code, message = _error(exc.value)
    assert code == "too_few_officers"
    assert "不得少于2人" in message and "第四十二条" in message
    assert not case.steps.filter(code="investigation").exists()


def test_an_officer_whose_certificate_expired_cannot_open_an_investigation_step(world, open_case, walk):
    expiring = core_services.create_officer(
        actor="t", name="陈立新", agency=world.amr_changan, certificate_number=make_certificate_number("130102", 3),
        categories=["penalty"], enforcement_region=world.changan, valid_from=date(2021, 1, 1), valid_to=date(2026, 9, 10))
    case = open_case(officers=[world.changan_officer, expiring])
    walk(case, ["opening"], date(2026, 9, 1))
    # valid on the 10th, expired on the 11th
    assert can_start_step(case, "investigation", on=date(2026, 9, 10))
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 11)))
    code, message = _error(exc.value)
    assert code == "certificate_invalid"
    assert "陈立新" in message and "已过有效期" in message and "第四十二条" in message


def test_an_officer_whose_categories_do_not_cover_the_act_cannot_take_part(world, open_case):
    case = open_case(act_kind="coercion", title="扣押涉嫌假冒商品")
    verdict = can_start_step(case, "approval", on=date(2026, 9, 1))
    assert not verdict and verdict.code == "category_not_covered"
    assert "行政强制法" in verdict.reason and "第十八条" in verdict.reason


def test_a_summary_fine_above_the_limit_is_refused_citing_article_51(world, open_case):
    with pytest.raises(ValidationError) as exc:
        open_case(procedure="summary", party_type="natural_person", party_name="张某",
                  proposed_penalty_categories=["罚款"], proposed_fine_fen=20001)
    code, message = _error(exc.value)
    assert code == "summary_fine_limit"
    assert "第五十一条" in message and "200元" in message
    # at the limit it is accepted
    case = open_case(procedure="summary", party_type="natural_person", party_name="张某",
                     proposed_penalty_categories=["罚款"], proposed_fine_fen=20000)
    assert case.pk
    # an organisation's limit is higher, from its own rule
    org = open_case(procedure="summary", proposed_penalty_categories=["罚款"], proposed_fine_fen=300000)
    with pytest.raises(ValidationError) as exc:
        services.propose_decision(actor=world.u_changan, case=org, categories=["罚款"], fine_fen=300001)
    assert "第五十一条" in _error(exc.value)[1] and "3000元" in _error(exc.value)[1]


def test_a_summary_case_cannot_confiscate_or_revoke(world, open_case):
    case = open_case(procedure="summary")
    with pytest.raises(ValidationError) as exc:
        services.propose_decision(actor=world.u_changan, case=case, categories=["吊销许可证件"])
    assert _error(exc.value)[0] == "summary_category"


def test_the_decision_step_cannot_start_before_notification(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation"], date(2026, 9, 2))
    verdict = can_decide(case, on=date(2026, 9, 3))
    assert not verdict and verdict.code == "not_notified"
    assert "第四十四条" in verdict.reason and "第六十二条" in verdict.reason
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="decision", at=at(date(2026, 9, 3)))
    assert _error(exc.value)[0] == "step_not_next"
    walk(case, ["notification"], date(2026, 9, 3))
    assert can_decide(case, on=date(2026, 9, 20))


def test_a_review_that_returns_the_case_to_investigation_needs_a_new_notification(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification", "review", "investigation"], date(2026, 9, 2))
    verdict = can_decide(case, on=date(2026, 9, 3))
    assert not verdict and verdict.code == "not_notified"


def test_a_hearing_requested_in_time_must_be_held_before_the_decision(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    request_limit = case.deadlines.get(kind=DeadlineKind.HEARING_REQUEST)
    assert request_limit.due_on == date(2026, 9, 9)  # 5 working days after Wednesday 2 September
    services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 9, 8))
    verdict = can_start_step(case, "decision", on=date(2026, 9, 10))
    assert not verdict and verdict.code == "hearing_pending" and "第六十四条" in verdict.reason
    # the hearing needs its notice 7 working days ahead
    assert can_start_step(case, "hearing", on=date(2026, 9, 10)).code == "hearing_not_noticed"
    with pytest.raises(ValidationError) as exc:
        services.record_hearing_notice(actor=world.u_changan, case=case, notified_on=date(2026, 9, 10), hearing_on=date(2026, 9, 15))
    assert _error(exc.value)[0] == "hearing_too_early"
    notice = services.record_hearing_notice(actor=world.u_changan, case=case, notified_on=date(2026, 9, 10),
                                            hearing_on=date(2026, 9, 21))
    # 11, 14, 15, 16, 17, 18, and Sunday 20 September, a make-up working day (调休)
    assert notice.due_on == date(2026, 9, 20)
    assert can_start_step(case, "hearing", on=date(2026, 9, 19)).code == "hearing_too_early"
    walk(case, ["hearing"], date(2026, 9, 21))
    # the hearing no longer stands in the way (legal review may: a case that
    # went through a hearing is a major decision, art. 58)
    verdict = can_start_step(case, "decision", on=date(2026, 9, 22))
    assert verdict.ok or verdict.code == "review_required"


def test_a_hearing_request_after_the_period_is_refused(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    with pytest.raises(ValidationError) as exc:
        services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 9, 10))
    code, message = _error(exc.value)
    assert code == "hearing_request_late" and "第六十四条" in message


def test_no_decision_while_the_party_may_still_ask_for_a_hearing(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    # notified Wednesday 2 September: the party may ask until Wednesday 9 September
    verdict = can_start_step(case, "decision", on=date(2026, 9, 9))
    assert not verdict and verdict.code == "hearing_period_running"
    assert "2026年09月09日" in verdict.reason and "第六十四条" in verdict.reason
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="decision", at=at(date(2026, 9, 9)))
    assert _error(exc.value)[0] == "hearing_period_running"
    # the period lapsed with no request: the decision may be made
    assert can_start_step(case, "decision", on=date(2026, 9, 10))


def test_a_written_waiver_ends_the_hearing_request_period(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    with pytest.raises(ValidationError) as exc:
        services.record_hearing_waiver(actor=world.u_changan, case=case, waived_on=date(2026, 9, 1))
    assert _error(exc.value)[0] == "invalid"  # before the notice
    services.record_hearing_waiver(actor=world.u_changan, case=case, waived_on=date(2026, 9, 3))
    case.refresh_from_db()
    assert case.hearing_waived_on == date(2026, 9, 3)
    assert case.deadlines.get(kind=DeadlineKind.HEARING_REQUEST).met_at is not None
    assert can_start_step(case, "decision", on=date(2026, 9, 3))
    # a waiver is final: no request after it
    with pytest.raises(ValidationError) as exc:
        services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 9, 4))
    assert _error(exc.value)[0] == "hearing_waived"
    assert AuditEntry.objects.filter(action="case.hearing_waiver", object_id=str(case.pk)).exists()


def test_a_party_that_asked_for_a_hearing_cannot_be_recorded_as_waiving_it(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 9, 3))
    with pytest.raises(ValidationError) as exc:
        services.record_hearing_waiver(actor=world.u_changan, case=case, waived_on=date(2026, 9, 4))
    assert _error(exc.value)[0] == "hearing_requested"


def test_a_case_opened_on_1_september_2026_must_be_decided_by_30_november(world, open_case):
    case = open_case(opened_on=date(2026, 9, 1))
    deadline = case.deadlines.get(kind=DeadlineKind.DECISION)
    assert deadline.due_on == date(2026, 11, 30)
    assert (deadline.rule_name, deadline.rule_amount, deadline.rule_unit) == ("penalty.decision_limit", 90, "calendar_days")
    assert "第六十条" in deadline.rule_reference and not deadline.provisional


def test_service_is_due_7_working_days_after_a_decision_on_30_september_2026(world, open_case, walk):
    case = open_case(opened_on=date(2026, 9, 1))
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    walk(case, ["decision"], date(2026, 9, 30))
    case.refresh_from_db()
    assert case.decided_on == date(2026, 9, 30)
    service = case.deadlines.get(kind=DeadlineKind.SERVICE)
    # National Day 1-7 October; Saturday 10 October is a make-up working day.
    assert service.due_on == date(2026, 10, 15) and service.rule_unit == "working_days"
    assert case.deadlines.get(kind=DeadlineKind.DECISION).met_at is not None
    walk(case, ["service"], date(2026, 10, 9))
    assert case.deadlines.get(kind=DeadlineKind.SERVICE).met_at is not None


def test_a_seizure_lasts_30_days_not_rolled_past_a_holiday_and_may_be_extended_once(world, open_case, walk):
    for o in (world.changan_officer, world.changan_officer2):
        core_services.update_officer(actor="t", officer=o, categories=["penalty", "coercion"])
    case = open_case(act_kind="coercion", title="扣押涉嫌假冒商品")
    walk(case, ["approval", "notification", "execution"], date(2026, 9, 1))
    seizure = case.deadlines.get(kind=DeadlineKind.SEIZURE)
    # 30 calendar days from 1 September end on 1 October, a holiday: a maximum
    # period of the agency's own power does not roll (行政强制法第二十五条)
    assert seizure.due_on == date(2026, 10, 1)
    walk(case, ["extension"], date(2026, 9, 25))
    extension = case.deadlines.get(kind=DeadlineKind.SEIZURE_EXTENSION)
    seizure.refresh_from_db()
    assert seizure.superseded and extension.start_on == date(2026, 10, 1) and extension.due_on == date(2026, 10, 31)
    # 1 October + 30 days = 31 October, a Saturday: it stays (no roll)
    # no second extension: the process goes on to the decision only
    assert [code for code, _, _ in next_steps(case)] == ["decision"]


def test_one_step_at_a_time_and_only_the_steps_the_process_allows(world, open_case):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="decision", at=at(date(2026, 9, 1)))
    assert _error(exc.value)[0] == "step_not_next"
    services.start_step(actor=world.u_changan, case=case, code="opening", at=at(date(2026, 9, 1)))
    with pytest.raises(ValidationError) as exc:
        services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(date(2026, 9, 1), 11))
    assert _error(exc.value)[0] == "step_in_progress"


def test_completing_the_final_step_closes_the_case(world, open_case, walk):
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    walk(case, ["decision", "service", "execution", "closure"], date(2026, 9, 30))
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_on == date(2026, 9, 30)
    assert all(s.status == StepStatus.COMPLETED for s in case.steps.all())


def test_another_agency_cannot_write_to_a_case(world, open_case):
    case = open_case()
    with pytest.raises(PermissionDenied):
        services.start_step(actor=world.u_zhengding, case=case, code="opening", at=at(date(2026, 9, 1)))
    with pytest.raises(PermissionDenied):
        services.start_step(actor=world.u_legal_sjz, case=case, code="opening", at=at(date(2026, 9, 1)))


def test_each_write_appends_to_the_audit_chain(world, open_case, walk):
    from sanxiang.core.audit import verify_chain

    before = AuditEntry.objects.count()
    case = open_case()
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 2))
    services.record_hearing_request(actor=world.u_changan, case=case, requested_on=date(2026, 9, 3))
    services.propose_decision(actor=world.u_changan, case=case, categories=["罚款"], fine_fen=500000)
    actions = list(AuditEntry.objects.filter(seq__gt=before).values_list("action", flat=True))
    assert actions[0] == "case.open"
    assert actions.count("case.step_start") == 3 and actions.count("case.step_complete") == 3
    assert "case.av_exemption_request" in actions and "case.av_exemption_approve" in actions
    assert actions[-2:] == ["case.hearing_request", "case.propose_decision"]
    assert verify_chain().ok


def test_loading_2027_recomputes_a_provisional_case_deadline_and_audits_it(world, open_case):
    """A deadline counted into 2027 while 2027 has no official schedule is
    provisional; loading the year recomputes it (the fixture's New Year
    holiday moves it) and it is no longer provisional, with an audit entry.
    The deadline is counted through the cases app's own writer from 28
    December, because every public write refuses a date after today."""
    import json
    from pathlib import Path

    from sanxiang.core.calendar import load_schedule

    case = open_case()
    deadline = services._add_deadline(case=case, kind=DeadlineKind.SERVICE, rule="penalty.service_limit",
                                      start=date(2026, 12, 28))
    assert deadline.provisional and deadline.due_on == date(2027, 1, 6)  # Monday to Friday only
    load_schedule(path=Path(__file__).resolve().parents[2] / "core/tests/data/schedule-2027-fixture.yaml",
                  actor="test")
    deadline.refresh_from_db()
    # 1–3 January 2027 are holidays in the fixture: 29, 30, 31 Dec, 4, 5, 6, 7 Jan
    assert (deadline.due_on, deadline.provisional) == (date(2027, 1, 7), False)
    payload = json.loads(AuditEntry.objects.get(action="case.deadline_recompute").payload)
    assert payload["before"]["due_on"] == "2027-01-06" and payload["after"]["due_on"] == "2027-01-07"
    assert payload["after"]["provisional"] is False
    assert AuditEntry.objects.filter(action="calendar.recompute").exists()
