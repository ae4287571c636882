"""Fixtures of the task table tests: the core ``world`` plus a province
department and the people of the units who work on their tasks."""

from __future__ import annotations

import pytest

from sanxiang.catalog.tests import conftest as catalog_conftest
from sanxiang.core import services as core_services
from sanxiang.core.models import AgencyKind, Role
from sanxiang.core.validators import make_credit_code


# The catalogue people (pub_changan, head_zhengding, pub_lunan) on top of world.
cw = catalog_conftest.cw


@pytest.fixture
def mw(cw):
    w = cw
    w.amr_hebei = core_services.create_agency(
        actor="test-fixture", name="河北省市场监督管理局", credit_code=make_credit_code(region_code="130000", serial=900),
        region=w.hebei, kind=AgencyKind.MARKET_REGULATION, legal_office=w.legal_hebei)

    def user(username, role, agency):
        return core_services.create_user(actor="test-fixture", username=username, password=w.password, role=role,
                                         agency=agency)

    w.u_head_changan = user("head_changan", Role.AGENCY_HEAD, w.amr_changan)
    w.u_reviewer_changan = user("reviewer_changan", Role.LEGAL_REVIEWER, w.amr_changan)
    w.u_head_lunan = user("head_lunan", Role.AGENCY_HEAD, w.amr_lunan)
    return w
