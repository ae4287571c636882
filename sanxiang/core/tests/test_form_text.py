"""The forms share the intake normalisation (issue 9, section 2): every
text a form accepts goes through sanxiang.core.text (core.forms.TextForm)."""

from __future__ import annotations

from django.test import Client

from sanxiang.cases.models import Case
from sanxiang.core import clock


def open_case(world, **fields):
    c = Client()
    c.force_login(world.u_changan)
    data = {"title": "某餐馆无证经营案", "act_kind": "penalty", "procedure": "general", "party_name": "某餐馆",
            "party_type": "individual_business", "opened_on": clock.today().isoformat(),
            "officers": [world.changan_officer.pk, world.changan_officer2.pk], **fields}
    return c.post("/workbench/cases/new/", data)


def test_the_case_form_removes_invisible_characters_from_the_party_name_and_stores_nfc(world):
    r = open_case(world, party_name="某\u200b餐\u202e馆", title="Cafe\u0301 无证经营案")
    assert r.status_code == 302, r.content.decode()[:2000]
    case = Case.objects.get()
    assert case.party_name == "某餐馆" and case.title == "Café 无证经营案"


def test_the_case_form_refuses_control_characters_with_an_error_on_the_field(world):
    r = open_case(world, title="某餐馆\x1b[2J无证经营案")
    assert r.status_code in (200, 400) and not Case.objects.exists()
    assert "控制字符" in r.content.decode()


def test_the_case_form_refuses_a_party_name_without_a_letter_or_cjk_character(world):
    r = open_case(world, party_name="12345")
    assert r.status_code in (200, 400) and not Case.objects.exists()
    assert "应至少含有一个汉字或字母" in r.content.decode()


def test_a_view_reading_the_post_directly_gets_normalised_text_and_control_characters_are_refused(world):
    """publicity.views.withdraw reads request.POST itself: the shared clean
    step (core.forms.FormTextMiddleware) covers it too."""
    from sanxiang.core import services as core_services
    from sanxiang.core.models import Role
    from sanxiang.publicity import services
    from sanxiang.publicity.intake import validate_record
    from sanxiang.publicity.models import Decision, DecisionStatus, WithdrawalNotice
    from sanxiang.publicity.tests.test_intake import penalty_record

    services.receive_records(actor="t", agency=world.amr_changan, source="api",
                             records=[validate_record(penalty_record(1), index=0)[0]])
    decision = Decision.objects.get()
    services.publish_decision(actor="system", decision=decision)
    admin = core_services.create_user(actor="t", username="pub_changan", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    c = Client()
    c.force_login(admin)
    url = f"/workbench/publicity/{decision.pk}/withdraw/"
    r = c.post(url, {"ground": "revoked", "reason": "复议\x1b撤销"})
    assert r.status_code == 400 and "控制字符" in r.content.decode() and "reason" in r.content.decode()
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.PUBLISHED
    r = c.post(url, {"ground": "revoked", "reason": "e\u0301 经复议\u202e撤销"})
    assert r.status_code == 302
    assert WithdrawalNotice.objects.get().reason.startswith("é 经复议撤销")
