"""投诉举报 (issue 15 item 5) through the real pages, API and services:
routing, the reply deadline from the dated rule on the official calendar,
no personal data in any public answer, refusals naming the field, the rate
limit, and 403 for other offices."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time

import pytest
from django.test import Client

from sanxiang.conftest import client_for, make_user
from sanxiang.core import clock
from sanxiang.core.models import AgencyKind, AuditEntry, Role
from sanxiang.core.services import create_agency
from sanxiang.core.todo import todo_for
from sanxiang.core.validators import make_credit_code
from sanxiang.supervision import services
from sanxiang.supervision.models import Complaint, ComplaintStatus

pytestmark = pytest.mark.django_db

NAME, PHONE = "钱多多", "13912345678"


def form(target, **over):
    data = {"agency": str(target.pk), "subject": "执法人员未出示证件", "content": "两名执法人员检查时未出示执法证件，也未说明依据。",
            "complainant_name": NAME, "complainant_phone": PHONE, "officer_certificate": "", "case_reference": ""}
    data.update(over)
    return data


def file(agency, ip="198.51.100.1", **over) -> Complaint:
    return services.file_complaint(data=form(agency, **over), ip=ip)


def at(day: date, monkeypatch):
    instant = datetime.combine(day, time(10, 0), tzinfo=clock.SHANGHAI)
    monkeypatch.setattr(clock, "now", lambda: instant)


# --- routing -------------------------------------------------------------------------------


def test_a_complaint_is_routed_to_the_supervising_legal_office_of_the_agency(world):
    assert file(world.amr_changan).office == world.legal_sjz  # the office the agency names
    assert file(world.amr_lunan, ip="198.51.100.2").office == world.legal_ts
    # no office named and none in its county: the nearest region above with one
    bureau = create_agency(actor="t", name="正定县城市管理综合行政执法局", region=world.zhengding, kind=AgencyKind.URBAN_MANAGEMENT,
                           credit_code=make_credit_code(region_code="130123", serial=77))
    assert file(bureau, ip="198.51.100.3").office == world.legal_sjz
    # a complaint about a legal office goes to the office above it
    assert file(world.legal_sjz, ip="198.51.100.4").office == world.legal_hebei


def test_the_officer_is_found_by_certificate_number_within_the_agency(world):
    c = file(world.amr_changan, officer_certificate=world.changan_officer.certificate_number)
    assert c.officer == world.changan_officer
    with pytest.raises(Exception) as info:
        file(world.amr_changan, ip="198.51.100.9", officer_certificate=world.lunan_officer.certificate_number)
    assert "officer_certificate" in info.value.message_dict


# --- the deadline ----------------------------------------------------------------------------


def test_the_reply_deadline_is_60_days_on_the_official_calendar_shown_alike_to_both_sides(world, monkeypatch, no_totp):
    at(date(2026, 8, 1), monkeypatch)  # + 60 days = Wed 2026-09-30, a working day
    plain = file(world.amr_changan)
    at(date(2026, 8, 2), monkeypatch)  # + 60 days = 2026-10-01, National Day: rolls to 2026-10-08
    rolled = file(world.amr_changan, ip="198.51.100.2")
    assert (plain.reply_due, rolled.reply_due) == (date(2026, 9, 30), date(2026, 10, 8))
    assert "信访工作条例" in rolled.reply_reference and not rolled.reply_due_provisional
    # the complainant (page and API) and the office read the same date
    public = Client().post("/complaints/lookup/", {"tracking_number": rolled.tracking_number})
    assert "2026-10-08" in public.content.decode()
    assert Client().get(f"/api/v1/complaints/{rolled.tracking_number}").json()["reply_due"] == "2026-10-08"
    office = client_for(world.u_legal_sjz).get(f"/supervision/complaints/{rolled.pk}/")
    assert "2026-10-08" in office.content.decode()


# --- the public side -------------------------------------------------------------------------


def test_filing_on_the_portal_gives_an_unguessable_tracking_number_and_the_lookup_shows_the_reply(world):
    response = Client().post("/complaints/", form(world.amr_changan))
    assert response.status_code == 201
    number = re.search(r'id="tracking-number">(TS\d{8}[0-9A-Z]{10})<', response.content.decode()).group(1)
    complaint = Complaint.objects.get(tracking_number=number)
    assert complaint.office == world.legal_sjz and complaint.status == ComplaintStatus.RECEIVED
    other = file(world.amr_changan, ip="198.51.100.7").tracking_number
    assert other[:10] == number[:10] and other[10:] != number[10:]  # date + 50 random bits
    services.assign(actor=world.u_legal_sjz, complaint=complaint, handler=world.u_legal_sjz)
    services.add_note(actor=world.u_legal_sjz, complaint=complaint, text="内部：已约谈执法人员。")
    services.reply(actor=world.u_legal_sjz, complaint=complaint, text="经核实，情况属实，已责令改正。")
    page = Client().post("/complaints/lookup/", {"tracking_number": number.lower()}).content.decode()
    assert "经核实，情况属实，已责令改正。" in page and "已答复" in page and "已约谈" not in page
    assert Client().post("/complaints/lookup/", {"tracking_number": "TS20260101ABCDEFGHJK"}).status_code == 404


def test_no_public_answer_carries_the_complainants_personal_data(world, no_totp):
    c = file(world.amr_changan, subject=f"{NAME}投诉执法人员未出示证件")
    services.assign(actor=world.u_legal_sjz, complaint=c, handler=world.u_legal_sjz)
    services.reply(actor=world.u_legal_sjz, complaint=c, text=f"{NAME}您好：经核实已处理，如有疑问请拨打{PHONE}以外的12345热线。")
    api = Client().get(f"/api/v1/complaints/{c.tracking_number}")
    assert api.status_code == 200
    body = api.json()
    text = json.dumps(body, ensure_ascii=False)
    assert body["status"] == "replied" and body["reply"]
    assert NAME not in text and PHONE not in text and "complainant" not in text and "handler" not in text
    page = Client().post("/complaints/lookup/", {"tracking_number": c.tracking_number}).content.decode()
    assert NAME not in page and PHONE not in page
    filed = Client().post("/complaints/", form(world.amr_changan), REMOTE_ADDR="198.51.100.8").content.decode()
    assert NAME not in filed.split('id="tracking-number"')[1] and PHONE not in filed.split('id="tracking-number"')[1]
    # the audit trail does not carry it either
    assert not [e for e in AuditEntry.objects.filter(action__startswith="complaint.") if NAME in e.payload or PHONE in e.payload]
    # the office handling it sees it
    assert NAME in client_for(world.u_legal_sjz).get(f"/supervision/complaints/{c.pk}/").content.decode()


def test_the_api_files_a_complaint_and_answers_its_status(world):
    response = Client(enforce_csrf_checks=True).post("/api/v1/complaints", json.dumps(form(world.amr_lunan)),
                                                    content_type="application/json")
    assert response.status_code == 201, response.content  # no login, no CSRF token: a script files it
    number = response.json()["tracking_number"]
    assert Complaint.objects.get(tracking_number=number).office == world.legal_ts
    body = Client().get(f"/api/v1/complaints/{number}").json()
    assert body["status"] == "received" and body["reply"] is None
    assert Client().get("/api/v1/complaints/TS20260101ABCDEFGHJK").status_code == 404


@pytest.mark.parametrize("field,value,code", [
    ("agency", "", "required"), ("agency", "999999", "not_found"), ("subject", "", "required"),
    ("content", "太短", "too_short"), ("content", "长" * 5001, "too_long"), ("complainant_phone", "call me", "invalid"),
    ("officer_certificate", "13010200000", "not_found"),
])
def test_bad_input_is_refused_naming_the_field(world, field, value, code):
    response = Client().post("/api/v1/complaints", json.dumps(form(world.amr_changan, **{field: value})),
                             content_type="application/json")
    body = response.json()
    # an agency that is not an id at all is refused by the request's schema ("invalid")
    assert response.status_code == 422 and body["field"] == field and body["code"] in (code, "invalid"), body
    page = Client().post("/complaints/", form(world.amr_changan, **{field: value}))
    assert page.status_code == 400 and f'data-field="{field}"' in page.content.decode()
    assert not Complaint.objects.exists()


def test_filing_is_rate_limited_per_address_on_the_form_and_the_api(world, settings):
    settings.COMPLAINT_RATE_LIMIT = 2
    web = Client(REMOTE_ADDR="203.0.113.5")
    assert [web.post("/complaints/", form(world.amr_changan)).status_code for _ in range(3)] == [201, 201, 429]
    refused = web.post("/api/v1/complaints", json.dumps(form(world.amr_changan)), content_type="application/json")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    other = Client(REMOTE_ADDR="203.0.113.6").post("/api/v1/complaints", json.dumps(form(world.amr_changan)),
                                                   content_type="application/json")
    assert other.status_code == 201
    assert Complaint.objects.count() == 3


# --- the office's side -----------------------------------------------------------------------


def test_only_the_supervisors_of_the_handling_office_see_and_act(world, no_totp):
    c = file(world.amr_changan)
    for user in (world.u_legal_ts, world.u_legal_hebei, world.u_changan):
        client = client_for(user)
        assert client.get(f"/supervision/complaints/{c.pk}/").status_code == 403
        assert client.post(f"/supervision/complaints/{c.pk}/", {"action": "reply", "text": "x" * 20}).status_code == 403
    assert client_for(world.u_legal_ts).get("/supervision/complaints/").content.decode().count(c.tracking_number) == 0
    assert client_for(world.u_changan).get("/supervision/complaints/").status_code == 403
    with pytest.raises(Exception) as info:
        services.assign(actor=world.u_legal_sjz, complaint=c, handler=world.u_legal_ts)
    assert getattr(info.value, "code", "") == "not_office_supervisor"
    c.refresh_from_db()
    assert c.status == ComplaintStatus.RECEIVED


def test_the_office_list_has_statistics_filters_overdue_and_to_do_items(world, monkeypatch, no_totp):
    colleague = make_user("legal_sjz2", Role.LEGAL_SUPERVISOR, region=world.sjz, agency=world.legal_sjz)
    at(date(2026, 6, 1), monkeypatch)
    old = file(world.amr_changan)  # due 2026-07-31
    late = file(world.amr_zhengding, ip="198.51.100.2")
    at(date(2026, 8, 10), monkeypatch)
    services.assign(actor=world.u_legal_sjz, complaint=late, handler=colleague)
    services.reply(actor=colleague, complaint=late, text="已核实处理，答复如上。")
    fresh = file(world.amr_changan, ip="198.51.100.3")
    services.assign(actor=world.u_legal_sjz, complaint=fresh, handler=world.u_legal_sjz)
    monkeypatch.undo()
    today = date(2026, 8, 10)
    page = client_for(world.u_legal_sjz)
    from sanxiang.supervision import selectors

    stats = selectors.statistics(user=world.u_legal_sjz, today=today)
    assert (stats["received"], stats["replied"], stats["on_time"], stats["late"], stats["overdue"]) == (3, 1, 0, 1, 1)
    assert {r["agency__name"]: r["received"] for r in stats["by_agency"]} == {world.amr_changan.name: 2, world.amr_zhengding.name: 1}
    html = page.get("/supervision/complaints/?status=replied").content.decode()
    assert late.tracking_number in html and old.tracking_number not in html
    overdue = page.get("/supervision/complaints/?status=open").content.decode()
    assert 'class="urgency-overdue"' in overdue  # today is past 2026-07-31
    items = {(i.kind, i.title.split("：")[0]): i for i in todo_for(user=world.u_legal_sjz, today=today)}
    assert items[("complaint_assign", old.tracking_number)].urgency == "overdue"
    assert items[("complaint_reply", fresh.tracking_number)].urgency == "later"
    assert [i.kind for i in todo_for(user=colleague, today=today)] == ["complaint_assign"]
    soon = {i.title.split("：")[0]: i.urgency for i in todo_for(user=world.u_legal_sjz, today=fresh.reply_due)}
    assert soon[fresh.tracking_number] == "soon"
    assert "投诉举报" in page.get("/workbench/").content.decode()


def test_not_accepting_needs_a_reason_the_complainant_reads(world):
    c = file(world.amr_changan)
    with pytest.raises(Exception) as info:
        services.not_accept(actor=world.u_legal_sjz, complaint=c, reason=" ")
    assert "reason" in info.value.message_dict
    services.not_accept(actor=world.u_legal_sjz, complaint=c, reason="所反映事项已进入行政复议程序，不属于本机关受理范围。")
    body = Client().get(f"/api/v1/complaints/{c.tracking_number}").json()
    assert body["status"] == "not_accepted" and "行政复议" in body["reply"]
    with pytest.raises(Exception):
        services.reply(actor=world.u_legal_sjz, complaint=c, text="再次答复")


def test_the_officers_verification_page_links_to_the_form_prefilled(world):
    page = Client().get(f"/verify/{world.changan_officer.certificate_number}").content.decode()
    link = re.search(r'<a class="complain" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    form_page = Client().get(link).content.decode()
    assert f'<option value="{world.amr_changan.pk}" selected>' in form_page
    assert f'value="{world.changan_officer.certificate_number}"' in form_page


def test_the_demo_gives_legal_sjz_complaints_in_three_states_once(world):
    from sanxiang.supervision.demo import AGENCY, load_complaint_demo

    create_agency(actor="t", name=AGENCY, region=world.sjz, kind=AgencyKind.MARKET_REGULATION, legal_office=world.legal_sjz,
                  credit_code=make_credit_code(region_code="130100", serial=501))
    assert load_complaint_demo() == 3
    assert load_complaint_demo() == 0
    assert sorted(Complaint.objects.values_list("status", flat=True)) == ["investigating", "received", "replied"]
    assert {i.kind for i in todo_for(user=world.u_legal_sjz)} == {"complaint_assign", "complaint_reply"}


@pytest.mark.django_db(transaction=True)
def test_simultaneous_filings_from_one_address_cannot_pass_the_limit_together(world, settings):
    """Eight requests at once from one address with a limit of 2: exactly two
    complaints (PostgreSQL: an advisory lock per address; SQLite serialises
    writers)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite's test database is one connection)")
    import threading

    settings.COMPLAINT_RATE_LIMIT = 2
    results, barrier = [], threading.Barrier(8)

    def one():
        from django.db import connections

        barrier.wait()
        try:
            file(world.amr_changan, ip="203.0.113.77")
            results.append("filed")
        except services.RateLimited:
            results.append("throttled")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["filed"] * 2 + ["throttled"] * 6
    assert Complaint.objects.count() == 2


def test_a_public_decisions_page_links_to_the_form_prefilled_with_its_agency_and_number(world):
    from sanxiang.core.services import create_user
    from sanxiang.publicity import services as publicity_services
    from sanxiang.publicity.models import Decision

    admin = create_user(actor="t", username="pub_e", password=world.password, role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    publicity_services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[{
        "external_id": "E-1", "kind": "penalty", "doc_number": "冀长市监罚〔2026〕88号", "party_name": "石家庄某某餐饮有限公司",
        "party_type": "legal_person", "party_credit_code": "91350100M000100Y43", "decision_date": "2026-10-12",
        "violation_type": "违法行为", "facts": "当事人使用超过保质期的食品原料加工食品。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条", "penalty_categories": ["罚款"], "fine_fen": 300000,
        "content": "罚款人民币3000元。"}])
    decision = Decision.objects.get()
    publicity_services.publish_decision(actor=admin, decision=decision)
    page = Client().get(f"/decisions/{decision.public.pk}/").content.decode()
    link = re.search(r'<a class="complain" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    form_page = Client().get(link).content.decode()
    assert f'<option value="{world.amr_changan.pk}" selected>' in form_page and 'value="冀长市监罚〔2026〕88号"' in form_page
