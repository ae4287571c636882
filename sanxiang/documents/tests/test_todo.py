"""The documents app's part of the to-do list (issue 11 item 5): a decision
issued in an officer's open case and not yet served (penalty law art. 61)
is on the officer's list until the case records its service; officers of
another agency never see it."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from sanxiang.cases.models import Case
from sanxiang.core.todo import todo_for
from sanxiang.documents import services

from .conftest import DECISION_DATA

TODAY = date(2026, 9, 2)


def to_serve(user):
    return [i for i in todo_for(user=user, today=TODAY) if i.kind == "document_to_serve"]


def test_an_issued_decision_is_to_serve_until_the_case_records_its_service(dw):
    assert not to_serve(dw.u_changan)
    services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="statement_record", data={
        "held_at": "2026年3月25日", "place": "本局询问室", "speaker": "张三", "officers": "王建国、李秀英",
        "recorder": "李秀英", "statement": "对违法事实无异议，请求从轻处罚。"})
    assert not to_serve(dw.u_changan)  # a record, not a decision to serve
    decision = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision",
                                       data=DECISION_DATA)
    items = to_serve(dw.u_changan)
    assert [(i.url, decision.number in i.title) for i in items] == [
        (reverse("cases:detail", kwargs={"pk": dw.case_changan.pk}), True)]
    assert not to_serve(dw.u_zhengding)
    Case.objects.filter(pk=dw.case_changan.pk).update(served_on=date(2026, 9, 2))  # the service step's record
    assert not to_serve(dw.u_changan)
