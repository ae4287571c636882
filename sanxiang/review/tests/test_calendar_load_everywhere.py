"""Loading a year's official holiday schedule leaves no deadline of that year
"暂定" (provisional) in any app (issue 11 item 4): case deadlines,
publication due dates, withdrawal limits, review limits and their approved
extensions are all recomputed (core/calendar_hooks.py; each app registers
its recompute). The check is generic: every model field of the project that
marks a deadline provisional — a boolean named ``*provisional*`` or a JSON
rule with ``"provisional": true`` — is scanned, so a new kind of stored
deadline whose app forgets to register its recompute fails here.

This test lives with the top app because it builds records in every app
(tests are outside the layer rule)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.apps import apps
from django.db import models

from sanxiang.cases import services as case_services
from sanxiang.cases.models import CaseDeadline, DeadlineKind
from sanxiang.core.calendar import load_schedule
from sanxiang.core.deadlines import deadline_for
from sanxiang.publicity import services as publicity_services
from sanxiang.publicity.models import Decision, WithdrawalNotice
from sanxiang.review import services
from sanxiang.review.models import Submission

from .conftest import PARTS

SCHEDULE_2027 = Path(__file__).resolve().parents[2] / "core/tests/data/schedule-2027-fixture.yaml"


def provisional_rows() -> dict[str, int]:
    """{model.field: rows still provisional} over every installed model."""
    found = {}
    for model in apps.get_models():
        if not model.__module__.startswith("sanxiang."):
            continue
        for f in model._meta.get_fields():
            if not getattr(f, "concrete", False) or f.is_relation:
                continue
            if isinstance(f, models.BooleanField) and "provisional" in f.name:
                n = model.objects.filter(**{f.name: True}).count()
            elif isinstance(f, models.JSONField):
                n = model.objects.filter(**{f"{f.name}__provisional": True}).count()
            else:
                continue
            if n:
                found[f"{model._meta.label}.{f.name}"] = n
    return found


def _penalty_record(external_id: str, doc_number: str) -> dict:
    return {"external_id": external_id, "kind": "penalty", "doc_number": doc_number,
            "party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person",
            "party_credit_code": "91350100M000100Y43", "decision_date": "2026-09-30",
            "facts": "当事人销售超过保质期的食品。", "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "penalty_categories": ["罚款"], "fine_fen": 5000000, "content": "罚款人民币50000元。"}


def test_loading_a_year_leaves_no_provisional_deadline_of_that_year_in_any_app(rw, make_case, file_catalogue):
    w = rw
    # cases: a deadline counted from 28 December into 2027 (the app's own writer:
    # every public write refuses a day after today)
    case = make_case(fine_yuan=150000, title="第一案")
    case_services._add_deadline(case=case, kind=DeadlineKind.SERVICE, rule="penalty.service_limit",
                                start=date(2026, 12, 28))

    # publicity: a publication due date and a withdrawal limit into 2027
    pub = w.head  # the agency head manages publicity too
    received = publicity_services.receive_records(actor="t", agency=w.amr_changan, source="api", records=[
        _penalty_record("CF-7", "冀长市监罚〔2026〕7号"), _penalty_record("CF-8", "冀长市监罚〔2026〕8号")])
    pending, withdrawn = (Decision.objects.get(pk=r.decision_id) for r in received)
    pending.decision_date = date(2026, 12, 28)  # 7 working days: into 2027
    publicity_services.plan_publication(pending, agency=pending.agency)
    pending.save()
    publicity_services.publish_decision(actor=pub, decision=withdrawn)
    publicity_services.withdraw_decision(actor=pub, decision=withdrawn, ground="changed", reason="复议变更")
    limit = deadline_for(rule="publicity.penalty_withdrawal_limit", start=date(2026, 12, 30), agency=w.amr_changan)
    Decision.objects.filter(pk=withdrawn.pk).update(withdrawal_changed_on=date(2026, 12, 30), withdrawal_due=limit.date,
                                                    withdrawal_due_provisional=True)
    WithdrawalNotice.objects.filter(decision=withdrawn).update(due=limit.date)

    # review: a limit from 24 December into 2027, moved by an approved extension
    file_catalogue(agency=w.amr_zhengding, head=w.head_zd)
    zd_case = make_case(agency=w.amr_zhengding, user=w.u_zhengding, head=w.head_zd,
                        officers=[w.zhengding_officer, w.zhengding_officer2], fine_yuan=150000, title="第二案")
    submission = services.submit_for_review(actor=w.u_zhengding, case=zd_case, parts=PARTS)
    services.assign_reviewer(actor=w.head_zd, submission=submission, reviewer=w.reviewer_zd)
    review_limit = deadline_for(rule="legal_review.review_limit", start=date(2026, 12, 24), agency=zd_case.agency)
    Submission.objects.filter(pk=submission.pk).update(
        received_on=date(2026, 12, 24), due_on=review_limit.date, due_rule={**submission.due_rule, "provisional": True})
    extension = services.request_extension(actor=w.u_reviewer_zd, submission=submission, reason="案情复杂")
    services.approve_extension(actor=w.head_zd, extension=extension)

    before = provisional_rows()
    assert {"cases.CaseDeadline.provisional", "publicity.Decision.publication_due_provisional",
            "publicity.Decision.withdrawal_due_provisional", "review.Submission.due_rule"} <= set(before), before
    assert CaseDeadline.objects.filter(provisional=True, due_on__year=2027).exists()

    load_schedule(path=SCHEDULE_2027, actor="t")

    assert provisional_rows() == {}
