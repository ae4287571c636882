"""The limit for publishing an inspection result (公示-15) is dated data,
random_inspection.result_publication_limit, with a value for Hebei only
(local practice: 20 working days; no national source gives one). An agency
of another region records and publishes its results all the same: no due
date, a note saying so, never overdue, and no page or to-do list fails
(docs/random-inspection.md, "The result")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.tests.conftest import filed
from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import AgencyKind, Role
from sanxiang.core.todo import todo_for
from sanxiang.core.validators import make_certificate_number, make_credit_code
from sanxiang.inspections import drawv1, selectors, services
from sanxiang.inspections.models import Inspection, InspectionResult
from sanxiang.inspections.tests.world import END, SECRETS, START
from sanxiang.rules.loader import RuleNotFound, get_rule

RULE = "random_inspection.result_publication_limit"


@pytest.fixture
def bj(world):
    """A Beijing district's market regulator, legal office and people, its
    accepted 随机抽查事项清单, four inspection objects and a drawn batch."""
    w = world
    actor = "test-fixture"
    w.beijing = core_services.create_region(actor=actor, code="110000", name="北京市", level="province")
    w.dongcheng = core_services.create_region(actor=actor, code="110101", name="东城区", level="county", parent=w.beijing)
    w.legal_bj = core_services.create_agency(actor=actor, name="北京市东城区司法局", region=w.dongcheng, kind=AgencyKind.LEGAL_OFFICE,
                                             credit_code=make_credit_code(region_code="110101", serial=1))
    w.amr_bj = core_services.create_agency(actor=actor, name="北京市东城区市场监督管理局", region=w.dongcheng,
                                           kind=AgencyKind.MARKET_REGULATION, legal_office=w.legal_bj,
                                           credit_code=make_credit_code(region_code="110101", serial=2))
    user = lambda name, role, **kw: core_services.create_user(actor=actor, username=name, password=w.password, role=role, **kw)  # noqa: E731
    w.u_pub_bj = user("pub_bj", Role.PUBLICITY_ADMIN, agency=w.amr_bj)
    w.u_legal_bj = user("legal_bj", Role.LEGAL_SUPERVISOR, agency=w.legal_bj, region=w.dongcheng)
    w.u_officer_bj = user("officer_bj", Role.OFFICER, agency=w.amr_bj)
    w.bj_officers = [core_services.create_officer(
        actor=actor, name=name, agency=w.amr_bj, post="执法队员", certificate_number=make_certificate_number("110101", i + 1),
        categories=["inspection"], enforcement_region=w.dongcheng, valid_from=date(2024, 1, 1), valid_to=date(2029, 12, 31),
        user=w.u_officer_bj if i == 0 else None) for i, name in enumerate(["高洁", "林涛", "何平"])]
    filed(editor=w.u_pub_bj, decider=w.u_legal_bj, agency=w.amr_bj, kind=CatalogueKind.INSPECTION_ITEMS)
    for n in range(1, 5):
        services.add_object(actor=w.u_pub_bj, data={
            "name": f"东城区第{n}便利店有限公司", "credit_code": make_credit_code(region_code="110101", serial=600 + n),
            "region": "110101", "risk_tier": "A", "industry": "食品经营"})
    plan = services.create_plan(actor=w.u_pub_bj, agency=w.amr_bj, year=2026, title="2026年度双随机抽查计划")
    batch = services.add_batch(actor=w.u_pub_bj, plan=plan, title="东城区食品经营抽查", item_code="SJ-CC-001",
                               scope_region=w.dongcheng, ratios={"A": "1"}, starts_on=START, ends_on=END)
    services.submit_plan(actor=w.u_pub_bj, plan=plan)
    services.decide_plan(actor=w.u_legal_bj, plan=plan, accept=True)
    draw = services.create_draw(actor=w.u_pub_bj, batch=batch)
    steps = [(w.u_pub_bj, w.amr_bj, SECRETS["agency"]), (w.u_legal_bj, w.legal_bj, SECRETS["office"])]
    for a, agency, secret in steps:
        services.commit(actor=a, draw=draw, agency=agency, commitment=drawv1.commitment(secret))
    for a, agency, secret in steps:
        draw = services.reveal(actor=a, draw=draw, agency=agency, secret=secret)
    w.bj_draw = draw
    return w


def test_the_limit_has_no_value_outside_hebei(bj):
    with pytest.raises(RuleNotFound):
        get_rule(RULE, on=clock.today(), agency=bj.amr_bj)
    assert get_rule(RULE, on=clock.today(), agency=bj.amr_changan).value == 20


def test_a_result_outside_hebei_is_published_without_a_due_date_and_the_pages_say_so(bj, settings):
    settings.REQUIRE_TOTP = False
    inspection = Inspection.objects.filter(draw=bj.bj_draw).first()
    done = services.record_result(actor=bj.u_officer_bj, inspection=inspection, result=InspectionResult.NO_PROBLEM,
                                  inspected_on=clock.today(), note="")
    assert done.published_at is not None and done.publication_due is None and not done.publication_due_provisional
    assert inspection.object.name in Client().get("/inspections/results/").content.decode()
    assert Client().get("/api/v1/inspections/results").json()["count"] == 1
    assert Client().get(f"/inspections/draws/{bj.bj_draw.pk}/").status_code == 200
    office = client_for(bj.u_pub_bj).get("/inspections/office/")
    assert office.status_code == 200
    assert "本地区未设定公示时限" in office.content.decode()
    figures = client_for(bj.u_pub_bj).get("/inspections/office/figures/", {"year": 2026})
    assert figures.status_code == 200
    [row] = [r for r in selectors.figures_for(user=bj.u_pub_bj, year=2026) if not r["tier"]]
    assert row["published"] == 1 and row["on_time"] == 0  # no limit: not counted as on time


def test_an_unpublished_result_outside_hebei_is_never_overdue_and_the_to_do_list_still_works(bj, settings):
    settings.REQUIRE_TOTP = False
    long_after = END + timedelta(days=400)
    items = todo_for(user=bj.u_pub_bj, today=long_after)  # every page shows this list's count
    assert not [t for t in items if t.kind == "inspection_result_overdue"]
    assert selectors.overdue_results(user=bj.u_pub_bj, today=long_after) == []
    assert selectors.result_due(Inspection.objects.filter(draw=bj.bj_draw).first()) is None
    assert client_for(bj.u_pub_bj).get("/inspections/office/").status_code == 200
    assert client_for(bj.u_officer_bj).get("/inspections/office/").status_code == 200
