"""Fixtures for legal-review tests: the core `world` plus, for 长安区 and
正定县 market regulation, an agency head and legal reviewers; a penalty case
walked through the cases services up to the point of decision; and the
catalogue filing with the city's legal office."""

from __future__ import annotations

import types
from datetime import date, datetime, time

import pytest
from django.utils import timezone

from sanxiang.cases import services as case_services
from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.review import services
from sanxiang.review.models import Reviewer

PARTS = [
    {"kind": "investigation_report", "text": "调查终结报告：当事人销售超过保质期食品，事实清楚。"},
    {"kind": "proposed_handling", "text": "拟处理意见：依据《食品安全法》第一百二十四条予以罚款。"},
    {"kind": "draft_decision", "text": "行政处罚决定书（草稿）"},
    {"kind": "evidence_list", "text": "现场检查笔录、询问笔录、进货台账"},
]
ALL_PASS = {item: {"result": "pass", "comment": ""} for item in
            ("standing", "qualification", "procedure", "facts", "law", "documents", "transfer")}


def at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


@pytest.fixture
def rw(world):
    """world + heads and reviewers of 长安区 and 正定县 market regulation."""
    def user(name, role, agency):
        return core_services.create_user(actor="t", username=name, password=world.password, role=role, agency=agency)

    w = world
    w.head = user("changan_head", Role.AGENCY_HEAD, w.amr_changan)
    w.head_zd = user("zhengding_head", Role.AGENCY_HEAD, w.amr_zhengding)
    w.u_reviewer = user("changan_reviewer", Role.LEGAL_REVIEWER, w.amr_changan)
    w.u_novice = user("changan_novice", Role.LEGAL_REVIEWER, w.amr_changan)
    w.u_reviewer_zd = user("zhengding_reviewer", Role.LEGAL_REVIEWER, w.amr_zhengding)
    w.reviewer = services.register_reviewer(actor=w.head, user=w.u_reviewer, name="刘法审", qualification_number="A20191301001",
                                            qualification_date=date(2019, 12, 1), first_time=True)
    # A first-time reviewer without the qualification is refused at
    # registration (test_reviewer_registry.py); this row stands for one
    # registered before that check (an older import), which assignment
    # still refuses.
    w.novice = Reviewer.objects.create(user=w.u_novice, agency=w.amr_changan, name="陈新人", first_time=True)
    w.reviewer_zd = services.register_reviewer(actor=w.head_zd, user=w.u_reviewer_zd, name="郑审核",
                                               qualification_number="A20201301002", qualification_date=date(2020, 12, 1),
                                               first_time=False)
    return w


@pytest.fixture
def make_case(rw):
    """A general-procedure penalty case walked to the point of decision
    (opening, investigation, notification), with a proposed decision."""

    def make(*, agency=None, user=None, officers=None, fine_yuan=None, party_type="legal_person", head=None,
             hearing=False, day=date(2026, 9, 1), title="某商贸有限公司销售过期食品案"):
        agency = agency or rw.amr_changan
        user = user or rw.u_changan
        head = head or rw.head
        officers = officers or [rw.changan_officer, rw.changan_officer2]
        case = case_services.open_case(actor=user, agency=agency, title=title, act_kind="penalty", procedure="general",
                                       party_name="石家庄某商贸有限公司", party_type=party_type, opened_on=day,
                                       officers=officers)
        walk(case, ["opening", "investigation", "notification"], day, user=user, head=head)
        if hearing:
            case_services.record_hearing_request(actor=user, case=case, requested_on=date(2026, 9, 2))
            case_services.record_hearing_notice(actor=user, case=case, notified_on=date(2026, 9, 3),
                                                hearing_on=date(2026, 9, 14))
            walk(case, ["hearing"], date(2026, 9, 14), user=user, head=head)
        if fine_yuan is not None:
            case_services.propose_decision(actor=user, case=case, categories=["罚款"], fine_fen=fine_yuan * 100)
        case.refresh_from_db()
        return case

    return make


def walk(case, codes, day, *, user, head):
    for i, code in enumerate(codes):
        step = case_services.start_step(actor=user, case=case, code=code, at=at(day, 8 + 2 * i))
        if step.needs_av:
            ex = case_services.request_av_exemption(actor=user, step=step, reason="执法记录仪故障，已报修")
            case_services.approve_av_exemption(actor=head, exemption=ex)
        case_services.complete_step(actor=user, step=step, at=at(day, 9 + 2 * i))
        case.refresh_from_db()


@pytest.fixture
def file_catalogue(rw):
    """File and accept a review catalogue (a catalogue kind of the catalog app,
    through its one filing workflow) for an agency: one rule over fines
    (citizens 10,000 / organisations 100,000 yuan), optionally the 审核-7
    switch and more rules."""

    def make(*, agency=None, head=None, all_non_summary=False, effective=date(2026, 1, 1), fine_org=100000,
             fine_citizen=10000, extra_rules=()):
        agency = agency or rw.amr_changan
        head = head or rw.head
        version = catalog_services.start_draft(actor=head, agency=agency, kind=CatalogueKind.REVIEW_CATALOGUE)
        catalog_services.add_review_rule(actor=head, version=version, title="较大数额罚款", act_kinds=["penalty"],
                                         penalty_categories=[], fine_citizen_yuan=fine_citizen,
                                         fine_organisation_yuan=fine_org, citation="《河北省重大行政执法决定法制审核办法》")
        for extra in extra_rules:
            catalog_services.add_review_rule(actor=head, version=version, **extra)
        if all_non_summary:
            catalog_services.set_all_non_summary(actor=head, version=version, enabled=True)
        catalog_services.submit_version(actor=head, version=version, effective_date=effective)
        return catalog_services.accept_version(actor=rw.u_legal_sjz, version=version)

    return make


def submit_and_review(rw, case, *, checklist=ALL_PASS, received_on=None):
    """The case submitted by its officer, assigned to rw.reviewer, who
    records `checklist` (every item passes unless told otherwise)."""
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS, received_on=received_on)
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    return services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=checklist)


def submit_and_pass(rw, case, *, received_on=None):
    return submit_and_review(rw, case, received_on=received_on)


ns = types.SimpleNamespace
