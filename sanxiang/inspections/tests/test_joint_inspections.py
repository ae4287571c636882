"""Joint inspections (部门联合抽查, issue 14 item 2): a batch names other
enforcement agencies of the organiser's region; their officers join the
inspectors of the snapshot, each agency and its legal office becomes a
participant of the draw, the drawn objects are inspections of the
organising agency naming every drawn inspector (its case holds its own
officers), and a joint agency it may not inspect with is refused naming
the field (docs/random-inspection.md)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.cases.models import Case
from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import AgencyKind, Officer, Role
from sanxiang.core.todo import todo_for
from sanxiang.core.validators import make_certificate_number, make_credit_code
from sanxiang.inspections import drawv1, selectors, services
from sanxiang.inspections.models import Inspection, InspectionBatch, InspectionResult
from sanxiang.inspections.tests.world import END, SECRETS, START

ECO_SECRET = "5a" * 32


@pytest.fixture
def jw(iw):
    """iw + 长安区's ecology bureau (same region and legal office) with two
    inspectors and an organiser, and a filed plan whose batch inspects tier D
    jointly with it, five inspectors per object — more than 长安区's own
    four eligible inspectors, so every object gets inspectors of both."""
    w = iw
    w.eco = core_services.create_agency(actor="test-fixture", name="石家庄市长安区生态环境分局",
                                        credit_code=make_credit_code(region_code="130102", serial=800),
                                        region=w.changan, kind=AgencyKind.ECOLOGY, legal_office=w.legal_sjz)
    w.eco_officers = [core_services.create_officer(
        actor="test-fixture", name=name, agency=w.eco, post="执法队员", certificate_number=make_certificate_number("130102", 30 + i),
        categories=["inspection"], enforcement_region=w.changan, valid_from=date(2024, 1, 1), valid_to=date(2029, 12, 31))
        for i, name in enumerate(["郑伟", "钱敏"])]
    w.u_pub_eco = core_services.create_user(actor="test-fixture", username="pub_eco", password=w.password,
                                            role=Role.PUBLICITY_ADMIN, agency=w.eco)
    Officer.objects.filter(pk=w.changan_officer.pk).update(user=w.u_changan)
    plan = services.create_plan(actor=w.u_pub_changan, agency=w.amr_changan, year=2026, title="2026年度部门联合抽查计划")
    w.joint_batch = services.add_batch(
        actor=w.u_pub_changan, plan=plan, title="食品经营与环保联合抽查", item_code="SJ-CC-001", scope_region=w.changan,
        ratios={"D": "1"}, starts_on=START, ends_on=END, inspectors_per_object=5, joint_agencies=[w.eco])
    services.submit_plan(actor=w.u_pub_changan, plan=plan)
    services.decide_plan(actor=w.u_legal_sjz, plan=plan, accept=True)
    return w


def _drawn_jointly(w):
    draw = services.create_draw(actor=w.u_pub_changan, batch=w.joint_batch)
    steps = [(w.u_pub_changan, w.amr_changan, SECRETS["agency"]), (w.u_legal_sjz, w.legal_sjz, SECRETS["office"]),
             (w.u_pub_eco, w.eco, ECO_SECRET)]
    for actor, agency, secret in steps:
        services.commit(actor=actor, draw=draw, agency=agency, commitment=drawv1.commitment(secret))
    for actor, agency, secret in steps:
        draw = services.reveal(actor=actor, draw=draw, agency=agency, secret=secret)
    return draw


def test_a_joint_batch_draws_inspectors_of_every_agency_involved_and_the_record_verifies(jw):
    draw = services.create_draw(actor=jw.u_pub_changan, batch=jw.joint_batch)
    own = {jw.changan_officer.certificate_number, jw.changan_officer2.certificate_number,
           *(o.certificate_number for o in jw.extra_inspectors)}
    eco = {o.certificate_number for o in jw.eco_officers}
    assert set(draw.snapshot["inspectors"]) == own | eco  # 正定, 路南: not in the batch
    # Participants: both agencies and their (one, shared) legal office.
    assert {p.agency_id for p in draw.participants.all()} == {jw.amr_changan.pk, jw.eco.pk, jw.legal_sjz.pk}
    # The joint agency's organiser is asked for its commitment.
    assert any(t.kind == "inspection_commitment" for t in todo_for(user=jw.u_pub_eco, today=clock.today()))
    with pytest.raises(PermissionDenied):  # nobody gives another participant's commitment
        services.commit(actor=jw.u_pub_changan, draw=draw, agency=jw.eco, commitment=drawv1.commitment(ECO_SECRET))
    draw.delete()
    draw = _drawn_jointly(jw)
    assert draw.status == "drawn" and len(draw.result) == 4  # tier D: 3 units and 张三丰
    for row in draw.result:
        assert len(row["inspectors"]) == 5 and set(row["inspectors"]) & eco and set(row["inspectors"]) & own
    record = Client().get(f"/api/v1/inspections/draws/{draw.pk}/record").json()
    assert drawv1.verify(record) == []
    assert {p["name"] for p in record["participants"]} >= {jw.amr_changan.name, jw.eco.name}
    page = Client().get(f"/inspections/draws/{draw.pk}/").content.decode()
    assert jw.eco.name in page


def test_a_joint_inspection_is_the_organisers_naming_every_drawn_inspector_and_its_result_is_attributed_to_it(jw):
    draw = _drawn_jointly(jw)
    inspections = list(Inspection.objects.filter(draw=draw).select_related("object"))
    assert len(inspections) == 4 and {i.agency_id for i in inspections} == {jw.amr_changan.pk}
    eco = {o.certificate_number for o in jw.eco_officers}
    for inspection, row in zip(inspections, draw.result):
        assert inspection.inspectors == row["inspectors"]
        assert {o.certificate_number for o in inspection.officers.all()} == set(row["inspectors"])
    inspection = next(i for i in inspections if not i.object.natural_person)
    # The joint agency's people neither start it nor record its result: it is the organiser's.
    with pytest.raises(PermissionDenied):
        services.start_inspection(actor=jw.u_pub_eco, inspection=inspection)
    with pytest.raises(PermissionDenied):
        services.record_result(actor=jw.u_pub_eco, inspection=inspection, result=InspectionResult.NO_PROBLEM,
                               inspected_on=clock.today())
    started = services.start_inspection(actor=jw.u_changan, inspection=inspection)
    case = Case.objects.get(pk=started.case_id)
    assert case.agency_id == jw.amr_changan.pk
    officers = {a.officer.certificate_number for a in case.assignments.select_related("officer")}
    assert officers and officers <= set(inspection.inspectors) and not officers & eco  # its own officers only
    done = services.record_result(actor=jw.u_changan, inspection=inspection, result=InspectionResult.REFERRED,
                                  inspected_on=clock.today(), note="联合检查发现超标排放和过期食品，已移交立案。")
    referred = Case.objects.get(pk=done.referred_case_id)
    assert referred.agency_id == jw.amr_changan.pk and referred.party_name == inspection.object.name
    api = Client().get("/api/v1/inspections/results", {"agency": jw.amr_changan.pk}).json()
    assert api["count"] == 1 and api["items"][0]["agency"] == jw.amr_changan.name
    assert Client().get("/api/v1/inspections/results", {"agency": jw.eco.pk}).json()["count"] == 0


@pytest.mark.parametrize("which, code", [("lunan", "outside_region"), ("zhengding", "outside_region"),
                                         ("legal", "legal_office"), ("self", "self"), ("inactive", "inactive")])
def test_a_joint_agency_the_organiser_may_not_inspect_with_is_refused_naming_the_field(jw, which, code):
    if which == "inactive":
        type(jw.eco).objects.filter(pk=jw.eco.pk).update(is_active=False)
        jw.eco.refresh_from_db()
    other = {"lunan": jw.amr_lunan, "zhengding": jw.amr_zhengding, "legal": jw.legal_sjz, "self": jw.amr_changan,
             "inactive": jw.eco}[which]
    plan = services.create_plan(actor=jw.u_pub_changan, agency=jw.amr_changan, year=2026, title="补充计划")
    with pytest.raises(ValidationError) as exc:
        services.add_batch(actor=jw.u_pub_changan, plan=plan, title="联合抽查", item_code="SJ-CC-001", scope_region=jw.changan,
                           ratios={"A": "1"}, starts_on=START, ends_on=END, joint_agencies=[jw.eco, other])
    [error] = exc.value.error_dict["joint_agencies"]
    assert error.code == code and (code == "self" or other.name in error.messages[0])
    assert not InspectionBatch.objects.filter(plan=plan).exists()


def test_the_batch_form_adds_a_joint_batch_and_refuses_an_agency_of_another_region(jw, settings):
    settings.REQUIRE_TOTP = False
    c = client_for(jw.u_pub_changan)
    page = c.get("/inspections/office/").content.decode()
    assert jw.eco.name in page and jw.amr_lunan.name not in page  # the form offers the region's agencies
    plan = services.create_plan(actor=jw.u_pub_changan, agency=jw.amr_changan, year=2026, title="补充计划")
    form = {"title": "联合抽查（表单）", "item_code": "SJ-CC-001", "region": "130102", "ratio_A": "1",
            "starts_on": START.isoformat(), "ends_on": END.isoformat(), "k": "2"}
    refused = c.post(f"/inspections/office/plans/{plan.pk}/batches/", {**form, "joint": [str(jw.amr_lunan.pk)]}, follow=True)
    assert refused.status_code == 200 and jw.amr_lunan.name in refused.content.decode()  # the message names it
    assert not InspectionBatch.objects.filter(plan=plan).exists()  # not silently added without it
    unknown = c.post(f"/inspections/office/plans/{plan.pk}/batches/", {**form, "joint": ["999999999"]}, follow=True)
    assert unknown.status_code == 200 and not InspectionBatch.objects.filter(plan=plan).exists()
    c.post(f"/inspections/office/plans/{plan.pk}/batches/", {**form, "joint": [str(jw.eco.pk)]})
    batch = InspectionBatch.objects.get(plan=plan)
    assert list(batch.joint_agencies.all()) == [jw.eco]
    assert selectors.batch_choices(user=jw.u_pub_changan)["joint_choices"].filter(pk=jw.eco.pk).exists()
