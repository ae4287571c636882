"""Legal review's part of the to-do list (issue 11 item 5): the review office
sees rounds to assign, the reviewer the rounds assigned to them with their
limit, the head extensions to approve, the officer an opinion "issues
found" to answer, the legal office filings to accept and overdue rounds of
its jurisdiction — each only within scope."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind
from sanxiang.core.todo import todo_for
from sanxiang.review import services

from .conftest import ALL_PASS, PARTS

TODAY = date(2026, 9, 2)


def of_kind(user, kind, today=TODAY):
    return [i for i in todo_for(user=user, today=today) if i.kind == kind]


def test_a_round_is_assigned_by_the_office_then_reviewed_by_its_reviewer_within_its_limit(rw, make_case):
    case = make_case(fine_yuan=150000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    url = reverse("review:case", kwargs={"pk": case.pk})
    to_assign = of_kind(rw.head, "review_assign")
    assert [(i.url, i.due) for i in to_assign] == [(url, submission.due_on)]
    assert of_kind(rw.u_reviewer, "review_assign")  # the review office (reviewers and head)
    assert not of_kind(rw.head_zd, "review_assign") and not of_kind(rw.u_reviewer_zd, "review_assign")
    assert not of_kind(rw.u_reviewer, "review_round")

    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    assert not of_kind(rw.head, "review_assign")
    rounds = of_kind(rw.u_reviewer, "review_round")
    assert [(i.url, i.due) for i in rounds] == [(url, submission.due_on)]
    assert not of_kind(rw.u_novice, "review_round")  # assigned to someone else

    services.request_extension(actor=rw.u_reviewer, submission=submission, reason="案情复杂，需要补充材料")
    assert [i.url for i in of_kind(rw.head, "review_extension")] == [url]
    assert not of_kind(rw.head_zd, "review_extension")

    checklist = {**ALL_PASS, "facts": {"result": "issue", "comment": "证据不足"}}
    services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=checklist)
    assert not of_kind(rw.u_reviewer, "review_round") and not of_kind(rw.head, "review_extension")
    assert [i.url for i in of_kind(rw.u_changan, "review_response")] == [url]  # issues found: the unit answers
    assert not of_kind(rw.u_zhengding, "review_response")


def test_the_legal_office_sees_overdue_rounds_and_filings_in_its_jurisdiction(rw, make_case):
    case = make_case(fine_yuan=150000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    later = date(2026, 12, 31)
    overdue = of_kind(rw.u_legal_sjz, "review_overdue", today=later)
    assert [(i.due, i.overdue) for i in overdue] == [(submission.due_on, True)]
    assert not of_kind(rw.u_legal_ts, "review_overdue", today=later)
    assert not of_kind(rw.u_legal_sjz, "review_overdue")  # not yet overdue today

    version = catalog_services.start_draft(actor=rw.head, agency=rw.amr_changan, kind=CatalogueKind.REVIEW_CATALOGUE)
    catalog_services.add_review_rule(actor=rw.head, version=version, title="较大数额罚款", act_kinds=["penalty"],
                                     penalty_categories=[], fine_citizen_yuan=10000, fine_organisation_yuan=100000,
                                     citation="《河北省重大行政执法决定法制审核办法》")
    catalog_services.submit_version(actor=rw.head, version=version, effective_date=date(2026, 1, 1))
    filings = of_kind(rw.u_legal_sjz, "filing")
    assert [i.url for i in filings] == [reverse("review:catalogue_version", kwargs={"vid": version.pk})]
    assert not of_kind(rw.u_legal_ts, "filing")
    catalog_services.accept_version(actor=rw.u_legal_sjz, version=version)
    assert not of_kind(rw.u_legal_sjz, "filing")
