"""The demo's supervisor (石家庄市司法局, legal_sjz) opens a cockpit with
something in it at first login: the default period (the twelve months up to
today) holds the demo's cases, decisions, reviews, AV, officers, draws and
complaints, all dated relative to today."""

from __future__ import annotations

import pytest

from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.core.models import User
from sanxiang.demo import build_demo
from sanxiang.statistics import selectors
from sanxiang.statistics.forms import default_period

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path, no_totp, django_capture_on_commit_callbacks):
    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    settings.ARCHIVE_DIR = str(tmp_path / "archives")
    with django_capture_on_commit_callbacks(execute=True):
        build_demo()


def test_the_demo_supervisor_opens_a_cockpit_with_figures_in_every_section(demo):
    user = User.objects.get(username="legal_sjz")
    today = clock.today()
    first, last = default_period(today)
    cockpit = selectors.region_cockpit(user=user, region=user.region, date_from=first, date_to=last, today=today)
    t = cockpit.total
    assert t["cases.opened"] > 0 and t["penalty.decisions"] > 0 and t["penalty.fine_fen"] > 0
    assert t["publication.on_time"] + t["publication.late"] + t["publication.overdue"] > 0
    assert t["reviews.opinions"] > 0 and t["av.required"] > 0 and t["officers.total"] > 0
    assert t["inspections.drawn"] > 0 and t["source.complaints"] > 0
    empty = [s.code for s in cockpit.sections if not s.rows]
    assert empty == [], empty
    page = client_for(user).get("/statistics/cockpit/")
    assert page.status_code == 200 and 'id="cockpit-data"' in page.content.decode()
