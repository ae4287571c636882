"""Who handles a case (承办人员, 记录-1): officers are added only with a
certificate valid today that covers the act (penalty law art. 42), the lead
(主办人) can change, and an officer leaves only if enough officers who may
act remain for the act's on-site steps (the dated minimum)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.cases import services
from sanxiang.cases.models import OfficerRole
from sanxiang.cases.predicates import can_remove_officer
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry
from sanxiang.core.validators import make_certificate_number
from sanxiang.core import clock


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


@pytest.fixture
def officer(world):
    """Another officer of 长安区市场监督管理局 (certificate valid unless told)."""
    serial = iter(range(21, 99))

    def make(name, **kw):
        params = dict(actor="t", name=name, agency=world.amr_changan,
                      certificate_number=make_certificate_number("130102", next(serial)), categories=["penalty"],
                      enforcement_region=world.changan, valid_from=date(2024, 1, 1), valid_to=date(2029, 12, 31))
        params.update(kw)
        return core_services.create_officer(**params)

    return make


def _error(exc: ValidationError) -> tuple[str, str, str]:
    field, errors = next(iter(exc.error_dict.items()))
    return field, errors[0].code, " ".join(errors[0].messages)


def roles(case) -> dict[str, str]:
    return {a.officer.name: a.role for a in case.assignments.select_related("officer")}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_only_an_officer_who_may_act_today_is_put_on_a_case(world, open_case, officer):
    case = open_case()
    today = clock.today()
    expired = officer("陈立新", valid_to=today - timedelta(days=1))
    inspector = officer("马骏", categories=["inspection"])
    refusals = [(expired, "certificate_invalid"), (inspector, "category_not_covered"),
                (world.zhengding_officer, "officer_other_agency")]
    messages = []
    for who, code in refusals:
        with pytest.raises(ValidationError) as exc:
            services.assign_officer(actor=world.u_changan, case=case, officer=who)
        field, got, message = _error(exc.value)
        assert (field, got) == ("officer", code) and who.name in message and "第四十二条" in message
        messages.append(message)
    assert "已过有效期" in messages[0]
    with pytest.raises(ValidationError) as exc:
        services.assign_officer(actor=world.u_changan, case=case, officer=world.changan_officer)
    assert _error(exc.value)[1] == "duplicate"
    assert set(roles(case)) == {"王建国", "李秀英"}


def test_removing_an_officer_below_the_minimum_is_refused_citing_article_42(world, open_case, officer):
    case = open_case()
    with pytest.raises(ValidationError) as exc:
        services.remove_officer(actor=world.u_changan, case=case, officer=world.changan_officer2)
    field, code, message = _error(exc.value)
    assert (field, code) == ("officer", "too_few_officers")
    assert "李秀英" in message and "不得少于2人" in message and "第四十二条" in message and "调查取证" in message
    third = officer("赵敏")
    services.assign_officer(actor=world.u_changan, case=case, officer=third)
    services.remove_officer(actor=world.u_changan, case=case, officer=world.changan_officer2)
    assert roles(case) == {"王建国": OfficerRole.LEAD, "赵敏": OfficerRole.ASSIST}


def test_an_officer_whose_certificate_lapsed_does_not_count_toward_the_minimum(world, open_case, officer):
    lapsed = officer("陈立新", valid_to=clock.today() - timedelta(days=1))
    case = open_case(officers=[world.changan_officer, world.changan_officer2, lapsed])
    verdict = can_remove_officer(case, world.changan_officer2)
    assert not verdict and verdict.code == "too_few_officers" and "只剩1名" in verdict.reason
    services.remove_officer(actor=world.u_changan, case=case, officer=lapsed)
    assert set(roles(case)) == {"王建国", "李秀英"}


def test_the_lead_changes_and_leaves_only_after_another_is_named(world, open_case, officer):
    case = open_case()
    services.assign_officer(actor=world.u_changan, case=case, officer=officer("赵敏"))
    with pytest.raises(ValidationError) as exc:
        services.remove_officer(actor=world.u_changan, case=case, officer=world.changan_officer)
    assert _error(exc.value)[1] == "lead_required"
    services.set_lead_officer(actor=world.u_changan, case=case, officer=world.changan_officer2)
    assert roles(case) == {"王建国": OfficerRole.ASSIST, "李秀英": OfficerRole.LEAD, "赵敏": OfficerRole.ASSIST}
    with pytest.raises(ValidationError) as exc:
        services.set_lead_officer(actor=world.u_changan, case=case, officer=world.changan_officer2)
    assert _error(exc.value)[1] == "already_lead"
    services.remove_officer(actor=world.u_changan, case=case, officer=world.changan_officer)
    # a new officer may come in as the lead: the lead before assists
    services.assign_officer(actor=world.u_changan, case=case, officer=officer("钱程"), role=OfficerRole.LEAD)
    assert roles(case) == {"李秀英": OfficerRole.ASSIST, "赵敏": OfficerRole.ASSIST, "钱程": OfficerRole.LEAD}


def test_each_change_of_officers_is_in_the_audit_chain(world, open_case, officer):
    from sanxiang.core.audit import verify_chain

    case = open_case()
    third = officer("赵敏")
    before = AuditEntry.objects.count()
    services.assign_officer(actor=world.u_changan, case=case, officer=third)
    services.set_lead_officer(actor=world.u_changan, case=case, officer=third)
    services.remove_officer(actor=world.u_changan, case=case, officer=world.changan_officer)
    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.action for e in entries] == ["case.officer_assign", "case.officer_lead", "case.officer_remove"]
    lead = json.loads(entries[1].payload)
    assert lead == {"officer": third.certificate_number, "previous_lead": world.changan_officer.certificate_number}
    assert json.loads(entries[2].payload) == {"officer": world.changan_officer.certificate_number, "role": "assist"}
    assert verify_chain().ok


def test_officers_of_a_terminated_case_cannot_change_and_others_cannot_change_them(world, open_case, officer, head):
    case = open_case()
    third = officer("赵敏")
    with pytest.raises(PermissionDenied):
        services.assign_officer(actor=world.u_zhengding, case=case, officer=third)
    with pytest.raises(PermissionDenied):
        services.remove_officer(actor=world.u_legal_sjz, case=case, officer=world.changan_officer2)
    services.terminate_case(actor=head, case=case, reason="违法事实不成立", on=date(2026, 9, 2))
    for action in (lambda: services.assign_officer(actor=world.u_changan, case=case, officer=third),
                   lambda: services.set_lead_officer(actor=world.u_changan, case=case, officer=world.changan_officer2),
                   lambda: services.remove_officer(actor=world.u_changan, case=case, officer=world.changan_officer2)):
        with pytest.raises(ValidationError) as exc:
            action()
        assert _error(exc.value)[1] == "case_not_open"


def test_an_officer_changes_the_officers_on_the_case_page(world, open_case, officer):
    case = open_case()
    third = officer("赵敏")
    c = client_for(world.u_changan)
    page = c.get(f"/workbench/cases/{case.pk}/").content.decode()
    # removing the only assisting officer is not offered: the reason is shown instead
    assert f"/workbench/cases/{case.pk}/officers/{world.changan_officer2.pk}/remove/" not in page
    assert "不得少于2人" in page and "赵敏" in page  # the new officer is offered in the add form
    r = c.post(f"/workbench/cases/{case.pk}/officers/", {"officer": third.pk, "role": "assist"}, follow=True)
    assert "已加入承办人员：赵敏" in r.content.decode()
    page = r.content.decode()
    assert f"/workbench/cases/{case.pk}/officers/{world.changan_officer2.pk}/remove/" in page
    r = c.post(f"/workbench/cases/{case.pk}/officers/{third.pk}/lead/", follow=True)
    assert "主办人已改为：赵敏" in r.content.decode()
    r = c.post(f"/workbench/cases/{case.pk}/officers/{world.changan_officer.pk}/remove/", follow=True)
    assert "已将王建国移出本案" in r.content.decode()
    assert roles(case) == {"李秀英": OfficerRole.ASSIST, "赵敏": OfficerRole.LEAD}
    r = c.post(f"/workbench/cases/{case.pk}/officers/{world.changan_officer2.pk}/remove/", follow=True)
    assert "不得少于2人" in r.content.decode() and "李秀英" in roles(case)
    # a read-only supervisor sees the officers but is offered no change
    supervisor = client_for(world.u_legal_sjz).get(f"/workbench/cases/{case.pk}/").content.decode()
    assert "赵敏" in supervisor and f"/workbench/cases/{case.pk}/officers/" not in supervisor


def test_officers_are_added_and_removed_through_the_api(world, open_case, officer):
    case = open_case()
    third = officer("赵敏")
    _, token = create_token(actor="t", agency=world.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/cases/{case.pk}/officers"
    r = api.delete(f"{url}/{world.changan_officer2.pk}")
    assert r.status_code == 422 and r.json()["code"] == "too_few_officers" and r.json()["field"] == "officer"
    r = api.post(url, {"officer_id": third.pk, "role": "assist"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert {o["name"]: o["role"] for o in r.json()["officers"]} == {"王建国": "lead", "李秀英": "assist", "赵敏": "assist"}
    r = api.post(url, {"officer_id": third.pk, "role": "lead"}, content_type="application/json")
    assert r.status_code == 200 and {o["name"]: o["role"] for o in r.json()["officers"]}["赵敏"] == "lead"
    r = api.delete(f"{url}/{world.changan_officer.pk}")
    assert r.status_code == 200 and {o["name"]: o["role"] for o in r.json()["officers"]} == {"赵敏": "lead", "李秀英": "assist"}
    expired = officer("陈立新", valid_to=clock.today() - timedelta(days=1))
    r = api.post(url, {"officer_id": expired.pk}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "certificate_invalid" and "第四十二条" in r.json()["message"]
    r = api.post(url, {"officer_id": world.zhengding_officer.pk}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "officer_unknown" and r.json()["field"] == "officer_id"
    r = api.post(url, {"officer_id": third.pk, "role": "boss"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "role"
    _, read_only = create_token(actor="t", agency=world.amr_changan, name="只读", scopes=["read"])
    r = Client(HTTP_AUTHORIZATION=f"Bearer {read_only}").delete(f"{url}/{world.changan_officer2.pk}")
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"


def test_the_officers_section_fits_a_phone(browser_page, world, open_case, officer):
    case = open_case()
    services.assign_officer(actor=world.u_changan, case=case, officer=officer("欧阳建华"))
    pg = browser_page
    log_in(pg, "changan_officer", world.password)
    pg.goto(pg.base + f"/workbench/cases/{case.pk}/#officers")
    assert "设为主办人" in pg.content() and "移出本案" in pg.content()
    assert no_horizontal_scroll(pg)
