"""The reviewer registry (审核-2/3/4): reviewers and their training."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.models import Role

from ..models import Reviewer, Training
from ..predicates import can_register_reviewer
from ._base import _head, _refuse


@transaction.atomic
def register_reviewer(*, actor, user, qualification_number: str = "", qualification_date: date | None = None,
                      first_time: bool = True, name: str = "") -> Reviewer:
    """Register a legal reviewer of the agency (its head does, 审核-2/3). A
    first-time reviewer without the legal professional qualification is
    refused here, citing the dated rule (art. 58 para. 2), not only later at
    assignment; a qualification date in the future is refused."""
    if user.agency_id is None:
        _refuse("user", "审核人员须属于一个执法部门。", "no_agency")
    _head(actor, user.agency_id, "法制审核人员由本部门负责人登记。")
    if user.role != Role.LEGAL_REVIEWER:
        _refuse("user", "该账号的角色不是法制审核人员。", "not_reviewer_role")
    if bool(qualification_number.strip()) != bool(qualification_date):
        _refuse("qualification_number", "法律职业资格证书编号和取得日期须同时填写。", "incomplete")
    if qualification_date and qualification_date > clock.today():
        _refuse("qualification_date", "法律职业资格取得日期不能晚于今天。", "future_date")
    display = name.strip() or str(user)
    verdict = can_register_reviewer(name=display, first_time=first_time, qualified=bool(qualification_number.strip()),
                                    agency=user.agency)
    if not verdict:
        _refuse(verdict.field or "qualification_number", verdict.reason, verdict.code)
    reviewer, created = Reviewer.objects.update_or_create(user=user, defaults={
        "agency_id": user.agency_id, "name": display, "qualification_number": qualification_number.strip(),
        "qualification_date": qualification_date, "first_time": first_time, "active": True})
    append_audit(actor=actor, action="review.reviewer_register", obj=reviewer, payload={
        "user": user.username, "qualified": reviewer.qualified, "qualification_number": reviewer.qualification_number,
        "first_time": first_time, "created": created})
    return reviewer


@transaction.atomic
def record_training(*, actor, reviewer: Reviewer, held_on: date, title: str, hours, provider: str = "",
                    method: str = "") -> Training:
    """A training record (审核-4: regular training of reviewers); a training
    dated in the future is refused (it has not been held)."""
    _head(actor, reviewer.agency_id, "培训记录由本部门负责人登记。")
    if held_on is None:
        _refuse("held_on", "请填写培训日期。", "required")
    if held_on > clock.today():
        _refuse("held_on", f"培训日期{held_on:%Y年%m月%d日}晚于今天：只能登记已经参加的培训。", "future_date")
    try:
        hours = Decimal(str(hours))
    except ArithmeticError:
        _refuse("hours", "学时格式无效。", "invalid")
    if hours <= 0 or not title.strip():
        _refuse("hours", "请填写培训内容和大于0的学时。", "invalid")
    training = Training.objects.create(reviewer=reviewer, held_on=held_on, title=title.strip(), hours=hours,
                                       provider=provider.strip(), method=method.strip())
    append_audit(actor=actor, action="review.training", obj=reviewer,
                 payload={"held_on": held_on.isoformat(), "title": training.title, "hours": str(hours)})
    return training

