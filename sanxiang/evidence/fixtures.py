"""A minimal world for out-of-process runs (the upload benchmark and the
killed-server test): one county agency, an officer, an open case with a
step, and an API token with scope evidence:upload — made through the
services, in whatever database the settings point at.

    DJANGO_SETTINGS_MODULE=sanxiang.settings python -c \
      "import django; django.setup(); from sanxiang.evidence.fixtures import main; main()"   → one JSON line
"""

from __future__ import annotations

import json
from datetime import date

from django.utils import timezone

from sanxiang.api.services import create_token
from sanxiang.cases.models import Case, CaseStep
from sanxiang.core import clock, services
from sanxiang.core.models import Agency, AgencyKind, Role, User
from sanxiang.core.validators import make_certificate_number, make_credit_code


def make_upload_world() -> dict:
    code = make_credit_code(region_code="130102", serial=4343)
    agency = Agency.objects.filter(credit_code=code).first()
    if agency is None:
        p = services.create_region(actor="fixture", code="130000", name="河北省", level="province")
        c = services.create_region(actor="fixture", code="130100", name="石家庄市", level="city", parent=p)
        r = services.create_region(actor="fixture", code="130102", name="长安区", level="county", parent=c)
        agency = services.create_agency(actor="fixture", name="石家庄市长安区市场监督管理局", credit_code=code, region=r,
                                        kind=AgencyKind.MARKET_REGULATION)
        user = User.objects.create(username="fixture_officer", role=Role.OFFICER, agency=agency)
        services.create_officer(actor="fixture", name="王建国", agency=agency,
                                certificate_number=make_certificate_number("130102", 1), categories=["penalty"],
                                enforcement_region=r, valid_from=date(2024, 1, 1), valid_to=date(2030, 12, 31), user=user)
    user = User.objects.get(username="fixture_officer")
    case = Case.objects.create(agency=agency, title="基准测试案件", act_kind="penalty", procedure="general",
                               opened_on=clock.today(), party_name="某公司", party_type="legal_person",
                               created_by=user)
    step = CaseStep.objects.create(case=case, code="investigation", name="调查取证", started_at=timezone.now())
    _, token = create_token(actor="fixture", agency=agency, name="upload fixture", scopes=["evidence:upload", "read"])
    return {"token": token, "case": case.pk, "step": step.pk}


def main() -> None:
    """Print the world as one JSON line (Django set up by the caller)."""
    print(json.dumps(make_upload_world()))
