"""The evidence app's part of the to-do list (issue 11 item 5): a step in
progress that needs AV (记录-4) and has none is on its officer's list as
"AV to upload", linking to the step's upload page, until AV is uploaded;
a share link asked by an officer waits on the agency head's list."""

from __future__ import annotations

import types
from datetime import date, datetime, time

from django.urls import reverse
from django.utils import timezone

from sanxiang.cases import services as case_services
from sanxiang.conftest import client_for, make_user
from sanxiang.core import clock
from sanxiang.core.models import Role
from sanxiang.core.todo import todo_for
from sanxiang.evidence import services

from .conftest import jpeg_bytes
from .test_sharing_powers import tus_upload

TODAY = date(2026, 9, 2)


def at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def of_kind(user, kind):
    return [i for i in todo_for(user=user, today=TODAY) if i.kind == kind]


def test_av_to_upload_until_the_officer_uploads_it_and_shares_wait_for_the_head(world, settings):
    settings.REQUIRE_TOTP = False
    world.changan_officer.user = world.u_changan
    world.changan_officer.save(update_fields=["user"])
    head = make_user("changan_head", Role.AGENCY_HEAD, agency=world.amr_changan)
    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某超市销售过期食品案",
                                   act_kind="penalty", procedure="general", party_name="石家庄某某超市有限公司",
                                   party_type="legal_person", opened_on=date(2026, 9, 1),
                                   officers=[world.changan_officer, world.changan_officer2])
    opening = case_services.start_step(actor=world.u_changan, case=case, code="opening", at=at(date(2026, 9, 1), 9))
    case_services.complete_step(actor=world.u_changan, step=opening, at=at(date(2026, 9, 1), 10))
    step = case_services.start_step(actor=world.u_changan, case=case, code="investigation", at=at(TODAY, 9),
                                    place="长安区建设北大街1号")
    assert step.needs_av
    url = reverse("evidence:step", kwargs={"case_id": case.pk, "step_id": step.pk})
    items = of_kind(world.u_changan, "av_upload")
    assert [(i.url, i.due) for i in items] == [(url, None)] and step.av_requirement in items[0].detail
    assert not of_kind(world.u_zhengding, "av_upload")
    assert not of_kind(head, "av_upload")

    item = tus_upload(client_for(world.u_changan), types.SimpleNamespace(case=case, step=step), jpeg_bytes(1200))
    assert not of_kind(world.u_changan, "av_upload")

    share, _ = services.share_evidence(actor=world.u_changan, item=item, recipient="石家庄市公安局", reason="移送涉嫌犯罪案件")
    assert share.approved_at is None
    shares = of_kind(head, "evidence_share")
    assert [i.url for i in shares] == [reverse("evidence:detail", kwargs={"pk": item.pk})]
    assert not of_kind(world.u_changan, "evidence_share")
    services.approve_share(actor=head, share=share)
    assert not of_kind(head, "evidence_share")


def test_an_unresolved_fixity_alert_is_on_the_list_of_those_who_may_see_it_until_resolved(world, settings):
    from sanxiang.evidence.models import FixityAlert

    settings.REQUIRE_TOTP = False
    world.changan_officer.user = world.u_changan
    world.changan_officer.save(update_fields=["user"])
    head = make_user("changan_head2", Role.AGENCY_HEAD, agency=world.amr_changan)
    other_head = make_user("zhengding_head2", Role.AGENCY_HEAD, agency=world.amr_zhengding)
    sysadmin = make_user("sysadmin2", Role.SYSADMIN)
    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="某超市销售过期食品案",
                                   act_kind="penalty", procedure="general", party_name="石家庄某某超市有限公司",
                                   party_type="legal_person", opened_on=date(2026, 9, 1),
                                   officers=[world.changan_officer, world.changan_officer2])
    step = case_services.start_step(actor=world.u_changan, case=case, code="opening", at=at(date(2026, 9, 1), 9))
    item = tus_upload(client_for(world.u_changan), types.SimpleNamespace(case=case, step=step), jpeg_bytes(800))
    alert = FixityAlert.objects.create(sha256=item.sha256, problem="mismatch", actual_sha256="0" * 64)

    for user in (head, sysadmin):
        items = of_kind(user, "fixity_alert")
        assert [i.url for i in items] == [reverse("evidence:fixity")], user
        assert items[0].due == clock.local_date(alert.detected_at)
    assert not of_kind(other_head, "fixity_alert")
    assert not of_kind(world.u_changan, "fixity_alert")

    alert.resolved_at = timezone.now()
    alert.save(update_fields=["resolved_at"])
    assert not of_kind(head, "fixity_alert") and not of_kind(sysadmin, "fixity_alert")
