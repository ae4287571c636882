"""On-time publication, correction, withdrawal, publicity periods and early
end (公示-2, 公示-14), through the services and the real portal pages."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision, DecisionStatus, PublicDecision
from sanxiang.core import clock

ID_NUMBER = "11010519491231002X"


def penalty(external_id="CF-1", **overrides) -> dict:
    record = {
        "external_id": external_id, "kind": "penalty", "doc_number": f"冀长市监罚〔2026〕{external_id[-1]}号",
        "party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person",
        "party_credit_code": "91350100M000100Y43", "legal_representative": "王大明",
        "decision_date": "2026-09-30", "violation_type": "销售过期食品",
        "facts": "当事人于2026年8月在其经营场所销售超过保质期的食品，货值金额1200元。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        "penalty_categories": ["罚款", "没收违法所得、没收非法财物"], "fine_fen": 5000000, "confiscation_fen": 120000,
        "content": "没收违法所得1200元，罚款人民币50000元。",
    }
    record.update(overrides)
    return record


@pytest.fixture
def publicity_admin(world):
    return core_services.create_user(actor="t", username="pub_changan", password=world.password,
                                     role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)


def receive(world, *records, source="api"):
    return services.receive_records(actor="t", agency=world.amr_changan, records=list(records), source=source)


def test_a_penalty_decided_on_2026_09_30_is_due_for_publication_on_2026_10_15(world):
    result = receive(world, penalty())[0]
    decision = Decision.objects.get(pk=result.decision_id)
    assert decision.publication_due == date(2026, 10, 15)
    assert not decision.publication_due_provisional
    assert "118号" in decision.publication_rule


def test_other_decisions_get_20_working_days(world):
    result = receive(world, penalty(kind="coercion", penalty_categories=[], fine_fen=None, confiscation_fen=None))[0]
    # 20 working days after 2026-09-30: Oct 8-10 (10th a make-up Saturday), then weekdays to Nov 3.
    assert Decision.objects.get(pk=result.decision_id).publication_due == date(2026, 11, 3)


def test_pushing_the_same_key_twice_is_a_correction_not_a_duplicate(world):
    receive(world, penalty())
    receive(world, penalty(content="罚款人民币40000元。", correction_reason="复议变更罚款数额"))
    decision = Decision.objects.get(agency=world.amr_changan, external_id="CF-1")
    assert Decision.objects.filter(agency=world.amr_changan).count() == 1
    assert decision.version == 2 and list(decision.versions.values_list("number", flat=True)) == [1, 2]


def test_publishing_redacts_and_the_private_record_keeps_the_original(world, publicity_admin):
    rec = penalty(party_name="张三丰", party_type="natural_person", party_credit_code="", party_id_type="身份证",
                  party_id_number=ID_NUMBER, legal_representative="",
                  facts="当事人张三丰（身份证号11010519491231002X，电话13812345678）销售过期食品。")
    decision = Decision.objects.get(pk=receive(world, rec)[0].decision_id)
    public = services.publish_decision(actor=publicity_admin, decision=decision)
    page = Client().get(f"/decisions/{public.pk}/").content.decode()
    for secret in (ID_NUMBER, "13812345678", "张三丰"):
        assert secret not in page
    assert "张某某" in page
    decision.refresh_from_db()
    assert decision.data["party_id_number"] == ID_NUMBER and decision.status == DecisionStatus.PUBLISHED
    assert AuditEntry.objects.filter(action="publicity.publish", object_id=str(decision.pk)).exists()


def test_a_correction_of_a_published_decision_publishes_a_new_version_with_its_reason(world, publicity_admin):
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    public = services.publish_decision(actor=publicity_admin, decision=decision)
    receive(world, penalty(content="罚款人民币40000元。", fine_fen=4000000, correction_reason="复议决定变更罚款数额"))
    page = Client().get(f"/decisions/{public.pk}/").content.decode()
    assert "40000元" in page and "复议决定变更罚款数额" in page
    assert list(PublicDecision.objects.get(pk=public.pk).history.values_list("number", flat=True)) == [1, 2]
    assert AuditEntry.objects.filter(action="publicity.correct", object_id=str(decision.pk)).exists()


def test_a_withdrawn_decision_leaves_search_and_detail_and_the_notice_appears(world, publicity_admin):
    from sanxiang.publicity.search import search_public

    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    public = services.publish_decision(actor=publicity_admin, decision=decision)
    assert [p.pk for p in search_public(q="保质期").items] == [public.pk]
    notice = services.withdraw_decision(actor=publicity_admin, decision=decision, ground="revoked",
                                        reason="经行政复议，原处罚决定被撤销。")
    assert search_public(q="保质期").count == 0
    r = Client().get(f"/decisions/{public.pk}/")
    html = r.content.decode()
    assert r.status_code == 410 and "经行政复议，原处罚决定被撤销。" in html and "保质期" not in html
    assert "经行政复议" in Client().get("/decisions/withdrawn/").content.decode()
    assert notice.on_time and notice.due >= clock.today()
    assert AuditEntry.objects.filter(action="publicity.withdraw", object_id=str(decision.pk)).exists()


def test_withdrawal_due_counts_3_working_days_for_penalties(world, publicity_admin):
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    services.publish_decision(actor=publicity_admin, decision=decision)
    # Changed on Friday 2026-09-25: 3 working days → Wednesday 2026-09-30 (in the past now: not on time).
    notice = services.withdraw_decision(actor=publicity_admin, decision=decision, ground="changed",
                                        reason="变更", changed_on=date(2026, 9, 25))
    assert notice.due == date(2026, 9, 30)


def test_the_withdrawal_due_date_is_shown_on_the_workbench_and_in_the_api(world, publicity_admin):
    from sanxiang.api.services import create_token

    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    services.publish_decision(actor=publicity_admin, decision=decision)
    services.withdraw_decision(actor=publicity_admin, decision=decision, ground="changed",
                               reason="变更", changed_on=date(2026, 9, 25))
    c = Client()
    c.force_login(publicity_admin)
    page = c.get(f"/workbench/publicity/{decision.pk}/").content.decode()
    assert "撤下期限" in page and "2026-09-30" in page and "已逾期" in page  # withdrawn after the 3 working days
    token = create_token(actor="t", agency=world.amr_changan, name="办案系统", scopes=["publicity:push"])[1]
    body = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/v1/publicity/decisions/{decision.external_id}").json()
    assert (body["withdrawal_due"], body["withdrawal_on_time"]) == ("2026-09-30", False)


def test_minors_and_confidential_records_are_never_published(world, publicity_admin):
    results = receive(world, penalty("CF-2", is_minor=True), penalty("CF-3", confidential=True))
    for r in results:
        decision = Decision.objects.get(pk=r.decision_id)
        assert decision.status == DecisionStatus.NOT_PUBLIC and decision.not_public_reason
        with pytest.raises(ValidationError):
            services.publish_decision(actor=publicity_admin, decision=decision)
    assert not PublicDecision.objects.exists()


def test_another_agencys_publicity_admin_cannot_publish(world):
    other = core_services.create_user(actor="t", username="pub_zd", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_zhengding)
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    with pytest.raises(PermissionDenied):
        services.publish_decision(actor=other, decision=decision)


def test_auto_publish_agency_publishes_on_receipt(world):
    services.set_auto_publish(actor="t", agency=world.amr_changan, enabled=True)
    result = receive(world, penalty())[0]
    assert result.published and Decision.objects.get(pk=result.decision_id).status == DecisionStatus.PUBLISHED


def test_publicity_period_short_for_circulated_criticism_and_small_fines_long_otherwise(world, publicity_admin):
    light = Decision.objects.get(pk=receive(world, penalty("CF-4", penalty_categories=["通报批评"], fine_fen=None, confiscation_fen=None))[0].decision_id)
    heavy = Decision.objects.get(pk=receive(world, penalty("CF-5"))[0].decision_id)
    for d in (light, heavy):
        services.publish_decision(actor=publicity_admin, decision=d)
        d.refresh_from_db()
    start = clock.local_date(light.published_at)  # the Shanghai date, like publicity_end (not UTC)
    assert (light.publicity_end - start).days in range(89, 93)
    assert (heavy.publicity_end - start).days in range(1095, 1097)


def test_records_leave_the_portal_on_their_publicity_end_date(world, publicity_admin):
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    public = services.publish_decision(actor=publicity_admin, decision=decision)
    decision.refresh_from_db()
    assert services.expire_publicity(today=decision.publicity_end - timedelta(days=1)) == 0
    assert Client().get(f"/decisions/{public.pk}/").status_code == 200
    assert services.expire_publicity(today=decision.publicity_end) == 1
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.EXPIRED
    assert Client().get(f"/decisions/{public.pk}/").status_code == 404
    assert AuditEntry.objects.filter(action="publicity.expire").exists()


def test_early_end_needs_the_legal_offices_approval_and_is_refused_for_revocations(world, publicity_admin, settings):
    settings.REQUIRE_TOTP = False
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    public = services.publish_decision(actor=publicity_admin, decision=decision)
    application = services.apply_early_end(actor=publicity_admin, decision=decision, reason="已整改并履行")
    assert Client().get(f"/decisions/{public.pk}/").status_code == 200  # not before approval
    with pytest.raises(PermissionDenied):
        services.decide_early_end(actor=world.u_legal_ts, application=application, approve=True)
    services.decide_early_end(actor=world.u_legal_sjz, application=application, approve=True, note="符合信用修复条件")
    assert Client().get(f"/decisions/{public.pk}/").status_code == 404

    revoked = Decision.objects.get(pk=receive(world, penalty("CF-6", penalty_categories=["吊销许可证件"]))[0].decision_id)
    services.publish_decision(actor=publicity_admin, decision=revoked)
    with pytest.raises(ValidationError):
        services.apply_early_end(actor=publicity_admin, decision=revoked, reason="整改")


def test_overdue_records_are_listed_with_a_timeliness_rate(world, publicity_admin):
    from sanxiang.publicity import selectors

    on_time = Decision.objects.get(pk=receive(world, penalty("CF-7", decision_date=clock.today().isoformat()))[0].decision_id)
    services.publish_decision(actor=publicity_admin, decision=on_time)
    receive(world, penalty("CF-8", decision_date="2026-01-05"))  # long overdue, never published
    overdue = selectors.overdue_for(user=world.u_legal_sjz)
    assert [d.external_id for d in overdue] == ["CF-8"]
    assert not selectors.overdue_for(user=world.u_legal_ts).exists()
    t = selectors.timeliness_for(user=world.u_legal_sjz)
    assert (t.published_on_time, t.overdue_unpublished, t.rate) == (1, 1, 0.5)


def test_loading_2027_recomputes_a_provisional_publication_due_date_and_audits_it(world):
    """A publication due date counted into 2027 while 2027 has no official
    schedule is provisional; loading the year recomputes it and it is no
    longer provisional, with an audit entry. The record is dated 20 December
    through the app's own planner (every intake refuses a date after today)."""
    import json
    from pathlib import Path

    from sanxiang.core.calendar import load_schedule

    decision = Decision.objects.get(pk=receive(world, penalty(kind="coercion", penalty_categories=[], fine_fen=None,
                                                              confiscation_fen=None))[0].decision_id)
    decision.decision_date = date(2026, 12, 20)
    services.plan_publication(decision, agency=decision.agency)
    decision.save()
    assert decision.publication_due_provisional and decision.publication_due == date(2027, 1, 15)
    load_schedule(path=Path(__file__).resolve().parents[2] / "core/tests/data/schedule-2027-fixture.yaml", actor="t")
    decision.refresh_from_db()
    # the fixture's 1 January 2027 (a Friday) is a holiday: one working day later
    assert (decision.publication_due, decision.publication_due_provisional) == (date(2027, 1, 18), False)
    payload = json.loads(AuditEntry.objects.get(action="publicity.deadline_recompute").payload)
    assert (payload["before"]["publication_due"], payload["after"]["publication_due"]) == ("2027-01-15", "2027-01-18")


def test_loading_2027_recomputes_a_provisional_withdrawal_due_date_and_audits_it(world, publicity_admin):
    """The withdrawal limit (3 working days from the change) into 2027 while
    2027 has no official schedule is provisional; loading the year recomputes
    it on the decision and its notice. The change is dated 30 December
    through the same rule (every write refuses a day after today)."""
    import json
    from pathlib import Path

    from sanxiang.core.calendar import load_schedule
    from sanxiang.core.deadlines import deadline_for
    from sanxiang.publicity.models import WithdrawalNotice

    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    services.publish_decision(actor=publicity_admin, decision=decision)
    services.withdraw_decision(actor=publicity_admin, decision=decision, ground="changed", reason="变更",
                               changed_on=date(2026, 9, 25))
    decision.refresh_from_db()
    assert (decision.withdrawal_changed_on, decision.withdrawal_due_provisional) == (date(2026, 9, 25), False)
    limit = deadline_for(rule="publicity.penalty_withdrawal_limit", start=date(2026, 12, 30), agency=decision.agency)
    assert (limit.date, limit.provisional) == (date(2027, 1, 4), True)
    Decision.objects.filter(pk=decision.pk).update(withdrawal_changed_on=date(2026, 12, 30), withdrawal_due=limit.date,
                                                   withdrawal_due_provisional=True)
    WithdrawalNotice.objects.filter(decision=decision).update(due=limit.date)
    load_schedule(path=Path(__file__).resolve().parents[2] / "core/tests/data/schedule-2027-fixture.yaml", actor="t")
    decision.refresh_from_db()
    assert (decision.withdrawal_due, decision.withdrawal_due_provisional) == (date(2027, 1, 5), False)
    assert WithdrawalNotice.objects.get(decision=decision).due == date(2027, 1, 5)
    payload = json.loads(AuditEntry.objects.get(action="publicity.withdrawal_deadline_recompute").payload)
    assert (payload["before"]["withdrawal_due"], payload["after"]["withdrawal_due"]) == ("2027-01-04", "2027-01-05")
