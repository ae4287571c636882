"""Helpers for case tests: a case of 长安区市场监督管理局 opened through the
services, an agency head to approve AV exemptions, and a walker that runs
steps on given days."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from sanxiang.cases import services
from sanxiang.core import services as core_services
from sanxiang.core.models import Role


def at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@pytest.fixture
def head(world):
    """The agency head (负责人) of 长安区市场监督管理局."""
    return core_services.create_user(actor="t", username="changan_head", password=world.password,
                                     role=Role.AGENCY_HEAD, agency=world.amr_changan)


@pytest.fixture
def open_case(world):
    def make(**kw):
        params = dict(actor=world.u_changan, agency=world.amr_changan, title="某超市销售过期食品案", act_kind="penalty",
                      procedure="general", party_name="石家庄某某超市有限公司", party_type="legal_person",
                      opened_on=date(2026, 9, 1), officers=[world.changan_officer, world.changan_officer2])
        params.update(kw)
        return services.open_case(**params)

    return make


@pytest.fixture
def walk(world, head):
    """Run steps one after another on a day: each step starts on the even hour from 8:00 and
    completes an hour later; where AV is needed and none is attached, an exemption is asked
    for and approved by the head (the rule is tested on its own)."""

    def run(case, codes, day: date, **start_kw):
        steps = []
        for i, code in enumerate(codes):
            step = services.start_step(actor=world.u_changan, case=case, code=code, at=at(day, 8 + 2 * i), **start_kw)
            if step.needs_av:
                ex = services.request_av_exemption(actor=world.u_changan, step=step, reason="执法记录仪故障，已报修")
                services.approve_av_exemption(actor=head, exemption=ex)
            steps.append(services.complete_step(actor=world.u_changan, step=step, at=at(day, 9 + 2 * i)))
            case.refresh_from_db()
        return steps

    return run
