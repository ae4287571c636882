"""Fixtures of the 双随机 tests. The catalogue tests' people (a publicity
administrator of 长安区 …) are this app's organisers too."""

from __future__ import annotations

from datetime import date

import pytest

from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.tests import conftest as catalog_fixtures
from sanxiang.catalog.tests.conftest import filed
from sanxiang.core import services as core_services
from sanxiang.core.models import Officer
from sanxiang.core.validators import make_certificate_number
from sanxiang.inspections import drawv1, services

from .world import END, SECRETS, START, credit

cw = catalog_fixtures.cw


@pytest.fixture
def iw(cw):
    """cw + an accepted 随机抽查事项清单 of 长安区, a directory of 12 objects
    (one natural person), four officers with inspection on their
    certificate, one without, one expiring mid-period, and a filed plan with
    one batch."""
    w = cw
    filed(editor=w.u_pub_changan, decider=w.u_legal_sjz, agency=w.amr_changan, kind=CatalogueKind.INSPECTION_ITEMS)

    def officer(name, n, **kw):
        return core_services.create_officer(
            actor="test-fixture", name=name, agency=w.amr_changan, post="执法队员",
            certificate_number=make_certificate_number("130102", n), enforcement_region=w.changan,
            categories=kw.pop("categories", ["inspection"]), valid_from=date(2024, 1, 1),
            valid_to=kw.pop("valid_to", date(2029, 12, 31)), **kw)

    w.extra_inspectors = [officer(n, 10 + i) for i, n in enumerate(["陈明", "刘芳"])]
    w.penalty_only = officer("黄强", 20, categories=["penalty"])
    w.expiring = officer("马丽", 21, valid_to=date(2026, 12, 15))
    w.objects = [services.add_object(actor=w.u_pub_changan, data={
        "name": f"长安区第{n}超市有限公司", "credit_code": credit(n), "region": "130102",
        "risk_tier": "ABCD"[n % 4], "industry": "食品经营", "labels": "投诉" if n % 3 == 0 else ""}) for n in range(1, 12)]
    w.objects.append(services.add_object(actor=w.u_pub_changan, data={
        "name": "张三丰", "id_number": "130102199001011237", "region": "130102", "risk_tier": "D", "industry": "食品经营"}))
    plan = services.create_plan(actor=w.u_pub_changan, agency=w.amr_changan, year=2026, title="2026年度食品经营双随机抽查计划")
    w.batch = services.add_batch(actor=w.u_pub_changan, plan=plan, title="第四季度食品经营抽查", item_code="SJ-CC-001",
                                 scope_region=w.changan, ratios={"A": "0.25", "B": "0.34", "C": "0.5", "D": "1"},
                                 starts_on=START, ends_on=END, inspectors_per_object=2, limit_per_inspector=None)
    services.submit_plan(actor=w.u_pub_changan, plan=plan)
    services.decide_plan(actor=w.u_legal_sjz, plan=plan, accept=True)
    return w


@pytest.fixture
def drawn(iw):
    """iw with its batch drawn (both participants committed and revealed);
    长安区's officer with a login is one of the inspectors."""
    Officer.objects.filter(pk=iw.changan_officer.pk).update(user=iw.u_changan)  # the login of a drawn inspector
    draw = services.create_draw(actor=iw.u_pub_changan, batch=iw.batch)
    services.commit(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, commitment=drawv1.commitment(SECRETS["agency"]))
    services.commit(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, commitment=drawv1.commitment(SECRETS["office"]))
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    iw.draw = services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    return iw
