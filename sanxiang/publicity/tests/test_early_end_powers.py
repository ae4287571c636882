"""Early end of publicity (信用修复, credit repair): each role holds only its
own power (issue 9, section 6). Found: anyone could apply, duplicates were
accepted, and a legal office approved its own application.

Now: the applicant is the decision's party — the party applies (the deciding
agency's publicity administrator or head records it) or the agency applies
on its behalf; one pending or approved application per decision; approval
by the office named in the dated rule publicity.early_end_approver_roles
(the agency's own legal office by default), never by whoever recorded the
application. Through the pages and the services (there is no API door).
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.core.refusals import Refused
from sanxiang.publicity import predicates, services
from sanxiang.publicity.models import Decision, DecisionStatus, EarlyEndApplication, EarlyEndStatus
from sanxiang.rules.loader import DEFAULT_PARAMS_DIR, reload_rules

from .test_publication import penalty, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(world, settings):
    settings.REQUIRE_TOTP = False  # legal-office accounts log in without their authenticator here

    def user(username, role, **kw):
        return core_services.create_user(actor="t", username=username, password=world.password, role=role, **kw)

    world.publicity = user("pub_changan", Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    world.head = user("head_changan", Role.AGENCY_HEAD, agency=world.amr_changan)
    world.reviewer = user("reviewer_changan", Role.LEGAL_REVIEWER, agency=world.amr_changan)
    world.pub_zhengding = user("pub_zhengding", Role.PUBLICITY_ADMIN, agency=world.amr_zhengding)
    world.decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    services.publish_decision(actor=world.publicity, decision=world.decision)
    world.decision.refresh_from_db()
    return world


def page(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def apply_by_page(user, decision, **form):
    return page(user).post(f"/workbench/publicity/{decision.pk}/early-end/",
                           {"reason": "已履行处罚并完成整改", "channel": "party", **form}, follow=True)


def test_only_the_deciding_agencys_publicity_admin_or_head_records_an_application(w):
    for user in (w.u_legal_sjz, w.u_legal_hebei, w.u_changan, w.reviewer, w.u_admin):
        with pytest.raises(Refused) as refused:
            services.apply_early_end(actor=user, decision=w.decision, reason="整改完毕")
        assert refused.value.code == "early_end_not_deciding_agency", user
        r = apply_by_page(user, w.decision)
        if r.status_code == 200:  # in the user's scope: the page says why, records nothing
            assert "只有该部门的公示管理员或负责人可以登记" in r.content.decode(), user
        else:
            assert r.status_code == 404, user
    assert apply_by_page(w.pub_zhengding, w.decision).status_code == 404  # another agency: not even visible
    assert not EarlyEndApplication.objects.exists()
    r = apply_by_page(w.publicity, w.decision)
    assert r.status_code == 200 and "申请已登记" in r.content.decode()
    application = EarlyEndApplication.objects.get()
    assert application.applicant == w.decision.party_name and application.applied_by == w.publicity
    assert application.channel == "party"


def test_the_applicant_is_always_the_decisions_party(w):
    with pytest.raises(ValidationError) as invalid:
        services.apply_early_end(actor=w.publicity, decision=w.decision, applicant="某咨询公司", reason="代为申请")
    assert invalid.value.error_dict["applicant"][0].code == "applicant_not_party"
    application = services.apply_early_end(actor=w.head, decision=w.decision, reason="本部门代为申请", channel="agency")
    assert application.applicant == "石家庄市长安区某某食品有限公司" and application.channel == "agency"


def test_one_pending_or_approved_application_per_decision(w):
    services.apply_early_end(actor=w.publicity, decision=w.decision, reason="已整改")
    for user in (w.publicity, w.head):
        with pytest.raises(ValidationError) as duplicate:
            services.apply_early_end(actor=user, decision=w.decision, reason="再次申请")
        assert duplicate.value.error_dict["decision"][0].code == "early_end_duplicate"
    r = apply_by_page(w.head, w.decision)
    assert "同一决定不重复受理" in r.content.decode()
    assert EarlyEndApplication.objects.count() == 1
    # the database holds the line too (two processes racing)
    with pytest.raises(IntegrityError), transaction.atomic():
        EarlyEndApplication.objects.create(decision=w.decision, applicant="x", reason="y", applied_by=w.head)
    # once refused, the party may apply again
    services.decide_early_end(actor=w.u_legal_sjz, application=EarlyEndApplication.objects.get(), approve=False, note="材料不全")
    again = services.apply_early_end(actor=w.publicity, decision=w.decision, reason="补齐材料后再次申请")
    assert again.status == EarlyEndStatus.APPLIED


def test_only_the_agencys_own_legal_office_approves(w):
    application = services.apply_early_end(actor=w.publicity, decision=w.decision, reason="已整改")
    refusals = {w.u_legal_ts: "early_end_not_competent_office",  # another city's office
                w.u_legal_hebei: "early_end_not_competent_office",  # the province, not the agency's own office
                w.u_admin: "early_end_approver_role", w.head: "early_end_approver_role",
                w.u_changan: "early_end_approver_role", w.publicity: "early_end_own_application"}
    for user, code in refusals.items():
        with pytest.raises(Refused) as refused:
            services.decide_early_end(actor=user, application=application, approve=True)
        assert refused.value.code == code, user
    # the pages: the head sees the queue without buttons; the legal office decides there
    workbench = page(w.head).get("/workbench/publicity/").content.decode()
    assert "信用修复申请由司法行政机关" in workbench and f"early-end/{application.pk}/decide/" not in workbench
    r = page(w.head).post(f"/workbench/publicity/early-end/{application.pk}/decide/", {"approve": "1"}, follow=True)
    assert "信用修复申请由司法行政机关" in r.content.decode()
    application.refresh_from_db()
    assert application.status == EarlyEndStatus.APPLIED
    assert f"early-end/{application.pk}/decide/" in page(w.u_legal_sjz).get("/workbench/publicity/").content.decode()
    r = page(w.u_legal_sjz).post(f"/workbench/publicity/early-end/{application.pk}/decide/",
                                 {"approve": "1", "note": "符合信用修复条件"}, follow=True)
    assert r.status_code == 200
    application.refresh_from_db()
    w.decision.refresh_from_db()
    assert application.status == EarlyEndStatus.APPROVED and application.decided_by == "legal_sjz"
    assert w.decision.status == DecisionStatus.STOPPED
    assert AuditEntry.objects.filter(action="publicity.early_end_decide", actor="legal_sjz").count() == 1


def test_whoever_recorded_the_application_never_approves_it_whatever_the_rules_say(w, tmp_path):
    """A province may let agency heads approve from a date; the head who
    recorded the application still may not approve it (another may)."""
    params = tmp_path / "params"
    shutil.copytree(DEFAULT_PARAMS_DIR, params)
    with open(params / "publicity.yaml", "a", encoding="utf-8") as fh:
        fh.write("""    - value: [agency_head]
      valid_from: 2026-01-01
      scope: region:130000
      reference: 测试用的省级规定
""")
    try:
        reload_rules(params)
        application = services.apply_early_end(actor=w.head, decision=w.decision, reason="本部门代为申请", channel="agency")
        verdict = predicates.can_decide_early_end(w.head, application, on=date(2026, 6, 1))
        assert not verdict and verdict.code == "early_end_own_application"
        with pytest.raises(Refused):
            services.decide_early_end(actor=w.head, application=application, approve=True)
        with pytest.raises(Refused) as refused:  # the legal office is no longer named in this province
            services.decide_early_end(actor=w.u_legal_sjz, application=application, approve=True)
        assert refused.value.code == "early_end_approver_role"
        other_head = core_services.create_user(actor="t", username="head2_changan", password=w.password,
                                               role=Role.AGENCY_HEAD, agency=w.amr_changan)
        services.decide_early_end(actor=other_head, application=application, approve=True)
        assert EarlyEndApplication.objects.get().status == EarlyEndStatus.APPROVED
    finally:
        reload_rules()


def test_decisions_whose_penalty_excludes_credit_repair_are_refused_with_a_code(w):
    revoked = Decision.objects.get(pk=receive(w, penalty("CF-6", penalty_categories=["吊销许可证件"]))[0].decision_id)
    services.publish_decision(actor=w.publicity, decision=revoked)
    with pytest.raises(ValidationError) as invalid:
        services.apply_early_end(actor=w.publicity, decision=revoked, reason="整改")
    assert invalid.value.error_dict["decision"][0].code == "early_end_not_applicable"
