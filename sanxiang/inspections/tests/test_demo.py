"""The 双随机 demo on the real demo data: a filed plan, a public draw whose
record re-runs with the verifier, and a draw on 石家庄市司法局's to-do list
that the demo login legal_sjz completes with the published demo secret."""

import pytest
from django.test import Client

from sanxiang.catalog.demo import load_catalogue_demo
from sanxiang.conftest import client_for
from sanxiang.core.demo import load_demo
from sanxiang.core.models import User
from sanxiang.inspections import drawv1
from sanxiang.inspections.demo import DEMO_OFFICE_SECRET, load_inspection_demo
from sanxiang.inspections.models import Draw, DrawStatus, InspectionObject

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_public_draw_and_one_waiting_for_the_legal_offices_secret(no_totp):
    load_demo()
    load_catalogue_demo()
    assert load_inspection_demo() == 2
    assert load_inspection_demo() == 0  # once
    drawn, waiting = Draw.objects.order_by("pk")
    assert drawn.status == DrawStatus.DRAWN and waiting.status == DrawStatus.AWAITING_REVEALS
    record = Client().get(f"/api/v1/inspections/draws/{drawn.pk}/record").json()
    assert drawv1.verify(record) == [] and record["result"]
    assert InspectionObject.objects.filter(natural_person=True).count() == 2
    legal = User.objects.get(username="legal_sjz")
    c = client_for(legal)
    assert "公开密钥" in c.get("/workbench/").content.decode()
    r = c.post(f"/inspections/office/draws/{waiting.pk}/reveal/", {"secret": DEMO_OFFICE_SECRET}, follow=True)
    assert r.status_code == 200
    waiting.refresh_from_db()
    assert waiting.status == DrawStatus.DRAWN and drawv1.verify(Client().get(
        f"/api/v1/inspections/draws/{waiting.pk}/record").json()) == []
    page = client_for(User.objects.get(username="publicity")).get("/inspections/office/").content.decode()
    assert "食品经营者日常监督检查（第四季度）" in page and "已备案" in page


def test_the_demo_guide_gives_the_secret_the_demo_login_reveals():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[3] / "docs" / "demo.md").read_text(encoding="utf-8")
    assert DEMO_OFFICE_SECRET in guide


def test_the_demo_inspections_are_in_several_states_after_the_cases(no_totp):
    from sanxiang.cases.models import Case
    from sanxiang.inspections.demo import load_inspection_results_demo
    from sanxiang.inspections.models import Inspection

    load_demo()
    load_catalogue_demo()
    load_inspection_demo()
    assert load_inspection_results_demo() == 4
    assert load_inspection_results_demo() == 0  # once
    inspections = list(Inspection.objects.order_by("pk"))
    assert inspections[0].case_id and not inspections[0].result
    assert [i.result for i in inspections[1:4]] == ["no_problem", "corrected", "referred"]
    assert Case.objects.get(pk=inspections[3].referred_case_id).act_kind == "penalty"
    page = Client().get("/inspections/results/").content.decode()
    assert "已移交立案" in page and "已责令改正" in page
